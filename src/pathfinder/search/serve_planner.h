// search/serve_planner: the serving planner. For a model on one kind of chip it enumerates
// replica shapes — TP, PP, EP (MoE only), max batch and max tokens per iteration — and for
// each finds the highest Poisson arrival rate one replica sustains within the SLOs
// (serve::FindMaxRate, a bisection of whole serving simulations), then ranks the shapes
// by goodput per chip: that rate divided by the replica's chips. With a demand (requests/s)
// it answers how many replicas, chips and servers of that shape the demand needs.
//
// Deterministic like the training planner: fixed enumeration order, one slot per
// candidate, ties broken by enumeration index.
//
// Rules checked before simulating: TP (and PP) must be valid for the model
// (graph::Validate); a replica's TP group stays inside one scale-up domain (TP traffic
// every layer); EP divides the experts and is at most the replica's chips; the weights and
// activations must leave room for KV cache (ReplicaMemory::fits).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "pathfinder/comm/topology.h"
#include "pathfinder/graph/parallelism.h"
#include "pathfinder/model/architecture.h"
#include "pathfinder/ops/op_model.h"
#include "pathfinder/search/pool.h"
#include "pathfinder/serve/metrics.h"
#include "pathfinder/serve/settings.h"

namespace pf::search {

// Empty = defaults: tp 1, 2, 4, 8 (and 16+ while within the scale-up domain); pp 1, 2, 4;
// ep 1 and the replica's chips (MoE only); max_batch the base's, 64, 128, 256, 512;
// max_tokens the base's.
struct ServeSpace {
  std::vector<int> tp, pp, ep;
  std::vector<long> max_batch, max_tokens;
};

struct ServeCandidate {
  graph::Parallelism p;        // dp = 1: one replica
  serve::ServeSettings s;      // engine.replicas = 1, Poisson arrivals
};

struct PlannedReplica {
  size_t index = 0;
  ServeCandidate candidate;
  int chips = 0;                    // per replica
  serve::MaxRate max_rate;          // requests/s one replica sustains within the SLOs
  double rate_per_chip = 0;         // max_rate.rate / chips
  serve::ReplicaMemory memory;
};

struct ServePlan {
  size_t enumerated = 0, simulated = 0, feasible = 0;
  std::vector<PlannedReplica> top;  // best goodput per chip first
  std::vector<std::pair<std::string, size_t>> infeasible;
  double seconds = 0;
};

// REQUIRES: base.slo has at least one limit; `net` may be null (single-server default).
ServePlan PlanServing(const ops::OpModel& op, const model::Architecture& arch, const comm::Network* net,
                      int scale_up_domain, const serve::ServeSettings& base, const ServeSpace& space, size_t top_k,
                      ThreadPool& pool);

// Replicas for `demand` requests/s at `rate_per_replica` (rounded up). 0 when the rate is 0.
long ReplicasFor(double demand, double rate_per_replica);

}  // namespace pf::search
