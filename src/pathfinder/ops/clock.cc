// A chip and its ceilings at a lower clock (see clock.h).
#include "pathfinder/ops/clock.h"

#include "pathfinder/core/check.h"

namespace pf::ops {

ClockedChip AtClockRatio(const hw::Chip& chip, const Ceilings& ceilings, double r) {
  PF_CHECK(r > 0 && r <= 1, "clock ratio {} outside (0, 1]", r);
  ClockedChip c{chip, ceilings};
  c.chip.clock = chip.clock * r;
  for (DType t : kAllDTypes) {
    c.chip.peak[t] = chip.peak[t] * r;
    c.ceilings.matmul[t] = ceilings.matmul[t] * r;
  }
  c.chip.vector_fp32 = chip.vector_fp32 * r;
  return c;
}

}  // namespace pf::ops
