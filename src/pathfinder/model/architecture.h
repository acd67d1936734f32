// model/architecture: the shape of one transformer language model — dense (MHA, GQA, MQA),
// mixture-of-experts, DeepSeek multi-head latent attention (MLA) and sliding-window
// attention — as plain numbers, plus Validate() for the rules no single field can check.
// spec/ builds it from data/models/<name>.yaml or a Hugging Face config.json; graph/,
// memory/ and the simulators read it. No file I/O here.
//
// How to add a model: write data/models/<name>.yaml (no code). How to add an architecture
// feature: add the field here, its row in spec/model_spec.cc's field table, its parameter
// and FLOP accounting in counts.cc, a rule in Validate if it constrains other fields, and a
// published-count test in counts_test.cc.
#pragma once

#include <string>
#include <vector>

namespace pf::model {

// Feed-forward block. Gated kinds (SwiGLU, GeGLU) have three matrices (gate, up, down),
// the others two (up, down). Shazeer 2020, "GLU Variants Improve Transformer".
enum class MlpKind { kSwiGlu, kGeGlu, kGelu, kRelu, kSquaredRelu };
bool IsGated(MlpKind kind);

enum class Positions { kRope, kLearned, kAlibi, kNone };
enum class Norm { kLayerNorm, kRmsNorm };

// Which linear layers carry a bias vector.
//   kNone:      no biases anywhere (Llama, MPT's no_bias, DeepSeek).
//   kQkv:       q, k, v projections only (Qwen2 / Qwen2.5).
//   kAttention: q, k, v and the output projection (HF `attention_bias: true`, e.g. GPT-OSS
//               attention without MLP biases).
//   kAll:       every linear layer, the MoE router and the LayerNorms (GPT-2/GPT-3, Megatron
//               GPT; GPT-OSS's experts and router).
enum class Bias { kNone, kQkv, kAttention, kAll };

// Mixture of experts. A layer i (0-based) is an MoE layer when num_experts > 0,
// i >= first_dense_layers and (i - first_dense_layers) % layer_every == 0; other layers
// use the dense MLP of width ffn_hidden (DeepSeek-V3 `first_k_dense_replace`,
// `moe_layer_freq`).
struct Moe {
  int num_experts = 0;          // routed experts per MoE layer; 0 = dense model
  int top_k = 0;                // routed experts each token uses
  int num_shared_experts = 0;   // experts every token uses (DeepSeek, Qwen2-MoE)
  int expert_ffn_hidden = 0;    // hidden width of one routed expert's MLP
  int shared_expert_ffn_hidden = 0;  // hidden width of one shared expert's MLP
  int first_dense_layers = 0;   // leading dense layers (DeepSeek-V3: 3)
  int layer_every = 1;          // every n-th layer after those is MoE
};

// DeepSeek multi-head latent attention (DeepSeek-V2 paper, arXiv:2405.04434, §2.1).
// Active when kv_lora_rank > 0; heads/head_dim/kv_heads are then not used for attention.
struct Mla {
  int q_lora_rank = 0;  // 0 = queries projected directly from the hidden state
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
};

// Sliding-window attention. window = 0: every layer attends to the whole context.
// Otherwise layer i (0-based) uses full attention when full_attention_every > 0 and
// (i + 1) % full_attention_every == 0, and the window otherwise; full_attention_every = 0
// makes every layer sliding (Mistral-7B v0.1). GPT-OSS alternates: window 128, every 2nd
// layer full (HF `layer_types`).
struct SlidingWindow {
  int window = 0;  // tokens
  int full_attention_every = 0;
};

struct Architecture {
  std::string name;    // preset id, e.g. "llama-3-70b"
  std::string family;  // "llama", "gpt", "mixtral", "deepseek", ...

  int vocab = 0;
  int hidden = 0;
  int layers = 0;
  int heads = 0;
  int kv_heads = 0;  // = heads for MHA, 1 for MQA; 0 until ResolveDefaults (= heads)
  int head_dim = 0;  // 0 until ResolveDefaults (= hidden / heads)
  int ffn_hidden = 0;  // hidden width of the dense MLP

  MlpKind mlp = MlpKind::kSwiGlu;
  Positions positions = Positions::kRope;
  int max_positions = 0;  // context length the model was built for (learned table size)
  Norm norm = Norm::kRmsNorm;
  Bias bias = Bias::kNone;
  bool tied_embeddings = false;  // output projection shares the input embedding matrix
  bool parallel_blocks = false;  // attention and MLP read the same normed input (GPT-J, PaLM): one norm per layer
  bool qk_norm = false;          // RMSNorm over q and k per head (Qwen3): 2·head_dim weights per layer
  bool attention_sinks = false;  // one learned logit per head per layer (GPT-OSS)

  Moe moe;
  Mla mla;
  SlidingWindow sliding;
};

inline bool IsMoe(const Architecture& a) { return a.moe.num_experts > 0; }
inline bool IsMla(const Architecture& a) { return a.mla.kv_lora_rank > 0; }
bool IsMoeLayer(const Architecture& a, int layer);      // 0-based
bool IsSlidingLayer(const Architecture& a, int layer);  // 0-based
int NumMoeLayers(const Architecture& a);

// Fills the derived defaults: kv_heads = heads, head_dim = hidden / heads (when heads
// divides hidden). Leaves everything else as is.
void ResolveDefaults(Architecture& a);

// A rule that the whole architecture breaks; key_path is relative to the model section
// (e.g. "kv_heads", "moe.top_k").
struct Problem {
  std::string key_path;
  std::string message;
};

// Checks the cross-field rules (heads divide, top_k ≤ experts, MLA dims set, ...). Expects
// ResolveDefaults to have run. An empty result means the counts and graph are well defined.
std::vector<Problem> Validate(const Architecture& a);

}  // namespace pf::model
