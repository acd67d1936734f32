// search/ranking: how a planner turns its evaluated slots (one per candidate, filled by
// the thread pool) into a plan — the best `top_k` feasible candidates by a score, highest
// first, ties by candidate index (so the ranking never depends on the thread count), and
// the infeasible ones counted per reason, most frequent first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pathfinder/search/objective.h"

namespace pf::search {

// What every planner slot holds; a planner's own slot adds its result. A rejected
// candidate keeps its reason as a kind (ReasonKind: numbers → '#'), so the workers do that
// work in parallel and Rank only counts.
struct PlanSlot {
  bool simulated = false, feasible = false;
  std::string reason;
  void Reject(const std::string& why) { reason = ReasonKind(why); }
};

struct Ranking {
  std::vector<size_t> top;  // slot indices, best first
  size_t simulated = 0, feasible = 0;
  std::vector<std::pair<std::string, size_t>> infeasible;
};

// S: a PlanSlot with its planner's result. score(slot) → double.
template <class S, class Score>
Ranking Rank(const std::vector<S>& slots, size_t top_k, Score score) {
  Ranking r;
  std::vector<size_t> order;
  std::map<std::string, size_t> counts;
  for (size_t i = 0; i < slots.size(); ++i) {
    r.simulated += slots[i].simulated;
    if (slots[i].feasible) {
      order.push_back(i);
    } else {
      ++counts[slots[i].reason];
    }
  }
  r.feasible = order.size();
  const size_t k = std::min(top_k, order.size());
  std::partial_sort(order.begin(), order.begin() + long(k), order.end(), [&](size_t a, size_t b) {
    const double sa = score(slots[a]), sb = score(slots[b]);
    if (sa != sb) return sa > sb;
    return a < b;
  });
  order.resize(k);
  r.top = std::move(order);
  r.infeasible.assign(counts.begin(), counts.end());
  std::stable_sort(r.infeasible.begin(), r.infeasible.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return r;
}

}  // namespace pf::search
