// Closed-form α-β cost of each collective algorithm over the levels a group spans.
//
// Notation (per group): f_L = fan-out at level L (members per level-L block / per level-(L−1)
// block), P_L = Π_{j<L} f_j = members sharing one level-(L−1) block, so P_L members send
// their level-L traffic in parallel over their own links; B_L = achieved per-member
// bandwidth at level L; n = Π f_L. A pipelined ring moves 2(n−1)/n·S per rank and its
// level-L share goes over P_L members' links, so its bandwidth time is
// 2(n−1)/n · S · max_L 1/(P_L·B_L).
#include "pathfinder/comm/collective.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace pf::comm {
namespace {

// ---- NCCL's tuning model -------------------------------------------------------------
// Source: NVIDIA/nccl src/graph/tuning.cc at commit 5067397c (2026-06-11),
// ncclTunerConstantsDefaults (latencies in µs) and ncclTopoTuneModel (protocol factors).
// Index [protocol]: LL, LL128, Simple.
constexpr std::array<double, 3> kBaseLatTree = {6.8, 14.0, 8.4};
constexpr std::array<double, 3> kBaseLatRing = {6.6, 14.0, 8.4};
constexpr std::array<double, 3> kNvlinkLatTree = {0.6, 1.25, 4.0};
constexpr std::array<double, 3> kNvlinkLatRing = {0.6, 1.9, 3.4};
constexpr std::array<double, 3> kNetLatTree = {5.0, 8.5, 14.0};
constexpr std::array<double, 3> kNetLatRing = {2.7, 4.0, 14.0};
constexpr double kNvlsNvlinkLat = 25.0;      // NVLS, NVLink, Simple
constexpr double kNvlsTreeNetLat = 20.9;     // NVLSTree, network, Simple
constexpr double kCollNetNetLat = 31.0;      // CollNetDirect (SHARP), network, Simple
constexpr double kRingPlateau = 1.4;         // ring/Simple latency ×1.4 across nodes (sm80+)
// busBw factors: ring LL ×0.5, ring LL128 ×0.92; tree Simple ×0.92, LL ×1/3.8,
// LL128 ×7/9 on one node or ×120/128 across nodes.
constexpr std::array<double, 3> kRingProto = {0.5, 0.92, 1.0};
constexpr double kTreeSimple = 0.92, kTreeLL = 1.0 / 3.8, kTreeLL128One = 7.0 / 9.0, kTreeLL128Many = 120.0 / 128.0;
// treeCorrectionFactor[protocol][log2(bytes/64)], powers of two from 64 B to 256 MB.
constexpr double kTreeCorrection[3][24] = {
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0, 1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0, 1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9, .9}};

// ---- NCCL's channel count for small messages --------------------------------------------
// Source: NVIDIA/nccl at commit 5067397c. src/enqueue.cc (end of topoGetAlgoInfo): for ring
// and tree, nc starts at comm->nChannels and drops by one while nBytes < nc·nt·threadThreshold;
// src/graph/tuning.cc: threadThresholds LL 8, LL128 8, Simple 64 bytes per thread
// (src/include/comm.h NCCL_*_THREAD_THRESHOLD), ring LL ×nRanks; src/include/device.h:
// maxThreads LL 512, LL128 640, Simple 512 (NCCL_*_MAX_NTHREADS). Each channel is one CTA on
// its own share of the links, so nc of nChannels channels get nc/nChannels of the bandwidth.
// Index [protocol]: LL, LL128, Simple.
constexpr std::array<double, 3> kThreadThreshold = {8.0, 8.0, 64.0};
constexpr std::array<double, 3> kMaxThreads = {512.0, 640.0, 512.0};
// nChannels: NCCL's ring search finds 16 channels on an 18-link NVLink4/NVLink5 GPU and
// duplicates them (src/graph/connect.cc, "Connect rings and trees. This should also duplicate
// the channels"; NCCL maintainer sjeaugey in NVIDIA/nccl#1041: "Execution channels are
// typically 2x the search channels"); NCCL logs on 8-GPU Hopper/Blackwell nodes print
// "32 coll channels". The same count is used everywhere here: systems with fewer NVLinks
// (H800: 16 channels, NVIDIA/nccl#892 log) reach full bandwidth at half the size, so for them
// this overstates the time of messages under ~1 MiB.
constexpr double kCollChannels = 32.0;

constexpr double kUs = 1e-6;

// ---- NCCL's NVLS all-reduce inside one NVLink domain, chunk by chunk ----------------------
// NCCL cuts the payload over nChannels × nHeads concurrent operations (one head per member,
// at most NCCL_MAX_NVLS_ARITY = 32: src/include/device.h, src/graph/search.cc) and shrinks
// the chunk for smaller payloads (src/enqueue.cc, calcCollChunking, NCCL_ALGO_NVLS): from
// NCCL_NVLS_CHUNKSIZE to 64 KiB below 64 such loops, to 32 KiB below 8, to 16 KiB below 2
// (NVIDIA/nccl commit 5067397c; the same in 2.27.3). Where the cluster gives a measured
// chunk cost (hw::ScaleUpDomain), each operation moves its chunks one after another, a chunk
// taking the longer of its share of the switch and the fixed cost plus its bytes at the
// operation's rate, t(C) = max(C·ops/B_inr, cost + C/rate), and the last chunk adds one
// t(C) of pipeline drain.
constexpr double kMaxNvlsArity = 32.0;

// ---- Per-call overhead of torch.distributed ------------------------------------------------
// From the paired rows allreduce_h200_latency_1x4GB and allreduce_h200_latency_1000x4MB of
// shared/validation/microbench_results.csv (stas00/ml-engineering all_reduce_latency_comp.py,
// 8× H200, one node): the same 4·10⁹ bytes all-reduced once, and as 1000 back-to-back
// dist.all_reduce calls of 4·10⁶ bytes.
//   t(1×4GB)   = 4e9 B / (3722.778 Gb/s / 8 / 1.75) = 4e9 / 265.913e9 B/s = 15.0425 ms
//   t(1000×4MB) = 4e9 B / (1146.127 Gb/s / 8 / 1.75) = 4e9 / 81.866e9 B/s = 48.860 ms, 48.860 µs a call
// A call costs o + T(S), with T this file's library estimate. Over the two rows
//   1000·(o + T(4MB)) − (o + T(4GB)) = 48.860 ms − 15.0425 ms = 33.818 ms, so
//   o = [33.818 ms − (1000·T(4MB) − T(4GB))] / 999.
// On dgx-h200 (NVLS, NCCL's 25 µs NVLS latency) this file gives T(4MB) = 39.548 µs and
// T(4GB) = 14.573 ms, 1000·T(4MB) − T(4GB) = 24.975 ms, so o = (33.818 − 24.975) ms / 999
// = 8.85 µs. The per-call excess of the rows alone (48.860 − 15.043 = 33.8 µs) also holds
// NCCL's own per-call latency, which T already charges. comm/microbench_rows_test.cc
// recomputes o from the rows and this file's model and fails if the constant drifts from it;
// so these two rows are calibration, not validation. It is a host-side cost measured with one
// host CPU, torch and NCCL version, applied to every torch.distributed call. It is the part of
// a call the GPU waits for when calls follow each other; a call timed alone after a barrier
// (all_reduce_bench.py at ml-engineering commit 744d01e1) also waits for its whole launch,
// which this does not claim to cover (kTorchBarrierLaunch below does).
constexpr double kTorchDistributedCallOverhead = 8.85e-6;  // s

// ---- One torch.distributed call timed alone after dist.barrier() ---------------------------
// stas00/ml-engineering network/benchmarks/all_reduce_bench.py (timed_allreduce): barrier,
// start event, dist.all_reduce, end event, synchronize; the rate is averaged over ranks and
// 20 calls. Between the events the GPU waits for two things the library estimate T leaves
// out. (1) The call's whole host launch (Python, ProcessGroupNCCL, the NCCL enqueue): the
// start event fires at once on an idle stream. (2) The last rank: on NCCL, dist.barrier()
// is an all-reduce of one element followed by a synchronize, ranks leave it as their copy
// of it completes, and the timed call cannot end before the last rank has entered it. (2)
// is charged as the library estimate of the barrier itself, a 4-byte all-reduce on the same
// group, T(4 B): the wait of the rank that leaves first, an upper bound on the average.
// (1) is this constant, from the 1-node B200 sweep of network/README.md "Inter-node speed
// depends on intra-node speed" (P6-B200, torch 2.9.1+cu130, NCCL 2.27.7) at the payloads
// where bandwidth is negligible and that are not rows of shared/validation: 64, 128, 256
// and 512 KiB at 2.17, 4.86, 9.54, 18.71 GB/s busbw, i.e. t = S·1.75/busbw = 52.852,
// 47.197, 48.087, 49.038 µs. This file's T on hgx-b200 there is 17.627, 18.113, 20.366,
// 20.366 µs and T(4 B) = 15.001 µs, so the launch is mean(t − T) − T(4 B) = 30.176 − 15.001
// = 15.17 µs (comm/microbench_rows_test.cc recomputes it). The 32 KiB and 4-node rows of
// the same table, which are validation rows, were not used.
constexpr double kTorchBarrierLaunch = 15.17e-6;  // s

struct View {
  int levels = 0;
  long n = 1;
  std::array<long, kMaxLevels> f{};
  std::array<double, kMaxLevels> P{};   // members below (parallel senders)
  std::array<double, kMaxLevels> B{};   // B/s
  std::array<double, kMaxLevels> RB{};  // ring B/s
  std::array<bool, kMaxLevels> net{};
  std::array<double, kMaxLevels> extra{};  // s
  std::array<double, kMaxLevels> inr{};    // B/s
  double ring_simple_step = 0;             // level 0: measured Simple ring step, s (0 = NCCL's constant)
  double inr_channels = 0;                 // level 0: NVLS channels
  double inr_chunk = 0;                    // level 0: largest NVLS chunk, bytes
  double inr_chunk_cost = 0;               // level 0: s per chunk per operation; 0 = not priced
  double inr_head_rate = 0;                // level 0: B/s per operation
  bool any_net = false;
  int top = 0;  // highest active level
};

View MakeView(const Network& net, const Group& g) {
  View v;
  v.levels = g.levels;
  v.n = g.members;
  double below = 1;
  for (int L = 0; L < g.levels; ++L) {
    const size_t i = static_cast<size_t>(L);
    const Level& lv = net.level(L);
    v.f[i] = g.fanout[i];
    v.P[i] = below;
    below *= double(g.fanout[i]);
    v.B[i] = g.bw[i].value();
    v.RB[i] = g.ring_bw[i].value();
    v.net[i] = lv.network;
    v.extra[i] = lv.extra_latency.value();
    v.inr[i] = lv.in_network.value();
    if (L == 0) {
      v.ring_simple_step = lv.ring_simple_step.value();
      v.inr_channels = double(lv.in_network_channels);
      v.inr_chunk = lv.in_network_chunk.value();
      v.inr_chunk_cost = lv.in_network_chunk_cost.value();
      v.inr_head_rate = lv.in_network_head_rate.value();
    }
    if (g.fanout[i] > 1) {
      v.top = L;
      if (lv.network) v.any_net = true;
    }
  }
  return v;
}

// The bytes a ring (ring_ranks = n) or tree (0) of S bytes costs at full bandwidth once NCCL
// has spread it over fewer channels: S / (channels used / kCollChannels). NCCL drops whole
// channels; the continuous count keeps the time monotone in size (the real curve is a
// saw-tooth within one channel of it). Written without a division so that it is exactly
// flat where the channel count grows with S.
double ChannelBytes(double S, int p, long ring_ranks) {
  const size_t i = static_cast<size_t>(p);
  const double ranks = p == 0 && ring_ranks > 0 ? double(ring_ranks) : 1.0;  // ring LL only
  const double per_channel = kMaxThreads[i] * kThreadThreshold[i] * ranks;
  return std::max(S, kCollChannels * std::min(S, per_channel));
}
double ChannelShare(double S, int p, long ring_ranks) { return S > 0 ? S / ChannelBytes(S, p, ring_ranks) : 1.0; }

double Hop(const View& v, int L, bool tree, int p) {
  const size_t i = static_cast<size_t>(L);
  const double lib = v.net[i] ? (tree ? kNetLatTree : kNetLatRing)[static_cast<size_t>(p)]
                              : (tree ? kNvlinkLatTree : kNvlinkLatRing)[static_cast<size_t>(p)];
  return lib * kUs + v.extra[i];
}

int CeilLog2(long x) {
  int k = 0;
  while ((1L << k) < x) ++k;
  return k;
}

struct Cost {
  double bw = 0;   // s
  double lat = 0;  // s
  // s: what a measured cost adds to the library's own model (hw::ScaleUpDomain
  // ring_simple_step); part of the time, not of the choice, which the library makes alone.
  double unmodelled = 0;
  int bound = 0;
  double channels = 1;  // share of NCCL's channels used (ring, tree)
  double chunk = 0;     // NVLS inside one domain: NCCL's chunk, bytes
};

// Pipelined ring over all levels; `mult` = 2 for all-reduce, 1 for RS/AG; `torus_all`:
// level 0 uses every torus dimension at once.
Cost Ring(const View& v, const Group& g, double S, double mult, int p, bool torus_all) {
  Cost c;
  const double n = double(v.n);
  double worst = 0;
  for (int L = 0; L < v.levels; ++L) {
    const size_t i = static_cast<size_t>(L);
    if (v.f[i] <= 1) continue;
    const double b = (L == 0 && !torus_all) ? v.RB[i] : v.B[i];
    const double t = 1.0 / (v.P[i] * b * kRingProto[static_cast<size_t>(p)]);
    if (t > worst) worst = t, c.bound = L;
  }
  // Torus rings are not NCCL's: no channel ramp there.
  c.bw = mult * (n - 1) / n * (torus_all ? S : ChannelBytes(S, p, v.n)) * worst;
  if (!torus_all) c.channels = ChannelShare(S, p, v.n);
  // Steps crossing level L: mult·(Π_{j≥L} f − Π_{j>L} f).
  double above = 1;
  c.lat = kBaseLatRing[static_cast<size_t>(p)] * kUs;
  for (int L = v.levels - 1; L >= 0; --L) {
    const size_t i = static_cast<size_t>(L);
    double steps = mult * (above * double(v.f[i]) - above);
    if (L == 0 && torus_all && g.torus) steps = mult * above * double(g.torus_steps);
    c.lat += steps * Hop(v, L, false, p);
    // A measured Simple step inside the domain replaces NCCL's constant in the time.
    if (L == 0 && p == 2 && !torus_all && v.ring_simple_step > 0 && !v.net[i])
      c.unmodelled = steps * (v.ring_simple_step - kNvlinkLatRing[2] * kUs);
    above *= double(v.f[i]);
  }
  if (p == 2 && v.any_net && mult == 2) c.lat *= kRingPlateau;
  return c;
}

Cost Tree(const View& v, double S, int p) {
  Cost c;
  const bool many = v.any_net;
  double factor = p == 2 ? kTreeSimple : p == 0 ? kTreeLL : (many ? kTreeLL128Many : kTreeLL128One);
  const long lg = static_cast<long>(std::log2(std::max(1.0, S / 64.0)));
  if (lg >= 0 && lg < 24) factor *= kTreeCorrection[p][lg];
  double worst = 0;
  for (int L = 0; L < v.levels; ++L) {
    const size_t i = static_cast<size_t>(L);
    if (v.f[i] <= 1) continue;
    const double t = 1.0 / (v.P[i] * v.B[i] * factor);
    if (t > worst) worst = t, c.bound = L;
  }
  c.channels = ChannelShare(S, p, 0);
  c.bw = 2.0 * ChannelBytes(S, p, 0) * worst;
  c.lat = kBaseLatTree[static_cast<size_t>(p)] * kUs + 2.0 * double(v.f[0] - 1) * Hop(v, 0, true, p);
  for (int L = 1; L < v.levels; ++L) c.lat += 2.0 * CeilLog2(v.f[static_cast<size_t>(L)]) * Hop(v, L, true, p);
  return c;
}

// Level by level, not pipelined: Σ_L mult·(f_L−1)/f_L · S/(P_L·B_L).
Cost HalvingDoubling(const View& v, double S, double mult) {
  Cost c;
  double worst = 0;
  c.lat = kBaseLatRing[2] * kUs;
  for (int L = 0; L < v.levels; ++L) {
    const size_t i = static_cast<size_t>(L);
    const long f = v.f[i];
    if (f <= 1) continue;
    double t = mult * double(f - 1) / double(f) * S / (v.P[i] * v.B[i]);
    // A fan-out that is not a power of two costs one extra exchange of the whole block's data.
    if ((f & (f - 1)) != 0) t += mult * 0.5 * S / (v.P[i] * v.B[i]);
    c.bw += t;
    if (t > worst) worst = t, c.bound = L;
    c.lat += mult * CeilLog2(f) * Hop(v, L, true, 2);
  }
  return c;
}

// Inside level 0, then a pipelined ring across the rest, then inside level 0 again.
Cost Hierarchical(const View& v, double S, double mult) {
  Cost c;
  const double f0 = double(v.f[0]);
  const double t0 = mult * (f0 - 1) / f0 * S / v.B[0];
  const double nu = double(v.n) / f0;
  double worst = 0;
  int wl = 1;
  for (int L = 1; L < v.levels; ++L) {
    const size_t i = static_cast<size_t>(L);
    if (v.f[i] <= 1) continue;
    const double t = 1.0 / (v.P[i] * v.B[i]);
    if (t > worst) worst = t, wl = L;
  }
  const double tu = mult * (nu - 1) / nu * S * worst;
  c.bw = t0 + tu;
  c.bound = t0 >= tu ? 0 : wl;
  double above = 1;
  c.lat = 2.0 * kBaseLatRing[2] * kUs + mult * (f0 - 1) * Hop(v, 0, false, 2);
  for (int L = v.levels - 1; L >= 1; --L) {
    const size_t i = static_cast<size_t>(L);
    c.lat += mult * (above * double(v.f[i]) - above) * Hop(v, L, false, 2);
    above *= double(v.f[i]);
  }
  return c;
}

// NCCL's NVLS chunk for S bytes over `ops` concurrent operations (see kMaxNvlsArity).
double NvlsChunk(double S, double ops, double largest) {
  double c = largest;
  if (S < 64.0 * ops * c && c > 65536) c = 65536;
  if (S < 8.0 * ops * c && c > 32768) c = 32768;
  if (S < 2.0 * ops * c && c > 16384) c = 16384;
  return c;
}

// NVLS inside one domain, chunk by chunk (see kMaxNvlsArity); sets c.chunk.
double NvlsInDomain(const View& v, double S, Cost& c) {
  const double ops = std::max(1.0, v.inr_channels) * std::min(kMaxNvlsArity, double(v.f[0]));
  const double C = NvlsChunk(S, ops, v.inr_chunk);
  const double t = std::max(C * ops / v.inr[0], v.inr_chunk_cost + C / v.inr_head_rate);
  const double chunks = S / (ops * C);  // per operation
  c.chunk = C;
  return (chunks + std::min(chunks, 1.0)) * t;
}

// NVLS in the domain (or a ring there if the switch cannot reduce), SHARP or a tree across,
// pipelined (NVLS-tree / CollNet).
Cost InNetwork(const View& v, double S) {
  Cost c;
  const double f0 = double(v.f[0]);
  const double nu = double(v.n) / f0;
  double t0 = 0;
  c.lat = 0;
  if (v.f[0] > 1) {
    if (v.inr[0] > 0) {
      // Across domains NCCL runs NVLS-tree, whose chunking (NCCL_NVLSTREE_MAX_CHUNKSIZE and
      // its own thresholds) is not modelled: there the switch's share is the bandwidth.
      t0 = nu > 1 || v.inr_chunk_cost <= 0 || v.inr_head_rate <= 0 || v.inr_chunk <= 0 ? S / v.inr[0]
                                                                                       : NvlsInDomain(v, S, c);
      c.lat += kNvlsNvlinkLat * kUs + v.extra[0];
    } else {
      t0 = 2.0 * (f0 - 1) / f0 * S / v.B[0];
      c.lat += kBaseLatRing[2] * kUs + 2.0 * (f0 - 1) * Hop(v, 0, false, 2);
    }
  }
  double tu = 0;
  int wl = 0;
  if (nu > 1) {
    bool all_inr = true;
    double worst = 0;
    for (int L = 1; L < v.levels; ++L) {
      const size_t i = static_cast<size_t>(L);
      if (v.f[i] <= 1) continue;
      all_inr = all_inr && v.inr[i] > 0;
    }
    for (int L = 1; L < v.levels; ++L) {
      const size_t i = static_cast<size_t>(L);
      if (v.f[i] <= 1) continue;
      // Across domains NCCL's NVLS-tree runs a tree: 2·S per domain over its members' NICs.
      const double t = all_inr ? 1.0 / (v.P[i] * v.inr[i]) : 2.0 / (v.P[i] * v.B[i]);
      if (t > worst) worst = t, wl = L;
      c.lat += all_inr ? kCollNetNetLat * kUs + v.extra[i] : 2.0 * CeilLog2(v.f[i]) * (kNvlsTreeNetLat * kUs + v.extra[i]);
    }
    tu = S * worst;
  }
  c.bw = std::max(t0, tu);
  c.bound = t0 >= tu ? 0 : wl;
  return c;
}

Cost AllToAll(const View& v, double S) {
  Cost c;
  const double n = double(v.n);
  double worst = 0;
  for (int L = 0; L < v.levels; ++L) {
    const size_t i = static_cast<size_t>(L);
    if (v.f[i] <= 1) continue;
    const double bytes = L == 0 ? (double(v.f[0]) - 1) / n * S : (n - v.P[i]) / n * S;
    const double t = bytes / v.B[i];
    if (t > worst) worst = t, c.bound = L;
  }
  c.bw = worst;
  c.lat = kBaseLatRing[2] * kUs + Hop(v, v.top, false, 2);
  return c;
}

bool Applicable(Collective c, Algorithm a, const View& v, const Group& g) {
  const bool upper = v.top > 0;
  switch (a) {
    case Algorithm::kAuto: return false;
    case Algorithm::kRing: return c != Collective::kAllToAll && c != Collective::kSendRecv;
    case Algorithm::kTree: return c == Collective::kAllReduce;
    case Algorithm::kHalvingDoubling:
      return c == Collective::kAllReduce || c == Collective::kReduceScatter || c == Collective::kAllGather;
    case Algorithm::kHierarchical:
      return (c == Collective::kAllReduce || c == Collective::kReduceScatter || c == Collective::kAllGather) && v.f[0] > 1 && upper;
    case Algorithm::kTorusRings:
      return g.torus && (c == Collective::kAllReduce || c == Collective::kReduceScatter || c == Collective::kAllGather);
    case Algorithm::kInNetwork: {
      if (c != Collective::kAllReduce) return false;
      if (v.f[0] > 1 && v.inr[0] > 0) return true;
      for (int L = 1; L < v.levels; ++L)
        if (v.f[static_cast<size_t>(L)] > 1 && v.inr[static_cast<size_t>(L)] <= 0) return false;
      return upper;
    }
    case Algorithm::kDirect: return c == Collective::kAllToAll || c == Collective::kSendRecv;
  }
  return false;
}

Cost Evaluate(Collective c, Algorithm a, int p, const View& v, const Group& g, double S) {
  const double mult = c == Collective::kAllReduce ? 2.0 : 1.0;
  switch (a) {
    case Algorithm::kRing:
      if (c == Collective::kBroadcast) {
        Cost r = Ring(v, g, S, 1.0, p, false);
        r.bw *= v.n > 1 ? double(v.n) / double(v.n - 1) : 1.0;  // every rank receives all of S
        return r;
      }
      return Ring(v, g, S, mult, p, false);
    case Algorithm::kTorusRings: return Ring(v, g, S, mult, p, true);
    case Algorithm::kTree: return Tree(v, S, p);
    case Algorithm::kHalvingDoubling: return HalvingDoubling(v, S, mult);
    case Algorithm::kHierarchical: return Hierarchical(v, S, mult);
    case Algorithm::kInNetwork: return InNetwork(v, S);
    case Algorithm::kDirect:
      if (c == Collective::kAllToAll) return AllToAll(v, S);
      {
        // One message to the next member: it crosses the lowest level the group spans.
        Cost r;
        int L = 0;
        while (L < v.levels - 1 && v.f[static_cast<size_t>(L)] <= 1) ++L;
        const size_t i = static_cast<size_t>(L);
        double b = v.B[i];
        if (L == 0 && g.torus) b = v.RB[0] / 2.0;  // one link
        r.bw = S / b;
        r.lat = Hop(v, L, false, 2);
        r.bound = L;
        return r;
      }
    case Algorithm::kAuto: break;
  }
  return {};
}

bool MultiProtocol(Algorithm a) { return a == Algorithm::kRing || a == Algorithm::kTree || a == Algorithm::kTorusRings; }

}  // namespace

const char* CollectiveName(Collective c) {
  switch (c) {
    case Collective::kAllReduce: return "allreduce";
    case Collective::kReduceScatter: return "reducescatter";
    case Collective::kAllGather: return "allgather";
    case Collective::kAllToAll: return "alltoall";
    case Collective::kBroadcast: return "broadcast";
    case Collective::kSendRecv: return "sendrecv";
  }
  return "?";
}

const char* AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kAuto: return "auto";
    case Algorithm::kRing: return "ring";
    case Algorithm::kTree: return "tree";
    case Algorithm::kHalvingDoubling: return "halving-doubling";
    case Algorithm::kHierarchical: return "hierarchical";
    case Algorithm::kTorusRings: return "torus";
    case Algorithm::kInNetwork: return "in-network";
    case Algorithm::kDirect: return "direct";
  }
  return "?";
}

const char* ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kLL: return "LL";
    case Protocol::kLL128: return "LL128";
    case Protocol::kSimple: return "Simple";
  }
  return "?";
}

const char* IssuerName(Issuer i) {
  switch (i) {
    case Issuer::kLibrary: return "library";
    case Issuer::kTorchDistributed: return "torch.distributed";
    case Issuer::kTorchAfterBarrier:
      return "torch.distributed after a barrier";
  }
  return "?";
}

Seconds IssueOverhead(Issuer i) {
  switch (i) {
    case Issuer::kLibrary:
      return Seconds(0.0);
    case Issuer::kTorchDistributed:
      return Seconds(kTorchDistributedCallOverhead);
    case Issuer::kTorchAfterBarrier:
      return Seconds(kTorchBarrierLaunch);
  }
  return Seconds(0.0);
}

double BusFactor(Collective c, long n) {
  const double dn = double(n);
  switch (c) {
    case Collective::kAllReduce:
      return 2.0 * (dn - 1) / dn;
    case Collective::kReduceScatter:
    case Collective::kAllGather:
    case Collective::kAllToAll:
      return (dn - 1) / dn;
    case Collective::kBroadcast:
    case Collective::kSendRecv:
      return 1.0;
  }
  return 1.0;
}

double ChannelFraction(Bytes size, Protocol p, long ring_ranks) {
  return ChannelShare(size.value(), static_cast<int>(p), ring_ranks);
}

bool ParseCollective(const std::string& s, Collective* out) {
  for (Collective c : {Collective::kAllReduce, Collective::kReduceScatter, Collective::kAllGather, Collective::kAllToAll,
                       Collective::kBroadcast, Collective::kSendRecv}) {
    if (s == CollectiveName(c)) return *out = c, true;
  }
  return false;
}

bool ParseAlgorithm(const std::string& s, Algorithm* out) {
  for (Algorithm a : {Algorithm::kAuto, Algorithm::kRing, Algorithm::kTree, Algorithm::kHalvingDoubling, Algorithm::kHierarchical,
                      Algorithm::kTorusRings, Algorithm::kInNetwork, Algorithm::kDirect}) {
    if (s == AlgorithmName(a)) return *out = a, true;
  }
  return false;
}

Estimate EstimateCollective(const Network& net, const Group& g, Collective c, Bytes size, Algorithm a, Issuer issuer,
                            AlgorithmSet set) {
  Estimate e;
  const double S = size.value();
  if (g.members <= 1 || S <= 0) {
    // Nothing to communicate: the library returns at once and the issuer does not call it.
    e.ok = true;
    e.algorithm = a == Algorithm::kAuto ? (c == Collective::kAllToAll || c == Collective::kSendRecv ? Algorithm::kDirect : Algorithm::kRing) : a;
    return e;
  }
  const View v = MakeView(net, g);
  constexpr std::array<Algorithm, 7> kAll = {Algorithm::kRing, Algorithm::kTree, Algorithm::kHalvingDoubling, Algorithm::kHierarchical,
                                             Algorithm::kTorusRings, Algorithm::kInNetwork, Algorithm::kDirect};
  // NCCL and RCCL implement ring, tree, NVLS/CollNet and point-to-point, not recursive
  // halving-doubling or a staged hierarchical all-reduce (NCCL's algorithms: RING, TREE,
  // COLLNET_DIRECT, COLLNET_CHAIN, NVLS, NVLS_TREE, PAT; PAT, a log-step all-gather and
  // reduce-scatter, only with one GPU per node), so on a switched or full-mesh domain the
  // automatic choice is among those. A torus domain (TPU ICI, Trainium NeuronLink) runs its
  // own library, which may pick any of them. Named, every algorithm stays available.
  const bool nccl = set == AlgorithmSet::kNccl && net.cluster().scale_up.topology != hw::ScaleUpTopology::kTorus;
  double best = -1, unmodelled = 0;
  for (Algorithm cand : kAll) {
    if (a != Algorithm::kAuto && cand != a) continue;
    if (a == Algorithm::kAuto && nccl && (cand == Algorithm::kHalvingDoubling || cand == Algorithm::kHierarchical))
      continue;
    if (!Applicable(c, cand, v, g)) continue;
    for (int p = MultiProtocol(cand) ? 0 : 2; p <= 2; ++p) {
      const Cost k = Evaluate(c, cand, p, v, g, S);
      const double t = k.bw + k.lat;
      if (best < 0 || t < best) {
        best = t;
        unmodelled = k.unmodelled;
        e.ok = true;
        e.algorithm = cand;
        e.protocol = static_cast<Protocol>(p);
        e.bound_level = k.bound;
        e.latency = Seconds(k.lat + k.unmodelled);
        e.channel_fraction = k.channels;
        e.chunk = Bytes(k.chunk);
      }
    }
  }
  if (!e.ok) {
    e.why = "the algorithm does not apply to this collective on this group";
    e.algorithm = a;
    return e;
  }
  e.overhead = IssueOverhead(issuer);
  if (issuer == Issuer::kTorchAfterBarrier)  // the wait for the last rank: the barrier's own all-reduce
    e.overhead +=
        EstimateCollective(net, g, Collective::kAllReduce, Bytes(4.0), Algorithm::kAuto, Issuer::kLibrary, set).time;
  e.time = Seconds(best + unmodelled) + e.overhead;
  e.algbw = BytesPerSec(S / e.time.value());
  e.busbw = e.algbw * BusFactor(c, g.members);
  return e;
}

MoeEstimate EstimateMoeExchange(const Network& net, const Group& g, const MoeExchange& m) {
  MoeEstimate out;
  const View v = MakeView(net, g);
  const double token = double(m.hidden) * m.bytes_per_element;
  const double T = double(m.tokens);
  const double n = double(g.members);
  const double f0 = double(v.f[0]);
  // The NIC level: the highest level the group spans above the domain, else the first
  // network level (low-latency kernels send over the NICs even inside a server).
  int L = v.top > 0 ? v.top : (net.levels() > 1 ? 1 : 0);
  const int p = m.low_latency ? 0 : 2;
  double net_bytes = 0, up_bytes = 0;
  if (m.low_latency) {
    net_bytes = T * m.top_k * token * (n - 1) / n;  // one message per (token, expert), pure RDMA
  } else {
    const double N = n / f0;  // domains in the group
    // Expected distinct remote domains among top_k uniformly routed experts, capped by the
    // node limit (DeepSeek-V3 routes each token to at most 4 nodes).
    double remote = (N - 1) * (1.0 - std::pow(1.0 - 1.0 / N, m.top_k));
    if (m.node_limit > 0) remote = std::min(remote, double(m.node_limit) * (N - 1) / N);
    net_bytes = T * remote * token;
    // Tokens arriving over the network are relayed once over the scale-up links
    // (DeepEP's NVLink forwarding); inside one domain every expert copy goes over them.
    up_bytes = N > 1 ? net_bytes : T * m.top_k * token * (f0 - 1) / f0;
  }
  const size_t li = static_cast<size_t>(L);
  const double t_net = net_bytes > 0 ? net_bytes / v.B[li] : 0;
  const double t_up = up_bytes > 0 ? up_bytes / v.B[0] : 0;
  const double lat = kBaseLatRing[static_cast<size_t>(p)] * kUs + Hop(v, L, false, p);
  const double t = std::max(t_net, t_up) + lat;
  out.time = Seconds(t);
  out.network_bytes = Bytes(net_bytes);
  out.scale_up_bytes = Bytes(up_bytes);
  out.bound_level = t_net >= t_up ? L : 0;
  out.bottleneck_bw = BytesPerSec((t_net >= t_up ? net_bytes : up_bytes) / t);
  return out;
}

}  // namespace pf::comm
