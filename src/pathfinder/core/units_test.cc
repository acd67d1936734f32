// Units: dimension algebra, printing, and parsing of the spellings the field uses.
#include "pathfinder/core/units.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "pathfinder/core/units_parse.h"

namespace pf {
namespace {
using namespace literals;

TEST(Units, BytesOverBandwidthIsSeconds) {
  Bytes weights = 140_GB;
  BytesPerSec hbm = 3.35_TBps;
  auto t = weights / hbm;
  static_assert(std::is_same_v<decltype(t), Seconds>);
  EXPECT_NEAR(t.value(), 140e9 / 3.35e12, 1e-12);
}

TEST(Units, FlopsOverRateIsSecondsAndRatioIsPlainNumber) {
  auto t = Flops(2.0 * 8192 * 8192 * 8192) / 989.4_TFLOPS;
  static_assert(std::is_same_v<decltype(t), Seconds>);
  auto ratio = 80_GB / 40_GB;
  static_assert(std::is_same_v<decltype(ratio), double>);
  EXPECT_DOUBLE_EQ(ratio, 2.0);
}

TEST(Units, WattsTimesSecondsIsJoules) {
  auto e = 700_W * 2_s;
  static_assert(std::is_same_v<decltype(e), Joules>);
  EXPECT_DOUBLE_EQ(e.value(), 1400.0);
}

TEST(Units, MaxPicksTheLarger) { EXPECT_EQ(Max(1_ms, 2_us), 1_ms); }

TEST(UnitsPrint, ChoosesADecimalPrefix) {
  EXPECT_EQ(ToString(3.35_TBps), "3.35 TB/s");
  EXPECT_EQ(ToString(80_GB), "80 GB");
  EXPECT_EQ(ToString(989.4_TFLOPS), "989.4 TFLOP/s");
  EXPECT_EQ(ToString(1.5_ms), "1.5 ms");
  EXPECT_EQ(ToString(700_W), "700 W");
  EXPECT_EQ(ToString(1.98_GHz), "1.98 GHz");
  EXPECT_EQ(ToString(Dollars(30000)), "$30k");
  EXPECT_EQ(ToString(Seconds(7200)), "2 h");
}

// Zero has no prefix: `pf train` printed an empty communication buffer as "0 EB".
TEST(UnitsPrint, ZeroTakesNoPrefix) {
  EXPECT_EQ(ToString(Bytes(0)), "0 B");
  EXPECT_EQ(ToString(FlopsPerSec(0)), "0 FLOP/s");
  EXPECT_EQ(ToString(Watts(0)), "0 W");
  EXPECT_EQ(ToString(Seconds(0)), "0 s");
}

struct ParseCase {
  const char* text;
  Dimension dim;
  double expected;
};

class ParseAccepts : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseAccepts, TheSpellingsOfTheField) {
  auto r = ParseQuantityValue(GetParam().text, GetParam().dim);
  ASSERT_TRUE(r.ok()) << GetParam().text << ": " << (r.ok() ? "" : r.error());
  EXPECT_NEAR(r.value(), GetParam().expected, std::abs(GetParam().expected) * 1e-12) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Units, ParseAccepts,
    ::testing::Values(ParseCase{"3.35 TB/s", DimensionOf<BytesPerSec>::value, 3.35e12},
                      ParseCase{"80 GB", DimensionOf<Bytes>::value, 80e9},
                      ParseCase{"80 GiB", DimensionOf<Bytes>::value, 80.0 * 1073741824.0},
                      ParseCase{"989 TFLOP/s", DimensionOf<FlopsPerSec>::value, 989e12},
                      ParseCase{"1979 TFLOPS", DimensionOf<FlopsPerSec>::value, 1979e12},
                      ParseCase{"1979 TOPS", DimensionOf<FlopsPerSec>::value, 1979e12},
                      ParseCase{"700 W", DimensionOf<Watts>::value, 700},
                      ParseCase{"1.98 GHz", DimensionOf<Hertz>::value, 1.98e9},
                      ParseCase{"814 mm2", DimensionOf<SquareMillimeters>::value, 814},
                      ParseCase{"$30000", DimensionOf<Dollars>::value, 30000},
                      ParseCase{"$30,000", DimensionOf<Dollars>::value, 30000},
                      ParseCase{"$1.5M", DimensionOf<Dollars>::value, 1.5e6},
                      ParseCase{"400 Gb/s", DimensionOf<BytesPerSec>::value, 50e9},
                      ParseCase{"400 Gbps", DimensionOf<BytesPerSec>::value, 50e9},
                      ParseCase{"900 GBps", DimensionOf<BytesPerSec>::value, 900e9},
                      ParseCase{"820 GiB/s", DimensionOf<BytesPerSec>::value, 820.0 * 1073741824.0},
                      ParseCase{"3.9 pJ/bit", DimensionOf<JoulesPerByte>::value, 3.9e-12 * 8},
                      ParseCase{"$7/GB", DimensionOf<DollarsPerByte>::value, 7e-9},
                      ParseCase{"8.9 us", DimensionOf<Seconds>::value, 8.9e-6},
                      ParseCase{"4 years", DimensionOf<Seconds>::value, 4 * 365.25 * 86400},
                      ParseCase{"1e3 W", DimensionOf<Watts>::value, 1000},
                      ParseCase{"1.2 MW", DimensionOf<Watts>::value, 1.2e6}));

TEST(UnitsParse, BareNumberIsAnErrorWithAnExample) {
  auto r = ParseQuantityValue("400", DimensionOf<BytesPerSec>::value);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "400 has no unit; write e.g. \"3.35 TB/s\"");
}

TEST(UnitsParse, WrongDimensionNamesBoth) {
  auto r = ParseQuantityValue("80 GB", DimensionOf<BytesPerSec>::value);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "'80 GB' is a size, but a bandwidth is expected (e.g. \"3.35 TB/s\")");
}

TEST(UnitsParse, UnknownUnitSuggestsTheClosest) {
  auto r = ParseQuantityValue("80 GBB", DimensionOf<Bytes>::value);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "unknown unit 'GBB' in '80 GBB'; did you mean 'GB'?");
}

TEST(UnitsParse, BitsAndBytesDiffer) {
  EXPECT_DOUBLE_EQ(ParseQuantityValue("8 Gb", DimensionOf<Bytes>::value).value(), 1e9);
  EXPECT_DOUBLE_EQ(ParseQuantityValue("8 GB", DimensionOf<Bytes>::value).value(), 8e9);
}

TEST(UnitsParse, GarbageIsAnError) {
  EXPECT_FALSE(ParseQuantityValue("fast", DimensionOf<Bytes>::value).ok());
  EXPECT_FALSE(ParseQuantityValue("", DimensionOf<Bytes>::value).ok());
  EXPECT_FALSE(ParseQuantityValue("1..2 GB", DimensionOf<Bytes>::value).ok());
}

TEST(UnitsParse, TypedParseReturnsTheType) {
  auto r = ParseQuantity<Watts>("1 kW");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 1_kW);
}

}  // namespace
}  // namespace pf
