// `pathfinder collective <op> --cluster <preset or yaml> --size 1GB --group dp`: the time,
// algorithm, bus bandwidth and bounding links of one collective on one process group;
// `--sweep-sizes` prints a bus-bandwidth-vs-size table like nccl-tests.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/comm/collective.h"
#include "pathfinder/comm/topology.h"
#include "pathfinder/core/units_parse.h"
#include "pathfinder/spec/cluster_spec.h"

namespace pf::cli {

void AddCollectiveCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("collective", "Time and bus bandwidth of one collective on a cluster's process group");
  struct Opts {
    std::string op;
    std::string cluster;
    std::string size = "1 GB";
    std::string group = "dp";
    std::string layout;
    std::string algorithm = "auto";
    std::string issuer = "library";
    long chips = 0;
    bool sweep = false;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("op", o->op, "allreduce, reducescatter, allgather, alltoall, broadcast or sendrecv")->required();
  cmd->add_option("--cluster", o->cluster, "a cluster preset (dgx-h100, …) or a cluster YAML file")->required();
  cmd->add_option("--size", o->size, "bytes per rank as nccl-tests counts them, e.g. 1GB, 256MiB");
  cmd->add_option("--group", o->group, "which parallel dimension's group: tp, cp, ep, dp or pp");
  cmd->add_option("--layout", o->layout,
                  "rank layout, innermost first, e.g. tp=8,dp=*,pp=4 (default: the group spans every chip)");
  cmd->add_option("--algorithm", o->algorithm, "auto, ring, tree, halving-doubling, hierarchical, torus, in-network or direct");
  cmd->add_option("--chips", o->chips, "use this many chips of the cluster (default: the preset's count)")->check(CLI::Range(1L, 100000000L));
  cmd->add_option(
      "--issuer", o->issuer,
      "library (nccl-tests: the collective alone), torch (torch.distributed: + its per-call host overhead) or "
      "torch-barrier (one call timed alone after dist.barrier(), as all_reduce_bench.py: + the whole launch and the "
      "wait for the last rank)");
  cmd->add_flag("--sweep-sizes", o->sweep, "print bus bandwidth vs size, 8 B to 16 GiB in ×4 steps");
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    auto cluster = spec::LoadClusterByName(o->cluster, diag);
    comm::Collective coll{};
    comm::Algorithm algo{};
    if (!comm::ParseCollective(o->op, &coll)) {
      diag.Error({}, "op", fmt::format("unknown collective '{}'; expected allreduce, reducescatter, allgather, alltoall, broadcast or sendrecv", o->op));
    }
    if (!comm::ParseAlgorithm(o->algorithm, &algo)) {
      diag.Error({}, "--algorithm", fmt::format("unknown algorithm '{}'; expected auto, ring, tree, halving-doubling, hierarchical, torus, in-network or direct", o->algorithm));
    }
    comm::Issuer issuer = comm::Issuer::kLibrary;
    if (o->issuer == "torch" || o->issuer == "torch.distributed") {
      issuer = comm::Issuer::kTorchDistributed;
    } else if (o->issuer == "torch-barrier") {
      issuer = comm::Issuer::kTorchAfterBarrier;
    } else if (o->issuer != "library") {
      diag.Error({}, "--issuer",
                 fmt::format("unknown issuer '{}'; expected library, torch or torch-barrier", o->issuer));
    }
    auto size = ParseQuantity<Bytes>(o->size);
    if (!size.ok()) {
      diag.Error({}, "--size", size.error());
    } else if (!(size.value().value() >= 1 && size.value().value() <= 1e18)) {
      diag.Error({}, "--size", fmt::format("{} is not a payload from 1 B to 1 EB per rank", o->size));
    }
    if (cluster && o->chips > 0) {
      const long d = cluster->scale_up.chips * std::max(1, cluster->sites.count);
      if (o->chips % d != 0 && o->chips > cluster->scale_up.chips) {
        diag.Error({}, "--chips", fmt::format("{} is not a whole number of {}-chip domains per site", o->chips, cluster->scale_up.chips));
      } else {
        cluster->chips = std::max<long>(o->chips, cluster->scale_up.chips);
        if (o->chips < cluster->scale_up.chips) cluster->sites.count = 1;
      }
    }
    comm::Layout layout;
    comm::Dim dim = comm::Dim::kDP;
    bool dim_ok = false;
    for (comm::Dim d : comm::kAllDims)
      if (o->group == comm::DimName(d)) dim = d, dim_ok = true;
    if (!dim_ok) diag.Error({}, "--group", fmt::format("unknown group '{}'; expected tp, cp, ep, dp or pp", o->group));
    if (cluster && dim_ok) {
      const long n = o->chips > 0 ? o->chips : cluster->chips;
      auto l = comm::ParseLayout(o->layout.empty() ? fmt::format("{}={}", o->group, n) : o->layout, cluster->chips);
      if (!l.ok()) diag.Error({}, "--layout", l.error());
      else layout = l.value();
    }
    *ctx.err << diag.Render();
    if (diag.has_errors() || !cluster) {
      ctx.exit_code = 2;
      return;
    }
    const comm::Network net(*cluster);
    auto group = comm::GroupOf(net, layout, dim);
    if (!group.ok()) {
      *ctx.err << "error: --layout: " << group.error() << "\n";
      ctx.exit_code = 2;
      return;
    }
    auto spans = [&](const comm::Group& g) {
      std::string s;
      for (int L = 0; L < g.levels; ++L) {
        if (g.fanout[static_cast<size_t>(L)] <= 1) continue;
        if (!s.empty()) s += " × ";
        s += fmt::format("{} {} ({})", g.fanout[static_cast<size_t>(L)], comm::LevelKindName(net.level(L).kind), net.level(L).link);
      }
      return s.empty() ? std::string("one chip") : s;
    };
    auto bound = [&](const comm::Estimate& e) {
      return fmt::format("{} ({})", comm::LevelKindName(net.level(e.bound_level).kind), net.level(e.bound_level).link);
    };
    // NVLS inside one domain: the chunk NCCL cuts the payload into ("" elsewhere).
    auto chunks = [](const comm::Estimate& e) {
      return e.chunk.value() > 0 ? fmt::format(", {:g} KiB chunks", e.chunk.value() / 1024) : std::string();
    };
    if (o->sweep) {
      nlohmann::json rows = nlohmann::json::array();
      TextTable t({"size", "time", "algbw", "busbw", "algorithm", "bound by"});
      t.AlignRight({0, 1, 2, 3});
      for (double s = 8; s <= 16.0 * 1073741824.0; s *= 4) {
        const auto e = comm::EstimateCollective(net, *group, coll, Bytes(s), algo, issuer);
        if (!e.ok) continue;
        const std::string name =
            fmt::format("{}/{}{}", comm::AlgorithmName(e.algorithm), comm::ProtocolName(e.protocol), chunks(e));
        t.Row({ToString(Bytes(s)), ToString(e.time), ToString(e.algbw), ToString(e.busbw), name, bound(e)});
        rows.push_back({{"size_bytes", s},
                        {"time_s", e.time.value()},
                        {"algbw_Bps", e.algbw.value()},
                        {"busbw_Bps", e.busbw.value()},
                        {"algorithm", comm::AlgorithmName(e.algorithm)},
                        {"protocol", comm::ProtocolName(e.protocol)},
                        {"bound_level", comm::LevelKindName(net.level(e.bound_level).kind)},
                        {"chunk_bytes", e.chunk.value()}});
      }
      if (o->json) {
        *ctx.out << nlohmann::json{{"cluster", cluster->name}, {"collective", o->op}, {"group", o->group}, {"members", group->members},
                                   {"rows", rows}}.dump(2) << "\n";
      } else {
        *ctx.out << fmt::format("{} on {} ({} members: {})\n", o->op, cluster->name, group->members, spans(*group)) << t.Render();
      }
      return;
    }
    const auto e = comm::EstimateCollective(net, *group, coll, size.value(), algo, issuer);
    if (!e.ok) {
      *ctx.err << fmt::format("error: --algorithm: {} {}\n", comm::AlgorithmName(algo), e.why);
      ctx.exit_code = 2;
      return;
    }
    if (o->json) {
      *ctx.out << nlohmann::json{{"cluster", cluster->name},
                                 {"collective", o->op},
                                 {"group", o->group},
                                 {"members", group->members},
                                 {"size_bytes", size.value().value()},
                                 {"time_s", e.time.value()},
                                 {"latency_s", e.latency.value()},
                                 {"issuer", comm::IssuerName(issuer)},
                                 {"issue_overhead_s", e.overhead.value()},
                                 {"algorithm", comm::AlgorithmName(e.algorithm)},
                                 {"protocol", comm::ProtocolName(e.protocol)},
                                 {"algbw_Bps", e.algbw.value()},
                                 {"busbw_Bps", e.busbw.value()},
                                 {"bound_level", comm::LevelKindName(net.level(e.bound_level).kind)},
                                 {"bound_link", net.level(e.bound_level).link},
                                 {"chunk_bytes", e.chunk.value()}}
                      .dump(2)
               << "\n";
      return;
    }
    TextTable t({"quantity", "value"});
    t.AlignRight({1});
    t.Row({"group", fmt::format("{} ({} members: {})", o->group, group->members, spans(*group))});
    t.Row({"size", ToString(size.value())});
    t.Row({"time", ToString(e.time)});
    t.Row({"of which latency", ToString(e.latency)});
    if (issuer == comm::Issuer::kTorchAfterBarrier)
      t.Row({"of which torch.distributed launch and barrier wait", ToString(e.overhead)});
    else if (issuer != comm::Issuer::kLibrary)
      t.Row({fmt::format("of which {} per-call overhead", comm::IssuerName(issuer)), ToString(e.overhead)});
    t.Row({"algorithm", fmt::format("{} ({} protocol{})", comm::AlgorithmName(e.algorithm),
                                    comm::ProtocolName(e.protocol), chunks(e))});
    t.Row({"algorithm bandwidth", ToString(e.algbw)});
    t.Row({"bus bandwidth", ToString(e.busbw)});
    t.Row({"bound by", bound(e)});
    *ctx.out << fmt::format("{} on {}\n", o->op, cluster->name) << t.Render();
  });
}

}  // namespace pf::cli
