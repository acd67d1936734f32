// The chip-design field table and the design-file loader (see design_spec.h).
#include "pathfinder/spec/design_spec.h"

#include <fmt/core.h>

#include <map>
#include <memory>
#include <mutex>

#include "pathfinder/spec/file.h"
#include "pathfinder/spec/tech_spec.h"

namespace pf::spec {
namespace {

// Link presets named by a SerDes section, kept beside the design for energy lookups.
struct SerdesFields {
  hw::SerdesDesign serdes;
  std::string link;  // optional data/links/ preset (energy per bit)
};

struct RawDesign {
  hw::ChipDesign d;
  std::string up_link, out_link;
};

std::shared_ptr<const Schema<RawDesign>> BuildSchema() {
  using R = RawDesign;
  auto matrix = std::make_shared<Schema<hw::MatrixDesign>>("matrix");
  matrix->Integer("per_core", &hw::MatrixDesign::per_core, "matrix units per core", 1, 1024)
      .Required()
      .Integer("m", &hw::MatrixDesign::m, "rows of one unit's per-clock bf16 operation (m×n×k MACs)", 1, 4096)
      .Required()
      .Integer("n", &hw::MatrixDesign::n, "columns of one unit's per-clock operation", 1, 4096)
      .Required()
      .Integer("k", &hw::MatrixDesign::k, "reduction depth of one unit's per-clock operation", 1, 4096)
      .Required()
      .Custom(
          "dtypes", {"", "map dtype → rate", "", "> 0", "supported dtypes with MACs per clock relative to bf16, e.g. {bf16: 1, fp8: 2}"},
          [](const YAML::Node& n, hw::MatrixDesign& m, LoadContext& ctx, const std::string& path) {
            if (!n.IsMap()) return ctx.Error(n, path, "expected a map of dtype → rate, e.g. {bf16: 1, fp8: 2, fp4: 4}");
            m.dtypes.clear();
            for (const auto& kv : n) {
              const std::string key = JoinPath(path, kv.first.Scalar());
              auto t = ParseDType(kv.first.Scalar());
              if (!t) {
                std::vector<std::string> names;
                for (DType d : kAllDTypes) names.emplace_back(Name(d));
                const std::string hint = ClosestMatch(kv.first.Scalar(), names);
                ctx.Error(kv.first, key, hint.empty() ? "unknown dtype" : fmt::format("unknown dtype; did you mean '{}'?", hint));
                continue;
              }
              double v = 0;
              if (!kv.second.IsScalar() || !ParseDoubleText(ScalarText(kv.second), &v) || !(v > 0) || v > 64) {
                ctx.Error(kv.second, key, "expected a rate relative to bf16 in (0, 64], e.g. 2");
                continue;
              }
              m.dtypes.push_back({*t, v});
            }
          },
          [](const hw::MatrixDesign& m, const std::string& path, std::vector<std::pair<std::string, std::string>>* rows) {
            for (const auto& r : m.dtypes) rows->push_back({JoinPath(path, std::string(Name(r.dtype))), FormatNumber(r.rate)});
          })
      .Required();

  auto level = std::make_shared<Schema<hw::SramLevel>>("sram level");
  level->Text("name", &hw::SramLevel::name, "level name (l1, l2, sbuf, register_file)")
      .Quantity("per_core", &hw::SramLevel::per_core, "capacity per core", Bounds<Bytes>::NonNegative())
      .Quantity("per_die", &hw::SramLevel::per_die, "capacity per compute die", Bounds<Bytes>::NonNegative())
      .Flag("registers", &hw::SramLevel::registers, "register file / accumulators (multi-ported; not software-managed SRAM)");

  auto serdes = [](const std::string& what) {
    auto s = std::make_shared<Schema<SerdesFields>>(what);
    s->QuantityField<BytesPerSec>("lane_rate", [](SerdesFields& f) -> BytesPerSec& { return f.serdes.lane_rate; },
                                  "one lane, one direction, e.g. \"200 Gb/s\"", Bounds<BytesPerSec>::Positive())
        .IntegerField("lanes", [](SerdesFields& f) -> int& { return f.serdes.lanes; }, "lanes per chip, one direction", 0, 100000)
        .IntegerField("domain", [](SerdesFields& f) -> int& { return f.serdes.domain; }, "largest group of chips joined directly", 0,
                      100000000)
        .Custom(
            "name", {"", "text", "", "", "link name as shown in results"},
            [](const YAML::Node& n, SerdesFields& f, LoadContext& ctx, const std::string& path) {
              YAML::Node v = UnwrapSourced(n, path, ctx);
              if (!v.IsScalar()) return ctx.Error(v, path, "expected text");
              f.serdes.name = ScalarText(v);
            },
            [](const SerdesFields& f, const std::string& path, auto* rows) { rows->push_back({path, f.serdes.name}); })
        .Custom(
            "link", {"", "text", "", "", "a data/links/ preset for the energy per bit (optional)"},
            [](const YAML::Node& n, SerdesFields& f, LoadContext& ctx, const std::string& path) {
              if (!n.IsScalar()) return ctx.Error(n, path, "expected a link preset name");
              f.link = ScalarText(n);
            },
            [](const SerdesFields& f, const std::string& path, auto* rows) { rows->push_back({path, f.link.empty() ? "-" : f.link}); });
    return std::shared_ptr<const Schema<SerdesFields>>(s);
  };

  auto hbm = std::make_shared<Schema<hw::ChipDesign>>("hbm");
  hbm->Text("generation", &hw::ChipDesign::hbm_generation, "memory generation, a name in data/memory/")
      .Required()
      .Integer("stacks", &hw::ChipDesign::hbm_stacks, "HBM stacks", 1, 64)
      .Required()
      .Integer("sites", &hw::ChipDesign::hbm_sites, "PHY sites on silicon (≥ stacks; 0 = stacks)", 0, 64)
      .Quantity("stack_capacity", &hw::ChipDesign::hbm_stack_capacity, "capacity of one stack (default: the generation's)",
                Bounds<Bytes>::Positive())
      .Quantity("stack_bandwidth", &hw::ChipDesign::hbm_stack_bandwidth, "bandwidth of one stack (default: the generation's)",
                Bounds<BytesPerSec>::Positive());

  auto io = std::make_shared<Schema<hw::IoDieDesign>>("io_dies");
  io->Integer("count", &hw::IoDieDesign::count, "I/O (base) dies", 0, 64)
      .Text("node", &hw::IoDieDesign::node, "process node of the I/O dies (default: the compute node)")
      .Quantity("sram", &hw::IoDieDesign::sram, "last-level SRAM per I/O die", Bounds<Bytes>::NonNegative())
      .Flag("stacked", &hw::IoDieDesign::stacked, "compute dies are stacked on the I/O dies (no interposer area of their own)");

  auto s = std::make_shared<Schema<R>>("design");
  auto D = [](auto member) { return [member](R& r) -> auto& { return r.d.*member; }; };
  s->Custom(
       "name", {"", "text", "required", "", "design id"},
       [](const YAML::Node& raw, R& r, LoadContext& ctx, const std::string& path) {
         YAML::Node n = UnwrapSourced(raw, path, ctx);
         if (!n.IsScalar()) return ctx.Error(n, path, "expected text");
         r.d.name = ScalarText(n);
       },
       [](const R& r, const std::string& path, auto* rows) {
         rows->push_back({path, r.d.name});
       })
      .Required()
      .Custom(
          "display_name", {"", "text", "", "", "name shown in tables"},
          [](const YAML::Node& raw, R& r, LoadContext& ctx, const std::string& path) {
            YAML::Node n = UnwrapSourced(raw, path, ctx);
            if (!n.IsScalar()) return ctx.Error(n, path, "expected text");
            r.d.display_name = ScalarText(n);
          },
          [](const R& r, const std::string& path, auto* rows) {
            rows->push_back({path, r.d.display_name});
          })
      .Custom(
          "node", {"", "text", "required", "", "compute-die process node, a name in data/nodes/"},
          [](const YAML::Node& raw, R& r, LoadContext& ctx, const std::string& path) {
            YAML::Node n = UnwrapSourced(raw, path, ctx);
            if (!n.IsScalar()) return ctx.Error(n, path, "expected a node preset name");
            r.d.node = ScalarText(n);
          },
          [](const R& r, const std::string& path, auto* rows) {
            rows->push_back({path, r.d.node});
          })
      .Required()
      .Custom(
          "packaging", {"", "text", "required", "", "packaging technology, a name in data/packaging/"},
          [](const YAML::Node& raw, R& r, LoadContext& ctx, const std::string& path) {
            YAML::Node n = UnwrapSourced(raw, path, ctx);
            if (!n.IsScalar()) return ctx.Error(n, path, "expected a packaging preset name");
            r.d.packaging = ScalarText(n);
          },
          [](const R& r, const std::string& path, auto* rows) {
            rows->push_back({path, r.d.packaging});
          })
      .Required()
      .IntegerField("compute_dies", D(&hw::ChipDesign::compute_dies), "compute dies in the package", 1, 64)
      .IntegerField("cores_per_die", D(&hw::ChipDesign::cores_per_die), "physical cores per compute die", 1, 100000)
      .Required()
      .IntegerField("enabled_cores", D(&hw::ChipDesign::enabled_cores),
                    "cores enabled in the product, all dies (0 = all)", 0, 10000000)
      .NestedField<hw::MatrixDesign>("matrix", D(&hw::ChipDesign::matrix),
                                     std::shared_ptr<const Schema<hw::MatrixDesign>>(matrix), "matrix units")
      .Required()
      .IntegerField("vector_lanes_per_core", D(&hw::ChipDesign::vector_lanes_per_core), "fp32 FMA lanes per core", 0,
                    100000)
      .QuantityField<Hertz>("clock", D(&hw::ChipDesign::clock), "clock at which the peaks are derived",
                            Bounds<Hertz>::Positive())
      .Required()
      .QuantityField<Hertz>("sustained_clock", D(&hw::ChipDesign::sustained_clock),
                            "clock a dense matmul holds under the power limit; the TDP estimate is the power there "
                            "(default: clock)",
                            Bounds<Hertz>::Positive())
      .Custom(
          "sram", {"", "list of levels", "", "", "SRAM levels: [{name, per_core, per_die, registers}]"},
          [level](const YAML::Node& n, R& r, LoadContext& ctx, const std::string& path) {
            if (!n.IsSequence())
              return ctx.Error(n, path, "expected a list of levels, e.g. [{name: l2, per_die: 50 MB}]");
            r.d.sram.clear();
            int i = 0;
            for (const auto& e : n) {
              hw::SramLevel l;
              level->Load(e, l, ctx, fmt::format("{}[{}]", path, i++));
              r.d.sram.push_back(l);
            }
          },
          [](const R& r, const std::string& path, auto* rows) {
            for (size_t i = 0; i < r.d.sram.size(); ++i) {
              const auto& l = r.d.sram[i];
              rows->push_back({fmt::format("{}[{}]", path, i),
                               fmt::format("{}: {}/core + {}/die{}", l.name, ToString(l.per_core), ToString(l.per_die),
                                           l.registers ? " (registers)" : "")});
            }
          },
          [level](const std::string& p, std::vector<FieldDoc>* out) { level->Describe(p + "[]", out); })
      .NestedField<hw::ChipDesign>(
          "hbm", [](R& r) -> hw::ChipDesign& { return r.d; }, std::shared_ptr<const Schema<hw::ChipDesign>>(hbm), "HBM")
      .Required()
      .QuantityField<BytesPerSec>("d2d_bandwidth", D(&hw::ChipDesign::d2d_bandwidth),
                                  "die-to-die bandwidth per die, one direction", Bounds<BytesPerSec>::NonNegative())
      .Custom(
          "scale_up", {"", "section", "", "", "scale-up SerDes: name, lanes, lane_rate, domain, link"},
          [serdes](const YAML::Node& n, R& r, LoadContext& ctx, const std::string& path) {
            SerdesFields f{r.d.scale_up, r.up_link};
            serdes("scale_up")->Load(n, f, ctx, path);
            r.d.scale_up = f.serdes;
            r.up_link = f.link;
          },
          [](const R& r, const std::string& path, auto* rows) {
            rows->push_back({path, fmt::format("{} × {}", r.d.scale_up.lanes, ToString(r.d.scale_up.lane_rate))});
          })
      .Custom(
          "scale_out", {"", "section", "", "", "scale-out SerDes: name, lanes, lane_rate, domain, link"},
          [serdes](const YAML::Node& n, R& r, LoadContext& ctx, const std::string& path) {
            SerdesFields f{r.d.scale_out, r.out_link};
            serdes("scale_out")->Load(n, f, ctx, path);
            r.d.scale_out = f.serdes;
            r.out_link = f.link;
          },
          [](const R& r, const std::string& path, auto* rows) {
            rows->push_back({path, fmt::format("{} × {}", r.d.scale_out.lanes, ToString(r.d.scale_out.lane_rate))});
          })
      .IntegerField("pcie_lanes", D(&hw::ChipDesign::pcie_lanes), "host PCIe lanes", 0, 256)
      .NestedField<hw::IoDieDesign>("io_dies", D(&hw::ChipDesign::io_dies),
                                    std::shared_ptr<const Schema<hw::IoDieDesign>>(io),
                                    "base / I/O dies (hold HBM PHYs, SerDes and their SRAM)")
      .QuantityField<Watts>("tdp", D(&hw::ChipDesign::tdp), "stated power limit (default: the estimate)",
                            Bounds<Watts>::Positive());
  return s;
}

const Schema<RawDesign>& RawSchema() {
  static const auto s = BuildSchema();
  return *s;
}

// A Schema<hw::ChipDesign> view for `explain`: the same rows as RawSchema.
std::shared_ptr<Schema<hw::ChipDesign>> BuildPublicSchema() {
  auto s = std::make_shared<Schema<hw::ChipDesign>>("design");
  s->Custom(
      "design", {"", "section", "", "", "the chip design (see data/designs/)"},
      [](const YAML::Node& n, hw::ChipDesign& d, LoadContext& ctx, const std::string& path) {
        RawDesign r{d, "", ""};
        RawSchema().Load(n, r, ctx, path);
        d = r.d;
      },
      [](const hw::ChipDesign& d, const std::string& path, auto* rows) { RawSchema().Show(RawDesign{d, "", ""}, path, rows); },
      [](const std::string& p, std::vector<FieldDoc>* out) { RawSchema().Describe(p, out); });
  return s;
}

// Presets do not change while a process runs, and a sweep resolves the same few thousands
// of times: successful loads are memoised per (kind, name). A failed load is not cached,
// so its diagnostics are reported every time it is asked for.
template <class T, class Load>
std::optional<T> Memo(const std::string& key, Load load) {
  static std::mutex mu;
  static std::map<std::string, T> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  std::optional<T> v = load();
  if (v) {
    std::lock_guard<std::mutex> lock(mu);
    cache.emplace(key, *v);
  }
  return v;
}

std::optional<hw::ProcessNode> CachedNode(const std::string& name, Diagnostics& diag) {
  return Memo<hw::ProcessNode>(name, [&] { return LoadNodePreset(name, diag); });
}
std::optional<hw::Packaging> CachedPackaging(const std::string& name, Diagnostics& diag) {
  return Memo<hw::Packaging>(name, [&] { return LoadPackagingPreset(name, diag); });
}
std::optional<hw::Interconnect> CachedLink(const std::string& name, Diagnostics& diag) {
  return Memo<hw::Interconnect>(name, [&] { return LoadLinkPreset(name, diag); });
}
// The memory preset with its energy filled in.
std::optional<hw::MemoryTech> CachedMemory(const std::string& name, Diagnostics& diag) {
  return Memo<hw::MemoryTech>(name, [&]() -> std::optional<hw::MemoryTech> {
    auto m = LoadMemoryPreset(name, diag);
    if (!m || !FillMemoryEnergy(*m, diag)) return std::nullopt;
    return m;
  });
}
std::optional<hw::NodeEnergy> CachedEnergy(const hw::ProcessNode& node, Diagnostics& diag) {
  return Memo<hw::NodeEnergy>(node.name, [&] { return LoadNodeEnergy(node, diag); });
}
std::optional<EconAssumptions> CachedEconDefaults(Diagnostics& diag) {
  return Memo<EconAssumptions>("defaults", [&] { return LoadEconDefaults(diag); });
}

std::optional<DesignFile> Resolve(const YAML::Node& root, const std::string& file, Diagnostics& diag) {
  const int before = diag.error_count();
  LoadContext ctx{file, "", &diag, nullptr};
  for (const auto& kv : root) {
    const std::string k = kv.first.Scalar();
    if (k != "design" && k != "econ" && k != "source") {
      ctx.Error(kv.first, k, "unknown key; a design file has keys design, econ, source");
    }
  }
  const YAML::Node dn = root["design"];
  if (!dn) {
    ctx.Error(root, "design", "missing; a design file needs a design: section");
    return std::nullopt;
  }
  RawDesign raw;
  RawSchema().Load(dn, raw, ctx, "design");
  RawSchema().CheckRequired({dn}, dn, "design", ctx);
  if (diag.error_count() != before) return std::nullopt;
  for (const auto& p : hw::Validate(raw.d)) ctx.Error(dn, JoinPath("design", p.key_path), p.message);

  auto defaults = CachedEconDefaults(diag);
  if (!defaults) return std::nullopt;
  DesignFile out;
  out.design = raw.d;
  out.econ = *defaults;
  if (const YAML::Node en = root["econ"]) {
    const double py = out.econ.package.package_yield, ce = out.econ.server.conversion_efficiency;
    out.econ.package.package_yield *= 100.0;
    out.econ.server.conversion_efficiency *= 100.0;
    EconSchema().Load(en, out.econ, ctx, "econ");
    out.econ.package.package_yield = en["package_yield"] ? out.econ.package.package_yield / 100.0 : py;
    out.econ.server.conversion_efficiency =
        (en["server"] && en["server"]["conversion_efficiency"]) ? out.econ.server.conversion_efficiency / 100.0 : ce;
  }

  auto node = CachedNode(raw.d.node, diag);
  auto mem = CachedMemory(raw.d.hbm_generation, diag);
  auto pkg = CachedPackaging(raw.d.packaging, diag);
  if (!node || !mem || !pkg) return std::nullopt;
  auto energy = CachedEnergy(*node, diag);
  if (!energy) return std::nullopt;
  out.tech.node = *node;
  out.tech.energy = *energy;
  out.tech.memory = *mem;
  out.tech.packaging = *pkg;
  if (raw.d.io_dies.count > 0 && !raw.d.io_dies.node.empty() && raw.d.io_dies.node != raw.d.node) {
    auto io_node = CachedNode(raw.d.io_dies.node, diag);
    if (!io_node) return std::nullopt;
    auto io_energy = CachedEnergy(*io_node, diag);
    if (!io_energy) return std::nullopt;
    out.tech.io_node = *io_node;
    out.tech.io_energy = *io_energy;
  }
  if (!raw.up_link.empty()) {
    auto l = CachedLink(raw.up_link, diag);
    if (!l) return std::nullopt;
    out.tech.scale_up_energy = l->energy_per_bit;
  }
  if (!raw.out_link.empty()) {
    auto l = CachedLink(raw.out_link, diag);
    if (!l) return std::nullopt;
    out.tech.scale_out_energy = l->energy_per_bit;
  }
  if (diag.error_count() != before) return std::nullopt;
  return out;
}

}  // namespace

const Schema<hw::ChipDesign>& DesignSchema() {
  static const auto s = BuildPublicSchema();
  return *s;
}

std::optional<DesignFile> LoadDesign(const std::string& path_or_name, Diagnostics& diag) {
  std::string path = path_or_name;
  if (path.find('/') == std::string::npos && path.find(".yaml") == std::string::npos) {
    path = DataDir() + "/designs/" + path_or_name + ".yaml";
  }
  auto root = LoadYamlFile(path, diag);
  if (!root) return std::nullopt;
  return Resolve(*root, path, diag);
}

std::optional<DesignFile> LoadDesignText(const std::string& text, const std::string& name, Diagnostics& diag) {
  auto root = ParseYaml(text, name, diag);
  if (!root) return std::nullopt;
  return Resolve(*root, name, diag);
}

std::optional<DesignEconomics> CostDesign(const DesignFile& f, const hw::DerivedChip& c, Diagnostics& diag) {
  auto wafer = WaferFor(f.tech.node, f.econ, diag);
  auto io_wafer = f.tech.io_node ? WaferFor(*f.tech.io_node, f.econ, diag) : wafer;
  if (!wafer || !io_wafer) return std::nullopt;
  DesignEconomics out;
  out.cost = econ::EstimateChipCost(c, *wafer, *io_wafer, HbmCost(f.tech.memory, f.econ), f.econ.package);
  out.server = power::Cluster(f.econ.server.chips_per_server, c.chip.tdp, f.econ.server, f.econ.pue);
  econ::TcoInputs in;
  in.chip_price = out.cost.total;
  in.server_per_chip = f.econ.server_per_chip;
  in.network_per_port = f.econ.network_per_port;
  in.ports_per_chip = f.econ.ports_per_chip;
  in.facility_per_watt = f.econ.FacilityPerWatt();
  in.life = f.econ.life;
  in.electricity = f.econ.electricity;
  in.pue = f.econ.pue;
  in.it_power_per_chip = out.server.it_power / double(f.econ.server.chips_per_server);
  out.tco = econ::ComputeTco(in);
  return out;
}

}  // namespace pf::spec
