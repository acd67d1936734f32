// spec/scenario: a scenario file — which chip, which model, how it is split — parsed,
// validated and constructed. Later sections (cluster, train, serve, sweep) are added to the
// table in scenario.cc; an unknown top-level key is an error with a "did you mean".
//
//   name: llama3-70b-tp8
//   chip: {preset: h100-sxm, hbm: {capacity: 96 GB}}   # or {design: my-chip.yaml, <overrides>}
//   model: {preset: llama-3-70b}
//   parallelism: {tp: 8, pp: 1, dp: 1}
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "pathfinder/graph/parallelism.h"
#include "pathfinder/hw/chip.h"
#include "pathfinder/hw/cluster.h"
#include "pathfinder/model/architecture.h"
#include "pathfinder/serve/settings.h"
#include "pathfinder/train/settings.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

struct Scenario {
  std::string name;
  std::string description;
  std::optional<hw::Chip> chip;        // the chip; from the cluster's chip (preset or section) when not given
  std::string chip_design;             // the design file the chip was derived from; "" for a preset or inline chip
  std::optional<hw::Cluster> cluster;  // servers, scale-up domains, scale-out network, sites
  std::optional<model::Architecture> model;
  graph::Parallelism parallelism;
  std::optional<serve::ServeSettings> serve;  // the serving run (`pathfinder serve`)
  std::optional<train::TrainSettings> train;  // the training run (`pathfinder train`)
  ProvenanceMap provenance;  // where every resolved value came from
};

// Loads and validates a scenario file; every problem goes to `diag` (all at once).
// Returns nullopt if there was any error.
std::optional<Scenario> LoadScenario(const std::string& path, Diagnostics& diag);
// The same from YAML text already read, or a node already parsed; `name` is used in
// diagnostics and its folder resolves relative paths (a chip design file).
std::optional<Scenario> LoadScenarioText(const std::string& text, const std::string& name, Diagnostics& diag);
std::optional<Scenario> LoadScenarioNode(const YAML::Node& root, const std::string& name, Diagnostics& diag);

// The fully resolved scenario as YAML (presets expanded, overrides applied): what
// `--dump-config` writes. Loading the dump gives the same scenario.
std::string DumpScenario(const Scenario& s);

}  // namespace pf::spec

#include "pathfinder/spec/explain.h"

namespace pf::spec {
// Every resolved field of the scenario with unit, value and source, for `explain`.
std::vector<ExplainRow> ExplainScenario(const Scenario& s);
}  // namespace pf::spec

namespace pf::spec {
// The scenario's field table (every key a scenario file may hold), for docs.
std::vector<FieldDoc> DescribeScenario();
}  // namespace pf::spec
