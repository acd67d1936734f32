// graph/step_graph: the operators of one training step on one chip, from a model
// architecture, a parallel split and the step options (sequence, micro-batch, precision,
// activation recompute). The graph says WHAT runs (a matmul of this shape, an RMSNorm over
// these rows, an all-gather of these bytes over the TP group); ops/ and comm/ say how long
// it takes, train/ puts it on a timeline.
//
// Scale: the graph holds one operator list per DISTINCT layer kind (dense / MoE × full /
// sliding attention: at most four) and per pipeline stage only how many layers of each kind
// it holds, so its size never depends on the number of chips, and on layers only through
// that count.
//
// Conventions: every shape is what ONE chip computes for ONE micro-batch: tokens = micro_batch
// × seq_len / cp; TP splits heads and MLP widths (Megatron column/row parallel linears,
// Shoeybi et al. 2019); sequence parallelism splits norm/dropout/residual rows by tp
// (Korthikanti et al. 2022 §4.2.2). A linear layer's backward is two matmuls (dgrad, wgrad)
// of the same FLOPs as its forward, hence "backward = twice the matmul FLOPs" — except under
// LoRA, where frozen weights get no wgrad (see Lora).
//
// How to add an operator: add its OpKind (if new), emit it in step_graph.cc's layer builder,
// and cost it in train/simulator.cc's Cost().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/graph/parallelism.h"
#include "pathfinder/model/architecture.h"

namespace pf::graph {

// Activation recompute (Korthikanti et al. 2022): none; selective = the attention core
// (QKᵀ, softmax, dropout, AV) is re-run in backward; full = the whole layer's forward is
// re-run in backward from its stored input.
enum class Recompute { kNone, kSelective, kFull };
const char* Name(Recompute r);  // "none", "selective", "full"
std::optional<Recompute> ParseRecompute(std::string_view s);

// What selective recompute re-runs, in Megatron-Core's names (TransformerConfig
// recompute_modules with recompute_granularity "selective"; default: the attention core):
// core_attn (the attention core), moe_act (the routed experts' activation function),
// layernorm (the norms before attention and MLP), mla_up_proj (MLA's up-projections and
// their rotary embedding), mlp (the dense MLP), moe (the whole MoE layer, its all-to-alls
// included), shared_experts (the MoE layer's shared experts). moe_act, layernorm and
// mla_up_proj discard only their outputs; the others keep just their inputs.
struct RecomputeModules {
  bool core_attn = true, moe_act = false, layernorm = false, mla_up_proj = false, mlp = false, moe = false,
       shared_experts = false;
  // The dense MLP's first linear and its activation, not its second linear (whose input is
  // all the backward needs from them): MaxText's remat policies save_dot_except_mlpwi and
  // save_dot_except_logits_ffn1. Not a Megatron-Core module.
  bool mlp_fc1 = false;
  bool operator==(const RecomputeModules&) const = default;
};
// Those names (case as written) into `out` (all cleared first); false (and `bad` = the
// offending name) on an unknown or repeated name.
bool ParseRecomputeModules(const std::vector<std::string>& names, RecomputeModules* out, std::string* bad);

// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): the base
// weights are frozen and each targeted linear W[k×n] gets a trainable bypass x·A·B with
// A[k×r], B[r×n]. Cost: the frozen linears (and the frozen embedding and LM head) lose their
// weight-gradient GEMMs, so their backward is the activation gradient only (≈ 1× forward
// instead of 2×); each adapter adds forward 2·T·r·(k + n) FLOPs (x·A, then ·B) and backward
// twice that (dgrad and wgrad of A and of B), in 16-bit (PEFT / NeMo adapters are not fp8).
// Only the adapters have gradients and optimizer states. Targets: qkv (the QKV projection;
// with MLA every q/kv down/up projection), proj (attention output), fc1 and fc2 (dense MLP
// and shared experts; routed experts and the router stay frozen without adapters). Under TP
// the adapter follows its base linear's local shard (k and n as the chip sees them); its T×r
// collectives are neglected.
// Around the GEMMs each adapter runs, as NeMo's ParallelLinearAdapter and its Megatron-Core
// mixins do (NeMo 24.09-alpha.rc0, nemo/collections/nlp/modules/common/megatron/adapters/
// parallel_adapters.py and mcore_mixins.py), eager elementwise kernels: dropout on its input
// when `dropout` > 0 (dropout_position 'pre'; backward the same), the alpha/r scale of its
// output (x * (alpha / dim), backward the same), the sum into the base output (no backward
// kernel), and in backward autograd's sum of the input's two gradients (base and adapter).
// torch.compile would fuse the scale into the sum; they are priced as eager kernels. Under TP
// an adapter has collectives of its own, none overlapped:
// * column-parallel (qkv, fc1) with sequence parallelism: by default it reads the base's
//   gathered norm output (`gathered_input`: Transformer Engine >= 1.5's
//   return_layernorm_output_gathered, which NeMo uses when tp_comm_overlap_disable_qkv is set,
//   the MLPerf configs' default) and needs none; otherwise it all-gathers its own input and
//   reduce-scatters that gradient. Without SP its linear_in all-reduces the input gradient
//   in backward (ColumnParallelLinear without disable_grad_reduce).
// * row-parallel (proj, fc2) with SP: its output goes back to the sequence shard by an
//   all-to-all each way (`all_to_all`: a2a_experimental, LORA_A2A=1 in the MLPerf
//   llama2_70b_lora configs) or, by default, an all-gather of the output forward and of its
//   gradient backward (linear_out gather_output, then scatter_to_sequence_parallel_region);
//   without SP the forward all-gather of the output only.
// Left out of the memory model (memory/training_memory.cc): the dropout's mask and output an
// adapter keeps for its backward. A selectively recomputed MLP re-runs its adapters' kernels
// but not their collectives.
struct Lora {
  int64_t rank = 0;  // 0 = no LoRA: every weight trains (pre-training / full fine-tuning)
  bool qkv = true, proj = true, fc1 = false, fc2 = false;
  double dropout = 0;          // dropout probability on each adapter's input (0 = none, no kernel)
  bool gathered_input = true;  // SP: a column-parallel adapter reads the base's gathered input
  bool all_to_all = false;     // SP: a row-parallel adapter returns its output by all-to-all
  bool enabled() const { return rank > 0; }
};
// "qkv", "proj", "fc1", "fc2" (case as written) into `lora`'s targets (all cleared first);
// false (and `bad` = the offending name) on an unknown or repeated name.
bool ParseLoraTargets(const std::vector<std::string>& names, Lora* lora, std::string* bad);
// Linears whose quantization (an fp8 or int8 matmul_dtype) covers the forward GEMM only:
// their dgrad and wgrad run in the 16-bit activation dtype and their output gradient is not
// cast. MaxText's tff_quant in Google's MLPerf v4.1 GPT-3 fork does this for the attention
// output projection and the MLP, "since backward is already communication-bounded" (aqt
// config_v3 with fwd_bits 8 and dlhs_bits, drhs_bits None; layers/gpt3.py). Names as for
// LoRA targets: qkv (every q/kv projection), proj, fc1 and fc2 (dense, shared and routed
// experts alike). Left as the fully quantized linear has it: the forward cast's transposed
// copy (priced, though only a quantized wgrad reads it) and, under fp8, the 1-byte stored
// input the memory model keeps (memory/training_memory.cc), where a 16-bit wgrad needs the
// 16-bit input; int8 stores its inputs in 16 bits either way.
struct ForwardOnlyQuant {
  bool qkv = false, proj = false, fc1 = false, fc2 = false;
  bool any() const { return qkv || proj || fc1 || fc2; }
};
// The same names into `out` (cleared first); false (and `bad`) on an unknown or repeated one.
bool ParseForwardOnlyQuant(const std::vector<std::string>& names, ForwardOnlyQuant* out, std::string* bad);

struct StepOptions {
  int64_t seq_len = 2048;
  int64_t micro_batch = 1;                // sequences per micro-batch per data-parallel replica
  DType matmul_dtype = DType::kBf16;      // linear layers (bf16; fp8 as Transformer Engine; int8 as AQT)
  DType act_dtype = DType::kBf16;         // activations, attention, communication
  Recompute recompute = Recompute::kNone;
  RecomputeModules recompute_modules;     // what `kSelective` re-runs
  // With kFull: the layers of each pipeline stage that are recomputed, its first ones (Megatron
  // recompute_method "block" with recompute_num_layers, NeMo activations_checkpoint_num_layers;
  // the train settings multiply a per-chunk count by the virtual stages); the stage's other
  // layers store their activations. 0 = every layer.
  int recompute_layers = 0;
  bool flash_attention = true;            // fused attention (no s×s scores in memory)
  // The fused-attention kernel reads and writes a layout other than the framework's, so q, k,
  // v and the output are copied around it forward, and the output gradient and the q, k, v
  // gradients backward (one read and one write of each). Transformer Engine's FlashAttention
  // backend under Megatron's [s, b, h, d] tensors (transformer_engine/pytorch/attention.py
  // FlashAttention.forward: `x.transpose(0, 1).contiguous()` for q, k, v, or the fused
  // _PrepareQKVForFA, and `output...transpose(0, 1).contiguous()`; TE 09ba8427 and v1.8
  // alike; cuDNN's fused attention takes the strided layout and copies nothing), and
  // llm-foundry's flash_attn_fn with flash-attn 2 (bert_padding.unpad_input gathers q, k, v
  // into varlen rows, pad_input scatters the output back; llmfoundry/models/layers/
  // attention.py at 5e85bd62d). Only with `flash_attention`.
  bool attention_layout_copies = false;
  bool dropout = false;                   // GPT-3-era dropout after attention and MLP (masks stored)
  double moe_imbalance = 1.0;             // tokens of the busiest local expert / the mean (≥ 1)
  // FP8 per-tensor current scaling (Transformer Engine Float8CurrentScaling, "FP8-CS"): the
  // scale comes from the amax of the tensor being cast, so each cast is preceded by an amax
  // pass over its bf16 input. Delayed scaling (the default here) and MXFP8 block scaling
  // take the scale from history / per block inside the cast kernel.
  bool fp8_current_scaling = false;
  // torch.compile (or any compiler that fuses elementwise work into its neighbours): the
  // backward's residual-gradient sum fuses into the norm backward (see kResidual); false =
  // eager autograd as Megatron, NeMo, Transformer Engine and plain PyTorch run it.
  bool compiled = false;
  // Metrics a training loop computes on every micro-batch's logits beside the loss, outside
  // autograd: Composer's train metrics (LanguageCrossEntropy and LanguagePerplexity on
  // llm-foundry's models: 2), each a cross-entropy under bf16 autocast (kLogitMetric).
  int logit_metrics = 0;
  // How a grouped expert GEMM (one GEMM per local expert) runs: 0 = one grouped kernel for
  // all local experts (CUTLASS grouped GEMM, torch._grouped_mm, fused-MoE kernels); n > 0 =
  // one GEMM per expert, issued round-robin on n concurrent streams, as Transformer Engine's
  // GroupedLinear does (TE 2.x multi_stream_cublas_gemm: 4 compute streams), so n experts
  // at a time share the chip and each round is its own launch (see Op::streams).
  int expert_gemm_streams = 0;
  Lora lora;                              // LoRA fine-tuning (rank 0 = every weight trains)
  ForwardOnlyQuant forward_only_quant;    // linears quantized in the forward GEMM only
  // Megatron-Core activation_func_fp8_input_store: the MLP activation keeps its input (the
  // fc1 output, two halves when gated) for the backward as an fp8 copy instead of in 16 bits
  // (megatron/core/fusions/fused_bias_swiglu.py saves input.to(float8_e4m3fn) and casts it
  // back before the activation's backward): one cast kernel each way (kActivationStore), and
  // the stored input takes a byte an element (memory::ActivationBytesPerLayer).
  bool fp8_activation_input = false;
  // Multi-token prediction (DeepSeek-V3 §2.2; Megatron-Core mtp_num_layers): after the last
  // layer, each of these modules runs one more layer of the last layer's kind on the last
  // pipeline stage and the shared output head and loss again, for the token one further
  // ahead. Its 2h → h projection (under 1 % of a DeepSeek-V3 MoE layer's FLOPs) is left out.
  int mtp_layers = 0;
};

enum class OpKind {
  kMatmul,           // C[m×n] = A[m×k]·B[k×n], `batch` of them (grouped: one per local expert)
  kAttention,        // fused attention core
  kNorm,             // RMSNorm / LayerNorm over rows × width
  kActivation,       // MLP activation over rows × width (gated reads 2·width)
  kRotary,           // rotary embedding on q and k
  kResidual,         // residual add (+ dropout when enabled); backward: the residual-gradient sum
  kEmbedding,        // embedding gather (forward) / scatter-add (backward)
  kCrossEntropy,     // fused softmax cross-entropy over rows × width (vocab shard), fwd + bwd
  kRouter,           // MoE router softmax + top-k over rows × experts
  kPermute,          // MoE token permute / un-permute (rows × k × width)
  kCast,             // FP8 cast + transpose of a matmul operand (rows × width, bf16 in, 2 × fp8 out)
  kSoftmax,          // unfused attention: scale + mask + softmax over rows × width scores
  kDropout,          // unfused attention: dropout over rows × width scores
  kAmax,             // FP8 current scaling: amax reduction over a bf16 operand (rows × width) before its cast
  kActivationStore,  // fp8 copy of the activation input (forward), cast back to 16 bits (backward); rows × width as
                     // kActivation
  kLogitMetric,  // a cross-entropy metric on the logits (rows × vocab shard) outside autograd: fp32 cast + log-softmax
  kScale,        // y = x · c over rows × width (reads x, writes y)
  kCopy,         // a layout copy of rows × width (reads it, writes it)
  kAdd,          // elementwise sum of two rows × width tensors (reads both, writes one)
  // Per-step memory work outside the layer graph, named so the simulator's per-operator
  // activity can report it (never an op of a LayerGraph):
  kWeightCast,  // torch.autocast over fp32 parameters: weight casts and gradient casts into .grad
  kOptimizer,   // the optimizer step (Adam) over this chip's parameters
};
const char* Name(OpKind k);

enum class Pass { kForward, kBackward };

struct AttentionDims {
  int64_t batch = 1, heads = 0, kv_heads = 0, head_dim = 0, v_head_dim = 0;
  int64_t q_len = 0, kv_len = 0, window = 0;
  int heads_split = 1, seq_split = 1;  // TP and CP splits (heads and kv_heads are whole-model)
  bool causal = true;
  bool mla = false;  // MLA computed in the naive (per-head K/V) form as in training
};

struct Op {
  const char* name = "";
  OpKind kind = OpKind::kMatmul;
  Pass pass = Pass::kForward;
  bool recompute = false;  // a forward op re-run during backward
  int64_t m = 0, n = 0, k = 0, batch = 1;  // matmul shape; memory ops: m = rows, n = width, k = top_k
  // Matmul with batch > 1 run as separate GEMMs on this many concurrent streams: ⌈batch /
  // streams⌉ rounds of `streams` GEMMs each (0 = one grouped kernel; StepOptions::expert_gemm_streams).
  int streams = 0;
  bool low_precision = false;  // matmul in StepOptions::matmul_dtype (else act_dtype)
  bool gated = false;          // activation: gated (SwiGLU/GeGLU)
  bool layer_norm = false;     // norm: LayerNorm (else RMSNorm)
  AttentionDims attn;
};

enum class CommKind {
  kTpAllReduce,      // Megatron TP without sequence parallelism
  kTpAllGather,      // TP with sequence parallelism (before column-parallel linears)
  kTpReduceScatter,  // TP with sequence parallelism (after row-parallel linears)
  kCpSendRecv,       // ring attention: one K/V block to the next CP rank, cp − 1 steps
  kEpDispatch,       // MoE all-to-all to the experts
  kEpCombine,        // MoE all-to-all back
  kTpAllToAll,       // all-to-all within the TP group (a LoRA adapter's output back to the sequence shard)
};
const char* Name(CommKind k);

struct CommOp {
  const char* name = "";
  CommKind kind = CommKind::kTpAllReduce;
  Pass pass = Pass::kForward;
  bool recompute = false;
  Bytes bytes;     // nccl-tests size convention (see comm/collective.h); per step for kCpSendRecv
  int64_t steps = 1;   // repeated sequential steps (ring attention: cp − 1)
  int64_t tokens = 0;  // MoE exchanges: tokens per rank
};

// One distinct kind of transformer layer and its operators for one micro-batch.
struct LayerGraph {
  std::string what;  // "dense", "moe", "dense sliding", …
  bool moe = false;
  bool sliding = false;
  // Full recompute re-runs this kind's forward in backward (StepOptions::recompute is kFull
  // and the layer is among its stage's StepOptions::recompute_layers); false otherwise.
  bool recomputed = false;
  std::vector<Op> ops;
  std::vector<CommOp> comms;
  double params = 0;         // parameters of one such layer on one chip, dense part (after TP)
  double expert_params = 0;  // routed-expert parameters of one such layer on one chip (after EP, TP)
  double adapter_params = 0; // LoRA adapter parameters of one such layer on one chip (0 without LoRA)
};

// What one pipeline stage holds.
struct StageGraph {
  std::vector<int> layers_of_kind;  // indexed like StepGraph::kinds
  bool embedding = false;           // first stage: input embedding
  bool head = false;                // last stage: final norm, LM head, loss
  int head_passes = 0;              // times the head runs per micro-batch: 1 + mtp_layers on the last stage
  int layers = 0;
  double params = 0;         // dense parameters on one chip of this stage
  double expert_params = 0;  // routed-expert parameters on one chip of this stage
  double adapter_params = 0; // LoRA adapter parameters on one chip of this stage (the only trained ones)
  // Weights this stage's matmuls read (dense, routed experts, a tied output layer's table;
  // not an input embedding, which is gathered, not multiplied).
  double matmul_params = 0;
};

struct StepGraph {
  std::vector<LayerGraph> kinds;
  std::vector<Op> embedding_ops;  // stage 0, per micro-batch
  std::vector<CommOp> embedding_comms;
  std::vector<Op> head_ops;       // last stage, per micro-batch
  std::vector<CommOp> head_comms;
  std::vector<StageGraph> stages;  // one per pipeline stage
  int64_t tokens = 0;              // tokens one chip processes per micro-batch (micro_batch·seq/cp)
  StepOptions options;
};

// REQUIRES: Validate(p, a) is empty, a has ResolveDefaults applied, options.seq_len divisible
// by p.cp. `first_stage_layers` / `last_stage_layers` > 0 give uneven stages (the rest split
// evenly over the middle stages); 0 = even split (remainder to the middle stages).
StepGraph BuildStepGraph(const model::Architecture& a, const Parallelism& p, const StepOptions& o,
                         int first_stage_layers = 0, int last_stage_layers = 0);

// Parameters per layer (whole model, before any split): attention + norms; dense MLP; routed
// experts; router + shared experts.
double AttentionParamsPerLayer(const model::Architecture& a);
double DenseMlpParams(const model::Architecture& a, double ffn);

}  // namespace pf::graph
