// Calibration files: every shipped file loads; unknown keys and bare numbers are errors.
#include "pathfinder/spec/calibration_spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

TEST(CalibrationSpec, EveryShippedFileLoads) {
  const auto names = ListPresets(PresetKind::kCalibration);
  EXPECT_GE(names.size(), 5u);
  for (const auto& n : names) {
    Diagnostics d;
    EXPECT_TRUE(LoadCalibrationPreset(n, d)) << d.Render();
  }
}

TEST(CalibrationSpec, UnknownKeysAndBareNumbersAreErrors) {
  const std::string path = ::testing::TempDir() + "/cal_bad.yaml";
  std::ofstream(path) << "name: x\napplies: chip\nsource: test\nmatmul: {bf16: 794}\nhbm_bandwith: 3 TB/s\n";
  Diagnostics d;
  EXPECT_FALSE(LoadCalibrationFile(path, d));
  const std::string text = d.Render();
  EXPECT_NE(text.find("did you mean 'hbm_bandwidth'"), std::string::npos) << text;
  EXPECT_NE(text.find("794 has no unit"), std::string::npos) << text;
}

TEST(CalibrationSpec, FamilyCandidatesDropTheVersion) {
  EXPECT_EQ(FamilyCandidates("tpu-v5p"), (std::vector<std::string>{"tpu-v5p", "tpu"}));
  EXPECT_EQ(FamilyCandidates("gaudi2"), (std::vector<std::string>{"gaudi2", "gaudi"}));
  EXPECT_EQ(FamilyCandidates("hopper"), (std::vector<std::string>{"hopper"}));
}

TEST(CalibrationSpec, ResolvesTheMeasuredH100Ceiling) {
  hw::Chip chip;
  chip.name = "h100-sxm";
  chip.family = "hopper";
  chip.peak[DType::kBf16] = FlopsPerSec(989.4e12);
  chip.peak[DType::kFp8] = FlopsPerSec(1978.9e12);
  chip.hbm.bandwidth = BytesPerSec(3.35e12);
  Diagnostics d;
  auto r = ResolveCalibration(chip, d);
  ASSERT_TRUE(r) << d.Render();
  EXPECT_DOUBLE_EQ(r->ceilings.matmul[DType::kBf16].value(), 794.5e12);  // mamf_bf16_nvidiah100sxm
  EXPECT_NEAR(r->ceilings.matmul[DType::kFp8].value(), 0.755 * 1978.9e12, 1e6);  // hopper family
  EXPECT_EQ(r->family_file, "hopper");
}

}  // namespace
}  // namespace pf::spec
