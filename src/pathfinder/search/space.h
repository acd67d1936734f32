// search/space: the parameters of a sweep as numbers, and the point generators over them —
// full grid, seeded uniform random, and seeded Latin hypercube. A point is one coordinate
// per parameter: a value for a numeric range, an index for a list of values. The caller
// (spec/, cli/) turns coordinates back into field values.
//
// Every generator is deterministic: the same parameters, count and seed give the same
// points on every machine (own 64-bit generator and conversions; no std:: distributions,
// whose output differs between standard libraries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pathfinder/core/result.h"

namespace pf::search {

struct Parameter {
  enum class Kind { kValues, kRange };
  std::string name;
  Kind kind = Kind::kRange;
  size_t count = 0;          // kValues: how many values (the coordinate is an index)
  double lo = 0, hi = 0;     // kRange: inclusive bounds
  bool integer = false;      // kRange: whole numbers only
  bool log = false;          // kRange: spaced evenly in log(value); REQUIRES lo > 0
  size_t steps = 0;          // kRange, grid only: values from lo to hi inclusive
};

using Point = std::vector<double>;

enum class Method { kGrid, kRandom, kLatinHypercube };

// Points of the full grid, the first parameter varying slowest. Integer ranges drop
// repeated values. Error when the grid has more than `limit` points.
Result<std::vector<Point>> Grid(const std::vector<Parameter>& params, size_t limit);

// `n` points drawn independently and uniformly (log-uniformly for log ranges).
std::vector<Point> Random(const std::vector<Parameter>& params, size_t n, uint64_t seed);

// `n` points of a Latin hypercube: along each parameter, each of n equal strata holds
// exactly one point (for a list of values, each value is used ⌊n/K⌋ or ⌈n/K⌉ times).
std::vector<Point> LatinHypercube(const std::vector<Parameter>& params, size_t n, uint64_t seed);

// The values a grid takes along one parameter (exposed for tests and --dry-run listings).
std::vector<double> GridValues(const Parameter& p);

// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): small, fast, passes BigCrush, identical on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next();
  double Uniform();                 // [0, 1), 53 random bits
  size_t Below(size_t n);           // [0, n); REQUIRES n > 0
 private:
  uint64_t s_;
};

}  // namespace pf::search
