// Tests of dies per wafer, the yield models, chip cost and TCO.
#include "pathfinder/econ/econ.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pf::econ {
namespace {

using namespace pf::literals;

TEST(DiesPerWafer, MatchesTheGrossDieFormula) {
  // 814 mm2 on 300 mm with 3 mm edge: π·147²/814 − π·294/√1628 = 83.4 − 22.9 → 60.
  EXPECT_EQ(DiesPerWafer(814_mm2), 60);
  EXPECT_GT(DiesPerWafer(100_mm2), 10 * DiesPerWafer(814_mm2) / 2);
  EXPECT_EQ(DiesPerWafer(SquareMillimeters(80000)), 0);
}

TEST(Yield, ModelsAgreeForSmallDiesAndOrderForLargeOnes) {
  const double d0 = 0.1;
  EXPECT_DOUBLE_EQ(Yield(YieldModel::kPoisson, 814_mm2, d0), std::exp(-0.814));
  const double ad = 0.814;
  EXPECT_NEAR(Yield(YieldModel::kMurphy, 814_mm2, d0), std::pow((1 - std::exp(-ad)) / ad, 2), 1e-12);
  EXPECT_NEAR(Yield(YieldModel::kNegativeBinomial, 814_mm2, d0, 3), std::pow(1 + ad / 3, -3), 1e-12);
  // Clustering helps large dies: Poisson < Murphy < negative binomial.
  EXPECT_LT(Yield(YieldModel::kPoisson, 814_mm2, d0), Yield(YieldModel::kMurphy, 814_mm2, d0));
  EXPECT_LT(Yield(YieldModel::kMurphy, 814_mm2, d0), Yield(YieldModel::kNegativeBinomial, 814_mm2, d0, 3));
  EXPECT_DOUBLE_EQ(Yield(YieldModel::kMurphy, 814_mm2, 0), 1.0);
}

TEST(CostPerGoodDie, IsWaferPriceOverGoodDies) {
  WaferEcon w{17000_usd, 0.1, YieldModel::kPoisson, 3, 300, 3};
  const DieCost c = CostPerGoodDie(814_mm2, w);
  EXPECT_NEAR(c.per_good_die.value(), 17000 / (60 * std::exp(-0.814)), 1e-6);
}

TEST(EstimateChipCost, LinesSumToTheTotal) {
  hw::DerivedChip chip;
  chip.compute_die = {"compute die", 2, 800_mm2, {}};
  chip.interposer_area = 2800_mm2;
  chip.chip.dies = 2;
  chip.chip.hbm = {"HBM3E", 8, 192_GB, 8_TBps};
  WaferEcon w{17000_usd, 0.1, YieldModel::kNegativeBinomial, 3, 300, 3};
  PackageEcon pkg{DollarsPerByte(7e-9), DollarsPerSquareMm(0.2), 300_usd, 0.95};
  const ChipCost c = EstimateChipCost(chip, w, w, DollarsPerByte(7e-9), pkg);
  Dollars sum;
  for (const auto& l : c.lines) sum += l.cost;
  EXPECT_NEAR(sum.value(), c.total.value(), 1e-6);
  EXPECT_NEAR(c.lines[1].cost.value(), 192 * 7, 1e-9);  // HBM
}

TEST(Tco, CapitalAmortizedPlusEnergy) {
  TcoInputs in;
  in.chip_price = 30000_usd;
  in.server_per_chip = 6000_usd;
  in.network_per_port = 1500_usd;
  in.ports_per_chip = 3;
  in.facility_per_watt = 10_usd / 1_W;
  in.life = Seconds(5 * 8766 * 3600.0);
  in.electricity = DollarsPerJoule(0.08 / 3.6e6);
  in.pue = 1.3;
  in.it_power_per_chip = 1_kW;
  const Tco t = ComputeTco(in);
  EXPECT_NEAR(t.capital_per_chip.value(), 30000 + 6000 + 4500 + 10000, 1e-6);
  EXPECT_NEAR(t.capital_per_hour.value(), 50500.0 / (5 * 8766), 1e-9);
  EXPECT_NEAR(t.energy_per_hour.value(), 1.0 * 1.3 * 0.08, 1e-12);
  EXPECT_NEAR(TrainingRunCost(t, 1e6).value(), t.per_chip_hour.value() * 1e6, 1e-3);
  EXPECT_NEAR(CostPerMillionTokens(t, 1000).value(), t.per_chip_hour.value() * 1e6 / 3.6e6, 1e-9);
  EXPECT_DOUBLE_EQ(TokensPerJoule(1000, 500_W), 2.0);
}

}  // namespace
}  // namespace pf::econ
