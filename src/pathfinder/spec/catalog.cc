// The preset catalog: one entry per kind, each saying how to load a preset of that kind,
// how to summarise it in one row, and how to explain it field by field.
#include "pathfinder/spec/catalog.h"

#include <fmt/core.h>

#include <functional>

#include "pathfinder/core/strings.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/model_spec.h"
#include "pathfinder/spec/tech_spec.h"

namespace pf::spec {
namespace {

template <class Qty>
std::string Q(Qty q) {
  return q.value() == 0 ? "-" : ToString(q);
}

struct KindEntry {
  PresetKind kind;
  std::vector<std::string> header;
  std::function<std::vector<FieldDoc>()> describe;
  // Loads `name`; on success appends its summary row and/or its explained rows.
  std::function<bool(const std::string& name, Diagnostics&, std::vector<std::string>* row, std::vector<ExplainRow>* explain)> load;
};

template <class T, class LoadFn, class RowFn>
KindEntry Entry(PresetKind kind, std::vector<std::string> header, LoadFn load, const Schema<T>& (*schema)(), RowFn row_fn) {
  return {kind, std::move(header),
          [schema] {
            std::vector<FieldDoc> out;
            schema().Describe("", &out);
            return out;
          },
          [load, schema, row_fn](const std::string& name, Diagnostics& d, std::vector<std::string>* row,
                                 std::vector<ExplainRow>* explain) {
            ProvenanceMap prov;
            std::optional<T> v = load(name, d, &prov);
            if (!v) return false;
            if (row) *row = row_fn(*v);
            if (explain) *explain = ExplainRows(schema(), *v, prov);
            return true;
          }};
}

const std::vector<KindEntry>& Kinds() {
  static const std::vector<KindEntry> kinds = {
      Entry<hw::Chip>(
          PresetKind::kChip, {"name", "chip", "bf16 dense", "fp8 dense", "memory", "bandwidth", "TDP", "scale-up/dir"},
          [](const std::string& n, Diagnostics& d, ProvenanceMap* p) { return LoadChipPreset(n, d, p); }, &ChipSchema,
          [](const hw::Chip& c) {
            return std::vector<std::string>{c.name,
                                            c.display_name,
                                            Q(c.peak[DType::kBf16]),
                                            Q(c.peak[DType::kFp8]),
                                            Q(c.hbm.capacity) + (c.hbm.generation.empty() ? "" : " " + c.hbm.generation),
                                            Q(c.hbm.bandwidth),
                                            Q(c.tdp),
                                            Q(c.scale_up.bandwidth)};
          }),
      Entry<model::Architecture>(
          PresetKind::kModel, {"name", "params", "active", "layers", "hidden", "heads/kv", "experts", "vocab"},
          [](const std::string& n, Diagnostics& d, ProvenanceMap* p) { return LoadModelByName(n, d, p); }, &ArchitectureSchema,
          [](const model::Architecture& a) {
            const auto c = model::Count(a);
            return std::vector<std::string>{
                a.name,
                FormatNumber(c.total_params / 1e9, 4) + " B",
                FormatNumber(c.active_params / 1e9, 4) + " B",
                std::to_string(a.layers),
                std::to_string(a.hidden),
                model::IsMla(a) ? fmt::format("{} (MLA)", a.heads) : fmt::format("{}/{}", a.heads, a.kv_heads),
                model::IsMoe(a) ? fmt::format("{} top-{}", a.moe.num_experts, a.moe.top_k) : "-",
                std::to_string(a.vocab)};
          }),
      Entry<hw::MemoryTech>(
          PresetKind::kMemory, {"name", "memory", "year", "pin rate", "per stack/device", "capacity/stack", "energy"},
          [](const std::string& n, Diagnostics& d, ProvenanceMap* p) { return LoadMemoryPreset(n, d, p); }, &MemoryTechSchema,
          [](const hw::MemoryTech& m) {
            return std::vector<std::string>{m.name,          m.display_name,         m.year ? std::to_string(m.year) : "-",
                                            Q(m.pin_rate),   Q(m.stack_bandwidth),   Q(m.capacity_per_stack),
                                            Q(m.energy_per_bit)};
          }),
      Entry<hw::ProcessNode>(
          PresetKind::kNode, {"name", "node", "foundry", "transistor", "wafer price"},
          [](const std::string& n, Diagnostics& d, ProvenanceMap* p) { return LoadNodePreset(n, d, p); }, &ProcessNodeSchema,
          [](const hw::ProcessNode& n) {
            return std::vector<std::string>{n.name, n.display_name, n.foundry, n.transistor_type, Q(n.wafer_price)};
          }),
      Entry<hw::Interconnect>(
          PresetKind::kLink, {"name", "link", "category", "per link/dir", "per chip/dir", "latency"},
          [](const std::string& n, Diagnostics& d, ProvenanceMap* p) { return LoadLinkPreset(n, d, p); }, &InterconnectSchema,
          [](const hw::Interconnect& l) {
            return std::vector<std::string>{l.name, l.display_name, LinkCategoryName(l.category), Q(l.per_link_bandwidth),
                                            Q(l.per_chip_bandwidth), Q(l.latency)};
          }),
      Entry<hw::Packaging>(
          PresetKind::kPackaging, {"name", "packaging", "vendor", "max silicon area"},
          [](const std::string& n, Diagnostics& d, ProvenanceMap* p) { return LoadPackagingPreset(n, d, p); }, &PackagingSchema,
          [](const hw::Packaging& p) {
            return std::vector<std::string>{p.name, p.display_name, p.vendor, Q(p.max_silicon_area)};
          }),
  };
  return kinds;
}

}  // namespace

std::vector<FieldDoc> DescribeKind(PresetKind kind) {
  for (const auto& k : Kinds())
    if (k.kind == kind) return k.describe();
  return {};
}

std::vector<std::string> CatalogKindNames() {
  std::vector<std::string> out;
  for (const auto& k : Kinds()) out.push_back(PresetFolder(k.kind));
  return out;
}

std::optional<PresetKind> CatalogKind(const std::string& folder_name) {
  for (const auto& k : Kinds())
    if (PresetFolder(k.kind) == folder_name) return k.kind;
  return std::nullopt;
}

PresetTable ListPresetTable(PresetKind kind, Diagnostics& diag) {
  PresetTable t;
  for (const auto& k : Kinds()) {
    if (k.kind != kind) continue;
    t.header = k.header;
    for (const auto& name : ListPresets(kind)) {
      std::vector<std::string> row;
      if (k.load(name, diag, &row, nullptr)) t.rows.push_back(std::move(row));
    }
  }
  return t;
}

std::optional<ExplainedPreset> ExplainPresetByName(const std::string& name, Diagnostics& diag) {
  std::vector<std::string> all;
  for (const auto& k : Kinds()) {
    const auto names = ListPresets(k.kind);
    all.insert(all.end(), names.begin(), names.end());
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    ExplainedPreset e{k.kind, name, {}};
    if (!k.load(name, diag, nullptr, &e.rows)) return std::nullopt;
    return e;
  }
  const std::string hint = ClosestMatch(name, all);
  diag.Error({}, "", hint.empty() ? fmt::format("unknown preset '{}'; `pathfinder presets <kind>` lists them", name)
                                  : fmt::format("unknown preset '{}'; did you mean '{}'?", name, hint));
  return std::nullopt;
}

}  // namespace pf::spec
