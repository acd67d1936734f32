// Cluster presets load and validate; overrides and errors behave like the chip loader's.
#include "pathfinder/spec/cluster_spec.h"

#include <gtest/gtest.h>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

TEST(ClusterSpec, EveryPresetLoadsAndNamesAKnownChip) {
  const auto names = ListClusterPresets();
  ASSERT_GE(names.size(), 14u);
  const auto chips = ListPresets(PresetKind::kChip);
  for (const auto& n : names) {
    Diagnostics d;
    auto c = LoadClusterPreset(n, d);
    ASSERT_TRUE(c) << n << "\n" << d.Render();
    EXPECT_EQ(c->name, n);
    if (!chips.empty()) {
      EXPECT_NE(std::find(chips.begin(), chips.end(), c->chip), chips.end()) << n << " names chip " << c->chip;
    }
  }
}

TEST(ClusterSpec, PresetPlusOverrides) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto c = LoadClusterSection(YAML::Load("{preset: dgx-h100, chips: 16384, scale_out: {oversubscription: 2}}"), ctx, "cluster");
  ASSERT_TRUE(c) << d.Render();
  EXPECT_EQ(c->chips, 16384);
  EXPECT_DOUBLE_EQ(c->scale_out.oversubscription, 2.0);
  EXPECT_EQ(c->scale_up.chips, 8);
}

TEST(ClusterSpec, ReportsBadFieldsAndCrossFieldRules) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto c = LoadClusterSection(YAML::Load("{preset: dgx-h100, chips: 1001, scale_up: {bandwith: 1 TB/s}}"), ctx, "cluster");
  EXPECT_FALSE(c);
  EXPECT_NE(d.Render().find("cluster.scale_up.bandwith: unknown key; did you mean 'bandwidth'?"), std::string::npos) << d.Render();
  Diagnostics d2;
  LoadContext ctx2{"s.yaml", "", &d2, nullptr};
  auto c2 = LoadClusterSection(YAML::Load("{preset: dgx-h100, chips: 1001}"), ctx2, "cluster");
  EXPECT_FALSE(c2);
  EXPECT_NE(d2.Render().find("not a whole number of 8-chip scale-up domains"), std::string::npos) << d2.Render();
}

// A measured ring step of the library's Simple protocol is a time; negative is an error.
TEST(ClusterSpec, RingSimpleStepIsANonNegativeTime) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto c = LoadClusterSection(YAML::Load("{preset: dgx-h100, chips: 16, scale_up: {ring_simple_step: 12 us}}"), ctx,
                              "cluster");
  ASSERT_TRUE(c) << d.Render();
  EXPECT_DOUBLE_EQ(c->scale_up.ring_simple_step.value(), 12e-6);
  Diagnostics d2;
  LoadContext ctx2{"s.yaml", "", &d2, nullptr};
  EXPECT_FALSE(LoadClusterSection(YAML::Load("{preset: dgx-h100, chips: 16, scale_up: {ring_simple_step: -1 us}}"),
                                  ctx2, "cluster"));
  EXPECT_NE(d2.Render().find("cluster.scale_up.ring_simple_step"), std::string::npos) << d2.Render();
}

TEST(ClusterSpec, UnknownPresetSuggestsTheClosest) {
  Diagnostics d;
  EXPECT_FALSE(LoadClusterPreset("dgx-h10", d));
  EXPECT_NE(d.Render().find("did you mean 'dgx-h100'?"), std::string::npos) << d.Render();
}

}  // namespace
}  // namespace pf::spec
