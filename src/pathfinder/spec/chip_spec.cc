// The chip field table and chip loading. The table below is the single declaration of
// every chip field: loading, `pathfinder explain` and the docs all come from it.
#include "pathfinder/spec/chip_spec.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "pathfinder/core/strings.h"
#include "pathfinder/hw/design.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/preset_section.h"

namespace pf::spec {
namespace fs = std::filesystem;
namespace {

std::shared_ptr<const Schema<hw::MatrixUnit>> MatrixUnitSchema() {
  auto s = std::make_shared<Schema<hw::MatrixUnit>>("matrix_unit");
  s->Integer("per_core", &hw::MatrixUnit::per_core, "matrix units per core (tensor cores per SM, MXUs per TensorCore)", 1, 1024)
      .Integer("m", &hw::MatrixUnit::m, "rows of one matrix unit's per-clock operation (m×n×k MACs)", 1, 4096)
      .Integer("n", &hw::MatrixUnit::n, "columns of one matrix unit's per-clock operation", 1, 4096)
      .Integer("k", &hw::MatrixUnit::k, "reduction depth of one matrix unit's per-clock operation", 1, 4096);
  return s;
}

std::shared_ptr<const Schema<hw::PeakTable>> PeakSchema() {
  auto s = std::make_shared<Schema<hw::PeakTable>>("peak");
  for (DType t : kAllDTypes) {
    s->QuantityField<FlopsPerSec>(std::string(Name(t)), [t](hw::PeakTable& p) -> FlopsPerSec& { return p[t]; },
                                  fmt::format("dense matrix peak in {} (not 2:4 sparse)", Name(t)),
                                  Bounds<FlopsPerSec>::Positive());
  }
  return s;
}

std::shared_ptr<const Schema<hw::Sram>> SramSchema() {
  auto s = std::make_shared<Schema<hw::Sram>>("sram");
  s->Quantity("per_core", &hw::Sram::per_core, "software-managed SRAM / L1 per core (shared memory, SBUF, VMEM)",
              Bounds<Bytes>::NonNegative())
      .Quantity("shared", &hw::Sram::shared, "chip-wide on-chip cache or memory (L2, CMEM)", Bounds<Bytes>::NonNegative());
  return s;
}

std::shared_ptr<const Schema<hw::Hbm>> HbmSchema() {
  auto s = std::make_shared<Schema<hw::Hbm>>("hbm");
  s->Text("generation", &hw::Hbm::generation, "memory generation, e.g. HBM3E (see `pathfinder presets memory`)")
      .Integer("stacks", &hw::Hbm::stacks, "HBM stacks (or memory devices) on the package", 0, 64)
      .Quantity("capacity", &hw::Hbm::capacity, "memory capacity as the vendor states it (GB decimal, GiB binary)",
                Bounds<Bytes>::Positive())
      .Required()
      .Quantity("bandwidth", &hw::Hbm::bandwidth, "peak memory bandwidth", Bounds<BytesPerSec>::Positive())
      .Required();
  return s;
}

std::shared_ptr<const Schema<hw::Link>> LinkSchema(const std::string& what) {
  auto s = std::make_shared<Schema<hw::Link>>(what);
  s->Text("name", &hw::Link::name, "link technology, e.g. NVLink 4 (see `pathfinder presets links`)")
      .Quantity("bandwidth", &hw::Link::bandwidth, "per chip, one direction, summed over the chip's links",
                Bounds<BytesPerSec>::NonNegative())
      .Integer("domain", &hw::Link::domain, "largest number of chips this link joins directly (0 = unknown)", 0, 100000000);
  return s;
}

std::shared_ptr<Schema<hw::Chip>> BuildChipSchema() {
  auto s = std::make_shared<Schema<hw::Chip>>("chip");
  s->Text("name", &hw::Chip::name, "preset id (the file name without .yaml)")
      .Required()
      .Text("display_name", &hw::Chip::display_name, "full product name")
      .TextList("aliases", &hw::Chip::aliases, "other names of this chip in results tables")
      .Text("vendor", &hw::Chip::vendor, "vendor")
      .Text("family", &hw::Chip::family,
            "architecture family, used for calibration defaults (hopper, cdna3, tpu-v5p, …)")
      .Integer("year", &hw::Chip::year, "first availability year", 1990, 2100)
      .Text("process_node", &hw::Chip::process_node, "process node of the compute die(s)")
      .Quantity("die_area", &hw::Chip::die_area, "total compute silicon area (all dies)",
                Bounds<SquareMillimeters>::Positive())
      .Integer("dies", &hw::Chip::dies, "compute dies in the package", 1, 64)
      .Number("transistors", &hw::Chip::transistors, "total transistor count", 0, 1e14)
      .Quantity("clock", &hw::Chip::clock, "clock at which the peak FLOP/s are stated", Bounds<Hertz>::Positive())
      .Required()
      .Integer("cores", &hw::Chip::cores, "SMs / CUs / NeuronCores / TensorCores: units a matmul's tiles spread over",
               1, 1000000)
      .Required()
      .Nested("matrix_unit", &hw::Chip::matrix_unit, MatrixUnitSchema(), "one matrix unit's per-clock operation")
      .Nested("peak", &hw::Chip::peak, PeakSchema(), "dense matrix peak FLOP/s per dtype")
      .Required()
      .Quantity("vector_fp32", &hw::Chip::vector_fp32, "non-matrix (SIMT/vector) FP32 peak",
                Bounds<FlopsPerSec>::Positive())
      .Nested("sram", &hw::Chip::sram, SramSchema(), "on-chip SRAM")
      .Nested("hbm", &hw::Chip::hbm, HbmSchema(), "off-die memory (HBM, LPDDR, GDDR)")
      .Required()
      .Quantity("tdp", &hw::Chip::tdp, "maximum board/module power", Bounds<Watts>::Positive())
      .Nested("scale_up", &hw::Chip::scale_up, LinkSchema("scale_up"),
              "scale-up link (NVLink, ICI, NeuronLink, Infinity Fabric)")
      .Nested("scale_out", &hw::Chip::scale_out, LinkSchema("scale_out"), "scale-out network per chip (NIC)")
      .Nested("host_link", &hw::Chip::host_link, LinkSchema("host_link"),
              "link to the host CPU's memory (PCIe, NVLink-C2C): what activation offloading moves over");
  s->Reserved("preset");
  return s;
}

SourceLocation TopOf(const LoadContext& ctx, const YAML::Node& n) { return ctx.At(n); }

void ReportProblems(const hw::Chip& chip, const YAML::Node& where, LoadContext& ctx, const std::string& key_path) {
  for (const auto& p : hw::Validate(chip)) ctx.diag->Error(TopOf(ctx, where), JoinPath(key_path, p.key_path), p.message);
  // The memory generation names a memory preset (case-insensitive: "HBM3E" is hbm3e).
  if (!chip.hbm.generation.empty()) {
    const auto memories = ListPresets(PresetKind::kMemory);
    const std::string want = ToLower(chip.hbm.generation);
    if (std::find(memories.begin(), memories.end(), want) == memories.end()) {
      const std::string hint = ClosestMatch(want, memories);
      ctx.diag->Error(TopOf(ctx, where), JoinPath(key_path, "hbm.generation"),
                      fmt::format("unknown memory generation '{}'; {}", chip.hbm.generation,
                                  hint.empty() ? "`pathfinder presets memory` lists them" : "did you mean '" + hint + "'?"));
    }
  }
}

// Required fields: checked after all layers (preset + overrides) are applied.
void CheckRequiredChip(const std::vector<YAML::Node>& layers, const YAML::Node& where, LoadContext& ctx,
                       const std::string& key_path) {
  ChipSchema().CheckRequired(layers, where, key_path, ctx);
  // hbm.capacity/bandwidth are required inside hbm when hbm is given in any layer.
  std::vector<YAML::Node> hbm_layers;
  for (const auto& l : layers)
    if (l.IsMap() && l["hbm"] && l["hbm"].IsMap()) hbm_layers.push_back(l["hbm"]);
  if (!hbm_layers.empty()) HbmSchema()->CheckRequired(hbm_layers, where, JoinPath(key_path, "hbm"), ctx);
}

std::optional<hw::Chip> LoadPresetFile(const std::string& path, const std::string& expect_name, Diagnostics& diag,
                                       ProvenanceMap* provenance, YAML::Node* root_out);

}  // namespace

const Schema<hw::Chip>& ChipSchema() {
  static const std::shared_ptr<Schema<hw::Chip>> s = BuildChipSchema();
  return *s;
}

namespace {
std::optional<hw::Chip> LoadPresetFile(const std::string& path, const std::string& expect_name, Diagnostics& diag,
                                       ProvenanceMap* provenance, YAML::Node* root_out) {
  return LoadPresetFileWith(path, expect_name, diag, provenance, root_out, ChipSchema(), CheckRequiredChip, ReportProblems);
}
}  // namespace

std::optional<hw::Chip> LoadChipPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  auto path = FindPreset(PresetKind::kChip, name, diag, {}, "chip");
  if (!path) return std::nullopt;
  return LoadPresetFile(*path, name, diag, provenance, nullptr);
}

namespace {

// `design: x` names data/designs/x.yaml when x is a bare name (no '/', no file suffix).
bool IsDesignName(const std::string& v) {
  auto ends = [&](const std::string& suf) {
    return v.size() > suf.size() && v.compare(v.size() - suf.size(), suf.size(), suf) == 0;
  };
  return v.find('/') == std::string::npos && !ends(".yaml") && !ends(".yml") && !ends(".json");
}

std::vector<std::string> ListDesigns() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(DataDir()) / "designs", ec)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The chip table with `design` reserved: the keys of a design section beside `design:`
// are overrides. (Preset files use ChipSchema(), where `design:` stays an unknown key.)
const Schema<hw::Chip>& DesignOverrideSchema() {
  static const Schema<hw::Chip> s = [] {
    Schema<hw::Chip> copy = ChipSchema();
    copy.Reserved("design");
    return copy;
  }();
  return s;
}

// `chip: {design: file, <overrides>}`: derive the chip, record where each value came from,
// then apply the section's other keys as overrides.
std::optional<hw::Chip> LoadDesignedChip(const YAML::Node& node, LoadContext& ctx, const std::string& key_path) {
  const int before = ctx.diag->error_count();
  const YAML::Node dn = node["design"];
  const std::string dpath = JoinPath(key_path, "design");
  if (node["preset"]) {
    ctx.Error(node["preset"], JoinPath(key_path, "preset"),
              "give either preset or design, not both: design derives the whole chip, and the other keys of this "
              "section override its fields");
  }
  if (!dn.IsScalar() || dn.Scalar().empty()) {
    ctx.Error(dn, dpath,
              "expected a design file (a path relative to this file, e.g. ../examples/design-2nm-inference.yaml) or a "
              "name in data/designs/");
  }
  if (ctx.diag->error_count() != before) return std::nullopt;
  const std::string given = dn.Scalar();
  const std::string file = ChipDesignPath(node, ctx.file);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    const auto names = ListDesigns();
    if (IsDesignName(given)) {
      const std::string hint = ClosestMatch(given, names);
      ctx.Error(dn, dpath,
                hint.empty()
                    ? fmt::format("unknown design '{}' (not in data/designs/: {}); or give a file path ending in .yaml",
                                  given, Join(names, ", "))
                    : fmt::format("unknown design '{}'; did you mean '{}'?", given, hint));
    } else {
      ctx.Error(
          dn, dpath,
          fmt::format("design file '{}' not found (looked for {}; a relative path is read from the folder of {}); "
                      "give an existing design file, or a name in data/designs/ ({})",
                      given, file, ctx.file, Join(names, ", ")));
    }
    return std::nullopt;
  }
  // Problems inside the design file are reported with its own name, line and column.
  auto design = LoadDesign(file, *ctx.diag);
  if (!design) return std::nullopt;
  const hw::DerivedChip derived = hw::DeriveChip(design->design, design->tech);
  hw::Chip value = derived.chip;
  if (ctx.provenance) {
    const std::string source = fmt::format("derived from design file {} (hw::DeriveChip)", file);
    std::vector<std::pair<std::string, std::string>> rows;
    ChipSchema().Show(value, key_path, &rows);
    for (const auto& [path, shown] : rows) {
      if (shown.empty() || shown == "-" || shown == "0") continue;
      // Area, transistors and an unstated TDP come from the design's area and power models
      // (estimates); the rest is arithmetic on the design and the presets it names.
      const bool estimate = path == JoinPath(key_path, "die_area") || path == JoinPath(key_path, "transistors") ||
                            (path == JoinPath(key_path, "tdp") && design->design.tdp.value() <= 0);
      (*ctx.provenance)[path] = Provenance{source, estimate, SourceLocation{file, 0, 0}};
    }
  }
  LoadContext over = ctx;
  over.default_source = "scenario override (" + ctx.file + ")";
  DesignOverrideSchema().Load(node, value, over, key_path);
  if (ctx.diag->error_count() != before) return std::nullopt;
  ReportProblems(value, node, ctx, key_path);
  if (ctx.diag->error_count() != before) return std::nullopt;
  if (!derived.feasibility.ok) {
    ctx.diag->Warning(
        ctx.At(dn), dpath,
        fmt::format("design '{}' is infeasible ({}); the results are for a chip that cannot be built as designed",
                    design->design.name, Join(derived.feasibility.reasons, "; ")));
  }
  ctx.diag->Warning(
      ctx.At(dn), dpath,
      fmt::format("chip '{}' is derived from {}: its datasheet is an estimate (`pathfinder design` shows the "
                  "derivation){}",
                  value.name, given,
                  value.family == "design" ? ", and train/serve use the 'design' family calibration defaults "
                                             "(data/calibration/design.yaml), not measurements"
                                           : ""));
  return value;
}

}  // namespace

std::string ChipDesignPath(const YAML::Node& section, const std::string& file) {
  if (!section.IsMap()) return "";
  const YAML::Node d = section["design"];
  if (!d || !d.IsScalar() || d.Scalar().empty()) return "";
  const std::string given = d.Scalar();
  if (IsDesignName(given)) return (fs::path(DataDir()) / "designs" / (given + ".yaml")).string();
  fs::path p(given);
  if (p.is_relative()) p = fs::path(file).parent_path() / p;
  return p.lexically_normal().string();
}

std::optional<hw::Chip> LoadChipSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path) {
  if (node.IsMap() && node["design"]) return LoadDesignedChip(node, ctx, key_path);
  static const PresetSectionHooks<hw::Chip> hooks{
      "chip", "h100-sxm", &ChipSchema(),
      [](const std::string& name, Diagnostics& d, const SourceLocation& where, const std::string& key) {
        return FindPreset(PresetKind::kChip, name, d, where, key);
      },
      LoadPresetFile, CheckRequiredChip, ReportProblems};
  return LoadPresetSection(node, ctx, key_path, hooks);
}

std::optional<ResolvedHardware> ResolveChipName(const std::string& hardware_text) {
  // Index of every name a preset is known by, built once.
  static std::map<std::string, std::string> index;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const auto& name : ListPresets(PresetKind::kChip)) {
      Diagnostics d;
      auto chip = LoadChipPreset(name, d);
      if (!chip) continue;
      index[ToLower(chip->name)] = chip->name;
      if (!chip->display_name.empty()) index[ToLower(chip->display_name)] = chip->name;
      for (const auto& a : chip->aliases) index[ToLower(a)] = chip->name;
    }
  });
  std::string text = hardware_text;
  if (size_t p = text.find(" ("); p != std::string::npos) text = text.substr(0, p);
  text = Trim(text);
  ResolvedHardware out;
  // A leading count: "8x NVIDIA H100", "3072x A100-80GB".
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i > 0 && i + 1 < text.size() && (text[i] == 'x' || text[i] == 'X') && text[i + 1] == ' ') {
    out.count = std::stoi(text.substr(0, i));
    text = Trim(text.substr(i + 2));
  }
  auto it = index.find(ToLower(text));
  if (it == index.end()) return std::nullopt;
  out.preset = it->second;
  return out;
}

}  // namespace pf::spec
