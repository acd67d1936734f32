// Tests of the price seam: every chip preset resolves to a purchase price, a cloud rate or an
// explicit "no price"; the H100's TCO per chip-hour lies between its amortized purchase price
// and a cloud seller's price; $ per million tokens scales inversely with tokens/s; cloud
// rates are used as is; a designed chip is priced at its build cost.
#include "pathfinder/spec/chip_price.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

using namespace pf::literals;
using Kind = ChipPrice::Kind;

ChipPrice PriceOfPreset(const std::string& name) {
  Diagnostics diag;
  auto chip = LoadChipPreset(name, diag);
  EXPECT_TRUE(chip.has_value()) << diag.Render();
  if (!chip) return {};
  ChipPrice p = ChipPriceFor(*chip, "", diag);
  EXPECT_EQ(diag.error_count(), 0) << diag.Render();
  return p;
}

TEST(ChipPrices, FileLoadsAndEveryEntryNamesItsSource) {
  Diagnostics diag;
  const auto all = LoadChipPrices(diag);
  EXPECT_EQ(diag.error_count(), 0) << diag.Render();
  EXPECT_GE(all.size(), 10u);
  for (const auto& e : all) EXPECT_FALSE(e.price.source.empty()) << e.chip << " has no source";
}

TEST(ChipPriceFor, EveryChipPresetHasAPriceARateOrAnExplicitNone) {
  std::string bought, rented, none;
  for (const std::string& name : ListPresets(PresetKind::kChip)) {
    const ChipPrice p = PriceOfPreset(name);
    EXPECT_FALSE(p.basis.empty()) << name;
    switch (p.kind) {
      case Kind::kPurchase:
        EXPECT_GT(p.purchase.value(), 0) << name;
        bought += " " + name;
        break;
      case Kind::kCloudRate:
        EXPECT_GT(p.per_chip_hour.value(), 0) << name;
        rented += " " + name;
        break;
      case Kind::kNone:
        EXPECT_NE(p.basis.find("no price"), std::string::npos) << name << ": " << p.basis;
        none += " " + name;
        break;
      case Kind::kBuildCost:
        ADD_FAILURE() << name << ": a preset is never priced at build cost";
    }
  }
  std::cout << "purchase:" << bought << "\ncloud rate:" << rented << "\nno price:" << none << "\n";
  for (const char* name : {"h100-sxm", "h200-sxm", "b200", "gb200", "mi300x", "a100-sxm-80gb"}) {
    EXPECT_EQ(PriceOfPreset(name).kind, Kind::kPurchase) << name;
  }
  for (const char* name : {"tpu-v6e", "tpu-v5p", "trainium2"}) EXPECT_EQ(PriceOfPreset(name).kind, Kind::kCloudRate) << name;
}

TEST(ChipPriceFor, AnInlineChipWithAnUnknownNameHasNoPriceAndSaysWhy) {
  hw::Chip chip;
  chip.name = "my-chip";
  Diagnostics diag;
  const ChipPrice p = ChipPriceFor(chip, "", diag);
  EXPECT_EQ(p.kind, Kind::kNone);
  EXPECT_NE(p.basis.find("no price for chip 'my-chip'"), std::string::npos) << p.basis;
  EXPECT_EQ(diag.error_count(), 0);
  Diagnostics d2;
  auto econ = LoadEconDefaults(d2);
  ASSERT_TRUE(econ);
  EXPECT_FALSE(HourlyCostOf(p, 1000_W, *econ).has_value());
}

// Bounds for an H100 bought at its data-file price, drawing TDP (700 W) plus its share of a
// DGX-class server: at least the chip's price spread over the life (the chip is the largest
// capital item, but not the only one), at most 3x that (server, network, facility and five
// years of energy at $0.08/kWh add ~$20k, well under twice the chip), and below what a cloud
// seller charges per H100-hour (AWS EC2 Capacity Blocks p5.48xlarge, $4.916 per GPU-hour,
// stored aws.amazon.com/ec2/capacityblocks/pricing), whose price holds a margin.
TEST(TcoFor, H100AtTheDefaultsIsBetweenItsAmortizedPriceAndThreeTimesIt) {
  Diagnostics diag;
  auto econ = LoadEconDefaults(diag);
  ASSERT_TRUE(econ) << diag.Render();
  const ChipPrice p = PriceOfPreset("h100-sxm");
  ASSERT_EQ(p.kind, Kind::kPurchase);
  const power::ClusterPower server = power::Cluster(8, 700_W, econ->server, econ->pue);
  const Watts it = server.it_power / 8.0;
  const auto h = HourlyCostOf(p, it, *econ);
  ASSERT_TRUE(h && h->tco);
  const double life_h = econ->life.value() / 3600.0;
  const double amortized_chip = p.purchase.value() / life_h;
  EXPECT_GT(h->per_chip_hour.value(), amortized_chip);
  EXPECT_LT(h->per_chip_hour.value(), 3 * amortized_chip);
  EXPECT_LT(h->per_chip_hour.value(), 4.916);
  EXPECT_NEAR(h->per_chip_hour.value(), h->tco->capital_per_hour.value() + h->tco->energy_per_hour.value(), 1e-9);
  EXPECT_NE(h->basis.find("TCO"), std::string::npos) << h->basis;
}

TEST(CostPerMillionTokens, HalvesWhenTokensPerSecondDoubles) {
  Diagnostics diag;
  auto econ = LoadEconDefaults(diag);
  ASSERT_TRUE(econ);
  const econ::Tco tco = TcoFor(Dollars(30000), 1300_W, *econ);
  const double a = econ::CostPerMillionTokens(tco, 1000).value();
  const double b = econ::CostPerMillionTokens(tco, 2000).value();
  EXPECT_NEAR(b, a / 2, 1e-12 * a);
  // and by definition: $/chip-hour over tokens per chip-hour
  EXPECT_NEAR(a, tco.per_chip_hour.value() / (1000 * 3600.0) * 1e6, 1e-12 * a);
}

TEST(HourlyCostOf, UsesACloudRateAsIsWithoutATcoBuildUp) {
  Diagnostics diag;
  auto econ = LoadEconDefaults(diag);
  ASSERT_TRUE(econ);
  const ChipPrice p = PriceOfPreset("tpu-v6e");
  ASSERT_EQ(p.kind, Kind::kCloudRate);
  for (Watts w : {0_W, 300_W, 3000_W}) {
    const auto h = HourlyCostOf(p, w, *econ);
    ASSERT_TRUE(h);
    EXPECT_DOUBLE_EQ(h->per_chip_hour.value(), 2.70);
    EXPECT_FALSE(h->tco.has_value());
    EXPECT_NE(h->basis.find("no TCO build-up"), std::string::npos) << h->basis;
  }
}

TEST(ChipPriceFor, ADesignedChipIsPricedAtItsBuildCostUnderItsOwnAssumptions) {
  const std::string file = (std::filesystem::path(DataDir()) / ".." / "examples" / "design-2nm-inference.yaml").lexically_normal().string();
  Diagnostics diag;
  hw::Chip chip;
  chip.name = "pf-infer-n2";
  const ChipPrice p = ChipPriceFor(chip, file, diag);
  EXPECT_EQ(diag.error_count(), 0) << diag.Render();
  ASSERT_EQ(p.kind, Kind::kBuildCost) << p.basis;
  EXPECT_TRUE(p.estimate);
  EXPECT_TRUE(p.econ.has_value());
  // A build cost without margin: well under any flagship GPU's purchase price.
  EXPECT_GT(p.purchase.value(), 1000);
  EXPECT_LT(p.purchase.value(), PriceOfPreset("b200").purchase.value());
}

TEST(FormatDollars, GroupsThousandsAndKeepsCents) {
  EXPECT_EQ(FormatDollars(Dollars(30000)), "$30,000");
  EXPECT_EQ(FormatDollars(Dollars(1.5)), "$1.50");
  EXPECT_EQ(FormatDollars(Dollars(0.01234)), "$0.0123");
  EXPECT_EQ(FormatDollars(Dollars(5.21e6)), "$5.21M");
}

}  // namespace
}  // namespace pf::spec
