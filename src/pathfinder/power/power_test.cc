// Tests of chip energy from activity, the power cap (throttling), and server/facility power.
#include "pathfinder/power/power.h"

#include <gtest/gtest.h>

#include <functional>

namespace pf::power {
namespace {

using namespace pf::literals;

ChipEnergyModel Model() {
  hw::Chip chip;
  chip.name = "t";
  chip.tdp = 700_W;
  chip.matrix_unit = {4, 8, 4, 16};
  hw::NodeEnergy n;
  n.bf16_flop = JoulesPerFlop(0.1e-12);
  for (auto& f : n.dtype_factor) f = 1;
  n.dtype_factor[static_cast<size_t>(DType::kFp8)] = 0.5;
  n.register_byte = JoulesPerByte(0.1e-12);
  n.sram_byte = JoulesPerByte(1e-12);
  n.d2d_byte = JoulesPerByte(4e-12);
  n.serdes_byte = JoulesPerByte(40e-12);
  n.uncore_fraction = 1.0;
  n.static_fraction = 0.3;
  hw::MemoryTech m;
  m.energy_per_bit = JoulesPerByte(3.5e-12 * 8);
  return MakeEnergyModel(chip, n, m, JoulesPerByte{});
}

TEST(Evaluate, EnergyIsTheSumOfItsPartsAndNonNegative) {
  Activity a;
  a[DType::kBf16] = Flops(1e15);
  a.hbm = 1_TB;
  a.link = 10_GB;
  a.duration = 10_s;
  const PowerResult r = Evaluate(a, Model(), 1.8_GHz);
  EXPECT_FALSE(r.throttled);
  const auto& e = r.energy;
  for (Joules j : {e.compute, e.sram, e.hbm, e.d2d, e.link, e.uncore, e.leakage}) EXPECT_GE(j.value(), 0);
  EXPECT_NEAR(e.hbm.value(), 1e12 * 28e-12, 1e-9);
  EXPECT_NEAR(e.leakage.value(), 210.0 * 10, 1e-9);  // 30 % of 700 W × 10 s
  EXPECT_NEAR(r.average.value(), e.Total().value() / 10, 1e-9);
}

TEST(MakeEnergyModel, AChipsOwnLeakageEstimateOverridesTheShareOfItsTdp) {
  EXPECT_NEAR(Model().static_power.value(), 210, 1e-9);  // no estimate: 30 % of 700 W
  hw::Chip chip;
  chip.tdp = 300_W;                // a designed chip held below its estimated power
  chip.static_power = 150_W;       // its derived leakage
  chip.matrix_unit = {4, 8, 4, 16};
  const ChipEnergyModel m = MakeEnergyModel(chip, Model().node, hw::MemoryTech{}, JoulesPerByte{});
  EXPECT_NEAR(m.static_power.value(), 150, 1e-9);
  Activity a;
  a[DType::kBf16] = Flops(1e15);
  a.duration = 1_s;
  const PowerResult r = Evaluate(a, m, 1_GHz);
  EXPECT_NEAR(r.energy.leakage.value(), 150.0 * r.duration.value(), 1e-9);
}

TEST(Evaluate, Fp8CostsLessEnergyThanBf16) {
  Activity a;
  a[DType::kBf16] = Flops(1e15);
  a.duration = 10_s;
  Activity b = a;
  b[DType::kBf16] = Flops{};
  b[DType::kFp8] = Flops(1e15);
  EXPECT_LT(Evaluate(b, Model(), 1_GHz).energy.compute, Evaluate(a, Model(), 1_GHz).energy.compute);
}

TEST(Evaluate, PowerOverTdpThrottlesTheClockWithDynamicPowerCubicInClock) {
  Activity a;
  a[DType::kBf16] = Flops(1e15);
  a.hbm = 3_TB;
  a.duration = 0.1_s;  // far more than 700 W
  const PowerResult r = Evaluate(a, Model(), 2_GHz);
  ASSERT_TRUE(r.throttled);
  EXPECT_LT(r.clock_ratio, 1.0);
  EXPECT_NEAR(r.clock.value(), 2e9 * r.clock_ratio, 1);
  EXPECT_NEAR(r.duration.value(), 0.1 / r.clock_ratio, 1e-12);
  EXPECT_NEAR(r.average.value(), 700, 1e-6);  // lands exactly on the cap
  EXPECT_NE(r.note.find("throttled"), std::string::npos);
}

// A run of 1 PFLOP and 3 TB that, re-simulated at clock ratio r, is busy c/r + mem seconds
// and then idles `idle` more (the rest of its span).
std::function<RunAt(double)> CappedRun(double c, double mem, double idle = 0) {
  Activity work;
  work[DType::kBf16] = Flops(1e15);
  work.hbm = 3_TB;
  return [work, c, mem, idle](double r) {
    RunAt x{work, Seconds(c / r + mem + idle)};
    x.busy.duration = Seconds(c / r + mem);
    return x;
  };
}

// The cap fed back into the run: the run re-simulated at clock ratio r takes c/r for its
// compute-bound part and m for its memory-bound part. With m = 0 the bisection lands on
// Evaluate's closed form (every second stretches); with m > 0 the run stretches less, draws
// more at the same clock, so the clock must drop further — and the result sits on the cap.
TEST(EnergyOfCappedRun, ReSimulatesAtTheThrottledClockAndLandsOnTheTdp) {
  ChipPowerModel m;
  m.energy = Model();
  Activity work = CappedRun(1, 0)(1).busy;
  auto run = [](double c, double mem) { return CappedRun(c, mem); };
  Activity at_nominal = work;
  at_nominal.duration = 0.1_s;
  const double closed_form = Evaluate(at_nominal, m.energy, 2_GHz).clock_ratio;
  double r_compute = 0, r_mixed = 0;
  const RunEnergy a = EnergyOfCappedRun(run(0.1, 0.0), m, 2_GHz, 8, ServerPower{}, 1.2, 1e6, &r_compute);
  EXPECT_NEAR(r_compute, closed_form, 1e-3);
  EXPECT_TRUE(a.chip.throttled);
  EXPECT_NEAR(a.chip.average.value(), 700, 1.0);
  EXPECT_NEAR(a.duration.value(), 0.1 / r_compute, 1e-9);
  const RunEnergy b = EnergyOfCappedRun(run(0.05, 0.05), m, 2_GHz, 8, ServerPower{}, 1.2, 1e6, &r_mixed);
  EXPECT_LT(r_mixed, closed_form);
  EXPECT_LE(b.chip.average.value(), 700 * (1 + 1e-9));
  EXPECT_GT(b.chip.average.value(), 700 * 0.995);
  EXPECT_NEAR(b.duration.value(), 0.05 / r_mixed + 0.05, 1e-9);
  EXPECT_NE(b.chip.note.find("re-simulated"), std::string::npos);
  // Within the TDP nothing changes: ratio 1 and the nominal run.
  double r_cool = 0;
  const RunEnergy c = EnergyOfCappedRun(run(10.0, 0.0), m, 2_GHz, 8, ServerPower{}, 1.2, 1e6, &r_cool);
  EXPECT_EQ(r_cool, 1.0);
  EXPECT_FALSE(c.chip.throttled);
  EXPECT_NEAR(c.duration.value(), 10.0, 1e-12);
}

// Each evaluation re-simulates the whole run (a training step, a serving run of thousands of
// requests), so the solve must take few: the mixed run above lands within 10^-4 of the TDP,
// from below, in at most 7 calls, the nominal run's included (bisection to 2^-14 of the
// bracket and a final re-run at the answer took 18).
TEST(EnergyOfCappedRun, LandsOnTheCapInAHandfulOfReSimulations) {
  ChipPowerModel m;
  m.energy = Model();
  for (const auto& [c, mem] : {std::pair{0.05, 0.05}, std::pair{0.09, 0.01}, std::pair{0.01, 0.09}}) {
    int calls = 0;
    auto run = [&calls, f = CappedRun(c, mem)](double r) {
      ++calls;
      return f(r);
    };
    double ratio = 0;
    const RunEnergy e = EnergyOfCappedRun(run, m, 2_GHz, 8, ServerPower{}, 1.2, 1e6, &ratio);
    if (!e.chip.throttled) continue;                 // a mostly memory-bound run may stay under the cap
    EXPECT_LE(calls, 7) << c << " " << mem;  // the nominal run and the solve; the answer is kept
    EXPECT_LE(e.chip.average.value(), 700 * (1 + 1e-9)) << c << " " << mem;
    EXPECT_GE(e.chip.average.value(), 700 * (1 - 1e-4)) << c << " " << mem;
  }
}

// Idle time in the span (a pipeline's fill and drain, a sync after the backward) lends the
// busy time no headroom: the same busy run throttles to the same clock with or without a
// long idle tail, its busy time sits on the TDP, and the average over the whole span falls
// below the TDP by the idle share.
TEST(EnergyOfCappedRun, IdleRestOfTheSpanLendsTheBusyTimeNoHeadroom) {
  ChipPowerModel m;
  m.energy = Model();
  auto run = [](double idle) { return CappedRun(0.1, 0, idle); };
  double r_alone = 0, r_idle = 0;
  const RunEnergy alone = EnergyOfCappedRun(run(0.0), m, 2_GHz, 8, ServerPower{}, 1.2, 1e6, &r_alone);
  const RunEnergy tail = EnergyOfCappedRun(run(0.1), m, 2_GHz, 8, ServerPower{}, 1.2, 1e6, &r_idle);
  ASSERT_LT(r_alone, 1.0);
  EXPECT_NEAR(r_idle, r_alone, 1e-3);
  EXPECT_TRUE(tail.chip.throttled);
  EXPECT_NEAR(tail.duration.value(), 0.1 / r_idle + 0.1, 1e-9);
  // Over the whole span: the busy part at the TDP, the idle part at static power.
  const double busy_s = 0.1 / r_idle;
  const double expected = (700.0 * busy_s + m.energy.static_power.value() * 0.1) / (busy_s + 0.1);
  EXPECT_NEAR(tail.chip.average.value(), expected, 2.0);
  EXPECT_LT(tail.chip.average.value(), 700.0 * 0.9);
}

TEST(Evaluate, StaticPowerAboveTdpIsInfeasibleNotACrash) {
  ChipEnergyModel m = Model();
  m.static_power = 800_W;
  Activity a;
  a[DType::kBf16] = Flops(1e12);
  a.duration = 1_s;
  const PowerResult r = Evaluate(a, m, 1_GHz);
  EXPECT_FALSE(r.feasible);
  EXPECT_FALSE(r.note.empty());
}

TEST(Cluster, ServerOverheadConversionAndPueGiveMegawatts) {
  ServerPower s{8, 700_W, 350_W, 2900_W, 0.94};
  const ClusterPower c = Cluster(16384, 700_W, s, 1.3);
  EXPECT_EQ(c.servers, 2048);
  EXPECT_NEAR(c.it_power.value(), 2048 * (8 * 700 + 3950) / 0.94, 1e-6);
  EXPECT_NEAR(c.facility_power.value(), c.it_power.value() * 1.3, 1e-6);
  EXPECT_NEAR(Cluster(8, 700_W, s, 1.0).it_power.value() / 1e3, 10.16, 0.01);  // ≈ DGX H100 10.2 kW
  EXPECT_EQ(Cluster(9, 700_W, s, 1.0).servers, 2);
}

ChipPowerModel TdpBased() {
  ChipPowerModel m;
  m.method = ChipPowerModel::Method::kTdp;
  m.tdp.tdp = 300_W;
  m.tdp.static_power = 90_W;
  m.tdp.peak[DType::kBf16] = FlopsPerSec(100e12);
  m.tdp.hbm_bandwidth = BytesPerSec(1e12);
  return m;
}

TEST(TdpModel, IdleDrawsStaticPowerAndFullRooflineDrawsTheTdp) {
  const ChipPowerModel m = TdpBased();
  Activity idle;
  idle.duration = 1_s;
  EXPECT_NEAR(Evaluate(idle, m, 1_GHz).average.value(), 90, 1e-9);
  Activity full = idle;
  full[DType::kBf16] = Flops(100e12);  // 1 s at peak
  EXPECT_NEAR(Evaluate(full, m, 1_GHz).average.value(), 300, 1e-9);
  Activity half = idle;
  half.hbm = Bytes(0.5e12);  // memory-bound half the time
  EXPECT_NEAR(Evaluate(half, m, 1_GHz).average.value(), 90 + 0.5 * 210, 1e-9);
  Activity over = full;
  over[DType::kBf16] = Flops(300e12);  // more than the peak allows: capped at the TDP, no throttle claimed
  const PowerResult r = Evaluate(over, m, 1_GHz);
  EXPECT_NEAR(r.average.value(), 300, 1e-9);
  EXPECT_FALSE(r.throttled);
  // Fp32 vector work on a chip without an fp32 matrix peak is timed at vector_fp32.
  ChipPowerModel v = m;
  v.tdp.vector_fp32 = FlopsPerSec(10e12);
  Activity vec = idle;
  vec[DType::kFp32] = Flops(5e12);
  EXPECT_NEAR(Utilization(vec, v.tdp), 0.5, 1e-12);
}

TEST(EvaluateOver, IdleTimeAddsStaticPowerOnlySoAnIdlerRunDrawsLess) {
  ChipPowerModel m;
  m.energy = Model();
  Activity busy;
  busy[DType::kBf16] = Flops(1e14);
  busy.hbm = 100_GB;
  busy.duration = 1_s;
  const PowerResult b = Evaluate(busy, m, 1_GHz);
  const PowerResult over = EvaluateOver(busy, m, 1_GHz, 4_s);
  EXPECT_NEAR(over.duration.value(), 4, 1e-12);
  EXPECT_NEAR(over.energy.Total().value(), b.energy.Total().value() + 210.0 * 3, 1e-6);
  EXPECT_LT(over.average, b.average);
  EXPECT_GT(over.average.value(), 210);  // never below the static power
}

TEST(EnergyOfRun, MegawattsScaleLinearlyWithChipsAndJoulesPerTokenDoNot) {
  ChipPowerModel m;
  m.energy = Model();
  Activity a;
  a[DType::kBf16] = Flops(2e14);
  a.hbm = 500_GB;
  a.duration = 1_s;
  const ServerPower s{8, 700_W, 350_W, 2900_W, 0.94};
  const RunEnergy one = EnergyOfRun(a, m, 1_GHz, 1_s, 1024, s, 1.3, 1e6);
  const RunEnergy two = EnergyOfRun(a, m, 1_GHz, 1_s, 2048, s, 1.3, 2e6);
  EXPECT_NEAR(two.cluster.facility_power.value(), 2 * one.cluster.facility_power.value(), 1e-6);
  EXPECT_NEAR(two.cluster.it_power.value(), 2 * one.cluster.it_power.value(), 1e-6);
  EXPECT_NEAR(two.FacilityJoulesPerToken(), one.FacilityJoulesPerToken(), 1e-9);
  EXPECT_NEAR(one.facility_energy.value(), one.cluster.facility_power.value() * 1.0, 1e-6);
  EXPECT_GT(one.FacilityJoulesPerToken(), one.ChipJoulesPerToken() * 1.3);  // host overhead and PUE on top
  // The same work spread over a longer span (an idler run) draws less power per chip.
  const RunEnergy idler = EnergyOfRun(a, m, 1_GHz, 3_s, 1024, s, 1.3, 1e6);
  EXPECT_LT(idler.chip.average, one.chip.average);
  EXPECT_GT(idler.FacilityJoulesPerToken(), one.FacilityJoulesPerToken());  // idle static energy per token
}

}  // namespace
}  // namespace pf::power
