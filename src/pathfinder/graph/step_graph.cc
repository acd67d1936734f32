// The operators of one training step: one list per distinct layer kind, the embedding and
// head extras, and what each pipeline stage holds.
#include "pathfinder/graph/step_graph.h"

#include <algorithm>
#include <string_view>

#include "pathfinder/core/check.h"
#include "pathfinder/model/counts.h"

namespace pf::graph {

const char* Name(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

std::optional<Recompute> ParseRecompute(std::string_view s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "full") return Recompute::kFull;
  return std::nullopt;
}

const char* Name(OpKind k) {
  switch (k) {
    case OpKind::kMatmul: return "matmul";
    case OpKind::kAttention: return "attention";
    case OpKind::kNorm: return "norm";
    case OpKind::kActivation: return "activation";
    case OpKind::kRotary: return "rotary";
    case OpKind::kResidual: return "residual";
    case OpKind::kEmbedding: return "embedding";
    case OpKind::kCrossEntropy: return "cross-entropy";
    case OpKind::kRouter: return "router";
    case OpKind::kPermute: return "permute";
    case OpKind::kCast: return "fp8 cast";
    case OpKind::kSoftmax: return "softmax";
    case OpKind::kDropout: return "dropout";
    case OpKind::kAmax: return "fp8 amax";
    case OpKind::kActivationStore:
      return "activation fp8 store";
    case OpKind::kLogitMetric:
      return "train metric";
    case OpKind::kScale:
      return "scale";
    case OpKind::kCopy:
      return "copy";
    case OpKind::kAdd:
      return "add";
    case OpKind::kWeightCast:
      return "autocast cast";
    case OpKind::kOptimizer:
      return "optimizer";
  }
  return "?";
}

const char* Name(CommKind k) {
  switch (k) {
    case CommKind::kTpAllReduce: return "tp all-reduce";
    case CommKind::kTpAllGather: return "tp all-gather";
    case CommKind::kTpReduceScatter: return "tp reduce-scatter";
    case CommKind::kCpSendRecv: return "cp send/recv";
    case CommKind::kEpDispatch: return "ep dispatch";
    case CommKind::kEpCombine: return "ep combine";
    case CommKind::kTpAllToAll:
      return "tp all-to-all";
  }
  return "?";
}

namespace {
// Names of the four linear kinds into a struct's qkv, proj, fc1, fc2 flags (cleared first).
template <class T>
bool ParseLinearNames(const std::vector<std::string>& names, T* out, std::string* bad) {
  out->qkv = out->proj = out->fc1 = out->fc2 = false;
  for (const std::string& n : names) {
    bool* target = n == "qkv"    ? &out->qkv
                   : n == "proj" ? &out->proj
                   : n == "fc1"  ? &out->fc1
                   : n == "fc2"  ? &out->fc2
                                 : nullptr;
    if (target == nullptr || *target) {
      *bad = n;
      return false;
    }
    *target = true;
  }
  return true;
}
}  // namespace

bool ParseLoraTargets(const std::vector<std::string>& names, Lora* lora, std::string* bad) {
  return ParseLinearNames(names, lora, bad);
}
bool ParseForwardOnlyQuant(const std::vector<std::string>& names, ForwardOnlyQuant* out, std::string* bad) {
  return ParseLinearNames(names, out, bad);
}

bool ParseRecomputeModules(const std::vector<std::string>& names, RecomputeModules* out, std::string* bad) {
  *out = RecomputeModules{};
  out->core_attn = false;
  for (const std::string& n : names) {
    bool* m = n == "core_attn"        ? &out->core_attn
              : n == "moe_act"        ? &out->moe_act
              : n == "layernorm"      ? &out->layernorm
              : n == "mla_up_proj"    ? &out->mla_up_proj
              : n == "mlp"            ? &out->mlp
              : n == "moe"            ? &out->moe
              : n == "shared_experts" ? &out->shared_experts
              : n == "mlp_fc1"        ? &out->mlp_fc1
                                      : nullptr;
    if (m == nullptr || *m) {
      *bad = n;
      return false;
    }
    *m = true;
  }
  return true;
}

double AttentionParamsPerLayer(const model::Architecture& a) {
  const model::Counts c = model::Count(a);
  // Attention weights plus the layer's norms (the final norm is spread too: < 1/L·h, negligible).
  return a.layers > 0 ? (c.attention_params + c.norm_params) / a.layers : 0.0;
}

double DenseMlpParams(const model::Architecture& a, double ffn) {
  const double h = a.hidden;
  const bool gated = model::IsGated(a.mlp);
  double p = (gated ? 3 : 2) * h * ffn;
  if (a.bias == model::Bias::kAll) p += (gated ? 2 : 1) * ffn + h;
  return p;
}

namespace {

// Builds the operator lists of one microbatch of one layer kind.
class LayerBuilder {
 public:
  LayerBuilder(const model::Architecture& a, const Parallelism& p, const StepOptions& o, LayerGraph* out)
      : a_(a), p_(p), o_(o), g_(*out) {
    t_ = p.tp;
    tokens_ = o.micro_batch * o.seq_len / std::max(1, p.cp);
    rows_ = p.sequence_parallel ? (tokens_ + t_ - 1) / t_ : tokens_;
    act_bytes_ = BytesPerElement(o.act_dtype);
  }

  // y[T×n] = x[T×k]·W[k×n] (`batch` groups of `m` rows for grouped expert GEMMs):
  // forward; backward dgrad dX = dY·Wᵀ and wgrad dW = Xᵀ·dY. Under LoRA W is frozen (no
  // wgrad) and, when `adapted`, the adapter x·A[k×r]·B[r×n] runs beside it (see graph::Lora).
  // How a linear's LoRA adapter is split over TP (NeMo ParallelLinearAdapter): for a
  // column-parallel base A's rank dimension and B's outputs are split, for a row-parallel one
  // A's inputs and B's outputs, so each chip does 1/tp of the adapter; a TP-replicated base
  // (MLA down-projections) has a replicated adapter.
  enum class Adapt { kNo, kColumn, kRow, kReplicated };
  Adapt Column(bool on) const { return on ? Adapt::kColumn : Adapt::kNo; }
  Adapt RowPar(bool on) const { return on ? Adapt::kRow : Adapt::kNo; }
  Adapt Replicated(bool on) const { return on ? Adapt::kReplicated : Adapt::kNo; }

  void Linear(const char* name, int64_t m, int64_t k, int64_t n, int64_t batch = 1, Adapt adapt = Adapt::kNo) {
    Op f;
    f.name = name;
    f.kind = OpKind::kMatmul;
    f.m = m, f.n = n, f.k = k, f.batch = batch;
    if (batch > 1) f.streams = o_.expert_gemm_streams;  // grouped expert GEMMs (dgrad, wgrad alike)
    f.low_precision = true;
    // FP8 linears (Transformer Engine): the bf16 input is cast to fp8 with a fused
    // cast-transpose before the GEMM (the transposed copy feeds wgrad), and so is the output
    // gradient in backward. Weights are cast once per step (TE caches them across
    // micro-batches), which we neglect.
    // With current scaling (Transformer Engine Float8CurrentScalingQuantizer::quantize:
    // nvte_compute_amax, then nvte_compute_scale_from_amax, then nvte_quantize_v2) an amax
    // pass reads each cast operand once more before the cast.
    // int8 linears (AQT as Google's MaxText and PAX train with it, aqt config_v3 /
    // fully_quantized): every operand of the forward, dgrad and wgrad GEMMs is quantized per
    // channel with a scale from its own abs-max, so like FP8 current scaling each cast reads
    // its bf16 input once more for the abs-max first; the weights' quantization is neglected
    // as for FP8.
    const bool quantized = BytesPerElement(o_.matmul_dtype) < 2;
    const bool amax_pass = o_.fp8_current_scaling || o_.matmul_dtype == DType::kInt8;
    // Quantized in the forward only (StepOptions::forward_only_quant): no cast of the output
    // gradient, and the backward GEMMs in 16 bits.
    const bool forward_only = quantized && ForwardOnly(name);
    if (quantized) {
      Op c;
      c.name = name;
      c.kind = OpKind::kCast;
      c.m = m * batch, c.n = k;
      Op amax = c;
      amax.kind = OpKind::kAmax;
      if (amax_pass) Add(amax);
      Add(c);
      c.pass = Pass::kBackward;
      c.n = n;
      amax.pass = Pass::kBackward;
      amax.n = n;
      if (amax_pass && !forward_only) g_.ops.push_back(amax);
      if (!forward_only) g_.ops.push_back(c);
    }
    Add(f);
    Op dg = f;
    dg.pass = Pass::kBackward;
    dg.m = m, dg.n = k, dg.k = n;
    dg.low_precision = !forward_only;
    g_.ops.push_back(dg);
    if (!o_.lora.enabled()) {
      Op wg = dg;
      wg.m = k, wg.n = n, wg.k = m;
      g_.ops.push_back(wg);
    }
    if (o_.lora.enabled() && adapt != Adapt::kNo) {
      const int64_t r = o_.lora.rank;
      const int64_t r_a = adapt == Adapt::kColumn ? std::max<int64_t>(1, r / t_) : r;
      const int64_t n_b = adapt == Adapt::kRow ? std::max<int64_t>(1, n / t_) : n;
      Adapter(m * batch, k, r_a, r, n_b);
      AdapterElementwise(adapt, m, batch, k, n);
    }
  }
  // What a LoRA adapter runs beside its GEMMs (graph::Lora): input dropout, output scale, the
  // sum into the base output, the input-gradient sum, and under TP its own collectives. `m`
  // tokens (`batch` groups), `k` and `n` the base linear's local input and output widths.
  void AdapterElementwise(Adapt adapt, int64_t m, int64_t batch, int64_t k, int64_t n) {
    const Lora& l = o_.lora;
    const bool split = t_ > 1, sp = split && p_.sequence_parallel;
    // Rows of the adapter's input and output on this chip: a column-parallel adapter under SP
    // reads the sequence-sharded norm output unless it takes the base's gathered one; a row-
    // parallel one ends on the sequence shard (SP) or the whole sequence.
    const int64_t in_rows = adapt == Adapt::kColumn && sp && !l.gathered_input ? rows_ : m * batch;
    const int64_t out_rows = adapt == Adapt::kRow && sp ? rows_ : m * batch;
    if (l.dropout > 0) Memory("lora dropout", OpKind::kDropout, in_rows, k, true);
    Memory("lora scale", OpKind::kScale, out_rows, n, true);
    Memory("lora add", OpKind::kAdd, out_rows, n, false);
    Op sum;  // backward only: autograd's sum of the input's two gradients
    sum.name = "lora input gradient sum";
    sum.kind = OpKind::kAdd;
    sum.pass = Pass::kBackward;
    sum.m = in_rows, sum.n = k;
    g_.ops.push_back(sum);
    if (!split || adapt == Adapt::kReplicated) return;
    const double e = act_bytes_;
    const Bytes input(double(m) * double(k) * e), output(double(m) * double(n) * e);  // nccl-tests sizes
    if (adapt == Adapt::kColumn) {
      if (!sp) {
        Comm("lora", CommKind::kTpAllReduce, Pass::kBackward, input);
      } else if (!l.gathered_input) {
        Comm("lora", CommKind::kTpAllGather, Pass::kForward, input);
        Comm("lora", CommKind::kTpReduceScatter, Pass::kBackward, input);
      }
    } else if (sp && l.all_to_all) {
      const Bytes sent(double(m) * double(n) / double(t_) * e);  // this rank's T × n/tp
      Comm("lora", CommKind::kTpAllToAll, Pass::kForward, sent);
      Comm("lora", CommKind::kTpAllToAll, Pass::kBackward, sent);
    } else {
      Comm("lora", CommKind::kTpAllGather, Pass::kForward, output);
      if (sp) Comm("lora", CommKind::kTpAllGather, Pass::kBackward, output);
    }
  }
  // Whether the linear `name` is one StepOptions::forward_only_quant names: the output
  // projection is proj, the first and second MLP linears (dense, shared, routed) fc1 and
  // fc2, every other projection into attention qkv; the router never.
  bool ForwardOnly(std::string_view name) const {
    const ForwardOnlyQuant& q = o_.forward_only_quant;
    if (name == "router") return false;
    if (name == "out proj") return q.proj;
    if (name.ends_with("fc1")) return q.fc1;
    if (name.ends_with("fc2")) return q.fc2;
    return q.qkv;
  }
  // LoRA adapter on this chip: A[k×r_a], B[r×n] over `rows` tokens: forward u = x·A, y += u·B;
  // backward du = dy·Bᵀ, dB = uᵀ·dy, dx += du·Aᵀ, dA = xᵀ·du. 16-bit. (A column-parallel
  // adapter all-gathers u from r/tp to r; that and the other T×r collectives are neglected.)
  void Adapter(int64_t rows, int64_t k, int64_t r_a, int64_t r, int64_t n) {
    auto mm = [&](const char* name, Pass pass, int64_t mm_m, int64_t mm_n, int64_t mm_k) {
      Op op;
      op.name = name;
      op.kind = OpKind::kMatmul;
      op.pass = pass;
      op.m = mm_m, op.n = mm_n, op.k = mm_k;
      op.low_precision = false;
      return op;
    };
    Add(mm("lora A", Pass::kForward, rows, r_a, k));
    Add(mm("lora B", Pass::kForward, rows, n, r));
    g_.ops.push_back(mm("lora B", Pass::kBackward, rows, r, n));    // du = dy·Bᵀ
    g_.ops.push_back(mm("lora B", Pass::kBackward, r, n, rows));    // dB = uᵀ·dy
    g_.ops.push_back(mm("lora A", Pass::kBackward, rows, k, r_a));  // dx += du·Aᵀ
    g_.ops.push_back(mm("lora A", Pass::kBackward, k, r_a, rows));  // dA = xᵀ·du
    g_.adapter_params += double(k) * double(r_a) + double(r) * double(n);
  }
  // A memory-bound op with a backward of the same kind.
  void Memory(const char* name, OpKind kind, int64_t rows, int64_t width, bool backward, int64_t k = 0,
              bool force_rms = false) {
    Op f;
    f.name = name;
    f.kind = kind;
    f.m = rows, f.n = width, f.k = k;
    f.gated = model::IsGated(a_.mlp);
    f.layer_norm = a_.norm == model::Norm::kLayerNorm && !force_rms;
    Add(f);
    if (backward) {
      f.pass = Pass::kBackward;
      g_.ops.push_back(f);
    }
  }
  void Forward(const Op& op) { Add(op); }
  void Comm(const char* name, CommKind kind, Pass pass, Bytes bytes, int64_t steps = 1) {
    CommOp c;
    c.name = name, c.kind = kind, c.pass = pass, c.bytes = bytes, c.steps = steps, c.tokens = tokens_;
    g_.comms.push_back(c);
  }

  // Tensor-parallel collectives around one block (attention or MLP), Korthikanti et al.
  // 2022 Fig. 5: without SP one all-reduce forward (after the row-parallel linear) and one
  // backward (before the column-parallel one); with SP an all-gather + reduce-scatter each
  // way, plus the all-gather of the block input redone in backward for the weight gradient
  // (Megatron-LM `sequence_parallel`, the input is stored sharded). Under LoRA the block's
  // input linear is frozen and computes no weight gradient, so that re-gather is not done:
  // Transformer Engine gathers the input in backward only when the weight requires grad
  // (release_v2.9 layernorm_linear.py: ln_out_needs_gather = weight.requires_grad and
  // column-parallel and sequence_parallel; Megatron-Core's own linear likewise gathers only
  // when computing wgrad). The adapters' inputs are kept from the forward.
  void TensorParallelBlock(const char* name) {
    if (t_ <= 1) return;
    const Bytes full(double(tokens_) * double(a_.hidden) * act_bytes_);
    if (p_.sequence_parallel) {
      Comm(name, CommKind::kTpAllGather, Pass::kForward, full);
      Comm(name, CommKind::kTpReduceScatter, Pass::kForward, full);
      Comm(name, CommKind::kTpAllGather, Pass::kBackward, full);
      Comm(name, CommKind::kTpReduceScatter, Pass::kBackward, full);
      if (!o_.lora.enabled()) Comm(name, CommKind::kTpAllGather, Pass::kBackward, full);
    } else {
      Comm(name, CommKind::kTpAllReduce, Pass::kForward, full);
      Comm(name, CommKind::kTpAllReduce, Pass::kBackward, full);
    }
  }

  void Build(bool moe, bool sliding) {
    const int64_t h = a_.hidden, T = tokens_, t = t_;
    // ---- attention block
    module_ = kLayerNorm;
    Memory("input norm", OpKind::kNorm, rows_, h, true);
    module_ = 0;
    Op core;
    core.name = "attention core";
    core.kind = OpKind::kAttention;
    AttentionDims& d = core.attn;
    d.batch = o_.micro_batch;
    d.q_len = d.kv_len = o_.seq_len;
    d.heads_split = int(t);
    d.seq_split = std::max(1, p_.cp);
    d.window = sliding ? a_.sliding.window : 0;
    d.heads = a_.heads;
    int64_t kv_local_width = 0;  // K+V elements per token on this chip
    if (model::IsMla(a_)) {
      const model::Mla& m = a_.mla;
      const int64_t qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
      d.mla = true;
      d.kv_heads = a_.heads;
      d.head_dim = qk;
      d.v_head_dim = m.v_head_dim;
      // DeepSeek-V2 §2.1: down-projections are replicated over TP (Megatron-Core MLA),
      // up-projections and the output projection are split over heads.
      if (m.q_lora_rank > 0) {
        Linear("q down", T, h, m.q_lora_rank, 1, Replicated(o_.lora.qkv));
        module_ = kMlaUp;
        Linear("q up", T, m.q_lora_rank, a_.heads * qk / t, 1, Column(o_.lora.qkv));
        module_ = 0;
      } else {
        Linear("q proj", T, h, a_.heads * qk / t, 1, Column(o_.lora.qkv));
      }
      Linear("kv down", T, h, m.kv_lora_rank + m.qk_rope_head_dim, 1, Replicated(o_.lora.qkv));
      module_ = kMlaUp;
      Linear("kv up", T, m.kv_lora_rank, a_.heads * (m.qk_nope_head_dim + m.v_head_dim) / t, 1, Column(o_.lora.qkv));
      Memory("rotary", OpKind::kRotary, T, a_.heads / t, true, m.qk_rope_head_dim);
      module_ = 0;
      kv_local_width = a_.heads / t * (qk + m.v_head_dim);
      AddAttention(core);
      Linear("out proj", T, a_.heads * m.v_head_dim / t, h, 1, RowPar(o_.lora.proj));
    } else {
      const int64_t hd = a_.head_dim;
      const int64_t q_local = a_.heads / t;
      const int64_t kv_local = std::max<int64_t>(1, a_.kv_heads / t);  // replicated when kv_heads < tp
      d.kv_heads = a_.kv_heads;
      d.head_dim = hd;
      d.v_head_dim = hd;
      Linear("qkv", T, h, (q_local + 2 * kv_local) * hd, 1, Column(o_.lora.qkv));
      if (a_.qk_norm) {
        // QK-norm (Qwen3, OLMo 2; HF Qwen3Attention `q_norm`/`k_norm`, Megatron-Core
        // `qk_layernorm`): an RMSNorm over head_dim on every local query and key head, before
        // rotary; forward and backward like the layer norms.
        Memory("qk norm", OpKind::kNorm, T * (q_local + kv_local), hd, true, 0, /*force_rms=*/true);
      }
      if (a_.positions == model::Positions::kRope) Memory("rotary", OpKind::kRotary, T, q_local + kv_local, true, hd);
      kv_local_width = 2 * kv_local * hd;
      AddAttention(core);
      Linear("out proj", T, q_local * hd, h, 1, RowPar(o_.lora.proj));
    }
    // Backward of the residual: the block's input feeds both the norm and the residual add,
    // so its gradient is the sum of the two that come back (autograd's accumulation of a
    // tensor used twice: one add kernel reading both and writing the sum, per block).
    Memory("residual", OpKind::kResidual, rows_, h, true);
    TensorParallelBlock("attention");
    if (p_.cp > 1) {
      // Ring attention (Liu et al. 2023; Megatron-Core context parallelism): cp − 1 steps,
      // each sending this rank's K/V block on; backward also returns dK/dV.
      const Bytes block(double(T) * double(kv_local_width) * act_bytes_);
      Comm("ring attention", CommKind::kCpSendRecv, Pass::kForward, block, p_.cp - 1);
      Comm("ring attention", CommKind::kCpSendRecv, Pass::kBackward, block * 2.0, p_.cp - 1);
    }
    // ---- MLP block
    module_ = kLayerNorm;
    if (!a_.parallel_blocks) Memory("post-attention norm", OpKind::kNorm, rows_, h, true);
    module_ = moe ? kMoe : kMlp;
    if (moe) {
      const model::Moe& e = a_.moe;
      const int64_t local_experts = std::max<int64_t>(1, e.num_experts / std::max(1, p_.ep));
      Linear("router", T, h, e.num_experts);
      Memory("router top-k", OpKind::kRouter, T, e.num_experts, true, e.top_k);
      Memory("permute", OpKind::kPermute, T, h, true, e.top_k);
      if (p_.ep > 1) {
        const Bytes x(double(T) * e.top_k * double(h) * act_bytes_);
        Comm("moe", CommKind::kEpDispatch, Pass::kForward, x);
        Comm("moe", CommKind::kEpCombine, Pass::kForward, x);
        Comm("moe", CommKind::kEpDispatch, Pass::kBackward, x);
        Comm("moe", CommKind::kEpCombine, Pass::kBackward, x);
      }
      // Each rank receives T·top_k token copies spread over its local experts; the busiest
      // expert sets the grouped GEMM's time (imbalance factor).
      const double per_expert = double(T) * e.top_k / double(local_experts) * std::max(1.0, o_.moe_imbalance);
      const int64_t m = std::max<int64_t>(1, int64_t(per_expert + 0.5));
      const int64_t f = e.expert_ffn_hidden / t;
      // With EP and several local experts, the tokens received from the all-to-all arrive
      // grouped by source rank and are copied once more into per-local-expert order before
      // the grouped GEMM, and back after it: Megatron-Core MoEAlltoAllTokenDispatcher,
      // "Permutation 2: Sort tokens by local expert" (`sort_chunks_by_idxs` in
      // dispatch_postprocess, its inverse in combine_preprocess), forward and backward.
      const bool sort_chunks = p_.ep > 1 && local_experts > 1;
      // Both copies move the T·top_k received rows one to one (rows = T·top_k, k = 1).
      if (sort_chunks) Memory("sort chunks", OpKind::kPermute, T * e.top_k, h, true, 1);
      Linear("expert fc1", m, h, (model::IsGated(a_.mlp) ? 2 : 1) * f, local_experts);
      module_ = kMoe | kMoeAct;
      Memory("expert activation", OpKind::kActivation, m * local_experts, f, true);
      if (o_.fp8_activation_input)
        Memory("expert activation input fp8", OpKind::kActivationStore, m * local_experts, f, true);
      module_ = kMoe;
      Linear("expert fc2", m, f, h, local_experts);
      if (sort_chunks) Memory("unsort chunks", OpKind::kPermute, T * e.top_k, h, true, 1);
      Memory("unpermute", OpKind::kPermute, T, h, true, e.top_k);
      if (e.num_shared_experts > 0) {
        const int64_t sf = int64_t(e.num_shared_experts) * e.shared_expert_ffn_hidden / t;
        module_ = kMoe | kShared;
        Linear("shared fc1", T, h, (model::IsGated(a_.mlp) ? 2 : 1) * sf, 1, Column(o_.lora.fc1));
        Memory("shared activation", OpKind::kActivation, T, sf, true);
        if (o_.fp8_activation_input) Memory("shared activation input fp8", OpKind::kActivationStore, T, sf, true);
        Linear("shared fc2", T, sf, h, 1, RowPar(o_.lora.fc2));
      }
    } else {
      const int64_t f = a_.ffn_hidden / t;
      module_ = kMlp | kMlpFc1;
      Linear("fc1", T, h, (model::IsGated(a_.mlp) ? 2 : 1) * f, 1, Column(o_.lora.fc1));
      Memory("activation", OpKind::kActivation, T, f, true);
      if (o_.fp8_activation_input) Memory("activation input fp8", OpKind::kActivationStore, T, f, true);
      module_ = kMlp;
      Linear("fc2", T, f, h, 1, RowPar(o_.lora.fc2));
    }
    module_ = 0;
    Memory("residual", OpKind::kResidual, rows_, h, true);
    TensorParallelBlock("mlp");

    // ---- recompute: forward ops re-run inside backward
    if (o_.recompute == Recompute::kFull) {
      for (const Op& op : forward_) {
        Op r = op;
        r.pass = Pass::kBackward;
        r.recompute = true;
        g_.ops.push_back(r);
      }
      const size_t n = g_.comms.size();
      for (size_t i = 0; i < n; ++i) {
        if (g_.comms[i].pass != Pass::kForward) continue;
        CommOp r = g_.comms[i];
        r.pass = Pass::kBackward;
        r.recompute = true;
        g_.comms.push_back(r);
      }
    } else if (o_.recompute == Recompute::kSelective) {
      const RecomputeModules& rm = o_.recompute_modules;
      auto rerun = [&](Op r) {
        r.pass = Pass::kBackward;
        r.recompute = true;
        g_.ops.push_back(r);
      };
      if (rm.core_attn) {
        for (const Op& op : core_) rerun(op);
      }
      for (const auto& [index, tag] : tagged_) {
        if ((rm.layernorm && (tag & kLayerNorm)) || (rm.mla_up_proj && (tag & kMlaUp)) || (rm.mlp && (tag & kMlp)) ||
            (rm.moe && (tag & kMoe)) || (rm.moe_act && (tag & kMoeAct)) || (rm.shared_experts && (tag & kShared)) ||
            (rm.mlp_fc1 && (tag & kMlpFc1))) {
          rerun(g_.ops[index]);  // a copy, taken before rerun appends to g_.ops
        }
      }
      // A recomputed MLP or MoE layer runs its forward collectives again: the TP gather and
      // scatter around it, and the MoE layer its dispatch and combine; a recomputed first
      // linear only the gather of its input.
      const bool fc1_only = rm.mlp_fc1 && !rm.mlp && !moe;
      if ((rm.mlp && !moe) || (rm.moe && moe) || fc1_only) {
        const size_t n = g_.comms.size();
        for (size_t i = 0; i < n; ++i) {
          const CommOp& c = g_.comms[i];
          if (c.pass != Pass::kForward || (c.name != std::string_view("mlp") && c.name != std::string_view("moe")))
            continue;
          if (fc1_only && c.kind != CommKind::kTpAllGather) continue;
          CommOp r = c;
          r.pass = Pass::kBackward;
          r.recompute = true;
          g_.comms.push_back(r);
        }
      }
    }
  }

 private:
  void Add(const Op& op) {
    g_.ops.push_back(op);
    forward_.push_back(op);
    if (module_ != 0) tagged_.emplace_back(g_.ops.size() - 1, module_);
  }
  // The attention core. Fused (FlashAttention): one kernel forward, one backward. Unfused
  // (Megatron-LM 2021–22, Korthikanti et al. 2022 Fig. 4): batched QKᵀ, fused scale-mask-
  // softmax, dropout on the scores, batched A·V; backward dP = dO·Vᵀ, dV = Pᵀ·dO, dropout
  // and softmax backward, dQ = dS·K, dK = dSᵀ·Q. K/V heads are expanded to the query heads.
  void AddAttention(const Op& core) {
    if (o_.flash_attention) {
      // StepOptions::attention_layout_copies: q, k, v in and the output out, each way.
      const AttentionDims& d = core.attn;
      const int64_t q_heads = std::max<int64_t>(1, d.heads / d.heads_split);
      const int64_t kv_heads = std::max<int64_t>(1, d.kv_heads / d.heads_split);
      const int64_t vd = d.v_head_dim > 0 ? d.v_head_dim : d.head_dim;
      auto copies = [&](Pass pass) {
        Op c;
        c.name = "attention layout copy";
        c.kind = OpKind::kCopy;
        c.pass = pass;
        c.m = tokens_;
        c.n = q_heads * d.head_dim + kv_heads * (d.head_dim + vd) + q_heads * vd;
        return c;
      };
      if (o_.attention_layout_copies) {
        Add(copies(Pass::kForward));
        core_.push_back(copies(Pass::kForward));
      }
      Add(core);
      core_.push_back(core);
      Op b = core;
      b.pass = Pass::kBackward;
      g_.ops.push_back(b);
      if (o_.attention_layout_copies) g_.ops.push_back(copies(Pass::kBackward));
      return;
    }
    const AttentionDims& d = core.attn;
    const int64_t bh = d.batch * std::max<int64_t>(1, d.heads / d.heads_split);
    const int64_t q = d.q_len / std::max(1, d.seq_split), kv = d.kv_len, hd = d.head_dim;
    const int64_t vd = d.v_head_dim > 0 ? d.v_head_dim : hd;
    auto mm = [&](const char* name, Pass pass, int64_t m, int64_t n, int64_t k) {
      Op op;
      op.name = name;
      op.kind = OpKind::kMatmul;
      op.pass = pass;
      op.m = m, op.n = n, op.k = k, op.batch = bh;
      op.low_precision = false;  // attention stays in 16-bit
      return op;
    };
    auto elem = [&](const char* name, OpKind kind, Pass pass) {
      Op op;
      op.name = name;
      op.kind = kind;
      op.pass = pass;
      op.m = bh * q, op.n = kv;
      return op;
    };
    std::vector<Op> fwd = {mm("attention QK^T", Pass::kForward, q, kv, hd), elem("attention softmax", OpKind::kSoftmax, Pass::kForward)};
    if (o_.dropout) fwd.push_back(elem("attention dropout", OpKind::kDropout, Pass::kForward));
    fwd.push_back(mm("attention AV", Pass::kForward, q, vd, kv));
    for (const Op& op : fwd) {
      Add(op);
      core_.push_back(op);
    }
    g_.ops.push_back(mm("attention dP", Pass::kBackward, q, kv, vd));
    g_.ops.push_back(mm("attention dV", Pass::kBackward, kv, vd, q));
    if (o_.dropout) g_.ops.push_back(elem("attention dropout", OpKind::kDropout, Pass::kBackward));
    g_.ops.push_back(elem("attention softmax", OpKind::kSoftmax, Pass::kBackward));
    g_.ops.push_back(mm("attention dQ", Pass::kBackward, q, hd, kv));
    g_.ops.push_back(mm("attention dK", Pass::kBackward, kv, hd, q));
  }

  const model::Architecture& a_;
  const Parallelism& p_;
  const StepOptions& o_;
  LayerGraph& g_;
  std::vector<Op> forward_;
  std::vector<Op> core_;  // the attention core's forward ops (selective recompute re-runs them)
  // The recompute modules (RecomputeModules) a forward op belongs to, as bits.
  enum : unsigned { kLayerNorm = 1, kMlaUp = 2, kMlp = 4, kMoe = 8, kMoeAct = 16, kShared = 32, kMlpFc1 = 64 };
  unsigned module_ = 0;
  std::vector<std::pair<size_t, unsigned>> tagged_;  // index into g_.ops, modules
  int64_t t_ = 1, tokens_ = 0, rows_ = 0;
  double act_bytes_ = 2;
};

// Transformer layers on each pipeline stage: the first and last stage's counts where given,
// the rest split evenly, the remainder to the middle stages first (the first and last carry
// the embedding and the head).
std::vector<int> LayersPerStage(int L, int pp, int first_stage_layers, int last_stage_layers) {
  std::vector<int> per_stage(size_t(pp), 0);
  if (pp == 1) {
    per_stage[0] = L;
    return per_stage;
  }
  const int first = first_stage_layers > 0 ? first_stage_layers : -1;
  const int last = last_stage_layers > 0 ? last_stage_layers : -1;
  int fixed = 0, free_stages = pp;
  if (first > 0) fixed += first, --free_stages;
  if (last > 0) fixed += last, --free_stages;
  const int rest = std::max(0, L - fixed);
  const int base = free_stages > 0 ? rest / free_stages : 0;
  int rem = free_stages > 0 ? rest % free_stages : 0;
  for (int s = 0; s < pp; ++s) {
    if (s == 0 && first > 0)
      per_stage[0] = first;
    else if (s == pp - 1 && last > 0)
      per_stage[size_t(s)] = last;
    else
      per_stage[size_t(s)] = base;
  }
  for (int s = 1; s < pp - 1 && rem > 0; ++s)
    if (!(s == 0 && first > 0) && !(s == pp - 1 && last > 0)) ++per_stage[size_t(s)], --rem;
  for (int s = 0; s < pp && rem > 0; ++s)
    if (!(s == 0 && first > 0) && !(s == pp - 1 && last > 0)) ++per_stage[size_t(s)], --rem;
  return per_stage;
}

}  // namespace

StepGraph BuildStepGraph(const model::Architecture& a, const Parallelism& p, const StepOptions& o, int first_stage_layers,
                         int last_stage_layers) {
  PF_CHECK(a.layers > 0 && p.pp >= 1 && p.pp <= a.layers, "pp = {} for {} layers", p.pp, a.layers);
  StepGraph g;
  g.options = o;
  g.tokens = o.micro_batch * o.seq_len / std::max(1, p.cp);
  const int64_t t = p.tp, h = a.hidden, T = g.tokens;
  const int64_t rows = p.sequence_parallel ? (T + t - 1) / t : T;
  const double act_bytes = BytesPerElement(o.act_dtype);

  const std::vector<int> per_stage = LayersPerStage(a.layers, p.pp, first_stage_layers, last_stage_layers);
  // Full recompute of some layers (StepOptions::recompute_layers): each stage's first ones.
  std::vector<bool> recomputed(size_t(a.layers), o.recompute == Recompute::kFull);
  if (o.recompute == Recompute::kFull && o.recompute_layers > 0) {
    for (int s = 0, layer = 0; s < p.pp; ++s)
      for (int i = 0; i < per_stage[size_t(s)] && layer < a.layers; ++i, ++layer)
        recomputed[size_t(layer)] = i < o.recompute_layers;
  }
  StepOptions stored = o;  // the layers that keep their activations
  stored.recompute = Recompute::kNone;

  // Distinct layer kinds, in first-seen order.
  std::vector<int> kind_of(size_t(a.layers));
  for (int i = 0; i < a.layers; ++i) {
    const bool moe = model::IsMoeLayer(a, i), sliding = model::IsSlidingLayer(a, i), rc = recomputed[size_t(i)];
    int found = -1;
    for (size_t k = 0; k < g.kinds.size(); ++k)
      if (g.kinds[k].moe == moe && g.kinds[k].sliding == sliding && g.kinds[k].recomputed == rc) found = int(k);
    if (found < 0) {
      LayerGraph lg;
      lg.moe = moe;
      lg.sliding = sliding;
      lg.recomputed = rc;
      const bool partial = o.recompute == Recompute::kFull && o.recompute_layers > 0;
      lg.what = std::string(moe ? "moe" : "dense") + (sliding ? " sliding" : "") +
                (partial ? (rc ? " recomputed" : " stored") : "");
      LayerBuilder(a, p, o.recompute == Recompute::kFull && !rc ? stored : o, &lg).Build(moe, sliding);
      const double attn = AttentionParamsPerLayer(a) / double(t);
      if (moe) {
        const model::Moe& e = a.moe;
        const double shared = e.num_shared_experts * DenseMlpParams(a, e.shared_expert_ffn_hidden);
        lg.params = attn + (shared + double(h) * e.num_experts) / double(t);
        lg.expert_params = e.num_experts * DenseMlpParams(a, e.expert_ffn_hidden) / double(std::max(1, p.ep) * t);
      } else {
        lg.params = attn + DenseMlpParams(a, a.ffn_hidden) / double(t);
      }
      g.kinds.push_back(std::move(lg));
      found = int(g.kinds.size() - 1);
    }
    kind_of[size_t(i)] = found;
  }

  // Embedding (vocab-parallel, Megatron): gather then a TP all-reduce (reduce-scatter with SP).
  {
    Op e;
    e.name = "embedding";
    e.kind = OpKind::kEmbedding;
    e.m = T, e.n = h;
    g.embedding_ops.push_back(e);
    e.pass = Pass::kBackward;
    if (!o.lora.enabled()) g.embedding_ops.push_back(e);  // LoRA: the frozen embedding gets no gradient
    if (t > 1) {
      CommOp c;
      c.name = "embedding";
      c.kind = p.sequence_parallel ? CommKind::kTpReduceScatter : CommKind::kTpAllReduce;
      c.bytes = Bytes(double(T) * double(h) * act_bytes);
      g.embedding_comms.push_back(c);
    }
  }
  // Head: final norm, LM head (column-parallel over the vocabulary), fused cross-entropy.
  {
    Op n;
    n.name = "final norm";
    n.kind = OpKind::kNorm;
    n.m = rows, n.n = h;
    n.layer_norm = a.norm == model::Norm::kLayerNorm;
    g.head_ops.push_back(n);
    n.pass = Pass::kBackward;
    g.head_ops.push_back(n);
    const int64_t vshard = (a.vocab + t - 1) / t;
    Op f;
    f.name = "lm head";
    f.kind = OpKind::kMatmul;
    f.m = T, f.k = h, f.n = vshard;
    f.low_precision = false;  // Transformer Engine keeps the output layer in bf16
    g.head_ops.push_back(f);
    Op dg = f;
    dg.pass = Pass::kBackward;
    dg.n = h, dg.k = vshard;
    g.head_ops.push_back(dg);
    Op wg = f;
    wg.pass = Pass::kBackward;
    wg.m = h, wg.k = T;
    if (!o.lora.enabled()) g.head_ops.push_back(wg);  // LoRA: the LM head is frozen
    Op ce;
    ce.name = "cross-entropy";
    ce.kind = OpKind::kCrossEntropy;
    ce.m = T, ce.n = vshard;
    g.head_ops.push_back(ce);
    // Composer evaluates its train metrics after each micro-batch's backward, on the logits
    // that micro-batch's forward kept (Trainer._train_microbatch → _eval_train_metrics).
    for (int i = 0; i < o.logit_metrics; ++i) {
      Op metric;
      metric.name = "train metric";
      metric.kind = OpKind::kLogitMetric;
      metric.pass = Pass::kBackward;
      metric.m = T, metric.n = vshard;
      g.head_ops.push_back(metric);
    }
    if (t > 1) {
      CommOp c;
      c.name = "lm head";
      c.bytes = Bytes(double(T) * double(h) * act_bytes);
      c.kind = p.sequence_parallel ? CommKind::kTpAllGather : CommKind::kTpAllReduce;
      c.pass = p.sequence_parallel ? Pass::kForward : Pass::kBackward;
      g.head_comms.push_back(c);
      if (p.sequence_parallel) {
        c.kind = CommKind::kTpReduceScatter;
        c.pass = Pass::kBackward;
        g.head_comms.push_back(c);
      }
    }
  }

  // Layers per stage (per_stage, above).
  const int pp = p.pp, L = a.layers;
  const double embed_params = double(a.vocab) * h / double(t) + (a.positions == model::Positions::kLearned ? double(a.max_positions) * h : 0.0);
  int layer = 0;
  g.stages.resize(size_t(pp));
  for (int s = 0; s < pp; ++s) {
    StageGraph& st = g.stages[size_t(s)];
    st.layers_of_kind.assign(g.kinds.size(), 0);
    st.layers = per_stage[size_t(s)];
    for (int i = 0; i < st.layers && layer < L; ++i, ++layer) {
      const LayerGraph& k = g.kinds[size_t(kind_of[size_t(layer)])];
      ++st.layers_of_kind[size_t(kind_of[size_t(layer)])];
      st.params += k.params;
      st.expert_params += k.expert_params;
      st.adapter_params += k.adapter_params;
    }
    st.embedding = s == 0;
    st.head = s == pp - 1;
    st.head_passes = st.head ? 1 + std::max(0, o.mtp_layers) : 0;
    // Multi-token prediction: one more layer of the last layer's kind per module, on the last stage.
    for (int i = 0; st.head && L > 0 && i < o.mtp_layers; ++i) {
      const LayerGraph& k = g.kinds[size_t(kind_of[size_t(L - 1)])];
      ++st.layers_of_kind[size_t(kind_of[size_t(L - 1)])];
      ++st.layers;
      st.params += k.params;
      st.expert_params += k.expert_params;
      st.adapter_params += k.adapter_params;
    }
    st.matmul_params = st.params + st.expert_params;
    if (st.embedding) st.params += embed_params;
    // The output layer: its own matrix, or a second copy of the tied one when pp > 1.
    if (st.head && (!a.tied_embeddings || pp > 1)) st.params += double(a.vocab) * h / double(t);
    if (st.head) st.matmul_params += double(a.vocab) * h / double(t);
  }
  return g;
}

}  // namespace pf::graph
