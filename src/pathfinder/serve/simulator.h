// serve/simulator: the serving run, iteration by iteration. Requests arrive (offline,
// Poisson, trace, closed loop), a router sends each to a replica (round robin or least
// outstanding), and every replica runs iteration-level continuous batching (Orca, OSDI'22;
// vLLM): each iteration it schedules running decodes and (chunks of) waiting prompts under
// max_batch and max_tokens, allocates paged KV blocks (vLLM PagedAttention, SOSP'23),
// preempts the newest sequences by recompute when blocks run out, and advances time by the
// iteration's cost (serve/iteration_cost). With disaggregation, prefill replicas hand the
// KV cache to decode replicas over the network (DistServe, OSDI'24; Splitwise, ISCA'24).
//
// Invariants (serve_test.cc): every request that arrives completes (or is rejected, when
// it can never fit in the KV cache) exactly once; more HBM never lowers throughput; a
// higher Poisson rate never lowers TTFT percentiles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pathfinder/serve/iteration_cost.h"
#include "pathfinder/serve/settings.h"
#include "pathfinder/serve/workload.h"

namespace pf::serve {

struct RequestRecord {
  int64_t id = 0;
  double arrival = 0, first_token = 0, finish = 0;  // seconds
  int32_t input = 0, output = 0;
  int32_t preemptions = 0;
  int32_t replica = 0;        // the replica that produced its first token
  int32_t cached_prefix = 0;  // prompt tokens served from the prefix cache
  bool rejected = false;      // never fits in the KV cache (prompt + output > capacity)
  bool done = false;
};

struct IterationSample {
  double start = 0, duration = 0;
  int32_t replica = 0;
  int32_t seqs = 0;    // sequences in the iteration
  int32_t tokens = 0;  // tokens computed (prompt chunks + decodes)
  int32_t prefill_tokens = 0;
  float kv_used = 0;  // fraction of the replica's KV blocks in use
  // The iteration's time by part (seconds, summing to duration): matmuls and elementwise
  // kernels, fused attention, collectives, host overhead, the speculative drafter.
  float linear = 0, attention = 0, communication = 0, host = 0, draft = 0;
};

// Iteration time summed over a run, by part (seconds over all iterations of all replicas).
struct TimeSplit {
  double linear = 0, attention = 0, communication = 0, host = 0, draft = 0;
  double Total() const { return linear + attention + communication + host + draft; }
};

// Inter-token gaps, log-bucketed (1 % relative resolution), for percentiles over every token.
class LatencyHistogram {
 public:
  void Add(double seconds);
  double Percentile(double p) const;  // p in [0, 100]
  double Mean() const { return n_ ? sum_ / double(n_) : 0; }
  int64_t count() const { return n_; }

 private:
  std::vector<int64_t> buckets_;
  int64_t n_ = 0;
  double sum_ = 0;
};

struct SimOptions {
  bool record_timeline = false;
  size_t max_timeline = 200000;  // samples kept (the first ones) when recording
};

struct SimResult {
  std::vector<RequestRecord> requests;
  LatencyHistogram itl;
  std::vector<IterationSample> timeline;
  int64_t iterations = 0;
  int64_t preemptions = 0;
  double busy_seconds = 0;   // Σ iteration time over replicas
  TimeSplit busy_split;      // busy_seconds by part
  double batch_seq_sum = 0;  // Σ sequences per iteration (for the mean)
  double kv_used_time = 0;   // Σ kv_used × duration
  double max_kv_used = 0;
  int64_t decode_steps = 0;   // decode steps of sequences (one per sequence per iteration)
  int64_t decode_tokens = 0;  // tokens those steps emitted (> steps under speculative decoding)
  ChipWork work;  // Σ over iterations of one chip's work in each (so summed over replicas)
  ReplicaMemory memory;
};

// Runs the whole serving run. REQUIRES: cost.memory().fits (callers report otherwise).
SimResult Simulate(const ServeSettings& s, IterationCostModel& cost, const SimOptions& opt = {});

}  // namespace pf::serve
