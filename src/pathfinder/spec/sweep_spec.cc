// Loading sweep files and applying their points to the base (see sweep_spec.h).
#include "pathfinder/spec/sweep_spec.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "pathfinder/core/strings.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/econ_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {
namespace {

const std::vector<std::string> kTopKeys = {"source", "design", "scenario", "workload", "method", "samples", "seed", "parameters", "objectives", "constraints"};
const std::vector<std::string> kRangeKeys = {"values", "min", "max", "steps", "integer", "log"};

// Sets `value` at a dotted path of a YAML map, creating maps on the way.
void SetPath(YAML::Node root, const std::string& path, const std::string& value) {
  YAML::Node n = root;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string seg = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      n[seg] = value;
      return;
    }
    YAML::Node child = n[seg];
    if (!child.IsMap()) {
      // A section written as a preset name (`chip: h100-sxm`) becomes {preset: h100-sxm}
      // so that the point overrides one field of the preset.
      const std::string preset = child.IsScalar() ? child.Scalar() : "";
      n[seg] = YAML::Node(YAML::NodeType::Map);
      child = n[seg];
      if (!preset.empty()) child["preset"] = preset;
    }
    n.reset(child);  // reset, not operator= (which would overwrite the node's content)
    start = dot + 1;
  }
}

// What the loader says about `value` as the field `path` of a sweep's base, or nullopt when
// it takes it. Asked twice: in the base file, and in a file holding only that field. A value
// refused in both is wrong whatever the other fields are (a word where a number goes, -1
// chips, a quantity in the wrong unit) and is an error of the sweep file; one refused only
// in the base (tp 3 of a 64-head model) or only alone (prefill replicas beyond the default
// replica count) stays a point the sweep reports as infeasible.
std::optional<std::string> ValueProblem(const std::string& base_kind, const YAML::Node& base, const std::string& name,
                                        const std::string& path, const std::string& value) {
  auto complaint = [&](const YAML::Node& doc) -> std::optional<std::string> {
    YAML::Node root = YAML::Clone(doc);
    SetPath(root, path, value);
    Diagnostics d;
    if (base_kind == "design") {
      YAML::Emitter out;
      out << root;
      LoadDesignText(out.c_str(), name, d);
    } else {
      LoadScenarioNode(root, name, d);
    }
    for (const auto& e : d.entries())
      if (e.severity == Diagnostic::Severity::kError && e.key_path == path) return e.message;
    return std::nullopt;
  };
  if (!base.IsMap()) return std::nullopt;
  auto in_base = complaint(base);
  if (!in_base || !complaint(YAML::Node(YAML::NodeType::Map))) return std::nullopt;
  return in_base;
}

// "1.2 GHz" → 1.2, "GHz"; "$17000" → 17000, "$"; "64" → 64, "". False when no number leads.
bool SplitNumber(const std::string& text, double* v, std::string* unit) {
  std::string t = Trim(text);
  bool dollar = !t.empty() && t[0] == '$';
  if (dollar) t = Trim(t.substr(1));
  const char* b = t.data();
  const char* e = b + t.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *v);
  if (ec != std::errc() || p == b || !std::isfinite(*v)) return false;
  const std::string rest = Trim(std::string(p, e));
  if (dollar && !rest.empty()) return false;
  *unit = dollar ? "$" : rest;
  return true;
}

bool IsWhole(double v) { return std::floor(v) == v && std::fabs(v) < 9e15; }

std::string FormatValue(double v, const std::string& unit, bool integer) {
  std::string num = integer ? fmt::format("{:.0f}", v) : fmt::format("{:.6g}", v);
  if (unit.empty()) return num;
  if (unit == "$") return "$" + num;
  return num + " " + unit;
}

class Parser {
 public:
  Parser(std::string file, Diagnostics& diag) : ctx_{std::move(file), "", &diag, nullptr} {}

  std::optional<SweepSpec> Parse(const YAML::Node& root) {
    Diagnostics& diag = *ctx_.diag;
    const int before = diag.error_count();
    SweepSpec s;
    s.file = ctx_.file;
    for (const auto& kv : root) {
      const std::string k = kv.first.Scalar();
      if (std::find(kTopKeys.begin(), kTopKeys.end(), k) != kTopKeys.end()) continue;
      const std::string hint = ClosestMatch(k, kTopKeys);
      ctx_.Error(kv.first, k, hint.empty() ? "unknown key; a sweep file has keys " + Join(kTopKeys, ", ") : "unknown key; did you mean '" + hint + "'?");
    }
    // The base: a design file or a scenario file, never both.
    const YAML::Node dn = root["design"], sn = root["scenario"];
    if (dn && sn) {
      ctx_.Error(sn, "scenario", "a sweep has one base: design: or scenario:, not both (a design sweep names a serving "
                                 "scenario as workload:)");
    } else if (dn || sn) {
      const std::string kind = dn ? "design" : "scenario";
      const YAML::Node d = dn ? dn : sn;
      if (!d.IsScalar()) {
        ctx_.Error(d, kind, "expected the path of a " + kind + " file");
      } else {
        s.base_kind = kind;
        s.base_path = Resolve(ScalarText(d));
        base_text_ = ReadTextFile(s.base_path, diag);
        if (base_text_) {
          auto n = ParseYaml(*base_text_, s.base_path, diag);
          if (n) s.base = *n;
        }
        if (kind == "scenario" && s.base.IsMap()) {
          const bool tr = bool(s.base["train"]), sv = bool(s.base["serve"]);
          if (tr == sv) {
            ctx_.Error(d, kind, tr ? "the scenario has both a train: and a serve: section; a scenario sweep evaluates one "
                                     "of them: keep one"
                                   : "the scenario has no train: or serve: section; a scenario sweep needs one");
          }
          s.scenario_mode = sv ? "serve" : "train";
        }
      }
    } else {
      ctx_.Error(root, "design", "missing; a sweep needs a base: design: <a design file> or scenario: <a scenario file>");
    }
    if (const YAML::Node w = root["workload"]) {
      if (s.base_kind != "design") {
        if (!s.base_kind.empty()) ctx_.Error(w, "workload", "applies to a design sweep only (design: …); a scenario sweep "
                                                            "varies its scenario's own fields");
      } else if (!w.IsScalar() && !w.IsSequence()) {
        ctx_.Error(w, "workload", "expected the path of a scenario file with a model and a serve: section, or a list of them");
      } else {
        std::vector<YAML::Node> items;
        if (w.IsScalar()) {
          items.push_back(w);
        } else {
          for (const YAML::Node& x : w) items.push_back(x);
          if (items.empty()) ctx_.Error(w, "workload", "an empty list; name at least one serving scenario");
        }
        std::set<std::string> stems;
        for (const YAML::Node& x : items) {
          if (!x.IsScalar()) {
            ctx_.Error(x, "workload", "expected the path of a serving scenario file");
            continue;
          }
          const std::string path = Resolve(ScalarText(x));
          const std::string stem = std::filesystem::path(path).stem().string();
          if (!stems.insert(stem).second) {
            ctx_.Error(x, "workload", fmt::format("two workloads named '{}'; metric names take the file name, so give them different names", stem));
            continue;
          }
          s.workload_paths.push_back(path);
          auto text = ReadTextFile(path, diag);
          workload_texts_ += text.value_or("");
          if (text) {
            auto n = ParseYaml(*text, path, diag);
            if (n && (!n->IsMap() || !(*n)["serve"] || !(*n)["model"]))
              ctx_.Error(x, "workload", fmt::format("'{}' has no model: and serve: sections; a workload is a serving scenario", path));
          }
        }
      }
    }
    // The method.
    bool needs_samples = false;
    if (const YAML::Node m = root["method"]) {
      const std::string v = m.IsScalar() ? ScalarText(m) : "";
      if (v == "grid") s.method = SweepMethod::kGrid;
      else if (v == "random") s.method = SweepMethod::kRandom;
      else if (v == "lhs") s.method = SweepMethod::kLatinHypercube;
      else ctx_.Error(m, "method", fmt::format("unknown method '{}'; expected one of: grid, random, lhs", v));
    }
    needs_samples = s.method != SweepMethod::kGrid;
    if (const YAML::Node n = root["samples"]) {
      long v = 0;
      if (!needs_samples) ctx_.Error(n, "samples", "applies to method random or lhs only (a grid has as many points as its values)");
      else if (!n.IsScalar() || !ParseIntegerText(ScalarText(n), &v) || v < 1 || size_t(v) > kMaxSweepPoints)
        ctx_.Error(n, "samples", fmt::format("expected a whole number from 1 to {}", kMaxSweepPoints));
      else s.samples = size_t(v);
    } else if (needs_samples) {
      ctx_.Error(root, "samples", "missing; method random and lhs need samples: N");
    }
    if (const YAML::Node n = root["seed"]) {
      long v = 0;
      if (!needs_samples) ctx_.Error(n, "seed", "applies to method random or lhs only");
      else if (!n.IsScalar() || !ParseIntegerText(ScalarText(n), &v) || v < 0) ctx_.Error(n, "seed", "expected a whole number ≥ 0");
      else s.seed = uint64_t(v);
    }
    // Parameters.
    const YAML::Node ps = root["parameters"];
    if (!ps || !ps.IsMap() || ps.size() == 0) {
      ctx_.Error(ps ? ps : root, "parameters", "expected a map of field path → {values: [...]} or {min: …, max: …}");
    } else {
      const std::vector<std::string> known = s.base_kind.empty() ? std::vector<std::string>{} : KnownFieldPaths(s.base_kind);
      for (const auto& kv : ps) ParseParameter(kv.first, kv.second, s, known);
    }
    ParseObjectives(root["objectives"], s);
    ParseConstraints(root["constraints"], s);
    if (diag.error_count() != before) return std::nullopt;

    if (s.method == SweepMethod::kGrid) {
      double total = 1;
      for (const auto& p : s.parameters) {
        if (!p.values.empty()) {
          total *= double(p.values.size());
        } else {
          // An upper bound (integer ranges drop repeats); search::Grid enforces the exact count.
          total *= double(p.steps);
        }
      }
      if (total > double(kMaxSweepPoints)) {
        ctx_.Error(ps, "parameters", fmt::format("the grid has up to {:.0f} points, more than {}; use method random or lhs", total, kMaxSweepPoints));
        return std::nullopt;
      }
    }
    Canonicalize(s);
    return s;
  }

 private:
  void ParseParameter(const YAML::Node& key, const YAML::Node& v, SweepSpec& s, const std::vector<std::string>& known) {
    SweepParameter p;
    p.path = key.Scalar();
    p.where = ctx_.At(key);
    const std::string path = "parameters." + p.path;
    if (!known.empty() && !KnownPath(p.path, known)) {
      const std::string hint = ClosestMatch(p.path, known);
      ctx_.Error(key, path, hint.empty() ? fmt::format("unknown field of a {} file", s.base_kind) : fmt::format("unknown field; did you mean '{}'?", hint));
      return;
    }
    for (const auto& q : s.parameters)
      if (q.path == p.path) return ctx_.Error(key, path, "given twice");
    if (!v.IsMap()) return ctx_.Error(v, path, "expected {values: [a, b, ...]} or {min: …, max: …}");
    for (const auto& kv : v) {
      const std::string k = kv.first.Scalar();
      if (std::find(kRangeKeys.begin(), kRangeKeys.end(), k) == kRangeKeys.end()) {
        const std::string hint = ClosestMatch(k, kRangeKeys);
        ctx_.Error(kv.first, path + "." + k, hint.empty() ? "unknown key; expected " + Join(kRangeKeys, ", ") : "unknown key; did you mean '" + hint + "'?");
      }
    }
    const bool grid = s.method == SweepMethod::kGrid;
    if (const YAML::Node vals = v["values"]) {
      for (const char* k : {"min", "max", "steps", "integer", "log"})
        if (v[k]) ctx_.Error(v[k], path + "." + k, "a parameter has either values or a range (min, max), not both");
      if (!vals.IsSequence() || vals.size() == 0) return ctx_.Error(vals, path + ".values", "expected a non-empty list, e.g. [4, 6, 8]");
      for (const auto& e : vals) {
        if (!e.IsScalar()) return ctx_.Error(e, path + ".values", "expected a list of single values");
        p.values.push_back(ScalarText(e));
        CheckValue(e, path + ".values", s, p.path, p.values.back());
      }
      s.parameters.push_back(std::move(p));
      return;
    }
    const YAML::Node mn = v["min"], mx = v["max"];
    if (!mn || !mx) return ctx_.Error(v, path, "expected values: [...] or both min and max");
    std::string ulo, uhi;
    if (!mn.IsScalar() || !SplitNumber(ScalarText(mn), &p.lo, &ulo)) return ctx_.Error(mn, path + ".min", "expected a number with its unit, e.g. \"1.2 GHz\"");
    if (!mx.IsScalar() || !SplitNumber(ScalarText(mx), &p.hi, &uhi)) return ctx_.Error(mx, path + ".max", "expected a number with its unit, e.g. \"2.4 GHz\"");
    if (ulo != uhi) return ctx_.Error(mx, path + ".max", fmt::format("write min and max in the same unit ('{}' and '{}')", ulo, uhi));
    if (!(p.lo <= p.hi)) return ctx_.Error(mx, path + ".max", "max is below min");
    p.unit = ulo;
    p.integer = ulo.empty() && IsWhole(p.lo) && IsWhole(p.hi);
    CheckValue(mn, path + ".min", s, p.path, ScalarText(mn));
    CheckValue(mx, path + ".max", s, p.path, ScalarText(mx));
    if (const YAML::Node n = v["integer"]) {
      const std::string t = n.IsScalar() ? ScalarText(n) : "";
      if (t != "true" && t != "false") return ctx_.Error(n, path + ".integer", "expected true or false");
      p.integer = t == "true";
      if (p.integer && (!IsWhole(p.lo) || !IsWhole(p.hi))) return ctx_.Error(n, path + ".integer", "min and max must be whole numbers");
    }
    if (const YAML::Node n = v["log"]) {
      const std::string t = n.IsScalar() ? ScalarText(n) : "";
      if (t != "true" && t != "false") return ctx_.Error(n, path + ".log", "expected true or false");
      p.log = t == "true";
      if (p.log && !(p.lo > 0)) return ctx_.Error(n, path + ".log", "a log range needs min > 0");
    }
    if (const YAML::Node n = v["steps"]) {
      long st = 0;
      if (!grid) return ctx_.Error(n, path + ".steps", "applies to method grid only (random and lhs draw samples)");
      if (!n.IsScalar() || !ParseIntegerText(ScalarText(n), &st) || st < 1 || st > 1'000'000) {
        return ctx_.Error(n, path + ".steps", "expected a whole number from 1 to 1000000");
      }
      p.steps = size_t(st);
    } else if (grid) {
      if (!p.integer) return ctx_.Error(v, path, "a grid over a range needs steps: N (or give values: [...])");
      p.steps = size_t(p.hi - p.lo) + 1;  // every whole number
    }
    s.parameters.push_back(std::move(p));
  }

  // A value the base's loader refuses whatever the other fields are: an error here, at the
  // value, rather than a sweep of infeasible points.
  void CheckValue(const YAML::Node& at, const std::string& path, const SweepSpec& s, const std::string& field,
                  const std::string& value) {
    if (s.base_kind.empty()) return;
    const std::string name = s.base_kind == "design" ? ctx_.file + " (point)" : s.base_path;
    if (auto m = ValueProblem(s.base_kind, s.base, name, field, value))
      ctx_.Error(at, path, fmt::format("'{}' is not a value of {}: {}", value, field, *m));
  }

  // A path in the sweep file, resolved against the sweep file's folder.
  std::string Resolve(const std::string& text) const {
    const std::filesystem::path rel(text);
    const std::filesystem::path dir = std::filesystem::path(ctx_.file).parent_path();
    return rel.is_absolute() || dir.empty() ? rel.string() : (dir / rel).lexically_normal().string();
  }

  static bool KnownPath(const std::string& path, const std::vector<std::string>& known) {
    return std::find(known.begin(), known.end(), path) != known.end();
  }

  void ParseObjectives(const YAML::Node& n, SweepSpec& s) {
    if (!n) return;
    if (!n.IsSequence()) return ctx_.Error(n, "objectives", "expected a list, e.g. [{maximize: bf16_tflops_per_dollar}]");
    int i = 0;
    for (const auto& e : n) {
      const std::string path = fmt::format("objectives[{}]", i++);
      if (!e.IsMap() || e.size() != 1) {
        ctx_.Error(e, path, "expected one of maximize: <metric> or minimize: <metric>");
        continue;
      }
      const auto kv = *e.begin();
      const std::string k = kv.first.Scalar();
      if (k != "maximize" && k != "minimize") {
        ctx_.Error(kv.first, path + "." + k, "unknown key; expected maximize or minimize");
        continue;
      }
      if (!kv.second.IsScalar()) {
        ctx_.Error(kv.second, path + "." + k, "expected a metric name");
        continue;
      }
      s.objectives.push_back({ScalarText(kv.second), k == "maximize", ctx_.At(kv.second), 0});
    }
  }

  void ParseConstraints(const YAML::Node& n, SweepSpec& s) {
    if (!n) return;
    if (!n.IsSequence()) return ctx_.Error(n, "constraints", "expected a list, e.g. [{metric: tdp, max: 1200 W}]");
    int i = 0;
    for (const auto& e : n) {
      const std::string path = fmt::format("constraints[{}]", i++);
      if (!e.IsMap()) {
        ctx_.Error(e, path, "expected {metric: <name>, max: <bound>} or {metric: <name>, min: <bound>}");
        continue;
      }
      bool ok = true;
      for (const auto& kv : e) {
        const std::string k = kv.first.Scalar();
        if (k != "metric" && k != "max" && k != "min") {
          ctx_.Error(kv.first, path + "." + k, "unknown key; expected metric and one of max, min");
          ok = false;
        }
      }
      const YAML::Node m = e["metric"], mx = e["max"], mn = e["min"];
      if (!m || !m.IsScalar()) {
        ctx_.Error(e, path + ".metric", "missing; name the metric to bound");
        continue;
      }
      if (bool(mx) == bool(mn)) {
        ctx_.Error(e, path, "give exactly one of max: or min:");
        continue;
      }
      const YAML::Node b = mx ? mx : mn;
      if (!b.IsScalar()) {
        ctx_.Error(b, path + (mx ? ".max" : ".min"), "expected a bound, e.g. \"1200 W\"");
        continue;
      }
      if (ok) s.constraints.push_back({ScalarText(m), bool(mx), ScalarText(b), ctx_.At(b), 0, 0});
    }
  }

  void Canonicalize(SweepSpec& s) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : s.parameters) {
      nlohmann::json j = {{"path", p.path}};
      if (!p.values.empty()) {
        j["values"] = p.values;
      } else {
        j["min"] = FormatValue(p.lo, p.unit, false);
        j["max"] = FormatValue(p.hi, p.unit, false);
        j["integer"] = p.integer;
        j["log"] = p.log;
        if (p.steps > 0) j["steps"] = p.steps;
      }
      params.push_back(j);
    }
    nlohmann::json objs = nlohmann::json::array(), cons = nlohmann::json::array();
    for (const auto& o : s.objectives) objs.push_back({{o.maximize ? "maximize" : "minimize", o.metric}});
    for (const auto& c : s.constraints) cons.push_back({{"metric", c.metric}, {c.at_most ? "max" : "min", c.bound_text}});
    const char* method = s.method == SweepMethod::kGrid ? "grid" : s.method == SweepMethod::kRandom ? "random" : "lhs";
    nlohmann::json d = {{"base", {{s.base_kind, s.base_path}}}, {"base_hash", Fnv1aHex(base_text_.value_or(""))},
                        {"method", method}, {"parameters", params}, {"objectives", objs}, {"constraints", cons}};
    if (s.workload_paths.size() == 1) {
      d["workload"] = s.workload_paths.front();
    } else if (!s.workload_paths.empty()) {
      d["workload"] = s.workload_paths;
    }
    if (!s.workload_paths.empty()) d["workload_hash"] = Fnv1aHex(workload_texts_);
    if (s.method != SweepMethod::kGrid) {
      d["samples"] = s.samples;
      d["seed"] = s.seed;
    }
    // The base is named by its content, not its path: the same sweep run from another
    // folder is the same sweep; an edited base is not.
    nlohmann::json h = d;
    h["base"] = s.base_kind;
    h.erase("workload");
    s.definition = d.dump();
    s.hash = Fnv1aHex(h.dump());
  }

  LoadContext ctx_;
  std::optional<std::string> base_text_;
  std::string workload_texts_;  // every workload file's text, in order (for the hash)
};

}  // namespace

std::string Fnv1aHex(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

std::vector<std::string> KnownFieldPaths(const std::string& base_kind) {
  std::vector<FieldDoc> docs;
  if (base_kind == "design") {
    DesignSchema().Describe("", &docs);
    EconSchema().Describe("econ", &docs);
  } else if (base_kind == "scenario") {
    docs = DescribeScenario();
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    if (d.path.find("[]") != std::string::npos) continue;
    const bool has_children = i + 1 < docs.size() && docs[i + 1].path.rfind(d.path + ".", 0) == 0;
    if (d.unit == "section" && has_children) continue;
    out.push_back(d.path);
  }
  // Sections loaded by custom code list no children; their fields by hand (design_spec.cc).
  if (base_kind == "design") {
    for (const char* sec : {"design.scale_up", "design.scale_out"})
      for (const char* f : {"name", "lanes", "lane_rate", "domain", "link"}) out.push_back(std::string(sec) + "." + f);
    for (const char* t : {"bf16", "fp16", "fp8", "int8", "fp4", "tf32", "fp32", "fp64"}) out.push_back(std::string("design.matrix.dtypes.") + t);
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const std::string& p) { return p == "design.scale_up" || p == "design.scale_out" || p == "design.matrix.dtypes"; }), out.end());
  return out;
}

std::string ParameterValue(const SweepParameter& p, double x) {
  if (!p.values.empty()) return p.values[std::min(p.values.size() - 1, size_t(x))];
  return FormatValue(x, p.unit, p.integer);
}

YAML::Node ApplyPointNode(const SweepSpec& s, const std::vector<double>& coords) {
  YAML::Node root = YAML::Clone(s.base);
  for (size_t i = 0; i < s.parameters.size(); ++i) SetPath(root, s.parameters[i].path, ParameterValue(s.parameters[i], coords[i]));
  return root;
}

std::string ApplyPoint(const SweepSpec& s, const std::vector<double>& coords) {
  YAML::Emitter out;
  out << ApplyPointNode(s, coords);
  return out.c_str();
}

bool ResolveSweepMetrics(SweepSpec& s, const std::vector<MetricInfo>& metrics, Diagnostics& diag) {
  const int before = diag.error_count();
  std::vector<std::string> names;
  for (const auto& m : metrics) names.push_back(m.name);
  auto find = [&](const std::string& name, const SourceLocation& where, const std::string& path) -> const MetricInfo* {
    for (size_t i = 0; i < metrics.size(); ++i)
      if (metrics[i].name == name) return &metrics[i];
    const std::string hint = ClosestMatch(name, names);
    diag.Error(where, path, hint.empty() ? fmt::format("unknown metric '{}'; metrics: {}", name, Join(names, ", "))
                                         : fmt::format("unknown metric '{}'; did you mean '{}'?", name, hint));
    return nullptr;
  };
  for (size_t i = 0; i < s.objectives.size(); ++i) {
    auto& o = s.objectives[i];
    if (const MetricInfo* m = find(o.metric, o.where, fmt::format("objectives[{}]", i))) o.index = size_t(m - metrics.data());
  }
  for (size_t i = 0; i < s.constraints.size(); ++i) {
    auto& c = s.constraints[i];
    const std::string path = fmt::format("constraints[{}].{}", i, c.at_most ? "max" : "min");
    const MetricInfo* m = find(c.metric, c.where, fmt::format("constraints[{}].metric", i));
    if (m == nullptr) continue;
    c.index = size_t(m - metrics.data());
    if (m->dimension) {
      auto r = ParseQuantityValue(c.bound_text, *m->dimension);
      if (!r.ok()) diag.Error(c.where, path, r.error());
      else c.bound = r.value();
      continue;
    }
    std::string t = Trim(c.bound_text);
    if (!m->unit_label.empty() && t.size() > m->unit_label.size() && t.compare(t.size() - m->unit_label.size(), m->unit_label.size(), m->unit_label) == 0) {
      t = Trim(t.substr(0, t.size() - m->unit_label.size()));
    }
    if (!ParseDoubleText(t, &c.bound)) {
      diag.Error(c.where, path, fmt::format("expected a number{}, got '{}'", m->unit_label.empty() ? "" : " in " + m->unit_label, c.bound_text));
    }
  }
  return diag.error_count() == before;
}

std::optional<SweepSpec> LoadSweepText(const std::string& text, const std::string& name, Diagnostics& diag) {
  auto root = ParseYaml(text, name, diag);
  if (!root) return std::nullopt;
  return Parser(name, diag).Parse(*root);
}

std::optional<SweepSpec> LoadSweep(const std::string& path, Diagnostics& diag) {
  auto text = ReadTextFile(path, diag);
  if (!text) return std::nullopt;
  return LoadSweepText(*text, path, diag);
}

}  // namespace pf::spec
