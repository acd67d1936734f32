// train/settings: how one training job runs, beyond the parallel degrees — sequence and
// batch sizes, precision, activation recompute, ZeRO stage / FSDP, communication overlap,
// pipeline schedule and rank layout. A plain struct: spec/train_spec.cc loads it from a
// scenario's `train:` section (its field table documents every field); the validation and
// the search fill it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pathfinder/core/dtype.h"
#include "pathfinder/graph/step_graph.h"
#include "pathfinder/ops/calibration.h"

namespace pf::train {

enum class Schedule {
  k1F1B,         // one-forward-one-backward (PipeDream-Flush; Narayanan et al. 2021 §2.2.1)
  kInterleaved,  // interleaved 1F1B with virtual_stages model chunks per stage (§2.2.2)
};
const char* Name(Schedule s);

// Transformer Engine userbuffers (comm-GEMM overlap), what `overlap_tp_comm` models: how
// each sequence-parallel collective of a dense layer hides behind the GEMM beside it. The
// defaults are TE's (NVIDIA/TransformerEngine transformer_engine/pytorch/module/base.py,
// initialize_ub: get_default_config): ring exchange (1 SM, copy engines) for the
// all-gathers before the qkv and fc1 forward GEMMs and the proj and fc2 dgrad GEMMs;
// `pipeline` (4 splits, 16 SMs) for the reduce-scatters after the proj and fc2 forward
// GEMMs; `bulk` (16 SMs) for the backward all-gather beside the qkv / fc1 dgrad GEMM and
// the reduce-scatter beside their wgrad GEMM; all-gather buffers in fp8 under an fp8
// recipe. A run's own ub_cfg (NeMo conf/tp_overlap/*.yaml) overrides them per GEMM.
// Megatron-Core can also turn the qkv all-gather's overlap off (tp_comm_overlap_disable_qkv:
// qkv_fprop=none, that gather then runs alone) and overlap the reduce-scatter of the qkv /
// fc1 dgrad output with the dgrad GEMM itself instead of the bulk pair (tp_comm_overlap_rs_dgrad:
// qkv_dgrad / fc1_dgrad = ring_exchange or pipeline:SMS).
struct TpOverlap {
  enum class RsDgrad { kBulk, kRing, kPipeline };  // how the dgrad output's reduce-scatter hides
  bool proj_fprop_ring = false;                 // proj_fprop: ring_exchange instead of pipeline
  bool fc2_fprop_ring = false;                  // fc2_fprop: ring_exchange instead of pipeline
  int proj_fprop_sms = 16, fc2_fprop_sms = 16;  // SMs of a pipeline reduce-scatter
  int splits = 4;                               // pipeline chunks
  int qkv_dgrad_sms = 16, qkv_wgrad_sms = 16, fc1_dgrad_sms = 16, fc1_wgrad_sms = 16;  // bulk (or rs-dgrad pipeline)
  bool qkv_fprop = true, fc1_fprop = true;  // the all-gather before the qkv / fc1 forward GEMM overlapped (ring)
  RsDgrad qkv_rs_dgrad = RsDgrad::kBulk, fc1_rs_dgrad = RsDgrad::kBulk;
};

// Applies a run's ub_cfg overrides written as space-separated `name=method[:sms]` in TE's
// names: qkv_wgrad, fc1_wgrad = bulk:SMS; qkv_dgrad, fc1_dgrad = bulk:SMS, or
// ring_exchange / pipeline:SMS for the reduce-scatter overlapped with the dgrad GEMM;
// proj_fprop, fc2_fprop = pipeline:SMS or ring_exchange; qkv_fprop, fc1_fprop =
// ring_exchange or none (e.g. "proj_fprop=pipeline:24 fc2_fprop=ring_exchange").
// False with the reason in `err` on anything else.
bool ParseTpOverlap(const std::string& text, TpOverlap* out, std::string* err);

struct TrainSettings {
  int64_t seq_len = 2048;
  int64_t global_batch = 0;  // sequences per optimizer step; 0 = dp × micro_batch (no accumulation)
  int64_t micro_batch = 1;   // sequences per micro-batch per data-parallel replica
  DType precision = DType::kBf16;  // matmul dtype of the linear layers: bf16 or fp8
  bool fp8_current_scaling = false;  // fp8 recipe: per-tensor current scaling (graph::StepOptions)
  // The MLP activation's input stored in fp8 for the backward (Megatron-Core
  // activation_func_fp8_input_store; graph::StepOptions::fp8_activation_input).
  bool fp8_activation_input = false;
  // The weights themselves are stored in fp8 (Transformer Engine fp8_model_init; Megatron-LM
  // --fp8-param-gather, NeMo fp8_params, Megatron-Bridge fp8_param_gather): 1 byte per
  // parameter in memory instead of 2, the distributed optimizer's parameter all-gather and
  // FSDP's gathers move fp8, and the optimizer writes the fp8 weights from its fp32 master
  // copies. LoRA adapters stay 16-bit. Needs precision fp8. Not counted either way: the fp8
  // copies TE caches of 16-bit weights, and the transposed fp8 copy it keeps on chips whose
  // fp8 GEMMs need one (Hopper) unless disable_parameter_transpose_cache.
  bool fp8_params = false;
  // FSDP (zero_stage 3) gathers each weight just before its own matmul, as XLA's SPMD
  // partitioner does (memory::MemoryOptions::gather_per_weight), instead of a block at a time.
  bool fsdp_gather_per_weight = false;
  graph::Recompute recompute = graph::Recompute::kNone;
  // With full recompute: the layers of each model chunk (each stage without interleaving)
  // recomputed, its first ones; the others store their activations (Megatron
  // recompute_method "block" + recompute_num_layers, NeMo activations_checkpoint_num_layers).
  // 0 = every layer.
  int recompute_layers = 0;
  // What selective recompute re-runs (Megatron-Core recompute_modules; the attention core by
  // default), and the scenario's list as written (graph::ParseRecomputeModules).
  graph::RecomputeModules recompute_modules;
  std::vector<std::string> recompute_module_names = {"core_attn"};
  int zero_stage = 1;              // 0 none, 1 optimizer states (Megatron distributed optimizer), 2 + grads, 3 + weights (FSDP)
  // Data-parallel ranks one copy of the ZeRO-sharded state spans (hybrid sharding: PyTorch
  // FSDP HYBRID_SHARD's shard group, MaxText's fsdp axis beside its data axis, Megatron-Core's
  // dp / num_distributed_optimizer_instances): the state is sharded over the innermost
  // `shard_group` DP ranks (× cp) and replicated over the dp / shard_group copies, whose
  // gradient shards are all-reduced. 0 = all of dp (plain ZeRO/FSDP).
  int shard_group = 0;
  DType grad_dtype = DType::kBf16;  // gradient buffers and their reduction
  // PyTorch's automatic mixed precision over fp32 parameters (torch.autocast; the recipe of
  // plain PyTorch, Hugging Face and Composer without FSDP), instead of Megatron's 16-bit
  // weights with fp32 master copies in the optimizer: every matmul weight is cast to the
  // 16-bit dtype in each micro-batch's forward (autocast caches the cast for that forward
  // only), every weight gradient is cast to fp32 and accumulated into the parameter's
  // .grad in the backward, and Adam updates the fp32 parameters in place.
  bool autocast_fp32_params = false;
  bool compiled = false;           // torch.compile: elementwise work fused into its neighbours (graph::StepOptions)
  int logit_metrics = 0;           // metrics on each micro-batch's logits beside the loss (graph::StepOptions)
  int expert_gemm_streams =
      0;  // grouped expert GEMMs as per-expert GEMMs on n streams; 0 = one grouped kernel (graph::StepOptions)
  int mtp_layers = 0;              // multi-token prediction modules (Megatron-Core mtp_num_layers; graph::StepOptions)
  bool overlap_dp_comm = true;     // DP gradient reduction bucketed behind backward, param all-gather behind forward
  // CTAs (NCCL channels) an overlapped data-parallel or FSDP collective runs on. On a chip
  // whose collectives run on its cores (ops::CollectivesRunOnCores) they slow the compute
  // beside them (ops::ComputeSlowdownBesideCollective), and what the hidden part of the
  // collective costs that compute is charged as exposed time of the collective. Default:
  // 32, the channels NCCL opens on an 8-GPU NVSwitch server of the H100 generation (NCCL's
  // ring search doubles the channels it finds, up to its 32-channel ceiling of that time;
  // 24 on 8 A100s, NVIDIA/nccl issue #578's log). A run's own NCCL settings (NCCL_MAX_NCHANNELS,
  // per-communicator max_ctas) give the number when known.
  int collective_ctas = 32;
  bool overlap_tp_comm = false;    // TP collectives overlapped with the adjacent GEMMs (TE userbuffers; needs SP)
  TpOverlap tp_overlap;            // how, when overlap_tp_comm
  std::string ub_cfg;              // the scenario's text of tp_overlap (ParseTpOverlap), as written
  bool overlap_pp_comm = false;    // pipeline send/recv overlapped with compute (only the fill is exposed)
  Schedule schedule = Schedule::k1F1B;
  int virtual_stages = 1;          // model chunks per stage (interleaved)
  std::string layout = "tp,cp,ep,dp,pp";  // rank order, innermost (fastest-varying) first
  double tokens_to_train = 0;      // total training tokens for time / chip-hours (0 = not asked)
  double moe_imbalance = 1.0;      // busiest local expert's tokens / mean
  bool flash_attention = true;
  // The fused-attention kernel (ops/calibration.h): the chip's best by default; older
  // kernels (flash-attention-2, -1, -1-triton) where a run used one.
  ops::AttentionKernel attention_kernel = ops::AttentionKernel::kBest;
  // The kernel wants a layout other than the framework's: q, k, v and the output are copied
  // around it, forward and backward (graph::StepOptions::attention_layout_copies).
  bool attention_layout_copies = false;
  bool dropout = false;
  // Activation offloading to host memory (Megatron-Core cpu_offloading_num_layers): layers per
  // stage whose stored activations go over the chip's host link after their forward and come
  // back before their backward (memory::MemoryOptions::offload_layers). 0 = none.
  int offload_layers = 0;
  int first_stage_layers = 0;      // uneven pipeline: layers on the first / last stage (0 = even)
  int last_stage_layers = 0;
  double allocator_overhead = 0.05;  // memory/training_memory.h kDefaultAllocatorOverhead
  // The ZeRO-2/3 sharding is PyTorch FSDP's (FullyShardedDataParallel, one flat parameter
  // per wrapped block, as llm-foundry/Composer run it). After each unit's backward, on every
  // micro-batch, FSDP prepares the whole unsharded gradient for its reduce-scatter: it
  // casts it to the reduce dtype (grad_dtype) when that differs from the compute dtype
  // (`flat_param.grad.to(handle._reduce_dtype)` in _post_backward_hook) and divides it in
  // place by the pre-divide factor, which exceeds 1 for every group of 2 or more ranks
  // (`_div_if_needed(padded_unsharded_grad, state._gradient_predivide_factor)` in
  // _reduce_grad; torch/distributed/fsdp/_runtime_utils.py, torch 2.x). Two HBM passes
  // over the unsharded gradient that Megatron-style distributed optimizers, which
  // accumulate into their reduce buffers directly, do not make. Under autocast over fp32
  // parameters the gradients come out fp32 and only the division is left; a shard group of
  // one rank divides nothing. Assumptions: under LoRA only the adapters' gradients are
  // prepared (their own FSDP units); with ZeRO-2 the preparation is charged every
  // micro-batch although the simulator reduce-scatters ZeRO-2 gradients once a step.
  bool pytorch_fsdp = false;
  // Parameters per data-parallel bucket. Each bucket's gradient reduction and parameter
  // all-gather is its own collective call, paying the collective's latency, and the last
  // bucket's is exposed. 0 = Megatron-Core's default, max(40 M, 1 M × dp) parameters
  // (megatron/core/distributed/distributed_data_parallel.py, when the DDP config's
  // bucket_size is None); Apex's DistributedFusedAdam (NeMo 1.x's distributed_fused_adam)
  // holds bucket_cap_mb MiB of gradients in the sync dtype. Without overlap_dp_comm the
  // gradients go in one call (Megatron-Core sets an unbounded bucket then).
  double dp_bucket_params = 0;
  // LoRA fine-tuning (graph::Lora): adapter rank (0 = every weight trains) and the linears
  // that get adapters: any of qkv, proj, fc1, fc2. The default targets are the attention
  // projections of the LoRA paper (Hu et al. 2021 §4.2) and the MLPerf llama2_70b_lora
  // reference (PEFT target_modules q/k/v/o_proj).
  int lora_rank = 0;
  std::vector<std::string> lora_targets = {"qkv", "proj"};
  // Dropout probability on each adapter's input (NeMo adapter_dropout with dropout_position
  // 'pre'; the MLPerf llama2_70b_lora configs use 0.1): > 0 adds a dropout kernel forward
  // and backward per adapter. 0 = none (NeMo's fine-tuning default, PEFT's lora_dropout 0).
  double lora_dropout = 0;
  // Under TP with sequence parallelism (graph::Lora): a column-parallel adapter reads its
  // base's gathered input (true; else it gathers its own), and a row-parallel one returns its
  // output to the sequence shard by all-to-all (true; else by all-gathers).
  bool lora_gathered_input = true;
  bool lora_all_to_all = false;
  // Linears quantized in the forward GEMM only (graph::ForwardOnlyQuant): any of qkv, proj,
  // fc1, fc2; needs an fp8 or int8 precision. Empty = every quantized GEMM, forward and
  // backward.
  std::vector<std::string> forward_only_quant;
};

}  // namespace pf::train
