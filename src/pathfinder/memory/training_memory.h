// memory/training_memory: bytes per chip of a training job, stage by stage — weights,
// gradients and optimizer states (sharded by ZeRO stage / FSDP), activations stored for
// backward (by recompute policy, following Korthikanti et al. 2022 §4), times the
// micro-batches the pipeline schedule keeps in flight, communication buffers and a stated
// allocator overhead — and the fit check against HBM. A layout that does not fit is a value
// (`Fit{false, "stage 0 needs 91.3 GB > 80 GB HBM"}`), never an exception.
#pragma once

#include <string>
#include <vector>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/graph/parallelism.h"
#include "pathfinder/graph/step_graph.h"
#include "pathfinder/model/architecture.h"

namespace pf::memory {

// Mixed-precision Adam, Rajbhandari et al. 2020 (ZeRO) §3.1: fp32 master weights, momentum
// and variance = K = 12 bytes per parameter, on top of the 16-bit weights and gradients.
inline constexpr double kAdamStateBytesPerParam = 12.0;

// Fragmentation and cached-but-unused blocks of the framework's caching allocator, as a
// fraction of everything allocated. Estimate: PyTorch reports reserved − allocated of
// typically 5–10 % in long training runs (PyTorch CUDA memory-management docs,
// "torch.cuda.memory_reserved"); we state 5 %.
inline constexpr double kDefaultAllocatorOverhead = 0.05;

struct MemoryOptions {
  int zero_stage = 1;                  // 0 none, 1 optimizer, 2 + gradients, 3 + weights (FSDP full shard)
  int shard_group = 0;                 // DP ranks the ZeRO shards span (train::TrainSettings::shard_group; 0 = all)
  DType weight_dtype = DType::kBf16;   // working copy of the weights (fp8: train fp8_params; LoRA adapters stay 16-bit)
  DType gather_dtype = DType::kBf16;   // ZeRO-3/FSDP: the dtype a layer's weights are gathered in (its buffers)
  // ZeRO-3/FSDP buffers: false = a layer's weights at a time, the next layer's prefetched (a
  // PyTorch FSDP unit per block); true = each weight gathered at its own matmul (XLA's SPMD
  // partitioner gathers a dot's operand), so the largest weight of a dense layer and the next.
  bool gather_per_weight = false;
  DType grad_dtype = DType::kBf16;     // gradient buffers (Megatron's fp32 main grads: kFp32)
  double optimizer_bytes_per_param = kAdamStateBytesPerParam;
  double allocator_overhead = kDefaultAllocatorOverhead;
  int virtual_stages = 1;              // interleaved 1F1B: model chunks per stage
  long microbatches = 1;               // per step per data-parallel replica
  // Activation offloading (Megatron-Core `cpu_offloading_num_layers`, Transformer Engine's
  // CPU offload): this many layers of each stage move their stored activations to host
  // memory after their forward and bring them back before their backward, double-buffered,
  // so one such layer's activations stay on the chip in transit. From 0 to the layers of
  // every stage (checked; callers validate it first).
  int offload_layers = 0;
};

struct StageMemory {
  int stage = 0;
  Bytes weights, gradients, optimizer, activations, buffers, overhead, total;
  double in_flight = 0;  // micro-batches whose activations are held at the peak
  Bytes offloaded;       // activations one micro-batch moves to host memory and back (offload_layers)
};

struct Fit {
  bool ok = true;
  std::string reason;  // "stage 0 needs 91.3 GB > 80 GB HBM" when !ok
  int worst_stage = 0;
  Bytes worst;
};

// Activation bytes one layer of the given kind stores for backward, for one micro-batch on
// one chip, under the options' recompute policy (full: the layer input only).
Bytes ActivationBytesPerLayer(const model::Architecture& a, const graph::Parallelism& p, const graph::StepOptions& o,
                              bool moe);

// The closed form of Korthikanti et al. 2022 (Table 2) for a GPT layer with dropout and
// unfused attention, 16-bit activations: s·b·h·(34 + 5·a·s/h) bytes without parallelism;
// with TP: s·b·h·(10 + 24/t + 5·a·s/(h·t)); with TP + SP: s·b·h/t·(34 + 5·a·s/h);
// selective recompute drops the 5·a·s/h term; full recompute stores 2·s·b·h (÷ t with SP).
// For tests.
double KorthikantiBytesPerLayer(double s, double b, double h, double heads, double t, bool sp, graph::Recompute r);

// Memory per chip of every pipeline stage.
std::vector<StageMemory> TrainingMemory(const model::Architecture& a, const graph::Parallelism& p,
                                        const graph::StepGraph& g, const MemoryOptions& m);

// The fit check: the stage with the largest total against `hbm`.
Fit CheckFit(const std::vector<StageMemory>& stages, Bytes hbm);

}  // namespace pf::memory
