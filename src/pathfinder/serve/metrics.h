// serve/metrics: what a serving run achieved — TTFT, TPOT, inter-token latency and
// end-to-end latency (mean, p50, p90, p99), throughput (output tokens/s, total tokens/s,
// requests/s), goodput under the SLOs, KV-cache use and batch size — and the per-request
// CSV. Definitions as DESIGN.md "Serving": TTFT = arrival → first token; TPOT = (E2E −
// TTFT) / (output − 1) per request (MLPerf LoadGen's definition); throughput over the run's
// span, first arrival to last completion.
#pragma once

#include <string>

#include "pathfinder/serve/simulator.h"

namespace pf::serve {

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;  // seconds
};

struct Summary {
  int64_t requests = 0, completed = 0, rejected = 0;
  double span = 0;  // seconds, first arrival → last completion
  Percentiles ttft, tpot, itl, e2e;
  double slo_percentile_ttft = 0, slo_percentile_tpot = 0;  // the SLO percentile's values
  double output_tokens_per_s = 0, total_tokens_per_s = 0, requests_per_s = 0;
  double goodput_requests_per_s = 0;  // requests/s that met every SLO
  double slo_attainment = 0;          // fraction of completed requests meeting every SLO
  bool slo_met = true;                // the SLO percentile of TTFT and TPOT within the limits
  double mean_input = 0, mean_output = 0;
  double mean_batch = 0;                     // sequences per iteration
  double mean_kv_used = 0, max_kv_used = 0;  // fraction of KV blocks, time-weighted mean
  int64_t iterations = 0, preemptions = 0;
  double tokens_per_decode_step = 1;  // tokens a sequence's decode step emitted on average (> 1: speculative)
  TimeSplit busy_share;  // fractions of the busy time by part (sum 1; all 0 when nothing ran)
};

Summary Summarize(const SimResult& r, const Objectives& slo);

// Percentile p (0..100) of values, linear interpolation between order statistics (numpy's default).
double PercentileOf(std::vector<double> values, double p);

// id,arrival_s,input,output,ttft_s,tpot_s,e2e_s,preemptions,replica,cached_prefix,rejected
std::string RequestsCsv(const SimResult& r);

}  // namespace pf::serve

namespace pf::serve {

// The highest Poisson arrival rate (requests/s, whole system) at which the run meets the
// SLOs at their percentile, by bisection between 0 and the offline throughput (to within
// `tolerance` relative). Each probe is a full simulation of settings.workload.requests
// requests. Returns 0 when even a trickle misses the SLOs.
struct MaxRate {
  double rate = 0;
  Summary at_rate;  // the run at the returned rate
  int probes = 0;
};
MaxRate FindMaxRate(const ServeSettings& s, IterationCostModel& cost, double tolerance = 0.02);

}  // namespace pf::serve
