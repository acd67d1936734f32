// Network levels from a cluster description, rank layouts, and closed-form group placement.
#include "pathfinder/comm/topology.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "pathfinder/core/strings.h"

namespace pf::comm {
namespace {
std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out(1);
  for (char ch : s) {
    if (ch == ',') out.emplace_back();
    else out.back() += ch;
  }
  return out;
}
}  // namespace

const char* LevelKindName(LevelKind k) {
  switch (k) {
    case LevelKind::kScaleUp: return "scale-up";
    case LevelKind::kPod: return "scale-out pod";
    case LevelKind::kSpine: return "scale-out spine";
    case LevelKind::kSite: return "inter-site";
  }
  return "?";
}

const char* DimName(Dim d) {
  switch (d) {
    case Dim::kTP: return "tp";
    case Dim::kCP: return "cp";
    case Dim::kEP: return "ep";
    case Dim::kDP: return "dp";
    case Dim::kPP: return "pp";
  }
  return "?";
}

Network::Network(const hw::Cluster& c) : cluster_(c) {
  const hw::ScaleUpDomain& up = c.scale_up;
  const hw::ScaleOut& so = c.scale_out;
  const long site = c.ChipsPerSite();
  auto add = [this](Level l) {
    if (n_levels_ > 0 && l.capacity <= levels_[static_cast<size_t>(n_levels_ - 1)].capacity) return;
    levels_[static_cast<size_t>(n_levels_++)] = std::move(l);
  };
  // Level 0 always exists (capacity 1 when there is no scale-up network).
  Level l0;
  l0.kind = LevelKind::kScaleUp;
  l0.link = up.link.empty() ? "scale-up" : up.link;
  l0.capacity = std::max(1, up.chips);
  l0.bandwidth = up.bandwidth * up.efficiency;
  l0.extra_latency = up.latency;
  l0.ring_simple_step = up.ring_simple_step;
  if (up.in_network_reduction) {
    l0.in_network = up.bandwidth * up.in_network_efficiency;
    l0.in_network_channels = up.in_network_channels;
    l0.in_network_chunk = up.in_network_chunk;
    l0.in_network_chunk_cost = up.in_network_chunk_cost;
    l0.in_network_head_rate = up.in_network_head_rate;
  }
  levels_[0] = l0;
  n_levels_ = 1;

  const BytesPerSec nic = c.ChipNicBandwidth() * so.efficiency;
  const int tiers = std::max(1, so.tiers);
  const long pod = so.pod_chips > 0 ? std::min<long>(so.pod_chips, site) : site;
  Level pl;
  pl.kind = LevelKind::kPod;
  pl.link = so.link.empty() ? "scale-out" : so.link;
  pl.capacity = pod;
  pl.bandwidth = nic;
  pl.network = true;
  // Inside a pod traffic climbs to the leaf and back (1 switch); with no spine level the
  // whole fat-tree is one pod and traffic may cross every tier (2·tiers − 1 switches).
  pl.extra_latency = so.latency + so.switch_latency * double(pod < site ? 1 : 2 * tiers - 1);
  if (so.in_network_reduction) pl.in_network = c.ChipNicBandwidth() * so.in_network_efficiency;
  add(pl);
  if (pod < site) {
    Level sp = pl;
    sp.kind = LevelKind::kSpine;
    sp.capacity = site;
    sp.bandwidth = nic / std::max(1.0, so.oversubscription);
    sp.extra_latency = so.latency + so.switch_latency * double(2 * tiers - 1);
    if (so.in_network_reduction) sp.in_network = sp.in_network / std::max(1.0, so.oversubscription);
    add(sp);
  }
  if (c.sites.count > 1) {
    Level st;
    st.kind = LevelKind::kSite;
    st.link = "inter-site";
    st.capacity = c.chips;
    // Every chip of a site sends across at once: each gets its share of the site-to-site
    // links, and never more than its own NICs.
    const BytesPerSec share = c.sites.bandwidth * c.sites.efficiency / double(std::max<long>(1, site));
    st.bandwidth = Min(share, n_levels_ > 1 ? levels_[static_cast<size_t>(n_levels_ - 1)].bandwidth : nic);
    st.network = true;
    st.extra_latency = c.sites.latency + so.latency + so.switch_latency * double(2 * tiers - 1);
    add(st);
  }
}

long Layout::chips() const {
  long n = 1;
  for (long d : degree) n *= d;
  return n;
}

Result<Layout> ParseLayout(const std::string& text, long cluster_chips) {
  Layout l;
  std::vector<Dim> seen;
  int star = -1;
  for (const std::string& raw : SplitComma(text)) {
    const std::string item = Trim(raw);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return Error{fmt::format("layout item '{}' must look like tp=8", item)};
    const std::string name = ToLower(Trim(item.substr(0, eq)));
    const std::string val = Trim(item.substr(eq + 1));
    int found = -1;
    for (size_t i = 0; i < kAllDims.size(); ++i)
      if (name == DimName(kAllDims[i])) found = static_cast<int>(i);
    if (found < 0) {
      std::vector<std::string> names;
      for (Dim d : kAllDims) names.push_back(DimName(d));
      const std::string hint = ClosestMatch(name, names);
      return Error{fmt::format("unknown parallel dimension '{}'; {}", name,
                               hint.empty() ? "expected tp, cp, ep, dp or pp" : "did you mean '" + hint + "'?")};
    }
    const Dim d = kAllDims[static_cast<size_t>(found)];
    if (std::find(seen.begin(), seen.end(), d) != seen.end()) return Error{fmt::format("'{}' is given twice", name)};
    seen.push_back(d);
    if (val == "*") {
      if (star >= 0) return Error{"only one dimension may be '*'"};
      star = found;
      continue;
    }
    char* end = nullptr;
    const long v = std::strtol(val.c_str(), &end, 10);
    if (end == val.c_str() || *end != '\0' || v < 1) return Error{fmt::format("{}={} must be a whole number ≥ 1", name, val)};
    l[d] = v;
  }
  // Given dims first (in the order written), then the rest in the default order.
  size_t k = 0;
  for (Dim d : seen) l.order[k++] = d;
  for (Dim d : kAllDims)
    if (std::find(seen.begin(), seen.end(), d) == seen.end()) l.order[k++] = d;
  if (star >= 0) {
    const long rest = l.chips();
    if (cluster_chips % rest != 0) {
      return Error{fmt::format("the other degrees multiply to {}, which does not divide the cluster's {} chips", rest, cluster_chips)};
    }
    l.degree[static_cast<size_t>(star)] = cluster_chips / rest;
  }
  if (l.chips() > cluster_chips) {
    return Error{fmt::format("the layout needs {} chips but the cluster has {}", l.chips(), cluster_chips)};
  }
  return l;
}

namespace {

// Torus placement of a group inside one domain: chips along each dimension and the
// bandwidth the group's members get (all spanned dimensions, and one bidirectional ring).
void PlaceOnTorus(const hw::ScaleUpDomain& up, long stride, long members, Group* g) {
  const size_t nd = up.dims.size();
  const long span = stride * members;
  long before = 1;  // chips per step along the current dimension
  BytesPerSec all, best;
  long steps = 0;
  for (size_t d = 0; d < nd; ++d) {
    const long dim = up.dims[d];
    const long lo = std::max(stride, before);
    const long along = std::max<long>(1, std::min(dim * before, span) / lo);
    const BytesPerSec link = up.dim_link_bandwidth.empty() ? up.bandwidth / (2.0 * double(nd)) : up.dim_link_bandwidth[d];
    if (along >= 2) {
      // A full dimension has its wraparound: both neighbours' links; a partial one is a line.
      const double links = (along == dim && dim > 2) ? 2.0 : 1.0;
      all += link * links;
      best = Max(best, link * links);
      steps += along - 1;
    }
    before *= dim;
  }
  g->torus = steps > 0;
  g->torus_steps = steps;
  g->bw[0] = all * up.efficiency;
  g->ring_bw[0] = best * up.efficiency;
}

}  // namespace

Result<Group> MakeGroup(const Network& net, long stride, long members) {
  if (members < 1 || stride < 1) return Error{"a group needs ≥ 1 member and a stride ≥ 1"};
  if (stride * members > net.chips()) {
    return Error{fmt::format("a group of {} members {} apart needs {} chips; the cluster has {}", members, stride,
                             stride * members, net.chips())};
  }
  Group g;
  g.members = members;
  g.stride = stride;
  g.levels = net.levels();
  long below = 1;  // members per block of the previous level
  for (int L = 0; L < net.levels(); ++L) {
    const Level& lv = net.level(L);
    long in_block = std::min(members, std::max<long>(1, lv.capacity / stride));
    if (L == net.levels() - 1) in_block = members;
    in_block = std::max(in_block, below);
    // Fan-outs are whole numbers; a group that does not tile the blocks evenly is rounded up.
    const long f = (in_block + below - 1) / below;
    if (f > 1 && !(lv.bandwidth.value() > 0)) {
      return Error{fmt::format(
          "a group of {} members {} apart crosses the {} ({}), which has no bandwidth: give the link's bandwidth in "
          "the chip or cluster file, or use a cluster preset",
          members, stride, LevelKindName(lv.kind), lv.link.empty() ? "unnamed link" : lv.link)};
    }
    g.fanout[static_cast<size_t>(L)] = f;
    g.bw[static_cast<size_t>(L)] = lv.bandwidth;
    g.ring_bw[static_cast<size_t>(L)] = lv.bandwidth;
    below *= f;
  }
  const hw::ScaleUpDomain& up = net.cluster().scale_up;
  const long f0 = g.fanout[0];
  if (f0 > 1 && up.topology == hw::ScaleUpTopology::kFullMesh && up.chips > 1) {
    // One direct link per peer: only the links to the group's own members carry its traffic.
    const BytesPerSec per_peer = up.bandwidth / double(up.chips - 1);
    g.bw[0] = g.ring_bw[0] = per_peer * double(f0 - 1) * up.efficiency;
  } else if (f0 > 1 && up.topology == hw::ScaleUpTopology::kTorus) {
    PlaceOnTorus(up, stride, f0, &g);
  }
  return g;
}

Result<Group> GroupOf(const Network& net, const Layout& layout, Dim d) {
  long stride = 1;
  for (Dim o : layout.order) {
    if (o == d) break;
    stride *= layout[o];
  }
  return MakeGroup(net, stride, layout[d]);
}

}  // namespace pf::comm
