// Parsing quantities written as text: "3.35 TB/s", "80 GB", "80 GiB", "989 TFLOP/s",
// "1979 TFLOPS", "700 W", "1.98 GHz", "814 mm2", "$30000", "400 Gb/s" (bits), "3.9 pJ/bit".
//
// Rules: decimal prefixes (k/K, M, G, T, P, E; m, u/µ, n, p, f) everywhere; binary prefixes
// (Ki, Mi, Gi, Ti, Pi) only when written; a lower-case b is a bit, upper-case B a byte.
// A compound unit is "numerator/denominator" (GB/s, pJ/bit, $/GB); "GBps", "Gbps",
// "TFLOPS", "TOPS" are accepted spellings of the same. A bare number is an error: the
// caller must say which unit it meant.
#pragma once

#include <string>
#include <string_view>

#include "pathfinder/core/result.h"
#include "pathfinder/core/units.h"

namespace pf {

struct Dimension {
  int flop = 0, byte = 0, second = 0, joule = 0, area = 0, dollar = 0;
  constexpr bool operator==(const Dimension&) const = default;
};

template <class Q>
struct DimensionOf;
template <int F, int B, int S, int J, int A, int D>
struct DimensionOf<Quantity<F, B, S, J, A, D>> {
  static constexpr Dimension value{F, B, S, J, A, D};
};

// A word for the dimension ("a size", "a bandwidth") and an example ("80 GB").
std::string DimensionName(Dimension d);
std::string DimensionExample(Dimension d);

// Parses `text` as a quantity of dimension `want`; returns the value in base units.
// Error messages are complete sentences without the key path, e.g.
//   "400 has no unit; write e.g. \"400 GB/s\""
//   "unknown unit 'GBs'; did you mean 'GB/s'?"
//   "'80 GB' is a size, but a bandwidth is expected (e.g. \"3.35 TB/s\")"
Result<double> ParseQuantityValue(std::string_view text, Dimension want);

template <class Q>
Result<Q> ParseQuantity(std::string_view text) {
  auto r = ParseQuantityValue(text, DimensionOf<Q>::value);
  if (!r.ok()) return Error{r.error()};
  return Q(r.value());
}

// The canonical unit symbol used when printing in base units ("B", "B/s", "FLOP/s").
std::string BaseUnitSymbol(Dimension d);

}  // namespace pf
