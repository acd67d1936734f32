// Tests of the results store: rows round-trip, runs are guarded by their sweep hash, a
// failed batch leaves nothing, and the CSV/JSON export.
#include "pathfinder/store/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

namespace pf::store {
namespace {

std::string TempDb(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / ("pf_store_test_" + std::to_string(getpid()) + "_" + name + ".db");
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
  return p.string();
}

RunInfo Info(const std::string& hash = "00aa") { return {"r1", hash, "{\"method\":\"grid\"}", 3, {"speed", "cost"}}; }

PointRow Row(int64_t i, bool feasible = true) {
  PointRow r;
  r.index = i;
  r.input = "{\"design.clock\":\"1.5 GHz\",\"design.hbm.stacks\":\"8\"}";
  r.output = "{\"tdp\":" + std::to_string(100 + i) + ",\"reasons\":[]}";
  r.feasible = feasible;
  r.reason = feasible ? "" : "too hot, \"really\"";
  r.objectives = {double(i), i == 1 ? NAN : 2.0 * double(i)};
  return r;
}

TEST(Store, WritesAndReadsRowsInIndexOrder) {
  auto s = Store::Open(TempDb("rw"));
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_TRUE(s.value()->BeginRun(Info(), false).ok());
  ASSERT_TRUE(s.value()->Write("r1", {Row(2), Row(0)}).ok());
  ASSERT_TRUE(s.value()->Write("r1", {Row(1, false)}).ok());
  auto rows = s.value()->Rows("r1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows.value().size(), 3u);
  EXPECT_EQ(rows.value()[0], Row(0));
  EXPECT_EQ(rows.value()[1], Row(1, false));  // NaN objective stored as NULL, read back as NaN
  EXPECT_TRUE(std::isnan(rows.value()[1].objectives[1]));
  EXPECT_EQ(s.value()->DoneIndices("r1").value(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(s.value()->Run("r1").value().objectives, (std::vector<std::string>{"speed", "cost"}));
}

TEST(Store, SurvivesReopeningAndResumesOnlyTheSameSweep) {
  const std::string db = TempDb("resume");
  {
    auto s = Store::Open(db);
    ASSERT_TRUE(s.value()->BeginRun(Info("00aa"), false).ok());
    ASSERT_TRUE(s.value()->Write("r1", {Row(0)}).ok());
  }
  auto s = Store::Open(db);
  auto again = s.value()->BeginRun(Info("00aa"), false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), "the results store already holds run 'r1'; pass --resume to continue it, or use another --db");
  auto other = s.value()->BeginRun(Info("00bb"), true);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("is a different sweep (hash 00aa, this sweep 00bb)"), std::string::npos) << other.error();
  EXPECT_TRUE(s.value()->BeginRun(Info("00aa"), true).ok());
  EXPECT_EQ(s.value()->DoneIndices("r1").value(), (std::vector<int64_t>{0}));
}

TEST(Store, ABatchWithADuplicateIndexWritesNothing) {
  auto s = Store::Open(TempDb("dup"));
  ASSERT_TRUE(s.value()->BeginRun(Info(), false).ok());
  ASSERT_TRUE(s.value()->Write("r1", {Row(1)}).ok());
  auto w = s.value()->Write("r1", {Row(2), Row(1)});
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().find("writing point 1"), std::string::npos) << w.error();
  EXPECT_EQ(s.value()->DoneIndices("r1").value(), (std::vector<int64_t>{1}));  // point 2 rolled back
}

TEST(Store, UsesWriteAheadLogging) {
  const std::string db = TempDb("wal");
  auto s = Store::Open(db);
  ASSERT_TRUE(s.value()->BeginRun(Info(), false).ok());
  EXPECT_TRUE(std::filesystem::exists(db + "-wal"));
}

TEST(Store, ReportsAnUnopenableFile) {
  auto s = Store::Open("/nonexistent-dir/x.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("cannot open results store '/nonexistent-dir/x.db'"), std::string::npos) << s.error();
}

TEST(Export, CsvHasInputThenOutputColumnsAndQuotes) {
  const std::string csv = ExportCsv(Info(), {Row(0), Row(1, false)});
  EXPECT_EQ(csv,
            "index,feasible,reason,design.clock,design.hbm.stacks,tdp,reasons\n"
            "0,1,,1.5 GHz,8,100,\n"
            "1,0,\"too hot, \"\"really\"\"\",1.5 GHz,8,101,\n");
}

TEST(Export, JsonHoldsTheRunAndEveryPoint) {
  const auto j = ExportJson(Info(), {Row(0)});
  EXPECT_EQ(j["run"], "r1");
  EXPECT_EQ(j["definition"]["method"], "grid");
  EXPECT_EQ(j["points"][0]["input"]["design.hbm.stacks"], "8");
  EXPECT_EQ(j["points"][0]["output"]["tdp"], 100);
}

}  // namespace
}  // namespace pf::store
