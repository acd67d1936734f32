// Micro-benchmark: one all-reduce estimate (algorithm selection included) on groups of 8,
// 1 000 and 1 000 000 chips. The estimate is closed-form over at most four network levels,
// so its cost must not grow with the chip count (issue 4: ≥ 1 M estimates/s/core, a
// million-chip estimate within 2× of a thousand-chip one).
#include <benchmark/benchmark.h>

#include "pathfinder/comm/collective.h"
#include "pathfinder/comm/topology.h"

namespace {

using namespace pf::literals;

// A DGX H100-like network (numbers as data/clusters/dgx-h100.yaml), sized to `chips`, with
// a second site for the million-chip case.
pf::hw::Cluster Cluster(long chips) {
  pf::hw::Cluster c;
  c.name = "bench";
  c.chips = chips;
  c.scale_up.chips = 8;
  c.scale_up.bandwidth = 450_GBps;
  c.scale_up.efficiency = 0.824;
  c.scale_up.in_network_reduction = true;
  c.scale_up.in_network_efficiency = 0.611;
  c.server.chips = 8;
  c.scale_out.nic_bandwidth = 50_GBps;
  c.scale_out.efficiency = 0.94;
  c.scale_out.tiers = 3;
  c.scale_out.pod_chips = chips >= 1024 ? 256 : 0;
  c.scale_out.oversubscription = 2;
  if (chips >= 1000000) {
    c.sites.count = 2;
    c.sites.bandwidth = 50_TBps;
    c.sites.latency = 500_us;
  }
  return c;
}

void BM_AllReduceEstimate(benchmark::State& state) {
  const long chips = state.range(0);
  const pf::comm::Network net(Cluster(chips));
  // The whole cluster as one data-parallel group (stride 1): every level is spanned.
  const auto g = pf::comm::MakeGroup(net, 1, chips);
  double size = 1e9;
  for (auto _ : state) {
    auto e = pf::comm::EstimateCollective(net, g.value(), pf::comm::Collective::kAllReduce, pf::Bytes(size));
    benchmark::DoNotOptimize(e);
    size += 1;  // defeat caching
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllReduceEstimate)->Arg(8)->Arg(1000)->Arg(1000000);

}  // namespace
