// Validation report: the summary line format, skip reasons, the per-kind registry, and the
// shared microbenchmark set end to end (error thresholds are reported, not asserted here,
// except the issue's per-shape target recorded in the report).
#include "pathfinder/report/validation.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/validation_csv.h"
#include "pathfinder/train/settings.h"

namespace pf::report {
namespace {

// Validates the table at `path`: every row simulated, `rows` of them, the MAPE and the
// largest error within the recorded bounds. Returns the rows for further checks.
std::vector<RowResult> ExpectWithinRecordedError(const std::string& path, int rows, double mape, double max) {
  Diagnostics d;
  auto t = spec::LoadValidationCsv(path, d);
  EXPECT_TRUE(t) << d.Render();
  if (!t) return {};
  const auto r = Validate(*t);
  for (const auto& x : r.rows) EXPECT_TRUE(x.ok) << x.id << ": " << x.reason;
  const Summary s = Summarize(r.rows);
  EXPECT_EQ(s.validated, rows) << path;
  EXPECT_LE(s.mape, mape) << path << ": " << SummaryLine(s);
  EXPECT_LE(s.max, max) << path << ": " << SummaryLine(s);
  return r.rows;
}

TEST(Validation, SummaryLineHasTheExactFormat) {
  std::vector<RowResult> rows(3);
  rows[0].ok = true;
  rows[0].abs_pct_error = 10;
  rows[1].ok = true;
  rows[1].abs_pct_error = 2;
  EXPECT_EQ(SummaryLine(Summarize(rows)), "validated 2 of 3 rows: MAPE 6.0%, median 6.0%, max 10.0%");
  // A simulated row left out (RowResult::left_out) counts in neither the rows nor the errors.
  rows[2].ok = true;
  rows[2].abs_pct_error = 1500;
  rows[2].left_out = "slower than a larger payload";
  EXPECT_EQ(
      SummaryLine(Summarize(rows)),
      "validated 2 of 3 rows: MAPE 6.0%, median 6.0%, max 10.0% (1 more simulated and left out: measured slower than "
      "a larger payload of the same sweep)");
}

// The spread line: how many validated rows are within 10 %, and the MAPE and largest error of
// the best 85 % (the training issue's target is MAPE ≤ 10 % over at least 85 % of the rows).
TEST(Validation, SpreadLineCountsRowsWithinTenPercentAndTheBestEightyFivePercent) {
  std::vector<RowResult> rows(22);
  for (int i = 0; i < 20; ++i) rows[i].ok = true, rows[i].abs_pct_error = double(i);  // 0 … 19 %
  rows[20].ok = false;                                                                // skipped: not counted
  rows[21].ok = true, rows[21].abs_pct_error = 900, rows[21].left_out = "sweep";      // left out: not counted
  // 11 of 20 within 10 % (0 … 10); the best ceil(0.85·20) = 17 rows are 0 … 16 %: mean 8.0, max 16.
  EXPECT_EQ(SpreadLine(rows),
            "within 10 %: 11 of 20 validated rows (55.0 %); the best 85 % (17 rows): MAPE 8.0%, max 16.0%");
  EXPECT_EQ(SpreadLine({}), "");
}

// The fit line: simulated runs the memory model says do not fit (each published run did).
TEST(Validation, FitLineNamesTheRunsTheMemoryModelWronglyRejects) {
  std::vector<RowResult> rows(4);
  rows[0].ok = rows[1].ok = rows[3].ok = true;
  rows[0].id = "a", rows[1].id = "b", rows[2].id = "c", rows[3].id = "d";
  rows[1].does_not_fit = "stage 0 needs 91 GB > 80 GB HBM";
  rows[2].does_not_fit = "skipped rows are not counted";
  rows[3].left_out = "sweep", rows[3].does_not_fit = "nor are left-out ones";
  EXPECT_EQ(FitLine(rows), "memory fit: the model says 1 of 2 simulated runs (each of which ran) do not fit: b");
  rows[1].does_not_fit.clear();
  EXPECT_EQ(FitLine(rows), "memory fit: the model says 0 of 2 simulated runs (each of which ran) do not fit");
  EXPECT_EQ(FitLine({}), "");
}

TEST(Validation, TrainingAndInferenceRowsMissingTheirConfigurationAreSkippedWithTheReason) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv("id,model,hardware,measured_metric,measured_value\nt1,m,H100,mfu,40\n", "t.csv", d);
  ASSERT_TRUE(t);
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_FALSE(r.rows[0].ok);
  EXPECT_EQ(r.rows[0].reason, "missing field: layers/hidden/heads/ffn_hidden/vocab");
  auto i = spec::ParseValidationCsv("id,model,hardware,scenario,measured_metric,measured_value\ni1,m,H100,offline,tokens_per_s,1\n",
                                    "i.csv", d);
  ASSERT_TRUE(i);
  EXPECT_EQ(Validate(*i).rows[0].reason, "metric not modelled: tokens_per_s [] (only output tokens/s)");
}

TEST(Validation, UnknownHardwareAndUnmodelledKindsAreSkipped) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv(
      "id,hardware,kind,size_params,measured_value,unit\n"
      "a_1,Acme Z9 (prototype),gemm_bf16_max_achievable,best MxNxK=1x1x1,1,TFLOP/s\n"
      "b_1,NVIDIA H100 SXM,warp_shuffle_rate,x,1,op/s\n",
      "m.csv", d);
  ASSERT_TRUE(t);
  const auto r = Validate(*t);
  EXPECT_EQ(r.rows[0].reason, "unknown hardware: no chip preset is named 'Acme Z9'");
  EXPECT_EQ(r.rows[1].reason, "metric not modelled: kind 'warp_shuffle_rate'");
}

TEST(Validation, RowsCsvHasOneLinePerRow) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv("id,hardware,kind,size_params,measured_value,unit\nx_1,NVIDIA H100 SXM,hbm_stream_triad,\"a, b\",3000,GB/s\n",
                                    "m.csv", d);
  ASSERT_TRUE(t);
  const std::string csv = RowsCsv(Validate(*t));
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "id,status,measured,predicted,abs_pct_error,reason");
  EXPECT_NE(csv.find("x_1,ok,3000,"), std::string::npos) << csv;
}

// A rate is optimistic when predicted above the measurement, a time when predicted below it;
// a power has no direction.
TEST(Validation, MetricDirectionReadsTheUnit) {
  EXPECT_EQ(MetricDirection("TFLOP/s (dense, BF16 in)"), 1);
  EXPECT_EQ(MetricDirection("tokens/s per GPU"), 1);
  EXPECT_EQ(MetricDirection("samples/s (8192-token sequences), whole system"), 1);
  EXPECT_EQ(MetricDirection("s per training step (global batch)"), -1);
  EXPECT_EQ(MetricDirection("minutes (MLPerf time-to-train)"), -1);
  EXPECT_EQ(MetricDirection("us latency"), -1);
  EXPECT_EQ(MetricDirection("ms (forward+backward)"), -1);
  EXPECT_EQ(MetricDirection("W"), 0);
}

// The report groups rows by the chip preset their hardware names and counts, per group, the
// rows the model predicts better than measured.
TEST(Validation, RenderGroupsRowsByChipAndCountsTheOptimisticOnes) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv(
      "id,hardware,kind,size_params,measured_value,unit\n"
      "lo_1,NVIDIA H100 SXM,hbm_stream_triad,4 GiB,1,GB/s\n"
      "hi_1,NVIDIA H100 SXM,hbm_stream_triad,4 GiB,1000000,GB/s\n"
      "b2_1,NVIDIA B200,hbm_stream_triad,4 GiB,1,GB/s\n",
      "m.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].chip, "h100-sxm");
  EXPECT_EQ(r.rows[2].chip, "b200");
  const Summary s = Summarize(r.rows);
  EXPECT_EQ(s.directed, 3);
  EXPECT_EQ(s.optimistic, 2);  // the two measured at 1 GB/s
  // Signed the rate's way: the two at 1 GB/s far above (+), the one at 10^6 GB/s below (−).
  const double b200 = r.rows[2].predicted, h100 = r.rows[0].predicted;
  EXPECT_NEAR(s.mean_signed, ((h100 - 1) / 1 + (r.rows[1].predicted - 1e6) / 1e6 + (b200 - 1) / 1) * 100 / 3, 1e-6);
  const std::string text = Render(r);
  const size_t chips = text.find("per chip:\n");
  ASSERT_NE(chips, std::string::npos) << text;
  EXPECT_NE(text.find("h100-sxm", chips), std::string::npos) << text;
  EXPECT_NE(text.find("2 of 2", chips), std::string::npos) << text;
  EXPECT_NE(text.find("optimistic in 1 of 2 (mean +", chips), std::string::npos) << text;
  EXPECT_NE(text.find("optimistic in 1 of 1", chips), std::string::npos) << text;
}
// An attention row's "dv=" is the value head dim (MLA-style 192/128): the model runs that
// shape, and the row's TFLOP/s count 2·b·h·s²·(d + dv), so rate × time is those FLOPs.
TEST(Validation, AttentionRowsCountTheValueHeadDimTheyState) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv(
      "id,hardware,kind,size_params,measured_value,unit\n"
      "mla,NVIDIA GB200,attention_fwd,b=2 h=128 kvh=128 s=4096 d=192 dv=128 causal=0,1000,TFLOP/s\n"
      "sq,NVIDIA GB200,attention_fwd,b=2 h=128 kvh=128 s=4096 d=192 causal=0,1000,TFLOP/s\n",
      "a.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 2u);
  auto ms = [](const RowResult& x) {
    const size_t at = x.reason.find("kernel best: ");
    EXPECT_NE(at, std::string::npos) << x.reason;
    return at == std::string::npos ? 0.0 : std::stod(x.reason.substr(at + 13));
  };
  ASSERT_TRUE(r.rows[0].ok && r.rows[1].ok) << r.rows[0].reason << " / " << r.rows[1].reason;
  const double s2 = 4096.0 * 4096.0;
  EXPECT_NEAR(r.rows[0].predicted * 1e12 * ms(r.rows[0]) * 1e-3, 2.0 * 2 * 128 * s2 * (192 + 128),
              2e-3 * 2 * 2 * 128 * s2 * 320);
  EXPECT_NEAR(r.rows[1].predicted * 1e12 * ms(r.rows[1]) * 1e-3, 2.0 * 2 * 128 * s2 * (192 + 192),
              2e-3 * 2 * 2 * 128 * s2 * 384);
  EXPECT_LT(ms(r.rows[0]), ms(r.rows[1]));  // fewer PV FLOPs and a smaller O
}

// The held-out sets (data/heldout/: published runs not in ../shared/validation, never used
// to set anything) run the same way. Every row is simulated; the bounds are the errors of
// the day they were added (inference 51 rows MAPE 14.6 %, max 36.5 %, 13.6 % and 36.0 % since
// each row runs under the power cap as `pathfinder serve` does; training 32 rows MAPE
// 54.4 %, max 246.8 % — the 3 Llama 3 paper rows 11.3 %, the 29 Megatron-Bridge 26.02 rows
// 58.9 %, its small-expert MoE rows the worst, as in the shared set; 52.1 % since GB300 and
// B300 run on presets of their own, 51.1 % since the expert GEMMs run per expert on Transformer
// Engine's 4 streams, 50.1 % since the Blackwell presets state a matrix unit; fused attention from
// NVIDIA's cuDNN SDPA benchmark on GB200, GB300 and H200, 191 rows MAPE 10.1 %, max 58.3 %,
// the worst Blackwell's causal forward at 2048 tokens, which the best kernel's forward
// models without a length term; collectives from stas00/ml-engineering's network chapter,
// 78 rows MAPE 30.3 %, median 4.2 %, max 739.8 %, the worst the 4-node B200 sweep's 64 KiB
// payload, 3.2 ms for what takes 0.36 ms at 512 KiB; since comm::SweepOutliers leaves that
// row out, 77 of 78 at MAPE 21.1 %, max 236.5 %, the A100 nccl-tests sweep's 1 MiB call;
// since that sweep's 32 MiB-2 GiB payloads set dgx-a100's ring_simple_step and left the
// file, 70 of 71 at MAPE 21.4 %, max 236.5 %; GEMMs held at the 1200 W cap on GB200, the
// Blackwell power model's first out-of-sample check: bf16 from marin-community/marin's logbook
// and fp8 from Azure's benchmarking guide, 9 rows MAPE 3.2 %, max 9.1 %, fp8 the optimistic
// ones, +5.3 % on average); Google's tpu-recipes GPT-3 175B steps, the TPU model's first step
// times (v5p-1024 int8 3.8 %, v6e-256 bf16 20.6 % and int8 28.6 % fast) — with a margin, so a
// change that makes them worse shows.
TEST(Validation, HeldOutSetsValidateEveryRowWithinTheirRecordedError) {
  for (const auto& [file, rows, mape, max] :
       {std::tuple{"inference_results.csv", 51, 15.0, 40.0}, std::tuple{"training_results.csv", 32, 52.5, 250.0},
        std::tuple{"microbench_results.csv", 191, 12.0, 65.0}, std::tuple{"collective_results.csv", 70, 24.0, 260.0},
        std::tuple{"sustained_gemm_results.csv", 9, 4.0, 10.0},
        std::tuple{"tpu_training_results.csv", 3, 18.5, 29.5}}) {
    ExpectWithinRecordedError(spec::DataDir() + "/heldout/" + file, rows, mape, max);
  }
}

// MLPerf Training v5.0 (data/heldout/mlperf_training_results.csv): Llama 3.1 405B step times
// and Llama 2 70B LoRA throughputs of 50 submitted systems, added after every constant they
// could test. On the day they were added 44 ran (MAPE 22.4 %, max 92.0 %: Oracle's 512-H200
// LoRA run, twice as slow as modelled; 21.3 % since 16 LoRA runs store their activation
// inputs in fp8) and the six MI300X LoRA runs, which recompute 21 of their 80 layers, were
// skipped; since train.recompute_layers models that (block method), all 50 run: MAPE 22.8 %,
// the MI300X runs 27-51 % fast. Every run fits its chips, as it did when it ran (before the
// fp8 activation inputs, the model said 13 of the 8-GPU B200/GB200 LoRA runs did not). The
// 405B runs count the embedding and the loss as pipeline layers (ASYM_PP_EMBED /
// ASYM_PP_LOSS), without which their 8 virtual stages would not divide the 126 layers.
TEST(Validation, MlperfTrainingV50RowsRunWithinTheirRecordedError) {
  Diagnostics d;
  auto t = spec::LoadValidationCsv(spec::DataDir() + "/heldout/mlperf_training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  int partial = 0, asym = 0;
  for (const auto& x : r.rows) {
    EXPECT_TRUE(x.ok) << x.id << ": " << x.reason;
    EXPECT_TRUE(x.does_not_fit.empty()) << x.id << ": " << x.does_not_fit;
    if (x.chip == "mi300x") {
      ++partial;
      EXPECT_NE(x.reason.find(" rc=full:21-layers "), std::string::npos) << x.id << ": " << x.reason;
    }
    asym += x.ok && x.id.find("_l405b_") != std::string::npos && x.reason.find(" v8 ") != std::string::npos;
  }
  EXPECT_EQ(partial, 6);
  EXPECT_EQ(asym, 14);
  const Summary s = Summarize(r.rows);
  EXPECT_EQ(s.validated, 50);
  EXPECT_LE(s.mape, 23.5) << SummaryLine(s);
  EXPECT_LE(s.max, 95.0) << SummaryLine(s);
}

// This repository's own measurements on an H100 SXM and an H200 SXM (data/measurements/,
// scripts/gpu/microbench.py). Every row is simulated; the bounds are each kind's error on
// the day they were recorded (H100 / H200 MAPE: gemm_bf16 8.5 / 10.7 %, gemm_fp8_e4m3 12.4 /
// 10.6 %, attention_fwd 10.7 / 10.4 %, attention_bwd 20.7 / 16.2 % since the head-dim floor
// of tiling.h, grouped_gemm_bf16 12.8 %, attention_decode_time 21.8 %) with a margin; the
// head-dim sweep (80, 96, 128, 256) likewise (attention_fwd 11.2 %, attention_bwd 32.5 %:
// head dim 256's backward runs at 0.66x head dim 128's rate per FLOP, not modelled). The H100's
// gemm_fp8_e4m3 is 8.0 % since its fp8 ceiling is the mamf table's own H100 row (1402.6
// TFLOP/s, data/calibration/h100-sxm.yaml) instead of the hopper family's 1494. The best
// kernel's backward length dependence (calibration.h) was fitted to the H100's cuDNN
// head-dim-128 rows; the H200's are out of sample (3.2 % MAPE, max 6.5 %, that day). Since
// the best kernel's causal forward pays for its mask (calibration.h, fitted to NVIDIA's
// cudnn-frontend tables, none of these rows), attention_fwd is 9.4 / 8.6 % and 10.3 % on the
// head-dim sweep: its causal rows at 4k-8k went from 10-12 % too fast to under 3 %.
TEST(Validation, OwnHopperMeasurementsValidateEveryRowWithinTheirRecordedError) {
  const std::map<std::string, double> h100 = {{"gemm_bf16", 10},         {"gemm_fp8_e4m3", 10},
                                              {"attention_fwd", 11},     {"attention_bwd", 23},
                                              {"grouped_gemm_bf16", 15}, {"attention_decode_time", 24}};
  const std::map<std::string, double> h200 = {
      {"gemm_bf16", 12.5}, {"gemm_fp8_e4m3", 12.5}, {"attention_fwd", 10.5}, {"attention_bwd", 19}};
  const std::map<std::string, double> head_dims = {{"attention_fwd", 12}, {"attention_bwd", 35}};
  for (const auto& [file, bounds] :
       {std::pair{"h100-sxm-pytorch-2026-11-22.csv", h100}, std::pair{"h200-sxm-pytorch-2026-11-22.csv", h200},
        std::pair{"h100-sxm-attention-head-dims-2026-11-22.csv", head_dims}}) {
    Diagnostics d;
    auto t = spec::LoadValidationCsv(spec::DataDir() + "/measurements/" + file, d);
    ASSERT_TRUE(t) << d.Render();
    const auto r = Validate(*t);
    std::map<std::string, std::vector<RowResult>> by_kind;
    std::vector<RowResult> best_backward;
    for (const auto& x : r.rows) {
      EXPECT_TRUE(x.ok) << x.id << ": " << x.reason;
      by_kind[x.kind].push_back(x);
      if (x.id.find("_cudnn_fa_d128_") != std::string::npos && x.id.ends_with("_bwd")) best_backward.push_back(x);
    }
    for (const auto& [kind, bound] : bounds) {
      const Summary s = Summarize(by_kind[kind]);
      EXPECT_GT(s.validated, 0) << file << " " << kind;
      EXPECT_LE(s.mape, bound) << file << " " << kind << ": " << SummaryLine(s);
    }
    const Summary b = Summarize(best_backward);
    EXPECT_EQ(b.validated, 12) << file;
    EXPECT_LE(b.mape, std::string(file).starts_with("h200") ? 5.0 : 10.0) << file << ": " << SummaryLine(b);
  }
}

// The shared training set (../shared/validation) under the power cap, as `pathfinder train`
// runs it: the rows whose modelled power exceeds their chip's TDP run at the clock the cap
// leaves (40 rows that day: 26 on A100, 14 on H100; 39 moved closer to their measurement and
// none away), and the set's error is held to the day's (MAPE 28.8 %, median 16.3 %; 30.7 %
// and 18.4 % before the cap; 27.8 % and 15.4 % since dgx-a100's measured Simple ring step;
// 26.3 % and 14.7 % since overlapped collectives slow the GPU compute beside them; 26.4 % and
// 14.3 % since the backward's residual-gradient sum is an add kernel; 26.1 % and 13.4 % since
// llm-foundry's rows compute Composer's train metrics; 25.6 % and 13.0 % since the H100's fp8
// ceiling is its own mamf row; 25.3 % and 13.0 % since GB300 and B300 run on presets of
// their own, not bare chip links; 25.2 % and 13.0 % since Megatron-Bridge's expert GEMMs run
// per expert on Transformer Engine's 4 streams; 25.1 % and 13.2 % since frozen LoRA bases no
// longer re-gather their inputs in backward; 25.4 % and 13.2 % over 131 rows since the v4.1
// LoRA runs overlap TP as their configs say, which validates two time-to-train rows more;
// 25.6 % and 13.7 % since the MLPerf v4.x GPT-3 and LoRA runs and Megatron-Bridge's fp8 runs
// hold and gather fp8 weights as configured, which moves the 10 752- and 11 616-GPU v4.0
// rows 8 points further from their measurements: they were too fast already; 24.6 % and
// 12.3 % since each data-parallel bucket is its own collective call, in the buckets each
// source's optimizer fills: the 4 096- to 11 616-GPU MLPerf GPT-3 rows went from 12–20 % too
// fast to between 10 % too fast and 12 % too slow; 24.4 % and 12.2 % since Megatron-Bridge's
// DeepSeek-V3 rows run their MTP module in the recipe's pipeline layout; 24.5 % and 12.2 %
// since Blackwell's HBM is two published streams; 23.8 % and 11.9 % since the Blackwell presets
// state a matrix unit, so the power model prices fp8 operand delivery and holds fp8 runs at
// the cap: the B200 and GB200 dense fp8 rows came 2.5–15.5 points closer, all but the B200
// Llama 3.1 405B run, 1.2 % too fast before and 4.1 % too slow after; 22.9 % and 11.6 % since
// llm-foundry's rows cast and pre-divide each FSDP unit's unsharded gradient before its
// reduce-scatter, as PyTorch FSDP does: 35 of the 43 MPT rows came closer (by up to 12.2
// points: the H100 MPT-13B runs without recompute from 32 % too fast to 20 %) and 8 went
// further, by at most 3.0 points (the A100 MPT-30B run now 4.4 % too slow); 22.7 % and 11.6 %
// since Trillium's runs quantize the out projection and MLP in the forward only (25.2, 24.3,
// 27.2 % too fast before, 16.6, 15.9, 18.9 % after); 22.6 % and 11.4 % since NeMo 24.07's
// fine-tuning rows run their example scripts' fp8 weights, virtual stages and overlaps (Llama 2
// 13B SFT 13.2 % too slow to 0.5 %, 70B SFT 15.1 % too slow to 6.6 % too fast, 70B LoRA 2.6 to
// 5.0 % too slow without the sequence parallelism its script leaves off); 22.1 % and 11.2 % on
// 2026-11-24 after LoRA adapters pay their own kernels and collectives, flash-attn 2 rows their
// layout copies, fp8 TP gathers one byte, and Bridge's 405B/Qwen3-235B rows their virtual stages
// and its H100 70B and B200 405B rows their TP overlap (the last two moved 4 and 9 points away))
// with a margin. Every source runs eager
// autograd (no row is compiled). The issue's target (MAPE ≤ 10 %) is not met.
TEST(Validation, SharedTrainingSetRunsAtTheCappedClockWithinItsRecordedError) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  int capped = 0;
  for (const auto& x : r.rows) {
    capped += x.ok && x.reason.find("power cap: clock") != std::string::npos;
    EXPECT_EQ(x.reason.find(" compiled "), std::string::npos) << x.id << ": " << x.reason;
    // Composer's two train metrics on the logits: llm-foundry's rows, and only those.
    if (x.ok) {
      EXPECT_EQ(x.reason.find(" logit-metrics=2 ") != std::string::npos, x.id.starts_with("mpt_")) << x.id;
      // PyTorch FSDP's gradient preparation before each reduce-scatter: llm-foundry's rows
      // (all sharded, ZeRO-2 or 3), and only those.
      EXPECT_EQ(x.reason.find(" pytorch-fsdp ") != std::string::npos, x.id.starts_with("mpt_")) << x.id;
      // Transformer Engine's per-expert GEMMs on 4 streams: Megatron-Bridge's MoE rows only.
      const bool moe =
          x.reason.starts_with("qwen3-") || x.reason.starts_with("deepseek") || x.reason.starts_with("gpt-oss");
      EXPECT_EQ(x.reason.find(" expert-gemms-on-4-streams") != std::string::npos, moe && x.id.starts_with("mbridge"))
          << x.id << ": " << x.reason;
      // One multi-token-prediction module: Megatron-Bridge's DeepSeek-V3 rows only.
      EXPECT_EQ(x.reason.find(" mtp=1 ") != std::string::npos,
                x.reason.starts_with("deepseek") && x.id.starts_with("mbridge"))
          << x.id << ": " << x.reason;
    }
  }
  EXPECT_GE(capped, 30);
  const Summary s = Summarize(r.rows);
  EXPECT_EQ(s.validated, 139);
  EXPECT_LE(s.mape, 22.6) << SummaryLine(s);    // 22.1 % on 2026-11-24
  EXPECT_LE(s.median, 11.7) << SummaryLine(s);  // 11.2 %
  // Every published run fitted on its chips: the memory model's "does not fit" verdicts are
  // its errors, held to the day's 5 of 131 (7 before fp8 weights; the MLPerf v4.1 LoRA runs
  // on 8 H200 and 8 B200 fit only with their configured fp8 weights; 4 until Bridge's
  // DeepSeek-V3 bf16 run on 256 GB200 got its MTP layer and interleaved layout: 205 GB of
  // 186, its recompute not established).
  int wrong_fit = 0;
  for (const auto& x : r.rows) {
    wrong_fit += x.ok && !x.does_not_fit.empty();
    if (x.id.starts_with("mlptv41_lora_")) {
      EXPECT_TRUE(x.does_not_fit.empty()) << x.id << ": " << x.does_not_fit;
    }
  }
  EXPECT_LE(wrong_fit, 5) << FitLine(r.rows);
}

// MLPerf time-to-train rows with the tokens their scored runs trained
// (data/validation/mlperf-time-to-train.csv, from the result logs): each row of that file is a
// time_to_train_min row of the shared set whose logged minutes are its measured value; a row
// with settings of its own or a step-time twin is simulated (with the twin's settings when it
// has none), and where the twin gives a step time its minutes are the trained tokens at that
// rate plus evaluations that add something but less than a quarter; a row with neither, or
// without tokens, is skipped and says why.
TEST(Validation, TimeToTrainRowsAreTheirStepTimesTheTokensTrainedPlusEvaluations) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto text = spec::ReadTextFile(spec::DataDir() + "/validation/mlperf-time-to-train.csv", d);
  ASSERT_TRUE(text) << d.Render();
  const std::string settings =
      spec::ReadTextFile(spec::DataDir() + "/validation/training-settings.csv", d).value_or("");
  const std::string layouts = spec::ReadTextFile(spec::DataDir() + "/validation/training-layouts.csv", d).value_or("");
  std::vector<std::vector<std::string>> records;
  std::vector<int> lines;
  std::string err;
  ASSERT_TRUE(spec::SplitCsv(*text, &records, &lines, &err)) << err;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  std::map<std::string, RowResult> by_id;
  for (const auto& x : Validate(*t).rows) by_id[x.id] = x;
  int simulated = 0;
  for (size_t i = 1; i < records.size(); ++i) {
    const std::string& id = records[i][0];
    ASSERT_TRUE(by_id.count(id)) << id;
    const RowResult& x = by_id[id];
    const double logged = std::stod(records[i][6]);
    if (x.ok) {
      EXPECT_NEAR(logged, x.measured, 0.002 * x.measured) << id;
    }
    const std::string twin = id.substr(0, id.size() - 4) + "_step";
    const bool laid_out = layouts.find("\n" + id + ",") != std::string::npos;
    if (!by_id.count(twin) && settings.find(id + ",") == std::string::npos && !laid_out) {
      EXPECT_FALSE(x.ok) << id;
      EXPECT_NE(x.reason.find("nor a step-time row of the same submission"), std::string::npos) << x.reason;
      continue;
    }
    if (laid_out && !x.ok) {
      // The one layout the simulator cannot run: Intel's fp8 runs, on a Gaudi2 whose chip
      // file has no fp8 peak.
      EXPECT_NE(id.find("gaudi2"), std::string::npos) << id << ": " << x.reason;
      EXPECT_EQ(x.reason, "not simulated: the chip has no fp8 matmul peak") << id;
      continue;
    }
    ASSERT_TRUE(x.ok) << id << ": " << x.reason;
    ++simulated;
    if (!by_id.count(twin)) continue;
    const RowResult& step = by_id[twin];
    if (step.kind != "step_time_s") continue;  // a samples/s twin (LoRA): checked by the twin rule only
    const double tokens = std::stod(records[i][2]);
    // The twin's step (seconds) over the tokens of one step: the training minutes alone.
    const auto* row = &t->rows[0];
    for (const auto& r : t->rows)
      if (t->Get(r, "id") == twin) row = &r;
    const double seqs = std::stod(t->Get(*row, "global_batch_tokens_or_sequences"));
    const double seq_len = std::stod(t->Get(*row, "seq_len"));
    const double training_min = step.predicted * tokens / (seqs * seq_len) / 60.0 * std::stod(records[i][5]);
    EXPECT_GT(x.predicted, training_min) << id;
    EXPECT_LT(x.predicted, 1.25 * training_min) << id;
  }
  EXPECT_GE(simulated, 15);
  // Every layout names a row of the shared set or of a held-out set.
  std::vector<std::vector<std::string>> laid;
  std::vector<int> laid_lines;
  ASSERT_TRUE(spec::SplitCsv(layouts, &laid, &laid_lines, &err)) << err;
  auto tpu = spec::LoadValidationCsv(spec::DataDir() + "/heldout/tpu_training_results.csv", d);
  ASSERT_TRUE(tpu) << d.Render();
  for (const auto& row : tpu->rows) by_id[tpu->Get(row, "id")] = RowResult{};
  for (size_t i = 1; i < laid.size(); ++i) EXPECT_TRUE(by_id.count(laid[i][0])) << laid[i][0];
  // Intel's fp8 GPT-3 runs on Gaudi2 are laid out, but Gaudi2's chip file states no fp8 peak.
  ASSERT_TRUE(by_id.count("mlptv31_gpt3_gaudi2_256_ttt"));
  EXPECT_NE(by_id["mlptv31_gpt3_gaudi2_256_ttt"].reason.find("no fp8 matmul peak"), std::string::npos)
      << by_id["mlptv31_gpt3_gaudi2_256_ttt"].reason;
}

// Google's JAX runs of MLPerf GPT-3 (data/validation/training-layouts.csv): int8 (AQT) linears,
// the weights sharded over the fsdp axis and replicated over the data axis (a shard group),
// the batch of a tensor group in one micro-batch, fp32 weights without a 16-bit copy, on the
// slice's own torus; Trillium's out projection and MLP in int8 in the forward only (the
// submission's tff_quant). All 8 (TPU v5e, v5p, and Trillium over the data-centre network
// between its slices) are simulated within their recorded error (33.0 % at most, the 6 144-chip
// v5p run, the day its slice's 8x16x48 torus was applied) and fit.
TEST(Validation, GoogleTpuRowsRunTheirSubmittedShardingInInt8) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  int tpu = 0;
  for (const auto& x : Validate(*t).rows) {
    if (x.id.find("_google_") == std::string::npos) continue;
    ASSERT_TRUE(x.ok) << x.id << ": " << x.reason;
    ++tpu;
    EXPECT_LE(std::abs(x.predicted / x.measured - 1), 0.34) << x.id << ": " << x.reason;
    // Trillium's runs quantize the out projection and the MLP in the forward only (MaxText's
    // tff_quant, the layouts file's int8-tff); v5e's and v5p's every pass.
    const bool trillium = x.id.find("trillium") != std::string::npos;
    EXPECT_NE(x.reason.find(trillium ? " int8 fwd-only:proj+fc1+fc2 rc=" : " int8 rc="), std::string::npos) << x.reason;
    EXPECT_NE(x.reason.find(" zero3 "), std::string::npos) << x.reason;
    EXPECT_NE(x.reason.find(" autocast "), std::string::npos) << x.reason;
    EXPECT_NE(x.reason.find(" m1 "), std::string::npos) << x.reason;  // no gradient accumulation
    EXPECT_TRUE(x.does_not_fit.empty()) << x.id << ": " << x.does_not_fit;
    if (x.id == "mlptv40_gpt3_google_v5p_6144_ttt") {
      EXPECT_NE(x.reason.find("dp768 "), std::string::npos) << x.reason;
      EXPECT_NE(x.reason.find(" shard-group=48 "), std::string::npos) << x.reason;
      EXPECT_NE(x.reason.find("rc=selective:core_attn+layernorm "), std::string::npos) << x.reason;
    }
    if (x.id.find("trillium") != std::string::npos) {
      EXPECT_NE(x.reason.find("tp1 pp1 dp"), std::string::npos) << x.reason;
      EXPECT_NE(x.reason.find(" shard-group=256 "), std::string::npos) << x.reason;
    }
  }
  EXPECT_EQ(tpu, 8);
  // Google's tpu-recipes steps fit their chips too: the v6e-256 runs (3 sequences a chip,
  // full remat) only since FSDP gathers each weight at its matmul under XLA (36.6 GB of 32
  // GB with a layer's weights gathered twice over).
  auto held = spec::LoadValidationCsv(spec::DataDir() + "/heldout/tpu_training_results.csv", d);
  ASSERT_TRUE(held) << d.Render();
  for (const auto& x : Validate(*held).rows) {
    ASSERT_TRUE(x.ok) << x.id << ": " << x.reason;
    EXPECT_TRUE(x.does_not_fit.empty()) << x.id << ": " << x.does_not_fit;
  }
}

// A chip no cluster preset names runs on the preset of a chip with the same scale-up and
// scale-out links, chip swapped in (the A100 SXM4 40 GB rows on DGX A100's measured fabric).
// GB300 and B300 have presets of their own: GB200's and HGX B200's NVLink5 domains (the same
// links and switch chips, so the same measured fractions) with an 800 Gb/s ConnectX-8 per GPU.
TEST(Validation, ChipsWithoutAClusterPresetBorrowTheFabricOfAChipWithTheSameLinks) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  int a100_40gb = 0, gb300 = 0;
  for (const auto& x : Validate(*t).rows) {
    if (!x.ok) continue;
    if (x.id.rfind("mpt_a10040gb_", 0) == 0) {
      ++a100_40gb;
      EXPECT_NE(x.reason.find(" on dgx-a100 fabric with a100-sxm-40gb: "), std::string::npos) << x.reason;
    }
    if (x.id.find("_gb300_") != std::string::npos) {
      ++gb300;
      EXPECT_NE(x.reason.find(" on gb300-nvl72: "), std::string::npos) << x.reason;
    }
    EXPECT_EQ(x.reason.find("no cluster preset"), std::string::npos) << x.id << ": " << x.reason;
  }
  EXPECT_GE(a100_40gb, 9);
  EXPECT_GE(gb300, 1);
  for (const auto& [ultra, base] :
       {std::pair<const char*, const char*>{"gb300-nvl72", "gb200-nvl72"}, {"hgx-b300", "hgx-b200"}}) {
    Diagnostics dc;
    auto u = spec::LoadClusterPreset(ultra, dc);
    auto b = spec::LoadClusterPreset(base, dc);
    ASSERT_TRUE(u && b) << dc.Render();
    EXPECT_EQ(u->scale_up.chips, b->scale_up.chips) << ultra;
    EXPECT_DOUBLE_EQ(u->scale_up.efficiency, b->scale_up.efficiency) << ultra;
    EXPECT_DOUBLE_EQ(u->scale_up.in_network_efficiency, b->scale_up.in_network_efficiency) << ultra;
    EXPECT_DOUBLE_EQ(u->scale_out.nic_bandwidth.value(), 2.0 * b->scale_out.nic_bandwidth.value()) << ultra;
  }
}

// data/validation/training-settings.csv: what each listed row's submitted configuration
// states beyond the row (virtual stages, TP communication overlap). Every listed id is a
// row of the shared set, validates (a value contradicting the row's notes would fail it),
// and is simulated with exactly those settings.
TEST(Validation, SubmittedConfigurationSettingsReachTheirRows) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto text = spec::ReadTextFile(spec::DataDir() + "/validation/training-settings.csv", d);
  ASSERT_TRUE(text) << d.Render();
  std::vector<std::vector<std::string>> records;
  std::vector<int> lines;
  std::string err;
  ASSERT_TRUE(spec::SplitCsv(*text, &records, &lines, &err)) << err;
  ASSERT_GE(records.size(), 12u);
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  std::map<std::string, RowResult> by_id;
  for (const auto& x : Validate(*t).rows) by_id[x.id] = x;
  // The held-out set's rows may be listed too (they run the same way).
  auto held = spec::LoadValidationCsv(spec::DataDir() + "/heldout/training_results.csv", d);
  ASSERT_TRUE(held) << d.Render();
  std::map<std::string, RowResult> held_by_id;
  for (const auto& x : Validate(*held).rows) held_by_id[x.id] = x;
  auto mlperf = spec::LoadValidationCsv(spec::DataDir() + "/heldout/mlperf_training_results.csv", d);
  ASSERT_TRUE(mlperf) << d.Render();
  for (const auto& x : Validate(*mlperf).rows) held_by_id[x.id] = x;
  auto tpu = spec::LoadValidationCsv(spec::DataDir() + "/heldout/tpu_training_results.csv", d);
  ASSERT_TRUE(tpu) << d.Render();
  for (const auto& x : Validate(*tpu).rows) held_by_id[x.id] = x;
  for (size_t i = 1; i < records.size(); ++i) {
    const std::string& id = records[i][0];
    if (!by_id.count(id) && held_by_id.count(id)) by_id[id] = held_by_id[id];
    ASSERT_TRUE(by_id.count(id)) << id << " is not a row of training_results.csv (shared or held out)";
    const RowResult& x = by_id[id];
    EXPECT_TRUE(x.ok) << id << ": " << x.reason;
    if (!records[i][1].empty()) {
      EXPECT_NE(x.reason.find(" v" + records[i][1] + " "), std::string::npos) << x.reason;
    }
    EXPECT_EQ(x.reason.find(" tp-overlap ") != std::string::npos, records[i][2] == "true") << x.reason;
    if (!(records[i][4].empty() && id.starts_with("mbridge"))) {  // else Bridge's rule, checked below
      EXPECT_EQ(x.reason.find(" pp-overlap ") != std::string::npos, records[i][4] == "true") << x.reason;
    }
    if (!records[i][5].empty()) {
      EXPECT_NE(x.reason.find(" attn=" + records[i][5] + " "), std::string::npos) << x.reason;
    }
    if (!records[i][6].empty()) {
      EXPECT_EQ(x.reason.find(" fp32-grads ") != std::string::npos, records[i][6] == "fp32") << x.reason;
    }
    EXPECT_EQ(x.reason.find(" offload=") != std::string::npos, !records[i][7].empty()) << x.reason;
    if (!records[i][10].empty()) {  // Megatron-Core selective recompute of these modules
      std::string names = records[i][10];
      std::replace(names.begin(), names.end(), ' ', '+');
      EXPECT_NE(x.reason.find(" rc=selective:" + names + " "), std::string::npos) << id << ": " << x.reason;
    }
    if (!records[i][9].empty()) {  // Apex buckets: bucket_cap_mb MiB of gradients in the sync dtype
      const double params =
          std::stod(records[i][9]) * 1048576.0 / (x.reason.find(" fp32-grads ") != std::string::npos ? 4 : 2);
      EXPECT_NE(x.reason.find(fmt::format(" dp-bucket={:.3g}M ", params / 1e6)), std::string::npos)
          << id << ": " << x.reason;
    }
    if (!records[i][8].empty()) {  // empty: the source-wide rule (Megatron-Bridge's, below)
      EXPECT_EQ(x.reason.find(" fp8-params ") != std::string::npos, records[i][8] == "true") << id << ": " << x.reason;
    }
    if (!records[i][7].empty()) {
      EXPECT_NE(x.reason.find(" offload=" + records[i][7] + " "), std::string::npos) << x.reason;
    }
    EXPECT_EQ(x.reason.find(" fp8-act-input ") != std::string::npos, records[i][11] == "true")
        << id << ": " << x.reason;
    train::TpOverlap ub;
    std::string bad;
    EXPECT_TRUE(train::ParseTpOverlap(records[i][3], &ub, &bad)) << id << ": " << bad;
  }
  // A row the file does not list keeps what its notes say: no overlap for NeMo 24.07's Llama 3
  // 70B; a time-to-train row takes its step row's entry (the v4.1 LoRA run on 8 H100).
  ASSERT_TRUE(by_id.count("nemo2407_llama370b_64"));
  EXPECT_EQ(by_id["nemo2407_llama370b_64"].reason.find("tp-overlap"), std::string::npos);
  ASSERT_TRUE(by_id.count("mlptv41_lora_nvidia_eos_8_ttt"));
  EXPECT_NE(by_id["mlptv41_lora_nvidia_eos_8_ttt"].reason.find(" tp-overlap "), std::string::npos);
  // Gradients are reduced in fp32 exactly where the source's framework defaults to it:
  // llm-foundry's FSDP 'DEFAULT' mixed precision and NeMo 24.07's pre-training configs
  // (Nemotron-4 340B's sets bf16, and the launcher's example scripts that ran the Llama 2 7B
  // and 70B and Llama 3 8B rows set bf16: the settings file's grad_reduce_dtype, checked
  // above); MLPerf GPT-3 and Megatron-Bridge configure bf16, but for Google's JAX runs, whose
  // weights are fp32.
  int fp32_grads = 0;
  for (const auto& [id, x] : by_id) {
    if (!x.ok) continue;
    const bool fp32 = x.reason.find(" fp32-grads ") != std::string::npos;
    fp32_grads += fp32;
    if ((id.rfind("mlptv", 0) == 0 && id.find("_google_") == std::string::npos) || id.rfind("mbridge", 0) == 0 ||
        id.rfind("nemo2407_ft_", 0) == 0 || id.find("nemotron") != std::string::npos ||
        id.find("MP mode PURE") != std::string::npos) {
      EXPECT_FALSE(fp32) << id << ": " << x.reason;
    }
    if (id == "nemo2407_gpt-3175b_128" || id == "nemo2407_llama370b_64" ||
        id == "mpt_h10080gb_bf16_13b_s2048_g64_mb2_acF") {
      EXPECT_TRUE(fp32) << id << ": " << x.reason;
    }
  }
  EXPECT_GE(fp32_grads, 4 + 20);
  // Megatron-Bridge overlaps send/recv in every interleaved run, and no run without
  // interleaving; it stores fp8 weights in every fp8 run (fp8_param_gather in both recipes).
  int bridge_fp8 = 0;
  for (const auto& [id, x] : by_id) {
    if (id.rfind("mbridge", 0) != 0 || !x.ok) continue;
    const bool interleaved = std::regex_search(x.reason, std::regex(" v[0-9]+ "));
    EXPECT_EQ(x.reason.find(" pp-overlap ") != std::string::npos, interleaved) << id << ": " << x.reason;
    const bool fp8 = x.reason.find(" fp8 ") != std::string::npos;  // " fp8 rc=" or " fp8 fp8-params "
    EXPECT_EQ(x.reason.find(" fp8-params ") != std::string::npos, fp8) << id << ": " << x.reason;
    bridge_fp8 += fp8;
  }
  EXPECT_GE(bridge_fp8, 3);
}

// One GPU's whole training step (scripts/gpu/train_step.py --compile: Llama- and MPT-shaped
// models, embeddings, loss and fused AdamW included, no recompute and full recompute; fp32
// parameters under bf16 autocast), on an H100 and an H200, simulated from the row's columns
// as a published run would be. Never used to set anything; the bounds are the day's errors
// (H100 6 rows MAPE 2.9 %, max 5.1 %; H200 4 rows MAPE 4.4 %, max 7.5 %; 2.8 / 4.7 % and
// 4.2 / 7.3 % since the backward's residual-gradient sum rides in the compiled norm backward)
// with a margin.
// Before autocast's casts and the optimizer's power were modelled the model was faster on
// every row (MAPE 10.6 % and 12.7 %).
TEST(Validation, OwnSingleGpuTrainingStepsValidateWithinTheirRecordedError) {
  for (const auto& [file, rows, mape, max] : {std::tuple{"h100-sxm-train-step-2026-11-22.csv", 6, 4.0, 7.0},
                                              std::tuple{"h200-sxm-train-step-2026-11-22.csv", 4, 6.0, 9.5}}) {
    for (const auto& x : ExpectWithinRecordedError(spec::DataDir() + "/measurements/" + file, rows, mape, max)) {
      EXPECT_NE(x.reason.find(" autocast compiled "), std::string::npos) << x.id << ": " << x.reason;
    }
  }
}

// The same script's MoE slices and FP8 layers on an H100 (2026-11-23): 4 of Qwen3-30B-A3B's
// layers, 2 of Mixtral 8x7B's, 1 of Qwen3-235B-A22B's (dropless, force-balanced routing,
// grouped GEMMs), three dense models with every layer linear in FP8 (per-tensor current
// scaling), and the three bf16 rows again. The MoE rows price on their model's preset with
// the row's layer count. Never used to set anything; the day's errors: 9 rows MAPE 7.1 %,
// max 12.9 % (the model faster on every row; FP8 rows 9.6–9.7 %, bf16 repeats 1.2–4.3 %);
// 6.9 %, max 12.8 % since the compiled norm backward carries the residual-gradient sum.
TEST(Validation, OwnMoeAndFp8TrainingStepsValidateWithinTheirRecordedError) {
  const auto rows = ExpectWithinRecordedError(
      spec::DataDir() + "/measurements/h100-sxm-moe-fp8-train-step-2026-11-23.csv", 9, 8.0, 14.0);
  std::map<std::string, std::string> reason;
  for (const auto& x : rows) reason[x.id] = x.reason;
  EXPECT_NE(reason["h100train2311_qwen3moe-4l"].find("qwen3-30b-a3b (4 layers)"), std::string::npos)
      << reason["h100train2311_qwen3moe-4l"];
  EXPECT_NE(reason["h100train2311_mixtral-2l"].find("mixtral-8x7b (2 layers)"), std::string::npos)
      << reason["h100train2311_mixtral-2l"];
  EXPECT_NE(reason["h100train2311_llama8b-8l-fp8"].find(" fp8 "), std::string::npos)
      << reason["h100train2311_llama8b-8l-fp8"];
  EXPECT_NE(reason["h100train2311_llama8b-8l"].find(" bf16 "), std::string::npos) << reason["h100train2311_llama8b-8l"];
  for (const auto& x : rows) {
    EXPECT_NE(x.reason.find(" autocast compiled "), std::string::npos) << x.id << ": " << x.reason;
  }
}

// The power model against the boards' own power (data/measurements/*-power-rows-*.csv): the
// two rows the measured energy constants come from (data/energy/baseline-45nm.yaml) are
// reproduced within 1 %; every other row is out of sample — the H200 entirely (same die,
// HBM3e) — and held to its error on the day it was recorded.
TEST(Validation, OwnPowerMeasurementsReproduceTheirCalibrationRowsAndBoundTheRest) {
  const std::set<std::string> calibration = {"h100pt2611_sustained_gemm_bf16_8192",
                                             "h100pt2611_board_power_hbm_copy_1GiB"};
  // Recorded errors (%), per row: the write-only stream (fill) costs far less per byte than
  // a copy (+43.5 %), and the 1024³ matmul is launch-bound in eager PyTorch (+74 %: the
  // model's 3 µs kernel overhead against ~7.7 µs measured), neither a power-model failure
  // the constants could fix. The fp8 matmul held at the cap came to 0.2 % (from 4.0 %) when the
  // H100's fp8 ceiling became the mamf table's own H100 row.
  const std::map<std::string, double> bound = {
      {"h100pt2611_sustained_gemm_fp8_8192", 1.5},         {"h100pt2611_board_power_hbm_read_sum_1GiB", 5},
      {"h100pt2611_sustained_gemm_bf16_4096", 2},        {"h100pt2611_sustained_gemm_bf16_2048x2048x13312", 3},
      {"h100pt2611_sustained_gemm_bf16_8192_randn", 1},  {"h100pt2611_sustained_gemm_fp16_8192_randn", 5.5},
      {"h100pt2611_sustained_gemm_bf16_1024_randn", 80}, {"h100pt2611_sustained_gemm_tf32_8192_randn", 6.5},
      {"h100pt2611_board_power_hbm_triad_1GiB", 2},      {"h100pt2611_board_power_hbm_fill_1GiB", 45},
      {"h200pt2611_sustained_gemm_bf16_8192", 3.5},      {"h200pt2611_sustained_gemm_fp8_8192", 3.5},
      {"h200pt2611_board_power_hbm_copy_1GiB", 5},       {"h200pt2611_board_power_hbm_read_sum_1GiB", 1},
      {"h200pt2611_sustained_gemm_bf16_4096", 1.5},      {"h200pt2611_sustained_gemm_bf16_2048x2048x13312", 2},
  };
  size_t seen = 0;
  for (const char* file : {"h100-sxm-power-rows-2026-11-22.csv", "h200-sxm-power-rows-2026-11-22.csv"}) {
    Diagnostics d;
    auto t = spec::LoadValidationCsv(spec::DataDir() + "/measurements/" + file, d);
    ASSERT_TRUE(t) << d.Render();
    for (const auto& x : Validate(*t).rows) {
      ASSERT_TRUE(x.ok) << x.id << ": " << x.reason;
      ++seen;
      if (calibration.count(x.id)) {
        EXPECT_LE(x.abs_pct_error, 1.0) << x.id << ": " << x.reason;
      } else {
        ASSERT_TRUE(bound.count(x.id)) << x.id << " has no recorded error";
        EXPECT_LE(x.abs_pct_error, bound.at(x.id)) << x.id << ": " << x.reason;
      }
    }
  }
  EXPECT_EQ(seen, calibration.size() + bound.size());
}

// An fp8 matmul run back to back holds the board at its power cap on the H100 and the H200
// (their measured rows above: 698.5 W, SM clock 1247 and 1352 MHz against 1980), and so it
// must on every Blackwell preset. Without a matrix unit the power model priced no operand
// delivery, left fp8 at a quarter of bf16's energy per FLOP, and ran B200's fp8 GEMMs at the
// full clock under 1 kW (870 W) while its bf16 GEMMs throttled.
TEST(Validation, SustainedFp8MatmulsThrottleAtTheCapOnHopperAndBlackwell) {
  std::string csv = "id,hardware,kind,size_params,measured_value,unit\n";
  for (const char* chip : {"H100 SXM", "H200 SXM", "B200", "GB200", "B300", "GB300"}) {
    csv += fmt::format("{0},NVIDIA {0},sustained_gemm_fp8_e4m3,M=8192 N=8192 K=8192,1000,TFLOP/s\n", chip);
    csv += fmt::format("{0} bf16,NVIDIA {0},sustained_gemm_bf16,M=8192 N=8192 K=8192,1000,TFLOP/s\n", chip);
  }
  Diagnostics d;
  auto t = spec::ParseValidationCsv(csv, "sustained.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto rows = Validate(*t).rows;
  ASSERT_EQ(rows.size(), 12u);
  for (const auto& x : rows) {
    ASSERT_TRUE(x.ok) << x.id << ": " << x.reason;
    EXPECT_NE(x.reason.find("held at the"), std::string::npos) << x.id << ": " << x.reason;
    EXPECT_EQ(x.reason.find("under the cap"), std::string::npos) << x.id << ": " << x.reason;
  }
}

TEST(Validation, SharedMicrobenchSetValidatesMatmulStreamAndLayerRows) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation")) GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/microbench_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  std::vector<RowResult> per_shape;
  for (const auto& x : r.rows) {
    if (x.kind == "gemm_fp8_e4m3_blockscaled" || x.kind.rfind("grouped_gemm", 0) == 0 ||
        x.kind == "transformer_layer_fwd_bwd_time") {
      EXPECT_TRUE(x.ok) << x.id << ": " << x.reason;
      per_shape.push_back(x);
    }
  }
  const Summary s = Summarize(per_shape);
  EXPECT_EQ(s.validated, 26);
  // Issue 3 target: MAPE ≤ 10 %, max ≤ 25 %.
  EXPECT_LE(s.mape, 10.0) << SummaryLine(s);
  EXPECT_LE(s.max, 25.0) << SummaryLine(s);
  // Korthikanti et al.'s four 22B layers on 8 A100s: 3.6 % MAPE (max 5.7 %) since dgx-a100
  // prices its measured Simple ring step (6.5 %, max 8.6 %, with NCCL's constant).
  std::vector<RowResult> layers;
  for (const auto& x : per_shape)
    if (x.kind == "transformer_layer_fwd_bwd_time") layers.push_back(x);
  const Summary l = Summarize(layers);
  EXPECT_EQ(l.validated, 4);
  EXPECT_LE(l.mape, 4.5) << SummaryLine(l);
  EXPECT_LE(l.max, 7.0) << SummaryLine(l);
}

// Issue 4's target on the shared set's collective rows (all-reduce bus bandwidth, MoE
// dispatch/combine, point-to-point, bisection): MAPE ≤ 10 %, max ≤ 30 %. One row is left
// out, by the sweep check of comm::SweepOutliers: the 4-node P6-B200 sweep's 32 KiB call
// (0.01 GB/s busbw, 6.3 ms) took 16.8 times as long as the same sweep's 1 MiB call.
TEST(Validation, SharedCollectiveRowsMeetTheIssueTargetWithTheirSweepOutlierLeftOut) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/microbench_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  std::vector<RowResult> collective;
  for (const auto& x : r.rows) {
    if (x.kind.find("busbw") != std::string::npos || x.kind.rfind("moe_alltoall", 0) == 0 ||
        x.kind == "p2p_copy_bandwidth" || x.kind.rfind("effective_bisection", 0) == 0) {
      EXPECT_TRUE(x.ok) << x.id << ": " << x.reason;
      collective.push_back(x);
      EXPECT_EQ(x.left_out.empty(), x.id != "allreduce_b200_4node_32KiB") << x.id << ": " << x.left_out;
    }
  }
  const Summary s = Summarize(collective);
  EXPECT_EQ(s.total, 37);
  EXPECT_EQ(s.validated, 36);
  EXPECT_EQ(s.left_out, 1);
  EXPECT_LE(s.mape, 10.0) << SummaryLine(s);
  EXPECT_LE(s.max, 30.0) << SummaryLine(s);
  for (const auto& x : r.rows) {
    if (x.id == "allreduce_b200_4node_32KiB") {
      EXPECT_NE(x.left_out.find("allreduce_b200_4node_1MiB"), std::string::npos) << x.left_out;
    }
  }
  // The whole file's line says how many were left out, and why.
  EXPECT_NE(SummaryLine(r.all).find("(1 more simulated and left out: measured slower than a larger payload"),
            std::string::npos)
      << SummaryLine(r.all);
}

TEST(GptLayer, SequenceParallelAndRecomputeMoveTimeTheRightWay) {
  hw::Chip chip;
  chip.name = "a100-like";
  chip.family = "ampere";
  chip.cores = 108;
  chip.clock = Hertz(1.41e9);
  chip.matrix_unit = {4, 8, 4, 8};
  chip.peak[DType::kBf16] = FlopsPerSec(312e12);
  chip.hbm.bandwidth = BytesPerSec(2.039e12);
  chip.sram = {Bytes(192e3), Bytes(40e6)};
  chip.scale_up.bandwidth = BytesPerSec(300e9);
  const ops::OpModel m(chip, ops::ResolveCeilings(chip, nullptr, nullptr));
  LayerConfig c{6144, 64, 2048, 4, 0, 8, false, false, false, DType::kBf16, {}};
  // A ring all-reduce at 300 GB/s: the test checks the layer's structure, not comm/.
  c.tp_allreduce = [](Bytes payload) { return payload * (2.0 * 7 / 8) / BytesPerSec(300e9); };
  const LayerTime base = SimulateGptLayer(m, c);
  c.sequence_parallel = true;
  const LayerTime sp = SimulateGptLayer(m, c);
  c.selective_recompute = true;
  const LayerTime both = SimulateGptLayer(m, c);
  EXPECT_LT(sp.forward.value(), base.forward.value());
  EXPECT_GT(both.backward.value(), sp.backward.value());
  EXPECT_GT(base.comm.value(), 0);
}

// Megatron-LM before Megatron-Core DDP (the 2021–22 papers' code) all-reduced the gradients
// after the whole backward pass; later Megatron/NeMo rows overlap it with backward.
TEST(TrainingValidation, MegatronPreCoreRowsReduceDataParallelGradientsAfterBackward) {
  const std::string header =
      "id,model,layers,hidden,heads,kv_heads,ffn_hidden,vocab,seq_len,hardware,num_chips,tp,pp,dp,cp,ep,zero_or_fsdp,"
      "recompute,global_batch_tokens_or_sequences,precision,measured_metric,measured_value,unit,notes\n";
  const std::string cols =
      ",GPT 1.7B,24,2304,24,24,9216,51200,2048,A100-SXM4-80GB (DGX A100),32,1,1,32,1,,none,full activation recompute,"
      "512 seq,bf16,tflops_per_chip,137,TFLOP/s,\n";
  Diagnostics d;
  auto t = spec::ParseValidationCsv(header + "meg21_x" + cols + "later_x" + cols, "t.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 2u);
  ASSERT_TRUE(r.rows[0].ok && r.rows[1].ok) << r.rows[0].reason << " / " << r.rows[1].reason;
  EXPECT_NE(r.rows[0].reason.find("after backward"), std::string::npos) << r.rows[0].reason;
  EXPECT_EQ(r.rows[1].reason.find("after backward"), std::string::npos) << r.rows[1].reason;
}

// NVIDIA's MLPerf GPT-3 runs pad the 5 660-sequence eval set to whole global batches, each a
// pipelined pass: the 1 024-node run (global batch 4 096) evaluates 2 batches of 16
// micro-batches, the 512-node run (2 048) 3 of 16, on the same per-micro-batch forward — so
// their evaluations take 2 : 3 (less the shared stage sends), not the 23 : 45 micro-batches of
// an unpadded split over their data-parallel replicas.
TEST(TrainingValidation, NvidiaGpt3EvaluationsRunWholePaddedGlobalBatches) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  std::erase_if(t->rows, [&](const spec::CsvRow& r) {
    const std::string id = t->Get(r, "id");
    return id != "mlptv31_gpt3_nvidia_8192_ttt" && id != "mlptv31_gpt3_nvidia_4096_ttt" &&
           id != "mlptv31_gpt3_nvidia_8192_step" && id != "mlptv31_gpt3_nvidia_4096_step";
  });
  ASSERT_EQ(t->rows.size(), 4u);
  std::map<std::string, double> eval_s;
  for (const auto& x : Validate(*t).rows) {
    ASSERT_TRUE(x.ok) << x.id << ": " << x.reason;
    const auto at = x.reason.find(" evals of ");
    if (at != std::string::npos) eval_s[x.id] = std::stod(x.reason.substr(at + 10));
  }
  ASSERT_EQ(eval_s.size(), 2u);
  const double ratio = eval_s["mlptv31_gpt3_nvidia_8192_ttt"] / eval_s["mlptv31_gpt3_nvidia_4096_ttt"];
  EXPECT_GT(ratio, 0.64);
  EXPECT_LT(ratio, 0.70);
}

// A row that states its precision, ZeRO stage or recompute in words must agree with its
// entry in data/validation/training-layouts.csv: Google's v5p-512 run is laid out as int8,
// ZeRO-3 (FSDP) and full remat there, so the same row saying bf16, ZeRO-1 or no recompute
// is refused with both statements, and the row as published runs.
TEST(TrainingValidation, LayoutEntriesMustAgreeWithWhatTheRowStates) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation"))
    GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/training_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  std::erase_if(t->rows, [&](const spec::CsvRow& r) { return t->Get(r, "id") != "mlptv40_gpt3_google_v5p_512_ttt"; });
  ASSERT_EQ(t->rows.size(), 1u);
  auto run = [&](const char* column, const char* text) {
    spec::ValidationTable x = *t;
    if (column != nullptr) x.rows[0].cells[size_t(x.Column(column))] = text;
    return Validate(x).rows.at(0);
  };
  const auto as_published = run(nullptr, "");
  EXPECT_TRUE(as_published.ok) << as_published.reason;
  const auto bf16 = run("precision", "bf16 matmuls");
  EXPECT_FALSE(bf16.ok);
  EXPECT_NE(bf16.reason.find("gives precision int8, the row 'bf16 matmuls'"), std::string::npos) << bf16.reason;
  const auto zero1 = run("zero_or_fsdp", "ZeRO-1 (distributed optimizer)");
  EXPECT_FALSE(zero1.ok);
  EXPECT_NE(zero1.reason.find("gives ZeRO stage 3, the row 'ZeRO-1 (distributed optimizer)' (stage 1)"),
            std::string::npos)
      << zero1.reason;
  const auto none = run("recompute", "none");
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.reason.find("gives recompute full, the row 'none'"), std::string::npos) << none.reason;
}

}  // namespace
}  // namespace pf::report
