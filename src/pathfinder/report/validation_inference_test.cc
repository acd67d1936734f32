// Inference validation rows: a trtllm-bench-style row is simulated with the benchmark's own
// engine limits; MLPerf Offline rows run the loadgen's sample count; rows the serving
// simulator cannot set up are skipped with their reason; the shared set meets issue 6's
// targets.
#include "pathfinder/report/validation_inference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "pathfinder/report/validation.h"

namespace pf::report {
namespace {

constexpr const char* kHeader =
    "id,model,params_B,hardware,num_chips,tp,pp,ep,precision,framework,scenario,batch_or_concurrency,input_len,output_"
    "len,"
    "measured_metric,measured_value,unit,source,notes\n";

TEST(InferenceValidation, SimulatesAFixedLengthOfflineRow) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv(
      std::string(kHeader) +
          "x_1,Llama 3.3 70B Instruct,70,H100-SXM5-80GB (DGX H100),2,2,1,,FP8 (NVIDIA ModelOpt "
          "FP8),TensorRT-LLM,offline,"
          "max-throughput (all 300 requests queued),1000,200,tokens_per_s,3000,total output tokens/s,src,\n",
      "i.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_TRUE(r.rows[0].ok) << r.rows[0].reason;
  EXPECT_GT(r.rows[0].predicted, 0);
  EXPECT_NE(r.rows[0].reason.find("TP2"), std::string::npos) << r.rows[0].reason;
}

TEST(InferenceValidation, SkipsRowsItCannotSetUpWithTheReason) {
  Diagnostics d;
  auto t = spec::ParseValidationCsv(
      std::string(kHeader) +
          "a_1,Llama 3.1 8B Instruct,8,H100-SXM5-80GB (Dell XE8640),4,,,,not "
          "extracted,vLLM,server,,,,tokens_per_s,5000,"
          "completed output tokens/s,src,\n"
          "b_1,GPT-J 6B (CNN/DM "
          "fine-tuned),6,H200-SXM-141GB,8,1,1,,FP8,TRT,offline,,,,requests_per_s,291,samples/s,src,\n"
          "c_1,Llama 2 70B Chat,70,H100-SXM5-80GB (DGX H100),8,2,1,,FP8,TensorRT-LLM (NVIDIA MLPerf harness),server,,,,"
          "tokens_per_s,20000,completed output tokens/s (whole system),src,no rate here\n",
      "i.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].reason, "missing field: tp (the split is not given)");
  EXPECT_EQ(r.rows[1].reason, "metric not modelled: requests_per_s [samples/s] (only output tokens/s)");
  EXPECT_EQ(r.rows[2].reason, "missing field: target_qps in notes (the Poisson rate)");
}

// trtllm-bench rows without stated limits run the limits trtllm-bench's heuristic picks
// (tensorrt_llm/bench/build/tuning.py): Llama-3.1-8B FP8 on one H100 (81559 MiB), 1000/1000,
// FP8 KV at free fraction 0.9: (79.65 GiB − 7.48 GiB) × 0.9 / (64 KiB × 2000) = 532
// requests → max_batch_size 640 (multiple of 128), max_num_tokens max(2048, 1000 + 640).
// A MoE row whose attention DP comes only from the doc's (invalid) template runs without.
TEST(InferenceValidation, TrtllmBenchRowsRunTheBenchmarksHeuristicLimits) {
  Diagnostics d;
  const std::string bench = "\"TensorRT-LLM (PyTorch backend, trtllm-bench)\",offline,max-throughput (all 200 requests queued),";
  auto t = spec::ParseValidationCsv(
      std::string(kHeader) + "l8,Llama 3.1 8B Instruct,8,H100-SXM5-80GB (DGX H100),1,1,1,1,FP8 (NVIDIA ModelOpt FP8)," +
          bench + "1000,1000,tokens_per_s,15000,total output tokens/s,src,\n" +
          "q,Qwen3-235B-A22B,235,H100-SXM5-80GB (DGX H100),8,8,1,8,FP8 (NVIDIA ModelOpt FP8)," + bench +
          "1000,100,tokens_per_s,5000,total output tokens/s,src,\"MoE run with attention DP enabled, EP=TP assumed from "
          "doc command template\"\n" +
          "m,Llama 3.1 8B Instruct,8,H100-SXM5-80GB (DGX H100),1,1,1,1,FP8 (NVIDIA ModelOpt FP8),TensorRT-LLM,offline,"
          "max-throughput (all 200 requests queued),1000,1000,tokens_per_s,15000,total output tokens/s,src,\n",
      "i.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 3u);
  for (const auto& row : r.rows) ASSERT_TRUE(row.ok) << row.id << ": " << row.reason;
  EXPECT_NE(r.rows[0].reason.find("batch ≤640, tokens ≤2048 (trtllm-bench heuristic, no chunking)"), std::string::npos)
      << r.rows[0].reason;
  EXPECT_EQ(r.rows[1].reason.find("attnDP"), std::string::npos) << r.rows[1].reason;
  EXPECT_NE(r.rows[1].reason.find("attention DP flag is invalid"), std::string::npos) << r.rows[1].reason;
  // Not trtllm-bench: TensorRT-LLM's build defaults, chunked prefill on.
  EXPECT_NE(r.rows[2].reason.find("batch ≤2048, tokens ≤8192;"), std::string::npos) << r.rows[2].reason;
}

// An MLPerf Offline row runs as many samples as the loadgen issues: max(dataset,
// 1.1 × 600 s × samples/s) — here max(24576, 1.1 × 600 × 40 = 26400) over 4 TP2 replicas
// = 6600 each; without a samples/s in the notes, the dataset's 24576 / 4 = 6144.
TEST(InferenceValidation, MlperfOfflineRowsRunTheLoadgensSampleCount) {
  Diagnostics d;
  const std::string row =
      "Llama 2 70B Chat,70,H100-SXM5-80GB (DGX H100),8,2,1,,FP8 weights+activations (TRT-LLM),TensorRT-LLM (NVIDIA "
      "MLPerf harness),offline,gpu_batch_size 896,,,tokens_per_s,24000,output tokens/s (whole system),src,";
  auto t = spec::ParseValidationCsv(std::string(kHeader) + "a," + row + "40 samples/s\n" + "b," + row + "\n", "m.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  ASSERT_EQ(r.rows.size(), 2u);
  ASSERT_TRUE(r.rows[0].ok && r.rows[1].ok) << r.rows[0].reason << "\n" << r.rows[1].reason;
  EXPECT_NE(r.rows[0].reason.find("; 6600 req/replica"), std::string::npos) << r.rows[0].reason;
  EXPECT_NE(r.rows[1].reason.find("; 6144 req/replica"), std::string::npos) << r.rows[1].reason;
}

// Issue 6's targets on the shared serving set: MAPE ≤ 15 % over at least 80 % of the rows
// (the best 80 %) and max ≤ 40 %. Each row runs under the power cap as `pathfinder serve`
// runs it (spec::CapServeRun): 53 of 107 ran at a capped clock the day that came in, and the
// set's MAPE went from 11.5 % to 8.8 % (the B200 TensorRT-LLM NVFP4 rows from 16.6 % to 9.1 %
// fast on average; the Hopper rows within 1 point of where they were), held here with a margin.
TEST(InferenceValidation, SharedInferenceSetMeetsTheServingTargets) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation")) GTEST_SKIP() << "../shared/validation not present";
  Diagnostics d;
  auto t = spec::LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/inference_results.csv", d);
  ASSERT_TRUE(t) << d.Render();
  const auto r = Validate(*t);
  std::vector<double> errors;
  for (const auto& x : r.rows)
    if (x.ok) errors.push_back(x.abs_pct_error);
  ASSERT_GE(errors.size(), 100u);
  std::sort(errors.begin(), errors.end());
  const size_t n = (errors.size() * 8 + 9) / 10;  // at least 80 %
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += errors[i];
  EXPECT_LE(sum / double(n), 15.0) << SummaryLine(Summarize(r.rows));
  EXPECT_LE(errors.back(), 40.0) << SummaryLine(Summarize(r.rows));
  int capped = 0;
  for (const auto& x : r.rows) capped += x.ok && x.reason.find(", power cap: clock × ") != std::string::npos;
  EXPECT_GE(capped, 45);
  const Summary all = Summarize(r.rows);
  EXPECT_LE(all.mape, 9.5) << SummaryLine(all);
}

}  // namespace
}  // namespace pf::report
