// Hugging Face config.json import: every shipped config matches its preset's counts, and
// bad configs give exact, positioned messages.
#include "pathfinder/spec/hf_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "pathfinder/model/counts.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/model_spec.h"

namespace pf::spec {
namespace {

std::string HfPath(const std::string& name) { return DataDir() + "/models/hf/" + name + "/config.json"; }

std::string Import(const std::string& text) {
  Diagnostics diag;
  auto a = ParseHfConfig(text, "c.json", "test", diag);
  EXPECT_EQ(a.has_value(), !diag.has_errors());
  return diag.Render();
}

TEST(HfConfig, SupportedTypesAreListedSorted) {
  EXPECT_EQ(Join(SupportedHfModelTypes(), ", "), "deepseek_v3, gpt_oss, llama, mistral, mixtral, qwen2, qwen3, qwen3_moe");
}

TEST(HfConfig, EveryShippedConfigMatchesItsPresetCounts) {
  const std::vector<std::string> names = {"llama-3.1-8b", "mistral-7b",    "mixtral-8x7b", "qwen2.5-7b",
                                          "qwen3-8b",     "qwen3-30b-a3b", "deepseek-v3",  "gpt-oss-120b"};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    Diagnostics diag;
    auto hf = LoadModelByName(HfPath(name), diag);
    ASSERT_TRUE(hf.has_value()) << diag.Render();
    EXPECT_EQ(diag.entries().size(), 0u) << diag.Render();
    EXPECT_EQ(hf->name, name);
    auto preset = LoadModelByName(name, diag);
    ASSERT_TRUE(preset.has_value()) << diag.Render();

    const model::Counts h = model::Count(*hf), p = model::Count(*preset);
    EXPECT_NEAR(h.total_params, p.total_params, 1e-3 * p.total_params);
    EXPECT_NEAR(h.active_params, p.active_params, 1e-3 * p.active_params);
    EXPECT_NEAR(h.embedding_params, p.embedding_params, 1e-3 * p.embedding_params);
    EXPECT_DOUBLE_EQ(model::TrainingFlopsPerToken(*hf, 4096).value(), model::TrainingFlopsPerToken(*preset, 4096).value());
    EXPECT_DOUBLE_EQ(model::KvCacheBytesPerToken(*hf, DType::kBf16, 32768).value(),
                     model::KvCacheBytesPerToken(*preset, DType::kBf16, 32768).value());
    EXPECT_EQ(hf->max_positions, preset->max_positions);
  }
}

TEST(HfConfig, GptOssLayerTypesBecomeEverySecondLayerFull) {
  Diagnostics diag;
  auto a = ImportHfConfig(HfPath("gpt-oss-120b"), diag);
  ASSERT_TRUE(a.has_value()) << diag.Render();
  EXPECT_EQ(a->sliding.window, 128);
  EXPECT_EQ(a->sliding.full_attention_every, 2);
  EXPECT_TRUE(a->attention_sinks);
  EXPECT_EQ(a->moe.top_k, 4);
}

TEST(HfConfig, RecordsWhereEachValueCameFrom) {
  Diagnostics diag;
  ProvenanceMap prov;
  auto a = ImportHfConfig(HfPath("deepseek-v3"), diag, &prov, "model");
  ASSERT_TRUE(a.has_value()) << diag.Render();
  EXPECT_EQ(prov.at("model.moe.num_experts").source, HfPath("deepseek-v3") + ": n_routed_experts");
  EXPECT_GT(prov.at("model.hidden").where.line, 0);
}

TEST(HfConfig, UnknownModelTypeListsTheSupportedOnes) {
  EXPECT_EQ(Import("{\"model_type\": \"xyz\", \"hidden_size\": 8}"),
            "c.json:1:2: error: model_type: unsupported architecture 'xyz'; supported: deepseek_v3, gpt_oss, llama, mistral, "
            "mixtral, qwen2, qwen3, qwen3_moe\n"
            "1 error; nothing was simulated.\n");
}

TEST(HfConfig, MissingKeysAreNamed) {
  EXPECT_EQ(Import("{\"model_type\": \"llama\", \"vocab_size\": 32000, \"num_hidden_layers\": 2,\n"
                   " \"num_attention_heads\": 4, \"intermediate_size\": 128}"),
            "c.json: error: hidden_size: missing; a llama config.json needs it\n"
            "1 error; nothing was simulated.\n");
  EXPECT_EQ(Import("{\"hidden_size\": 8}"),
            "c.json: error: model_type: missing; a Hugging Face config.json names its architecture in model_type\n"
            "1 error; nothing was simulated.\n");
}

TEST(HfConfig, WrongTypesArePositioned) {
  EXPECT_EQ(Import("{\"model_type\": \"llama\", \"vocab_size\": 32000, \"num_hidden_layers\": 2,\n"
                   " \"num_attention_heads\": 4, \"intermediate_size\": 128,\n"
                   " \"hidden_size\": \"big\"}"),
            "c.json:3:2: error: hidden_size: expected a whole number, got \"big\"\n"
            "1 error; nothing was simulated.\n");
}

TEST(HfConfig, MalformedJsonGivesLineAndColumn) {
  EXPECT_EQ(Import("{\"model_type\": \"llama\",\n \"hidden_size\": 4096,\n}\n"),
            "c.json:3:1: error: JSON syntax error: syntax error while parsing object key - unexpected '}'; expected string "
            "literal\n"
            "1 error; nothing was simulated.\n");
}

TEST(HfConfig, ShapeChangingSettingsItCannotExpressAreErrors) {
  EXPECT_EQ(Import("{\"model_type\": \"qwen2\", \"vocab_size\": 32000, \"num_hidden_layers\": 2, \"hidden_size\": 64,\n"
                   " \"num_attention_heads\": 4, \"intermediate_size\": 128, \"use_sliding_window\": true}"),
            "c.json:2:54: error: use_sliding_window: true is not supported (sliding window on layers ≥ max_window_layers); "
            "every released Qwen config has false\n"
            "1 error; nothing was simulated.\n");
}

TEST(HfConfig, MissingFileIsADiagnostic) {
  Diagnostics diag;
  EXPECT_FALSE(ImportHfConfig("/nonexistent/config.json", diag).has_value());
  EXPECT_EQ(diag.Render(), "/nonexistent/config.json: error: no such file\n1 error; nothing was simulated.\n");
}

}  // namespace
}  // namespace pf::spec
