// Constraints, Pareto front and infeasibility counts (see objective.h).
#include "pathfinder/search/objective.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

namespace pf::search {

void ApplyConstraints(const std::vector<Constraint>& constraints, Evaluation& e) {
  if (!e.feasible) return;
  for (const auto& c : constraints) {
    const double v = c.metric < e.metrics.size() ? e.metrics[c.metric] : NAN;
    const bool ok = c.at_most ? v <= c.bound : v >= c.bound;
    if (!ok) {
      e.feasible = false;
      e.reason = fmt::format("violates {} ({:.4g})", c.text, v);
      return;
    }
  }
}

namespace {
// Objective value oriented so that larger is better.
double Oriented(const std::vector<double>& m, const Objective& o) {
  return o.sense == Sense::kMaximize ? m[o.metric] : -m[o.metric];
}
}  // namespace

bool Dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<Objective>& objectives) {
  bool better = false;
  for (const auto& o : objectives) {
    const double x = Oriented(a, o), y = Oriented(b, o);
    if (x < y) return false;
    if (x > y) better = true;
  }
  return better;
}

std::vector<size_t> ParetoFront(const std::vector<Evaluation>& points, const std::vector<Objective>& objectives) {
  std::vector<size_t> cand;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!p.feasible) continue;
    bool nan = false;
    for (const auto& o : objectives) nan |= o.metric >= p.metrics.size() || std::isnan(p.metrics[o.metric]);
    if (!nan) cand.push_back(i);
  }
  // Lexicographically best first: a point can then be dominated only by one before it, and
  // if by one off the front, then (transitively) by one on it.
  std::stable_sort(cand.begin(), cand.end(), [&](size_t a, size_t b) {
    for (const auto& o : objectives) {
      const double x = Oriented(points[a].metrics, o), y = Oriented(points[b].metrics, o);
      if (x != y) return x > y;
    }
    return false;
  });
  std::vector<size_t> front;
  for (size_t i : cand) {
    bool dominated = false;
    for (size_t f : front)
      if (Dominates(points[f].metrics, points[i].metrics, objectives)) {
        dominated = true;
        break;
      }
    if (!dominated) front.push_back(i);
  }
  std::sort(front.begin(), front.end());
  return front;
}

std::string ReasonKind(const std::string& reason) {
  // ASCII classes inline (as std::isalpha/isdigit in the "C" locale, without the calls:
  // the planners normalize thousands of reasons per plan).
  auto alpha = [](char ch) {
    const unsigned char c = static_cast<unsigned char>(ch) | 0x20;
    return c >= 'a' && c <= 'z';
  };
  auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  std::string out;
  out.reserve(reason.size());
  const size_t n = reason.size();
  auto digit = [&](size_t j) { return j < n && is_digit(reason[j]); };
  for (size_t i = 0; i < n;) {
    const char c = reason[i];
    // A number starts at a digit not glued to a word ("mm2", "hbm4" and "fp8" stay).
    const bool after_word = i > 0 && (alpha(reason[i - 1]) || reason[i - 1] == '_');
    const bool starts_number = !after_word && (is_digit(c) || (c == '.' && digit(i + 1)));
    if (!starts_number) {
      out += reason[i++];
      continue;
    }
    while (i < n) {
      if (digit(i) || (reason[i] == '.' && digit(i + 1))) {
        ++i;
      } else if (reason[i] == 'e' && (digit(i + 1) || (i + 1 < n && (reason[i + 1] == '+' || reason[i + 1] == '-') && digit(i + 2)))) {
        i += digit(i + 1) ? 1 : 2;  // an exponent: 1e9, 2.5e-3
      } else {
        break;
      }
    }
    out += '#';
  }
  return out;
}

std::vector<std::pair<std::string, size_t>> CountInfeasible(const std::vector<Evaluation>& points) {
  std::map<std::string, size_t> counts;
  for (const auto& p : points)
    if (!p.feasible) ++counts[ReasonKind(p.reason)];
  std::vector<std::pair<std::string, size_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

}  // namespace pf::search
