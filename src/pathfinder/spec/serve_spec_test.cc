// The serve section: loading with defaults and overrides, the cross-field rules, the trace
// and dataset CSV readers (a bad row names its line), and --slo parsing.
#include "pathfinder/spec/serve_spec.h"

#include <gtest/gtest.h>

#include "pathfinder/spec/scenario.h"

namespace pf::spec {
namespace {

std::optional<serve::ServeSettings> Load(const std::string& yaml, Diagnostics& d) {
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  return LoadServeSection(YAML::Load(yaml), ctx, "serve");
}

TEST(ServeSpec, LoadsEveryPartWithUnits) {
  Diagnostics d;
  auto s = Load(R"({workload: {requests: 500, input: {distribution: lognormal, mean: 1000, stddev: 400, max: 8000},
                    output: {mean: 200}},
                    arrivals: {process: poisson, rate: 12.5 req/s},
                    engine: {replicas: 4, max_batch: 512, policy: prefill-first, router: round-robin, prefill_replicas: 1},
                    weights: fp8, kv_cache: fp8, host_overhead: 1.5 ms, slo: {ttft: 2 s, tpot: 200 ms}})",
                d);
  ASSERT_TRUE(s) << d.Render();
  EXPECT_EQ(s->workload.requests, 500);
  EXPECT_EQ(s->workload.input.kind, serve::LengthKind::kLogNormal);
  EXPECT_EQ(s->workload.input.max, 8000);
  EXPECT_EQ(s->workload.output.kind, serve::LengthKind::kFixed);
  EXPECT_DOUBLE_EQ(s->arrivals.rate, 12.5);
  EXPECT_EQ(s->engine.policy, serve::Policy::kPrefillFirst);
  EXPECT_TRUE(s->engine.disaggregated);
  EXPECT_EQ(s->weight_dtype, DType::kFp8);
  EXPECT_DOUBLE_EQ(s->host_overhead.value(), 1.5e-3);
  EXPECT_DOUBLE_EQ(s->slo.tpot.value(), 0.2);
}

TEST(ServeSpec, ReportsEveryProblemAtOnce) {
  Diagnostics d;
  auto s = Load(R"({workload: {input: {distribution: normal, mean: 100}, output: {mean: 0}},
                    arrivals: {process: poisson},
                    engine: {replicas: 2, prefill_replicas: 2, max_bach: 4}})",
                d);
  EXPECT_FALSE(s);
  const std::string r = d.Render();
  EXPECT_NE(r.find("serve.engine.max_bach: unknown key; did you mean 'max_batch'?"), std::string::npos) << r;
  d = Diagnostics();
  s = Load(R"({workload: {input: {distribution: normal, mean: 100}, output: {mean: 0}},
              arrivals: {process: poisson}, engine: {replicas: 2, prefill_replicas: 2}})",
           d);
  const std::string r2 = d.Render();
  EXPECT_NE(r2.find("serve.workload.input.stddev"), std::string::npos) << r2;
  EXPECT_NE(r2.find("serve.workload.output.mean"), std::string::npos) << r2;
  EXPECT_NE(r2.find("serve.arrivals.rate: Poisson arrivals need a rate > 0"), std::string::npos) << r2;
  EXPECT_NE(r2.find("leave none of the 2 replicas to decode"), std::string::npos) << r2;
  d = Diagnostics();
  EXPECT_FALSE(Load("{arrivals: {process: poisson, rate: 12}}", d));
  EXPECT_NE(d.Render().find("12 has no unit; write e.g. \"12 req/s\""), std::string::npos) << d.Render();
}

TEST(ServeSpec, ABadTraceRowIsAnErrorNamingItsLine) {
  Diagnostics d;
  std::vector<serve::TraceRequest> t;
  EXPECT_FALSE(ParseTraceCsv(
      "arrival_s,input,output\n0.0,100,20\n0.5,abc,20\n1.0,100,0\n2.0,18446744073709551616,5\ninf,10,10\n", "trace.csv",
      &t, d));
  const std::string r = d.Render();
  EXPECT_NE(r.find("trace.csv:3:1: error: input 'abc' is not a whole number of tokens from 1 to 10^8"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("trace.csv:4:1: error: output '0' is not a whole number of tokens from 1 to 10^8"),
            std::string::npos)
      << r;
  // A count past a long is refused, not wrapped to -1; so is an arrival the clock cannot keep.
  EXPECT_NE(r.find("trace.csv:5:1: error: input '18446744073709551616' is not a whole number"), std::string::npos) << r;
  EXPECT_NE(r.find("trace.csv:6:1: error: arrival_s 'inf' is beyond 1e+09 s"), std::string::npos) << r;
  d = Diagnostics();
  t.clear();
  EXPECT_TRUE(ParseTraceCsv("arrival_s,input,output\n0.0,100,20\n0.25,300,7\n", "t.csv", &t, d)) << d.Render();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].input, 300);
  d = Diagnostics();
  EXPECT_FALSE(ParseTraceCsv("time,input,output\n", "t.csv", &t, d));
  EXPECT_NE(d.Render().find("missing column 'arrival_s'"), std::string::npos) << d.Render();
}

TEST(ServeSpec, ReadsDatasetLengthsShippedInData) {
  Diagnostics d;
  auto s = Load("{workload: {dataset: datasets/mlperf-llama2-70b-openorca.csv}}", d);
  ASSERT_TRUE(s) << d.Render();
  EXPECT_EQ(s->workload.paired_samples.size(), 24576u);
}

TEST(ServeSpec, ParsesSloText) {
  auto o = ParseSloText("ttft=2s,tpot=200ms,p=90");
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_DOUBLE_EQ(o.value().ttft.value(), 2.0);
  EXPECT_DOUBLE_EQ(o.value().tpot.value(), 0.2);
  EXPECT_DOUBLE_EQ(o.value().percentile, 90);
  EXPECT_FALSE(ParseSloText("ttft=2").ok());
  EXPECT_FALSE(ParseSloText("latency=2s").ok());
}

TEST(ServeSpec, EveryServeExampleLoads) {
  for (const char* f :
       {"serve-llama3.3-70b-8xh100.yaml", "serve-llama3.3-70b-8xh200.yaml", "serve-llama3.1-405b-b200.yaml",
        "serve-qwen3-235b-a22b-8xh200-ep.yaml", "serve-mlperf-llama2-70b-server.yaml"}) {
    Diagnostics d;
    auto sc = LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/" + f, d);
    ASSERT_TRUE(sc) << f << "\n" << d.Render();
    EXPECT_TRUE(sc->serve.has_value()) << f;
  }
}

}  // namespace
}  // namespace pf::spec
