// Compile-fail proof: adding a size to a time must not compile. Built twice by ctest:
// without PF_COMPILE_FAIL it must compile (control), with it it must not.
#include "pathfinder/core/units.h"

int main() {
  using namespace pf::literals;
  pf::Bytes b = 80_GB;
  pf::Seconds s = 2_s;
  auto ok = b / s;  // a bandwidth: fine
  (void)ok;
#ifdef PF_COMPILE_FAIL
  auto bad = b + s;  // Bytes + Seconds: no such operator
  (void)bad;
#endif
  return 0;
}
