// Tests of search/: generators, the deterministic pool, constraints, Pareto front,
// infeasibility counts, progress lines and the driver's batching and serialization.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <sstream>

#include "pathfinder/search/distributed.h"
#include "pathfinder/search/driver.h"
#include "pathfinder/search/objective.h"
#include "pathfinder/search/pool.h"
#include "pathfinder/search/progress.h"
#include "pathfinder/search/space.h"

namespace pf::search {
namespace {

Parameter Range(double lo, double hi, size_t steps = 0, bool integer = false) {
  Parameter p;
  p.kind = Parameter::Kind::kRange;
  p.lo = lo;
  p.hi = hi;
  p.steps = steps;
  p.integer = integer;
  return p;
}
Parameter Values(size_t n) {
  Parameter p;
  p.kind = Parameter::Kind::kValues;
  p.count = n;
  return p;
}

TEST(Grid, IsTheCartesianProductWithTheFirstParameterSlowest) {
  auto g = Grid({Values(2), Range(1, 3, 3)}, 100);
  ASSERT_TRUE(g.ok());
  const std::vector<Point> want = {{0, 1}, {0, 2}, {0, 3}, {1, 1}, {1, 2}, {1, 3}};
  EXPECT_EQ(g.value(), want);
}

TEST(Grid, IntegerRangesDropRepeatedValuesAndEndExactlyAtMax) {
  EXPECT_EQ(GridValues(Range(1, 3, 5, true)), (std::vector<double>{1, 2, 3}));
  const auto v = GridValues(Range(0.1, 0.7, 7));
  EXPECT_EQ(v.back(), 0.7);
  EXPECT_EQ(v.size(), 7u);
}

TEST(Grid, RefusesMoreThanTheLimit) {
  auto g = Grid({Range(0, 1, 1000), Range(0, 1, 1000)}, 999'999);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().find("1000000 points"), std::string::npos);
}

TEST(Random, IsDeterministicForASeedAndStaysInBounds) {
  Parameter lg = Range(1, 1000);
  lg.log = true;
  const std::vector<Parameter> ps = {Range(-1, 1), Range(4, 9, 0, true), Values(3), lg};
  const auto a = Random(ps, 500, 42), b = Random(ps, 500, 42), c = Random(ps, 500, 43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<double> ints;
  for (const auto& p : a) {
    EXPECT_GE(p[0], -1);
    EXPECT_LE(p[0], 1);
    EXPECT_EQ(p[1], std::floor(p[1]));
    ints.insert(p[1]);
    EXPECT_TRUE(p[2] == 0 || p[2] == 1 || p[2] == 2);
    EXPECT_GE(p[3], 1);
    EXPECT_LE(p[3], 1000);
  }
  EXPECT_EQ(ints, (std::set<double>{4, 5, 6, 7, 8, 9}));  // both ends reachable
}

TEST(Random, KnownFirstValuesPinTheGenerator) {
  // SplitMix64 with seed 0: first output 0xE220A8397B1DCDAF (reference implementation).
  Rng r(0);
  EXPECT_EQ(r.Next(), 0xE220A8397B1DCDAFull);
}

TEST(LatinHypercube, PutsExactlyOnePointInEachStratumOfEachParameter) {
  const size_t n = 50;
  const auto pts = LatinHypercube({Range(0, 1), Range(10, 20)}, n, 7);
  ASSERT_EQ(pts.size(), n);
  for (size_t d = 0; d < 2; ++d) {
    std::vector<int> hits(n, 0);
    for (const auto& p : pts) {
      const double u = d == 0 ? p[0] : (p[1] - 10) / 10;
      hits[std::min(n - 1, size_t(u * double(n)))]++;
    }
    for (size_t s = 0; s < n; ++s) EXPECT_EQ(hits[s], 1) << "parameter " << d << " stratum " << s;
  }
  EXPECT_EQ(pts, LatinHypercube({Range(0, 1), Range(10, 20)}, n, 7));
}

TEST(LatinHypercube, UsesEachListedValueEquallyOften) {
  const auto pts = LatinHypercube({Values(4)}, 10, 3);
  std::vector<int> count(4, 0);
  for (const auto& p : pts) count[size_t(p[0])]++;
  for (int c : count) EXPECT_TRUE(c == 2 || c == 3) << c;
}

TEST(ThreadPool, RunsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 7}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(10'001);
    pool.ParallelFor(hits.size(), [&](size_t i) { hits[i]++; });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    pool.ParallelFor(0, [&](size_t) { FAIL(); });  // nothing to do
  }
}

TEST(ThreadPool, ResultsDoNotDependOnTheThreadCount) {
  auto run = [](int threads) {
    ThreadPool pool(threads);
    std::vector<double> out(5000);
    // Uneven costs so that scheduling differs between runs.
    pool.ParallelFor(out.size(), [&](size_t i) {
      double x = double(i);
      for (size_t k = 0; k < (i % 97) * 20; ++k) x = std::sin(x) + 1.0;
      out[i] = x;
    });
    return out;
  };
  const auto one = run(1);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(8), one);
}

TEST(ThreadPool, RethrowsTheExceptionOfTheLowestIndex) {
  ThreadPool pool(4);
  try {
    pool.ParallelFor(1000, [](size_t i) {
      if (i % 100 == 37) throw std::runtime_error(std::to_string(i));
    });
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "37");
  }
  int n = 0;
  pool.ParallelFor(3, [&](size_t) { ++n; });  // still usable (3 ≤ chunk: one thread)
  EXPECT_EQ(n, 3);
}

Evaluation Ev(std::vector<double> m, bool feasible = true, std::string reason = "") {
  Evaluation e;
  e.metrics = std::move(m);
  e.feasible = feasible;
  e.reason = std::move(reason);
  return e;
}

TEST(ParetoFront, KeepsExactlyTheNonDominatedFeasiblePoints) {
  // Maximize metric 0, minimize metric 1.
  const std::vector<Objective> obj = {{0, Sense::kMaximize}, {1, Sense::kMinimize}};
  const std::vector<Evaluation> pts = {
      Ev({1, 1}),         // 0: front (cheapest)
      Ev({2, 2}),         // 1: front
      Ev({2, 3}),         // 2: dominated by 1
      Ev({3, 5}),         // 3: front (best metric 0)
      Ev({10, 0}, false), // 4: would dominate all, but infeasible
      Ev({2, 2}),         // 5: equal to 1: kept
      Ev({0.5, 1}),       // 6: dominated by 0
      Ev({NAN, 0}),       // 7: NaN objective: left out
  };
  EXPECT_EQ(ParetoFront(pts, obj), (std::vector<size_t>{0, 1, 3, 5}));
}

TEST(ParetoFront, MatchesTheQuadraticDefinitionOnRandomPoints) {
  Rng rng(5);
  std::vector<Evaluation> pts;
  for (int i = 0; i < 400; ++i) pts.push_back(Ev({double(rng.Below(30)), double(rng.Below(30)), double(rng.Below(30))}, rng.Below(10) != 0));
  const std::vector<Objective> obj = {{0, Sense::kMaximize}, {1, Sense::kMinimize}, {2, Sense::kMaximize}};
  std::vector<size_t> want;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (!pts[i].feasible) continue;
    bool dominated = false;
    for (size_t j = 0; j < pts.size(); ++j) dominated |= pts[j].feasible && Dominates(pts[j].metrics, pts[i].metrics, obj);
    if (!dominated) want.push_back(i);
  }
  EXPECT_EQ(ParetoFront(pts, obj), want);
  EXPECT_FALSE(want.empty());
}

TEST(Constraints, MarkTheFirstViolationAndKeepAnEarlierReason) {
  const std::vector<Constraint> cs = {{0, true, 1000, "tdp ≤ 1000 W"}, {1, false, 5, "capacity ≥ 5"}};
  Evaluation ok = Ev({900, 6});
  ApplyConstraints(cs, ok);
  EXPECT_TRUE(ok.feasible);
  Evaluation hot = Ev({1200, 1});
  ApplyConstraints(cs, hot);
  EXPECT_FALSE(hot.feasible);
  EXPECT_EQ(hot.reason, "violates tdp ≤ 1000 W (1200)");
  Evaluation already = Ev({1200, 1}, false, "die too big");
  ApplyConstraints(cs, already);
  EXPECT_EQ(already.reason, "die too big");
  Evaluation nan = Ev({NAN, 6});
  ApplyConstraints(cs, nan);
  EXPECT_FALSE(nan.feasible);
}

TEST(Infeasible, CountsByReasonWithNumbersMaskedButUnitsAndNamesKept) {
  EXPECT_EQ(ReasonKind("compute die 1008 mm2 exceeds the 858.5 mm2 reticle limit"), "compute die # mm2 exceeds the # mm2 reticle limit");
  EXPECT_EQ(ReasonKind("hbm4 stacks 12 > 8 sites (1.5e+03)"), "hbm4 stacks # > # sites (#)");
  const auto counts = CountInfeasible({Ev({}, false, "die 900 mm2 > 858 mm2"), Ev({}, false, "power 2 kW"), Ev({}, true),
                                       Ev({}, false, "die 1000 mm2 > 858 mm2")});
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0], (std::pair<std::string, size_t>{"die # mm2 > # mm2", 2}));
  EXPECT_EQ(counts[1].second, 1u);
}

TEST(Progress, PrintsPlainLinesPerTenthWhenNotATerminal) {
  double now = 0;
  std::ostringstream out;
  Progress p(100, 0, &out, false, [&] { return now; });
  for (int i = 0; i < 100; ++i) {
    now += 0.01;
    p.Advance(1);
  }
  p.Finish();
  const std::string s = out.str();
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 10);  // 10 %, …, 90 %, and the final line
  EXPECT_NE(s.find("sweep: 100.0%  100/100  100 pt/s  took 0:01"), std::string::npos) << s;
  EXPECT_EQ(s.find('\r'), std::string::npos);
}

TEST(Progress, DrawsABarWithRateAndEtaOnATerminal) {
  EXPECT_EQ(Progress::Line(50, 200, 25, 5.0, true), "[#####...............]  25.0%  50/200  5 pt/s  ETA 0:30");
  double now = 0;
  std::ostringstream out;
  Progress p(10, 0, &out, true, [&] { return now; });
  now = 1;
  p.Advance(5);
  EXPECT_NE(out.str().find("\r[##########"), std::string::npos);
}

TEST(Driver, SerializationRoundTrips) {
  std::vector<Evaluation> ev = {Ev({1.5, NAN}, false, "why"), Ev({}, true)};
  ev[0].details = "{\"a\":1}";
  std::vector<size_t> idx;
  std::vector<Evaluation> back;
  Deserialize(Serialize({7, 3}, ev), &idx, &back);
  EXPECT_EQ(idx, (std::vector<size_t>{7, 3}));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].reason, "why");
  EXPECT_EQ(back[0].details, "{\"a\":1}");
  EXPECT_TRUE(std::isnan(back[0].metrics[1]));
  EXPECT_TRUE(back[1].feasible);
}

TEST(Driver, HandsBatchesInIndexOrderAndTheSameRowsForAnyThreadCount) {
  const std::vector<size_t> pending = {0, 2, 3, 5, 8, 9, 10, 11, 12, 13, 20};
  auto run = [&](int threads, size_t batch) {
    auto comm = SingleProcess();
    ThreadPool pool(threads);
    std::vector<std::pair<size_t, double>> rows;
    auto r = RunDistributed(
        pending, [](size_t i) { return Ev({double(i * i)}); },
        [&](const std::vector<size_t>& idx, const std::vector<Evaluation>& evs) -> Result<bool> {
          EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
          for (size_t k = 0; k < idx.size(); ++k) rows.push_back({idx[k], evs[k].metrics[0]});
          return true;
        },
        *comm, pool, {batch, nullptr});
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.value(), pending.size());
    return rows;
  };
  const auto ref = run(1, 3);
  ASSERT_EQ(ref.size(), pending.size());
  EXPECT_EQ(ref.back(), (std::pair<size_t, double>{20, 400}));
  EXPECT_EQ(run(2, 3), ref);
  EXPECT_EQ(run(4, 0), ref);
}

TEST(Driver, StopsAtTheSinksError) {
  auto comm = SingleProcess();
  ThreadPool pool(2);
  int calls = 0;
  auto r = RunDistributed(
      {0, 1, 2, 3, 4, 5}, [](size_t) { return Evaluation{}; },
      [&](const std::vector<size_t>&, const std::vector<Evaluation>&) -> Result<bool> {
        ++calls;
        return Error{"disk full"};
      },
      *comm, pool, {2, nullptr});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace pf::search
