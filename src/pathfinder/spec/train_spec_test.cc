// The `train:` section: fields load with their types, defaults hold, bad values and
// cross-field rules are reported with their key paths, and the example scenarios load.
#include "pathfinder/spec/train_spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "pathfinder/spec/scenario.h"

namespace pf::spec {
namespace {

TEST(TrainSpec, LoadsEveryKindOfField) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s = LoadTrainSection(
      YAML::Load("{seq_len: 8192, global_batch: 2048, micro_batch: 2, precision: fp8, recompute: selective, "
                 "zero_stage: 3, schedule: interleaved, virtual_stages: 4, tokens: 15.6e12 tokens, "
                 "layout: 'tp,cp,dp,ep,pp', overlap_tp_comm: true, expert_gemm_streams: 4, "
                 "ub_cfg: 'proj_fprop=pipeline:24 fc2_fprop=ring_exchange qkv_wgrad=bulk:4'}"),
      ctx, "train");
  ASSERT_TRUE(s) << d.Render();
  EXPECT_EQ(s->seq_len, 8192);
  EXPECT_EQ(s->global_batch, 2048);
  EXPECT_EQ(s->micro_batch, 2);
  EXPECT_EQ(s->precision, DType::kFp8);
  EXPECT_EQ(s->recompute, graph::Recompute::kSelective);
  EXPECT_EQ(s->zero_stage, 3);
  EXPECT_EQ(s->schedule, train::Schedule::kInterleaved);
  EXPECT_EQ(s->virtual_stages, 4);
  EXPECT_DOUBLE_EQ(s->tokens_to_train, 15.6e12);
  EXPECT_TRUE(s->overlap_tp_comm);
  EXPECT_EQ(s->tp_overlap.proj_fprop_sms, 24);
  EXPECT_TRUE(s->tp_overlap.fc2_fprop_ring);
  EXPECT_EQ(s->tp_overlap.qkv_wgrad_sms, 4);
  EXPECT_EQ(s->tp_overlap.qkv_dgrad_sms, 16);  // TE's default
  EXPECT_TRUE(s->overlap_dp_comm);  // default
  EXPECT_EQ(s->expert_gemm_streams, 4);
}

TEST(TrainSpec, BadUbConfigNamesItsKeyAndItem) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  EXPECT_FALSE(LoadTrainSection(YAML::Load("{overlap_tp_comm: true, ub_cfg: 'proj_fprop=bulk:4'}"), ctx, "train"));
  const std::string out = d.Render();
  EXPECT_NE(out.find("train.ub_cfg"), std::string::npos) << out;
  EXPECT_NE(out.find("'proj_fprop=bulk:4'"), std::string::npos) << out;
  Diagnostics d2;
  LoadContext ctx2{"s.yaml", "", &d2, nullptr};
  EXPECT_FALSE(LoadTrainSection(YAML::Load("{ub_cfg: 'proj_fprop=pipeline:24'}"), ctx2, "train"));
  EXPECT_NE(d2.Render().find("needs overlap_tp_comm: true"), std::string::npos) << d2.Render();
}

TEST(TrainSpec, ReportsBadValuesWithKeyPaths) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s = LoadTrainSection(YAML::Load("{recompute: partial, precison: fp8, zero_stage: 4, expert_gemm_streams: -1}"),
                            ctx, "train");
  EXPECT_FALSE(s);
  const std::string out = d.Render();
  EXPECT_NE(out.find("train.expert_gemm_streams"), std::string::npos) << out;
  EXPECT_NE(out.find("train.recompute"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean 'precision'"), std::string::npos) << out;
  EXPECT_NE(out.find("train.zero_stage"), std::string::npos) << out;
}

TEST(TrainSpec, CrossFieldRules) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s = LoadTrainSection(YAML::Load("{virtual_stages: 4, global_batch: 7, micro_batch: 2, layout: 'tp,xp'}"), ctx, "train");
  EXPECT_FALSE(s);
  const std::string out = d.Render();
  EXPECT_NE(out.find("virtual_stages > 1 needs schedule: interleaved"), std::string::npos) << out;
  EXPECT_NE(out.find("not a multiple of micro_batch"), std::string::npos) << out;
  EXPECT_NE(out.find("'xp' is unknown"), std::string::npos) << out;
}

TEST(TrainSpec, LoraAndFp8CurrentScalingLoad) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s = LoadTrainSection(YAML::Load("{precision: fp8, fp8_current_scaling: true, fp8_activation_input: true, "
                                       "lora_rank: 16, lora_targets: [qkv, fc2]}"),
                            ctx, "train");
  ASSERT_TRUE(s) << d.Render();
  EXPECT_TRUE(s->fp8_current_scaling);
  EXPECT_TRUE(s->fp8_activation_input);
  EXPECT_EQ(s->lora_rank, 16);
  EXPECT_EQ(s->lora_targets, (std::vector<std::string>{"qkv", "fc2"}));
  auto defaults = LoadTrainSection(YAML::Load("{seq_len: 128}"), ctx, "train");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->lora_rank, 0);
  EXPECT_FALSE(defaults->fp8_current_scaling);
  EXPECT_FALSE(defaults->fp8_activation_input);

  auto bad = LoadTrainSection(YAML::Load("{lora_rank: 16, lora_targets: [qkv, mlp]}"), ctx, "train");
  EXPECT_FALSE(bad);
  EXPECT_NE(d.Render().find("train.lora_targets"), std::string::npos) << d.Render();
  EXPECT_NE(d.Render().find("'mlp' is unknown"), std::string::npos) << d.Render();
}

TEST(TrainSpec, RecomputeLayersNeedFullRecompute) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto ok = LoadTrainSection(YAML::Load("{recompute: full, recompute_layers: 21}"), ctx, "train");
  ASSERT_TRUE(ok) << d.Render();
  EXPECT_EQ(ok->recompute_layers, 21);
  auto bad = LoadTrainSection(YAML::Load("{recompute: selective, recompute_layers: 4}"), ctx, "train");
  EXPECT_FALSE(bad);
  EXPECT_NE(d.Render().find("train.recompute_layers"), std::string::npos) << d.Render();
  EXPECT_NE(d.Render().find("needs recompute: full (not selective)"), std::string::npos) << d.Render();
}

TEST(TrainSpec, Fp8ParamsNeedAnFp8Recipe) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s = LoadTrainSection(YAML::Load("{precision: fp8, fp8_params: true}"), ctx, "train");
  ASSERT_TRUE(s) << d.Render();
  EXPECT_TRUE(s->fp8_params);
  auto defaults = LoadTrainSection(YAML::Load("{precision: fp8}"), ctx, "train");
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->fp8_params);

  auto bad = LoadTrainSection(YAML::Load("{precision: bf16, fp8_params: true}"), ctx, "train");
  EXPECT_FALSE(bad);
  EXPECT_NE(d.Render().find("train.fp8_params"), std::string::npos) << d.Render();
  EXPECT_NE(d.Render().find("needs precision: fp8 (not bf16)"), std::string::npos) << d.Render();
}

TEST(TrainSpec, RecomputeModulesNeedSelectiveRecompute) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s =
      LoadTrainSection(YAML::Load("{recompute: selective, recompute_modules: [mla_up_proj, moe_act]}"), ctx, "train");
  ASSERT_TRUE(s) << d.Render();
  EXPECT_TRUE(s->recompute_modules.mla_up_proj && s->recompute_modules.moe_act);
  EXPECT_FALSE(s->recompute_modules.core_attn);
  auto defaults = LoadTrainSection(YAML::Load("{recompute: selective}"), ctx, "train");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->recompute_modules.core_attn);
  EXPECT_FALSE(defaults->recompute_modules.moe_act);

  auto unknown = LoadTrainSection(YAML::Load("{recompute: selective, recompute_modules: [attention]}"), ctx, "train");
  EXPECT_FALSE(unknown);
  EXPECT_NE(d.Render().find("train.recompute_modules"), std::string::npos) << d.Render();
  EXPECT_NE(d.Render().find("'attention' is unknown or repeated"), std::string::npos) << d.Render();
  Diagnostics d2;
  LoadContext ctx2{"s.yaml", "", &d2, nullptr};
  auto not_selective = LoadTrainSection(YAML::Load("{recompute: full, recompute_modules: [moe_act]}"), ctx2, "train");
  EXPECT_FALSE(not_selective);
  EXPECT_NE(d2.Render().find("but recompute is full"), std::string::npos) << d2.Render();
}

TEST(TrainSpec, AttentionKernelIsAChoice) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto s = LoadTrainSection(YAML::Load("{attention_kernel: flash-attention-1-triton}"), ctx, "train");
  ASSERT_TRUE(s) << d.Render();
  EXPECT_EQ(s->attention_kernel, ops::AttentionKernel::kFlash1Triton);
  auto defaults = LoadTrainSection(YAML::Load("{seq_len: 128}"), ctx, "train");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->attention_kernel, ops::AttentionKernel::kBest);
  EXPECT_FALSE(LoadTrainSection(YAML::Load("{attention_kernel: flash-attention-4}"), ctx, "train"));
  EXPECT_NE(d.Render().find("train.attention_kernel"), std::string::npos) << d.Render();
}

// PyTorch FSDP's gradient preparation belongs to sharded gradients: with ZeRO 0 or 1 the
// flag would do nothing, so it is an error naming the fix.
TEST(TrainSpec, PytorchFsdpNeedsShardedGradients) {
  Diagnostics d;
  LoadContext ctx{"t.yaml", "", &d, nullptr};
  EXPECT_FALSE(LoadTrainSection(YAML::Load("{seq_len: 128, zero_stage: 1, pytorch_fsdp: true}"), ctx, "train"));
  EXPECT_NE(d.Render().find("train.pytorch_fsdp: PyTorch FSDP's gradient preparation needs zero_stage 2 or 3"),
            std::string::npos)
      << d.Render();
  Diagnostics d2;
  LoadContext ctx2{"t.yaml", "", &d2, nullptr};
  EXPECT_TRUE(LoadTrainSection(YAML::Load("{seq_len: 128, zero_stage: 3, pytorch_fsdp: true}"), ctx2, "train"))
      << d2.Render();
}

TEST(TrainSpec, ExampleScenariosLoad) {
  for (const char* name : {"train-gpt3-175b-h100-mlperf.yaml", "train-llama3.1-405b-16k-h100.yaml", "train-mixtral-8x7b-h100.yaml",
                           "train-trn2-500k-two-sites.yaml"}) {
    Diagnostics d;
    auto sc = LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/" + name, d);
    ASSERT_TRUE(sc) << name << "\n" << d.Render();
    EXPECT_TRUE(sc->train) << name;
    EXPECT_TRUE(sc->model) << name;
  }
}

// --dump-config writes a file that loads back to the same settings; every text list
// (lora_targets, forward_only_quant) has to come out as a YAML list, not "qkv, proj".
TEST(TrainSpec, TheDumpOfATrainingScenarioLoadsBackWithItsTextLists) {
  Diagnostics d;
  auto sc = LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/train-llama3-70b-1024xh100.yaml", d);
  ASSERT_TRUE(sc && sc->train) << d.Render();
  sc->train->lora_targets = {"qkv", "fc2"};
  sc->train->precision = DType::kFp8;
  sc->train->forward_only_quant = {"proj", "fc1"};
  sc->train->recompute = graph::Recompute::kNone;  // recompute_modules is not written beside it
  const std::string path = testing::TempDir() + "/train_dump.yaml";
  {
    std::ofstream out(path);
    out << DumpScenario(*sc);
  }
  Diagnostics d2;
  auto again = LoadScenario(path, d2);
  ASSERT_TRUE(again && again->train) << d2.Render();
  EXPECT_EQ(again->train->lora_targets, (std::vector<std::string>{"qkv", "fc2"}));
  EXPECT_EQ(again->train->forward_only_quant, (std::vector<std::string>{"proj", "fc1"}));
  EXPECT_EQ(again->train->seq_len, sc->train->seq_len);
}

}  // namespace
}  // namespace pf::spec
