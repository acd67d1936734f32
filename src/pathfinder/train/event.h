// train/event: the event mode of the training simulator. The same step as the fast mode,
// but the pipeline schedule is played out operation by operation: every stage runs its
// forward and backward passes of every micro-batch (and model chunk) in the order Megatron-LM
// runs them (1F1B: warm-up forwards, one-forward-one-backward, cool-down backwards;
// interleaved: Narayanan et al. 2021 §2.2.2 with the virtual-micro-batch → chunk mapping of
// megatron/core/pipeline_parallel/schedules.py), each starting when its stage is free and
// its input has arrived from the neighbouring stage. Every stage has three streams: compute
// (the passes, the optimizer step), its sends to the neighbouring stages (one after
// another) and its data-parallel sync (its own communicator). A pass's output reaches the
// neighbour when its send ends; a blocking send (no PP overlap) also holds the compute
// stream. Each stage syncs its own gradients after its own last backward, with the part the
// fast mode hides behind that backward running alongside it, then steps its optimizer, then
// all-gathers its parameters (ZeRO-1/2; only the part the next forward does not hide counts),
// so a stage that finishes early syncs while the others drain. The step ends when the last
// stage is done.
//
// The event mode agrees with the fast mode where nothing overlaps (uniform stages, 1F1B):
// both give (m + p − 1)·(F + B), and with one stage the same step time. It writes a
// Chrome/Perfetto trace with a compute, a send and a data-parallel track per stage.
// Cost: O(stages × micro-batches × chunks), independent of the number of chips.
#pragma once

#include <string>

#include "pathfinder/train/simulator.h"

namespace pf::train {

struct EventResult {
  Seconds pipeline;  // first forward start → last backward end
  Seconds total;     // until the last stage has synced, stepped and gathered
  long events = 0;   // forward/backward passes simulated
};

// REQUIRES: fast.ok. `trace` (optional) receives Chrome trace-event JSON.
EventResult RunEvents(const TrainResult& fast, const TrainSettings& s, std::string* trace = nullptr);

}  // namespace pf::train
