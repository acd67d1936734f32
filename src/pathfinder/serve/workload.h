// serve/workload: the requests of a run — input and output lengths drawn from the
// workload's distributions (or taken from a trace) and arrival times from the arrival
// process. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <vector>

#include "pathfinder/core/units.h"
#include "pathfinder/serve/settings.h"

namespace pf::serve {

struct Request {
  int64_t id = 0;
  double arrival = 0;  // seconds; closed-loop requests get theirs when sent
  int32_t input = 0;   // prompt tokens (≥ 1)
  int32_t output = 0;  // tokens to generate (≥ 1)
  int32_t prefix = 0;  // leading prompt tokens shared with every request (prefix caching)
};

// Draws one length. REQUIRES: d is well formed (spec/ checked it).
class LengthSampler {
 public:
  explicit LengthSampler(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  long Draw(const LengthDist& d);
  double Uniform01();  // in (0, 1)
  double Normal();     // standard normal
  uint64_t Next();

 private:
  uint64_t state_;
};

// All requests of the run in arrival order. Open-loop arrivals get their times here;
// closed-loop ones get 0 (the simulator sends them). Trace workloads keep the trace's
// lengths, and its arrival times when arrivals are `trace` (else they are re-timed).
std::vector<Request> MakeRequests(const Workload& w, const Arrivals& a);

// Mean of a length distribution as drawn (empirical: the sample mean).
double MeanLength(const LengthDist& d);

}  // namespace pf::serve
