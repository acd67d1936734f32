// Layer classification, derived defaults and the cross-field rules of an Architecture.
#include "pathfinder/model/architecture.h"

#include <fmt/core.h>

namespace pf::model {

bool IsGated(MlpKind kind) { return kind == MlpKind::kSwiGlu || kind == MlpKind::kGeGlu; }

bool IsMoeLayer(const Architecture& a, int layer) {
  if (!IsMoe(a) || layer < a.moe.first_dense_layers) return false;
  const int every = a.moe.layer_every > 0 ? a.moe.layer_every : 1;
  return (layer - a.moe.first_dense_layers) % every == 0;
}

bool IsSlidingLayer(const Architecture& a, int layer) {
  if (a.sliding.window <= 0) return false;
  if (a.sliding.full_attention_every <= 0) return true;
  return (layer + 1) % a.sliding.full_attention_every != 0;
}

int NumMoeLayers(const Architecture& a) {
  int n = 0;
  for (int i = 0; i < a.layers; ++i) n += IsMoeLayer(a, i) ? 1 : 0;
  return n;
}

void ResolveDefaults(Architecture& a) {
  if (a.kv_heads == 0) a.kv_heads = a.heads;
  if (a.head_dim == 0 && a.heads > 0 && a.hidden % a.heads == 0) a.head_dim = a.hidden / a.heads;
}

std::vector<Problem> Validate(const Architecture& a) {
  std::vector<Problem> out;
  auto add = [&](std::string key, std::string msg) { out.push_back({std::move(key), std::move(msg)}); };
  auto positive = [&](const char* key, long v) {
    if (v <= 0) add(key, fmt::format("must be at least 1, got {}", v));
  };
  positive("vocab", a.vocab);
  positive("hidden", a.hidden);
  positive("layers", a.layers);
  positive("heads", a.heads);

  if (IsMla(a)) {
    if (a.mla.qk_nope_head_dim <= 0 && a.mla.qk_rope_head_dim <= 0)
      add("mla.qk_nope_head_dim", "MLA needs qk_nope_head_dim or qk_rope_head_dim; both are 0");
    if (a.mla.v_head_dim <= 0) add("mla.v_head_dim", fmt::format("MLA needs v_head_dim ≥ 1, got {}", a.mla.v_head_dim));
    if (a.mla.q_lora_rank < 0) add("mla.q_lora_rank", "must be 0 (no query compression) or more");
    if (a.bias != Bias::kNone) add("bias", "MLA attention has no biases (DeepSeek-V2/V3); set bias: none");
  } else if (a.heads > 0) {
    if (a.head_dim <= 0) {
      add("head_dim", a.hidden % a.heads != 0
                          ? fmt::format("not set, and hidden = {} is not divisible by heads = {}; set head_dim", a.hidden, a.heads)
                          : fmt::format("must be at least 1, got {}", a.head_dim));
    }
    if (a.kv_heads <= 0) {
      add("kv_heads", fmt::format("must be at least 1, got {}", a.kv_heads));
    } else if (a.kv_heads > a.heads) {
      add("kv_heads", fmt::format("kv_heads = {} is more than heads = {}", a.kv_heads, a.heads));
    } else if (a.heads % a.kv_heads != 0) {
      add("kv_heads", fmt::format("kv_heads = {} does not divide heads = {}", a.kv_heads, a.heads));
    }
  }

  const bool any_dense = a.layers > NumMoeLayers(a);
  if (any_dense && a.ffn_hidden <= 0) {
    add("ffn_hidden", IsMoe(a) ? fmt::format("the {} dense layers need ffn_hidden ≥ 1, got {}", a.layers - NumMoeLayers(a), a.ffn_hidden)
                               : fmt::format("must be at least 1, got {}", a.ffn_hidden));
  }
  if (a.positions == Positions::kLearned && a.max_positions <= 0)
    add("max_positions", "learned positions need max_positions (the size of the position table)");

  if (IsMoe(a)) {
    if (a.moe.top_k <= 0) add("moe.top_k", fmt::format("must be at least 1 for an MoE model, got {}", a.moe.top_k));
    if (a.moe.top_k > a.moe.num_experts)
      add("moe.top_k", fmt::format("top_k = {} is more than num_experts = {}", a.moe.top_k, a.moe.num_experts));
    if (a.moe.expert_ffn_hidden <= 0)
      add("moe.expert_ffn_hidden", fmt::format("must be at least 1 for an MoE model, got {}", a.moe.expert_ffn_hidden));
    if (a.moe.num_shared_experts > 0 && a.moe.shared_expert_ffn_hidden <= 0)
      add("moe.shared_expert_ffn_hidden",
          fmt::format("num_shared_experts = {} needs shared_expert_ffn_hidden ≥ 1", a.moe.num_shared_experts));
    if (a.moe.layer_every <= 0) add("moe.layer_every", fmt::format("must be at least 1, got {}", a.moe.layer_every));
    if (a.moe.first_dense_layers >= a.layers && a.layers > 0)
      add("moe.first_dense_layers",
          fmt::format("first_dense_layers = {} leaves no MoE layer in {} layers", a.moe.first_dense_layers, a.layers));
  } else if (a.moe.top_k > 0 || a.moe.num_shared_experts > 0) {
    add("moe.num_experts", "moe.top_k or moe.num_shared_experts is set but num_experts is 0");
  }
  if (a.moe.first_dense_layers < 0) add("moe.first_dense_layers", "must be 0 or more");

  if (a.sliding.window < 0) add("sliding_window.window", "must be 0 (no window) or more");
  if (a.sliding.full_attention_every < 0) add("sliding_window.full_attention_every", "must be 0 (all layers sliding) or more");
  if (a.sliding.window == 0 && a.sliding.full_attention_every > 0)
    add("sliding_window.window", "full_attention_every is set but window is 0");
  return out;
}

}  // namespace pf::model
