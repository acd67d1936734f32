// Chip validation: the cross-field rules.
#include "pathfinder/hw/chip.h"

#include <gtest/gtest.h>

namespace pf::hw {
namespace {
using namespace pf::literals;

Chip H100Like() {
  Chip c;
  c.name = "test";
  c.clock = 1.83_GHz;
  c.cores = 132;
  c.matrix_unit = {4, 8, 4, 16};
  c.peak[DType::kBf16] = 989.4_TFLOPS;
  c.hbm.capacity = 80_GB;
  c.hbm.bandwidth = 3.35_TBps;
  return c;
}

TEST(ChipValidate, AcceptsAConsistentChip) { EXPECT_TRUE(Validate(H100Like()).empty()); }

TEST(ChipValidate, RejectsAChipWithNoPeakAndNoHbm) {
  Chip c = H100Like();
  c.peak = {};
  c.hbm.capacity = Bytes(0);
  auto p = Validate(c);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].key_path, "peak");
  EXPECT_EQ(p[1].key_path, "hbm.capacity");
}

TEST(ChipValidate, RejectsAMatrixUnitShapeFarFromThePeak) {
  Chip c = H100Like();
  c.matrix_unit = {4, 128, 128, 128};
  auto p = Validate(c);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].key_path, "matrix_unit");
}

}  // namespace
}  // namespace pf::hw
