// Field tables and loaders of the energy model (data/energy/) and of the economic
// assumptions (data/econ/defaults.yaml).
#include "pathfinder/spec/econ_spec.h"

#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

// data/energy/baseline-45nm.yaml
struct Baseline {
  std::array<JoulesPerFlop, kAllDTypes.size()> flop{};
  JoulesPerByte register_byte, sram_byte, d2d_byte, serdes_byte, hbm_path_byte;
  double uncore_pct = 0, static_pct = 0, datapath_scale = 1;
};

std::shared_ptr<Schema<Baseline>> BaselineSchema() {
  auto flops = std::make_shared<Schema<std::array<JoulesPerFlop, kAllDTypes.size()>>>("flop");
  for (DType t : kAllDTypes) {
    flops->QuantityField<JoulesPerFlop>(std::string(Name(t)),
                                        [t](std::array<JoulesPerFlop, kAllDTypes.size()>& a) -> JoulesPerFlop& {
                                          return a[static_cast<size_t>(t)];
                                        },
                                        fmt::format("energy per {} FLOP (half an FMA)", Name(t)), Bounds<JoulesPerFlop>::Positive());
  }
  auto s = std::make_shared<Schema<Baseline>>("baseline");
  s->Reserved("name");
  s->Nested("flop", &Baseline::flop, std::shared_ptr<const Schema<std::array<JoulesPerFlop, kAllDTypes.size()>>>(flops),
            "energy per FLOP by dtype at 45 nm")
      .Quantity("register_byte", &Baseline::register_byte, "register / operand-buffer access per byte",
                Bounds<JoulesPerByte>::Positive())
      .Quantity("sram_byte", &Baseline::sram_byte, "large SRAM access per byte", Bounds<JoulesPerByte>::Positive())
      .Quantity("d2d_byte", &Baseline::d2d_byte, "die-to-die per byte (not node-scaled)",
                Bounds<JoulesPerByte>::Positive())
      .Quantity("serdes_byte", &Baseline::serdes_byte, "off-package SerDes per byte (not node-scaled)",
                Bounds<JoulesPerByte>::Positive())
      .Number("uncore_fraction", &Baseline::uncore_pct, "clock, control, NoC power as a share of the datapath's", 0,
              1000, "%")
      .Number("static_fraction", &Baseline::static_pct, "leakage share of total power at TDP", 0, 95, "%")
      .Number("datapath_scale", &Baseline::datapath_scale,
              "measured datapath energy (arithmetic, operand reads, uncore) over the modelled one", 0.1, 100, "x")
      .Required()
      .Quantity("hbm_path_byte", &Baseline::hbm_path_byte,
                "on-chip energy per HBM byte (controller, L2, NoC, load/store; measured, not node-scaled)",
                Bounds<JoulesPerByte>::Positive())
      .Required();
  return s;
}

// data/energy/<node>.yaml
struct NodeFile {
  std::string name;
  double energy_scale = 0;
  Hertz max_clock;
  double logic_density = 0;
  double sram_bitcell = 0;
  double static_pct = -1;
};

std::shared_ptr<Schema<NodeFile>> NodeFileSchema() {
  auto s = std::make_shared<Schema<NodeFile>>("node energy");
  s->Text("name", &NodeFile::name, "node preset name (data/nodes/)")
      .Required()
      .Number("energy_scale", &NodeFile::energy_scale, "energy per operation relative to 45 nm", 0.001, 10, "x")
      .Required()
      .Quantity("max_clock", &NodeFile::max_clock, "highest clock of a shipped high-performance die on this node",
                Bounds<Hertz>::Positive())
      .Required()
      .Number("logic_density", &NodeFile::logic_density, "logic density for the area model", 1, 10000, "MTr/mm2")
      .Number("sram_bitcell_area", &NodeFile::sram_bitcell, "SRAM bit cell for the area model", 0.001, 10, "um2")
      .Number("static_fraction", &NodeFile::static_pct, "leakage share of total power at TDP (overrides the baseline)", 0, 95, "%");
  return s;
}

struct MemoryEnergyFile {
  std::map<std::string, JoulesPerByte> energy;
};

template <class T>
bool LoadDataFile(const std::string& rel, const Schema<T>& schema, T& out, Diagnostics& diag) {
  const int before = diag.error_count();
  const std::string path = DataDir() + "/" + rel;
  auto root = LoadYamlFile(path, diag);
  if (!root) return false;
  LoadContext ctx{path, "", &diag, nullptr};
  schema.Load(*root, out, ctx, "");
  schema.CheckRequired({*root}, *root, "", ctx);
  return diag.error_count() == before;
}

std::shared_ptr<Schema<power::ServerPower>> ServerSchema() {
  using S = power::ServerPower;
  auto s = std::make_shared<Schema<S>>("server");
  s->Integer("chips_per_server", &S::chips_per_server, "accelerators per server", 1, 1024)
      .Quantity("host_cpus", &S::host_cpus, "host CPU power per server", Bounds<Watts>::NonNegative())
      .Quantity("nics", &S::nics, "NIC / DPU power per server", Bounds<Watts>::NonNegative())
      .Quantity("other", &S::other, "fans, DRAM, storage, board switches per server", Bounds<Watts>::NonNegative())
      .NumberField("conversion_efficiency", [](S& s) -> double& { return s.conversion_efficiency; },
                   "power delivered / power drawn (as a fraction, e.g. 94 %)", 1, 100, "%");
  return s;
}

std::shared_ptr<Schema<EconAssumptions>> BuildEconSchema() {
  using E = EconAssumptions;
  auto s = std::make_shared<Schema<E>>("econ");
  s->Reserved("name");
  s->Choice("yield_model", &E::yield_model, "die yield model",
            std::vector<std::pair<std::string, econ::YieldModel>>{{"poisson", econ::YieldModel::kPoisson},
                                                                   {"murphy", econ::YieldModel::kMurphy},
                                                                   {"negative-binomial", econ::YieldModel::kNegativeBinomial}})
      .Number("clustering_alpha", &E::clustering_alpha, "negative-binomial clustering α", 0.01, 100)
      .Number("defect_density", &E::defect_density, "D0 when the node preset has none", 0, 100, "/cm2")
      .Number("edge_exclusion", &E::edge_exclusion_mm, "wafer edge exclusion", 0, 50, "mm")
      .Custom(
          "wafer_prices", {"", "map node → cost", "", "", "wafer price per node when the node preset has none"},
          [](const YAML::Node& n, E& e, LoadContext& ctx, const std::string& path) {
            if (!n.IsMap()) return ctx.Error(n, path, "expected a map of node name → price, e.g. {tsmc-n4: $17000}");
            for (const auto& kv : n) {
              const std::string key = JoinPath(path, kv.first.Scalar());
              YAML::Node v = UnwrapSourced(kv.second, key, ctx);
              auto r = ParseQuantity<Dollars>(v.IsScalar() ? ScalarText(v) : "");
              if (!r.ok()) {
                ctx.Error(v, key, r.error());
                continue;
              }
              e.wafer_prices[kv.first.Scalar()] = r.value();
            }
          },
          [](const E& e, const std::string& path, std::vector<std::pair<std::string, std::string>>* rows) {
            for (const auto& [k, v] : e.wafer_prices) rows->push_back({JoinPath(path, k), ToString(v)});
          })
      .Quantity("hbm_cost_per_gb", &E::hbm_cost_per_gb, "HBM price when the memory preset has none", Bounds<DollarsPerByte>::Positive())
      .QuantityField<DollarsPerSquareMm>("interposer_per_mm2", [](E& e) -> DollarsPerSquareMm& { return e.package.interposer_per_mm2; },
                                         "interposer / bridge cost per mm2", Bounds<DollarsPerSquareMm>::NonNegative())
      .QuantityField<Dollars>("assembly_test", [](E& e) -> Dollars& { return e.package.assembly_test; },
                              "assembly, substrate and test per package", Bounds<Dollars>::NonNegative())
      .NumberField("package_yield", [](E& e) -> double& { return e.package.package_yield; }, "good packages / assembled", 1, 100, "%")
      .Nested("server", &E::server, std::shared_ptr<const Schema<power::ServerPower>>(ServerSchema()), "server power")
      .Number("pue", &E::pue, "facility power / IT power", 1, 5)
      .Custom(
          "electricity", {"", "an energy price", "", "≥ 0", "electricity price, e.g. \"$0.08/kWh\""},
          [](const YAML::Node& raw, E& e, LoadContext& ctx, const std::string& path) {
            YAML::Node n = UnwrapSourced(raw, path, ctx);
            auto r = ParseQuantity<DollarsPerJoule>(n.IsScalar() ? ScalarText(n) : "");
            if (!r.ok()) return ctx.Error(n, path, r.error());
            if (r.value().value() < 0) return ctx.Error(n, path, "must be ≥ 0");
            e.electricity = r.value();
          },
          [](const E& e, const std::string& path, auto* rows) {
            rows->push_back({path, "$" + FormatNumber(e.electricity.value() * 3.6e6, 4) + "/kWh"});
          })
      .Quantity("life", &E::life, "amortization period, e.g. \"5 years\"", Bounds<Seconds>::Positive())
      .Quantity("server_per_chip", &E::server_per_chip, "server cost per accelerator", Bounds<Dollars>::NonNegative())
      .Quantity("network_per_port", &E::network_per_port, "network cost per switch port incl. optics", Bounds<Dollars>::NonNegative())
      .Number("ports_per_chip", &E::ports_per_chip, "switch ports per accelerator", 0, 100)
      .Quantity("facility_per_mw", &E::facility_per_mw, "data-centre build cost per MW of IT capacity, e.g. \"$10M\"",
                Bounds<Dollars>::NonNegative());
  return s;
}

}  // namespace

const Schema<EconAssumptions>& EconSchema() {
  static const auto s = BuildEconSchema();
  return *s;
}

std::optional<EconAssumptions> LoadEconDefaults(Diagnostics& diag) {
  EconAssumptions a;
  if (!LoadDataFile("econ/defaults.yaml", EconSchema(), a, diag)) return std::nullopt;
  // Stored as fractions in the struct, written as percentages in the file.
  a.package.package_yield /= 100.0;
  a.server.conversion_efficiency /= 100.0;
  return a;
}

std::optional<hw::NodeEnergy> LoadNodeEnergy(const hw::ProcessNode& node, Diagnostics& diag) {
  static const auto base_schema = BaselineSchema();
  static const auto node_schema = NodeFileSchema();
  Baseline b;
  if (!LoadDataFile("energy/baseline-45nm.yaml", *base_schema, b, diag)) return std::nullopt;
  const std::string rel = "energy/" + node.name + ".yaml";
  if (!std::filesystem::exists(DataDir() + "/" + rel)) {
    diag.Error({}, "node", fmt::format("no energy model for node '{}'; add data/{} (see data/energy/README.md)", node.name, rel));
    return std::nullopt;
  }
  NodeFile nf;
  if (!LoadDataFile(rel, *node_schema, nf, diag)) return std::nullopt;
  hw::NodeEnergy e;
  e.node = node.name;
  const JoulesPerFlop bf16 = b.flop[static_cast<size_t>(DType::kBf16)];
  e.bf16_flop = bf16 * nf.energy_scale;
  for (DType t : kAllDTypes) {
    const size_t i = static_cast<size_t>(t);
    e.dtype_factor[i] = bf16.value() > 0 ? b.flop[i].value() / bf16.value() : 0;
  }
  e.register_byte = b.register_byte * nf.energy_scale;
  e.sram_byte = b.sram_byte * nf.energy_scale;
  e.d2d_byte = b.d2d_byte;
  e.serdes_byte = b.serdes_byte;
  e.uncore_fraction = b.uncore_pct / 100.0;
  e.datapath_scale = b.datapath_scale;
  e.hbm_path_byte = b.hbm_path_byte;
  e.static_fraction = (nf.static_pct >= 0 ? nf.static_pct : b.static_pct) / 100.0;
  e.max_clock = nf.max_clock;
  e.logic_density = nf.logic_density > 0 ? nf.logic_density : node.logic_density;
  e.sram_bitcell_um2 = nf.sram_bitcell > 0 ? nf.sram_bitcell : node.sram_bitcell_area;
  if (e.logic_density <= 0 || e.sram_bitcell_um2 <= 0) {
    diag.Error({}, "node", fmt::format("node '{}' has no logic density or SRAM bit cell for the area model; add them to data/{}",
                                       node.name, rel));
    return std::nullopt;
  }
  return e;
}

bool FillMemoryEnergy(hw::MemoryTech& memory, Diagnostics& diag) {
  if (memory.energy_per_bit.value() > 0) return true;
  const std::string path = DataDir() + "/energy/memory.yaml";
  auto root = LoadYamlFile(path, diag);
  if (!root) return false;
  LoadContext ctx{path, "", &diag, nullptr};
  const YAML::Node table = (*root)["energy_per_bit"];
  if (table && table.IsMap() && table[memory.name]) {
    YAML::Node v = UnwrapSourced(table[memory.name], "energy_per_bit." + memory.name, ctx);
    auto r = ParseQuantity<JoulesPerByte>(v.IsScalar() ? ScalarText(v) : "");
    if (!r.ok()) {
      ctx.Error(v, "energy_per_bit." + memory.name, r.error());
      return false;
    }
    memory.energy_per_bit = r.value();
    return true;
  }
  diag.Error({path, 0, 0}, "energy_per_bit",
             fmt::format("no access energy for memory '{}' in data/memory/ or data/energy/memory.yaml", memory.name));
  return false;
}

std::optional<econ::WaferEcon> WaferFor(const hw::ProcessNode& node, const EconAssumptions& a, Diagnostics& diag) {
  econ::WaferEcon w;
  w.wafer_price = node.wafer_price;
  if (w.wafer_price.value() <= 0) {
    auto it = a.wafer_prices.find(node.name);
    if (it == a.wafer_prices.end()) {
      diag.Error({}, "node", fmt::format("no wafer price for node '{}'; add one to data/econ/defaults.yaml wafer_prices or the "
                                         "design's econ.wafer_prices", node.name));
      return std::nullopt;
    }
    w.wafer_price = it->second;
  }
  w.defect_density = node.defect_density > 0 ? node.defect_density : a.defect_density;
  w.model = a.yield_model;
  w.alpha = a.clustering_alpha;
  w.edge_exclusion_mm = a.edge_exclusion_mm;
  return w;
}

DollarsPerByte HbmCost(const hw::MemoryTech& memory, const EconAssumptions& a) {
  return memory.cost_per_gb.value() > 0 ? memory.cost_per_gb : a.hbm_cost_per_gb;
}

}  // namespace pf::spec
