// train/simulator: the training-step simulator, fast mode. From a model, a chip (with its
// calibrated op model), a cluster network, a parallel split and the training settings it
// gives the step time with its breakdown (compute, exposed communication by kind, pipeline
// bubble, optimizer), tokens/s, MFU and HFU (DESIGN.md definitions), memory per chip and
// the fit check, time and chip-hours for N tokens, and the per-operator activity the power
// model turns into energy.
//
// Fast mode: every distinct layer kind is costed once (ops/ for compute, comm/ for the
// collectives on the rank layout); pipeline stages are sums of layer counts; the schedule
// is closed-form: step = m·T_max + (Σ_s T_s − T_max)/v (1F1B: Narayanan et al. 2021 eq. for
// the bubble (p − 1)/(v·m)), plus the exposed DP communication and the optimizer step. Cost
// is independent of the number of chips.
#pragma once

#include <string>
#include <vector>

#include "pathfinder/comm/topology.h"
#include "pathfinder/graph/parallelism.h"
#include "pathfinder/graph/step_graph.h"
#include "pathfinder/memory/training_memory.h"
#include "pathfinder/model/architecture.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/ops/op_model.h"
#include "pathfinder/train/settings.h"

namespace pf::train {

struct StepBreakdown {
  Seconds compute;       // forward + backward compute on the critical stage (incl. recompute)
  Seconds recompute;     // of which recomputation
  Seconds tp_comm;       // exposed tensor-parallel collectives
  Seconds cp_comm;       // exposed ring-attention send/recv
  Seconds ep_comm;       // exposed MoE all-to-all
  Seconds pp_comm;       // exposed pipeline send/recv
  Seconds fsdp_comm;     // exposed ZeRO-3 / FSDP weight gathers and gradient reduce-scatters
  Seconds offload;       // exposed activation offload: host-link copies longer than the compute they hide behind
  Seconds bubble;        // pipeline fill and drain
  Seconds dp_comm;       // exposed data-parallel gradient reduction / parameter gather
  // Of fsdp_comm + dp_comm: what the hidden parts of those collectives cost the compute
  // beside them (TrainSettings::collective_ctas; 0 on chips whose collectives run on DMA
  // engines).
  Seconds beside_collectives;
  Seconds dp_beside;     // of beside_collectives (and of dp_comm): the data-parallel part
  Seconds optimizer;     // the optimizer step
  Seconds total;
  // The idle spans at the step's ends: the pipeline's fill and drain and the exposed
  // data-parallel sync after the backward, less the part of that sync that is compute slowed
  // beside the collective.
  Seconds IdleEnds() const { return bubble + dp_comm - dp_beside; }
};

// One operator's work per step on one chip of the critical stage, for power/.
struct OpActivity {
  std::string name;   // "fc1 (dense, backward)"
  graph::OpKind kind = graph::OpKind::kMatmul;
  Flops flops;        // per step, all repeats
  Bytes bytes;        // HBM traffic per step
  Seconds time;       // busy time per step
  double count = 0;   // executions per step
};

// Per-micro-batch time of one pipeline stage (all its model chunks), compute plus the
// exposed TP/CP/EP/FSDP communication, split into its forward and backward parts; and the
// send/recv of one micro-batch's activations to the next stage. For the event mode.
struct StageTiming {
  Seconds fwd, bwd, p2p;  // one micro-batch (all its chunks); p2p: one send to a neighbour
  // The stage's own data-parallel sync after its last backward, and its optimizer step:
  // dp_grad is the gradient all-reduce / reduce-scatter, dp_gather the ZeRO-1/2 parameter
  // all-gather; *_exposed is the part the last backward (next step's first forward) does
  // not hide (BucketExposed), plus what the hidden part costs the compute beside it on a
  // chip whose collectives run on its cores (TrainSettings::collective_ctas).
  Seconds dp_grad, dp_grad_exposed, dp_gather, dp_gather_exposed, optimizer;
};

struct TrainResult {
  bool ok = false;          // false: the configuration cannot run (reason says why)
  std::string reason;
  bool fits = true;         // memory fit (a result can be ok and not fit; see memory_fit)
  StepBreakdown step;
  long chips = 0;
  long microbatches = 0;     // per replica per step (gradient accumulation × pipeline)
  double tokens_per_step = 0;
  double tokens_per_s = 0;
  double tokens_per_s_per_chip = 0;
  double samples_per_s = 0;
  Flops model_flops_per_token;     // 6·N_active + 12·L·d_attn·s
  Flops hardware_flops_per_token;  // + recomputation + LM head (Megatron eq. 3 convention)
  double mfu = 0, hfu = 0;
  FlopsPerSec model_flops_per_chip;     // achieved model FLOP/s per chip
  FlopsPerSec hardware_flops_per_chip;  // achieved hardware FLOP/s per chip
  std::vector<memory::StageMemory> memory;
  memory::Fit memory_fit;
  Seconds time_to_train;  // for settings.tokens_to_train
  double chip_hours = 0;
  int critical_stage = 0;
  std::vector<StageTiming> stages;
  int virtual_stages = 1;  // as scheduled (1 for 1F1B)
  std::vector<OpActivity> activity;  // filled when asked
  // Bytes one chip of the critical stage sends over its links in a step: TP, CP, EP and PP
  // traffic per micro-batch, FSDP gathers and reduce-scatters, the data-parallel gradient
  // sync (bandwidth-optimal algorithms: an all-reduce sends 2(n−1)/n of its size).
  Bytes link_sent;
};

class Simulator {
 public:
  // The cluster's chip count bounds the layouts; the network is built once.
  Simulator(model::Architecture arch, ops::OpModel op_model, const hw::Cluster& cluster);
  // `stop_when_not_fit`: a layout that does not fit in memory returns right after the
  // memory check (ok, !fits, memory filled, no timings) — the planner's pruning.
  TrainResult Run(const graph::Parallelism& p, const TrainSettings& s, bool with_activity = false,
                  bool stop_when_not_fit = false) const;

  const model::Architecture& arch() const { return arch_; }
  const ops::OpModel& op_model() const { return ops_; }
  const comm::Network& network() const { return net_; }

 private:
  model::Architecture arch_;
  ops::OpModel ops_;
  comm::Network net_;
  model::Counts counts_;  // of arch_, computed once
};

// The graph options and memory options the settings imply (exposed for tests and reports).
graph::StepOptions StepOptionsOf(const TrainSettings& s);

// A cluster for a scenario without one: the chip's own scale-up and scale-out links at full
// efficiency, `chips` rounded up to whole scale-up domains. Optimistic by construction; the
// reports say so.
hw::Cluster ClusterFromChipLinks(const hw::Chip& chip, long chips);

// A rank-layout order "tp,cp,ep,dp,pp" (innermost first; missing dims appended in default
// order). False when a name is unknown or repeated.
bool ParseLayoutOrder(const std::string& text, std::array<comm::Dim, 5>* order);

}  // namespace pf::train
