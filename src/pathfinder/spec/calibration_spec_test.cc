// Calibration files: every shipped file loads; unknown keys and bare numbers are errors.
#include "pathfinder/spec/calibration_spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "pathfinder/ops/op_model.h"
#include "pathfinder/spec/chip_spec.h"
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
  EXPECT_DOUBLE_EQ(r->ceilings.matmul[DType::kFp8].value(), 1402.6e12);  // the same mamf table's H100 fp8 row
  EXPECT_EQ(r->family_file, "hopper");
}

// The older attention kernels of the shipped family files reproduce the rates they were
// taken from (FlashAttention-2 paper, A100 forward + backward; FlashAttention-3 paper, H100
// FlashAttention-2 forward and backward), and a family without them has none.
TEST(CalibrationSpec, OlderAttentionKernelsResolveFromTheShippedFamilies) {
  auto ceilings = [](const char* name, const char* family, double bf16_peak) {
    hw::Chip chip;
    chip.name = name;
    chip.family = family;
    chip.peak[DType::kBf16] = FlopsPerSec(bf16_peak);
    chip.hbm.bandwidth = BytesPerSec(2e12);
    Diagnostics d;
    auto r = ResolveCalibration(chip, d);
    EXPECT_TRUE(r) << d.Render();
    return r ? r->ceilings : ops::Ceilings{};
  };
  // Forward + backward rate of pass shares f, b over the ceiling c: 3.5 / (1/f + 2.5/b) · c.
  auto fwd_bwd = [](const ops::AttentionShares& s, double c) { return 3.5 / (1 / s.forward + 2.5 / s.backward) * c; };
  const ops::Ceilings a100 = ceilings("a100-sxm-80gb", "ampere", 312e12);
  const double a = a100.matmul[DType::kBf16].value();
  EXPECT_DOUBLE_EQ(a, 271.2e12);
  EXPECT_NEAR(fwd_bwd(a100.Attention(ops::AttentionKernel::kFlash2), a), 203e12, 0.2e12);
  EXPECT_NEAR(fwd_bwd(a100.Attention(ops::AttentionKernel::kFlash1), a), 83e12, 0.2e12);
  EXPECT_NEAR(fwd_bwd(a100.Attention(ops::AttentionKernel::kFlash1Triton), a), 95e12, 0.2e12);
  EXPECT_STREQ(a100.Attention(ops::AttentionKernel::kFlash1).origin, "family");
  // Split with FlashAttention-3's forward:backward ratio.
  const ops::AttentionShares f1 = a100.Attention(ops::AttentionKernel::kFlash1);
  EXPECT_NEAR(f1.forward / f1.backward, 620.7 / 561.0, 1e-9);

  const ops::Ceilings h100 = ceilings("h100-sxm", "hopper", 989.4e12);
  const double h = h100.matmul[DType::kBf16].value();
  const ops::AttentionShares f2 = h100.Attention(ops::AttentionKernel::kFlash2);
  EXPECT_NEAR(f2.forward * h, 370e12, 0.1e12);
  EXPECT_NEAR(f2.backward * h, 322e12, 0.1e12);
  EXPECT_NEAR(fwd_bwd(h100.Attention(ops::AttentionKernel::kFlash1), h), 139e12, 0.2e12);
  // The best kernel stays the chip's own measurement.
  EXPECT_STREQ(h100.Attention(ops::AttentionKernel::kBest).origin, "measured");

  const ops::Ceilings b200 = ceilings("b200", "blackwell", 2250e12);
  EXPECT_EQ(b200.Attention(ops::AttentionKernel::kFlash2).origin, nullptr);
  EXPECT_NE(b200.Attention(ops::AttentionKernel::kBest).origin, nullptr);
}

// The out-of-sample check of the older kernels' length and mask dependence: with the
// shipped ampere and hopper files, the model's forward + backward rates for causal
// attention at 2k, 4k and 8k tokens (head dim 128, 16k tokens in total, 16 heads) against
// the causal panels (d) of the FlashAttention-2 paper's A100 and H100 figures — numbers no
// calibration value was taken from (those use panel b, and panel d at 16k only).
TEST(CalibrationSpec, OlderAttentionKernelsMatchTheMeasuredCausalRates) {
  struct Point {
    const char* chip;
    ops::AttentionKernel kernel;
    double measured[3];  // TFLOP/s at 2k, 4k, 8k, causal
  };
  const Point points[] = {
      {"a100-sxm-80gb", ops::AttentionKernel::kFlash2, {155, 173, 182}},
      {"a100-sxm-80gb", ops::AttentionKernel::kFlash1, {69, 76, 80}},
      {"a100-sxm-80gb", ops::AttentionKernel::kFlash1Triton, {68, 74, 78}},
      {"h100-sxm", ops::AttentionKernel::kFlash2, {265, 294, 308}},
      {"h100-sxm", ops::AttentionKernel::kFlash1, {108, 126, 135}},
  };
  for (const Point& pt : points) {
    Diagnostics d;
    auto chip = LoadChipPreset(pt.chip, d);
    ASSERT_TRUE(chip) << d.Render();
    auto r = ResolveCalibration(*chip, d);
    ASSERT_TRUE(r) << d.Render();
    const ops::OpModel m(*chip, r->ceilings);
    const int64_t seqs[] = {2048, 4096, 8192};
    for (int i = 0; i < 3; ++i) {
      ops::AttentionShape s;
      s.batch = 16384 / seqs[i];
      s.heads = s.kv_heads = 16;
      s.head_dim = 128;
      s.q_len = s.kv_len = seqs[i];
      s.causal = true;
      s.backward = true;
      s.kernel = pt.kernel;
      const double model = m.Attention(s).achieved.value() / 1e12;
      EXPECT_NEAR(model / pt.measured[i], 1.0, 0.06)
          << pt.chip << " " << ops::Name(pt.kernel) << " at " << seqs[i] << ": model " << model << " measured "
          << pt.measured[i];
    }
  }
}

TEST(CalibrationSpec, AttentionKernelsKeysAreChecked) {
  const std::string path = ::testing::TempDir() + "/cal_kernels.yaml";
  std::ofstream(path) << "name: x\napplies: family\nsource: test\n"
                         "attention_kernels: {flash-attention-3: {forward_share: 0.5}, "
                         "flash-attention-2: {forward_share: 1.5}}\n";
  Diagnostics d;
  EXPECT_FALSE(LoadCalibrationFile(path, d));
  const std::string text = d.Render();
  EXPECT_NE(text.find("flash-attention-3"), std::string::npos) << text;
  EXPECT_NE(text.find("forward_share"), std::string::npos) << text;
}

}  // namespace
}  // namespace pf::spec
