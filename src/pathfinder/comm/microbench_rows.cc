// Parsing a collective microbenchmark row's size text and predicting it in its unit.
#include "pathfinder/comm/microbench_rows.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <regex>

#include "pathfinder/comm/collective.h"
#include "pathfinder/comm/topology.h"
#include "pathfinder/core/strings.h"
#include "pathfinder/core/units_parse.h"

namespace pf::comm {
namespace {

bool Has(const std::string& hay, const std::string& needle) { return ToLower(hay).find(ToLower(needle)) != std::string::npos; }

// The first integer after `key` (e.g. "EP=" or "hidden "), or `def`.
long IntAfter(const std::string& s, const std::string& key, long def) {
  const size_t p = ToLower(s).find(ToLower(key));
  if (p == std::string::npos) return def;
  size_t i = p + key.size();
  while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size()) return def;
  return std::strtol(s.c_str() + i, nullptr, 10);
}

// "payload 64MiB", "1 x 4.0GB payload", "1000 x 0.004GB payloads" → bytes of one call.
double PayloadBytes(const std::string& s) {
  static const std::regex re(R"(([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B))");
  std::smatch m;
  if (!std::regex_search(s, m, re)) return 0;
  auto r = ParseQuantity<Bytes>(m[1].str() + " " + m[2].str());
  return r.ok() ? r.value().value() : 0;
}

long Ranks(const MicrobenchRow& row) {
  if (row.chips > 0) return row.chips;
  long r = IntAfter(row.size_params, "EP=", 0);
  if (r == 0) {
    static const std::regex re(R"(([0-9]+)\s*ranks)");
    std::smatch m;
    if (std::regex_search(row.size_params, m, re)) r = std::strtol(m[1].str().c_str(), nullptr, 10);
  }
  return r;
}

// A cluster of at least `n` chips (whole scale-up domains, and at least two when it has a
// scale-out network, so that the NIC level exists for kernels that use it inside a domain).
hw::Cluster Sized(hw::Cluster c, long n) {
  const long d = std::max(1, c.scale_up.chips);
  c.chips = std::max(c.scale_out.nic_bandwidth.value() > 0 ? 2 * d : d, (n + d - 1) / d * d);
  c.sites.count = 1;
  return c;
}

double GBps(BytesPerSec b) { return b.value() / 1e9; }

// A bus-bandwidth row's unit in GB/s: 8 for gigabits ("Gb/s"; case matters: "GB/s" is
// bytes), 1 for gigabytes, nullopt for anything else.
std::optional<double> BusUnitPerGBps(const std::string& unit) {
  if (unit.find("Gb/s") != std::string::npos) return 8.0;
  if (Has(unit, "GB/s")) return 1.0;
  return std::nullopt;
}

// The collective whose bus bandwidth a row of `kind` states (nccl-tests' busbw: the payload
// over the time, times 2(n−1)/n for an all-reduce and (n−1)/n for the other two).
std::optional<Collective> BusBandwidthCollective(const std::string& kind) {
  if (kind == "allreduce_busbw") return Collective::kAllReduce;
  if (kind == "allgather_busbw") return Collective::kAllGather;
  if (kind == "reducescatter_busbw") return Collective::kReduceScatter;
  return std::nullopt;
}

}  // namespace

bool IsCollectiveKind(const std::string& kind) {
  return BusBandwidthCollective(kind).has_value() || kind.rfind("moe_alltoall_", 0) == 0 ||
         kind == "p2p_copy_bandwidth" || kind.rfind("effective_bisection_bandwidth", 0) == 0;
}

Issuer IssuerOfRow(const MicrobenchRow& row) {
  const std::string text = row.size_params + " " + row.source + " " + row.notes;
  if (Has(text, "all_reduce_bench.py")) return Issuer::kTorchAfterBarrier;  // timed_allreduce: barrier, then one call
  for (const char* torch : {"all_reduce_latency_comp.py", "torch.distributed"})
    if (Has(text, torch)) return Issuer::kTorchDistributed;
  return Issuer::kLibrary;  // nccl-tests (all_reduce_perf) and rows that name no harness
}

std::string ClusterPresetForRow(const MicrobenchRow& row) {
  const std::string& h = row.hardware;
  const std::string& c = row.chip_preset;
  if (Has(h, "H800") || c == "h800-sxm") return "hgx-h800";
  if (Has(h, "B200") || c == "b200") {
    return Has(h, "EFA") || Has(h, "nodes") || Has(row.source, "P6-B200") ? "aws-p6-b200" : "hgx-b200";
  }
  if (Has(h, "H200") || c == "h200-sxm") return Has(h, "EFA") || Has(h, "p5en") ? "aws-p5en-h200" : "dgx-h200";
  if (Has(h, "H100") || c == "h100-sxm") return "dgx-h100";
  if (Has(h, "A100") || c.rfind("a100", 0) == 0) return "dgx-a100";
  if (Has(h, "MI300X") || c == "mi300x") return "mi300x-platform";
  if (Has(h, "GB200") || c == "gb200") return "gb200-nvl72";
  return "";
}

MicrobenchPrediction PredictMicrobenchRow(const MicrobenchRow& row, const hw::Cluster& cluster) {
  MicrobenchPrediction out;
  const std::string& k = row.kind;
  const std::string unit = row.unit;
  if (const std::optional<Collective> coll = BusBandwidthCollective(k)) {
    const long n = Ranks(row);
    const double S = PayloadBytes(row.size_params);
    if (n < 2 || S <= 0) return {false, 0, "could not read the rank count or payload from '" + row.size_params + "'", ""};
    const Network net(Sized(cluster, n));
    auto g = MakeGroup(net, 1, n);
    if (!g.ok()) return {false, 0, g.error(), ""};
    Algorithm a = Algorithm::kAuto;
    if (Has(row.size_params, "Ring")) a = Algorithm::kRing;  // the row says the run was forced to ring
    const Issuer issuer = IssuerOfRow(row);
    const Estimate e = EstimateCollective(net, g.value(), *coll, Bytes(S), a, issuer);
    const std::optional<double> per_GBps = BusUnitPerGBps(unit);
    if (!per_GBps) return {false, 0, "unit '" + unit + "' not understood", ""};
    const double v = GBps(e.busbw) * *per_GBps;
    out.ok = true;
    out.value = v;
    out.detail = fmt::format("{} ranks, {}/{}, bound by {} ({}), time {}", n, AlgorithmName(e.algorithm), ProtocolName(e.protocol),
                             LevelKindName(net.level(e.bound_level).kind), net.level(e.bound_level).link, ToString(e.time));
    if (e.channel_fraction < 1) out.detail += fmt::format(", {:.0f}% of NCCL's channels", 100 * e.channel_fraction);
    if (e.chunk.value() > 0) out.detail += fmt::format(", {:g} KiB NVLS chunks", e.chunk.value() / 1024);
    if (e.overhead.value() > 0) {
      out.detail +=
          issuer == Issuer::kTorchAfterBarrier
              ? fmt::format(", incl. {} torch.distributed launch and wait for the last rank to leave dist.barrier()",
                            ToString(e.overhead))
              : fmt::format(", incl. {} {} call overhead", ToString(e.overhead), IssuerName(issuer));
    }
    return out;
  }
  if (k.rfind("moe_alltoall_", 0) == 0) {
    const long n = Ranks(row);
    if (n < 2) return {false, 0, "no EP size in '" + row.size_params + "'", ""};
    const Network net(Sized(cluster, n));
    auto g = MakeGroup(net, 1, n);
    if (!g.ok()) return {false, 0, g.error(), ""};
    MoeExchange m;
    static const std::regex tok_re(R"(([0-9]+)\s*tokens)"), top_re(R"(top-([0-9]+)(\s+groups)?)");
    std::smatch sm;
    if (std::regex_search(row.size_params, sm, tok_re)) m.tokens = std::strtol(sm[1].str().c_str(), nullptr, 10);
    m.hidden = IntAfter(row.size_params, "hidden", 7168);
    for (auto it = std::sregex_iterator(row.size_params.begin(), row.size_params.end(), top_re); it != std::sregex_iterator(); ++it) {
      const int v = static_cast<int>(std::strtol((*it)[1].str().c_str(), nullptr, 10));
      if ((*it)[2].matched) m.node_limit = v;
      else m.top_k = v;
    }
    // Dispatch in FP8 carries one float scale per 128 elements (DeepEP/DeepSeek-V3 FP8
    // format); combine is BF16.
    m.bytes_per_element = Has(k, "dispatch") ? 1.0 + 4.0 / 128.0 : 2.0;
    m.low_latency = Has(k, "lowlatency");
    const MoeEstimate e = EstimateMoeExchange(net, g.value(), m);
    out.ok = true;
    if (Has(unit, "us")) out.value = e.time.value() * 1e6;
    else if (Has(unit, "GB/s")) out.value = GBps(e.bottleneck_bw);
    else return {false, 0, "unit '" + unit + "' not understood", ""};
    out.detail = fmt::format("EP {}, {} tokens, {} per rank over the NICs, bound by {}", n, m.tokens, ToString(e.network_bytes),
                             LevelKindName(net.level(e.bound_level).kind));
    return out;
  }
  if (k == "p2p_copy_bandwidth") {
    const Network net(Sized(cluster, 2));
    auto g = MakeGroup(net, 1, 2);
    if (!g.ok()) return {false, 0, g.error(), ""};
    const Estimate e = EstimateCollective(net, g.value(), Collective::kSendRecv, Bytes(1e9), Algorithm::kDirect);
    const bool both = Has(row.size_params, "bidirectional") || Has(unit, "both directions");
    out.ok = true;
    out.value = GBps(e.algbw) * (both ? 2.0 : 1.0);
    out.detail = fmt::format("one 1 GB copy over {}{}", net.level(e.bound_level).link, both ? ", both directions at once" : "");
    return out;
  }
  if (k.rfind("effective_bisection_bandwidth", 0) == 0) {
    // Bytes per second crossing the cluster's bisection, in one direction, while the groups
    // of the named kind all communicate; each chip streams through its own scale-out NIC
    // (one rail per chip). Pipeline p2p: only the chips at the stage boundary that
    // straddles the bisection send across (TP·DP of them). Data-parallel all-reduce: each
    // data-parallel group of DP chips runs a ring, and a cut that halves every group is
    // crossed by two of its ring's edges, one per direction, so N/DP NIC streams cross
    // each way. (Every chip streaming at its NIC rate with half of it crossing, N/2 NICs,
    // would be a uniform all-to-all's traffic, not a ring's.)
    long n = row.chips;
    if (n <= 0) return {false, 0, "chip count needed", ""};
    const Network net(Sized(cluster, n));
    const BytesPerSec nic = net.levels() > 1 ? net.level(1).bandwidth : net.level(0).bandwidth;
    double v = 0;
    std::string streams;
    if (Has(k, "pipeline")) {
      const long tp = IntAfter(row.size_params, "TP=", 1), dp = IntAfter(row.size_params, "DP=", 1);
      v = double(tp * dp) * nic.value();
      streams = fmt::format("{} stage-boundary senders (TP·DP)", tp * dp);
    } else {
      const long dp = IntAfter(row.size_params, "DP=", 0);
      if (dp < 2 || n % dp != 0)
        return {false, 0,
                "the data-parallel degree is needed (size_params 'DP=<d>', d ≥ 2 dividing the chip count; "
                "data/validation/microbench-settings.csv adds it for a row that leaves it out)",
                ""};
      v = double(n / dp) * nic.value();
      streams = fmt::format("{} data-parallel rings (N/DP)", n / dp);
    }
    out.ok = true;
    out.value = v / 1e9;
    if (!Has(unit, "GB/s")) return {false, 0, "unit '" + unit + "' not understood", ""};
    out.detail =
        fmt::format("{} × {:.1f} GB/s achieved NIC bandwidth, one direction; ignores training-time idle and overlap",
                    streams, nic.value() / 1e9);
    return out;
  }
  return {false, 0, "not a collective kind", ""};
}

std::optional<double> MeasuredCallSeconds(const MicrobenchRow& row, double measured) {
  const std::optional<Collective> coll = BusBandwidthCollective(row.kind);
  const std::optional<double> per_GBps = BusUnitPerGBps(row.unit);
  const long n = Ranks(row);
  const double S = PayloadBytes(row.size_params);
  if (!coll || !per_GBps || n < 2 || S <= 0 || !(measured > 0)) return std::nullopt;
  return S * BusFactor(*coll, n) / (measured / *per_GBps * 1e9);
}

std::map<size_t, std::string> SweepOutliers(const std::vector<MicrobenchRow>& rows, const std::vector<double>& measured,
                                            const std::vector<std::string>& ids) {
  struct Call {
    size_t index;
    double bytes, seconds;
  };
  std::map<std::string, std::vector<Call>> sweeps;
  for (size_t i = 0; i < rows.size() && i < measured.size() && i < ids.size(); ++i) {
    const auto t = MeasuredCallSeconds(rows[i], measured[i]);
    if (!t) continue;
    const std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", rows[i].kind, rows[i].hardware, Ranks(rows[i]),
                                        rows[i].source, rows[i].notes);
    sweeps[key].push_back({i, PayloadBytes(rows[i].size_params), *t});
  }
  std::map<size_t, std::string> out;
  for (const auto& [key, calls] : sweeps) {
    for (const Call& c : calls) {
      const Call* worst = nullptr;  // the larger payload whose call was fastest against c
      for (const Call& d : calls)
        if (d.bytes > c.bytes && c.seconds > kSweepOutlierFactor * d.seconds && (!worst || d.seconds < worst->seconds))
          worst = &d;
      if (!worst) continue;
      out[c.index] = fmt::format(
          "measured {} for {}, {:.1f}x the {} that {} took for {:.0f}x the bytes in the same sweep: it timed something "
          "besides the collective",
          ToString(Seconds(c.seconds)), ToString(Bytes(c.bytes)), c.seconds / worst->seconds,
          ToString(Seconds(worst->seconds)), ids[worst->index], worst->bytes / c.bytes);
    }
  }
  return out;
}

}  // namespace pf::comm
