// Tests of the energy-model and economic-assumption loaders against the shipped data.
#include "pathfinder/spec/econ_spec.h"

#include <gtest/gtest.h>

#include "pathfinder/spec/tech_spec.h"

namespace pf::spec {
namespace {

TEST(EconDefaults, LoadWithFractionsAndUnits) {
  Diagnostics diag;
  auto a = LoadEconDefaults(diag);
  ASSERT_TRUE(a) << diag.Render();
  EXPECT_NEAR(a->package.package_yield, 0.95, 1e-12);
  EXPECT_NEAR(a->server.conversion_efficiency, 0.94, 1e-12);
  EXPECT_NEAR(a->electricity.value() * 3.6e6, 0.08, 1e-12);  // $/kWh
  EXPECT_NEAR(a->life.value() / (365.25 * 86400), 5, 1e-9);
  EXPECT_NEAR(a->hbm_cost_per_gb.value() * 1e9, 7, 1e-9);
  EXPECT_EQ(a->yield_model, econ::YieldModel::kNegativeBinomial);
  EXPECT_EQ(a->wafer_prices.count("tsmc-n4"), 1u);
}

TEST(NodeEnergy, EveryNodeWithAnEnergyFileLoadsAndNewerNodesUseLessEnergy) {
  double last = 1e9;
  for (const char* n : {"tsmc-n7", "tsmc-n5", "tsmc-n4", "tsmc-n3e", "tsmc-n2", "tsmc-n2p", "tsmc-a16"}) {
    Diagnostics diag;
    auto node = LoadNodePreset(n, diag);
    ASSERT_TRUE(node) << diag.Render();
    auto e = LoadNodeEnergy(*node, diag);
    ASSERT_TRUE(e) << n << "\n" << diag.Render();
    EXPECT_LT(e->bf16_flop.value(), last) << n;
    last = e->bf16_flop.value();
    EXPECT_GT(e->logic_density, 0) << n;
    EXPECT_GT(e->sram_bitcell_um2, 0) << n;
    EXPECT_GT(e->max_clock.value(), 1e9) << n;
    EXPECT_LT(e->Flop(DType::kFp8), e->Flop(DType::kBf16)) << n;
    EXPECT_GT(e->Flop(DType::kFp32), e->Flop(DType::kBf16)) << n;
  }
}

TEST(NodeEnergy, NodeWithoutAnEnergyFileIsAnErrorNamingTheFile) {
  Diagnostics diag;
  auto node = LoadNodePreset("samsung-sf2", diag);
  ASSERT_TRUE(node) << diag.Render();
  EXPECT_FALSE(LoadNodeEnergy(*node, diag));
  EXPECT_NE(diag.Render().find("add data/energy/samsung-sf2.yaml"), std::string::npos) << diag.Render();
}

TEST(MemoryEnergy, FilledFromDataEnergyWhenThePresetHasNone) {
  Diagnostics diag;
  auto m = LoadMemoryPreset("hbm3e", diag);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->energy_per_bit.value(), 0);
  ASSERT_TRUE(FillMemoryEnergy(*m, diag)) << diag.Render();
  EXPECT_NEAR(m->energy_per_bit.value() / 8 * 1e12, 3.0, 1e-9);  // pJ/bit
  auto lp = LoadMemoryPreset("lpddr5x", diag);
  ASSERT_TRUE(lp);
  EXPECT_FALSE(FillMemoryEnergy(*lp, diag));
}

TEST(WaferFor, UsesThePresetPriceElseTheDefaultsElseErrs) {
  Diagnostics diag;
  auto a = LoadEconDefaults(diag);
  ASSERT_TRUE(a);
  auto n2 = LoadNodePreset("tsmc-n2", diag);
  auto n4 = LoadNodePreset("tsmc-n4", diag);
  auto sf2 = LoadNodePreset("samsung-sf2", diag);
  ASSERT_TRUE(n2 && n4 && sf2);
  EXPECT_EQ(WaferFor(*n2, *a, diag)->wafer_price.value(), 30000);
  EXPECT_EQ(WaferFor(*n4, *a, diag)->wafer_price.value(), 16988);
  EXPECT_FALSE(diag.has_errors());
  EXPECT_FALSE(WaferFor(*sf2, *a, diag));
  EXPECT_TRUE(diag.has_errors());
}

}  // namespace
}  // namespace pf::spec
