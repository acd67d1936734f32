// spec/schema: each spec struct declares its fields once — name, unit, default, allowed
// range, one-line doc — and that one table drives loading (with errors that name file,
// line, column and key path), `pathfinder explain`, and the generated field docs.
//
//   Schema<hw::Hbm> s("hbm");
//   s.Text("generation", &hw::Hbm::generation, "memory generation (a name in data/memory/)")
//    .Integer("stacks", &hw::Hbm::stacks, "HBM stacks on the package", 1, 16)
//    .Quantity("capacity", &hw::Hbm::capacity, "HBM capacity", Bounds<Bytes>::Positive())
//
// Rules enforced here, once, for every spec: unknown keys are errors with a "did you
// mean"; a bare number where a unit is due is an error; a value outside its range is an
// error (never clamped); a map or list where a scalar is due is an error. Every problem is
// recorded in the LoadContext's Diagnostics and loading goes on, so all are reported.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pathfinder/core/diag.h"
#include "pathfinder/core/strings.h"
#include "pathfinder/core/units.h"
#include "pathfinder/core/units_parse.h"

namespace pf::spec {

// Where one resolved value came from: its source text (a datasheet, a paper, a
// measurement), whether the source marks it an estimate, and the file position.
struct Provenance {
  std::string source;
  bool estimate = false;
  SourceLocation where;
};
using ProvenanceMap = std::map<std::string, Provenance>;  // key path → provenance

struct LoadContext {
  std::string file;            // shown in diagnostics
  std::string default_source;  // a file's top-level `source:`, used for values without their own
  Diagnostics* diag = nullptr;
  ProvenanceMap* provenance = nullptr;  // optional

  SourceLocation At(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null()) return {file, 0, 0};
    return {file, m.line + 1, m.column + 1};
  }
  void Error(const YAML::Node& n, const std::string& path, std::string msg) const { diag->Error(At(n), path, std::move(msg)); }
};

// One row of the field table, for `explain` and docs.
struct FieldDoc {
  std::string path;
  std::string unit;     // "size", "bandwidth", "integer", "text", "one of: a, b"
  std::string default_text;
  std::string range;
  std::string doc;
};

// Every quantity, whatever its declared bounds, is zero or within 10^-18 … 10^24 of its
// base unit (aJ to YB, as to size): outside that a value is a typo of prefix or exponent,
// and the simulators' arithmetic in doubles would overflow to inf or lose every digit.
inline constexpr double kMinMagnitude = 1e-18, kMaxMagnitude = 1e24;
inline bool PlausibleMagnitude(double v) {
  const double a = v < 0 ? -v : v;
  return v == 0 || (a >= kMinMagnitude && a <= kMaxMagnitude);
}

template <class Q>
struct Bounds {
  std::optional<double> min, max;  // in base units
  bool min_exclusive = false;
  static Bounds Positive() { return {0.0, std::nullopt, true}; }
  static Bounds NonNegative() { return {0.0, std::nullopt, false}; }
};

// Significant digits used when showing values (explain: 4; --dump-config: 12, so that the
// dump re-loads to the same numbers). Set it with ShowDigitsScope.
inline int& ShowDigits() {
  static thread_local int digits = 4;
  return digits;
}
struct ShowDigitsScope {
  explicit ShowDigitsScope(int d) : saved(ShowDigits()) { ShowDigits() = d; }
  ~ShowDigitsScope() { ShowDigits() = saved; }
  int saved;
};

inline std::string JoinPath(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// A scalar field value may be written plainly (`bandwidth: 3.35 TB/s`) or with its own
// source (`bandwidth: {value: 3.35 TB/s, source: "NVIDIA datasheet", estimate: false}`).
// Returns the node holding the value and records provenance.
YAML::Node UnwrapSourced(const YAML::Node& node, const std::string& path, LoadContext& ctx);

std::string ScalarText(const YAML::Node& node);

template <class T>
class Schema {
 public:
  using Loader = std::function<void(const YAML::Node&, T&, LoadContext&, const std::string&)>;
  using Shower = std::function<void(const T&, const std::string&, std::vector<std::pair<std::string, std::string>>*)>;
  using Describer = std::function<void(const std::string&, std::vector<FieldDoc>*)>;

  explicit Schema(std::string what = "") : what_(std::move(what)) {}

  // ---- Field kinds ------------------------------------------------------------------

  template <class Q, class Access>
  Schema& QuantityField(std::string name, Access access, std::string doc, Bounds<Q> b = {}) {
    const Dimension dim = DimensionOf<Q>::value;
    Field f;
    f.doc = {name, DimensionName(dim).substr(DimensionName(dim).find(' ') + 1), "", RangeText(b, dim), doc};
    f.load = [name, access, b, dim](const YAML::Node& raw, T& out, LoadContext& ctx, const std::string& path) {
      YAML::Node n = UnwrapSourced(raw, path, ctx);
      if (!n.IsScalar()) return ctx.Error(n, path, fmt::format("expected {}, e.g. \"{}\"", DimensionName(dim), DimensionExample(dim)));
      auto r = ParseQuantityValue(ScalarText(n), dim);
      if (!r.ok()) return ctx.Error(n, path, r.error());
      const double v = r.value();
      if (!InRange(v, b)) {
        return ctx.Error(n, path, fmt::format("{} is out of range; allowed: {}", ScalarText(n), RangeText(b, dim)));
      }
      if (!PlausibleMagnitude(v)) {
        const std::string sym = BaseUnitSymbol(dim);
        return ctx.Error(n, path,
                         fmt::format("{} is outside the magnitudes the models work in ({:g} … {:g}{}{}); check the "
                                     "unit prefix and the exponent",
                                     ScalarText(n), kMinMagnitude, kMaxMagnitude, sym.empty() ? "" : " ", sym));
      }
      access(out) = Q(v);
    };
    f.show = [access](const T& t, const std::string& path, auto* rows) {
      const Q q = access(const_cast<T&>(t));
      rows->push_back({path, q.value() == 0 ? "-" : ToString(q, ShowDigits())});
    };
    return Add(std::move(name), std::move(f));
  }
  template <class Q>
  Schema& Quantity(std::string name, Q T::*m, std::string doc, Bounds<Q> b = {}) {
    return QuantityField<Q>(std::move(name), [m](T& t) -> Q& { return t.*m; }, std::move(doc), b);
  }

  template <class Access>
  Schema& IntegerField(std::string name, Access access, std::string doc, long min, long max) {
    Field f;
    f.doc = {name, "integer", "", fmt::format("{} … {}", min, max), doc};
    f.load = [access, min, max](const YAML::Node& raw, T& out, LoadContext& ctx, const std::string& path) {
      YAML::Node n = UnwrapSourced(raw, path, ctx);
      long v = 0;
      if (!n.IsScalar() || !ParseInteger(ScalarText(n), &v)) {
        return ctx.Error(n, path, fmt::format("expected a whole number, got '{}'", n.IsScalar() ? ScalarText(n) : "a map or list"));
      }
      if (v < min || v > max) return ctx.Error(n, path, fmt::format("{} is out of range; allowed: {} … {}", v, min, max));
      access(out) = static_cast<std::remove_reference_t<decltype(access(out))>>(v);
    };
    f.show = [access](const T& t, const std::string& path, auto* rows) {
      rows->push_back({path, fmt::format("{}", access(const_cast<T&>(t)))});
    };
    return Add(std::move(name), std::move(f));
  }
  template <class I>
  Schema& Integer(std::string name, I T::*m, std::string doc, long min, long max) {
    return IntegerField(std::move(name), [m](T& t) -> I& { return t.*m; }, std::move(doc), min, max);
  }

  // A dimensionless number; `unit_label` (e.g. "MTr/mm2") when given must be written after
  // the number, so a value is never read without its meaning.
  template <class Access>
  Schema& NumberField(std::string name, Access access, std::string doc, double min, double max, std::string unit_label = "") {
    Field f;
    f.doc = {name, unit_label.empty() ? "number" : unit_label, "", fmt::format("{} … {}", FormatNumber(min), FormatNumber(max)), doc};
    f.load = [access, min, max, unit_label](const YAML::Node& raw, T& out, LoadContext& ctx, const std::string& path) {
      YAML::Node n = UnwrapSourced(raw, path, ctx);
      if (!n.IsScalar()) return ctx.Error(n, path, "expected a number");
      std::string text = Trim(ScalarText(n));
      if (!unit_label.empty()) {
        if (text.size() <= unit_label.size() || text.compare(text.size() - unit_label.size(), unit_label.size(), unit_label) != 0) {
          return ctx.Error(n, path, fmt::format("{} has no unit; write e.g. \"{} {}\"", text, text, unit_label));
        }
        text = Trim(text.substr(0, text.size() - unit_label.size()));
      }
      double v = 0;
      if (!ParseDouble(text, &v)) return ctx.Error(n, path, fmt::format("expected a number, got '{}'", ScalarText(n)));
      if (v < min || v > max) {
        return ctx.Error(n, path, fmt::format("{} is out of range; allowed: {} … {}", ScalarText(n), FormatNumber(min), FormatNumber(max)));
      }
      access(out) = v;
    };
    f.show = [access, unit_label](const T& t, const std::string& path, auto* rows) {
      const double v = access(const_cast<T&>(t));
      rows->push_back({path, FormatNumber(v, std::max(6, ShowDigits())) + (unit_label.empty() ? "" : " " + unit_label)});
    };
    return Add(std::move(name), std::move(f));
  }
  Schema& Number(std::string name, double T::*m, std::string doc, double min, double max, std::string unit_label = "") {
    return NumberField(std::move(name), [m](T& t) -> double& { return t.*m; }, std::move(doc), min, max, std::move(unit_label));
  }

  Schema& Text(std::string name, std::string T::*m, std::string doc) {
    Field f;
    f.doc = {name, "text", "", "", doc};
    f.load = [m](const YAML::Node& raw, T& out, LoadContext& ctx, const std::string& path) {
      YAML::Node n = UnwrapSourced(raw, path, ctx);
      if (!n.IsScalar()) return ctx.Error(n, path, "expected text");
      out.*m = ScalarText(n);
    };
    f.show = [m](const T& t, const std::string& path, auto* rows) { rows->push_back({path, (t.*m).empty() ? "-" : t.*m}); };
    return Add(std::move(name), std::move(f));
  }

  Schema& TextList(std::string name, std::vector<std::string> T::*m, std::string doc) {
    Field f;
    f.doc = {name, "list of text", "", "", doc};
    f.load = [m](const YAML::Node& n, T& out, LoadContext& ctx, const std::string& path) {
      if (!n.IsSequence()) return ctx.Error(n, path, "expected a list, e.g. [a, b]");
      std::vector<std::string> v;
      for (const auto& e : n) {
        if (!e.IsScalar()) return ctx.Error(e, path, "expected a list of text");
        v.push_back(ScalarText(e));
      }
      out.*m = std::move(v);
    };
    f.show = [m](const T& t, const std::string& path, auto* rows) { rows->push_back({path, Join(t.*m, ", ")}); };
    return Add(std::move(name), std::move(f));
  }

  Schema& Flag(std::string name, bool T::*m, std::string doc) {
    Field f;
    f.doc = {name, "true/false", "", "", doc};
    f.load = [m](const YAML::Node& raw, T& out, LoadContext& ctx, const std::string& path) {
      YAML::Node n = UnwrapSourced(raw, path, ctx);
      const std::string s = n.IsScalar() ? ScalarText(n) : "";
      if (s == "true") out.*m = true;
      else if (s == "false") out.*m = false;
      else ctx.Error(n, path, fmt::format("expected true or false, got '{}'", n.IsScalar() ? s : "a map or list"));
    };
    f.show = [m](const T& t, const std::string& path, auto* rows) { rows->push_back({path, t.*m ? "true" : "false"}); };
    return Add(std::move(name), std::move(f));
  }

  template <class E, class Access>
  Schema& ChoiceField(std::string name, Access access, std::string doc, std::vector<std::pair<std::string, E>> options) {
    std::vector<std::string> names;
    for (auto& o : options) names.push_back(o.first);
    Field f;
    f.doc = {name, "one of: " + Join(names, ", "), "", "", doc};
    f.load = [access, options, names](const YAML::Node& raw, T& out, LoadContext& ctx, const std::string& path) {
      YAML::Node n = UnwrapSourced(raw, path, ctx);
      if (!n.IsScalar()) return ctx.Error(n, path, "expected one of: " + Join(names, ", "));
      const std::string s = ScalarText(n);
      for (auto& [k, v] : options)
        if (k == s) {
          access(out) = v;
          return;
        }
      std::string hint = ClosestMatch(s, names);
      ctx.Error(n, path, fmt::format("unknown value '{}'; {}", s, hint.empty() ? "expected one of: " + Join(names, ", ") : "did you mean '" + hint + "'?"));
    };
    f.show = [access, options](const T& t, const std::string& path, auto* rows) {
      const E v = access(const_cast<T&>(t));
      for (auto& [k, e] : options)
        if (e == v) return rows->push_back({path, k});
      rows->push_back({path, "?"});
    };
    return Add(std::move(name), std::move(f));
  }
  template <class E>
  Schema& Choice(std::string name, E T::*m, std::string doc, std::vector<std::pair<std::string, E>> options) {
    return ChoiceField<E>(std::move(name), [m](T& t) -> E& { return t.*m; }, std::move(doc), std::move(options));
  }

  template <class U, class Access>
  Schema& NestedField(std::string name, Access access, std::shared_ptr<const Schema<U>> sub, std::string doc) {
    Field f;
    f.doc = {name, "section", "", "", doc};
    f.load = [access, sub](const YAML::Node& n, T& out, LoadContext& ctx, const std::string& path) {
      sub->Load(n, access(out), ctx, path);
    };
    f.show = [access, sub](const T& t, const std::string& path, auto* rows) { sub->Show(access(const_cast<T&>(t)), path, rows); };
    f.describe = [sub](const std::string& path, std::vector<FieldDoc>* out) { sub->Describe(path, out); };
    return Add(std::move(name), std::move(f));
  }
  template <class U>
  Schema& Nested(std::string name, U T::*m, std::shared_ptr<const Schema<U>> sub, std::string doc) {
    return NestedField<U>(std::move(name), [m](T& t) -> U& { return t.*m; }, std::move(sub), std::move(doc));
  }

  // Anything else (a list of sections, a map keyed by name): the caller supplies the three
  // functions. `load` must report its own problems through ctx.
  Schema& Custom(std::string name, FieldDoc doc, Loader load, Shower show, Describer describe = nullptr) {
    Field f;
    f.doc = std::move(doc);
    f.doc.path = name;
    f.load = std::move(load);
    f.show = std::move(show);
    f.describe = std::move(describe);
    return Add(std::move(name), std::move(f));
  }

  // Marks the most recently added field as required (checked by CheckRequired after all
  // layers — preset, then overrides — are loaded).
  Schema& Required() {
    fields_.back().second.required = true;
    fields_.back().second.doc.default_text = "required";
    return *this;
  }
  // Records the default shown by `explain` for the most recently added field.
  Schema& Default(std::string text) {
    fields_.back().second.doc.default_text = std::move(text);
    return *this;
  }
  // Keys this section accepts but loads elsewhere (e.g. `preset`, `source`).
  Schema& Reserved(std::string key) {
    reserved_.insert(std::move(key));
    return *this;
  }

  // ---- Use ---------------------------------------------------------------------------

  // Loads the keys present in `node` into `out`; absent keys keep out's current values.
  void Load(const YAML::Node& node, T& out, LoadContext& ctx, const std::string& path) const {
    if (!node.IsMap()) {
      ctx.Error(node, path.empty() ? what_ : path, node.IsNull() ? "expected a section with keys, got nothing" : "expected a section with keys (a map)");
      return;
    }
    std::map<std::string, SourceLocation> seen;  // key → where it was first, to catch a key written twice
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      const std::string kpath = JoinPath(path, key);
      if (auto [it, fresh] = seen.emplace(key, ctx.At(kv.first)); !fresh) {
        ctx.Error(
            kv.first, kpath,
            fmt::format("written twice (first at line {}, column {}); YAML keeps one of them, so delete the other",
                        it->second.line, it->second.column));
        continue;
      }
      if (reserved_.count(key)) continue;
      const Field* f = Find(key);
      if (f == nullptr) {
        std::vector<std::string> names;
        for (auto& [n, _] : fields_) names.push_back(n);
        std::string hint = ClosestMatch(key, names);
        ctx.Error(kv.first, kpath, hint.empty() ? fmt::format("unknown key; known keys here: {}", Join(names, ", "))
                                                : fmt::format("unknown key; did you mean '{}'?", hint));
        continue;
      }
      f->load(kv.second, out, ctx, kpath);
    }
  }

  // Reports each required field that none of the loaded layers set. `layers` are the maps
  // loaded into the value (a preset, then overrides); the error points at `where`.
  void CheckRequired(const std::vector<YAML::Node>& layers, const YAML::Node& where, const std::string& path,
                     LoadContext& ctx) const {
    for (auto& [name, f] : fields_) {
      if (!f.required) continue;
      bool set = false;
      for (const auto& l : layers) set |= l.IsMap() && bool(l[name]);
      if (!set) ctx.Error(where, JoinPath(path, name), fmt::format("missing; add it ({})", f.doc.doc));
    }
  }
  bool IsRequired(const std::string& name) const {
    const Field* f = Find(name);
    return f != nullptr && f->required;
  }

  void Describe(const std::string& prefix, std::vector<FieldDoc>* out) const {
    for (auto& [name, f] : fields_) {
      FieldDoc d = f.doc;
      d.path = JoinPath(prefix, name);
      out->push_back(d);
      if (f.describe) f.describe(d.path, out);
    }
  }

  void Show(const T& value, const std::string& prefix, std::vector<std::pair<std::string, std::string>>* rows) const {
    for (auto& [name, f] : fields_) f.show(value, JoinPath(prefix, name), rows);
  }

  std::vector<std::string> FieldNames() const {
    std::vector<std::string> v;
    for (auto& [n, _] : fields_) v.push_back(n);
    return v;
  }

 private:
  struct Field {
    FieldDoc doc;
    Loader load;
    Shower show;
    Describer describe;
    bool required = false;
  };

  Schema& Add(std::string name, Field f) {
    f.doc.path = name;
    fields_.emplace_back(std::move(name), std::move(f));
    return *this;
  }
  const Field* Find(const std::string& key) const {
    for (auto& [n, f] : fields_)
      if (n == key) return &f;
    return nullptr;
  }

  template <class Q>
  static bool InRange(double v, const Bounds<Q>& b) {
    if (b.min && (b.min_exclusive ? !(v > *b.min) : !(v >= *b.min))) return false;
    if (b.max && !(v <= *b.max)) return false;
    return true;
  }
  template <class Q>
  static std::string RangeText(const Bounds<Q>& b, Dimension dim) {
    const std::string sym = BaseUnitSymbol(dim);
    std::string lo = b.min ? (b.min_exclusive ? "> " : "≥ ") + FormatNumber(*b.min) + (sym.empty() ? "" : " " + sym) : "";
    std::string hi = b.max ? "≤ " + FormatNumber(*b.max) + (sym.empty() ? "" : " " + sym) : "";
    if (!lo.empty() && !hi.empty()) return lo + " and " + hi;
    return lo + hi;
  }
  static bool ParseInteger(const std::string& s, long* out);
  static bool ParseDouble(const std::string& s, double* out);

  std::string what_;
  std::vector<std::pair<std::string, Field>> fields_;
  std::set<std::string> reserved_ = {"source"};
};

bool ParseIntegerText(const std::string& s, long* out);
bool ParseDoubleText(const std::string& s, double* out);

template <class T>
bool Schema<T>::ParseInteger(const std::string& s, long* out) {
  return ParseIntegerText(s, out);
}
template <class T>
bool Schema<T>::ParseDouble(const std::string& s, double* out) {
  return ParseDoubleText(s, out);
}

}  // namespace pf::spec
