// The cluster field table and cluster loading. The table below is the single declaration
// of every cluster field: loading, `pathfinder explain` and docs all come from it.
#include "pathfinder/spec/cluster_spec.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "pathfinder/core/strings.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/preset_section.h"

namespace pf::spec {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFolder = "clusters";

void LoadIntList(const YAML::Node& raw, std::vector<int>& out, LoadContext& ctx, const std::string& path) {
  const YAML::Node n = UnwrapSourced(raw, path, ctx);
  if (!n.IsSequence()) return ctx.Error(n, path, "expected a list of whole numbers, e.g. [4, 4, 4]");
  std::vector<int> v;
  for (const auto& e : n) {
    long x = 0;
    if (!e.IsScalar() || !ParseIntegerText(ScalarText(e), &x) || x < 1 || x > 1000000) {
      return ctx.Error(e, path, "expected whole numbers ≥ 1, e.g. [4, 4, 4]");
    }
    v.push_back(static_cast<int>(x));
  }
  out = std::move(v);
}

void LoadBandwidthList(const YAML::Node& raw, std::vector<BytesPerSec>& out, LoadContext& ctx, const std::string& path) {
  const YAML::Node n = UnwrapSourced(raw, path, ctx);
  if (!n.IsSequence()) return ctx.Error(n, path, "expected a list of bandwidths, e.g. [128 GB/s, 128 GB/s, 64 GB/s]");
  std::vector<BytesPerSec> v;
  for (const auto& e : n) {
    if (!e.IsScalar()) return ctx.Error(e, path, "expected a bandwidth, e.g. \"128 GB/s\"");
    auto r = ParseQuantity<BytesPerSec>(ScalarText(e));
    if (!r.ok()) return ctx.Error(e, path, r.error());
    if (r.value().value() <= 0) return ctx.Error(e, path, "must be > 0");
    v.push_back(r.value());
  }
  out = std::move(v);
}

std::shared_ptr<const Schema<hw::ScaleUpDomain>> ScaleUpSchema() {
  using U = hw::ScaleUpDomain;
  auto s = std::make_shared<Schema<U>>("scale_up");
  s->Choice<hw::ScaleUpTopology>("topology", &U::topology, "how the domain's chips are joined",
                                 {{"switched", hw::ScaleUpTopology::kSwitched},
                                  {"full-mesh", hw::ScaleUpTopology::kFullMesh},
                                  {"torus", hw::ScaleUpTopology::kTorus}})
      .Text("link", &U::link, "interconnect preset (see `pathfinder presets links`)")
      .Integer("chips", &U::chips, "chips in one scale-up domain", 1, 100000000)
      .Required()
      .Custom(
          "dims", {"dims", "list of integers", "", "", "torus: chips along each dimension (product = chips)"},
          [](const YAML::Node& n, U& u, LoadContext& ctx, const std::string& p) { LoadIntList(n, u.dims, ctx, p); },
          [](const U& u, const std::string& p, auto* rows) {
            std::vector<std::string> v;
            for (int d : u.dims) v.push_back(std::to_string(d));
            rows->push_back({p, v.empty() ? "-" : Join(v, "x")});
          })
      .Quantity("bandwidth", &U::bandwidth, "per chip, one direction, summed over its scale-up links",
                Bounds<BytesPerSec>::NonNegative())
      .Custom(
          "dim_link_bandwidth",
          {"dim_link_bandwidth", "list of bandwidths", "", "",
           "torus: one link's bandwidth, one direction, per dimension"},
          [](const YAML::Node& n, U& u, LoadContext& ctx, const std::string& p) {
            LoadBandwidthList(n, u.dim_link_bandwidth, ctx, p);
          },
          [](const U& u, const std::string& p, auto* rows) {
            std::vector<std::string> v;
            for (auto b : u.dim_link_bandwidth) v.push_back(ToString(b));
            rows->push_back({p, v.empty() ? "-" : Join(v, ", ")});
          })
      .Quantity("latency", &U::latency, "wire + switch latency per algorithm step beyond the library's",
                Bounds<Seconds>::NonNegative())
      .Number("efficiency", &U::efficiency, "achieved fraction of the bandwidth for bulk collectives", 0.01, 1)
      .Quantity("ring_simple_step", &U::ring_simple_step,
                "measured time of one ring step of the library's bulk (Simple) protocol in the domain, for the "
                "time only (0 = the library's tuning constant, NCCL 3.4 us)",
                Bounds<Seconds>::NonNegative())
      .Flag("in_network_reduction", &U::in_network_reduction, "switches reduce (NVLink SHARP)")
      .Number("in_network_efficiency", &U::in_network_efficiency,
              "all-reduce algorithm bandwidth / bandwidth with in-switch reduction", 0, 2)
      .Integer("in_network_channels", &U::in_network_channels,
               "channels the library runs an in-domain in-network all-reduce on (NCCL NVLS_NCHANNELS: 16 on "
               "Hopper, 24 on one Blackwell NVLink domain)",
               1, 64)
      .Quantity("in_network_chunk", &U::in_network_chunk,
                "largest chunk of an in-domain in-network all-reduce (NCCL_NVLS_CHUNKSIZE; NCCL's default 128 KiB)",
                Bounds<Bytes>::Positive())
      .Quantity("in_network_chunk_cost", &U::in_network_chunk_cost,
                "fixed time of one chunk of one channel-head operation, measured (0 = chunks not priced)",
                Bounds<Seconds>::NonNegative())
      .Quantity("in_network_head_rate", &U::in_network_head_rate,
                "rate of one channel-head operation beyond the chunk's fixed time, measured",
                Bounds<BytesPerSec>::NonNegative());
  return s;
}

std::shared_ptr<const Schema<hw::Server>> ServerSchema() {
  auto s = std::make_shared<Schema<hw::Server>>("server");
  s->Integer("chips", &hw::Server::chips, "chips per server (tray, instance)", 1, 1024)
      .Integer("nics_per_chip", &hw::Server::nics_per_chip, "scale-out NICs per chip", 1, 64);
  return s;
}

std::shared_ptr<const Schema<hw::ScaleOut>> ScaleOutSchema() {
  using O = hw::ScaleOut;
  auto s = std::make_shared<Schema<O>>("scale_out");
  s->Text("link", &O::link, "interconnect preset (see `pathfinder presets links`)")
      .Quantity("nic_bandwidth", &O::nic_bandwidth, "one NIC, one direction", Bounds<BytesPerSec>::NonNegative())
      .Integer("tiers", &O::tiers, "switch tiers of the fat-tree", 1, 5)
      .Integer("pod_chips", &O::pod_chips, "chips under one non-blocking leaf group (0 = the whole site)", 0, 100000000)
      .Number("oversubscription", &O::oversubscription, "bandwidth taper above the pod (1 = non-blocking)", 1, 64)
      .Flag("rail_optimized", &O::rail_optimized, "chip k of every server on rail k")
      .Quantity("latency", &O::latency, "NIC + wire latency per algorithm step beyond the library's", Bounds<Seconds>::NonNegative())
      .Quantity("switch_latency", &O::switch_latency, "one switch hop", Bounds<Seconds>::NonNegative())
      .Number("efficiency", &O::efficiency, "achieved fraction of NIC bandwidth for bulk collectives", 0.01, 1)
      .Flag("in_network_reduction", &O::in_network_reduction, "switches reduce (InfiniBand SHARP)")
      .Number("in_network_efficiency", &O::in_network_efficiency, "algorithm bandwidth / NIC bandwidth with SHARP", 0, 2);
  return s;
}

std::shared_ptr<const Schema<hw::Sites>> SitesSchema() {
  auto s = std::make_shared<Schema<hw::Sites>>("sites");
  s->Integer("count", &hw::Sites::count, "data centres (chips split evenly)", 1, 64)
      .Quantity("bandwidth", &hw::Sites::bandwidth, "between two sites, one direction, aggregate", Bounds<BytesPerSec>::NonNegative())
      .Quantity("latency", &hw::Sites::latency, "one-way site-to-site latency", Bounds<Seconds>::NonNegative())
      .Number("efficiency", &hw::Sites::efficiency, "achieved fraction of the inter-site bandwidth", 0.01, 1);
  return s;
}

// Where a scenario's cluster section puts a chip given as a section (`chip: {design: …}`
// or `chip: {preset: …, <overrides>}`); null while loading anything else (preset files,
// --cluster files), where only a chip preset name is allowed.
thread_local std::optional<hw::Chip>* t_section_chip = nullptr;

// Sets t_section_chip for one scope.
class SectionChipSlot {
 public:
  explicit SectionChipSlot(std::optional<hw::Chip>* slot) : saved_(t_section_chip) { t_section_chip = slot; }
  ~SectionChipSlot() { t_section_chip = saved_; }
  SectionChipSlot(const SectionChipSlot&) = delete;
  SectionChipSlot& operator=(const SectionChipSlot&) = delete;

 private:
  std::optional<hw::Chip>* saved_;
};

void LoadClusterChip(const YAML::Node& raw, hw::Cluster& c, LoadContext& ctx, const std::string& path) {
  if (raw.IsMap() && !raw["value"]) {
    if (t_section_chip == nullptr) {
      return ctx.Error(
          raw, path,
          "a chip section (design or overrides) is allowed only in a scenario's cluster section; name a chip "
          "preset here, e.g. h100-sxm");
    }
    auto chip = LoadChipSection(raw, ctx, path);
    if (!chip) return;
    c.chip = chip->name;
    *t_section_chip = std::move(chip);
    return;
  }
  const YAML::Node n = UnwrapSourced(raw, path, ctx);
  if (!n.IsScalar())
    return ctx.Error(n, path, "expected a chip preset name (e.g. h100-sxm) or a chip section, e.g. {design: file}");
  c.chip = ScalarText(n);
}

std::shared_ptr<Schema<hw::Cluster>> BuildClusterSchema() {
  using C = hw::Cluster;
  auto s = std::make_shared<Schema<C>>("cluster");
  s->Text("name", &C::name, "preset id (the file name without .yaml)")
      .Required()
      .Text("display_name", &C::display_name, "full name")
      .Custom("chip",
              {"chip", "text or section", "", "",
               "chip preset (see `pathfinder presets chips`); in a scenario also a chip section, e.g. {design: file}"},
              LoadClusterChip,
              [](const C& c, const std::string& p, auto* rows) {
                rows->push_back({p, c.chip.empty() ? "-" : c.chip});
              })
      .Required()
      .Integer("chips", &C::chips, "total chips", 1, 100000000)
      .Required()
      .Nested("scale_up", &C::scale_up, ScaleUpSchema(), "scale-up domain")
      .Required()
      .Nested("server", &C::server, ServerSchema(), "server: chips and NICs")
      .Nested("scale_out", &C::scale_out, ScaleOutSchema(), "scale-out fabric")
      .Nested("sites", &C::sites, SitesSchema(), "data centres and the links between them")
      .Text("notes", &C::notes, "what is estimated, conflicts, what is missing");
  s->Reserved("preset");
  return s;
}

void ReportProblems(const hw::Cluster& c, const YAML::Node& where, LoadContext& ctx, const std::string& key_path) {
  for (const auto& p : hw::Validate(c)) ctx.diag->Error(ctx.At(where), JoinPath(key_path, p.key_path), p.message);
}

std::optional<hw::Cluster> LoadFile(const std::string& path, const std::string& expect_name, Diagnostics& diag,
                                    ProvenanceMap* provenance, YAML::Node* root_out) {
  return LoadPresetFileWith(
      path, expect_name, diag, provenance, root_out, ClusterSchema(),
      [](const std::vector<YAML::Node>& layers, const YAML::Node& where, LoadContext& ctx, const std::string& key) {
        ClusterSchema().CheckRequired(layers, where, key, ctx);
      },
      ReportProblems);
}

std::optional<std::string> FindClusterPreset(const std::string& name, Diagnostics& diag, const SourceLocation& where,
                                             const std::string& key_path) {
  const auto names = ListClusterPresets();
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    return (fs::path(DataDir()) / kFolder / (name + ".yaml")).string();
  }
  const std::string hint = ClosestMatch(name, names);
  diag.Error(where, key_path,
             hint.empty() ? fmt::format("unknown cluster preset '{}'; known: {}", name, Join(names, ", "))
                          : fmt::format("unknown cluster preset '{}'; did you mean '{}'?", name, hint));
  return std::nullopt;
}

}  // namespace

const Schema<hw::Cluster>& ClusterSchema() {
  static const std::shared_ptr<Schema<hw::Cluster>> s = BuildClusterSchema();
  return *s;
}

std::vector<std::string> ListClusterPresets() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(DataDir()) / kFolder, ec)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<hw::Cluster> LoadClusterPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  auto path = FindClusterPreset(name, diag, {}, "cluster");
  if (!path) return std::nullopt;
  return LoadFile(*path, name, diag, provenance, nullptr);
}

std::optional<hw::Cluster> LoadClusterSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path,
                                              std::optional<hw::Chip>* section_chip) {
  static const PresetSectionHooks<hw::Cluster> hooks{
      "cluster", "dgx-h100", &ClusterSchema(), FindClusterPreset,
      // A preset file sees no slot: only the scenario section's own keys may hold a chip section.
      [](const std::string& path, const std::string& name, Diagnostics& d, ProvenanceMap* prov, YAML::Node* root) {
        const SectionChipSlot none(nullptr);
        return LoadFile(path, name, d, prov, root);
      },
      [](const std::vector<YAML::Node>& layers, const YAML::Node& where, LoadContext& c, const std::string& key) {
        ClusterSchema().CheckRequired(layers, where, key, c);
      },
      ReportProblems};
  const SectionChipSlot slot(section_chip);
  return LoadPresetSection(node, ctx, key_path, hooks);
}

std::optional<hw::Cluster> LoadClusterByName(const std::string& name_or_path, Diagnostics& diag) {
  auto ends = [&](const char* suf) {
    const std::string s(suf);
    return name_or_path.size() > s.size() && name_or_path.compare(name_or_path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".yaml") || ends(".yml") || ends(".json")) {
    auto root = LoadYamlFile(name_or_path, diag);
    if (!root) return std::nullopt;
    LoadContext ctx{name_or_path, "", &diag, nullptr};
    // A file may hold a cluster directly or under a `cluster:` key.
    const YAML::Node node = (*root)["cluster"] ? (*root)["cluster"] : *root;
    return LoadClusterSection(node, ctx, (*root)["cluster"] ? "cluster" : "");
  }
  return LoadClusterPreset(name_or_path, diag);
}

}  // namespace pf::spec
