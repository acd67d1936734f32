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

// Per N CTAs of the H100's 132 SMs: the table is the median, per dtype, of the steps
// measured at that N (rows: one step each, columns: the N).
template <size_t Rows>
void ExpectMedians(const std::array<int, 3>& ctas, const std::array<std::array<double, 3>, Rows>& steps, DType dtype) {
  for (size_t i = 0; i < ctas.size(); ++i) {
    std::vector<double> v;
    for (const auto& r : steps) v.push_back(r[i]);
    EXPECT_NEAR(ComputeSlowdownBesideCollective(ctas[i] / 132.0, dtype), Median(v), 0.0015) << ctas[i];
  }
}

// data/measurements/README.md's whole-step rows ("A whole training step beside a copy
// kernel"; raw/h100-train-step-side.jsonl, records side_copy).
TEST(BesideCollective, IsTheMedianOfTheMeasuredSteps) {
  ExpectMedians<4>({8, 16, 32},
                   {{{1.169, 1.241, 1.344},    // mpt7b-8l compiled
                     {1.151, 1.210, 1.331},    // mpt7b-8l eager
                     {1.173, 1.220, 1.350},    // mpt1b eager
                     {1.122, 1.174, 1.308}}},  // llama8b-8l eager
                   DType::kBf16);
  ExpectMedians<2>({8, 16, 32},
                   {{{1.075, 1.131, 1.235},    // mpt7b-8l-fp8 compiled
                     {1.073, 1.139, 1.239}}},  // llama8b-8l-fp8 compiled
                   DType::kFp8);
  // The second run, at 1, 2, 4 CTAs: three of the bf16 steps and both fp8 steps.
  ExpectMedians<3>({1, 2, 4},
                   {{{1.095, 1.085, 1.156},    // mpt7b-8l compiled
                     {1.073, 1.084, 1.157},    // mpt1b eager
                     {1.062, 1.065, 1.110}}},  // llama8b-8l eager
                   DType::kBf16);
  ExpectMedians<2>({1, 2, 4},
                   {{{1.032, 1.038, 1.061},    // mpt7b-8l-fp8 compiled
                     {1.036, 1.036, 1.062}}},  // llama8b-8l-fp8 compiled
                   DType::kFp8);
}

TEST(BesideCollective, InterpolatesAndHoldsTheLastPoint) {
  EXPECT_DOUBLE_EQ(ComputeSlowdownBesideCollective(0, DType::kBf16), 1.0);
  // Half-way between 8 and 16 CTAs of 132: half-way between their slowdowns.
  EXPECT_NEAR(ComputeSlowdownBesideCollective(12.0 / 132, DType::kBf16), 0.5 * (1.160 + 1.215), 1e-9);
  // Between 0 and the first point, linear from 1.
  EXPECT_NEAR(ComputeSlowdownBesideCollective(0.5 / 132, DType::kFp8), 1.017, 1e-9);
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

// The matmul table is the median of raw/h100-overlap2.jsonl's 15 rows per N (5 shapes × 3
// stand-ins; data/measurements/README.md's table, there to two decimals).
TEST(BesideCollective, MatmulTableIsTheMedianOfTheOverlap2Rows) {
  // Per N: spin, copy, reduce for mpt13b qkv, fc1, fc2, llama8b fc1, gpt3 fc1 tp4 fp8.
  const std::array<std::pair<int, std::array<double, 15>>, 7> rows = {{
      {1, {1.084, 1.083, 1.085, 1.058, 1.088, 1.091, 1.258, 1.268, 1.302, 1.165, 1.164, 1.155, 1.104, 1.092, 1.084}},
      {2, {1.078, 1.089, 1.083, 1.110, 1.123, 1.079, 1.315, 1.286, 1.259, 1.158, 1.125, 1.171, 1.086, 1.132, 1.087}},
      {4, {1.139, 1.172, 1.152, 1.160, 1.178, 1.188, 1.521, 1.508, 1.525, 1.204, 1.193, 1.230, 1.116, 1.119, 1.133}},
      {8, {1.150, 1.151, 1.160, 1.186, 1.138, 1.215, 1.549, 1.537, 1.541, 1.208, 1.223, 1.193, 1.109, 1.132, 1.152}},
      {16, {1.236, 1.292, 1.262, 1.281, 1.316, 1.279, 1.531, 1.573, 1.518, 1.348, 1.343, 1.376, 1.223, 1.208, 1.222}},
      {24, {1.214, 1.233, 1.230, 1.295, 1.333, 1.295, 1.585, 1.568, 1.579, 1.341, 1.363, 1.367, 1.185, 1.280, 1.229}},
      {32, {1.402, 1.465, 1.523, 1.471, 1.512, 1.542, 1.764, 1.789, 1.848, 1.518, 1.483, 1.569, 1.450, 1.415, 1.481}},
  }};
  for (const auto& [n, v] : rows) {
    std::vector<double> x(v.begin(), v.end());
    EXPECT_NEAR(MatmulSlowdownBesideHeldCores(n / 132.0), Median(x), 0.0015) << n;
  }
  EXPECT_DOUBLE_EQ(MatmulSlowdownBesideHeldCores(0), 1.0);
  EXPECT_DOUBLE_EQ(MatmulSlowdownBesideHeldCores(0.9), 1.512);
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
