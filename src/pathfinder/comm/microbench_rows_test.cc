// The collective rows of the microbenchmark validation set: predicted in their own unit,
// with the error printed per row and as MAPE. These rows are held out: nothing in
// data/clusters was set from them. The thresholds asserted here are loose sanity bounds;
// the targets (MAPE ≤ 10 %, max ≤ 30 %) are reported, not enforced.
#include "pathfinder/comm/microbench_rows.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "pathfinder/spec/cluster_spec.h"

namespace pf::comm {
namespace {

std::vector<std::string> ParseCsvLine(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (ch == '"') quoted = false;
      else out.back() += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  return out;
}

// "32x NVIDIA B200 (...)" → 32; "3072x A100-80GB" → 3072; otherwise 0.
long LeadingCount(const std::string& h) {
  size_t i = 0;
  while (i < h.size() && std::isdigit(static_cast<unsigned char>(h[i]))) ++i;
  if (i > 0 && i < h.size() && (h[i] == 'x' || h[i] == 'X')) return std::stol(h.substr(0, i));
  return 0;
}

TEST(MicrobenchRows, PredictsTheCollectiveRowsAndReportsTheError) {
  std::ifstream in(std::string(PF_SHARED_DIR) + "/validation/microbench_results.csv");
  if (!in) GTEST_SKIP() << "validation set not found";
  std::string line;
  std::getline(in, line);
  std::map<std::string, hw::Cluster> clusters;
  struct Err { std::string id; double measured, predicted, ape; std::string group; };
  std::vector<Err> errs;
  int skipped = 0;
  while (std::getline(in, line)) {
    auto f = ParseCsvLine(line);
    if (f.size() < 6 || !IsCollectiveKind(f[2])) continue;
    MicrobenchRow row{f[2], f[1], "", LeadingCount(f[1]), f[3], f[5]};
    if (f[1].find("pair") != std::string::npos) row.chips = 2;
    const std::string preset = ClusterPresetForRow(row);
    ASSERT_FALSE(preset.empty()) << f[0];
    if (!clusters.count(preset)) {
      Diagnostics d;
      auto c = spec::LoadClusterPreset(preset, d);
      ASSERT_TRUE(c) << d.Render();
      clusters[preset] = *c;
    }
    const auto p = PredictMicrobenchRow(row, clusters[preset]);
    const double measured = std::stod(f[4]);
    if (!p.ok) {
      ++skipped;
      fmt::print("{:36} skipped: {}\n", f[0], p.skip);
      continue;
    }
    const double ape = std::fabs(p.value - measured) / measured * 100.0;
    const std::string group = f[2].rfind("effective_bisection", 0) == 0 ? "bisection" : "collective";
    errs.push_back({f[0], measured, p.value, ape, group});
    fmt::print("{:36} {:>10.4g} {:>10.4g} {:>7.1f}%  {} [{}] {}\n", f[0], measured, p.value, ape, f[5], preset, p.detail);
  }
  for (const std::string g : {"collective", "bisection"}) {
    double sum = 0, mx = 0;
    int n = 0;
    for (auto& e : errs)
      if (e.group == g) sum += e.ape, mx = std::max(mx, e.ape), ++n;
    if (n) fmt::print("{} rows: {}, MAPE {:.1f}%, max {:.1f}%\n", g, n, sum / n, mx);
  }
  EXPECT_EQ(skipped, 0);
  EXPECT_GE(errs.size(), 30u);
}

}  // namespace
}  // namespace pf::comm
