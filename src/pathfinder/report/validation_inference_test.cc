// Inference validation rows: a trtllm-bench-style row is simulated; rows the serving
// simulator cannot set up are skipped with their reason.
#include "pathfinder/report/validation_inference.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pf::report
