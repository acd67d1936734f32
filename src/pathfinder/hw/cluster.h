// hw/cluster: a cluster's network as the collective models see it — the scale-up domain
// (NVSwitch-style switched, full mesh, 2D/3D torus, NVL72-style rack domain), the server
// (chips and NICs), the scale-out fabric (rail-optimized multi-tier fat-tree with
// oversubscription) and several sites joined by inter-site links. Every level carries its
// α (latency per algorithm step beyond the collective library's own) and β (bandwidth per
// chip, one direction) and the fraction of that bandwidth collectives achieve.
//
// Built by spec/ from data/clusters/<name>.yaml (plus overrides). How to add a cluster:
// write data/clusters/<name>.yaml with a `source:` on every number; no code.
#pragma once

#include <string>
#include <vector>

#include "pathfinder/core/units.h"
#include "pathfinder/hw/chip.h"

namespace pf::hw {

enum class ScaleUpTopology {
  kSwitched,  // every chip has all its links to switch planes (HGX NVSwitch, NVL72 rack, UALink pod)
  kFullMesh,  // one direct link to every other chip (AMD Infinity Fabric on an 8-OAM board)
  kTorus,     // 2D/3D torus with wraparound (TPU ICI, Trainium NeuronLink)
};

struct ScaleUpDomain {
  ScaleUpTopology topology = ScaleUpTopology::kSwitched;
  std::string link;       // interconnect preset name (data/links/), e.g. "nvlink-4"
  int chips = 1;          // chips joined by the scale-up links (8 in HGX, 72 in NVL72, 4096 in a TPU v4 pod)
  std::vector<int> dims;  // torus only: chips along each dimension (product = chips)
  // Per chip, one direction, summed over all its scale-up links. For a full mesh each peer
  // gets bandwidth / (chips − 1); for a torus each dimension's two links share
  // bandwidth / dims unless dim_link_bandwidth gives one link's bandwidth per dimension.
  BytesPerSec bandwidth;
  std::vector<BytesPerSec> dim_link_bandwidth;  // torus only, optional: one link, one direction, per dimension
  Seconds latency;          // wire + switch latency per algorithm step, on top of the library's own
  double efficiency = 1.0;  // achieved fraction of `bandwidth` for bulk collective traffic
  // Measured time of one step of the library's ring in its bulk protocol (NCCL Simple) inside
  // the domain, where it differs from the library's own tuning constant (NCCL: 3.4 µs on
  // NVLink); 0 = the constant. It prices the time only: the library still picks its
  // algorithm and protocol on its own model (comm/collective.cc).
  Seconds ring_simple_step;
  bool in_network_reduction = false;  // switch reduces (NVLink SHARP / NVLS)
  double in_network_efficiency = 0;   // all-reduce algorithm bandwidth / `bandwidth` with in-network reduction
  // How the collective library cuts an in-domain in-network all-reduce into chunks (NCCL's
  // NVLS: NVLS_NCHANNELS channels, each with one head per member, NCCL_NVLS_CHUNKSIZE the
  // largest chunk). Small payloads get smaller chunks, and a chunk costs a fixed time plus
  // its bytes at a per-operation rate when that is longer than its share of the switch, so
  // they reach less of the switch's bandwidth (comm/collective.cc). Chunks are priced only
  // where in_network_chunk_cost and in_network_head_rate are given (measured).
  int in_network_channels = 16;                 // NCCL's default on Hopper (NVLS_NCHANNELS_SM90)
  Bytes in_network_chunk = Bytes(128.0 * 1024);  // NCCL's default NCCL_NVLS_CHUNKSIZE
  Seconds in_network_chunk_cost;                // fixed time of one chunk of one operation; 0 = chunks not priced
  BytesPerSec in_network_head_rate;             // one operation's rate beyond that fixed time
};

struct Server {
  int chips = 1;          // chips in one server (tray, instance, host)
  int nics_per_chip = 1;  // scale-out NICs per chip (may be fractional in reality: use nic bandwidth then)
};

struct ScaleOut {
  std::string link;          // interconnect preset name, e.g. "ib-ndr"
  BytesPerSec nic_bandwidth;  // one NIC, one direction
  int tiers = 2;             // switch tiers of the fat-tree (1 = single switch)
  int pod_chips = 0;         // chips under one non-blocking leaf group (rail-optimized scalable unit); 0 = whole site
  double oversubscription = 1.0;  // bandwidth taper above the pod (1 = non-blocking)
  bool rail_optimized = true;     // chip k of every server on rail (leaf) k
  Seconds latency;           // NIC + wire latency per algorithm step, on top of the library's own
  Seconds switch_latency;    // one switch hop
  double efficiency = 1.0;   // achieved fraction of NIC bandwidth for bulk collective traffic
  bool in_network_reduction = false;  // switch reduces (InfiniBand SHARP)
  double in_network_efficiency = 0;   // algorithm bandwidth / NIC bandwidth per chip with in-network reduction
};

struct Sites {
  int count = 1;          // data centres; chips are split evenly
  BytesPerSec bandwidth;  // between two sites, one direction, aggregate over all inter-site links
  Seconds latency;        // one-way, site to site
  double efficiency = 1.0;
};

struct Cluster {
  std::string name;          // preset id, e.g. "dgx-h100"
  std::string display_name;
  std::string chip;          // chip preset name (data/chips/)
  long chips = 0;            // total chips
  ScaleUpDomain scale_up;
  Server server;
  ScaleOut scale_out;
  Sites sites;
  std::string notes;

  long ChipsPerSite() const { return sites.count > 0 ? chips / sites.count : chips; }
  // Scale-out bandwidth of one chip: its NICs, one direction.
  BytesPerSec ChipNicBandwidth() const { return scale_out.nic_bandwidth * double(server.nics_per_chip); }
};

// Cross-field rules: domain, server, pod and site sizes divide each other and the total;
// torus dimensions multiply to the domain size; fractions in (0, 1]. Empty = valid.
std::vector<Problem> Validate(const Cluster& c);

}  // namespace pf::hw
