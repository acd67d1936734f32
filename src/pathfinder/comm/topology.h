// comm/topology: a cluster's network as a short list of levels (scale-up domain, scale-out
// pod, scale-out spine, inter-site), and process groups placed on it in closed form.
//
// Chips are numbered scale-up domain first, then pod, then site (rank r lives in domain
// r / domain_chips). A rank layout orders the parallel dimensions innermost first
// (TP, CP, EP, DP, PP by default), so a group of dimension X is `members` ranks spaced
// `stride` = product of the inner degrees apart. From (stride, members) alone we get, per
// level, how many members share one block of that level (fan-out) and the bandwidth each
// member gets there — never enumerating chips, so a 1 000 000-chip group costs what an
// 8-chip one does.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "pathfinder/core/result.h"
#include "pathfinder/core/units.h"
#include "pathfinder/hw/cluster.h"

namespace pf::comm {

inline constexpr int kMaxLevels = 4;

enum class LevelKind { kScaleUp, kPod, kSpine, kSite };
const char* LevelKindName(LevelKind k);  // "scale-up", "scale-out pod", "scale-out spine", "inter-site"

struct Level {
  LevelKind kind = LevelKind::kScaleUp;
  std::string link;        // what the traffic crosses, for reports: "NVLink 4", "ib-ndr", "inter-site"
  long capacity = 1;       // chips in one block of this level (domain, pod, site, whole cluster)
  BytesPerSec bandwidth;   // achieved, per chip, one direction, when every chip's group communicates at once
  Seconds extra_latency;   // wire + switch latency per algorithm step beyond the library's own
  bool network = false;    // crosses a NIC (library network latencies apply)
  BytesPerSec in_network;  // all-reduce algorithm bandwidth per chip with in-switch reduction; 0 = none
  Seconds ring_simple_step;  // scale-up only: measured ring step of the library's Simple protocol; 0 = its constant
  // Scale-up only: how the library chunks an in-domain in-network all-reduce (hw::ScaleUpDomain).
  int in_network_channels = 0;
  Bytes in_network_chunk;
  Seconds in_network_chunk_cost;  // 0 = chunks not priced
  BytesPerSec in_network_head_rate;
};

class Network {
 public:
  explicit Network(const hw::Cluster& cluster);

  const hw::Cluster& cluster() const { return cluster_; }
  int levels() const { return n_levels_; }
  const Level& level(int i) const { return levels_[static_cast<size_t>(i)]; }
  long chips() const { return cluster_.chips; }

 private:
  hw::Cluster cluster_;
  std::array<Level, kMaxLevels> levels_{};
  int n_levels_ = 0;
};

// Parallel dimensions of a rank layout.
enum class Dim { kTP, kCP, kEP, kDP, kPP };
inline constexpr std::array<Dim, 5> kAllDims = {Dim::kTP, Dim::kCP, Dim::kEP, Dim::kDP, Dim::kPP};
const char* DimName(Dim d);  // "tp", "cp", ...

struct Layout {
  std::array<Dim, 5> order = kAllDims;  // innermost (fastest-varying rank) first
  std::array<long, 5> degree = {1, 1, 1, 1, 1};  // indexed by Dim
  long& operator[](Dim d) { return degree[static_cast<size_t>(d)]; }
  long operator[](Dim d) const { return degree[static_cast<size_t>(d)]; }
  long chips() const;
};

// Parses "tp=8,cp=1,ep=1,dp=16,pp=4" (innermost first; dims left out have degree 1 and go
// outermost in the default order). One degree may be "*": it takes what the cluster has left.
Result<Layout> ParseLayout(const std::string& text, long cluster_chips);

// One process group as placed on the network.
struct Group {
  long members = 1;
  long stride = 1;
  std::array<long, kMaxLevels> fanout{};       // members per block of level L / per block of level L−1
  std::array<BytesPerSec, kMaxLevels> bw{};    // achieved per-member bandwidth at level L (bulk traffic)
  std::array<BytesPerSec, kMaxLevels> ring_bw{};  // same, for one bidirectional ring (differs on a torus)
  int levels = 0;
  bool torus = false;    // level 0 is a torus the group spans ≥ 2 chips of
  long torus_steps = 0;  // torus: Σ over spanned dimensions of (chips along it − 1)
};

// The group of `members` ranks spaced `stride` apart, starting at a rank aligned to the
// blocks of every level. Error if it does not fit in the cluster.
Result<Group> MakeGroup(const Network& net, long stride, long members);
// The group of dimension `d` under `layout`.
Result<Group> GroupOf(const Network& net, const Layout& layout, Dim d);

}  // namespace pf::comm
