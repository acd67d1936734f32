// A chip derived from a design file used wherever a chip preset can be: a scenario's
// `chip: {design: …}` and a cluster section's `chip: {design: …}` load the design, derive
// the chip and apply overrides; provenance names the design file; errors name the file and
// line they are in; calibration falls back to the `design` family defaults.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pathfinder/hw/design.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/scenario.h"

namespace pf::spec {
namespace {
namespace fs = std::filesystem;

const std::string kInferenceDesign = std::string(PF_SOURCE_DIR) + "/examples/design-2nm-inference.yaml";

// A fresh folder per test, removed at the end.
class DesignedChip : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pf_designed_chip_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "designs");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string CopyInferenceDesign(const std::string& name) {
    fs::copy_file(kInferenceDesign, dir_ / name, fs::copy_options::overwrite_existing);
    return (dir_ / name).string();
  }
  fs::path dir_;
};

hw::DerivedChip DeriveFrom(const std::string& path) {
  Diagnostics d;
  auto f = LoadDesign(path, d);
  EXPECT_TRUE(f) << d.Render();
  return hw::DeriveChip(f->design, f->tech);
}

TEST_F(DesignedChip, ScenarioChipHasThePeaksDeriveChipGives) {
  CopyInferenceDesign("designs/chip.yaml");
  const std::string path = Write("s.yaml", "name: x\nchip: {design: designs/chip.yaml}\nmodel: llama-3-8b\n");
  Diagnostics d;
  auto sc = LoadScenario(path, d);
  ASSERT_TRUE(sc) << d.Render();
  ASSERT_TRUE(sc->chip);
  const hw::DerivedChip want = DeriveFrom(kInferenceDesign);
  EXPECT_EQ(sc->chip->name, "pf-infer-n2");
  for (DType t : kAllDTypes) EXPECT_DOUBLE_EQ(sc->chip->peak[t].value(), want.chip.peak[t].value()) << Name(t);
  EXPECT_DOUBLE_EQ(sc->chip->hbm.capacity.value(), want.chip.hbm.capacity.value());
  EXPECT_DOUBLE_EQ(sc->chip->hbm.bandwidth.value(), want.chip.hbm.bandwidth.value());
  EXPECT_DOUBLE_EQ(sc->chip->tdp.value(), want.chip.tdp.value());
  EXPECT_EQ(sc->chip_design, (dir_ / "designs/chip.yaml").lexically_normal().string());
  // Provenance names the design file; area and the estimated TDP are marked estimates.
  EXPECT_NE(sc->provenance.at("chip.peak.bf16").source.find("designs/chip.yaml"), std::string::npos);
  EXPECT_FALSE(sc->provenance.at("chip.peak.bf16").estimate);
  EXPECT_TRUE(sc->provenance.at("chip.tdp").estimate);
  EXPECT_TRUE(sc->provenance.at("chip.die_area").estimate);
  bool shown = false;
  for (const auto& row : ExplainScenario(*sc)) {
    if (row.path == "chip.peak.fp8") {
      shown = true;
      EXPECT_NE(row.source.find("derived from design file"), std::string::npos) << row.source;
    }
  }
  EXPECT_TRUE(shown);
  // The load says the chip is an estimate.
  EXPECT_NE(d.Render().find("warning: chip.design: chip 'pf-infer-n2' is derived from designs/chip.yaml"),
            std::string::npos)
      << d.Render();
}

TEST_F(DesignedChip, OtherKeysOverrideTheDerivedFields) {
  const std::string path = Write(
      "s.yaml", "chip: {design: " + kInferenceDesign + ", hbm: {capacity: 300 GB}, tdp: 900 W}\nmodel: llama-3-8b\n");
  Diagnostics d;
  auto sc = LoadScenario(path, d);
  ASSERT_TRUE(sc) << d.Render();
  const hw::DerivedChip want = DeriveFrom(kInferenceDesign);
  EXPECT_DOUBLE_EQ(sc->chip->hbm.capacity.value(), 300e9);
  EXPECT_DOUBLE_EQ(sc->chip->tdp.value(), 900.0);
  EXPECT_DOUBLE_EQ(sc->chip->hbm.bandwidth.value(), want.chip.hbm.bandwidth.value());
  EXPECT_NE(sc->provenance.at("chip.hbm.capacity").source.find("scenario override"), std::string::npos);
  EXPECT_NE(sc->provenance.at("chip.hbm.bandwidth").source.find("design-2nm-inference.yaml"), std::string::npos);
}

TEST_F(DesignedChip, ANameIsLookedUpInDataDesigns) {
  const std::string path = Write("s.yaml", "chip: {design: h100-sxm}\n");
  Diagnostics d;
  auto sc = LoadScenario(path, d);
  ASSERT_TRUE(sc) << d.Render();
  EXPECT_EQ(sc->chip->name, "h100-sxm-design");
}

TEST_F(DesignedChip, AMissingDesignFileIsAnErrorAtTheScenarioLine) {
  const std::string path = Write("s.yaml", "name: x\nchip: {design: nope/chip.yaml}\n");
  Diagnostics d;
  EXPECT_FALSE(LoadScenario(path, d));
  EXPECT_EQ(d.error_count(), 1) << d.Render();
  const std::string r = d.Render();
  EXPECT_NE(r.find(path + ":2:16: error: chip.design: design file 'nope/chip.yaml' not found"), std::string::npos) << r;
  EXPECT_NE(r.find("data/designs/"), std::string::npos) << r;
}

TEST_F(DesignedChip, AnUnknownDesignNameSuggestsTheClosest) {
  const std::string path = Write("s.yaml", "chip: {design: h100-sx}\n");
  Diagnostics d;
  EXPECT_FALSE(LoadScenario(path, d));
  EXPECT_NE(d.Render().find(path + ":1:16: error: chip.design: unknown design 'h100-sx'; did you mean 'h100-sxm'?"),
            std::string::npos)
      << d.Render();
}

TEST_F(DesignedChip, AnErrorInsideTheDesignIsReportedAtTheDesignFilesLine) {
  const std::string design = Write("designs/bad.yaml",
                                   "design:\n  name: bad\n  node: tsmc-n2\n  packaging: cowos-l\n  cores_per_die: 8\n"
                                   "  matrix: {per_core: 1, m: 128, n: 128, k: 1, dtypes: {bf16: 1}}\n"
                                   "  clock: 1.8 GHz\n  hbm: {generation: hbm4, stacks: 8}\n  clokc: 2 GHz\n");
  const std::string path = Write("s.yaml", "chip: {design: designs/bad.yaml}\n");
  Diagnostics d;
  EXPECT_FALSE(LoadScenario(path, d));
  const std::string r = d.Render();
  EXPECT_NE(r.find(design + ":9:3: error: design.clokc: unknown key; did you mean 'clock'?"), std::string::npos) << r;
}

TEST_F(DesignedChip, DesignAndPresetTogetherAreAnError) {
  const std::string path = Write("s.yaml", "chip: {design: " + kInferenceDesign + ", preset: h100-sxm}\n");
  Diagnostics d;
  EXPECT_FALSE(LoadScenario(path, d));
  EXPECT_NE(d.Render().find("error: chip.preset: give either preset or design, not both"), std::string::npos)
      << d.Render();
}

TEST_F(DesignedChip, AClusterSectionTakesADesignedChip) {
  const std::string path =
      Write("s.yaml", "cluster: {preset: gb200-nvl72, chips: 144, chip: {design: " + kInferenceDesign +
                          "}}\nmodel: llama-3-8b\n");
  Diagnostics d;
  auto sc = LoadScenario(path, d);
  ASSERT_TRUE(sc) << d.Render();
  ASSERT_TRUE(sc->chip);
  ASSERT_TRUE(sc->cluster);
  EXPECT_EQ(sc->cluster->chip, "pf-infer-n2");
  EXPECT_EQ(sc->chip->name, "pf-infer-n2");
  EXPECT_DOUBLE_EQ(sc->chip->peak[DType::kFp8].value(), DeriveFrom(kInferenceDesign).chip.peak[DType::kFp8].value());
  EXPECT_NE(sc->provenance.at("chip.peak.bf16").source.find("design-2nm-inference.yaml"), std::string::npos);
  EXPECT_EQ(sc->provenance.count("cluster.chip.peak.bf16"), 0u);
  EXPECT_FALSE(sc->chip_design.empty());
}

TEST_F(DesignedChip, AChipGivenTwiceIsAnError) {
  const std::string path =
      Write("s.yaml", "chip: h100-sxm\ncluster: {preset: dgx-h100, chip: {design: " + kInferenceDesign + "}}\n");
  Diagnostics d;
  EXPECT_FALSE(LoadScenario(path, d));
  EXPECT_NE(d.Render().find(path + ":1:7: error: chip: the chip is given twice"), std::string::npos) << d.Render();
}

TEST_F(DesignedChip, ADesignedChipBesideAClusterPresetOfAnotherChipSaysWhereToPutIt) {
  const std::string path = Write("s.yaml", "chip: {design: " + kInferenceDesign + "}\ncluster: dgx-h100\n");
  Diagnostics d;
  EXPECT_FALSE(LoadScenario(path, d));
  EXPECT_NE(d.Render().find("move the design into the cluster section"), std::string::npos) << d.Render();
}

TEST_F(DesignedChip, AClusterFileOutsideAScenarioTakesOnlyAPresetName) {
  const std::string path = Write("c.yaml", "cluster: {preset: dgx-h100, chip: {design: " + kInferenceDesign + "}}\n");
  Diagnostics d;
  EXPECT_FALSE(LoadClusterByName(path, d));
  EXPECT_NE(d.Render().find("error: cluster.chip: a chip section (design or overrides) is allowed only in a scenario"),
            std::string::npos)
      << d.Render();
}

TEST_F(DesignedChip, CalibrationIsTheDesignFamilyDefault) {
  const hw::DerivedChip c = DeriveFrom(kInferenceDesign);
  Diagnostics d;
  auto cal = ResolveCalibration(c.chip, d);
  ASSERT_TRUE(cal) << d.Render();
  EXPECT_EQ(cal->chip_file, "");
  EXPECT_EQ(cal->family_file, "design");
  EXPECT_STREQ(cal->ceilings.matmul_origin[DType::kBf16], "family");
  EXPECT_NEAR(cal->ceilings.matmul[DType::kBf16].value() / c.chip.peak[DType::kBf16].value(), 0.776, 1e-12);
  EXPECT_NEAR(cal->ceilings.hbm.value() / c.chip.hbm.bandwidth.value(), 0.863, 1e-12);
}

TEST_F(DesignedChip, TheDumpReloadsToTheSameChipAndNamesTheDesign) {
  const std::string path = Write("s.yaml", "chip: {design: " + kInferenceDesign + "}\nmodel: llama-3-8b\n");
  Diagnostics d;
  auto sc = LoadScenario(path, d);
  ASSERT_TRUE(sc) << d.Render();
  const std::string dump = DumpScenario(*sc);
  EXPECT_EQ(
      dump.rfind("# chip: derived from the design file " + fs::path(kInferenceDesign).lexically_normal().string(), 0),
      0u)
      << dump;
  const std::string again = Write("dump.yaml", dump);
  Diagnostics d2;
  auto sc2 = LoadScenario(again, d2);
  ASSERT_TRUE(sc2) << d2.Render();
  for (DType t : kAllDTypes)
    EXPECT_NEAR(sc2->chip->peak[t].value(), sc->chip->peak[t].value(), 1e-9 * sc->chip->peak[t].value());
  EXPECT_NEAR(sc2->chip->hbm.capacity.value(), sc->chip->hbm.capacity.value(), 1.0);
}

}  // namespace
}  // namespace pf::spec
