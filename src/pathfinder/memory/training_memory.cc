// Bytes per chip of a training step and the fit check (see training_memory.h).
#include "pathfinder/memory/training_memory.h"

#include <fmt/core.h>

#include <algorithm>

#include "pathfinder/core/check.h"

namespace pf::memory {

double KorthikantiBytesPerLayer(double s, double b, double h, double heads, double t, bool sp, graph::Recompute r) {
  const double attn = 5.0 * heads * s / h;
  if (r == graph::Recompute::kFull) return 2.0 * s * b * h / (sp ? t : 1.0);
  const double scores = r == graph::Recompute::kSelective ? 0.0 : attn;
  if (sp) return s * b * h / t * (34.0 + scores);
  return s * b * h * (10.0 + 24.0 / t + scores / t);
}

Bytes ActivationBytesPerLayer(const model::Architecture& a, const graph::Parallelism& p, const graph::StepOptions& o,
                              bool moe) {
  const double e = BytesPerElement(o.act_dtype);
  const double t = p.tp;
  const double T = double(o.micro_batch) * double(o.seq_len) / double(std::max(1, p.cp));
  const double h = a.hidden;
  const double repl = p.sequence_parallel ? t : 1.0;  // tensors replicated over TP unless SP
  if (o.recompute == graph::Recompute::kFull) return Bytes(T * h * e / repl);  // the layer input

  // Korthikanti et al. 2022 §4.1, tensor by tensor, generalised to GQA/MLA/gated/MoE.
  // LoRA: a linear's input is stored only for its weight gradient, so a frozen linear without
  // an adapter stores none (Transformer Engine saves the input only when the weight requires a
  // gradient: `backward_needs_input` in its Linear); an adapted one also stores u = x·A (T×r).
  const graph::Lora& lora = o.lora;
  const auto keeps = [&](bool target) { return !lora.enabled() || target ? 1.0 : 0.0; };
  // A linear stores its input for the weight gradient in the dtype its GEMM reads: in FP8,
  // Transformer Engine keeps the FP8 copy it cast (Linear and LayerNormLinear save the cast
  // input, not the 16-bit one), so those inputs take 1 byte an element. The attention output
  // is then kept twice: 16-bit for the attention's backward, FP8 for the out-projection's.
  const double li = o.matmul_dtype == DType::kFp8 ? BytesPerElement(DType::kFp8) : e;
  const double proj_copy = li < e ? li : 0.0;
  double bytes = 0;
  if (lora.enabled()) {
    const double adapted = double(lora.qkv) + double(lora.proj) + double(lora.fc1) + double(lora.fc2);
    bytes += adapted * T * double(lora.rank) * e;
  }
  // Selective recompute (graph::RecomputeModules): a module re-run in backward stores only its
  // input (moe_act, layernorm and mla_up_proj discard just their outputs).
  const bool sel = o.recompute == graph::Recompute::kSelective;
  const graph::RecomputeModules& rm = o.recompute_modules;
  const bool norm_out = !(sel && rm.layernorm);  // the norms' outputs are kept
  const double norms = a.parallel_blocks ? 1 : 2;
  bytes += norms * T * h * e / repl;                           // norm inputs
  if (norm_out) bytes += keeps(lora.qkv) * T * h * li / repl;  // QKV input (the normed activations)
  const double mask = o.dropout ? 1.0 : 0.0;  // 1-byte dropout masks
  double heads_local = double(a.heads) / t;
  if (model::IsMla(a)) {
    const model::Mla& m = a.mla;
    const double qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    bytes += T * (m.q_lora_rank + m.kv_lora_rank + m.qk_rope_head_dim) * li;  // latents (up-projection inputs)
    if (!(sel && rm.mla_up_proj)) bytes += T * heads_local * (2 * qk + m.v_head_dim) * e;  // Q, K, V
    bytes += T * heads_local * m.v_head_dim * (e + proj_copy);                // attention output
  } else {
    const double hd = a.head_dim;
    const double kv_local = std::max(1.0, double(a.kv_heads) / t);
    bytes += T * (heads_local + 2 * kv_local) * hd * e;  // Q, K, V
    bytes += T * heads_local * hd * (e + proj_copy);     // attention output = out-proj input
  }
  if (!o.flash_attention && !(sel && rm.core_attn)) {
    // softmax output (e), dropout mask (1 B), dropout output (e) on heads × q × kv scores
    bytes += heads_local * T * double(o.seq_len) * (2 * e + 1);
  }
  bytes += mask * T * h / repl;  // attention dropout mask
  const double gate = model::IsGated(a.mlp) ? 2 : 1;
  // fc1 in, activation in, fc2 in; a recomputed MLP keeps its input only, a recomputed
  // activation drops its output (the fc2 input). The activation's input takes a byte an
  // element when stored in fp8 (graph::StepOptions::fp8_activation_input).
  const double act_in = o.fp8_activation_input ? BytesPerElement(DType::kFp8) : e;
  auto mlp = [&](double rows, double ffn_local, bool frozen, bool recomputed, bool act_recomputed) {
    const double fc1_in = frozen ? 0.0 : keeps(lora.fc1), fc2_in = frozen ? 0.0 : keeps(lora.fc2);
    if (recomputed) return fc1_in * rows * h * li;
    return fc1_in * rows * h * li + rows * gate * ffn_local * act_in +
           (act_recomputed ? 0.0 : fc2_in * rows * ffn_local * li);
  };
  if (moe) {
    const model::Moe& m = a.moe;
    const double routed = T * m.top_k * std::max(1.0, o.moe_imbalance);
    if (norm_out) bytes += T * h * e / repl;  // router input (the normed activations)
    if (!(sel && rm.moe)) {
      bytes += T * m.num_experts * 4.0;  // router probabilities (fp32)
      bytes += mlp(routed, double(m.expert_ffn_hidden) / t, lora.enabled(), false,
                   sel && rm.moe_act);  // expert MLPs on permuted tokens
      if (m.num_shared_experts > 0)
        bytes += mlp(T, double(m.num_shared_experts) * m.shared_expert_ffn_hidden / t, false, sel && rm.shared_experts,
                     false) -
                 keeps(lora.fc1) * T * h * li;
    }
  } else {
    // A recomputed first linear and activation (mlp_fc1) keep what a recomputed MLP keeps.
    bytes += mlp(T, double(a.ffn_hidden) / t, false, sel && (rm.mlp || rm.mlp_fc1), false) +
             keeps(lora.fc1) * (T * h * li / repl - T * h * li);  // fc1 input replicated unless SP
    if (!norm_out) bytes -= keeps(lora.fc1) * T * h * li / repl;  // the fc1 input is the norm's output
  }
  bytes += mask * T * h / repl;  // MLP dropout mask
  return Bytes(bytes);
}

std::vector<StageMemory> TrainingMemory(const model::Architecture& a, const graph::Parallelism& p,
                                        const graph::StepGraph& g, const MemoryOptions& m) {
  const graph::StepOptions& o = g.options;
  const double wb = BytesPerElement(m.weight_dtype), gb = BytesPerElement(m.grad_dtype);
  const double dense_shard = double(m.shard_group > 0 ? m.shard_group : p.dp) * p.cp;
  const double expert_shard = std::max(1.0, dense_shard / std::max(1, p.ep));
  const int pp = p.pp;
  const double v = std::max(1, m.virtual_stages);

  // One layer of each kind without recompute: what full recompute rebuilds during backward.
  graph::StepOptions no_rc = o;
  no_rc.recompute = graph::Recompute::kNone;
  // Under full recompute of some layers (graph::StepOptions::recompute_layers), a kind that is
  // not recomputed stores its activations as without recompute.
  std::vector<Bytes> stored(g.kinds.size()), full(g.kinds.size());
  for (size_t k = 0; k < g.kinds.size(); ++k) {
    const bool kept = o.recompute == graph::Recompute::kFull && !g.kinds[k].recomputed;
    stored[k] = ActivationBytesPerLayer(a, p, kept ? no_rc : o, g.kinds[k].moe);
    full[k] = ActivationBytesPerLayer(a, p, no_rc, g.kinds[k].moe);
  }
  const double T = double(g.tokens), h = a.hidden, e = BytesPerElement(o.act_dtype);

  std::vector<StageMemory> out;
  out.reserve(g.stages.size());
  for (int s = 0; s < pp; ++s) {
    const graph::StageGraph& st = g.stages[size_t(s)];
    StageMemory r;
    r.stage = s;
    const double dense = st.params, experts = st.expert_params;
    auto shard = [&](int from_stage, double d, double x) {
      return m.zero_stage >= from_stage ? d / dense_shard + x / expert_shard : d + x;
    };
    // LoRA: the frozen weights have no gradients and no optimizer states; the adapters have
    // all three (sharded like dense parameters).
    const double trained_dense = o.lora.enabled() ? st.adapter_params : dense;
    const double trained_experts = o.lora.enabled() ? 0.0 : experts;
    // LoRA adapters are 16-bit beside fp8 weights (only the base linears are stored in fp8).
    const double adapter_b = std::max(wb, BytesPerElement(DType::kBf16));
    r.weights = Bytes(shard(3, dense, experts) * wb + shard(3, st.adapter_params, 0.0) * adapter_b);
    r.gradients = Bytes(shard(2, trained_dense, trained_experts) * gb);
    r.optimizer = Bytes(shard(1, trained_dense, trained_experts) * m.optimizer_bytes_per_param);

    // Micro-batches in flight at the peak: 1F1B keeps pp − s on stage s (Narayanan et al.
    // 2021 §2.2.1); interleaving multiplies the first stage's by 1 + (pp − 1)/(pp·v)
    // (Korthikanti et al. 2022 §4.2.3).
    double in_flight = std::min<double>(double(m.microbatches), double(pp - s));
    if (v > 1 && pp > 1) in_flight *= 1.0 + double(pp - 1) / (double(pp) * v);
    r.in_flight = in_flight;
    Bytes per_mb;
    Bytes largest_layer;
    for (size_t k = 0; k < g.kinds.size(); ++k) {
      per_mb += stored[k] * double(st.layers_of_kind[k]);
      if (st.layers_of_kind[k] > 0 && g.kinds[k].recomputed) largest_layer = Max(largest_layer, full[k]);
    }
    // Offloaded layers: their share of the layers' activations leaves the chip, but for the
    // one layer in transit (the stage's layers at their mean size).
    // A count outside [0, the stage's layers] is the caller's bug (train::Simulator rejects it
    // with its reason before it gets here), never clamped.
    PF_CHECK(m.offload_layers >= 0 && m.offload_layers <= st.layers,
             "offload_layers {} outside 0..{}, the layers of stage {}", m.offload_layers, st.layers, s);
    if (m.offload_layers > 0) {
      const Bytes mean_layer = per_mb / double(st.layers);
      r.offloaded = mean_layer * double(m.offload_layers);
      per_mb = per_mb - r.offloaded + mean_layer;
    }
    if (st.embedding) per_mb += Bytes(T * h * e / (p.sequence_parallel ? p.tp : 1));
    r.activations = per_mb * in_flight;
    // Full recompute rebuilds one layer's activations at a time during backward (largest_layer
    // is zero on a stage without recomputed layers).
    r.activations += largest_layer;
    // The last stage's logits in fp32 for the vocab-parallel cross-entropy (Megatron upcasts).
    // (Once per head pass: multi-token prediction runs the head again per module.)
    if (st.head) r.activations += Bytes(T * double((a.vocab + p.tp - 1) / p.tp) * 4.0 * std::max(1, st.head_passes));

    // Buffers: FSDP/ZeRO-3 gathers a layer's weights and prefetches the next (2 layers);
    // TP collectives stage one activation tensor; MoE dispatch/combine hold the routed tokens.
    Bytes buffers;
    if (m.zero_stage >= 3 && st.layers > 0) {
      double unit = (dense + experts) / st.layers;
      if (m.gather_per_weight && !model::IsMoe(a) && !model::IsMla(a)) {
        const double t = p.tp, hd = a.head_dim, gate = model::IsGated(a.mlp) ? 2.0 : 1.0;
        unit = std::min(unit, std::max({h * (a.heads + 2.0 * a.kv_heads) * hd / t, a.heads * hd * h / t,
                                        gate * h * double(a.ffn_hidden) / t}));
      }
      buffers += Bytes(2.0 * unit * BytesPerElement(m.gather_dtype));
    }
    if (p.tp > 1) buffers += Bytes(2.0 * T * h * e);
    if (model::IsMoe(a) && p.ep > 1) buffers += Bytes(2.0 * T * a.moe.top_k * h * e);
    r.buffers = buffers;
    const Bytes allocated = r.weights + r.gradients + r.optimizer + r.activations + r.buffers;
    r.overhead = allocated * m.allocator_overhead;
    r.total = allocated + r.overhead;
    out.push_back(r);
  }
  return out;
}

Fit CheckFit(const std::vector<StageMemory>& stages, Bytes hbm) {
  Fit f;
  for (const StageMemory& s : stages) {
    if (s.total > f.worst) {
      f.worst = s.total;
      f.worst_stage = s.stage;
    }
  }
  if (hbm.value() > 0 && f.worst > hbm) {
    f.ok = false;
    f.reason = fmt::format("stage {} needs {} > {} HBM", f.worst_stage, ToString(f.worst, 3), ToString(hbm, 3));
  }
  return f;
}

}  // namespace pf::memory
