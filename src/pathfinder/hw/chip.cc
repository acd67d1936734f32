// Cross-field checks of a chip description.
#include "pathfinder/hw/chip.h"

#include <fmt/core.h>

#include <cmath>

namespace pf::hw {

std::vector<Problem> Validate(const Chip& chip) {
  std::vector<Problem> out;
  bool any_peak = false;
  for (DType t : kAllDTypes) any_peak |= chip.peak[t].value() > 0;
  if (!any_peak) out.push_back({"peak", "no dense peak FLOP/s given; add at least one, e.g. peak.bf16: \"989 TFLOP/s\""});
  if (chip.hbm.capacity.value() <= 0) out.push_back({"hbm.capacity", "HBM capacity must be given and > 0, e.g. \"80 GB\""});
  if (chip.hbm.bandwidth.value() <= 0) out.push_back({"hbm.bandwidth", "HBM bandwidth must be given and > 0, e.g. \"3.35 TB/s\""});
  if (chip.cores <= 0) out.push_back({"cores", "the number of cores (SMs, CUs, TensorCores) must be given and > 0"});
  if (chip.clock.value() <= 0) out.push_back({"clock", "the clock must be given and > 0, e.g. \"1.98 GHz\""});
  // A scenario without a cluster joins chips by these links alone.
  if (chip.scale_up.domain > 1 && chip.scale_up.bandwidth.value() <= 0) {
    out.push_back({"scale_up.bandwidth", fmt::format("links joining {} chips need their bandwidth, e.g. \"450 GB/s\"",
                                                     chip.scale_up.domain)});
  }
  // A matrix-unit description, when given, must be able to produce the stated bf16/fp16
  // peak at the stated clock within a factor of 4 (some vendors quote peaks at boost
  // clocks or with dual-issue); anything further apart is a typo.
  const MatrixUnit& mu = chip.matrix_unit;
  if (mu.per_core > 0 && mu.m > 0 && mu.n > 0 && mu.k > 0 && chip.cores > 0 && chip.clock.value() > 0) {
    FlopsPerSec ref = chip.peak[DType::kBf16].value() > 0 ? chip.peak[DType::kBf16] : chip.peak[DType::kFp16];
    if (ref.value() > 0) {
      const double implied = 2.0 * mu.m * mu.n * mu.k * mu.per_core * chip.cores * chip.clock.value();
      const double ratio = implied / ref.value();
      if (ratio < 0.25 || ratio > 4.0) {
        out.push_back({"matrix_unit", fmt::format("cores × matrix units × 2·m·n·k × clock = {:.4g} TFLOP/s, but peak.bf16 is "
                                                  "{:.4g} TFLOP/s (more than 4× apart); check the shape or counts",
                                                  implied / 1e12, ref.value() / 1e12)});
      }
    }
  }
  return out;
}

}  // namespace pf::hw
