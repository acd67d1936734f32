// The serving fast mode against the discrete-event simulator on offline runs of the
// comparison examples (a Hopper GPU, a Blackwell GPU, the 2 nm design): output tokens/s and
// mean TPOT agree within 15 %.
#include "pathfinder/serve/steady_state.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pathfinder/serve/metrics.h"
#include "pathfinder/serve/simulator.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/scenario.h"

namespace pf::serve {
namespace {

struct Compared {
  SteadyState fast;
  Summary sim;
};

Compared RunBoth(const std::string& example, long requests, long max_batch = 0, const Speculative& speculative = {}) {
  Diagnostics d;
  auto sc = spec::LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/" + example, d);
  EXPECT_TRUE(sc && sc->chip && sc->model && sc->serve) << d.Render();
  auto cal = spec::ResolveCalibration(*sc->chip, d);
  EXPECT_TRUE(cal) << d.Render();
  ServeSettings s = *sc->serve;
  s.workload.requests = requests;
  if (max_batch > 0) s.engine.max_batch = max_batch;
  s.speculative = speculative;
  const ops::OpModel op(*sc->chip, cal->ceilings);
  std::optional<comm::Network> net;
  if (sc->cluster) net.emplace(*sc->cluster);
  IterationCostModel cost(op, *sc->model, sc->parallelism, s, net ? &*net : nullptr);
  Compared c;
  c.fast = EstimateSteadyState(cost, s);
  c.sim = Summarize(Simulate(s, cost), s.slo);
  return c;
}

void ExpectWithin(double fast, double sim, double tol, const char* what) {
  EXPECT_GT(sim, 0) << what;
  EXPECT_LE(std::fabs(fast - sim) / sim, tol) << what << ": fast " << fast << " vs simulator " << sim;
}

class SteadyStateVsSimulator : public ::testing::TestWithParam<const char*> {};

TEST_P(SteadyStateVsSimulator, ThroughputAndTpotWithinFifteenPercentOffline) {
  const Compared c = RunBoth(GetParam(), 8000);
  ASSERT_TRUE(c.fast.fits);
  ExpectWithin(c.fast.output_tokens_per_s, c.sim.output_tokens_per_s, 0.15, "output tokens/s");
  ExpectWithin(c.fast.tpot.value(), c.sim.tpot.mean, 0.15, "mean TPOT");
  std::printf("%s: batch %.1f (%s), out/s fast %.0f sim %.0f (%+.1f %%), TPOT fast %.2f ms sim %.2f ms (%+.1f %%)\n",
              GetParam(), c.fast.batch, c.fast.batch_limit.c_str(), c.fast.output_tokens_per_s,
              c.sim.output_tokens_per_s, 100 * (c.fast.output_tokens_per_s / c.sim.output_tokens_per_s - 1),
              c.fast.tpot.value() * 1e3, c.sim.tpot.mean * 1e3, 100 * (c.fast.tpot.value() / c.sim.tpot.mean - 1));
}

// A batch the KV cache limits (max batch raised to 2048 on the H200, FP8 KV cache).
TEST(SteadyStateVsSimulatorKvLimited, ThroughputAndTpotWithinFifteenPercentOffline) {
  const Compared c = RunBoth("compare-serve-h200-sxm.yaml", 8000, 2048);
  ASSERT_TRUE(c.fast.fits);
  EXPECT_EQ(c.fast.batch_limit, "kv_cache");
  ExpectWithin(c.fast.output_tokens_per_s, c.sim.output_tokens_per_s, 0.15, "output tokens/s");
  ExpectWithin(c.fast.tpot.value(), c.sim.tpot.mean, 0.15, "mean TPOT");
  std::printf("kv-limited h200: batch %.1f (%s), out/s fast %.0f sim %.0f (%+.1f %%), TPOT fast %.2f ms sim %.2f ms (%+.1f %%)\n",
              c.fast.batch, c.fast.batch_limit.c_str(), c.fast.output_tokens_per_s, c.sim.output_tokens_per_s,
              100 * (c.fast.output_tokens_per_s / c.sim.output_tokens_per_s - 1), c.fast.tpot.value() * 1e3,
              c.sim.tpot.mean * 1e3, 100 * (c.fast.tpot.value() / c.sim.tpot.mean - 1));
}

INSTANTIATE_TEST_SUITE_P(Examples, SteadyStateVsSimulator,
                         ::testing::Values("compare-serve-h200-sxm.yaml", "compare-serve-b200.yaml",
                                           "compare-serve-pf-infer-n2.yaml"));

// Speculative decoding in the fast mode: E = 1 + α + … + α^k tokens per sequence per
// iteration, as the simulator measures them.
TEST(SteadyStateVsSimulatorSpeculative, ThroughputAndTpotWithinFifteenPercentOffline) {
  const Speculative spec{2, 0.8, 1};
  const Compared c = RunBoth("compare-serve-h200-sxm.yaml", 8000, 0, spec);
  ASSERT_TRUE(c.fast.fits);
  ExpectWithin(c.fast.output_tokens_per_s, c.sim.output_tokens_per_s, 0.15, "output tokens/s");
  ExpectWithin(c.fast.tpot.value(), c.sim.tpot.mean, 0.15, "mean TPOT");
  EXPECT_NEAR(c.fast.output_tokens_per_s, c.fast.batch * spec.TokensPerStep() / c.fast.iteration.value(),
              1e-9 * c.fast.output_tokens_per_s);
  std::printf("speculative h200: batch %.1f (%s), out/s fast %.0f sim %.0f (%+.1f %%), TPOT fast %.2f ms sim %.2f ms (%+.1f %%)\n",
              c.fast.batch, c.fast.batch_limit.c_str(), c.fast.output_tokens_per_s, c.sim.output_tokens_per_s,
              100 * (c.fast.output_tokens_per_s / c.sim.output_tokens_per_s - 1), c.fast.tpot.value() * 1e3,
              c.sim.tpot.mean * 1e3, 100 * (c.fast.tpot.value() / c.sim.tpot.mean - 1));
}

TEST(SteadyState, BatchIsTheSmallestOfMaxBatchKvCacheAndTokenBudget) {
  Diagnostics d;
  auto sc = spec::LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/compare-serve-h200-sxm.yaml", d);
  ASSERT_TRUE(sc) << d.Render();
  auto cal = spec::ResolveCalibration(*sc->chip, d);
  ASSERT_TRUE(cal);
  const ops::OpModel op(*sc->chip, cal->ceilings);
  for (long max_batch : {8L, 64L, 4096L}) {
    ServeSettings s = *sc->serve;
    s.engine.max_batch = max_batch;
    IterationCostModel cost(op, *sc->model, sc->parallelism, s, nullptr);
    const SteadyState r = EstimateSteadyState(cost, s);
    const double kv = double(cost.memory().kv_tokens) / r.context;
    const double tokens = double(s.engine.max_tokens) * r.mean_output / (r.mean_input + r.mean_output);
    EXPECT_DOUBLE_EQ(r.batch, std::max(1.0, std::min({double(max_batch), kv, tokens})));
    EXPECT_NEAR(r.output_tokens_per_s, r.batch / r.tpot.value(), 1e-9 * r.output_tokens_per_s);
    EXPECT_GT(r.ttft.value(), 0);
  }
}

}  // namespace
}  // namespace pf::serve
