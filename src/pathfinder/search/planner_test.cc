// Training and serving planners: the enumeration covers exactly the layouts of N chips and
// flags the framework rules; plans do not depend on the thread count; the best layout is
// at least as fast as a hand-written one from the same space; every planned layout fits and
// has MFU ≤ 100 %; counts add up; serving shapes are ranked by goodput per chip and each
// meets the SLOs at its rate.
#include <gtest/gtest.h>

#include <set>

#include "pathfinder/search/serve_planner.h"
#include "pathfinder/search/train_planner.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/model_spec.h"

namespace pf::search {
namespace {

struct Loaded {
  hw::Chip chip;
  spec::ResolvedCalibration cal;
  hw::Cluster cluster;
  model::Architecture model;
};

Loaded Load(const std::string& chip, const std::string& cluster, const std::string& model, long chips) {
  Diagnostics diag;
  auto c = spec::LoadChipPreset(chip, diag);
  auto cal = c ? spec::ResolveCalibration(*c, diag) : std::nullopt;
  auto cl = spec::LoadClusterPreset(cluster, diag);
  auto m = spec::LoadModelByName(model, diag);
  if (!(c && cal && cl && m)) {
    ADD_FAILURE() << diag.Render();
    return {};
  }
  cl->chips = chips;
  return {*c, *cal, *cl, *m};
}

train::TrainSettings Llama70bSettings() {
  train::TrainSettings s;
  s.seq_len = 4096;
  s.global_batch = 512;
  s.micro_batch = 1;
  s.precision = DType::kBf16;
  return s;
}

TEST(TrainPlanner, EnumerationCoversTheChipsAndFlagsTheRules) {
  const Loaded l = Load("h100-sxm", "dgx-h100", "llama-3-70b", 256);
  const auto all = EnumerateTrainLayouts(l.model, 256, 8, Llama70bSettings(), {});
  ASSERT_GT(all.size(), 100u);
  std::set<std::tuple<int, int, int, int, long, int, int, int>> seen;
  for (const auto& e : all) {
    const auto& p = e.candidate.p;
    const auto& s = e.candidate.s;
    EXPECT_EQ(long(p.tp) * p.pp * p.cp * p.dp, 256);
    EXPECT_LE(p.tp, 8);  // stays in the scale-up domain
    EXPECT_EQ(p.sequence_parallel, p.tp > 1);
    EXPECT_TRUE(seen.insert({p.tp, p.pp, p.cp, p.dp, s.micro_batch, s.virtual_stages, s.zero_stage, int(s.recompute)}).second)
        << "duplicate candidate";
    if (s.zero_stage == 3 && p.pp > 1) {
      EXPECT_FALSE(e.rule.empty());  // this rule or an earlier one
    }
    if (s.virtual_stages > 1 && p.pp == 1) {
      EXPECT_FALSE(e.rule.empty());
    }
    if (512 % (long(p.dp) * s.micro_batch) != 0) {
      EXPECT_NE(e.rule.find("global batch"), std::string::npos);  // checked first
    }
    if (e.rule.empty() && s.virtual_stages > 1) {
      EXPECT_EQ(80 % (p.pp * s.virtual_stages), 0);
      EXPECT_EQ((512 / (p.dp * s.micro_batch)) % p.pp, 0);
    }
  }
  // A given list restricts the space.
  TrainSpace only;
  only.tp = {8};
  only.pp = {4};
  for (const auto& e : EnumerateTrainLayouts(l.model, 256, 8, Llama70bSettings(), only)) {
    EXPECT_EQ(e.candidate.p.tp, 8);
    EXPECT_EQ(e.candidate.p.pp, 4);
  }
}

TEST(TrainPlanner, SamePlanForAnyThreadCountAndCountsAddUp) {
  const Loaded l = Load("h100-sxm", "dgx-h100", "llama-3-70b", 256);
  const train::Simulator sim(l.model, ops::OpModel(l.chip, l.cal.ceilings), l.cluster);
  ThreadPool one(1), two(2);
  const TrainPlan a = PlanTraining(sim, 256, Llama70bSettings(), {}, 20, one);
  const TrainPlan b = PlanTraining(sim, 256, Llama70bSettings(), {}, 20, two);
  ASSERT_FALSE(a.top.empty());
  ASSERT_EQ(a.top.size(), b.top.size());
  for (size_t i = 0; i < a.top.size(); ++i) {
    EXPECT_EQ(a.top[i].index, b.top[i].index);
    EXPECT_EQ(a.top[i].result.tokens_per_s, b.top[i].result.tokens_per_s);
  }
  EXPECT_EQ(a.infeasible, b.infeasible);
  size_t infeasible = 0;
  for (const auto& [why, n] : a.infeasible) infeasible += n;
  EXPECT_EQ(a.feasible + infeasible, a.enumerated);
  EXPECT_LE(a.feasible, a.simulated);
  // Best first, every one fits, MFU in (0, 1].
  for (size_t i = 0; i < a.top.size(); ++i) {
    const auto& r = a.top[i].result;
    EXPECT_TRUE(r.ok && r.fits) << r.reason << r.memory_fit.reason;
    EXPECT_GT(r.mfu, 0.0);
    EXPECT_LE(r.mfu, 1.0);
    if (i > 0) {
      EXPECT_GE(a.top[i - 1].result.tokens_per_s, r.tokens_per_s);
    }
  }
}

TEST(TrainPlanner, BestIsAtLeastAsFastAsAHandWrittenLayout) {
  const Loaded l = Load("h100-sxm", "dgx-h100", "llama-3-70b", 256);
  const train::Simulator sim(l.model, ops::OpModel(l.chip, l.cal.ceilings), l.cluster);
  // Megatron-style hand layout: tp 8, pp 4, dp 8, selective recompute.
  train::TrainSettings s = Llama70bSettings();
  s.recompute = graph::Recompute::kSelective;
  const train::TrainResult hand = sim.Run(graph::Parallelism{8, 4, 8, 1, 1, true}, s);
  ASSERT_TRUE(hand.ok && hand.fits) << hand.reason << hand.memory_fit.reason;
  ThreadPool pool(2);
  const TrainPlan plan = PlanTraining(sim, 256, Llama70bSettings(), {}, 1, pool);
  ASSERT_EQ(plan.top.size(), 1u);
  EXPECT_GE(plan.top[0].result.tokens_per_s, hand.tokens_per_s);
}

TEST(TrainPlanner, NothingFitsIsAPlanWithReasonsNotACrash) {
  // 405B on 8 chips: nothing fits; every point is counted with its reason.
  const Loaded l = Load("h100-sxm", "dgx-h100", "llama-3.1-405b", 8);
  const train::Simulator sim(l.model, ops::OpModel(l.chip, l.cal.ceilings), l.cluster);
  ThreadPool pool(2);
  train::TrainSettings s;
  s.seq_len = 8192;
  s.global_batch = 8;
  const TrainPlan plan = PlanTraining(sim, 8, s, {}, 5, pool);
  EXPECT_TRUE(plan.top.empty());
  EXPECT_EQ(plan.feasible, 0u);
  bool memory = false;
  for (const auto& [why, n] : plan.infeasible) memory |= why.find("does not fit in memory") != std::string::npos;
  EXPECT_TRUE(memory);
}

TEST(ServePlanner, RankedByGoodputPerChipAndEachMeetsTheSlo) {
  Diagnostics diag;
  auto chip = spec::LoadChipPreset("h100-sxm", diag);
  auto cal = chip ? spec::ResolveCalibration(*chip, diag) : std::nullopt;
  auto m = spec::LoadModelByName("llama-3-8b", diag);
  ASSERT_TRUE(chip && cal && m) << diag.Render();
  serve::ServeSettings s;
  s.workload.requests = 200;
  s.workload.input.mean = 1024;
  s.workload.output.mean = 128;
  s.slo.ttft = Seconds(2.0);
  s.slo.tpot = Seconds(0.05);
  s.slo.percentile = 90;
  ServeSpace space;
  space.tp = {1, 2};
  space.pp = {1};
  space.max_batch = {64, 256};
  const ops::OpModel op(*chip, cal->ceilings);
  ThreadPool one(1), two(2);
  const ServePlan a = PlanServing(op, *m, nullptr, 8, s, space, 10, one);
  const ServePlan b = PlanServing(op, *m, nullptr, 8, s, space, 10, two);
  ASSERT_EQ(a.enumerated, 4u);
  ASSERT_FALSE(a.top.empty());
  ASSERT_EQ(a.top.size(), b.top.size());
  for (size_t i = 0; i < a.top.size(); ++i) {
    EXPECT_EQ(a.top[i].index, b.top[i].index);
    EXPECT_EQ(a.top[i].max_rate.rate, b.top[i].max_rate.rate);
    EXPECT_TRUE(a.top[i].max_rate.at_rate.slo_met);
    EXPECT_NEAR(a.top[i].rate_per_chip * a.top[i].chips, a.top[i].max_rate.rate, 1e-9);
    if (i > 0) {
      EXPECT_GE(a.top[i - 1].rate_per_chip, a.top[i].rate_per_chip);
    }
  }
}

TEST(ServePlanner, ReplicasForDemandRoundUp) {
  EXPECT_EQ(ReplicasFor(100, 10), 10);
  EXPECT_EQ(ReplicasFor(101, 10), 11);
  EXPECT_EQ(ReplicasFor(5, 10), 1);
  EXPECT_EQ(ReplicasFor(5, 0), 0);
}

}  // namespace
}  // namespace pf::search
