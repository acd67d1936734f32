// Tests of the design → datasheet derivation with hand-built technologies (no files): peaks
// from the matrix units, area that grows with what is added, and infeasible designs that
// come back with the exact reason. Cross-checks against published chips (which load
// data/designs/) live in spec/design_spec_test.cc.
#include "pathfinder/hw/design.h"

#include <gtest/gtest.h>

namespace pf::hw {
namespace {

using namespace pf::literals;

DesignTech Tech() {
  DesignTech t;
  t.node.name = "test-n3";
  t.node.logic_density = 180;
  t.node.sram_bitcell_area = 0.021;
  t.energy.node = "test-n3";
  t.energy.bf16_flop = JoulesPerFlop(0.07e-12);
  for (auto& f : t.energy.dtype_factor) f = 1;
  t.energy.register_byte = JoulesPerByte(0.09e-12);
  t.energy.sram_byte = JoulesPerByte(0.9e-12);
  t.energy.d2d_byte = JoulesPerByte(4e-12);
  t.energy.serdes_byte = JoulesPerByte(40e-12);
  t.energy.uncore_fraction = 1.0;
  t.energy.static_fraction = 0.3;
  t.energy.max_clock = 4.4_GHz;
  t.energy.logic_density = 180;
  t.energy.sram_bitcell_um2 = 0.021;
  t.memory.name = "hbm3e";
  t.memory.interface_width = 1024;
  t.memory.stack_bandwidth = 1.2_TBps;
  t.memory.capacity_per_stack = 36_GB;
  t.memory.energy_per_bit = JoulesPerByte(3e-12 * 8);
  t.packaging.name = "cowos-l";
  t.packaging.max_silicon_area = 4719_mm2;
  t.packaging.max_hbm_stacks = 12;
  return t;
}

ChipDesign Small() {
  ChipDesign d;
  d.name = "small";
  d.node = "test-n3";
  d.packaging = "cowos-l";
  d.compute_dies = 1;
  d.cores_per_die = 64;
  d.matrix = {4, 16, 16, 16, {{DType::kBf16, 1}, {DType::kFp8, 2}, {DType::kFp4, 4}}};
  d.vector_lanes_per_core = 64;
  d.clock = 2_GHz;
  d.sram = {{"l1", 256_KB, Bytes{}, false}, {"l2", Bytes{}, 64_MB, false}};
  d.hbm_generation = "hbm3e";
  d.hbm_stacks = 4;
  return d;
}

TEST(DeriveChip, PeakIsTwiceMacsTimesCoresTimesClockScaledByDtypeRate) {
  const DerivedChip c = DeriveChip(Small(), Tech());
  const double bf16 = 2.0 * 4 * 16 * 16 * 16 * 64 * 2e9;
  EXPECT_DOUBLE_EQ(c.chip.peak[DType::kBf16].value(), bf16);
  EXPECT_DOUBLE_EQ(c.chip.peak[DType::kFp8].value(), 2 * bf16);
  EXPECT_DOUBLE_EQ(c.chip.peak[DType::kFp4].value(), 4 * bf16);
  EXPECT_EQ(c.chip.peak[DType::kFp64].value(), 0);
  EXPECT_DOUBLE_EQ(c.chip.hbm.bandwidth.value(), 4 * 1.2e12);
  EXPECT_DOUBLE_EQ(c.chip.hbm.capacity.value(), 4 * 36e9);
  EXPECT_TRUE(Validate(c.chip).empty());
  EXPECT_TRUE(c.feasibility.ok) << (c.feasibility.reasons.empty() ? "" : c.feasibility.reasons[0]);
}

TEST(DeriveChip, EnabledCoresSetThePeakButPhysicalCoresSetTheArea) {
  ChipDesign d = Small();
  const DerivedChip all = DeriveChip(d, Tech());
  d.enabled_cores = 60;
  const DerivedChip harvested = DeriveChip(d, Tech());
  EXPECT_DOUBLE_EQ(harvested.compute_die.each.value(), all.compute_die.each.value());
  EXPECT_NEAR(harvested.chip.peak[DType::kBf16].value() / all.chip.peak[DType::kBf16].value(), 60.0 / 64, 1e-12);
}

TEST(DeriveChip, AreaGrowsWithEveryAddedBlockAndBlocksSumToTheDie) {
  const DerivedChip base = DeriveChip(Small(), Tech());
  ChipDesign more_sram = Small();
  more_sram.sram.push_back({"l3", Bytes{}, 64_MB, false});
  ChipDesign more_hbm = Small();
  more_hbm.hbm_stacks = 6;
  ChipDesign more_cores = Small();
  more_cores.cores_per_die = 80;
  for (const ChipDesign& d : {more_sram, more_hbm, more_cores}) {
    EXPECT_GT(DeriveChip(d, Tech()).compute_die.each, base.compute_die.each);
  }
  SquareMillimeters sum;
  for (const auto& b : base.compute_die.blocks) {
    EXPECT_GE(b.area.value(), 0) << b.name;
    sum += b.area;
  }
  EXPECT_NEAR(sum.value(), base.compute_die.each.value(), 1e-9);
}

TEST(DeriveChip, TdpEstimateIsPositiveAndGrowsWithClock) {
  ChipDesign d = Small();
  const Watts p1 = DeriveChip(d, Tech()).tdp_estimate;
  d.clock = 3_GHz;
  const Watts p2 = DeriveChip(d, Tech()).tdp_estimate;
  EXPECT_GT(p1.value(), 0);
  EXPECT_GT(p2, p1);
}

TEST(DeriveChip, DieOverTheReticleIsInfeasibleWithTheReason) {
  ChipDesign d = Small();
  d.cores_per_die = 400;
  const DerivedChip c = DeriveChip(d, Tech());
  ASSERT_FALSE(c.feasibility.ok);
  ASSERT_FALSE(c.feasibility.reasons.empty());
  EXPECT_EQ(c.feasibility.reasons[0],
            "compute die " + FormatNumber(c.compute_die.each.value(), 4) + " mm2 exceeds the 858 mm2 reticle limit");
}

TEST(DeriveChip, MoreHbmStacksThanThePackageAllowsIsInfeasible) {
  ChipDesign d = Small();
  d.hbm_stacks = 16;
  const DerivedChip c = DeriveChip(d, Tech());
  ASSERT_FALSE(c.feasibility.ok);
  EXPECT_NE(std::find(c.feasibility.reasons.begin(), c.feasibility.reasons.end(), "16 HBM stacks exceed cowos-l's limit of 12"),
            c.feasibility.reasons.end());
}

TEST(DeriveChip, ClockOverTheNodeLimitIsInfeasible) {
  ChipDesign d = Small();
  d.clock = 5_GHz;
  const DerivedChip c = DeriveChip(d, Tech());
  ASSERT_FALSE(c.feasibility.ok);
  ASSERT_EQ(c.feasibility.reasons.size(), 1u);
  EXPECT_EQ(c.feasibility.reasons[0], "clock 5 GHz exceeds test-n3's limit of 4.4 GHz");
}

TEST(DeriveChip, InterposerOverThePackageLimitIsInfeasible) {
  ChipDesign d = Small();
  d.compute_dies = 8;
  d.cores_per_die = 128;
  const DerivedChip c = DeriveChip(d, Tech());
  ASSERT_FALSE(c.feasibility.ok);
  EXPECT_NE(c.feasibility.reasons[0].find("exceeds cowos-l's 4719 mm2"), std::string::npos) << c.feasibility.reasons[0];
}

TEST(DeriveChip, StatedTdpBelowTheEstimateIsANoteNotAFailure) {
  ChipDesign d = Small();
  const Watts estimate = DeriveChip(d, Tech()).tdp_estimate;
  d.tdp = estimate * 0.8;  // above the leakage (30 % of the estimate): the clock throttles
  const DerivedChip c = DeriveChip(d, Tech());
  EXPECT_TRUE(c.feasibility.ok);
  EXPECT_EQ(c.chip.tdp, estimate * 0.8);
  ASSERT_EQ(c.feasibility.notes.size(), 1u);
}

TEST(DeriveChip, LeakageIsTheDesignsOwnWhateverTdpIsStated) {
  ChipDesign d = Small();
  const DerivedChip free = DeriveChip(d, Tech());
  d.tdp = free.tdp_estimate * 0.5;
  const DerivedChip capped = DeriveChip(d, Tech());
  // The static share of the estimate, the same whether or not a lower TDP is stated.
  EXPECT_NEAR(free.chip.static_power.value(), free.tdp_estimate.value() * Tech().energy.static_fraction, 1e-9);
  EXPECT_EQ(capped.chip.static_power, free.chip.static_power);
  EXPECT_EQ(capped.chip.tdp, free.tdp_estimate * 0.5);
  EXPECT_TRUE(capped.feasibility.ok);
  // Below its leakage the chip cannot run at all: infeasible, with the reason.
  d.tdp = free.chip.static_power * 0.9;
  const DerivedChip dead = DeriveChip(d, Tech());
  ASSERT_FALSE(dead.feasibility.ok);
  EXPECT_NE(dead.feasibility.reasons.front().find("does not cover the design's leakage"), std::string::npos)
      << dead.feasibility.reasons.front();
}

TEST(ValidateDesign, RejectsMoreEnabledThanPhysicalCoresAndNoBf16) {
  ChipDesign d = Small();
  d.enabled_cores = 65;
  d.matrix.dtypes = {{DType::kFp8, 2}};
  const auto p = Validate(d);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].key_path, "enabled_cores");
  EXPECT_EQ(p[1].key_path, "matrix.dtypes");
}

}  // namespace
}  // namespace pf::hw
