// Printing and parsing of quantities (see units.h and units_parse.h).
#include <fmt/core.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <vector>

#include "pathfinder/core/strings.h"
#include "pathfinder/core/units.h"
#include "pathfinder/core/units_parse.h"

namespace pf {

std::string FormatNumber(double v, int digits) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v == 0) return "0";
  std::string s = fmt::format("{:.{}g}", v, digits);
  // %g may choose exponent form for large values; prefer plain digits up to 1e15.
  if (s.find('e') != std::string::npos && std::fabs(v) >= 1 && std::fabs(v) < 1e15) {
    int int_digits = int(std::floor(std::log10(std::fabs(v)))) + 1;
    int decimals = std::max(0, digits - int_digits);
    s = fmt::format("{:.{}f}", v, decimals);
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
  }
  return s;
}

namespace {

struct Prefix {
  double factor;
  const char* symbol;
};

// Picks the largest prefix with |v|/factor ≥ 1 (falling back to the smallest); zero and
// non-finite values take no prefix ("0 B", not "0 EB").
std::string WithPrefix(double v, const std::vector<Prefix>& prefixes, std::string_view unit, int digits) {
  if (v == 0 || !std::isfinite(v)) return FormatNumber(v, digits) + " " + std::string(unit);
  const Prefix* chosen = &prefixes.back();
  for (const auto& p : prefixes) {
    if (std::fabs(v) >= p.factor * 0.9995) {
      chosen = &p;
      break;
    }
  }
  return FormatNumber(v / chosen->factor, digits) + " " + chosen->symbol + std::string(unit);
}

const std::vector<Prefix> kBig = {{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}};
const std::vector<Prefix> kBigSmall = {{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"},
                                       {1, ""},     {1e-3, "m"}, {1e-6, "u"},  {1e-9, "n"}, {1e-12, "p"}, {1e-15, "f"}};
const std::vector<Prefix> kBytePrefixes = {{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "K"}, {1, ""}};

}  // namespace

std::string ToString(Flops q, int d) { return WithPrefix(q.value(), kBig, "FLOP", d); }
std::string ToString(Bytes q, int d) { return WithPrefix(q.value(), kBytePrefixes, "B", d); }
std::string ToString(Seconds q, int d) {
  const double v = q.value();
  if (std::fabs(v) >= 2 * 86400.0) return FormatNumber(v / 86400.0, d) + " days";
  if (std::fabs(v) >= 2 * 3600.0) return FormatNumber(v / 3600.0, d) + " h";
  if (std::fabs(v) >= 120.0) return FormatNumber(v / 60.0, d) + " min";
  static const std::vector<Prefix> p = {{1, ""}, {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}};
  return WithPrefix(v, p, "s", d);
}
std::string ToString(Joules q, int d) { return WithPrefix(q.value(), kBigSmall, "J", d); }
std::string ToString(SquareMillimeters q, int d) { return FormatNumber(q.value(), d) + " mm2"; }
std::string ToString(Dollars q, int d) {
  const double v = q.value();
  const double a = std::fabs(v);
  std::string sign = v < 0 ? "-" : "";
  if (a >= 1e9) return sign + "$" + FormatNumber(a / 1e9, d) + "B";
  if (a >= 1e6) return sign + "$" + FormatNumber(a / 1e6, d) + "M";
  if (a >= 1e4) return sign + "$" + FormatNumber(a / 1e3, d) + "k";
  return sign + "$" + FormatNumber(a, d);
}
std::string ToString(FlopsPerSec q, int d) { return WithPrefix(q.value(), kBig, "FLOP/s", d); }
std::string ToString(BytesPerSec q, int d) { return WithPrefix(q.value(), kBytePrefixes, "B/s", d); }
std::string ToString(Watts q, int d) { return WithPrefix(q.value(), kBigSmall, "W", d); }
std::string ToString(Hertz q, int d) { return WithPrefix(q.value(), kBig, "Hz", d); }
std::string ToString(JoulesPerByte q, int d) { return WithPrefix(q.value() / 8.0, kBigSmall, "J/bit", d); }
std::string ToString(JoulesPerFlop q, int d) { return WithPrefix(q.value(), kBigSmall, "J/FLOP", d); }
std::string ToString(DollarsPerSquareMm q, int d) { return "$" + FormatNumber(q.value(), d) + "/mm2"; }
std::string ToString(DollarsPerByte q, int d) { return "$" + FormatNumber(q.value() * 1e9, d) + "/GB"; }

// ---------------------------------------------------------------------------------------
// Parsing.

namespace {

struct UnitDef {
  Dimension dim;
  double factor;  // base units per one of this unit
};

Dimension Add(Dimension a, Dimension b) {
  return {a.flop + b.flop, a.byte + b.byte, a.second + b.second, a.joule + b.joule, a.area + b.area, a.dollar + b.dollar};
}
Dimension Neg(Dimension a) { return {-a.flop, -a.byte, -a.second, -a.joule, -a.area, -a.dollar}; }

constexpr Dimension kFlopD{1, 0, 0, 0, 0, 0};
constexpr Dimension kByteD{0, 1, 0, 0, 0, 0};
constexpr Dimension kSecondD{0, 0, 1, 0, 0, 0};
constexpr Dimension kJouleD{0, 0, 0, 1, 0, 0};
constexpr Dimension kAreaD{0, 0, 0, 0, 1, 0};
constexpr Dimension kDollarD{0, 0, 0, 0, 0, 1};
constexpr Dimension kWattD{0, 0, -1, 1, 0, 0};
constexpr Dimension kHertzD{0, 0, -1, 0, 0, 0};

// Simple (non-compound) units: every spelling the parser accepts.
const std::map<std::string, UnitDef>& SimpleUnits() {
  static const std::map<std::string, UnitDef> table = [] {
    std::map<std::string, UnitDef> t;
    const std::vector<std::pair<std::string, double>> big = {{"", 1},     {"k", 1e3},  {"K", 1e3},  {"M", 1e6},
                                                             {"G", 1e9},  {"T", 1e12}, {"P", 1e15}, {"E", 1e18}};
    const std::vector<std::pair<std::string, double>> small = {{"m", 1e-3},  {"u", 1e-6},   {"µ", 1e-6},
                                                               {"n", 1e-9},  {"p", 1e-12},  {"f", 1e-15}};
    const std::vector<std::pair<std::string, double>> binary = {
        {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}};
    for (auto& [p, f] : big) {
      t[p + "B"] = {kByteD, f};
      t[p + "b"] = {kByteD, f / 8.0};
      t[p + "bit"] = {kByteD, f / 8.0};
      t[p + "FLOP"] = {kFlopD, f};
      t[p + "OP"] = {kFlopD, f};
      t[p + "J"] = {kJouleD, f};
      t[p + "Wh"] = {kJouleD, f * 3600.0};
      t[p + "W"] = {kWattD, f};
      t[p + "Hz"] = {kHertzD, f};
    }
    for (auto& [p, f] : binary) {
      t[p + "B"] = {kByteD, f};
      t[p + "b"] = {kByteD, f / 8.0};
    }
    for (auto& [p, f] : small) {
      t[p + "s"] = {kSecondD, f};
      t[p + "J"] = {kJouleD, f};
      t[p + "W"] = {kWattD, f};
    }
    t.erase("kb");  // "kb" is too easily read as kilobyte; write "Kb" or "kbit"
    t["kbit"] = {kByteD, 1e3 / 8.0};
    t["byte"] = t["bytes"] = {kByteD, 1};
    t["bits"] = {kByteD, 1.0 / 8.0};
    t["s"] = t["sec"] = {kSecondD, 1};
    t["min"] = {kSecondD, 60};
    t["h"] = t["hour"] = t["hours"] = {kSecondD, 3600};
    t["day"] = t["days"] = {kSecondD, 86400};
    t["year"] = t["years"] = t["yr"] = {kSecondD, 365.25 * 86400};
    t["mm2"] = t["mm^2"] = t["mm²"] = {kAreaD, 1};
    t["cm2"] = t["cm^2"] = t["cm²"] = {kAreaD, 100};
    t["um2"] = t["um^2"] = t["µm2"] = t["µm²"] = {kAreaD, 1e-6};
    t["$"] = t["USD"] = {kDollarD, 1};
    return t;
  }();
  return table;
}

// Rewrites accepted shorthand ("TFLOPS", "TOPS", "GBps", "Gbps") to numerator/denominator.
std::string Canonical(std::string u) {
  auto ends = [&](std::string_view suf) { return u.size() > suf.size() && u.compare(u.size() - suf.size(), suf.size(), suf) == 0; };
  if (u == "FLOPS" || ends("FLOPS")) return u.substr(0, u.size() - 1) + "/s";
  if (u == "OPS" || ends("OPS")) return u.substr(0, u.size() - 1) + "/s";
  if (ends("Bps") || ends("bps")) return u.substr(0, u.size() - 2) + "/s";
  return u;
}

bool Lookup(const std::string& u, UnitDef* out) {
  const auto& t = SimpleUnits();
  auto it = t.find(u);
  if (it == t.end()) return false;
  *out = it->second;
  return true;
}

std::vector<std::string> AllSpellings() {
  std::vector<std::string> out;
  for (auto& [k, v] : SimpleUnits()) out.push_back(k);
  for (const char* c : {"GB/s", "TB/s", "MB/s", "Gb/s", "GiB/s", "TFLOP/s", "PFLOP/s", "GFLOP/s", "TFLOPS", "PFLOPS", "TOPS",
                        "GBps", "Gbps", "TBps", "pJ/bit", "pJ/B", "pJ/FLOP", "$/GB", "$/mm2", "$/kWh"})
    out.push_back(c);
  return out;
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string clean;
  for (char c : s)
    if (c != ',' && c != '_') clean += c;
  const char* b = clean.data();
  const char* e = b + clean.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e && std::isfinite(*out);
}

}  // namespace

std::string DimensionName(Dimension d) {
  static const std::vector<std::pair<Dimension, const char*>> names = {
      {kFlopD, "a FLOP count"},
      {kByteD, "a size"},
      {kSecondD, "a time"},
      {kJouleD, "an energy"},
      {kAreaD, "an area"},
      {kDollarD, "a cost"},
      {Dimension{1, 0, -1, 0, 0, 0}, "a FLOP rate"},
      {Dimension{0, 1, -1, 0, 0, 0}, "a bandwidth"},
      {kWattD, "a power"},
      {kHertzD, "a frequency"},
      {Dimension{0, -1, 0, 1, 0, 0}, "an energy per bit"},
      {Dimension{-1, 0, 0, 1, 0, 0}, "an energy per FLOP"},
      {Dimension{0, 0, 0, 0, -1, 1}, "a cost per area"},
      {Dimension{0, -1, 0, 0, 0, 1}, "a cost per byte"},
      {Dimension{0, 0, 0, -1, 0, 1}, "an energy price"},
  };
  for (auto& [dim, n] : names)
    if (dim == d) return n;
  return "a dimensionless number";
}

std::string DimensionExample(Dimension d) {
  static const std::vector<std::pair<Dimension, const char*>> ex = {
      {kFlopD, "2 PFLOP"},
      {kByteD, "80 GB"},
      {kSecondD, "1.5 ms"},
      {kJouleD, "3.6 MJ"},
      {kAreaD, "814 mm2"},
      {kDollarD, "$30000"},
      {Dimension{1, 0, -1, 0, 0, 0}, "989 TFLOP/s"},
      {Dimension{0, 1, -1, 0, 0, 0}, "3.35 TB/s"},
      {kWattD, "700 W"},
      {kHertzD, "1.98 GHz"},
      {Dimension{0, -1, 0, 1, 0, 0}, "3.9 pJ/bit"},
      {Dimension{-1, 0, 0, 1, 0, 0}, "0.5 pJ/FLOP"},
      {Dimension{0, 0, 0, 0, -1, 1}, "$0.2/mm2"},
      {Dimension{0, -1, 0, 0, 0, 1}, "$7/GB"},
      {Dimension{0, 0, 0, -1, 0, 1}, "$0.08/kWh"},
  };
  for (auto& [dim, e] : ex)
    if (dim == d) return e;
  return "1";
}

std::string BaseUnitSymbol(Dimension d) {
  if (d == Dimension{0, 1, -1, 0, 0, 0}) return "B/s";
  if (d == Dimension{1, 0, -1, 0, 0, 0}) return "FLOP/s";
  if (d == kWattD) return "W";
  if (d == kHertzD) return "Hz";
  if (d == kByteD) return "B";
  if (d == kFlopD) return "FLOP";
  if (d == kSecondD) return "s";
  if (d == kJouleD) return "J";
  if (d == kAreaD) return "mm2";
  if (d == kDollarD) return "$";
  return "";
}

Result<double> ParseQuantityValue(std::string_view raw, Dimension want) {
  const std::string text = Trim(raw);
  const std::string example = DimensionExample(want);
  if (text.empty()) return Error{fmt::format("empty value; write e.g. \"{}\"", example)};

  std::string s = text;
  double dollar_prefix = 0;  // "$30000", "$1.5M", "$7/GB"
  if (s[0] == '$') {
    s = Trim(s.substr(1));
    dollar_prefix = 1;
  }
  // Split the leading number from the unit.
  size_t i = 0;
  auto is_num_char = [&](size_t k) {
    char c = s[k];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == ',' || c == '_') return true;
    if ((c == '-' || c == '+') && (k == 0 || s[k - 1] == 'e' || s[k - 1] == 'E')) return true;
    if ((c == 'e' || c == 'E') && k > 0 && k + 1 < s.size() &&
        (std::isdigit(static_cast<unsigned char>(s[k + 1])) || s[k + 1] == '-' || s[k + 1] == '+') &&
        std::isdigit(static_cast<unsigned char>(s[k - 1])))
      return true;
    return false;
  };
  while (i < s.size() && is_num_char(i)) ++i;
  double number = 0;
  if (!ParseNumber(s.substr(0, i), &number)) {
    return Error{fmt::format("'{}' is not a number with a unit; write e.g. \"{}\"", text, example)};
  }
  std::string unit = Trim(s.substr(i));
  if (dollar_prefix != 0) {
    // "$1.5M" / "$2k" / "$30000" / "$7/GB": the dollar sign is the numerator.
    double scale = 1;
    if (!unit.empty() && (unit[0] == 'k' || unit[0] == 'K' || unit[0] == 'M' || unit[0] == 'B') &&
        (unit.size() == 1 || unit[1] == '/')) {
      scale = unit[0] == 'M' ? 1e6 : unit[0] == 'B' ? 1e9 : 1e3;
      unit = unit.substr(1);
    }
    number *= scale;
    unit = "$" + unit;
  }
  if (unit.empty()) {
    if (want == Dimension{}) return number;
    return Error{fmt::format("{} has no unit; write e.g. \"{}\"", text, example)};
  }
  const std::string canon = Canonical(unit);
  UnitDef def;
  const size_t slash = canon.find('/');
  bool known = false;
  if (slash == std::string::npos) {
    known = Lookup(canon, &def);
  } else {
    UnitDef num, den;
    if (Lookup(Trim(canon.substr(0, slash)), &num) && Lookup(Trim(canon.substr(slash + 1)), &den)) {
      def = {Add(num.dim, Neg(den.dim)), num.factor / den.factor};
      known = true;
    }
  }
  if (!known) {
    std::string hint = ClosestMatch(unit, AllSpellings());
    if (!hint.empty()) return Error{fmt::format("unknown unit '{}' in '{}'; did you mean '{}'?", unit, text, hint)};
    return Error{fmt::format("unknown unit '{}' in '{}'; write e.g. \"{}\"", unit, text, example)};
  }
  if (!(def.dim == want)) {
    return Error{fmt::format("'{}' is {}, but {} is expected (e.g. \"{}\")", text, DimensionName(def.dim), DimensionName(want),
                             example)};
  }
  return number * def.factor;
}

}  // namespace pf
