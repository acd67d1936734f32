// Technology presets: every shipped memory, node, link and packaging preset loads without
// a diagnostic, a few values read back as their sources state them, and the loaders
// report bad files the way every spec loader does.
#include "pathfinder/spec/tech_spec.h"

#include <gtest/gtest.h>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

using namespace pf::literals;

template <class Loader>
void ExpectEveryPresetLoads(PresetKind kind, Loader load, size_t at_least) {
  const auto names = ListPresets(kind);
  EXPECT_GE(names.size(), at_least) << "presets of kind " << PresetKindName(kind);
  for (const auto& name : names) {
    Diagnostics diag;
    ProvenanceMap prov;
    auto v = load(name, diag, &prov);
    EXPECT_TRUE(v.has_value()) << name;
    EXPECT_TRUE(diag.entries().empty()) << diag.Render();
    for (const auto& [path, p] : prov) EXPECT_FALSE(p.source.empty()) << name << ": " << path << " has no source";
  }
}

TEST(TechPresets, EveryMemoryPresetLoadsWithoutDiagnostics) {
  ExpectEveryPresetLoads(PresetKind::kMemory, LoadMemoryPreset, 8);
}
TEST(TechPresets, EveryNodePresetLoadsWithoutDiagnostics) { ExpectEveryPresetLoads(PresetKind::kNode, LoadNodePreset, 13); }
TEST(TechPresets, EveryLinkPresetLoadsWithoutDiagnostics) { ExpectEveryPresetLoads(PresetKind::kLink, LoadLinkPreset, 29); }
TEST(TechPresets, EveryPackagingPresetLoadsWithoutDiagnostics) {
  ExpectEveryPresetLoads(PresetKind::kPackaging, LoadPackagingPreset, 7);
}

TEST(MemoryPreset, Hbm3MatchesJedec) {
  Diagnostics diag;
  auto m = LoadMemoryPreset("hbm3", diag);
  ASSERT_TRUE(m) << diag.Render();
  EXPECT_DOUBLE_EQ(m->stack_bandwidth.value(), 819e9);
  EXPECT_DOUBLE_EQ(m->pin_rate.value(), 6.4e9 / 8);
  EXPECT_EQ(m->interface_width, 1024);
  EXPECT_DOUBLE_EQ(m->capacity_per_stack.value(), 24e9);
}

TEST(MemoryPreset, EnergyPerBitIsStoredPerByte) {
  Diagnostics diag;
  ProvenanceMap prov;
  auto m = LoadMemoryPreset("hbm2", diag, &prov);
  ASSERT_TRUE(m) << diag.Render();
  EXPECT_NEAR(m->energy_per_bit.value(), 3.9e-12 * 8, 1e-20);
  EXPECT_TRUE(prov.at("energy_per_bit").estimate);
}

TEST(NodePreset, N5HasItsGainsVsN7) {
  Diagnostics diag;
  auto n = LoadNodePreset("tsmc-n5", diag);
  ASSERT_TRUE(n) << diag.Render();
  EXPECT_EQ(n->baseline, "tsmc-n7");
  EXPECT_DOUBLE_EQ(n->perf_gain_pct, 15);
  EXPECT_DOUBLE_EQ(n->power_reduction_pct, 30);
  EXPECT_DOUBLE_EQ(n->sram_bitcell_area, 0.021);
}

TEST(LinkPreset, NvLink4Is450GBpsPerChipEachWay) {
  Diagnostics diag;
  auto l = LoadLinkPreset("nvlink-4", diag);
  ASSERT_TRUE(l) << diag.Render();
  EXPECT_EQ(l->category, hw::LinkCategory::kScaleUp);
  EXPECT_DOUBLE_EQ(l->per_chip_bandwidth.value(), 450e9);
  EXPECT_EQ(l->links_per_chip, 18);
  EXPECT_EQ(LinkCategoryName(l->category), "scale-up");
}

TEST(PackagingPreset, CowosSAllowsAbout2700Mm2) {
  Diagnostics diag;
  auto p = LoadPackagingPreset("cowos-s", diag);
  ASSERT_TRUE(p) << diag.Render();
  EXPECT_DOUBLE_EQ(p->max_silicon_area.value(), 2700);
}

TEST(TechPresets, UnknownPresetSuggestsTheClosestName) {
  Diagnostics diag;
  EXPECT_FALSE(LoadMemoryPreset("hbm3f", diag));
  ASSERT_EQ(diag.entries().size(), 1u);
  EXPECT_NE(diag.entries()[0].message.find("did you mean"), std::string::npos) << diag.Render();
}

TEST(TechValidate, StackBandwidthMustMatchPinRateTimesWidth) {
  hw::MemoryTech m;
  m.name = "x";
  m.pin_rate = BytesPerSec(6.4e9 / 8);
  m.interface_width = 1024;
  m.stack_bandwidth = 8190_GBps;  // a typo: 10x
  auto problems = hw::Validate(m);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key_path, "stack_bandwidth");
  m.stack_bandwidth = 819_GBps;
  EXPECT_TRUE(hw::Validate(m).empty());
}

TEST(TechValidate, PerChipBandwidthMustMatchLinksTimesPerLink) {
  hw::Interconnect l;
  l.name = "x";
  l.per_link_bandwidth = 25_GBps;
  l.links_per_chip = 18;
  l.per_chip_bandwidth = 900_GBps;  // bidirectional written by mistake
  ASSERT_EQ(hw::Validate(l).size(), 1u);
  l.per_chip_bandwidth = 450_GBps;
  EXPECT_TRUE(hw::Validate(l).empty());
}

TEST(TechValidate, GainsNeedABaseline) {
  hw::ProcessNode n;
  n.name = "x";
  n.perf_gain_pct = 15;
  ASSERT_EQ(hw::Validate(n).size(), 1u);
  n.baseline = "tsmc-n7";
  EXPECT_TRUE(hw::Validate(n).empty());
}

TEST(TechSchemas, DescribeEveryField) {
  std::vector<FieldDoc> docs;
  MemoryTechSchema().Describe("", &docs);
  ProcessNodeSchema().Describe("", &docs);
  InterconnectSchema().Describe("", &docs);
  PackagingSchema().Describe("", &docs);
  EXPECT_EQ(docs.size(), 14u + 15u + 15u + 6u);
  for (const auto& d : docs) EXPECT_FALSE(d.doc.empty()) << d.path;
}

}  // namespace
}  // namespace pf::spec
