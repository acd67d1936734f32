// Hugging Face config.json → model::Architecture, one importer per model_type. Key names
// and defaults follow the transformers configuration classes (configuration_llama.py,
// _mistral, _mixtral, _qwen2, _qwen3, _qwen3_moe, _deepseek_v3, _gpt_oss).
#include "pathfinder/spec/hf_config.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

using nlohmann::json;

// Reads typed keys from the parsed config, recording diagnostics and provenance.
class Reader {
 public:
  Reader(const json& j, const std::string& text, std::string file, std::string model_type, Diagnostics& diag,
         ProvenanceMap* prov, std::string key_path)
      : j_(j), text_(text), file_(std::move(file)), type_(std::move(model_type)), diag_(diag), prov_(prov),
        key_path_(std::move(key_path)) {}

  // Position of the key's first appearance in the text (nlohmann keeps no positions).
  SourceLocation Where(const std::string& key) const {
    const size_t at = text_.find("\"" + key + "\"");
    if (at == std::string::npos) return {file_, 0, 0};
    return LocationOfOffset(file_, text_, at);
  }
  void Error(const std::string& key, std::string msg) { diag_.Error(Where(key), key, std::move(msg)); }
  bool Has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  // A whole number ≥ min; `field` names the Architecture field it sets (for provenance).
  int Int(const std::string& key, const std::string& field, std::optional<long> fallback, long min = 1) {
    if (!Has(key)) {
      if (fallback) return static_cast<int>(*fallback);
      Error(key, fmt::format("missing; a {} config.json needs it", type_));
      return 0;
    }
    const json& v = j_.at(key);
    long n = 0;
    if (v.is_number_integer()) {
      n = v.get<long>();
    } else if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long>(v.get<double>()))) {
      n = static_cast<long>(v.get<double>());
    } else {
      Error(key, fmt::format("expected a whole number, got {}", v.dump()));
      return 0;
    }
    if (n < min || n > 1'000'000'000) {
      Error(key, fmt::format("{} is out of range; allowed: {} … 1000000000", n, min));
      return 0;
    }
    Record(field, key);
    return static_cast<int>(n);
  }
  bool Bool(const std::string& key, const std::string& field, bool fallback) {
    if (!Has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_boolean()) {
      Error(key, fmt::format("expected true or false, got {}", v.dump()));
      return fallback;
    }
    Record(field, key);
    return v.get<bool>();
  }
  std::string Text(const std::string& key, const std::string& fallback) {
    if (!Has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_string()) {
      Error(key, fmt::format("expected a string, got {}", v.dump()));
      return fallback;
    }
    return v.get<std::string>();
  }
  const json* Get(const std::string& key) const { return Has(key) ? &j_.at(key) : nullptr; }
  void Record(const std::string& field, const std::string& key) {
    if (prov_ != nullptr && !field.empty()) (*prov_)[JoinPath(key_path_, field)] = {file_ + ": " + key, false, Where(key)};
  }
  const std::string& type() const { return type_; }

 private:
  const json& j_;
  const std::string& text_;
  std::string file_, type_;
  Diagnostics& diag_;
  ProvenanceMap* prov_;
  std::string key_path_;
};

void ReadActivation(Reader& r, model::Architecture& a) {
  const std::string act = r.Text("hidden_act", "silu");
  if (act == "silu" || act == "swish") {
    a.mlp = model::MlpKind::kSwiGlu;
  } else if (act == "gelu" || act == "gelu_pytorch_tanh" || act == "gelu_new") {
    a.mlp = model::MlpKind::kGeGlu;
  } else {
    r.Error("hidden_act", fmt::format("unsupported activation '{}'; supported: silu, gelu, gelu_pytorch_tanh", act));
  }
}

// The keys every Llama-derived config shares (LlamaConfig and its descendants).
void ReadLlamaCore(Reader& r, model::Architecture& a) {
  a.family = r.type();
  a.vocab = r.Int("vocab_size", "vocab", std::nullopt);
  a.hidden = r.Int("hidden_size", "hidden", std::nullopt);
  a.layers = r.Int("num_hidden_layers", "layers", std::nullopt);
  a.heads = r.Int("num_attention_heads", "heads", std::nullopt);
  a.kv_heads = r.Int("num_key_value_heads", "kv_heads", a.heads);
  a.head_dim = r.Int("head_dim", "head_dim", 0L, 0);
  a.ffn_hidden = r.Int("intermediate_size", "ffn_hidden", std::nullopt);
  a.max_positions = r.Int("max_position_embeddings", "max_positions", 0L, 0);
  a.tied_embeddings = r.Bool("tie_word_embeddings", "tied_embeddings", false);
  a.positions = model::Positions::kRope;
  a.norm = model::Norm::kRmsNorm;
  ReadActivation(r, a);
}

// Qwen2/Qwen3 put sliding-window attention on the layers ≥ max_window_layers, which
// Architecture cannot express; every released config has it off.
void RejectQwenSlidingWindow(Reader& r) {
  if (r.Bool("use_sliding_window", "", false))
    r.Error("use_sliding_window", "true is not supported (sliding window on layers ≥ max_window_layers); every released Qwen config has false");
}

void ImportLlama(Reader& r, model::Architecture& a) {
  ReadLlamaCore(r, a);
  const bool attn_bias = r.Bool("attention_bias", "bias", false);
  const bool mlp_bias = r.Bool("mlp_bias", "bias", false);
  if (mlp_bias && !attn_bias) r.Error("mlp_bias", "mlp_bias without attention_bias is not supported");
  a.bias = mlp_bias ? model::Bias::kAll : attn_bias ? model::Bias::kAttention : model::Bias::kNone;
}

void ReadMistralWindow(Reader& r, model::Architecture& a) {
  a.sliding.window = r.Int("sliding_window", "sliding_window.window", 0L, 0);
  a.sliding.full_attention_every = 0;  // every layer (MistralConfig)
}

void ImportMistral(Reader& r, model::Architecture& a) {
  ReadLlamaCore(r, a);
  ReadMistralWindow(r, a);
}

void ImportMixtral(Reader& r, model::Architecture& a) {
  ReadLlamaCore(r, a);
  ReadMistralWindow(r, a);
  a.moe.num_experts = r.Int("num_local_experts", "moe.num_experts", std::nullopt);
  a.moe.top_k = r.Int("num_experts_per_tok", "moe.top_k", std::nullopt);
  a.moe.expert_ffn_hidden = a.ffn_hidden;  // Mixtral experts use intermediate_size
}

void ImportQwen2(Reader& r, model::Architecture& a) {
  ReadLlamaCore(r, a);
  RejectQwenSlidingWindow(r);
  a.bias = model::Bias::kQkv;  // Qwen2Attention: q/k/v with bias, o_proj without
}

void ImportQwen3(Reader& r, model::Architecture& a) {
  ReadLlamaCore(r, a);
  RejectQwenSlidingWindow(r);
  a.qk_norm = true;  // Qwen3Attention: q_norm, k_norm over head_dim
  a.bias = r.Bool("attention_bias", "bias", false) ? model::Bias::kAttention : model::Bias::kNone;
}

void ImportQwen3Moe(Reader& r, model::Architecture& a) {
  ImportQwen3(r, a);
  a.moe.num_experts = r.Int("num_experts", "moe.num_experts", std::nullopt);
  a.moe.top_k = r.Int("num_experts_per_tok", "moe.top_k", std::nullopt);
  a.moe.expert_ffn_hidden = r.Int("moe_intermediate_size", "moe.expert_ffn_hidden", std::nullopt);
  if (r.Int("decoder_sparse_step", "", 1L) != 1)
    r.Error("decoder_sparse_step", "only 1 (every layer MoE) is supported; released Qwen3-MoE configs use 1");
  if (const json* m = r.Get("mlp_only_layers"); m != nullptr && !(m->is_array() && m->empty()))
    r.Error("mlp_only_layers", "only [] is supported; released Qwen3-MoE configs use []");
}

void ImportDeepSeekV3(Reader& r, model::Architecture& a) {
  a.family = "deepseek";
  a.vocab = r.Int("vocab_size", "vocab", std::nullopt);
  a.hidden = r.Int("hidden_size", "hidden", std::nullopt);
  a.layers = r.Int("num_hidden_layers", "layers", std::nullopt);
  a.heads = r.Int("num_attention_heads", "heads", std::nullopt);
  a.kv_heads = a.heads;  // MLA: every head has its own (decompressed) key and value
  a.ffn_hidden = r.Int("intermediate_size", "ffn_hidden", std::nullopt);
  a.max_positions = r.Int("max_position_embeddings", "max_positions", 0L, 0);
  a.tied_embeddings = r.Bool("tie_word_embeddings", "tied_embeddings", false);
  if (r.Bool("attention_bias", "", false)) r.Error("attention_bias", "true is not supported for MLA");
  ReadActivation(r, a);
  a.mla.q_lora_rank = r.Int("q_lora_rank", "mla.q_lora_rank", 0L, 0);  // null in V2-Lite: no compression
  a.mla.kv_lora_rank = r.Int("kv_lora_rank", "mla.kv_lora_rank", std::nullopt);
  a.mla.qk_nope_head_dim = r.Int("qk_nope_head_dim", "mla.qk_nope_head_dim", std::nullopt, 0);
  a.mla.qk_rope_head_dim = r.Int("qk_rope_head_dim", "mla.qk_rope_head_dim", std::nullopt, 0);
  a.mla.v_head_dim = r.Int("v_head_dim", "mla.v_head_dim", std::nullopt);
  a.moe.num_experts = r.Int("n_routed_experts", "moe.num_experts", std::nullopt);
  a.moe.top_k = r.Int("num_experts_per_tok", "moe.top_k", std::nullopt);
  a.moe.num_shared_experts = r.Int("n_shared_experts", "moe.num_shared_experts", 0L, 0);
  a.moe.expert_ffn_hidden = r.Int("moe_intermediate_size", "moe.expert_ffn_hidden", std::nullopt);
  a.moe.shared_expert_ffn_hidden = a.moe.num_shared_experts > 0 ? a.moe.expert_ffn_hidden : 0;
  a.moe.first_dense_layers = r.Int("first_k_dense_replace", "moe.first_dense_layers", 0L, 0);
  a.moe.layer_every = r.Int("moe_layer_freq", "moe.layer_every", 1L);
  // num_nextn_predict_layers (the MTP module) is not part of the main model: not counted.
}

void ImportGptOss(Reader& r, model::Architecture& a) {
  ReadLlamaCore(r, a);
  a.family = "gpt-oss";
  a.mlp = model::MlpKind::kSwiGlu;  // clamped SwiGLU (swiglu_limit); same shapes
  // GptOssAttention has q/k/v/o biases (attention_bias: true); experts and router always do.
  a.bias = model::Bias::kAll;
  a.attention_sinks = true;
  a.moe.num_experts = r.Int("num_local_experts", "moe.num_experts", std::nullopt);
  a.moe.top_k = r.Int(r.Get("num_experts_per_tok") != nullptr ? "num_experts_per_tok" : "experts_per_token", "moe.top_k",
                      std::nullopt);
  a.moe.expert_ffn_hidden = a.ffn_hidden;
  a.sliding.window = r.Int("sliding_window", "sliding_window.window", 0L, 0);
  const json* types = r.Get("layer_types");
  if (a.sliding.window == 0 || types == nullptr) return;
  // layer_types: find n such that layer i is "full_attention" exactly when (i+1) % n == 0.
  if (!types->is_array() || static_cast<int>(types->size()) != a.layers) {
    r.Error("layer_types", fmt::format("expected a list of {} layer types", a.layers));
    return;
  }
  std::vector<bool> full;
  for (const auto& t : *types) full.push_back(t.is_string() && t.get<std::string>() == "full_attention");
  int every = 0;  // stays 0 when no layer is full: all sliding
  for (int i = 0; i < a.layers; ++i)
    if (full[i]) {
      every = i + 1;
      break;
    }
  for (int i = 0; i < a.layers; ++i) {
    const bool want = every > 0 && (i + 1) % every == 0;
    if (full[i] != want) {
      r.Error("layer_types", "only a regular pattern is supported: every n-th layer full_attention, the others sliding_attention");
      return;
    }
  }
  a.sliding.full_attention_every = every;
  r.Record("sliding_window.full_attention_every", "layer_types");
}

using Importer = std::function<void(Reader&, model::Architecture&)>;
const std::map<std::string, Importer>& Importers() {
  static const std::map<std::string, Importer> kImporters = {
      {"deepseek_v3", ImportDeepSeekV3}, {"gpt_oss", ImportGptOss}, {"llama", ImportLlama},
      {"mistral", ImportMistral},        {"mixtral", ImportMixtral}, {"qwen2", ImportQwen2},
      {"qwen3", ImportQwen3},            {"qwen3_moe", ImportQwen3Moe},
  };
  return kImporters;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 3, column 5:
// syntax error while parsing ..."; keep what follows the position.
std::string ParseErrorMessage(const std::string& what) {
  const size_t col = what.find(", column ");
  const size_t colon = col == std::string::npos ? std::string::npos : what.find(": ", col);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

const std::vector<std::string>& SupportedHfModelTypes() {
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> v;
    for (const auto& [k, _] : Importers()) v.push_back(k);
    return v;
  }();
  return kTypes;
}

std::optional<model::Architecture> ParseHfConfig(const std::string& json_text, const std::string& file, const std::string& name,
                                                 Diagnostics& diag, ProvenanceMap* provenance, const std::string& key_path) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset of the last byte read.
    diag.Error(LocationOfOffset(file, json_text, e.byte > 0 ? e.byte - 1 : 0), "",
               "JSON syntax error: " + ParseErrorMessage(e.what()));
    return std::nullopt;
  } catch (const json::exception& e) {
    // A number beyond double range ("number overflow parsing '1e400'"): nlohmann gives no
    // offset, so point at the first occurrence of the quoted token.
    const std::string what = e.what();
    const size_t open = what.find('\''), close = what.rfind('\'');
    size_t at = 0;
    if (open != std::string::npos && close > open + 1) {
      at = json_text.find(what.substr(open + 1, close - open - 1));
      if (at == std::string::npos) at = 0;
    }
    const size_t bracket = what.find("] ");
    diag.Error(
        LocationOfOffset(file, json_text, at), "",
        (bracket == std::string::npos ? what : what.substr(bracket + 2)) + " (a number beyond what a double holds)");
    return std::nullopt;
  }
  if (!j.is_object()) {
    diag.Error({file, 1, 1}, "", "expected a JSON object (a Hugging Face config.json)");
    return std::nullopt;
  }
  const int errors_before = diag.error_count();
  Reader r(j, json_text, file, "", diag, provenance, key_path);
  if (!r.Has("model_type")) {
    diag.Error({file, 0, 0}, "model_type", "missing; a Hugging Face config.json names its architecture in model_type");
    return std::nullopt;
  }
  const std::string type = r.Text("model_type", "");
  const auto it = Importers().find(type);
  if (it == Importers().end()) {
    diag.Error(r.Where("model_type"), "model_type",
               fmt::format("unsupported architecture '{}'; supported: {}", type, Join(SupportedHfModelTypes(), ", ")));
    return std::nullopt;
  }
  model::Architecture a;
  a.name = name;
  Reader typed(j, json_text, file, type, diag, provenance, key_path);
  it->second(typed, a);
  if (diag.error_count() > errors_before) return std::nullopt;
  model::ResolveDefaults(a);
  return a;
}

std::optional<model::Architecture> ImportHfConfig(const std::string& path, Diagnostics& diag, ProvenanceMap* provenance,
                                                  const std::string& key_path) {
  auto text = ReadTextFile(path, diag);
  if (!text) return std::nullopt;
  const std::string name = std::filesystem::path(path).parent_path().filename().string();
  return ParseHfConfig(*text, path, name.empty() ? "hf-config" : name, diag, provenance, key_path);
}

}  // namespace pf::spec
