// ops/clock: a chip and its operator ceilings at a lower clock — what the power cap's
// throttling does to the operator model.
#pragma once

#include "pathfinder/hw/chip.h"
#include "pathfinder/ops/calibration.h"

namespace pf::ops {

// The chip and its ceilings at clock ratio r = f/f0 (the power cap's throttled clock): the
// clock, the matrix and vector peaks and the matmul ceilings scaled by r; HBM, links and
// per-kernel overhead unchanged. REQUIRES: 0 < r ≤ 1.
struct ClockedChip {
  hw::Chip chip;
  Ceilings ceilings;
};
ClockedChip AtClockRatio(const hw::Chip& chip, const Ceilings& ceilings, double r);

}  // namespace pf::ops
