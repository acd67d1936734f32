// comm/collective: the time of one collective on one process group, by α-β cost per
// network level. Each algorithm is a closed form over the group's per-level fan-outs (at
// most four levels), so an estimate takes well under a microsecond at any cluster size.
//
// Sizes follow nccl-tests: `size` is the buffer each rank passes in (all-reduce, broadcast,
// send/recv), the full output (all-gather), the full input (reduce-scatter) or the whole
// send buffer (all-to-all). Algorithm bandwidth = size / time; bus bandwidth = algorithm
// bandwidth × 2(n−1)/n (all-reduce), (n−1)/n (all-gather, reduce-scatter, all-to-all),
// 1 (broadcast, send/recv) — the nccl-tests definitions (nccl-tests doc/PERFORMANCE.md).
//
// The library's own latencies and protocol factors are NCCL's tuning model (see
// collective.cc); the achieved fraction of each link's bandwidth is a property of the
// cluster level (data/clusters/*.yaml), with its source. NCCL's ring and tree also use fewer
// channels (CTAs) for small messages, so their bandwidth ramps up with size (ChannelFraction).
//
// A collective issued through a framework costs more than the library's own time: the
// framework's per-call host work (Issuer, IssueOverhead). The library estimate is the
// default, so the training and serving simulators are unchanged by it.
//
// How to add an algorithm: add it to Algorithm, write its closed form in collective.cc,
// list it in the collectives it serves in Applicable(), and test its formula.
#pragma once

#include <string>

#include "pathfinder/comm/topology.h"
#include "pathfinder/core/units.h"

namespace pf::comm {

enum class Collective { kAllReduce, kReduceScatter, kAllGather, kAllToAll, kBroadcast, kSendRecv };
enum class Algorithm {
  kAuto,             // the fastest of those that apply, as NCCL's tuner picks
  kRing,             // one ring through the group, pipelined over all levels (NCCL ring)
  kTree,             // double binary tree across blocks, chain inside (NCCL tree)
  kHalvingDoubling,  // recursive halving-doubling (Rabenseifner), level by level
  kHierarchical,     // inside the scale-up domain, then across, then inside again
  kTorusRings,       // rings along every torus dimension at once (TPU / Trainium collectives)
  kInNetwork,        // switch reduction: NVLink SHARP in the domain, SHARP across (NVLS / NVLS-tree)
  kDirect,           // pairwise exchange (all-to-all) / one message (send/recv)
};
enum class Protocol { kLL, kLL128, kSimple };
// Who calls the collective library: its C API directly (nccl-tests, the simulators' own
// collectives), or torch.distributed (ProcessGroupNCCL), which adds per-call host work:
// kTorchDistributed for calls that follow each other (the GPU waits for the part of each
// call's host work it cannot overlap), kTorchAfterBarrier for one call timed alone right
// after dist.barrier() (stas00/ml-engineering all_reduce_bench.py): the GPU waits for the
// whole launch and for the last rank to leave the barrier.
enum class Issuer { kLibrary, kTorchDistributed, kTorchAfterBarrier };
// Which algorithms the automatic choice may take. kNccl: what NCCL/RCCL implement (ring,
// tree, in-network, point-to-point; no recursive halving-doubling, no staged hierarchical
// all-reduce) on a switched or full-mesh domain; on a torus domain the chip's own library
// (TPU, Trainium) may take any. kAll: any algorithm, e.g. for inference engines that run
// their own few-step all-reduce kernels inside a server (TensorRT-LLM's one-shot/two-shot,
// vLLM's custom all-reduce), for which halving-doubling's closed form stands in.
enum class AlgorithmSet { kNccl, kAll };

const char* CollectiveName(Collective c);  // "allreduce", "reducescatter", "allgather", "alltoall", "broadcast", "sendrecv"
const char* AlgorithmName(Algorithm a);    // "auto", "ring", "tree", "halving-doubling", "hierarchical", "torus", "in-network", "direct"
const char* ProtocolName(Protocol p);      // "LL", "LL128", "Simple"
const char* IssuerName(Issuer i);          // "library", "torch.distributed", "torch.distributed after a barrier"
bool ParseCollective(const std::string& s, Collective* out);
// nccl-tests' bus bandwidth / algorithm bandwidth of `c` on n ranks (see the file comment).
double BusFactor(Collective c, long n);
bool ParseAlgorithm(const std::string& s, Algorithm* out);

struct Estimate {
  bool ok = false;              // false: the named algorithm does not apply here (see why)
  const char* why = "";
  Seconds time;
  Algorithm algorithm = Algorithm::kAuto;
  Protocol protocol = Protocol::kSimple;
  BytesPerSec algbw;            // size / time
  BytesPerSec busbw;            // nccl-tests bus bandwidth
  int bound_level = 0;          // the level whose bandwidth term is largest
  Seconds latency;              // the library's α part of `time`
  Seconds overhead;             // the issuer's per-call host time (and barrier wait), also part of `time`
  double channel_fraction = 1;  // NCCL ring/tree: channels used / channels available (< 1 for small messages)
  Bytes chunk;  // in-network inside one domain (NCCL NVLS): the chunk NCCL cuts the payload into; 0 otherwise
};

// Per-call host time of a collective issued by `i` beyond the library's own (see collective.cc
// for where the figures come from); 0 for the library itself. kTorchAfterBarrier: the whole
// launch; EstimateCollective adds the barrier's wait for the last rank on top.
Seconds IssueOverhead(Issuer i);

// NCCL's ring and tree spread a collective over at most 32 channels and give a channel at
// least maxThreads × threadThreshold bytes (NCCL src/enqueue.cc; constants in collective.cc),
// so a message smaller than 32 such shares runs on fewer channels, at that fraction of the
// bandwidth. `ring_ranks`: the ring's rank count (ring LL scales its threshold by it); 0 for
// a tree. Monotone in `size`; 1 from 32 shares up (1 MiB for Simple).
double ChannelFraction(Bytes size, Protocol p, long ring_ranks);

// The time of `c` on `g` with `size` bytes (see the file comment for what size means),
// issued by `issuer` (its per-call overhead is added to `time`; it never changes the
// algorithm, which the library picks on its own estimate); kAuto picks from `set`.
Estimate EstimateCollective(const Network& net, const Group& g, Collective c, Bytes size,
                            Algorithm a = Algorithm::kAuto, Issuer issuer = Issuer::kLibrary,
                            AlgorithmSet set = AlgorithmSet::kNccl);

// MoE token dispatch or combine over an expert-parallel group (DeepEP-style kernels).
struct MoeExchange {
  long tokens = 0;              // tokens per rank
  long hidden = 0;
  int top_k = 8;                // experts per token
  int node_limit = 0;           // routed to at most this many scale-up domains per token (0 = no limit)
  double bytes_per_element = 2;  // 1 + 4/128 for FP8 with per-128 scales, 2 for BF16
  bool low_latency = false;     // false: one copy per destination domain, forwarded over scale-up links
                                // (DeepEP normal kernels); true: one message per expert, all over the
                                // NICs (DeepEP low-latency kernels)
};
struct MoeEstimate {
  Seconds time;
  Bytes network_bytes;          // per rank, over its NICs
  Bytes scale_up_bytes;         // per rank, over its scale-up links
  BytesPerSec bottleneck_bw;    // bytes over the bounding level / time (DeepEP's "bottleneck bandwidth")
  int bound_level = 0;
};
MoeEstimate EstimateMoeExchange(const Network& net, const Group& g, const MoeExchange& m);

}  // namespace pf::comm
