// Cluster validation: the cross-field rules, on clusters shaped like the presets in
// data/clusters/ (the presets themselves are loaded and checked in comm/topology tests,
// which may use spec/).
#include "pathfinder/hw/cluster.h"

#include <gtest/gtest.h>

namespace pf::hw {
namespace {
using namespace pf::literals;

// Shaped like data/clusters/dgx-h100.yaml: 8 chips per NVSwitch domain and server, one
// 400 Gb/s NIC per chip, 256-chip pods.
Cluster DgxLike(long chips = 1024) {
  Cluster c;
  c.name = "dgx-like";
  c.chips = chips;
  c.scale_up.chips = 8;
  c.scale_up.bandwidth = 450_GBps;
  c.scale_up.efficiency = 0.824;
  c.server.chips = 8;
  c.scale_out.nic_bandwidth = 50_GBps;
  c.scale_out.pod_chips = 256;
  c.scale_out.efficiency = 0.94;
  return c;
}

// Shaped like data/clusters/tpu-v4-pod.yaml: one 4×4×4 torus domain, 4 chips per host.
Cluster TorusLike() {
  Cluster c;
  c.name = "torus-like";
  c.chips = 64;
  c.scale_up.topology = ScaleUpTopology::kTorus;
  c.scale_up.chips = 64;
  c.scale_up.dims = {4, 4, 4};
  c.scale_up.bandwidth = 300_GBps;
  c.server.chips = 4;
  return c;
}

bool HasProblemAt(const std::vector<Problem>& ps, const std::string& key) {
  for (const Problem& p : ps)
    if (p.key_path == key) return true;
  return false;
}

TEST(ClusterValidate, AcceptsPresetShapedClusters) {
  EXPECT_TRUE(Validate(DgxLike()).empty());
  EXPECT_TRUE(Validate(TorusLike()).empty());
  // One server alone needs no scale-out network.
  Cluster one = DgxLike(8);
  one.scale_out = {};
  EXPECT_TRUE(Validate(one).empty());
}

TEST(ClusterValidate, ChipsMustBeWholeScaleUpDomainsPerSite) {
  Cluster c = DgxLike(1028);
  auto p = Validate(c);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].key_path, "scale_up.chips");
  EXPECT_EQ(p[0].message, "a site's 1028 chips are not a whole number of 8-chip scale-up domains");
}

TEST(ClusterValidate, SitesSplitTheChipsEvenlyAndNeedTheirLinkBandwidth) {
  Cluster c = DgxLike(1024);
  c.sites.count = 3;
  EXPECT_TRUE(HasProblemAt(Validate(c), "sites.count"));
  c.sites.count = 2;
  auto p = Validate(c);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].key_path, "sites.bandwidth");
  c.sites.bandwidth = 100_TBps;
  EXPECT_TRUE(Validate(c).empty());
  EXPECT_EQ(c.ChipsPerSite(), 512);
}

TEST(ClusterValidate, TorusDimensionsMultiplyToTheDomain) {
  Cluster c = TorusLike();
  c.scale_up.dims = {4, 4, 2};
  auto p = Validate(c);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, "dimensions multiply to 32, but the domain has 64 chips");
  c.scale_up.dims = {2, 2, 2, 8};
  EXPECT_TRUE(HasProblemAt(Validate(c), "scale_up.dims"));
  c.scale_up.dims = {4, 4, 4};
  c.scale_up.dim_link_bandwidth = {50_GBps, 50_GBps};  // one per dimension, not two
  EXPECT_TRUE(HasProblemAt(Validate(c), "scale_up.dim_link_bandwidth"));
}

TEST(ClusterValidate, DimsAndInNetworkReductionNeedTheRightTopology) {
  Cluster switched = DgxLike();
  switched.scale_up.dims = {2, 4};
  EXPECT_TRUE(HasProblemAt(Validate(switched), "scale_up.dims"));
  Cluster torus = TorusLike();
  torus.scale_up.in_network_reduction = true;
  torus.scale_up.in_network_efficiency = 0.5;
  EXPECT_TRUE(HasProblemAt(Validate(torus), "scale_up.in_network_reduction"));
  Cluster nvls = DgxLike();
  nvls.scale_up.in_network_reduction = true;  // without its achieved fraction
  EXPECT_TRUE(HasProblemAt(Validate(nvls), "scale_up.in_network_efficiency"));
}

TEST(ClusterValidate, ChunksArePricedWithBothTheirCostAndTheirRate) {
  Cluster c = DgxLike();
  c.scale_up.in_network_reduction = true;
  c.scale_up.in_network_efficiency = 0.5;
  EXPECT_TRUE(Validate(c).empty());
  c.scale_up.in_network_chunk_cost = Seconds(10e-6);  // a cost without a rate
  EXPECT_TRUE(HasProblemAt(Validate(c), "scale_up.in_network_head_rate"));
  c.scale_up.in_network_head_rate = BytesPerSec(3e9);
  EXPECT_TRUE(Validate(c).empty());
  c.scale_up.in_network_chunk_cost = Seconds(0.0);  // a rate without a cost
  EXPECT_TRUE(HasProblemAt(Validate(c), "scale_up.in_network_chunk_cost"));
}

TEST(ClusterValidate, SeveralDomainsNeedANicAndEfficienciesAreFractions) {
  Cluster c = DgxLike(64);
  c.scale_out.nic_bandwidth = BytesPerSec(0);
  c.scale_out.efficiency = 1.2;
  c.scale_up.efficiency = 0;
  auto p = Validate(c);
  EXPECT_TRUE(HasProblemAt(p, "scale_out.nic_bandwidth"));
  EXPECT_TRUE(HasProblemAt(p, "scale_out.efficiency"));
  EXPECT_TRUE(HasProblemAt(p, "scale_up.efficiency"));
  EXPECT_EQ(p.size(), 3u);  // every problem at once, not the first one only
}

TEST(ClusterValidate, ServerAndDomainSizesDivideOneAnother) {
  Cluster c = DgxLike();
  c.server.chips = 3;
  EXPECT_TRUE(HasProblemAt(Validate(c), "server.chips"));
  // An NVL72-style rack: a 72-chip domain of 4-chip trays.
  Cluster rack = DgxLike(72 * 8);
  rack.scale_up.chips = 72;
  rack.server.chips = 4;
  rack.scale_out.pod_chips = 0;
  EXPECT_TRUE(Validate(rack).empty());
  rack.scale_out.pod_chips = 100;  // not whole domains
  EXPECT_TRUE(HasProblemAt(Validate(rack), "scale_out.pod_chips"));
}

TEST(ClusterNicBandwidth, IsPerChipOverAllItsNics) {
  Cluster c = DgxLike();
  c.server.nics_per_chip = 2;
  EXPECT_DOUBLE_EQ(c.ChipNicBandwidth().value(), 100e9);
}

}  // namespace
}  // namespace pf::hw
