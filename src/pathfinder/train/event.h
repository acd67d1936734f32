// train/event: the event mode of the training simulator. The same step as the fast mode,
// but the pipeline schedule is played out operation by operation: every stage runs its
// forward and backward passes of every micro-batch (and model chunk) in the order Megatron-LM
// runs them (1F1B: warm-up forwards, one-forward-one-backward, cool-down backwards;
// interleaved: Narayanan et al. 2021 §2.2.2 with the virtual-micro-batch → chunk mapping of
// megatron/core/pipeline_parallel/schedules.py), each starting when its stage is free and
// its input has arrived from the neighbouring stage (send/recv time on the dependency).
// Then the exposed DP synchronization and the optimizer step, as in the fast mode.
//
// The event mode agrees with the fast mode where nothing overlaps (uniform stages, 1F1B):
// both give (m + p − 1)·(F + B). It writes a Chrome/Perfetto trace (one track per stage).
// Cost: O(stages × micro-batches × chunks), independent of the number of chips.
#pragma once

#include <string>

#include "pathfinder/train/simulator.h"

namespace pf::train {

struct EventResult {
  Seconds pipeline;  // first forward start → last backward end
  Seconds total;     // + exposed DP communication + optimizer (from the fast mode)
  long events = 0;   // forward/backward passes simulated
};

// REQUIRES: fast.ok. `trace` (optional) receives Chrome trace-event JSON.
EventResult RunEvents(const TrainResult& fast, const TrainSettings& s, std::string* trace = nullptr);

}  // namespace pf::train
