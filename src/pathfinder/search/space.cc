// Point generators: grid, random, Latin hypercube (see space.h).
#include "pathfinder/search/space.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "pathfinder/core/check.h"

namespace pf::search {

uint64_t Rng::Next() {
  // Constants of SplitMix64 as published (Steele et al. 2014; java.util.SplittableRandom).
  uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::Uniform() { return double(Next() >> 11) * 0x1.0p-53; }

size_t Rng::Below(size_t n) {
  PF_CHECK(n > 0, "Rng::Below(0)");
  return size_t(Uniform() * double(n)) % n;
}

namespace {

// Maps u in [0, 1) onto the parameter: an index, or a value in [lo, hi].
double FromUnit(const Parameter& p, double u) {
  if (p.kind == Parameter::Kind::kValues) return double(std::min(p.count - 1, size_t(u * double(p.count))));
  if (p.integer) {
    const double lo = std::ceil(p.lo), hi = std::floor(p.hi);
    if (p.log) return std::min(hi, std::floor(std::exp(std::log(lo) + u * (std::log(hi + 1) - std::log(lo)))));
    return std::min(hi, std::floor(lo + u * (hi - lo + 1)));
  }
  if (p.log) return std::exp(std::log(p.lo) + u * (std::log(p.hi) - std::log(p.lo)));
  return p.lo + u * (p.hi - p.lo);
}

}  // namespace

std::vector<double> GridValues(const Parameter& p) {
  std::vector<double> v;
  if (p.kind == Parameter::Kind::kValues) {
    for (size_t i = 0; i < p.count; ++i) v.push_back(double(i));
    return v;
  }
  const size_t n = std::max<size_t>(1, p.steps);
  for (size_t i = 0; i < n; ++i) {
    const double t = n == 1 ? 0.0 : double(i) / double(n - 1);
    double x = p.log ? std::exp(std::log(p.lo) + t * (std::log(p.hi) - std::log(p.lo))) : p.lo + t * (p.hi - p.lo);
    if (i == n - 1) x = p.hi;  // exact end point, no rounding drift
    if (p.integer) x = std::round(x);
    if (!v.empty() && v.back() == x) continue;
    v.push_back(x);
  }
  return v;
}

Result<std::vector<Point>> Grid(const std::vector<Parameter>& params, size_t limit) {
  std::vector<std::vector<double>> axes;
  double total = 1;
  for (const auto& p : params) {
    axes.push_back(GridValues(p));
    total *= double(axes.back().size());
  }
  if (total > double(limit)) {
    return Error{fmt::format("the grid has {:.0f} points, more than the limit of {}; use method random or lhs", total, limit)};
  }
  std::vector<Point> out;
  out.reserve(size_t(total));
  Point cur(params.size());
  // Odometer over the axes, last axis fastest.
  std::vector<size_t> at(params.size(), 0);
  for (size_t n = 0; n < size_t(total); ++n) {
    for (size_t d = 0; d < params.size(); ++d) cur[d] = axes[d][at[d]];
    out.push_back(cur);
    for (size_t d = params.size(); d-- > 0;) {
      if (++at[d] < axes[d].size()) break;
      at[d] = 0;
    }
  }
  return out;
}

std::vector<Point> Random(const std::vector<Parameter>& params, size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Point> out(n, Point(params.size()));
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 0; d < params.size(); ++d) out[i][d] = FromUnit(params[d], rng.Uniform());
  return out;
}

std::vector<Point> LatinHypercube(const std::vector<Parameter>& params, size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Point> out(n, Point(params.size()));
  std::vector<size_t> perm(n);
  for (size_t d = 0; d < params.size(); ++d) {
    for (size_t i = 0; i < n; ++i) perm[i] = i;
    for (size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.Below(i)]);  // Fisher–Yates
    for (size_t i = 0; i < n; ++i) {
      // A list of values takes each stratum's midpoint, so each value is used ⌊n/K⌋ or ⌈n/K⌉ times.
      const double r = params[d].kind == Parameter::Kind::kValues ? 0.5 : rng.Uniform();
      const double u = (double(perm[i]) + r) / double(n);
      out[i][d] = FromUnit(params[d], u);
    }
  }
  return out;
}

}  // namespace pf::search
