// "Did you mean": edit distance and the closest plausible candidate.
#include "pathfinder/core/strings.h"

#include <gtest/gtest.h>

namespace pf {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutions) {
  EXPECT_EQ(EditDistance("bandwith", "bandwidth"), 1);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(ClosestMatch, SuggestsATypoFixButNotAStranger) {
  EXPECT_EQ(ClosestMatch("bandwith", {"capacity", "bandwidth", "stacks"}), "bandwidth");
  EXPECT_EQ(ClosestMatch("h100-sxn", {"h100-sxm", "h200"}), "h100-sxm");
  EXPECT_EQ(ClosestMatch("zebra", {"capacity", "bandwidth"}), "");
}

}  // namespace
}  // namespace pf
