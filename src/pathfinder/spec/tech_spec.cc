// The technology field tables and preset loaders. Each table below is the single
// declaration of its struct's fields: loading, `pathfinder explain` and the docs come from it.
#include "pathfinder/spec/tech_spec.h"

#include <fmt/core.h>

#include <memory>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

const std::vector<std::pair<std::string, hw::LinkCategory>>& LinkCategories() {
  static const std::vector<std::pair<std::string, hw::LinkCategory>> v = {
      {"scale-up", hw::LinkCategory::kScaleUp},         {"scale-out", hw::LinkCategory::kScaleOut},
      {"inter-site", hw::LinkCategory::kInterSite},     {"chip-to-chip", hw::LinkCategory::kChipToChip},
      {"die-to-die", hw::LinkCategory::kDieToDie},      {"host", hw::LinkCategory::kHost}};
  return v;
}

std::shared_ptr<Schema<hw::MemoryTech>> BuildMemorySchema() {
  using M = hw::MemoryTech;
  auto s = std::make_shared<Schema<M>>("memory");
  s->Text("name", &M::name, "preset id (the file name without .yaml)")
      .Required()
      .Text("display_name", &M::display_name, "the generation as usually written, e.g. HBM3E")
      .Text("standard", &M::standard, "standard document, e.g. JEDEC JESD238")
      .Integer("year", &M::year, "first products", 1990, 2100)
      .Quantity("pin_rate", &M::pin_rate, "data rate of one pin, e.g. \"6.4 Gb/s\"", Bounds<BytesPerSec>::Positive())
      .Integer("interface_width", &M::interface_width, "data pins (bits) per stack, device or channel (see notes)", 1, 65536)
      .Integer("channels", &M::channels, "independent channels per stack", 1, 1024)
      .Quantity("stack_bandwidth", &M::stack_bandwidth, "peak bandwidth per HBM stack, or per device for GDDR/LPDDR",
                Bounds<BytesPerSec>::Positive())
      .Integer("max_stack_height", &M::max_stack_height, "DRAM dies per stack, largest available", 1, 64)
      .Quantity("die_density", &M::die_density, "capacity of one DRAM die, e.g. \"16 Gb\"", Bounds<Bytes>::Positive())
      .Quantity("capacity_per_stack", &M::capacity_per_stack, "largest capacity of one stack", Bounds<Bytes>::Positive())
      .Quantity("energy_per_bit", &M::energy_per_bit, "access energy, e.g. \"3.9 pJ/bit\"", Bounds<JoulesPerByte>::Positive())
      .Quantity("cost_per_gb", &M::cost_per_gb, "price per capacity, e.g. \"$7/GB\"", Bounds<DollarsPerByte>::Positive())
      .Text("notes", &M::notes, "conflicts between sources, ranges, gaps");
  return s;
}

std::shared_ptr<Schema<hw::ProcessNode>> BuildNodeSchema() {
  using N = hw::ProcessNode;
  auto s = std::make_shared<Schema<N>>("node");
  s->Text("name", &N::name, "preset id (the file name without .yaml)")
      .Required()
      .Text("display_name", &N::display_name, "the node as the foundry names it")
      .Text("foundry", &N::foundry, "foundry")
      .Text("transistor_type", &N::transistor_type, "FinFET, GAA nanosheet, …")
      .Integer("hvm_year", &N::hvm_year, "start of high-volume manufacturing", 1990, 2100)
      .Text("baseline", &N::baseline, "the node that perf_gain, power_reduction and density_gain compare with")
      .Number("perf_gain", &N::perf_gain_pct, "speed gain at iso-power vs baseline", -100, 1000, "%")
      .Number("power_reduction", &N::power_reduction_pct, "power reduction at iso-speed vs baseline", -100, 100, "%")
      .Number("density_gain", &N::density_gain, "logic (or chip) density multiple vs baseline", 0, 100, "x")
      .Number("logic_density", &N::logic_density, "logic transistor density", 0, 10000, "MTr/mm2")
      .Number("sram_bitcell_area", &N::sram_bitcell_area, "high-density SRAM bit cell area", 0, 10, "um2")
      .Number("sram_macro_density", &N::sram_macro_density, "SRAM macro density", 0, 10000, "Mb/mm2")
      .Quantity("wafer_price", &N::wafer_price, "price of one 300 mm wafer, e.g. \"$17000\"", Bounds<Dollars>::Positive())
      .Number("defect_density", &N::defect_density, "defect density D0", 0, 100, "/cm2")
      .Text("notes", &N::notes, "conflicts between sources, ranges, gaps");
  return s;
}

std::shared_ptr<Schema<hw::Interconnect>> BuildLinkSchema() {
  using L = hw::Interconnect;
  auto s = std::make_shared<Schema<L>>("link");
  s->Text("name", &L::name, "preset id (the file name without .yaml)")
      .Required()
      .Text("display_name", &L::display_name, "the link as the vendor names it, e.g. NVLink 4")
      .Choice("category", &L::category, "where the link sits in the system", LinkCategories())
      .Integer("year", &L::year, "first products", 1990, 2100)
      .Text("signaling", &L::signaling, "lane rate and modulation")
      .Quantity("per_link_bandwidth", &L::per_link_bandwidth, "one link, one direction", Bounds<BytesPerSec>::Positive())
      .Integer("links_per_chip", &L::links_per_chip, "links (ports) per chip", 1, 100000)
      .Quantity("per_chip_bandwidth", &L::per_chip_bandwidth, "per chip, one direction, summed over its links",
                Bounds<BytesPerSec>::Positive())
      .Integer("max_domain", &L::max_domain, "largest group of chips the link joins directly", 1, 100000000)
      .Text("topology", &L::topology, "topology it is built into")
      .Text("switch", &L::switch_fabric, "switch chip or fabric")
      .Quantity("latency", &L::latency, "one-way message latency (the note says what it covers)", Bounds<Seconds>::Positive())
      .Quantity("energy_per_bit", &L::energy_per_bit, "energy per bit moved, e.g. \"1.3 pJ/bit\"",
                Bounds<JoulesPerByte>::Positive())
      .Text("used_in", &L::used_in, "chips that use it")
      .Text("notes", &L::notes, "conflicts between sources, ranges, gaps");
  return s;
}

std::shared_ptr<Schema<hw::Packaging>> BuildPackagingSchema() {
  using P = hw::Packaging;
  auto s = std::make_shared<Schema<P>>("packaging");
  s->Text("name", &P::name, "preset id (the file name without .yaml)")
      .Required()
      .Text("display_name", &P::display_name, "the technology as the vendor names it")
      .Text("vendor", &P::vendor, "vendor")
      .Quantity("max_silicon_area", &P::max_silicon_area, "largest interposer, die or wafer area it allows",
                Bounds<SquareMillimeters>::Positive())
      .Integer("max_hbm_stacks", &P::max_hbm_stacks, "most HBM stacks placed beside the compute dies", 1, 1000)
      .Text("notes", &P::notes, "conflicts between sources, roadmap, gaps");
  return s;
}

// Loads one preset file of any kind: the top-level `source:` becomes the default
// provenance, `name:` must equal the file stem, then the struct's Validate runs.
template <class T>
std::optional<T> LoadTechPreset(PresetKind kind, const Schema<T>& schema, const std::string& name, Diagnostics& diag,
                                ProvenanceMap* provenance) {
  const int before = diag.error_count();
  auto path = FindPreset(kind, name, diag, {}, PresetKindName(kind));
  if (!path) return std::nullopt;
  auto root = LoadYamlFile(*path, diag);
  if (!root) return std::nullopt;
  LoadContext ctx{*path, "", &diag, provenance};
  const YAML::Node source = (*root)["source"];
  if (source && source.IsScalar()) {
    ctx.default_source = source.Scalar();
  } else {
    ctx.Error(source ? source : *root, "source", "every preset needs a top-level source: \"<where its numbers come from>\"");
  }
  T value;
  schema.Load(*root, value, ctx, "");
  schema.CheckRequired({*root}, *root, "", ctx);
  if (!value.name.empty() && value.name != name) {
    ctx.Error((*root)["name"], "name", fmt::format("'{}' must equal the file name '{}'", value.name, name));
  }
  if (diag.error_count() == before) {
    for (const auto& p : hw::Validate(value)) diag.Error(ctx.At(*root), p.key_path, p.message);
  }
  if (diag.error_count() != before) return std::nullopt;
  return value;
}

}  // namespace

const Schema<hw::MemoryTech>& MemoryTechSchema() {
  static const auto s = BuildMemorySchema();
  return *s;
}
const Schema<hw::ProcessNode>& ProcessNodeSchema() {
  static const auto s = BuildNodeSchema();
  return *s;
}
const Schema<hw::Interconnect>& InterconnectSchema() {
  static const auto s = BuildLinkSchema();
  return *s;
}
const Schema<hw::Packaging>& PackagingSchema() {
  static const auto s = BuildPackagingSchema();
  return *s;
}

std::optional<hw::MemoryTech> LoadMemoryPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  return LoadTechPreset(PresetKind::kMemory, MemoryTechSchema(), name, diag, provenance);
}
std::optional<hw::ProcessNode> LoadNodePreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  return LoadTechPreset(PresetKind::kNode, ProcessNodeSchema(), name, diag, provenance);
}
std::optional<hw::Interconnect> LoadLinkPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  return LoadTechPreset(PresetKind::kLink, InterconnectSchema(), name, diag, provenance);
}
std::optional<hw::Packaging> LoadPackagingPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  return LoadTechPreset(PresetKind::kPackaging, PackagingSchema(), name, diag, provenance);
}

std::string LinkCategoryName(hw::LinkCategory c) {
  for (const auto& [n, v] : LinkCategories())
    if (v == c) return n;
  return "?";
}

}  // namespace pf::spec
