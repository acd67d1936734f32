// Cross-field checks of a cluster description.
#include "pathfinder/hw/cluster.h"

#include <fmt/core.h>

namespace pf::hw {
namespace {

void CheckFraction(double v, const std::string& path, std::vector<Problem>* out, bool allow_zero = false) {
  if (!(v > 0.0 || (allow_zero && v == 0.0)) || v > 1.0) {
    out->push_back({path, fmt::format("{} must be a fraction in (0, 1]", v)});
  }
}

}  // namespace

std::vector<Problem> Validate(const Cluster& c) {
  std::vector<Problem> out;
  const ScaleUpDomain& up = c.scale_up;
  if (c.chips <= 0) out.push_back({"chips", "the number of chips must be given and > 0"});
  if (up.chips <= 0) out.push_back({"scale_up.chips", "the scale-up domain size must be > 0"});
  if (c.server.chips <= 0) out.push_back({"server.chips", "chips per server must be > 0"});
  if (!out.empty()) return out;
  if (c.sites.count < 1) out.push_back({"sites.count", "there must be at least one site"});
  else if (c.chips % c.sites.count != 0) {
    out.push_back({"sites.count", fmt::format("{} chips do not split evenly over {} sites", c.chips, c.sites.count)});
  }
  const long per_site = c.ChipsPerSite();
  if (per_site % up.chips != 0) {
    out.push_back({"scale_up.chips", fmt::format("a site's {} chips are not a whole number of {}-chip scale-up domains", per_site, up.chips)});
  }
  if (up.chips % c.server.chips != 0 && c.server.chips % up.chips != 0) {
    out.push_back({"server.chips", fmt::format("{} chips per server and a {}-chip scale-up domain: one must divide the other",
                                               c.server.chips, up.chips)});
  }
  if (up.chips > 1 && up.bandwidth.value() <= 0) {
    out.push_back({"scale_up.bandwidth", "a scale-up domain of more than one chip needs its bandwidth, e.g. \"450 GB/s\""});
  }
  if (up.topology == ScaleUpTopology::kTorus) {
    long prod = 1;
    for (int d : up.dims) prod *= d;
    if (up.dims.empty() || up.dims.size() > 3) out.push_back({"scale_up.dims", "a torus needs 1 to 3 dimensions, e.g. [4, 4, 4]"});
    else if (prod != up.chips) {
      out.push_back({"scale_up.dims", fmt::format("dimensions multiply to {}, but the domain has {} chips", prod, up.chips)});
    }
    if (!up.dim_link_bandwidth.empty() && up.dim_link_bandwidth.size() != up.dims.size()) {
      out.push_back({"scale_up.dim_link_bandwidth", "give one bandwidth per torus dimension"});
    }
  } else if (!up.dims.empty()) {
    out.push_back({"scale_up.dims", "dims apply only to topology: torus"});
  }
  CheckFraction(up.efficiency, "scale_up.efficiency", &out);
  if (up.in_network_reduction) {
    if (up.topology != ScaleUpTopology::kSwitched) {
      out.push_back({"scale_up.in_network_reduction", "in-network reduction needs a switched domain"});
    }
    if (up.in_network_efficiency <= 0) {
      out.push_back({"scale_up.in_network_efficiency", "give the achieved all-reduce algorithm bandwidth fraction (> 0)"});
    }
    if ((up.in_network_chunk_cost.value() > 0) != (up.in_network_head_rate.value() > 0)) {
      out.push_back({up.in_network_chunk_cost.value() > 0 ? "scale_up.in_network_head_rate" : "scale_up.in_network_chunk_cost",
                     "chunks are priced with both in_network_chunk_cost and in_network_head_rate: give both, or neither"});
    }
  }
  const long domains_per_site = per_site / up.chips;
  if (domains_per_site > 1 || c.sites.count > 1) {
    if (c.scale_out.nic_bandwidth.value() <= 0) {
      out.push_back({"scale_out.nic_bandwidth", "a cluster of more than one scale-up domain needs its NIC bandwidth, e.g. \"400 Gb/s\""});
    }
    if (c.server.nics_per_chip < 1) out.push_back({"server.nics_per_chip", "must be ≥ 1"});
  }
  if (c.scale_out.pod_chips < 0) out.push_back({"scale_out.pod_chips", "must be ≥ 0"});
  if (c.scale_out.pod_chips > 0 && c.scale_out.pod_chips % up.chips != 0) {
    out.push_back({"scale_out.pod_chips", fmt::format("{} is not a whole number of {}-chip scale-up domains", c.scale_out.pod_chips, up.chips)});
  }
  if (c.scale_out.oversubscription < 1.0) out.push_back({"scale_out.oversubscription", "must be ≥ 1 (1 = non-blocking)"});
  CheckFraction(c.scale_out.efficiency, "scale_out.efficiency", &out);
  if (c.scale_out.in_network_reduction && c.scale_out.in_network_efficiency <= 0) {
    out.push_back({"scale_out.in_network_efficiency", "give the achieved algorithm bandwidth fraction (> 0)"});
  }
  if (c.sites.count > 1) {
    if (c.sites.bandwidth.value() <= 0) out.push_back({"sites.bandwidth", "several sites need the inter-site bandwidth, e.g. \"100 Tb/s\""});
    CheckFraction(c.sites.efficiency, "sites.efficiency", &out);
  }
  return out;
}

}  // namespace pf::hw
