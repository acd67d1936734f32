// Tests of the chip power seam: the process-node table, the TDP-based fallback (and that it
// says so), a power figure for every chip preset, and the energy per token of the H100
// Llama-3-70B training example against physical and published bounds.
#include "pathfinder/spec/chip_energy.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "pathfinder/ops/clock.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/spec/tech_spec.h"

namespace pf::spec {
namespace {

using namespace pf::literals;
using Method = power::ChipPowerModel::Method;

TEST(EnergyNodeOf, MapsTheProcessTextsOfThePresetsByTheTable) {
  EXPECT_EQ(EnergyNodeOf("TSMC 4N"), "tsmc-n4");
  EXPECT_EQ(EnergyNodeOf("TSMC 4NP"), "tsmc-n4p");
  EXPECT_EQ(EnergyNodeOf("TSMC N5"), "tsmc-n5");
  EXPECT_EQ(EnergyNodeOf("TSMC 5nm"), "tsmc-n5");
  EXPECT_EQ(EnergyNodeOf("TSMC N7"), "tsmc-n7");
  EXPECT_EQ(EnergyNodeOf("TSMC 7nm"), "tsmc-n7");
  EXPECT_EQ(EnergyNodeOf("TSMC N6"), "tsmc-n7");
  // The compute die decides, wherever it is written.
  EXPECT_EQ(EnergyNodeOf("XCD TSMC N5 + IOD TSMC N6"), "tsmc-n5");
  EXPECT_EQ(EnergyNodeOf("XCD TSMC N3P + IOD TSMC N6"), "tsmc-n3e");
  EXPECT_EQ(EnergyNodeOf("IOD TSMC N6 + XCD TSMC N3P"), "tsmc-n3e");
  // Designs write a node preset id or its display name.
  EXPECT_EQ(EnergyNodeOf("tsmc-n2"), "tsmc-n2");
  EXPECT_EQ(EnergyNodeOf("TSMC N4 (NVIDIA 4N)"), "tsmc-n4");
  EXPECT_EQ(EnergyNodeOf("TSMC N4P (NVIDIA 4NP)"), "tsmc-n4p");
  EXPECT_EQ(EnergyNodeOf("TSMC N3E / N3P"), "tsmc-n3e");
  // No energy data: empty, never a guess.
  EXPECT_EQ(EnergyNodeOf("TSMC 12FFN"), "");
  EXPECT_EQ(EnergyNodeOf("samsung-sf2"), "");
  EXPECT_EQ(EnergyNodeOf("Samsung SF3 / 3GAP"), "");
  EXPECT_EQ(EnergyNodeOf(""), "");
  for (const char* n : {"tsmc-n4", "tsmc-n4p", "tsmc-n5", "tsmc-n7", "tsmc-n3e", "tsmc-n3", "tsmc-n2", "tsmc-n2p", "tsmc-a16"}) {
    EXPECT_TRUE(std::filesystem::exists(DataDir() + "/energy/" + n + ".yaml")) << n;
  }
}

TEST(ChipPowerModelFor, TheTdpStaticShareIsTheBaselineStaticFraction) {
  Diagnostics d;
  auto node = LoadNodePreset("tsmc-n5", d);
  ASSERT_TRUE(node) << d.Render();
  auto e = LoadNodeEnergy(*node, d);
  ASSERT_TRUE(e) << d.Render();
  EXPECT_DOUBLE_EQ(e->static_fraction, kTdpStaticFraction);
}

TEST(ChipPowerModelFor, NodeWithoutEnergyDataFallsBackToTheTdpEstimateAndSaysSo) {
  Diagnostics d;
  auto v100 = LoadChipPreset("v100-sxm", d);
  ASSERT_TRUE(v100) << d.Render();
  ASSERT_EQ(v100->process_node, "TSMC 12FFN");
  auto m = ChipPowerModelFor(*v100, d);
  ASSERT_TRUE(m) << d.Render();
  EXPECT_EQ(m->method, Method::kTdp);
  EXPECT_NE(m->basis.find("TDP-based estimate: no energy data for node 'TSMC 12FFN'"), std::string::npos) << m->basis;
  EXPECT_NEAR(m->StaticPower().value(), kTdpStaticFraction * v100->tdp.value(), 1e-9);

  hw::Chip odd = *v100;
  odd.process_node = "Unobtainium 1 nm";
  m = ChipPowerModelFor(odd, d);
  ASSERT_TRUE(m) << d.Render();
  EXPECT_EQ(m->method, Method::kTdp);
  EXPECT_NE(m->basis.find("Unobtainium"), std::string::npos);

  auto h100 = LoadChipPreset("h100-sxm", d);
  ASSERT_TRUE(h100) << d.Render();
  m = ChipPowerModelFor(*h100, d);
  ASSERT_TRUE(m) << d.Render();
  EXPECT_EQ(m->method, Method::kActivity);
  EXPECT_NE(m->basis.find("tsmc-n4"), std::string::npos) << m->basis;
  EXPECT_NEAR(m->energy.hbm_byte.value(), 3.5e-12 * 8, 1e-15);  // HBM3, data/energy/memory.yaml
  EXPECT_FALSE(d.has_errors()) << d.Render();
}

TEST(ChipPowerModelFor, AChipWithoutATdpTakesTheEstimateFromChipPowerYaml) {
  Diagnostics d;
  auto v5p = LoadChipPreset("tpu-v5p", d);
  ASSERT_TRUE(v5p) << d.Render();
  ASSERT_EQ(v5p->tdp.value(), 0);
  auto m = ChipPowerModelFor(*v5p, d);
  ASSERT_TRUE(m) << d.Render();
  EXPECT_DOUBLE_EQ(m->Tdp().value(), 388);
  EXPECT_NE(m->basis.find("chip-power.yaml"), std::string::npos) << m->basis;
  hw::Chip unknown = *v5p;
  unknown.name = "no-such-chip";
  Diagnostics d2;
  EXPECT_FALSE(ChipPowerModelFor(unknown, d2));
  EXPECT_NE(d2.Render().find("states no tdp"), std::string::npos) << d2.Render();
}

// Every chip preset gets a power figure: positive, more when busy than idle, and at most
// its TDP unless the power cap throttled it (then exactly the TDP).
TEST(ChipPowerModelFor, EveryChipPresetGetsAPowerFigureWithinItsTdp) {
  int activity = 0, tdp = 0;
  for (const std::string& name : ListPresets(PresetKind::kChip)) {
    SCOPED_TRACE(name);
    Diagnostics d;
    auto chip = LoadChipPreset(name, d);
    ASSERT_TRUE(chip) << d.Render();
    auto m = ChipPowerModelFor(*chip, d);
    ASSERT_TRUE(m) << d.Render();
    ASSERT_FALSE(m->basis.empty());
    (m->method == Method::kActivity ? activity : tdp) += 1;
    // Every preset states its matrix unit, so the activity model prices operand delivery:
    // without it fp8 cost a quarter of bf16's energy per FLOP and Blackwell's fp8 GEMMs never
    // met the cap that holds Hopper's (data/measurements/*-power-rows-*.csv).
    EXPECT_GT(chip->matrix_unit.m * chip->matrix_unit.n * chip->matrix_unit.k * chip->matrix_unit.per_core, 0);
    if (m->method == Method::kActivity) {
      EXPECT_GT(m->energy.operand_bytes_per_flop, 0);
    }
    // Busy: half the bf16 peak and half the HBM bandwidth for one second.
    power::Activity busy;
    busy[DType::kBf16] = chip->peak[DType::kBf16] * 0.5_s;
    busy.hbm = chip->hbm.bandwidth * 0.5_s;
    busy.duration = 1_s;
    power::Activity idle;
    idle.duration = 1_s;
    const power::PowerResult b = power::Evaluate(busy, *m, chip->clock);
    const power::PowerResult i = power::Evaluate(idle, *m, chip->clock);
    EXPECT_GT(i.average.value(), 0);
    EXPECT_GT(b.average, i.average);
    if (b.throttled) {
      EXPECT_NEAR(b.average.value(), m->Tdp().value(), 1e-6 * m->Tdp().value()) << b.note;
    } else {
      EXPECT_LE(b.average.value(), m->Tdp().value() * (1 + 1e-9));
    }
  }
  EXPECT_GE(activity, 15);  // most presets have node and memory energy data
  EXPECT_GE(tdp, 1);        // v100 (12FFN) at least
}

TEST(ServerFor, TakesTheDefaultHostPowerPerChip) {
  Diagnostics d;
  auto econ = LoadEconDefaults(d);
  ASSERT_TRUE(econ) << d.Render();
  const power::ServerPower four = ServerFor(*econ, 4), eight = ServerFor(*econ, 8);
  EXPECT_EQ(four.chips_per_server, 4);
  EXPECT_NEAR((four.host_cpus + four.nics + four.other).value() * 2, (eight.host_cpus + eight.nics + eight.other).value(),
              1e-9);
}

// Llama-3-70B on 1 024 H100s (examples/): the chips' energy per token must lie between
//   * the arithmetic alone: hardware FLOPs per token × the bf16 FLOP energy at N4, plus the
//     static power over the chip-seconds per token (a floor no model term can go under), and
//   * the TDP over the chip's tokens/s (the most a chip draws without throttling), and
//   * the published run: Meta's Llama 3 model card gives 7.0 M H100-80GB GPU-hours at a
//     700 W TDP for the 70B model on 15 T tokens, i.e. ≤ 7.0e6 × 3600 × 700 / 15e12 =
//     1.18 J/token per GPU at TDP; a model that beats it by more than 5× would be wrong.
TEST(TrainEnergy, H100Llama70bJoulesPerTokenWithinPhysicalAndPublishedBounds) {
  Diagnostics d;
  auto sc = LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/train-llama3-70b-1024xh100.yaml", d);
  ASSERT_TRUE(sc && sc->chip && sc->model && sc->cluster && sc->train) << d.Render();
  auto cal = ResolveCalibration(*sc->chip, d);
  ASSERT_TRUE(cal) << d.Render();
  const train::Simulator sim(*sc->model, ops::OpModel(*sc->chip, cal->ceilings), *sc->cluster);
  const train::TrainResult r = sim.Run(sc->parallelism, *sc->train, true);
  ASSERT_TRUE(r.ok) << r.reason;
  auto m = ChipPowerModelFor(*sc->chip, d);
  auto econ = LoadEconDefaults(d);
  ASSERT_TRUE(m && econ) << d.Render();
  ASSERT_EQ(m->method, Method::kActivity);
  const power::Activity a = TrainStepActivity(r.activity, sc->train->precision, r.step.total, r.link_sent);
  EXPECT_GT(a[DType::kBf16].value(), 0);
  EXPECT_GT(a[DType::kFp32].value(), 0);
  const power::RunEnergy e = power::EnergyOfRun(a, *m, sc->chip->clock, r.step.total, r.chips,
                                                ServerFor(*econ, sc->cluster->server.chips), econ->pue, r.tokens_per_step);
  ASSERT_FALSE(e.chip.throttled) << e.chip.note;
  const double chip_j = e.ChipJoulesPerToken();
  const double floor = r.hardware_flops_per_token.value() * m->energy.node.Flop(DType::kBf16).value() +
                       m->energy.static_power.value() / r.tokens_per_s_per_chip;
  EXPECT_GT(chip_j, floor);
  EXPECT_LT(chip_j, 700.0 / r.tokens_per_s_per_chip);
  EXPECT_LT(chip_j, 1.18);
  EXPECT_GT(chip_j, 1.18 / 5);
  // The facility adds the hosts and the PUE; 1 024 chips → about 1 MW of facility power.
  EXPECT_GT(e.FacilityJoulesPerToken(), chip_j * econ->pue);
  EXPECT_GT(e.cluster.facility_power.value(), 0.5e6);
  EXPECT_LT(e.cluster.facility_power.value(), 1024 * (700 + 3950.0 / 8) / 0.94 * econ->pue);
}

// The cap binds on the step's busy time: a pipelined FP8 step with a bubble and an exposed
// data-parallel sync (GPT-3 175B as MLPerf runs it on 512 H100s) throttles further than the
// same activity averaged over the whole step would, its compute sits on the TDP, and the
// whole step's average falls below it by the idle time.
TEST(TrainEnergy, TheCapBindsOnTheComputeNotOnTheIdleEndsOfTheStep) {
  Diagnostics d;
  auto sc = LoadScenario(std::string(PF_SOURCE_DIR) + "/examples/train-gpt3-175b-h100-mlperf.yaml", d);
  ASSERT_TRUE(sc && sc->chip && sc->model && sc->cluster && sc->train) << d.Render();
  auto cal = ResolveCalibration(*sc->chip, d);
  auto m = ChipPowerModelFor(*sc->chip, d);
  auto econ = LoadEconDefaults(d);
  ASSERT_TRUE(cal && m && econ) << d.Render();
  auto simulate = [&](const ops::OpModel& om) {
    return train::Simulator(*sc->model, om, *sc->cluster).Run(sc->parallelism, *sc->train, true);
  };
  train::TrainResult r = simulate(ops::OpModel(*sc->chip, cal->ceilings));
  ASSERT_TRUE(r.ok) << r.reason;
  ASSERT_GT(r.step.IdleEnds().value(), 0.01 * r.step.total.value());
  // The same step capped on its whole span (every second of it busy).
  double span_ratio = 0;
  power::EnergyOfCappedRun(
      [&](double x) {
        const train::TrainResult s = x >= 1 ? r : simulate([&] {
          const ops::ClockedChip c = ops::AtClockRatio(*sc->chip, cal->ceilings, x);
          return ops::OpModel(c.chip, c.ceilings);
        }());
        return power::RunAt{TrainStepActivity(s.activity, sc->train->precision, s.step.total, s.link_sent),
                            s.step.total};
      },
      *m, sc->chip->clock, r.chips, ServerFor(*econ, 8), econ->pue, r.tokens_per_step, &span_ratio);
  double ratio = 0;
  const power::RunEnergy e = CapTrainStep(r, simulate, *sc->chip, cal->ceilings, *m, sc->train->precision,
                                          ServerFor(*econ, 8), econ->pue, &ratio);
  ASSERT_LT(span_ratio, 1.0);
  EXPECT_LT(ratio, span_ratio - 0.005);
  EXPECT_LT(e.chip.average.value(), 700.0 * 0.995);
  EXPECT_GT(e.chip.average.value(), 700.0 * 0.8);
}

}  // namespace
}  // namespace pf::spec
