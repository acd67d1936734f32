// The serving planner (see serve_planner.h).
#include "pathfinder/search/serve_planner.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "pathfinder/search/ranking.h"
#include "pathfinder/serve/iteration_cost.h"

namespace pf::search {

namespace {

template <typename T>
void AddUnique(std::vector<T>& v, T x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

}  // namespace

long ReplicasFor(double demand, double rate_per_replica) {
  if (rate_per_replica <= 0) return 0;
  return long(std::ceil(demand / rate_per_replica - 1e-9));
}

ServePlan PlanServing(const ops::OpModel& op, const model::Architecture& arch, const comm::Network* net,
                      int scale_up_domain, const serve::ServeSettings& base, const ServeSpace& space, size_t top_k,
                      ThreadPool& pool) {
  const auto t0 = std::chrono::steady_clock::now();
  ServePlan plan;
  const int domain = std::max(1, scale_up_domain);
  std::vector<int> tps = space.tp;
  if (tps.empty())
    for (int t = 1; t <= std::max(8, domain) && t <= 64; t *= 2) tps.push_back(t);
  const std::vector<int> pps = space.pp.empty() ? std::vector<int>{1, 2, 4} : space.pp;
  std::vector<long> batches = space.max_batch;
  if (batches.empty()) {
    for (long b : {64L, 128L, 256L, 512L}) AddUnique(batches, b);
    AddUnique(batches, base.engine.max_batch);
    std::sort(batches.begin(), batches.end());
  }
  const std::vector<long> tokens = space.max_tokens.empty() ? std::vector<long>{base.engine.max_tokens} : space.max_tokens;
  const bool moe = model::IsMoe(arch);

  struct Cand {
    ServeCandidate c;
    std::string rule;
  };
  std::vector<Cand> cands;
  for (int tp : tps) {
    for (int pp : pps) {
      std::vector<int> eps = space.ep;
      if (eps.empty()) {
        eps = {1};
        if (moe && tp * pp > 1) eps.push_back(tp * pp);
      }
      for (int ep : eps) {
        for (long mb : batches) {
          for (long mt : tokens) {
            Cand k;
            k.c.p.tp = tp;
            k.c.p.pp = pp;
            k.c.p.ep = ep;
            k.c.p.dp = 1;
            k.c.s = base;
            k.c.s.engine.replicas = 1;
            k.c.s.engine.disaggregated = false;
            k.c.s.engine.prefill_replicas = 0;
            k.c.s.engine.max_batch = mb;
            k.c.s.engine.max_tokens = mt;
            const auto problems = graph::Validate(k.c.p, arch);
            if (!problems.empty()) {
              k.rule = problems.front().message;
            } else if (tp > domain) {
              k.rule = fmt::format("tp = {} spans more than one scale-up domain ({} chips)", tp, domain);
            } else if (ep > 1 && (!moe || ep > tp * pp)) {
              k.rule = moe ? fmt::format("ep = {} exceeds the replica's {} chips", ep, tp * pp)
                           : std::string("ep > 1 needs a mixture-of-experts model");
            } else if (net != nullptr && long(tp) * pp > net->chips()) {
              k.rule = fmt::format("a replica of {} chips exceeds the cluster's {}", tp * pp, net->chips());
            }
            cands.push_back(std::move(k));
          }
        }
      }
    }
  }
  plan.enumerated = cands.size();

  struct ServeSlot : PlanSlot {
    std::optional<PlannedReplica> replica;
  };
  std::vector<ServeSlot> slots(cands.size());
  pool.ParallelFor(cands.size(), [&](size_t i) {
    ServeSlot& slot = slots[i];
    if (!cands[i].rule.empty()) {
      slot.Reject(cands[i].rule);
      return;
    }
    const ServeCandidate& c = cands[i].c;
    serve::IterationCostModel cost(op, arch, c.p, c.s, net);
    if (!cost.memory().fits) {
      slot.Reject(fmt::format("weights {} + activations {} per chip leave no room for KV cache in {}",
                              ToString(cost.memory().weights), ToString(cost.memory().activations),
                              ToString(cost.memory().hbm)));
      return;
    }
    slot.simulated = true;
    PlannedReplica r;
    r.index = i;
    r.candidate = c;
    r.chips = cost.chips();
    r.memory = cost.memory();
    r.max_rate = serve::FindMaxRate(c.s, cost, 0.03);
    r.rate_per_chip = r.max_rate.rate / double(r.chips);
    if (r.max_rate.rate <= 0) {
      slot.Reject("misses the SLOs even at 1 % of its offline throughput");
      return;
    }
    slot.feasible = true;
    slot.replica = std::move(r);
  });

  const Ranking ranked = Rank(slots, top_k, [](const ServeSlot& s) { return s.replica->rate_per_chip; });
  plan.simulated = ranked.simulated;
  plan.feasible = ranked.feasible;
  plan.infeasible = ranked.infeasible;
  for (size_t i : ranked.top) plan.top.push_back(*slots[i].replica);
  plan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return plan;
}

}  // namespace pf::search
