// Tensor-by-tensor parameter accounting, following the Hugging Face modeling files
// (modeling_llama, _mixtral, _qwen2, _qwen3, _qwen3_moe, _deepseek_v3, _gpt_oss) and
// Megatron-LM's GPT (Narayanan et al. 2021, eq. for P = 12·l·h²·(1 + 13/(12h) + (V+s)/(12lh))).
#include "pathfinder/model/counts.h"

#include <algorithm>

namespace pf::model {
namespace {

// Weights of one norm over `dim` features: a scale, plus a shift for LayerNorm with biases.
double NormParams(const Architecture& a, double dim) {
  return a.norm == Norm::kLayerNorm && a.bias == Bias::kAll ? 2 * dim : dim;
}

double MlpParams(const Architecture& a, double ffn) {
  const double h = a.hidden;
  const bool gated = IsGated(a.mlp);
  double p = (gated ? 3 : 2) * h * ffn;
  if (a.bias == Bias::kAll) p += (gated ? 2 : 1) * ffn + h;
  return p;
}

double AttentionParams(const Architecture& a) {
  const double h = a.hidden;
  double p = 0;
  if (IsMla(a)) {
    const Mla& m = a.mla;
    const double qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim;
    if (m.q_lora_rank > 0) {
      p += h * m.q_lora_rank + m.q_lora_rank /*q_a_layernorm*/ + double(m.q_lora_rank) * a.heads * qk_head;
    } else {
      p += h * a.heads * qk_head;
    }
    p += h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank /*kv_a_layernorm*/;
    p += double(m.kv_lora_rank) * a.heads * (m.qk_nope_head_dim + m.v_head_dim);
    p += double(a.heads) * m.v_head_dim * h;
  } else {
    const double dq = double(a.heads) * a.head_dim;
    const double dkv = double(a.kv_heads) * a.head_dim;
    p += h * dq + 2 * h * dkv + dq * h;
    if (a.bias != Bias::kNone) p += dq + 2 * dkv;
    if (a.bias == Bias::kAttention || a.bias == Bias::kAll) p += h;
    if (a.qk_norm) p += 2.0 * a.head_dim;
  }
  if (a.attention_sinks) p += a.heads;
  return p;
}

double RouterParams(const Architecture& a) {
  return double(a.hidden) * a.moe.num_experts + (a.bias == Bias::kAll ? a.moe.num_experts : 0);
}

}  // namespace

Counts Count(const Architecture& a) {
  Counts c;
  const double h = a.hidden;
  const double attn = AttentionParams(a);
  const double layer_norms = (a.parallel_blocks ? 1 : 2) * NormParams(a, h);
  const double dense_mlp = MlpParams(a, a.ffn_hidden);
  const double expert = MlpParams(a, a.moe.expert_ffn_hidden);
  const double shared = a.moe.num_shared_experts * MlpParams(a, a.moe.shared_expert_ffn_hidden);

  double mlp_total = 0, mlp_active = 0;
  for (int i = 0; i < a.layers; ++i) {
    if (IsMoeLayer(a, i)) {
      mlp_total += RouterParams(a) + a.moe.num_experts * expert + shared;
      mlp_active += RouterParams(a) + a.moe.top_k * expert + shared;
    } else {
      mlp_total += dense_mlp;
      mlp_active += dense_mlp;
    }
  }
  c.attention_params = a.layers * attn;
  c.mlp_params = mlp_total;
  c.norm_params = a.layers * layer_norms + NormParams(a, h) /*final norm*/;

  c.unembedding_params = double(a.vocab) * h;
  c.embedding_params = double(a.vocab) * h * (a.tied_embeddings ? 1 : 2);
  if (a.positions == Positions::kLearned) c.embedding_params += double(a.max_positions) * h;

  c.non_embedding_params = c.attention_params + c.mlp_params + c.norm_params;
  c.active_non_embedding_params = c.attention_params + mlp_active + c.norm_params;
  c.total_params = c.non_embedding_params + c.embedding_params;
  c.active_params = c.active_non_embedding_params + c.embedding_params;
  return c;
}

double AttentionWidth(const Architecture& a) {
  if (IsMla(a)) {
    const double dqk = double(a.heads) * (a.mla.qk_nope_head_dim + a.mla.qk_rope_head_dim);
    const double dv = double(a.heads) * a.mla.v_head_dim;
    return (dqk + dv) / 2;
  }
  return double(a.heads) * a.head_dim;
}

Flops ForwardFlopsPerToken(const Architecture& a, long seq_len) { return ForwardFlopsPerToken(a, Count(a), seq_len); }

Flops ForwardFlopsPerToken(const Architecture& a, const Counts& counts, long seq_len) {
  double span = 0;  // Σ over layers of the context each layer attends to
  for (int i = 0; i < a.layers; ++i) {
    span += IsSlidingLayer(a, i) ? std::min<double>(seq_len, a.sliding.window) : double(seq_len);
  }
  return Flops(2 * counts.active_non_embedding_params + 4 * AttentionWidth(a) * span);
}

Flops TrainingFlopsPerToken(const Architecture& a, long seq_len) { return 3.0 * ForwardFlopsPerToken(a, seq_len); }

Bytes WeightBytes(const Architecture& a, DType dtype) { return Bytes(Count(a).total_params * BytesPerElement(dtype)); }

namespace {
double KvElementsPerTokenPerLayer(const Architecture& a) {
  if (IsMla(a)) return double(a.mla.kv_lora_rank) + a.mla.qk_rope_head_dim;
  return 2.0 * a.kv_heads * a.head_dim;
}
}  // namespace

Bytes KvCacheBytesPerSequence(const Architecture& a, DType dtype, long context_len) {
  double tokens = 0;  // Σ over layers of the tokens each layer keeps
  for (int i = 0; i < a.layers; ++i) {
    tokens += IsSlidingLayer(a, i) ? std::min<double>(context_len, a.sliding.window) : double(context_len);
  }
  return Bytes(tokens * KvElementsPerTokenPerLayer(a) * BytesPerElement(dtype));
}

Bytes KvCacheBytesPerToken(const Architecture& a, DType dtype, long context_len) {
  if (context_len <= 0) return Bytes(a.layers * KvElementsPerTokenPerLayer(a) * BytesPerElement(dtype));
  return KvCacheBytesPerSequence(a, dtype, context_len) / double(context_len);
}

}  // namespace pf::model
