// The model field table and the three ways to load a model section (preset, hf_config,
// inline), plus loading by name for the CLI.
#include "pathfinder/spec/model_spec.h"

#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "pathfinder/spec/file.h"
#include "pathfinder/spec/hf_config.h"

namespace pf::spec {
namespace {

namespace fs = std::filesystem;
using model::Architecture;

// Preset files may start from another preset; deeper chains than this are a cycle.
constexpr int kMaxPresetDepth = 8;

std::shared_ptr<const Schema<model::Moe>> MoeSchema() {
  auto s = std::make_shared<Schema<model::Moe>>("moe");
  s->Integer("num_experts", &model::Moe::num_experts, "routed experts per MoE layer (0 = dense model)", 0, 1 << 20).Default("0");
  s->Integer("top_k", &model::Moe::top_k, "routed experts each token uses", 0, 1 << 20).Default("0");
  s->Integer("num_shared_experts", &model::Moe::num_shared_experts, "experts every token uses (DeepSeek, Qwen2-MoE)", 0, 1024)
      .Default("0");
  s->Integer("expert_ffn_hidden", &model::Moe::expert_ffn_hidden, "hidden width of one routed expert's MLP", 0, 1 << 24);
  s->Integer("shared_expert_ffn_hidden", &model::Moe::shared_expert_ffn_hidden, "hidden width of one shared expert's MLP", 0,
             1 << 24);
  s->Integer("first_dense_layers", &model::Moe::first_dense_layers, "leading layers with a dense MLP (DeepSeek-V3: 3)", 0,
             1 << 20)
      .Default("0");
  s->Integer("layer_every", &model::Moe::layer_every, "every n-th layer after first_dense_layers is MoE", 1, 1 << 20)
      .Default("1");
  return s;
}

std::shared_ptr<const Schema<model::Mla>> MlaSchema() {
  auto s = std::make_shared<Schema<model::Mla>>("mla");
  s->Integer("q_lora_rank", &model::Mla::q_lora_rank, "query compression rank (0 = none)", 0, 1 << 20).Default("0");
  s->Integer("kv_lora_rank", &model::Mla::kv_lora_rank, "key/value latent rank; > 0 makes attention MLA", 0, 1 << 20)
      .Default("0");
  s->Integer("qk_nope_head_dim", &model::Mla::qk_nope_head_dim, "per-head query/key width without rope", 0, 1 << 16);
  s->Integer("qk_rope_head_dim", &model::Mla::qk_rope_head_dim, "per-head query/key width with rope (key shared)", 0, 1 << 16);
  s->Integer("v_head_dim", &model::Mla::v_head_dim, "per-head value width", 0, 1 << 16);
  return s;
}

std::shared_ptr<const Schema<model::SlidingWindow>> SlidingSchema() {
  auto s = std::make_shared<Schema<model::SlidingWindow>>("sliding_window");
  s->Integer("window", &model::SlidingWindow::window, "tokens a sliding-window layer attends to (0 = no window)", 0, 1 << 30)
      .Default("0");
  s->Integer("full_attention_every", &model::SlidingWindow::full_attention_every,
             "every n-th layer uses full attention, the rest the window (0 = all layers sliding)", 0, 1 << 20)
      .Default("0");
  return s;
}

Schema<Architecture> MakeArchitectureSchema() {
  Schema<Architecture> s("model");
  s.Reserved("preset").Reserved("hf_config");
  s.Text("name", &Architecture::name, "model id (a preset's file stem)").Required();
  s.Text("family", &Architecture::family, "architecture family: llama, gpt, mpt, mixtral, deepseek, qwen3, gpt-oss, ...");
  s.Integer("vocab", &Architecture::vocab, "vocabulary size (rows of the embedding)", 1, 1 << 30).Required();
  s.Integer("hidden", &Architecture::hidden, "model width d_model", 1, 1 << 24).Required();
  s.Integer("layers", &Architecture::layers, "transformer blocks", 1, 1 << 20).Required();
  s.Integer("heads", &Architecture::heads, "query heads", 1, 1 << 20).Required();
  s.Integer("kv_heads", &Architecture::kv_heads, "key/value heads: = heads (MHA), 1 (MQA), a divisor of heads (GQA)", 1,
            1 << 20)
      .Default("heads");
  s.Integer("head_dim", &Architecture::head_dim, "width of one attention head", 1, 1 << 16).Default("hidden / heads");
  s.Integer("ffn_hidden", &Architecture::ffn_hidden, "hidden width of the dense MLP", 1, 1 << 24);
  s.Choice<model::MlpKind>("mlp", &Architecture::mlp, "MLP kind; swiglu and geglu are gated (3 matrices), the others 2",
                           {{"swiglu", model::MlpKind::kSwiGlu},
                            {"geglu", model::MlpKind::kGeGlu},
                            {"gelu", model::MlpKind::kGelu},
                            {"relu", model::MlpKind::kRelu},
                            {"squared_relu", model::MlpKind::kSquaredRelu}})
      .Default("swiglu");
  s.Choice<model::Positions>("positions", &Architecture::positions, "position encoding",
                             {{"rope", model::Positions::kRope},
                              {"learned", model::Positions::kLearned},
                              {"alibi", model::Positions::kAlibi},
                              {"none", model::Positions::kNone}})
      .Default("rope");
  s.Integer("max_positions", &Architecture::max_positions, "context length the model was built for (learned: table size)", 0,
            1 << 30)
      .Default("0");
  s.Choice<model::Norm>("norm", &Architecture::norm, "normalization",
                        {{"layernorm", model::Norm::kLayerNorm}, {"rmsnorm", model::Norm::kRmsNorm}})
      .Default("rmsnorm");
  s.Choice<model::Bias>("bias", &Architecture::bias,
                        "linear layers with a bias: none, qkv (Qwen2), attention (q,k,v,o), all (+ MLP, router, LayerNorm)",
                        {{"none", model::Bias::kNone},
                         {"qkv", model::Bias::kQkv},
                         {"attention", model::Bias::kAttention},
                         {"all", model::Bias::kAll}})
      .Default("none");
  s.Flag("tied_embeddings", &Architecture::tied_embeddings, "output projection shares the input embedding").Default("false");
  s.Flag("parallel_blocks", &Architecture::parallel_blocks, "attention and MLP in parallel on one normed input (GPT-J, PaLM)")
      .Default("false");
  s.Flag("qk_norm", &Architecture::qk_norm, "RMSNorm on queries and keys per head (Qwen3)").Default("false");
  s.Flag("attention_sinks", &Architecture::attention_sinks, "a learned sink logit per head (GPT-OSS)").Default("false");
  s.Nested("moe", &Architecture::moe, MoeSchema(), "mixture of experts (absent = dense)");
  s.Nested("mla", &Architecture::mla, MlaSchema(), "DeepSeek multi-head latent attention (absent = GQA/MHA)");
  s.Nested("sliding_window", &Architecture::sliding, SlidingSchema(), "sliding-window attention (absent = none)");
  return s;
}

std::string ParentDir(const std::string& file) {
  const fs::path p = fs::path(file).parent_path();
  return p.empty() ? "." : p.string();
}

// Applies `node` (a model section, or a preset file's top level) on top of `arch`: first
// its preset or hf_config, then its own keys. Sets *has_base when a preset or hf_config
// supplied the required fields.
void Apply(const YAML::Node& node, LoadContext& ctx, const std::string& key_path, const std::string& base_dir,
           Architecture& arch, int depth, bool* has_base) {
  const Schema<Architecture>& schema = ArchitectureSchema();
  // Loads preset `preset` (a scalar node) into arch; `ppath` is its key path.
  auto load_preset = [&](const YAML::Node& preset, const std::string& ppath) {
    if (!preset.IsScalar()) return ctx.Error(preset, ppath, "expected a model preset name, e.g. llama-3-70b");
    if (depth >= kMaxPresetDepth) return ctx.Error(preset, ppath, "presets refer to each other in a cycle");
    const std::string name = preset.Scalar();
    const auto file = FindPreset(PresetKind::kModel, name, *ctx.diag, ctx.At(preset), ppath);
    if (!file) return;
    const auto root = LoadYamlFile(*file, *ctx.diag);
    if (!root) return;
    LoadContext pctx{*file, (*root)["source"] ? ScalarText((*root)["source"]) : "", ctx.diag, ctx.provenance};
    bool preset_has_base = false;
    Apply(*root, pctx, key_path, ParentDir(*file), arch, depth + 1, &preset_has_base);
    if (!preset_has_base) schema.CheckRequired({*root}, *root, key_path, pctx);
    if (const YAML::Node n = (*root)["name"]; n && n.IsScalar() && n.Scalar() != name)
      pctx.Error(n, JoinPath(key_path, "name"), fmt::format("'{}' differs from the preset's file name '{}'", n.Scalar(), name));
  };
  if (node.IsScalar()) {
    // `model: llama-3-70b` is short for `model: {preset: llama-3-70b}`.
    *has_base = true;
    return load_preset(node, key_path);
  }
  if (!node.IsMap()) {
    schema.Load(node, arch, ctx, key_path);  // reports "expected a section with keys"
    return;
  }
  const YAML::Node preset = node["preset"];
  const YAML::Node hf = node["hf_config"];
  // With a preset or hf_config, the required fields come from there: a failure to load it
  // is the one error, not five "missing" ones.
  if (preset || hf) *has_base = true;
  if (preset && hf) {
    ctx.Error(hf, JoinPath(key_path, "hf_config"), "give either preset or hf_config, not both");
    return;
  }
  if (preset) {
    load_preset(preset, JoinPath(key_path, "preset"));
  } else if (hf) {
    const std::string hpath = JoinPath(key_path, "hf_config");
    if (!hf.IsScalar()) return ctx.Error(hf, hpath, "expected the path of a Hugging Face config.json");
    fs::path p(hf.Scalar());
    if (p.is_relative()) p = fs::path(base_dir) / p;
    auto imported = ImportHfConfig(p.string(), *ctx.diag, ctx.provenance, key_path);
    if (!imported) return;
    arch = *imported;
  }
  schema.Load(node, arch, ctx, key_path);
}

}  // namespace

const Schema<Architecture>& ArchitectureSchema() {
  static const Schema<Architecture> kSchema = MakeArchitectureSchema();
  return kSchema;
}

std::optional<Architecture> LoadModelSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path,
                                             const std::string& base_dir) {
  const int errors_before = ctx.diag->error_count();
  Architecture arch;
  bool has_base = false;
  Apply(node, ctx, key_path, base_dir.empty() ? ParentDir(ctx.file) : base_dir, arch, 0, &has_base);
  if (!has_base && node.IsMap()) ArchitectureSchema().CheckRequired({node}, node, key_path, ctx);
  if (ctx.diag->error_count() > errors_before) return std::nullopt;
  model::ResolveDefaults(arch);
  for (const model::Problem& p : model::Validate(arch)) {
    ctx.Error(node, JoinPath(key_path, p.key_path), arch.name.empty() ? p.message : p.message + " (model " + arch.name + ")");
  }
  if (ctx.diag->error_count() > errors_before) return std::nullopt;
  return arch;
}

std::optional<Architecture> LoadModelByName(const std::string& preset_name_or_config_path, Diagnostics& diag,
                                            ProvenanceMap* provenance) {
  const std::string& s = preset_name_or_config_path;
  auto ends_with = [&](const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".json")) {
    const int errors_before = diag.error_count();
    auto arch = ImportHfConfig(s, diag, provenance, "");
    if (!arch) return std::nullopt;
    for (const model::Problem& p : model::Validate(*arch)) diag.Error({s, 0, 0}, p.key_path, p.message);
    if (diag.error_count() > errors_before) return std::nullopt;
    return arch;
  }
  std::string file = s;
  if (!ends_with(".yaml") && !ends_with(".yml") && s.find('/') == std::string::npos) {
    auto preset = FindPreset(PresetKind::kModel, s, diag, {}, "model");
    if (!preset) return std::nullopt;
    file = *preset;
  }
  const auto root = LoadYamlFile(file, diag);
  if (!root) return std::nullopt;
  LoadContext ctx{file, (*root)["source"] ? ScalarText((*root)["source"]) : "", &diag, provenance};
  return LoadModelSection(*root, ctx, "");
}

}  // namespace pf::spec
