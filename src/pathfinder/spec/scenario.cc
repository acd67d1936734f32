// Scenario loading: the top-level table, then cross-section checks (parallelism × model).
#include "pathfinder/spec/scenario.h"

#include <fmt/core.h>

#include <filesystem>
#include <set>

#include "pathfinder/core/strings.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/model_spec.h"
#include "pathfinder/spec/serve_spec.h"
#include "pathfinder/spec/train_spec.h"

namespace pf::spec {
namespace {

std::shared_ptr<const Schema<graph::Parallelism>> ParallelismSchema() {
  static const auto s = [] {
    auto p = std::make_shared<Schema<graph::Parallelism>>("parallelism");
    p->Integer("tp", &graph::Parallelism::tp, "tensor-parallel degree", 1, 1 << 20)
        .Default("1")
        .Integer("pp", &graph::Parallelism::pp, "pipeline-parallel degree (stages)", 1, 1 << 20)
        .Default("1")
        .Integer("dp", &graph::Parallelism::dp, "data-parallel degree", 1, 1 << 30)
        .Default("1")
        .Integer("cp", &graph::Parallelism::cp, "context-parallel degree", 1, 1 << 20)
        .Default("1")
        .Integer("ep", &graph::Parallelism::ep, "expert-parallel degree (carved out of dp·cp·tp)", 1, 1 << 20)
        .Default("1")
        .Flag("sequence_parallel", &graph::Parallelism::sequence_parallel, "sequence parallelism with TP")
        .Default("false");
    return std::shared_ptr<const Schema<graph::Parallelism>>(p);
  }();
  return s;
}

// The scenario's own table. `chip` and `model` are custom fields: each accepts a preset
// name or a section, loaded by its spec module.
const Schema<Scenario>& ScenarioSchema(const std::string* base_dir) {
  static std::string dir;
  if (base_dir) dir = *base_dir;
  static const auto s = [] {
    auto t = std::make_shared<Schema<Scenario>>("scenario");
    t->Text("name", &Scenario::name, "a short name for the results")
        .Text("description", &Scenario::description, "free text")
        .Custom(
            "chip",
            {"chip", "section", "", "",
             "the chip: a preset name, or {preset: name, <overrides>}, or {design: file or data/designs name, "
             "<overrides>}, "
             "or every field"},
            [](const YAML::Node& n, Scenario& sc, LoadContext& ctx, const std::string& path) {
              sc.chip = LoadChipSection(n, ctx, path);
            },
            [](const Scenario& sc, const std::string& path, auto* rows) {
              if (sc.chip) ChipSchema().Show(*sc.chip, path, rows);
            },
            [](const std::string& path, std::vector<FieldDoc>* out) { ChipSchema().Describe(path, out); })
        .Custom(
            "cluster",
            {"cluster", "section", "", "", "the cluster: a preset name (dgx-h100, …), or {preset: name, <overrides>}"},
            [](const YAML::Node& n, Scenario& sc, LoadContext& ctx, const std::string& path) {
              // A chip section inside the cluster (`chip: {design: …}`) becomes the scenario's chip
              // unless a top-level chip is given too (LoadScenario reports that).
              std::optional<hw::Chip> section_chip;
              sc.cluster = LoadClusterSection(n, ctx, path, &section_chip);
              if (section_chip && !sc.chip) sc.chip = std::move(section_chip);
            },
            [](const Scenario& sc, const std::string& path, auto* rows) {
              if (sc.cluster) ClusterSchema().Show(*sc.cluster, path, rows);
            },
            [](const std::string& path, std::vector<FieldDoc>* out) { ClusterSchema().Describe(path, out); })
        .Custom(
            "model",
            {"model", "section", "", "", "the model: a preset name, {preset: name, <overrides>}, {hf_config: path}"},
            [](const YAML::Node& n, Scenario& sc, LoadContext& ctx, const std::string& path) {
              sc.model = LoadModelSection(n, ctx, path, dir);
            },
            [](const Scenario& sc, const std::string& path, auto* rows) {
              if (sc.model) ArchitectureSchema().Show(*sc.model, path, rows);
            },
            [](const std::string& path, std::vector<FieldDoc>* out) { ArchitectureSchema().Describe(path, out); })
        .Nested("parallelism", &Scenario::parallelism, ParallelismSchema(), "how the job is split over chips")
        .Custom(
            "serve", {"serve", "section", "", "", "the serving run: workload, arrivals, engine, dtypes, SLOs"},
            [](const YAML::Node& n, Scenario& sc, LoadContext& ctx, const std::string& path) {
              sc.serve = LoadServeSection(n, ctx, path);
            },
            [](const Scenario& sc, const std::string& path, auto* rows) {
              if (sc.serve) ServeSchema().Show(*sc.serve, path, rows);
            },
            [](const std::string& path, std::vector<FieldDoc>* out) { ServeSchema().Describe(path, out); })
        .Custom(
            "train",
            {"train", "section", "", "", "the training run: sequence, batch, precision, recompute, ZeRO, schedule"},
            [](const YAML::Node& n, Scenario& sc, LoadContext& ctx, const std::string& path) {
              sc.train = LoadTrainSection(n, ctx, path);
            },
            [](const Scenario& sc, const std::string& path, auto* rows) {
              if (sc.train) TrainSchema().Show(*sc.train, path, rows);
            },
            [](const std::string& path, std::vector<FieldDoc>* out) { TrainSchema().Describe(path, out); });
    return std::shared_ptr<const Schema<Scenario>>(t);
  }();
  return *s;
}

}  // namespace

std::optional<Scenario> LoadScenario(const std::string& path, Diagnostics& diag) {
  auto root = LoadYamlFile(path, diag);
  if (!root) return std::nullopt;
  return LoadScenarioNode(*root, path, diag);
}

std::optional<Scenario> LoadScenarioText(const std::string& text, const std::string& name, Diagnostics& diag) {
  auto root = ParseYaml(text, name, diag);
  if (!root) return std::nullopt;
  return LoadScenarioNode(*root, name, diag);
}

std::optional<Scenario> LoadScenarioNode(const YAML::Node& root_node, const std::string& path, Diagnostics& diag) {
  const int before = diag.error_count();
  const std::optional<YAML::Node> root = root_node;
  Scenario sc;
  LoadContext ctx{path, "scenario " + path, &diag, &sc.provenance};
  const std::string dir = std::filesystem::path(path).parent_path().string();
  ScenarioSchema(&dir).Load(*root, sc, ctx, "");
  if (!(*root)["chip"] && !(*root)["model"] && !(*root)["cluster"]) {
    ctx.Error(*root, "", "a scenario needs at least a chip, cluster or model section");
  }
  // A cluster names its chip (or holds a chip section); an explicit chip section must agree with it.
  const YAML::Node cluster_node = (*root)["cluster"];
  const bool chip_in_cluster = cluster_node && cluster_node.IsMap() && cluster_node["chip"] &&
                               cluster_node["chip"].IsMap() && !cluster_node["chip"]["value"];
  if (chip_in_cluster && (*root)["chip"]) {
    ctx.Error(
        (*root)["chip"], "chip",
        "the chip is given twice, here and as a section in cluster.chip; keep one (cluster.chip may then name it)");
  } else if (chip_in_cluster) {
    sc.chip_design = ChipDesignPath(cluster_node["chip"], path);
    // The chip was loaded under cluster.chip; `explain` shows it under chip.
    const std::string from = "cluster.chip.";
    for (auto it = sc.provenance.lower_bound(from); it != sc.provenance.end() && it->first.rfind(from, 0) == 0;) {
      sc.provenance["chip." + it->first.substr(from.size())] = it->second;
      it = sc.provenance.erase(it);
    }
    if (auto it = sc.provenance.find("chip.name"); it != sc.provenance.end())
      sc.provenance["cluster.chip"] = it->second;
  } else if (sc.cluster && !(*root)["chip"]) {
    sc.chip = LoadChipSection(YAML::Node(sc.cluster->chip), ctx, "chip");
  } else if (sc.cluster && sc.chip && sc.cluster->chip != sc.chip->name) {
    const bool designed = !ChipDesignPath((*root)["chip"], path).empty();
    ctx.Error((*root)["chip"], "chip",
              designed ? fmt::format("chip '{}' differs from the cluster's chip '{}'; move the design into the cluster "
                                     "section (cluster: {{preset: …, chip: {{design: …}}}}) or set cluster.chip: {}",
                                     sc.chip->name, sc.cluster->chip, sc.chip->name)
                       : fmt::format("chip '{}' differs from the cluster's chip '{}'; drop one of them", sc.chip->name,
                                     sc.cluster->chip));
  }
  if ((*root)["chip"]) sc.chip_design = ChipDesignPath((*root)["chip"], path);
  // Cross-section rules: the split must suit the model.
  if (sc.model) {
    for (const auto& p : graph::Validate(sc.parallelism, *sc.model)) {
      YAML::Node at = (*root)["parallelism"] && (*root)["parallelism"][p.key_path] ? (*root)["parallelism"][p.key_path]
                      : (*root)["parallelism"]                                      ? (*root)["parallelism"]
                                                                                    : *root;
      ctx.Error(at, JoinPath("parallelism", p.key_path), p.message);
    }
  }
  // Serving: the replicas must find their chips in the cluster.
  if (sc.serve && sc.cluster) {
    const graph::Parallelism& p = sc.parallelism;
    const long replicas = serve::ServedReplicas(sc.serve->engine, p.dp);
    const long need = replicas * p.tp * p.pp;
    if (need > sc.cluster->chips) {
      const YAML::Node serve = (*root)["serve"];
      const YAML::Node engine = serve && serve.IsMap() ? serve["engine"] : YAML::Node();
      const bool given = engine && engine.IsMap() && engine["replicas"];
      ctx.Error(given                    ? engine["replicas"]
                : (*root)["parallelism"] ? (*root)["parallelism"]
                                         : *root,
                given ? "serve.engine.replicas" : "parallelism.dp",
                fmt::format("{} replicas of tp {} × pp {} chips need {} chips; the cluster has {}; serve fewer "
                            "replicas or give the cluster more chips",
                            replicas, p.tp, p.pp, need, sc.cluster->chips));
    }
  }
  if (diag.error_count() != before) return std::nullopt;
  return sc;
}

std::string DumpScenario(const Scenario& s) {
  std::vector<std::pair<std::string, std::string>> rows;
  {
    ShowDigitsScope precise(12);
    ScenarioSchema(nullptr).Show(s, "", &rows);
  }
  // The fields that are lists of text (Show prints them joined by ", "), by dotted path.
  std::set<std::string> text_lists;
  {
    std::vector<FieldDoc> docs;
    ScenarioSchema(nullptr).Describe("", &docs);
    for (const FieldDoc& d : docs)
      if (d.unit == "list of text") text_lists.insert(d.path);
  }
  // Rebuild nested YAML from dotted paths; values are printed with units and re-parse.
  YAML::Node root(YAML::NodeType::Map);  // a map from the start, so copies share it
  for (const auto& [path, value] : rows) {
    if (value == "-" || value.empty()) continue;
    // Year 0 is "unknown" (a chip derived from a design has none) and outside the field's range.
    if (path == "chip.year" && value == "0") continue;
    // recompute_modules only says what selective recompute re-runs; beside any other recompute
    // the loader refuses it, so its default is not written there.
    if (path == "train.recompute_modules" && s.train && s.train->recompute != graph::Recompute::kSelective) continue;
    std::vector<std::string> parts;
    size_t b = 0;
    while (true) {
      size_t e = path.find('.', b);
      parts.push_back(path.substr(b, e == std::string::npos ? std::string::npos : e - b));
      if (e == std::string::npos) break;
      b = e + 1;
    }
    std::vector<YAML::Node> chain{root};
    for (size_t i = 0; i + 1 < parts.size(); ++i) chain.push_back(chain.back()[parts[i]]);
    if (text_lists.count(path) > 0 || path.ends_with(".aliases")) {  // text lists (a chip's aliases in any preset)
      YAML::Node seq(YAML::NodeType::Sequence);
      size_t p = 0;
      while (p <= value.size()) {
        size_t q = value.find(", ", p);
        seq.push_back(value.substr(p, q == std::string::npos ? std::string::npos : q - p));
        if (q == std::string::npos) break;
        p = q + 2;
      }
      chain.back()[parts.back()] = seq;
    } else {
      chain.back()[parts.back()] = value;
    }
  }
  YAML::Emitter out;
  out << root;
  // A designed chip is written out field by field; say where those values came from.
  const std::string origin = s.chip_design.empty()
                                 ? ""
                                 : fmt::format(
                                       "# chip: derived from the design file {} (hw::DeriveChip; the datasheet is an "
                                       "estimate; `pathfinder explain` gives each value's source)\n",
                                       s.chip_design);
  return origin + std::string(out.c_str()) + "\n";
}

}  // namespace pf::spec

namespace pf::spec {
std::vector<ExplainRow> ExplainScenario(const Scenario& s) { return ExplainRows(ScenarioSchema(nullptr), s, s.provenance); }
}  // namespace pf::spec

namespace pf::spec {
std::vector<FieldDoc> DescribeScenario() {
  std::vector<FieldDoc> out;
  ScenarioSchema(nullptr).Describe("", &out);
  return out;
}
}  // namespace pf::spec
