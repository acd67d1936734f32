// Non-template parts of the schema: sourced values and number parsing.
#include "pathfinder/spec/schema.h"

#include <charconv>
#include <cmath>

namespace pf::spec {

std::string ScalarText(const YAML::Node& node) { return node.IsScalar() ? node.Scalar() : std::string(); }

YAML::Node UnwrapSourced(const YAML::Node& node, const std::string& path, LoadContext& ctx) {
  if (node.IsMap() && node["value"]) {
    Provenance p{ctx.default_source, false, ctx.At(node["value"])};
    for (const auto& kv : node) {
      const std::string k = kv.first.Scalar();
      if (k == "value") continue;
      if (k == "source") {
        p.source = ScalarText(kv.second);
      } else if (k == "estimate") {
        const std::string e = ScalarText(kv.second);
        if (e != "true" && e != "false") ctx.Error(kv.second, path + ".estimate", "expected true or false");
        p.estimate = e == "true";
      } else if (k == "note") {
        if (!p.source.empty()) p.source += "; ";
        p.source += ScalarText(kv.second);
      } else {
        std::string hint = ClosestMatch(k, {"value", "source", "estimate", "note"});
        ctx.Error(kv.first, path + "." + k,
                  hint.empty() ? "unknown key; a sourced value has keys value, source, estimate, note"
                               : "unknown key; did you mean '" + hint + "'?");
      }
    }
    if (ctx.provenance != nullptr) (*ctx.provenance)[path] = p;
    return node["value"];
  }
  if (ctx.provenance != nullptr && !node.IsMap()) (*ctx.provenance)[path] = {ctx.default_source, false, ctx.At(node)};
  return node;
}

bool ParseIntegerText(const std::string& s, long* out) {
  const std::string t = Trim(s);
  if (t.empty()) return false;
  const char* b = t.data();
  const char* e = b + t.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e;
}

bool ParseDoubleText(const std::string& s, double* out) {
  const std::string t = Trim(s);
  if (t.empty()) return false;
  const char* b = t.data();
  const char* e = b + t.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e && std::isfinite(*out);
}

}  // namespace pf::spec
