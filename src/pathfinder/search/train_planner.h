// search/train_planner: the training parallelism planner. For a model on a cluster of N
// chips it enumerates every layout — TP, PP, virtual stages, CP, DP = N/(TP·PP·CP), EP
// (carved from DP, MoE only), micro-batch size, ZeRO stage, activation recompute, bf16 or
// fp8 — checks the rules frameworks impose, evaluates each valid one with the fast-mode
// training simulator (which also checks the memory fit), and keeps the best by tokens/s.
// Infeasible layouts are counted by reason kind.
//
// Deterministic: candidates are enumerated in a fixed order, evaluated into their own slot
// by the thread pool, and ranked by (tokens/s descending, enumeration index) — the same
// plan for any thread count.
//
// Rules checked before simulating (each a reason in the infeasible counts):
//   * the global batch is a multiple of dp × micro_batch (whole micro-batches per replica);
//   * interleaved schedules (virtual stages > 1) need pp > 1, layers divisible by pp × v,
//     and a micro-batch count divisible by pp (Megatron-LM's schedules.py asserts this);
//   * ZeRO-3 / FSDP is not combined with pipeline parallelism (neither Megatron-LM's FSDP
//     nor DeepSpeed ZeRO-3 supports pp > 1);
//   * stages are split evenly (the base's first/last_stage_layers are for one pp only);
//   * the rest (TP divides heads, EP divides experts, cp divides seq_len, memory fit) is
//     the simulator's own check.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "pathfinder/graph/parallelism.h"
#include "pathfinder/search/pool.h"
#include "pathfinder/train/simulator.h"

namespace pf::search {

// The values each dimension may take. An empty list means "every sensible value":
// tp: divisors of N up to the cluster's scale-up domain (at most 64); pp: divisors of
// N/tp up to the layer count; cp: 1, 2, 4, 8, 16 where they divide; ep: divisors of the
// expert count that divide dp (MoE) or 1; micro_batch: 1, 2, 4, 8; virtual_stages: 1, 2,
// 4; zero_stage: 1 and 3; recompute: none, selective, full; precision: the base's.
struct TrainSpace {
  std::vector<int> tp, pp, cp, ep, virtual_stages, zero_stage;
  std::vector<long> micro_batch;
  std::vector<graph::Recompute> recompute;
  std::vector<DType> precision;
};

struct TrainCandidate {
  graph::Parallelism p;
  train::TrainSettings s;
};

struct PlannedLayout {
  size_t index = 0;  // enumeration order
  TrainCandidate candidate;
  train::TrainResult result;
};

struct TrainPlan {
  long chips = 0;
  size_t enumerated = 0;  // candidates generated (rule violations included)
  size_t simulated = 0;   // candidates that passed the rules and ran the simulator
  size_t feasible = 0;    // simulated, ok and fitting in memory
  std::vector<PlannedLayout> top;  // best first
  std::vector<std::pair<std::string, size_t>> infeasible;  // reason kind → count, most first
  double seconds = 0;     // wall time of the evaluation
};

// Every candidate of the space, in enumeration order (tp slowest … precision fastest).
// `base` supplies everything the space does not vary (seq_len, global_batch, overlap, …).
// A candidate that breaks one of the rules above comes with its reason in `rule`.
struct Enumerated {
  TrainCandidate candidate;
  std::string rule;  // empty = passes the rules
};
std::vector<Enumerated> EnumerateTrainLayouts(const model::Architecture& arch, long chips, int scale_up_domain,
                                              const train::TrainSettings& base, const TrainSpace& space);

// Evaluates every candidate and keeps the `top_k` best that fit. REQUIRES: chips ≥ 1 and
// ≤ the simulator's cluster.
TrainPlan PlanTraining(const train::Simulator& sim, long chips, const train::TrainSettings& base, const TrainSpace& space,
                       size_t top_k, ThreadPool& pool);

}  // namespace pf::search
