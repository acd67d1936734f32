// spec/sweep_spec: a sweep file — a base (for now a chip design file), the parameters to
// vary (field paths of the base with a list of values or a range), the method (grid,
// random, lhs), objectives and constraints:
//
//   design: ../examples/design-2nm-inference.yaml     # relative to this file
//   method: lhs            # grid | random | lhs
//   samples: 500           # random and lhs
//   seed: 7                # random and lhs (default 1)
//   parameters:
//     design.clock: {min: 1.2 GHz, max: 2.4 GHz}            # grid: add steps: N
//     design.cores_per_die: {min: 16, max: 64}              # whole numbers, no unit: integers
//     design.hbm.stacks: {values: [4, 6, 8, 12]}
//     econ.pue: {min: 1.1, max: 1.5, integer: false}        # log: true spaces values in log
//   objectives:
//     - maximize: bf16_tflops_per_dollar
//     - minimize: tdp
//   constraints:
//     - {metric: tdp, max: 1500 W}
//     - {metric: hbm_capacity, min: 192 GB}
//
// A point is applied by setting those fields in the base file's YAML and loading the
// result through the same loader as any file, so every point is validated exactly like a
// file the user wrote; a point that fails validation is an infeasible point with the
// loader's message as its reason.
//
// A scenario base (`scenario: train-or-serve.yaml` instead of `design:`) varies any field of
// a scenario file — `parallelism.tp`, `train.micro_batch`, `serve.engine.max_batch`,
// `chip.hbm.capacity` (a section written as a preset name, `chip: h200-sxm`, becomes
// {preset: h200-sxm} with the field set) — and is evaluated by the training simulator or
// the serving simulator, whichever section the scenario has (exactly one).
//
// A design base may name a serving workload, `workload: serve-scenario.yaml`: its model,
// parallelism and serve section are served on each point's derived chip in the serving
// fast mode (serve/steady_state.h), which adds serve_* metrics. `workload:` may also be a
// list of serving scenarios: each point serves every one, and the metrics of each carry
// its file name, `serve_tokens_per_s_per_chip@<file stem>`.
//
// How to add a base kind: accept its key in LoadSweep (next to `design` and `scenario`),
// list its field paths in KnownFieldPaths, and load ApplyPoint's text (or ApplyPointNode)
// with its loader in cli/sweep_cmd.cc.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/diag.h"
#include "pathfinder/core/units_parse.h"

namespace pf::spec {

struct SweepParameter {
  std::string path;  // field path in the base file, e.g. "design.hbm.stacks"
  SourceLocation where;
  std::vector<std::string> values;  // a list of values, as written; empty for a range
  // A range: the bounds' numbers and their common unit text ("GHz"; "" for a plain number).
  double lo = 0, hi = 0;
  std::string unit;
  bool integer = false;
  bool log = false;
  size_t steps = 0;  // grid only
};

enum class SweepMethod { kGrid, kRandom, kLatinHypercube };

struct SweepObjective {
  std::string metric;
  bool maximize = true;
  SourceLocation where;
  size_t index = 0;  // into the evaluator's metrics (ResolveSweepMetrics)
};

struct SweepConstraint {
  std::string metric;
  bool at_most = true;  // max: bound; false for min: bound
  std::string bound_text;
  SourceLocation where;
  size_t index = 0;    // ResolveSweepMetrics
  double bound = 0;    // in the metric's base unit (ResolveSweepMetrics)
};

struct SweepSpec {
  std::string file;
  std::string base_kind;  // "design" or "scenario"
  std::string scenario_mode;  // scenario base: "train" or "serve" (the section it has)
  std::vector<std::string> workload_paths;  // design base: the serving scenarios, resolved; empty for none
  std::string base_path;  // resolved against the sweep file's folder
  YAML::Node base;        // the base file, parsed
  SweepMethod method = SweepMethod::kGrid;
  size_t samples = 0;
  uint64_t seed = 1;
  std::vector<SweepParameter> parameters;
  std::vector<SweepObjective> objectives;
  std::vector<SweepConstraint> constraints;
  std::string definition;  // canonical JSON of all the above, stored with the results
  std::string hash;        // of definition + the base file's text: 16 hex digits
};

// Largest number of points a sweep may have (grid or samples): keeps the point list in
// memory (≈ 60 bytes a point for four parameters → 600 MB).
inline constexpr size_t kMaxSweepPoints = 10'000'000;

std::optional<SweepSpec> LoadSweep(const std::string& path, Diagnostics& diag);
// `name` is used in diagnostics and its folder resolves the base path.
std::optional<SweepSpec> LoadSweepText(const std::string& text, const std::string& name, Diagnostics& diag);

// The field paths a base kind accepts as parameters (sections excluded).
std::vector<std::string> KnownFieldPaths(const std::string& base_kind);

// The value text of a parameter at coordinate x (an index into values, or a number in the
// range): "1.65 GHz", "8", "hbm4". Numbers keep 6 significant digits; the text is what
// the point is, since it is what gets loaded.
std::string ParameterValue(const SweepParameter& p, double x);

// The base file's YAML text with the point's values set.
std::string ApplyPoint(const SweepSpec& s, const std::vector<double>& coords);
// The same as a YAML tree (positions of untouched keys are the base file's).
YAML::Node ApplyPointNode(const SweepSpec& s, const std::vector<double>& coords);

// What an evaluator offers to objectives and constraints.
struct MetricInfo {
  std::string name;
  std::optional<Dimension> dimension;  // bounds are parsed as this quantity ("1200 W")
  std::string unit_label;              // else a plain number, optionally followed by this label
};

// Checks every objective's and constraint's metric name (with "did you mean") and parses
// the constraint bounds; fills their index and bound. False after recording problems.
bool ResolveSweepMetrics(SweepSpec& s, const std::vector<MetricInfo>& metrics, Diagnostics& diag);

// FNV-1a, 64 bit (Fowler, Noll, Vo: offset basis 14695981039346656037, prime 1099511628211),
// as 16 hex digits.
std::string Fnv1aHex(const std::string& text);

}  // namespace pf::spec
