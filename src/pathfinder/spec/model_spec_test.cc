// Model loading: every preset loads cleanly, presets agree with the validation tables,
// overrides and hf_config paths work, and mistakes give exact messages.
#include "pathfinder/spec/model_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "pathfinder/model/counts.h"
#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

struct Loaded {
  std::optional<model::Architecture> arch;
  Diagnostics diag;
  ProvenanceMap prov;
};

Loaded LoadSection(const std::string& yaml, const std::string& file = "t.yaml", const std::string& base_dir = "") {
  Loaded l;
  LoadContext ctx{file, "scenario", &l.diag, &l.prov};
  const YAML::Node root = YAML::Load(yaml);
  l.arch = LoadModelSection(root["model"], ctx, "model", base_dir);
  return l;
}

TEST(ModelPresets, EveryPresetLoadsWithNoDiagnostics) {
  const auto names = ListPresets(PresetKind::kModel);
  ASSERT_GE(names.size(), 30u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    Diagnostics diag;
    ProvenanceMap prov;
    auto a = LoadModelByName(name, diag, &prov);
    ASSERT_TRUE(a.has_value()) << diag.Render();
    EXPECT_EQ(diag.entries().size(), 0u) << diag.Render();
    EXPECT_EQ(a->name, name);
    EXPECT_FALSE(prov.at("hidden").source.empty()) << "every preset cites a source";
  }
}

TEST(ModelPresets, TheRequiredPresetsExist) {
  const auto names = ListPresets(PresetKind::kModel);
  for (const char* n : {"gpt3-175b", "gpt-1.7b", "gpt-3.6b", "gpt-7.5b", "gpt-18b", "gpt-39b", "gpt-76b", "gpt-145b", "gpt-310b",
                        "gpt-530b", "gpt-1t", "mpt-1b", "mpt-3b", "mpt-7b", "mpt-13b", "mpt-30b", "mpt-70b", "llama-2-7b",
                        "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b",
                        "llama-3.1-405b", "llama-3.3-70b", "mixtral-8x7b", "deepseek-v3", "qwen3-30b-a3b", "qwen3-235b-a22b",
                        "gpt-oss-120b"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
}

// A minimal CSV reader (quoted fields with "" escapes), enough for the validation tables.
std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field), field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field), field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

long LeadingInt(const std::string& s) { return std::atol(s.c_str()); }

TEST(ModelPresets, AgreeWithTheValidationTrainingTable) {
  const std::string path = std::string(PF_SHARED_DIR) + "/validation/training_results.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  // Validation-table model names → presets. Rows not listed (GPT 22B, Nemotron-4, the
  // NeMo/MLPerf GPT-3 with its 50304-token padded vocabulary) have no preset.
  const std::map<std::string, std::string> preset_of = {
      {"GPT 1.7B (Megatron)", "gpt-1.7b"},     {"GPT 3.6B (Megatron)", "gpt-3.6b"},
      {"GPT 7.5B (Megatron)", "gpt-7.5b"},     {"GPT 18.4B (Megatron)", "gpt-18b"},
      {"GPT 39.1B (Megatron)", "gpt-39b"},     {"GPT 76.1B (Megatron)", "gpt-76b"},
      {"GPT 145.6B (Megatron)", "gpt-145b"},   {"GPT 529.6B (Megatron)", "gpt-530b"},
      {"GPT 530B (Megatron)", "gpt-530b"},     {"GPT 1008.0B (Megatron)", "gpt-1t"},
      {"GPT 1T (Megatron)", "gpt-1t"},         {"GPT 174.6B (Megatron)", "gpt3-175b"},
      {"GPT 175B (Megatron)", "gpt3-175b"},    {"Llama 2 7B", "llama-2-7b"},
      {"Llama 2 13B", "llama-2-13b"},          {"Llama 2 70B", "llama-2-70b"},
      {"Llama 2 70B (LoRA r=16)", "llama-2-70b"}, {"Llama 3 8B", "llama-3-8b"},
      {"Llama 3 70B", "llama-3-70b"},          {"Llama 3.1 405B", "llama-3.1-405b"},
      {"DeepSeek-V3 671B", "deepseek-v3"},     {"GPT-OSS-120B", "gpt-oss-120b"},
      {"Qwen3-235B-A22B", "qwen3-235b-a22b"},  {"Qwen3-30B-A3B", "qwen3-30b-a3b"},
      {"MPT-1B (llm-foundry)", "mpt-1b"},      {"MPT-3B (llm-foundry)", "mpt-3b"},
      {"MPT-7B (llm-foundry)", "mpt-7b"},      {"MPT-13B (llm-foundry)", "mpt-13b"},
      {"MPT-30B (llm-foundry)", "mpt-30b"},    {"MPT-70B (llm-foundry)", "mpt-70b"}};
  const auto rows = ReadCsv(path);
  ASSERT_GT(rows.size(), 1u);
  std::map<std::string, int> col;
  for (size_t i = 0; i < rows[0].size(); ++i) col[rows[0][i]] = static_cast<int>(i);
  int checked = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    auto it = preset_of.find(row[col["model"]]);
    if (it == preset_of.end()) continue;
    SCOPED_TRACE(row[col["id"]] + " → " + it->second);
    Diagnostics diag;
    auto a = LoadModelByName(it->second, diag);
    ASSERT_TRUE(a.has_value()) << diag.Render();
    EXPECT_EQ(a->layers, LeadingInt(row[col["layers"]]));
    EXPECT_EQ(a->hidden, LeadingInt(row[col["hidden"]]));
    EXPECT_EQ(a->heads, LeadingInt(row[col["heads"]]));
    if (row[col["kv_heads"]] != "MLA") {
      EXPECT_EQ(a->kv_heads, LeadingInt(row[col["kv_heads"]]));
    }
    const std::string ffn = row[col["ffn_hidden"]];
    const bool per_expert = ffn.find("per expert") != std::string::npos && ffn.find("dense") == std::string::npos;
    EXPECT_EQ(per_expert ? a->moe.expert_ffn_hidden : a->ffn_hidden, LeadingInt(ffn));
    if (ffn.find("/ ") != std::string::npos) {
      EXPECT_EQ(a->moe.expert_ffn_hidden, LeadingInt(ffn.substr(ffn.find("/ ") + 2)));
    }
    EXPECT_EQ(a->vocab, LeadingInt(row[col["vocab"]]));
    if (!row[col["moe_experts"]].empty()) {
      EXPECT_EQ(a->moe.num_experts, LeadingInt(row[col["moe_experts"]]));
      EXPECT_EQ(a->moe.top_k, LeadingInt(row[col["moe_topk"]]));
    }
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST(ModelSection, PresetThenOverrides) {
  auto l = LoadSection("model: {preset: llama-3-70b, layers: 40}\n");
  ASSERT_TRUE(l.arch.has_value()) << l.diag.Render();
  EXPECT_EQ(l.arch->layers, 40);
  EXPECT_EQ(l.arch->hidden, 8192);
  EXPECT_EQ(l.arch->kv_heads, 8);
  EXPECT_EQ(l.arch->name, "llama-3-70b");
  EXPECT_EQ(l.prov.at("model.layers").source, "scenario");
  EXPECT_NE(l.prov.at("model.hidden").source.find("Llama 3"), std::string::npos);
}

TEST(ModelSection, NestedOverridesKeepTheOtherNestedFields) {
  auto l = LoadSection("model: {preset: deepseek-v3, moe: {top_k: 4}}\n");
  ASSERT_TRUE(l.arch.has_value()) << l.diag.Render();
  EXPECT_EQ(l.arch->moe.top_k, 4);
  EXPECT_EQ(l.arch->moe.num_experts, 256);
  EXPECT_EQ(l.arch->mla.kv_lora_rank, 512);
}

TEST(ModelSection, PresetsCanStartFromAnotherPreset) {
  auto l = LoadSection("model: {preset: llama-3.3-70b}\n");
  ASSERT_TRUE(l.arch.has_value()) << l.diag.Render();
  EXPECT_EQ(l.arch->name, "llama-3.3-70b");
  EXPECT_EQ(l.arch->max_positions, 131072);
  EXPECT_EQ(l.arch->ffn_hidden, 28672);
}

TEST(ModelSection, InlineArchitecture) {
  auto l = LoadSection(
      "model:\n  name: tiny\n  vocab: 1000\n  hidden: 64\n  layers: 2\n  heads: 4\n  kv_heads: 2\n  ffn_hidden: 128\n");
  ASSERT_TRUE(l.arch.has_value()) << l.diag.Render();
  EXPECT_EQ(l.arch->head_dim, 16);
  // 2 layers × (attention 64·64·2 + 64·32·2 + MLP 3·64·128 + 2·64 norms) + 64 + 2·1000·64.
  EXPECT_DOUBLE_EQ(model::Count(*l.arch).total_params, 2.0 * (8192 + 4096 + 24576 + 128) + 64 + 128000);
}

TEST(ModelSection, HfConfigRelativeToTheScenarioFolder) {
  const std::string dir = DataDir() + "/models";
  auto l = LoadSection("model: {hf_config: hf/mixtral-8x7b/config.json, layers: 4}\n", dir + "/scenario.yaml");
  ASSERT_TRUE(l.arch.has_value()) << l.diag.Render();
  EXPECT_EQ(l.arch->moe.num_experts, 8);
  EXPECT_EQ(l.arch->layers, 4);
  auto b = LoadSection("model: {hf_config: mixtral-8x7b/config.json}\n", "t.yaml", DataDir() + "/models/hf");
  ASSERT_TRUE(b.arch.has_value()) << b.diag.Render();
  EXPECT_EQ(b.arch->layers, 32);
}

TEST(ModelSection, UnknownPresetSuggestsTheClosest) {
  auto l = LoadSection("model: {preset: lama-3-70b}\n");
  EXPECT_FALSE(l.arch.has_value());
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:1:17: error: model.preset: unknown model preset 'lama-3-70b'; did you mean 'llama-3-70b'?\n"
            "1 error; nothing was simulated.\n");
}

TEST(ModelSection, ValidationProblemsAreReportedAtTheSection) {
  auto l = LoadSection("model:\n  preset: llama-3-70b\n  kv_heads: 7\n");
  EXPECT_FALSE(l.arch.has_value());
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:2:3: error: model.kv_heads: kv_heads = 7 does not divide heads = 64 (model llama-3-70b)\n"
            "1 error; nothing was simulated.\n");
}

TEST(ModelSection, ReportsEveryProblemAtOnce) {
  auto l = LoadSection("model:\n  name: x\n  vocab: 100\n  hiden: 64\n  heads: 4\n  mlp: swigl\n");
  EXPECT_FALSE(l.arch.has_value());
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:4:3: error: model.hiden: unknown key; did you mean 'hidden'?\n"
            "t.yaml:6:8: error: model.mlp: unknown value 'swigl'; did you mean 'swiglu'?\n"
            "t.yaml:2:3: error: model.hidden: missing; add it (model width d_model)\n"
            "t.yaml:2:3: error: model.layers: missing; add it (transformer blocks)\n"
            "4 errors; nothing was simulated.\n");
}

TEST(ModelSection, PresetAndHfConfigTogetherIsAnError) {
  auto l = LoadSection("model: {preset: llama-3-70b, hf_config: x.json}\n");
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:1:41: error: model.hf_config: give either preset or hf_config, not both\n"
            "1 error; nothing was simulated.\n");
}

TEST(ModelSection, AScalarIsAPresetName) {
  auto l = LoadSection("model: llama-3-70b\n");
  EXPECT_FALSE(l.diag.has_errors()) << l.diag.Render();
  ASSERT_TRUE(l.arch);
  EXPECT_EQ(l.arch->layers, 80);
  auto bad = LoadSection("model: lama-3-70b\n");
  EXPECT_EQ(bad.diag.Render(),
            "t.yaml:1:8: error: model: unknown model preset 'lama-3-70b'; did you mean 'llama-3-70b'?\n"
            "1 error; nothing was simulated.\n");
}

TEST(ModelSection, HfConfigErrorsNameTheConfigFile) {
  auto l = LoadSection("model: {hf_config: missing/config.json}\n", "dir/t.yaml");
  EXPECT_EQ(l.diag.Render(), "dir/missing/config.json: error: no such file\n1 error; nothing was simulated.\n");
}

TEST(LoadModelByName, UnknownNameSuggestsTheClosest) {
  Diagnostics diag;
  EXPECT_FALSE(LoadModelByName("mixtral-8x7", diag).has_value());
  EXPECT_EQ(diag.Render(),
            "error: model: unknown model preset 'mixtral-8x7'; did you mean 'mixtral-8x7b'?\n1 error; nothing was simulated.\n");
}

TEST(ArchitectureSchema, DescribesNestedFieldsWithUnitsAndDefaults) {
  std::vector<FieldDoc> docs;
  ArchitectureSchema().Describe("model", &docs);
  std::map<std::string, FieldDoc> by_path;
  for (const auto& d : docs) by_path[d.path] = d;
  EXPECT_EQ(by_path.at("model.name").default_text, "required");
  EXPECT_EQ(by_path.at("model.kv_heads").default_text, "heads");
  EXPECT_EQ(by_path.at("model.moe.top_k").unit, "integer");
  EXPECT_EQ(by_path.at("model.mlp").unit, "one of: swiglu, geglu, gelu, relu, squared_relu");
  EXPECT_TRUE(by_path.count("model.mla.kv_lora_rank"));
  EXPECT_TRUE(by_path.count("model.sliding_window.full_attention_every"));
}

}  // namespace
}  // namespace pf::spec
