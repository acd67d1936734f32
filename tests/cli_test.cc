// The pathfinder binary end to end on good input: presets, explain, model counts, check
// and the --dump-config round trip.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

namespace {
namespace fs = std::filesystem;

struct RunResult {
  std::string out;
  int exit_code = -1;
};

RunResult RunPf(const std::string& args) {
  RunResult r;
  FILE* p = popen(("'" PF_BIN "' " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

int CountLines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, PresetsChipsListsAtLeastTwentyFiveChips) {
  const auto r = RunPf("presets chips");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // "chips (N)" header, column header, rule, N rows, blank line.
  const int n = std::stoi(r.out.substr(r.out.find('(') + 1));
  EXPECT_GE(n, 25);
  EXPECT_EQ(CountLines(r.out), n + 4);
  EXPECT_NE(r.out.find("h100-sxm"), std::string::npos);
  EXPECT_NE(r.out.find("989.4 TFLOP/s"), std::string::npos);
}

TEST(Cli, PresetsOfEveryKindLoadWithoutErrors) {
  for (const char* kind : {"models", "memory", "nodes", "links", "packaging"}) {
    const auto r = RunPf(std::string("presets ") + kind);
    EXPECT_EQ(r.exit_code, 0) << kind << ": " << r.out;
    EXPECT_GT(CountLines(r.out), 4) << kind;
  }
}

TEST(Cli, UnknownPresetKindSuggestsTheClosest) {
  const auto r = RunPf("presets chip");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "error: unknown preset kind 'chip'; did you mean 'chips'?\n");
}

TEST(Cli, ExplainShowsValueUnitAndSource) {
  const auto r = RunPf("explain h100-sxm");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("chip preset h100-sxm"), std::string::npos);
  // The bf16 row: value and unit kind, and a non-empty source column.
  const auto pos = r.out.find("peak.bf16");
  ASSERT_NE(pos, std::string::npos);
  const std::string line = r.out.substr(pos, r.out.find('\n', pos) - pos);
  EXPECT_NE(line.find("989.4 TFLOP/s"), std::string::npos) << line;
  EXPECT_NE(line.find("FLOP rate"), std::string::npos) << line;
  EXPECT_GT(line.size(), 60u) << "source column missing: " << line;
}

TEST(Cli, ModelJsonMatchesThePublishedCount) {
  const auto r = RunPf("model llama-3-70b --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["total_params"].get<double>() / 70.6e9, 1.0, 0.01);
  EXPECT_DOUBLE_EQ(j["kv_cache_bytes_per_token_bf16"].get<double>(), 2.0 * 80 * 8 * 128 * 2);
}

// Every example is valid input for its command: design files for `design`, sweep files
// for `sweep` (exercised by the sweep tests), everything else is a scenario for `check`.
TEST(Cli, EveryExampleIsValidInputForItsCommand) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(PF_EXAMPLES_DIR)) {
    if (e.path().extension() != ".yaml") continue;
    const std::string stem = e.path().stem().string();
    if (stem.rfind("sweep-", 0) == 0) continue;
    ++n;
    const std::string cmd = stem.rfind("design-", 0) == 0 ? "design" : "check";
    const auto r = RunPf(cmd + " '" + e.path().string() + "'");
    EXPECT_EQ(r.exit_code, 0) << e.path() << ": " << r.out;
  }
  EXPECT_GE(n, 10);
}

// Activation offloading shows in `train`: its exposed part in the step table, what moves
// over which host link under the memory table, and breakdown_s.offload in --json.
TEST(Cli, TrainShowsActivationOffload) {
  const std::string example = std::string(PF_EXAMPLES_DIR) + "/train-llama3-70b-gb200-offload.yaml";
  const auto r = RunPf("train '" + example + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("activation offload (exposed)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("activation offload: 48 layers per stage"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over NVLink-C2C (225 GB/s per direction)"), std::string::npos) << r.out;
  const auto j = RunPf("train --json '" + example + "'");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  const auto doc = nlohmann::json::parse(j.out);
  ASSERT_TRUE(doc["breakdown_s"].contains("offload")) << j.out;
  EXPECT_GE(doc["breakdown_s"]["offload"].get<double>(), 0.0);
}

TEST(Cli, DumpConfigReloadsToTheSameScenario) {
  const fs::path dir = fs::temp_directory_path() / ("pf_dump_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string example = std::string(PF_EXAMPLES_DIR) + "/llama3-70b-h100-96gb.yaml";
  const auto first = RunPf("check '" + example + "' --dump-config '" + (dir / "a.yaml").string() + "'");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  const auto second = RunPf("check '" + (dir / "a.yaml").string() + "' --dump-config '" + (dir / "b.yaml").string() + "'");
  ASSERT_EQ(second.exit_code, 0) << second.out;
  std::ifstream a(dir / "a.yaml"), b(dir / "b.yaml");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
  // The override is in the resolved file.
  EXPECT_NE(sa.str().find("capacity: 96 GB"), std::string::npos) << sa.str();
  fs::remove_all(dir);
}

// docs/fields.md is generated from the field tables; it must never go stale.
TEST(Cli, FieldDocsMatchTheFieldTables) {
  const auto r = RunPf("schema --markdown");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(std::string(PF_SOURCE_DIR) + "/docs/fields.md");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), r.out) << "docs/fields.md is stale: run `make docs`";
}

TEST(Cli, VersionAndHelpWork) {
  const auto v = RunPf("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("pathfinder ", 0), 0u) << v.out;
  for (const char* sub : {"presets", "explain", "check", "model"}) {
    const auto h = RunPf(std::string(sub) + " --help");
    EXPECT_EQ(h.exit_code, 0) << sub;
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << sub << ": " << h.out;
  }
}

}  // namespace

namespace {

// `pathfinder plan` on the 1 024-H100 Llama-3-70B example: the same plan for one and two
// threads, and its best layout at least as fast as the example's hand-written one (which
// lies in the default space: tp 8, pp 4, micro-batch 1, ZeRO-1, selective recompute).
TEST(Cli, PlanTrainIsDeterministicAndBeatsTheHandLayout) {
  const std::string example = std::string(PF_EXAMPLES_DIR) + "/train-llama3-70b-1024xh100.yaml";
  const auto one = RunPf("plan '" + example + "' --top 5 --json --threads 1");
  const auto two = RunPf("plan '" + example + "' --top 5 --json --threads 2");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  ASSERT_EQ(two.exit_code, 0) << two.out;
  auto a = nlohmann::json::parse(one.out)["plans"][0];
  auto b = nlohmann::json::parse(two.out)["plans"][0];
  a.erase("seconds");
  b.erase("seconds");
  EXPECT_EQ(a, b);
  ASSERT_EQ(a["top"].size(), 5u);
  const auto hand = RunPf("train '" + example + "' --json");
  ASSERT_EQ(hand.exit_code, 0) << hand.out;
  const double hand_tps = nlohmann::json::parse(hand.out)["tokens_per_s"].get<double>();
  EXPECT_GE(a["top"][0]["tokens_per_s"].get<double>(), hand_tps);
  size_t infeasible = 0;
  for (const auto& r : a["infeasible"]) infeasible += r["count"].get<size_t>();
  EXPECT_EQ(a["feasible"].get<size_t>() + infeasible, a["enumerated"].get<size_t>());
}

// Serving plan with a demand: replicas = ⌈demand / rate per replica⌉, chips = replicas ×
// chips per replica, and every listed shape met the SLOs at its rate.
TEST(Cli, PlanServeProvisionsTheDemand) {
  const std::string example = std::string(PF_EXAMPLES_DIR) + "/serve-llama3.3-70b-8xh100.yaml";
  const auto r = RunPf("plan '" + example +
                       "' --json --top 3 --tp 2,4 --pp 1 --max-batch 128 --requests 100 --slo ttft=2s,tpot=100ms --demand 500");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto plan = nlohmann::json::parse(r.out)["plans"][0];
  ASSERT_FALSE(plan["top"].empty());
  for (const auto& t : plan["top"]) {
    const double rate = t["max_rate_requests_per_s"].get<double>();
    ASSERT_GT(rate, 0);
    const long replicas = t["demand"]["replicas"].get<long>();
    EXPECT_GE(replicas * rate, 500.0 - 1e-6);
    EXPECT_LT((replicas - 1) * rate, 500.0);
    EXPECT_EQ(t["demand"]["chips"].get<long>(), replicas * t["chips_per_replica"].get<long>());
    // h100-sxm has a price: $/hour = $/chip-hour × chips.
    EXPECT_NEAR(t["demand"]["usd_per_hour"].get<double>(),
                t["demand"]["usd_per_chip_hour"].get<double>() * double(t["demand"]["chips"].get<long>()), 1e-6);
    EXPECT_GT(t["demand"]["usd_per_chip_hour"].get<double>(), 0.5);
    EXPECT_LE(t["tpot_p_slo_s"].get<double>(), 0.1);
    EXPECT_LE(t["ttft_p_slo_s"].get<double>(), 2.0);
  }
}

}  // namespace

// The power cap fed back into the run: an H100 held to 200 W (train) or 150 W (serve) is
// re-simulated at the throttled clock — slower than at the nominal clock, its power on the
// cap, MFU still a share of the datasheet peak. At its real 700 W neither throttles.
TEST(Cli, PowerCapReSimulatesTrainAndServeAtTheThrottledClock) {
  const fs::path dir = fs::temp_directory_path() / ("pf_cap_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return "'" + (dir / name).string() + "'";
  };
  const std::string train =
      "name: capped\nmodel: llama-3-8b\nparallelism: {dp: 8}\n"
      "train: {seq_len: 4096, global_batch: 64, micro_batch: 1, precision: bf16}\n";
  const auto hot = RunPf("train --json " + write("t200.yaml", "chip: {preset: h100-sxm, tdp: 200 W}\n" + train));
  // An H100 training at its own 700 W throttles (as measured: data/measurements/); 3000 W does not bind.
  const auto cool = RunPf("train --json " + write("t3000.yaml", "chip: {preset: h100-sxm, tdp: 3000 W}\n" + train));
  ASSERT_EQ(hot.exit_code, 0) << hot.out;
  ASSERT_EQ(cool.exit_code, 0) << cool.out;
  const auto h = nlohmann::json::parse(hot.out), c = nlohmann::json::parse(cool.out);
  ASSERT_TRUE(h["power"]["throttled"].get<bool>());
  EXPECT_FALSE(c["power"]["throttled"].get<bool>());
  const double ratio = h["power"]["clock_ratio"].get<double>();
  EXPECT_GT(ratio, 0.5);
  EXPECT_LT(ratio, 1.0);
  // Same step at the nominal clock (only the TDP differs), slower once throttled, but by
  // less than 1/ratio (the memory-bound part does not stretch).
  const double nominal = h["power"]["nominal_clock_step_time_s"].get<double>();
  EXPECT_NEAR(nominal, c["step_time_s"].get<double>(), 1e-9 * nominal);
  EXPECT_GT(h["step_time_s"].get<double>(), nominal);
  EXPECT_LE(h["step_time_s"].get<double>(), nominal / ratio * (1 + 1e-9));
  EXPECT_LE(h["power"]["chip_w"].get<double>(), 200.0 * (1 + 1e-6));
  EXPECT_GT(h["power"]["chip_w"].get<double>(), 200.0 * 0.99);
  EXPECT_NEAR(h["mfu"].get<double>() / c["mfu"].get<double>(), nominal / h["step_time_s"].get<double>(), 1e-6);

  const std::string serve =
      "name: capped\nmodel: llama-3-8b\nserve:\n  workload: {requests: 300, input: {mean: 1000}, output: {mean: 200}}\n"
      "  weights: fp8\n";
  const auto sh = RunPf("serve --json " + write("s150.yaml", "chip: {preset: h100-sxm, tdp: 150 W}\n" + serve));
  const auto sc = RunPf("serve --json " + write("s700.yaml", "chip: {preset: h100-sxm, tdp: 700 W}\n" + serve));
  ASSERT_EQ(sh.exit_code, 0) << sh.out;
  ASSERT_EQ(sc.exit_code, 0) << sc.out;
  const auto x = nlohmann::json::parse(sh.out), y = nlohmann::json::parse(sc.out);
  ASSERT_TRUE(x["power"]["throttled"].get<bool>());
  EXPECT_FALSE(y["power"]["throttled"].get<bool>());
  EXPECT_LT(x["summary"]["output_tokens_per_s"].get<double>(), y["summary"]["output_tokens_per_s"].get<double>());
  EXPECT_GT(x["summary"]["tpot"]["mean_s"].get<double>(), y["summary"]["tpot"]["mean_s"].get<double>());
  EXPECT_NEAR(x["power"]["nominal_clock_span_s"].get<double>(), y["summary"]["span_s"].get<double>(), 1e-9);
  EXPECT_LE(x["power"]["chip_w"].get<double>(), 150.0 * (1 + 1e-6));
  fs::remove_all(dir);
}

// FSDP's gathers and reduce-scatters hidden behind the layers still cost the compute beside
// them on a GPU: the table names that part of the exposed FSDP time with the CTAs it assumed,
// --json carries it, and fewer CTAs cost less.
TEST(Cli, TrainNamesWhatHiddenCollectivesCostTheCompute) {
  const fs::path dir = fs::temp_directory_path() / ("pf_beside_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, int ctas) {
    std::ofstream(dir / name) << "name: fsdp\ncluster: {preset: dgx-h100, chips: 64}\nmodel: llama-3-8b\n"
                                 "parallelism: {dp: 64}\ntrain: {seq_len: 4096, global_batch: 128, micro_batch: 2, "
                                 "precision: bf16, zero_stage: 3, collective_ctas: "
                              << ctas << "}\n";
    return "'" + (dir / name).string() + "'";
  };
  const auto text = RunPf("train " + write("c32.yaml", 32));
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("FSDP + DP: compute slowed beside them (32 CTAs)"), std::string::npos) << text.out;
  const auto j32 = RunPf("train --json " + write("c32.yaml", 32)), j8 = RunPf("train --json " + write("c8.yaml", 8));
  ASSERT_EQ(j32.exit_code, 0) << j32.out;
  ASSERT_EQ(j8.exit_code, 0) << j8.out;
  const auto a = nlohmann::json::parse(j32.out)["breakdown_s"], b = nlohmann::json::parse(j8.out)["breakdown_s"];
  EXPECT_GT(b["beside_collectives"].get<double>(), 0.0);
  EXPECT_GT(a["beside_collectives"].get<double>(), b["beside_collectives"].get<double>());
  EXPECT_LE(a["beside_collectives"].get<double>(), a["fsdp_comm"].get<double>() + a["dp_comm"].get<double>());
  fs::remove_all(dir);
}

// `collective --issuer torch` adds torch.distributed's per-call overhead to the library's
// time and changes nothing else (the overhead comes from the paired H200 rows, comm/).
TEST(Cli, CollectiveIssuerAddsThePerCallOverheadOnly) {
  const std::string base = "collective allreduce --cluster dgx-h200 --chips 8 --size 4MB --group dp --json";
  const auto lib = RunPf(base), torch = RunPf(base + " --issuer torch");
  ASSERT_EQ(lib.exit_code, 0) << lib.out;
  ASSERT_EQ(torch.exit_code, 0) << torch.out;
  const auto a = nlohmann::json::parse(lib.out), b = nlohmann::json::parse(torch.out);
  EXPECT_EQ(a["issue_overhead_s"].get<double>(), 0.0);
  const double o = b["issue_overhead_s"].get<double>();
  EXPECT_GT(o, 0.0);
  EXPECT_NEAR(b["time_s"].get<double>() - a["time_s"].get<double>(), o, 1e-12);
  EXPECT_EQ(a["algorithm"], b["algorithm"]);
  EXPECT_EQ(RunPf(base + " --issuer nccl").exit_code, 2);
}

// An NVLS all-reduce inside one P6-B200 node reports the chunk NCCL cuts it into (the
// plugin's 512 KiB at 8 GiB, 64 KiB at 1 GiB) and a sweep names it per size; across nodes
// (NVLS-tree) and for a ring there is none.
TEST(Cli, CollectiveReportsTheNvlsChunk) {
  const std::string base =
      "collective allreduce --cluster aws-p6-b200 --chips 8 --group dp --algorithm in-network --json";
  const auto big = RunPf(base + " --size 8GiB"), mid = RunPf(base + " --size 1GiB");
  ASSERT_EQ(big.exit_code, 0) << big.out;
  ASSERT_EQ(mid.exit_code, 0) << mid.out;
  EXPECT_EQ(nlohmann::json::parse(big.out)["chunk_bytes"].get<double>(), 512.0 * 1024);
  EXPECT_EQ(nlohmann::json::parse(mid.out)["chunk_bytes"].get<double>(), 64.0 * 1024);
  const auto nodes = RunPf(
      "collective allreduce --cluster aws-p6-b200 --chips 32 --group dp --algorithm in-network --size 1GiB --json");
  ASSERT_EQ(nodes.exit_code, 0) << nodes.out;
  EXPECT_EQ(nlohmann::json::parse(nodes.out)["chunk_bytes"].get<double>(), 0.0);
  const auto ring =
      RunPf("collective allreduce --cluster aws-p6-b200 --chips 8 --group dp --algorithm ring --size 1GiB --json");
  EXPECT_EQ(nlohmann::json::parse(ring.out)["chunk_bytes"].get<double>(), 0.0);
  const auto sweep =
      RunPf("collective allreduce --cluster aws-p6-b200 --chips 8 --group dp --algorithm in-network --sweep-sizes");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.out;
  EXPECT_NE(sweep.out.find("16 KiB chunks"), std::string::npos) << sweep.out;
  EXPECT_NE(sweep.out.find("512 KiB chunks"), std::string::npos) << sweep.out;
}

// `serve --trace` writes one slice per iteration whose parts (linear, attention,
// communication, host, drafter) add up to its duration, and `--json` reports the run's
// busy time by part as shares that sum to one (TP2 spends some of it in all-reduces).
TEST(Cli, ServeTraceAndJsonSplitIterationTimeByPart) {
  const fs::path dir = fs::temp_directory_path() / ("pf_split_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path scenario = dir / "s.yaml", trace = dir / "t.json";
  std::ofstream(scenario) << "name: split\nchip: {preset: h100-sxm}\nmodel: llama-3-8b\nparallelism: {tp: 2}\n"
                             "serve:\n  workload: {requests: 100, input: {mean: 500}, output: {mean: 50}}\n"
                             "  weights: fp8\n";
  const auto r = RunPf("serve --json --trace '" + trace.string() + "' '" + scenario.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out)["summary"]["busy_share"];
  double sum = 0;
  for (const char* k : {"linear", "attention", "communication", "host", "draft"}) sum += j[k].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_GT(j["communication"].get<double>(), 0);
  std::ifstream in(trace);
  const auto t = nlohmann::json::parse(in);
  int slices = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++slices;
    const auto& a = e["args"];
    const double parts = a["linear_ms"].get<double>() + a["attention_ms"].get<double>() +
                         a["communication_ms"].get<double>() + a["host_ms"].get<double>() + a["draft_ms"].get<double>();
    EXPECT_NEAR(parts * 1e3, e["dur"].get<double>(), 1e-3 * e["dur"].get<double>());  // ms vs µs, float parts
  }
  EXPECT_GT(slices, 10);
  fs::remove_all(dir);
}

// `serve` flags are held to the rules of the scenario fields they override: a rate that is
// not a positive finite number, one that spreads the requests past the simulator's 10^9 s,
// and SLO limits of 0 s, below 0 or past 10^24 s were ignored or ran (nan passed
// CLI::PositiveNumber); each is now exit 2 naming the flag's value. A good rate still runs.
TEST(Cli, ServeRefusesARateOrAnSloItCannotUse) {
  const std::string example = "'" + std::string(PF_EXAMPLES_DIR) + "/serve-llama3.3-70b-8xh100.yaml'";
  const auto ok = RunPf("serve --requests 40 --rate 4 " + example);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  const std::pair<const char*, const char*> bad[] = {
      {"--rate nan", "'nan' is not a positive number"},
      {"--rate inf", "'inf' is not a positive number"},
      {"--rate 1e-300", "beyond the 1e+09 s"},
      {"--slo ttft=0s", "ttft: '0s' is not a time limit"},
      {"--slo tpot=-5ms", "tpot: '-5ms' is not a time limit"},
      {"--slo e2e=1e308s", "e2e: '1e308s' is not a time limit"},
      {"--slo ttft=2s,p=0", "percentile '0' is not in [1, 100]"},
  };
  for (const auto& [flags, message] : bad) {
    const auto r = RunPf(std::string("serve --requests 40 ") + flags + " " + example);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << flags << "\n" << r.out;
  }
}
