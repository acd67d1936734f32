// Test-only chip values built in code (no data files), for the ops tests and bench.
// Numbers from ../shared/specs/accelerators.csv (H100 SXM5, A100 SXM4 80GB rows).
#pragma once

#include "pathfinder/hw/chip.h"
#include "pathfinder/ops/op_model.h"

namespace pf::ops::testing {

inline hw::Chip H100Like() {
  using namespace pf::literals;
  hw::Chip c;
  c.name = "h100-test";
  c.family = "hopper";
  c.clock = 1.83_GHz;
  c.cores = 132;
  c.matrix_unit = {4, 64, 256, 16};  // wgmma m64nNk16, 4 tensor cores per SM
  c.peak[DType::kBf16] = 989.4_TFLOPS;
  c.peak[DType::kFp16] = 989.4_TFLOPS;
  c.peak[DType::kFp8] = 1978.9_TFLOPS;
  c.peak[DType::kTf32] = 494.7_TFLOPS;
  c.vector_fp32 = 66.9_TFLOPS;
  c.sram = {228_KB, 50_MB};
  c.hbm = {"HBM3", 5, 80_GB, 3.35_TBps};
  return c;
}

inline hw::Chip A100Like() {
  using namespace pf::literals;
  hw::Chip c;
  c.name = "a100-test";
  c.family = "ampere";
  c.clock = 1.41_GHz;
  c.cores = 108;
  c.matrix_unit = {4, 16, 8, 16};
  c.peak[DType::kBf16] = 312_TFLOPS;
  c.peak[DType::kFp16] = 312_TFLOPS;
  c.peak[DType::kTf32] = 156_TFLOPS;
  c.vector_fp32 = 19.5_TFLOPS;
  c.sram = {164_KB, 40_MB};
  c.hbm = {"HBM2e", 5, 80_GB, 2.039_TBps};
  return c;
}

// A TPU v6e-like chip: one TensorCore, 918 TFLOP/s bf16, 1.64 TB/s HBM (accelerators.csv
// Google TPU v6e row); the "tpu-" family takes the TPU tile table.
inline hw::Chip TpuV6eLike() {
  using namespace pf::literals;
  hw::Chip c;
  c.name = "v6e-test";
  c.family = "tpu-test";
  c.clock = 1.75_GHz;
  c.cores = 1;
  c.matrix_unit = {2, 256, 256, 1};
  c.peak[DType::kBf16] = 918_TFLOPS;
  c.peak[DType::kInt8] = 1836_TFLOPS;
  c.hbm = {"HBM3", 2, 32_GB, 1.64_TBps};
  return c;
}

// The model with the global fallback calibration (no files).
inline OpModel ModelFor(const hw::Chip& c) { return OpModel(c, ResolveCeilings(c, nullptr, nullptr)); }

}  // namespace pf::ops::testing
