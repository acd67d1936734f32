// search/objective: what one evaluated point is (feasible or not, why, its metrics), the
// objectives (maximize / minimize a metric) and constraints (a metric ≤ or ≥ a bound) of a
// search, the Pareto front of the feasible points, and infeasible points counted by reason.
//
// Metrics are addressed by index into the search's list of metric names, so evaluating a
// point allocates no map. Infeasibility is a value, never an exception (STYLE: three kinds
// of error).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace pf::search {

struct Evaluation {
  bool feasible = true;
  std::string reason;           // why not, when infeasible (first reason; others in details)
  std::vector<double> metrics;  // one per metric name of the search
  std::string details;          // the full outputs as JSON text, stored as they are
};

enum class Sense { kMaximize, kMinimize };

struct Objective {
  size_t metric = 0;
  Sense sense = Sense::kMaximize;
};

struct Constraint {
  size_t metric = 0;
  bool at_most = true;  // metric ≤ bound; false: metric ≥ bound
  double bound = 0;
  std::string text;     // as the user wrote it, for the reason: "tdp ≤ 1200 W"
};

// Marks `e` infeasible with reason "violates <text> (<value>)" at the first constraint it
// breaks. A point already infeasible keeps its own reason. A NaN metric breaks any
// constraint on it.
void ApplyConstraints(const std::vector<Constraint>& constraints, Evaluation& e);

// True when a is at least as good as b in every objective and better in one.
bool Dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<Objective>& objectives);

// Indices (into `points`) of the feasible points no other feasible point dominates, in
// ascending index order. Equal objective vectors do not dominate each other (both kept).
// Points with a NaN objective are left out. O(n log n + n·|front|).
std::vector<size_t> ParetoFront(const std::vector<Evaluation>& points, const std::vector<Objective>& objectives);

// A reason with its numbers replaced by '#', so "die 900 mm2 > reticle 858 mm2" and
// "die 1020 mm2 > reticle 858 mm2" count as one kind.
std::string ReasonKind(const std::string& reason);

// Infeasible points per reason kind, most frequent first (ties by text).
std::vector<std::pair<std::string, size_t>> CountInfeasible(const std::vector<Evaluation>& points);

}  // namespace pf::search
