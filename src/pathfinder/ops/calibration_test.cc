// Tests of ops/calibration.h's measured constants that no chip file carries.
#include "pathfinder/ops/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

namespace pf::ops {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The table is the median of data/measurements/README.md's whole-step rows ("A whole
// training step beside a copy kernel"; raw/h100-train-step-side.jsonl, records side_copy):
// per N = 8, 16, 32 CTAs of the H100's 132 SMs.
TEST(BesideCollective, IsTheMedianOfTheMeasuredSteps) {
  const std::array<std::array<double, 3>, 4> bf16 = {{{1.169, 1.241, 1.344},    // mpt7b-8l compiled
                                                      {1.151, 1.210, 1.331},    // mpt7b-8l eager
                                                      {1.173, 1.220, 1.350},    // mpt1b eager
                                                      {1.122, 1.174, 1.308}}};  // llama8b-8l eager
  const std::array<std::array<double, 3>, 2> fp8 = {{{1.075, 1.131, 1.235},     // mpt7b-8l-fp8 compiled
                                                     {1.073, 1.139, 1.239}}};   // llama8b-8l-fp8 compiled
  const std::array<int, 3> ctas = {8, 16, 32};
  for (size_t i = 0; i < ctas.size(); ++i) {
    std::vector<double> b, f;
    for (const auto& r : bf16) b.push_back(r[i]);
    for (const auto& r : fp8) f.push_back(r[i]);
    const double share = ctas[i] / 132.0;
    EXPECT_NEAR(ComputeSlowdownBesideCollective(share, DType::kBf16), Median(b), 0.0015) << ctas[i];
    EXPECT_NEAR(ComputeSlowdownBesideCollective(share, DType::kFp8), Median(f), 0.0015) << ctas[i];
  }
}

TEST(BesideCollective, InterpolatesAndHoldsTheLastPoint) {
  EXPECT_DOUBLE_EQ(ComputeSlowdownBesideCollective(0, DType::kBf16), 1.0);
  // Half-way between 8 and 16 CTAs of 132: half-way between their slowdowns.
  EXPECT_NEAR(ComputeSlowdownBesideCollective(12.0 / 132, DType::kBf16), 0.5 * (1.160 + 1.215), 1e-9);
  // Between 0 and the first point, linear from 1.
  EXPECT_NEAR(ComputeSlowdownBesideCollective(4.0 / 132, DType::kFp8), 1.037, 1e-9);
  // fp16 takes bf16's column; fp4 the fp8 one.
  EXPECT_DOUBLE_EQ(ComputeSlowdownBesideCollective(0.1, DType::kFp16),
                   ComputeSlowdownBesideCollective(0.1, DType::kBf16));
  EXPECT_DOUBLE_EQ(ComputeSlowdownBesideCollective(0.1, DType::kFp4),
                   ComputeSlowdownBesideCollective(0.1, DType::kFp8));
  // Never below 1, never falling with more cores taken, held beyond the measurement.
  double last = 1.0;
  for (int n = 0; n <= 132; ++n) {
    const double s = ComputeSlowdownBesideCollective(n / 132.0, DType::kBf16);
    EXPECT_GE(s, last) << n;
    last = s;
  }
  EXPECT_DOUBLE_EQ(ComputeSlowdownBesideCollective(1.0, DType::kBf16), 1.338);
}

TEST(BesideCollective, OnlyChipsWhoseCollectivesRunOnTheirCores) {
  hw::Chip gpu, amd, tpu;
  gpu.vendor = "NVIDIA";
  amd.vendor = "AMD";
  tpu.vendor = "Google";
  EXPECT_TRUE(CollectivesRunOnCores(gpu));
  EXPECT_TRUE(CollectivesRunOnCores(amd));
  EXPECT_FALSE(CollectivesRunOnCores(tpu));
}

}  // namespace
}  // namespace pf::ops
