// Validation CSV reading: quoting, kind detection, malformed rows named by line.
#include "pathfinder/spec/validation_csv.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace pf::spec {
namespace {

TEST(ValidationCsv, SplitsQuotedFieldsWithCommasNewlinesAndDoubledQuotes) {
  std::vector<std::vector<std::string>> recs;
  std::vector<int> lines;
  std::string err;
  ASSERT_TRUE(SplitCsv("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"multi\nline\",z\n", &recs, &lines, &err));
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1][1], "x, y");
  EXPECT_EQ(recs[1][2], "say \"hi\"");
  EXPECT_EQ(recs[2][1], "multi\nline");
  EXPECT_EQ(lines[2], 3);
}

TEST(ValidationCsv, UnclosedQuoteIsAnErrorNamingItsLine) {
  std::vector<std::vector<std::string>> recs;
  std::vector<int> lines;
  std::string err;
  EXPECT_FALSE(SplitCsv("a,b\n1,\"open\n", &recs, &lines, &err));
  EXPECT_EQ(err, "line 2: a quoted field is not closed");
}

TEST(ValidationCsv, DetectsTheKindFromTheHeader) {
  Diagnostics d;
  auto m = ParseValidationCsv("id,hardware,kind,size_params,measured_value,unit,source,notes\n", "m.csv", d);
  auto t = ParseValidationCsv("id,model,hardware,measured_metric,measured_value\n", "t.csv", d);
  auto i = ParseValidationCsv("id,model,hardware,scenario,measured_metric,measured_value\n", "i.csv", d);
  ASSERT_TRUE(m && t && i);
  EXPECT_EQ(m->kind, ValidationKind::kMicrobench);
  EXPECT_EQ(t->kind, ValidationKind::kTraining);
  EXPECT_EQ(i->kind, ValidationKind::kInference);
  EXPECT_FALSE(ParseValidationCsv("x,y\n1,2\n", "bad.csv", d));
  EXPECT_TRUE(d.has_errors());
}

TEST(ValidationCsv, MalformedRowIsKeptWithAWarningNamingTheLine) {
  Diagnostics d;
  auto m = ParseValidationCsv("id,hardware,kind,size_params,measured_value,unit\nr1,H100,gemm,x,1,TFLOP/s\nr2,oops\n",
                              "m.csv", d);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->rows.size(), 2u);
  EXPECT_TRUE(m->rows[0].problem.empty());
  EXPECT_EQ(m->rows[1].problem, "malformed row: 2 fields, the header has 6");
  EXPECT_FALSE(d.has_errors());
  ASSERT_EQ(d.entries().size(), 1u);
  EXPECT_EQ(d.entries()[0].where.line, 3);
  EXPECT_EQ(m->Get(m->rows[0], "unit"), "TFLOP/s");
  EXPECT_EQ(m->Get(m->rows[0], "nope"), "");
}

TEST(ValidationCsv, ReadsTheSharedSets) {
  if (!std::filesystem::exists(std::string(PF_SHARED_DIR) + "/validation")) GTEST_SKIP() << "../shared/validation not present";
  for (const char* f : {"microbench_results.csv", "training_results.csv", "inference_results.csv"}) {
    Diagnostics d;
    auto t = LoadValidationCsv(std::string(PF_SHARED_DIR) + "/validation/" + f, d);
    ASSERT_TRUE(t) << d.Render();
    EXPECT_GT(t->rows.size(), 50u);
    for (const auto& r : t->rows) EXPECT_TRUE(r.problem.empty()) << f << " line " << r.line << ": " << r.problem;
  }
}

}  // namespace
}  // namespace pf::spec
