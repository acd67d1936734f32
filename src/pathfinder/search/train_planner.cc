// The training parallelism planner (see train_planner.h).
#include "pathfinder/search/train_planner.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "pathfinder/search/ranking.h"

namespace pf::search {

namespace {

std::vector<long> Divisors(long n, long limit) {
  std::vector<long> d;
  for (long i = 1; i <= n && i <= limit; ++i)
    if (n % i == 0) d.push_back(i);
  return d;
}

template <typename T>
std::vector<T> OrDefault(const std::vector<T>& given, std::vector<T> fallback) {
  return given.empty() ? fallback : given;
}

}  // namespace

std::vector<Enumerated> EnumerateTrainLayouts(const model::Architecture& arch, long chips, int scale_up_domain,
                                              const train::TrainSettings& base, const TrainSpace& space) {
  std::vector<Enumerated> out;
  const long tp_limit = std::max(1, std::min(64, scale_up_domain));
  std::vector<long> tps;
  if (space.tp.empty()) {
    tps = Divisors(chips, tp_limit);
  } else {
    for (int t : space.tp) tps.push_back(t);
  }
  const auto micro = OrDefault<long>(space.micro_batch, {1, 2, 4, 8});
  const auto vstages = OrDefault<int>(space.virtual_stages, {1, 2, 4});
  const auto zeros = OrDefault<int>(space.zero_stage, {1, 3});
  const auto recomputes =
      OrDefault<graph::Recompute>(space.recompute, {graph::Recompute::kNone, graph::Recompute::kSelective, graph::Recompute::kFull});
  const auto precisions = OrDefault<DType>(space.precision, {base.precision});
  const bool moe = model::IsMoe(arch);

  for (long tp : tps) {
    if (tp < 1 || chips % tp != 0) continue;
    std::vector<long> pps;
    if (space.pp.empty()) {
      pps = Divisors(chips / tp, arch.layers);
    } else {
      for (int p : space.pp)
        if ((chips / tp) % p == 0) pps.push_back(p);
    }
    for (long pp : pps) {
      const long rest = chips / (tp * pp);
      std::vector<long> cps;
      for (long c : space.cp.empty() ? std::vector<int>{1, 2, 4, 8, 16} : space.cp)
        if (c >= 1 && rest % c == 0) cps.push_back(c);
      for (long cp : cps) {
        const long dp = rest / cp;
        std::vector<long> eps;
        if (!moe) {
          eps = {1};
        } else if (space.ep.empty()) {
          for (long e : Divisors(arch.moe.num_experts, arch.moe.num_experts))
            if (dp % e == 0) eps.push_back(e);
        } else {
          for (int e : space.ep) eps.push_back(e);
        }
        for (long ep : eps) {
          for (long mb : micro) {
            for (int v : vstages) {
              for (int zero : zeros) {
                for (graph::Recompute rc : recomputes) {
                  for (DType prec : precisions) {
                    Enumerated e;
                    graph::Parallelism& p = e.candidate.p;
                    p.tp = int(tp);
                    p.pp = int(pp);
                    p.cp = int(cp);
                    p.dp = int(dp);
                    p.ep = int(ep);
                    p.sequence_parallel = tp > 1;
                    train::TrainSettings& s = e.candidate.s;
                    s = base;
                    s.first_stage_layers = 0;  // even split: an uneven one is specific to one pp
                    s.last_stage_layers = 0;
                    s.micro_batch = mb;
                    s.virtual_stages = v;
                    s.schedule = v > 1 ? train::Schedule::kInterleaved : train::Schedule::k1F1B;
                    s.zero_stage = zero;
                    s.recompute = rc;
                    s.precision = prec;
                    const int64_t global = base.global_batch > 0 ? base.global_batch : dp * mb;
                    const int64_t per_step = dp * mb;
                    if (global % per_step != 0) {
                      e.rule = fmt::format("global batch {} is not a multiple of dp × micro_batch = {}", global, per_step);
                    } else if (v > 1 && pp == 1) {
                      e.rule = "virtual stages need pipeline parallelism (pp > 1)";
                    } else if (v > 1 && arch.layers % (pp * v) != 0) {
                      e.rule = fmt::format("pp × virtual stages = {} does not divide the {} layers", pp * v, arch.layers);
                    } else if (v > 1 && (global / per_step) % pp != 0) {
                      e.rule = fmt::format("interleaved schedule: {} micro-batches is not a multiple of pp = {}",
                                           global / per_step, pp);
                    } else if (zero == 3 && pp > 1) {
                      e.rule = "ZeRO-3 / FSDP with pipeline parallelism (pp > 1) is not supported by Megatron-LM or DeepSpeed";
                    }
                    out.push_back(std::move(e));
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

TrainPlan PlanTraining(const train::Simulator& sim, long chips, const train::TrainSettings& base, const TrainSpace& space,
                       size_t top_k, ThreadPool& pool) {
  const auto t0 = std::chrono::steady_clock::now();
  TrainPlan plan;
  plan.chips = chips;
  const hw::Cluster& cl = sim.network().cluster();
  const int domain = int(std::max<long>(1, std::max<long>(cl.scale_up.chips, cl.server.chips)));
  const std::vector<Enumerated> cands = EnumerateTrainLayouts(sim.arch(), chips, domain, base, space);
  plan.enumerated = cands.size();

  struct TrainSlot : PlanSlot {
    double tokens_per_s = 0;
  };
  std::vector<TrainSlot> slots(cands.size());
  pool.ParallelFor(cands.size(), [&](size_t i) {
    TrainSlot& slot = slots[i];
    if (!cands[i].rule.empty()) {
      slot.Reject(cands[i].rule);
      return;
    }
    slot.simulated = true;
    const train::TrainResult r = sim.Run(cands[i].candidate.p, cands[i].candidate.s, false, /*stop_when_not_fit=*/true);
    if (!r.ok) {
      slot.Reject(r.reason);
    } else if (!r.fits) {
      slot.Reject("does not fit in memory: " + r.memory_fit.reason);
    } else {
      slot.feasible = true;
      slot.tokens_per_s = r.tokens_per_s;
    }
  });

  const Ranking ranked = Rank(slots, top_k, [](const TrainSlot& s) { return s.tokens_per_s; });
  plan.simulated = ranked.simulated;
  plan.feasible = ranked.feasible;
  plan.infeasible = ranked.infeasible;
  for (size_t i : ranked.top) {
    PlannedLayout l;
    l.index = i;
    l.candidate = cands[i].candidate;
    l.result = sim.Run(l.candidate.p, l.candidate.s);
    plan.top.push_back(std::move(l));
  }
  plan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return plan;
}

}  // namespace pf::search
