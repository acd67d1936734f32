// Tests of sweep files: loading, the errors users see, applying a point through the design
// loader, the definition hash, and metric resolution.
#include "pathfinder/spec/sweep_spec.h"

#include <gtest/gtest.h>

#include "pathfinder/spec/design_spec.h"

namespace pf::spec {
namespace {

const std::string kBase = std::string(PF_SOURCE_DIR) + "/examples/design-2nm-inference.yaml";

std::string Sweep(const std::string& body) { return "design: " + kBase + "\n" + body; }

std::optional<SweepSpec> Load(const std::string& text, Diagnostics& d) { return LoadSweepText(text, "s.yaml", d); }

TEST(SweepSpec, LoadsTheExample) {
  Diagnostics d;
  auto s = LoadSweep(std::string(PF_SOURCE_DIR) + "/examples/sweep-2nm-design.yaml", d);
  ASSERT_TRUE(s) << d.Render();
  EXPECT_EQ(s->method, SweepMethod::kLatinHypercube);
  EXPECT_EQ(s->samples, 400u);
  EXPECT_EQ(s->seed, 7u);
  ASSERT_EQ(s->parameters.size(), 5u);
  EXPECT_EQ(s->parameters[0].path, "design.clock");
  EXPECT_EQ(s->parameters[0].unit, "GHz");
  EXPECT_FALSE(s->parameters[0].integer);
  EXPECT_TRUE(s->parameters[1].integer);  // cores_per_die: whole numbers without a unit
  EXPECT_EQ(s->parameters[4].values, (std::vector<std::string>{"4", "6", "8", "12"}));
  EXPECT_EQ(s->hash.size(), 16u);
}

TEST(SweepSpec, ReportsEveryProblemWithItsPlace) {
  Diagnostics d;
  auto s = Load(Sweep("method: lhs\nsampels: 3\nparameters:\n"
                      "  design.clokc: {min: 1 GHz, max: 2 GHz}\n"
                      "  design.hbm.stacks: {min: 4, max: 8, steps: 3}\n"
                      "  design.cores_per_die: {min: 1 GHz, max: 64}\n"),
                d);
  EXPECT_FALSE(s);
  const std::string r = d.Render();
  EXPECT_NE(r.find("s.yaml:3:1: error: sampels: unknown key; did you mean 'samples'?"), std::string::npos) << r;
  EXPECT_NE(r.find("error: samples: missing; method random and lhs need samples: N"), std::string::npos) << r;
  EXPECT_NE(r.find("s.yaml:5:3: error: parameters.design.clokc: unknown field; did you mean 'design.clock'?"), std::string::npos) << r;
  EXPECT_NE(r.find("parameters.design.hbm.stacks.steps: applies to method grid only"), std::string::npos) << r;
  EXPECT_NE(r.find("parameters.design.cores_per_die.max: write min and max in the same unit ('GHz' and '')"), std::string::npos) << r;
}

TEST(SweepSpec, AGridOverANonIntegerRangeNeedsSteps) {
  Diagnostics d;
  EXPECT_FALSE(Load(Sweep("parameters:\n  design.clock: {min: 1 GHz, max: 2 GHz}\n"), d));
  EXPECT_NE(d.Render().find("a grid over a range needs steps: N"), std::string::npos) << d.Render();
}

TEST(SweepSpec, AppliedPointsLoadThroughTheDesignLoader) {
  Diagnostics d;
  auto s = Load(Sweep("parameters:\n  design.clock: {min: 1.2 GHz, max: 2.4 GHz, steps: 3}\n"
                      "  design.hbm.stacks: {values: [4, 12]}\n  econ.pue: {values: [1.1]}\n"),
                d);
  ASSERT_TRUE(s) << d.Render();
  EXPECT_EQ(ParameterValue(s->parameters[0], 1.65), "1.65 GHz");
  const std::string text = ApplyPoint(*s, {1.65, 1, 0});
  auto f = LoadDesignText(text, "point", d);
  ASSERT_TRUE(f) << d.Render() << text;
  EXPECT_DOUBLE_EQ(f->design.clock.value(), 1.65e9);
  EXPECT_EQ(f->design.hbm_stacks, 12);
  EXPECT_EQ(f->design.matrix.m, 128);  // untouched fields keep the base's values
  EXPECT_DOUBLE_EQ(f->econ.pue, 1.1);
}

// A value its field refuses in any design (99 HBM stacks; a word for a count) is an error of
// the sweep file at the value, with the field's own message, not 1 point in 2 infeasible.
TEST(SweepSpec, AValueItsFieldRefusesIsAnErrorAtTheValue) {
  Diagnostics d;
  EXPECT_FALSE(Load(Sweep("parameters:\n  design.hbm.stacks: {values: [4, 99, six]}\n"), d));
  const std::string r = d.Render();
  EXPECT_EQ(d.error_count(), 2) << r;
  EXPECT_NE(r.find("s.yaml:3:35: error: parameters.design.hbm.stacks.values: '99' is not a value of design.hbm.stacks: "
                   "99 is out of range; allowed: 1 … 64"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("'six' is not a value of design.hbm.stacks: expected a whole number"), std::string::npos) << r;
  // The bounds of a range are the values checked there.
  Diagnostics d2;
  EXPECT_FALSE(Load(Sweep("method: lhs\nsamples: 4\nparameters:\n  design.hbm.stacks: {min: 4, max: 99}\n"), d2));
  EXPECT_NE(d2.Render().find("parameters.design.hbm.stacks.max: '99' is not a value"), std::string::npos)
      << d2.Render();
  Diagnostics d3;
  EXPECT_TRUE(Load(Sweep("parameters:\n  design.hbm.stacks: {values: [4, 8]}\n"), d3)) << d3.Render();
}

TEST(SweepSpec, TheHashNamesTheDefinitionNotItsLayout) {
  Diagnostics d;
  auto a = Load(Sweep("# a comment\nparameters:\n  design.hbm.stacks: {values: [4, 8]}\n"), d);
  auto b = Load(Sweep("parameters: {design.hbm.stacks: {values: [4, 8]}}\n"), d);
  auto c = Load(Sweep("parameters:\n  design.hbm.stacks: {values: [4, 6]}\n"), d);
  ASSERT_TRUE(a && b && c) << d.Render();
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_NE(a->hash, c->hash);
  EXPECT_EQ(Fnv1aHex(""), "cbf29ce484222325");  // the FNV-1a 64 offset basis
}

TEST(SweepSpec, ResolvesMetricsAndParsesBoundsWithUnits) {
  Diagnostics d;
  auto s = Load(Sweep("parameters:\n  design.hbm.stacks: {values: [4]}\nobjectives:\n  - maximize: speed\n  - minimize: powr\n"
                      "constraints:\n  - {metric: power, max: 1.2 kW}\n  - {metric: speed, min: 3}\n"),
                d);
  ASSERT_TRUE(s) << d.Render();
  const std::vector<MetricInfo> m = {{"speed", std::nullopt, "TFLOP/s/W"}, {"power", DimensionOf<Watts>::value, ""}};
  EXPECT_FALSE(ResolveSweepMetrics(*s, m, d));
  EXPECT_NE(d.Render().find("objectives[1]: unknown metric 'powr'; did you mean 'power'?"), std::string::npos) << d.Render();
  s->objectives[1].metric = "power";
  Diagnostics d2;
  ASSERT_TRUE(ResolveSweepMetrics(*s, m, d2)) << d2.Render();
  EXPECT_EQ(s->objectives[1].index, 1u);
  EXPECT_DOUBLE_EQ(s->constraints[0].bound, 1200);
  EXPECT_FALSE(s->constraints[1].at_most);
  EXPECT_DOUBLE_EQ(s->constraints[1].bound, 3);
}

}  // namespace
}  // namespace pf::spec
