// model/counts: exact parameter counts (total and active per token), model FLOPs per token,
// weight bytes and KV-cache bytes of an Architecture. Pure arithmetic on the shapes; the
// tensor-by-tensor accounting is in counts.cc and is checked against published counts in
// counts_test.cc.
//
// Definitions (DESIGN.md "Definitions"; stated here once):
//   * N_active = parameters touched per token EXCLUDING embeddings (input embedding, output
//     projection, learned position table): attention, MLP / routed top_k + shared experts,
//     routers, norms. = Counts::active_non_embedding_params.
//   * d_attn = heads·head_dim (GQA/MHA/MQA: the query width). For MLA the query·key width
//     heads·(qk_nope+qk_rope) and the value width heads·v_head_dim differ; d_attn is their
//     mean, so 4·d_attn·s = 2·s·(d_qk + d_v) counts QKᵀ and A·V exactly (the naive, not
//     the weight-absorbed, formulation).
//   * Forward FLOPs per token = 2·N_active + 4·Σ_layers d_attn·s_layer, and
//     training FLOPs per token = 3 × forward = 6·N_active + 12·L·d_attn·s.
//     s_layer = s, except min(s, window) on sliding-window layers (the context a token
//     actually attends to); no causal halving. The LM-head matmul (2·V·h per token) is not
//     in N_active by the definition; Counts::unembedding_params lets a caller add it.
#pragma once

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/model/architecture.h"

namespace pf::model {

struct Counts {
  double total_params = 0;
  // Per-token active parameters, counting every embedding matrix (input, output when
  // untied, positions) as active: the convention of Mixtral (12.9 B), Qwen3 (3.3 B / 22 B)
  // and DeepSeek-V3 (37 B). OpenAI's GPT-OSS card counts the unembedding only:
  // active_non_embedding_params + unembedding_params.
  double active_params = 0;
  double embedding_params = 0;  // input embedding + output projection (if untied) + learned positions
  double unembedding_params = 0;  // the output projection V·h (the shared matrix when tied)
  double non_embedding_params = 0;
  double active_non_embedding_params = 0;  // N_active of the FLOP definition

  // Breakdown of total_params (all layers): attention (incl. its norms inside MLA, qk-norm,
  // sinks), MLP (dense + experts + shared experts + routers), layer and final norms.
  double attention_params = 0;
  double mlp_params = 0;
  double norm_params = 0;
};

Counts Count(const Architecture& a);

// d_attn as defined above.
double AttentionWidth(const Architecture& a);

// REQUIRES: seq_len ≥ 0 (tokens of context each token attends to, the training sequence).
Flops ForwardFlopsPerToken(const Architecture& a, long seq_len);
// The same with the model's counts already at hand (Count(a)), for hot loops.
Flops ForwardFlopsPerToken(const Architecture& a, const Counts& counts, long seq_len);
Flops TrainingFlopsPerToken(const Architecture& a, long seq_len);

// All parameters stored in `dtype` (total_params × bytes per element).
Bytes WeightBytes(const Architecture& a, DType dtype);

// KV cache of one sequence of `context_len` tokens: GQA 2·kv_heads·head_dim per layer per
// token; MLA (kv_lora_rank + qk_rope_head_dim) per layer per token (the compressed latent
// and the shared rope key, DeepSeek-V2 §2.1.2); sliding-window layers hold at most
// `window` tokens.
Bytes KvCacheBytesPerSequence(const Architecture& a, DType dtype, long context_len);

// KV-cache bytes per token. context_len = 0: the marginal cost of one more token with no
// window cap (e.g. Llama-3-70B bf16: 2·80·8·128·2 = 327 680 B). context_len > 0: the mean
// per token over a sequence of that length, sliding-window layers capped at the window.
Bytes KvCacheBytesPerToken(const Architecture& a, DType dtype, long context_len = 0);

}  // namespace pf::model
