// Diagnostics render as file:line:col: error: key.path: message, then a count line.
#include "pathfinder/core/diag.h"

#include <gtest/gtest.h>

namespace pf {
namespace {

TEST(Diagnostics, RendersEveryErrorThenTheCount) {
  Diagnostics d;
  d.Error({"s.yaml", 7, 3}, "chip.hbm.bandwith", "unknown key; did you mean 'bandwidth'?");
  d.Error({"s.yaml", 12, 15}, "chip.scale_up.bandwidth", "400 has no unit; write e.g. \"400 GB/s\"");
  EXPECT_EQ(d.error_count(), 2);
  EXPECT_EQ(d.Render(),
            "s.yaml:7:3: error: chip.hbm.bandwith: unknown key; did you mean 'bandwidth'?\n"
            "s.yaml:12:15: error: chip.scale_up.bandwidth: 400 has no unit; write e.g. \"400 GB/s\"\n"
            "2 errors; nothing was simulated.\n");
}

TEST(Diagnostics, WarningsDoNotCountAsErrors) {
  Diagnostics d;
  d.Warning({"a.yaml", 1, 1}, "", "estimate");
  EXPECT_FALSE(d.has_errors());
  EXPECT_EQ(d.Render(), "a.yaml:1:1: warning: estimate\n");
}

}  // namespace
}  // namespace pf
