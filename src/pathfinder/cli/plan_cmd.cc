// `pathfinder plan scenario.yaml`: the parallelism planner. With a `train:` section it
// enumerates every training layout of the model on the scenario's cluster (search/
// train_planner), prunes by the rules and the memory fit, and prints the best by tokens/s
// with their breakdowns plus the infeasible layouts counted by reason. With a `serve:`
// section it searches replica shapes for the best goodput per chip under the SLOs
// (search/serve_planner); `--demand 2000` turns that into replicas, chips, servers and
// megawatts. `--compare-chips a,b,c` plans the same job on several chip kinds.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/run_report.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/core/strings.h"
#include "pathfinder/power/power.h"
#include "pathfinder/search/serve_planner.h"
#include "pathfinder/search/train_planner.h"
#include "pathfinder/serve/iteration_cost.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_price.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/econ_spec.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/spec/serve_spec.h"

namespace pf::cli {

namespace {

struct PlanOpts {
  std::string path;
  bool json = false;
  size_t top = 10;
  int threads = 0;
  long chips = 0;
  std::vector<int> tp, pp, cp, ep, vp, zero;
  std::vector<long> micro_batch, max_batch, max_tokens;
  std::vector<std::string> recompute, precision, compare;
  std::string slo;
  double demand = 0;
  long requests = 0;
};

std::string Ms(Seconds t) { return fmt::format("{:.1f}", t.value() * 1e3); }

// One chip kind to plan on: the scenario's own, or a preset named by --compare-chips.
struct Target {
  hw::Chip chip;
  std::optional<hw::Cluster> cluster;  // the scenario's cluster, for its own chip only
  spec::ResolvedCalibration cal;
  std::string design;  // the design file a designed chip came from ("" for a preset)
};

std::string LayoutText(const graph::Parallelism& p, const train::TrainSettings& s) {
  std::string t = fmt::format("tp{} pp{}", p.tp, p.pp);
  if (s.virtual_stages > 1) t += fmt::format("×v{}", s.virtual_stages);
  t += fmt::format(" dp{}", p.dp);
  if (p.cp > 1) t += fmt::format(" cp{}", p.cp);
  if (p.ep > 1) t += fmt::format(" ep{}", p.ep);
  return t;
}

nlohmann::json InfeasibleJson(const std::vector<std::pair<std::string, size_t>>& v) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [why, n] : v) j.push_back({{"reason", why}, {"count", n}});
  return j;
}

void PrintInfeasible(std::ostream& out, const std::vector<std::pair<std::string, size_t>>& v) {
  if (v.empty()) return;
  out << "infeasible, by reason:\n";
  for (const auto& [why, n] : v) out << fmt::format("  {:>8}  {}\n", n, why);
}

// ---- training ---------------------------------------------------------------------------

nlohmann::json PlanTrainJson(const std::string& chip, const search::TrainPlan& plan) {
  nlohmann::json top = nlohmann::json::array();
  for (const auto& l : plan.top) {
    const auto& p = l.candidate.p;
    const auto& s = l.candidate.s;
    const auto& r = l.result;
    const auto& b = r.step;
    top.push_back({{"tp", p.tp}, {"pp", p.pp}, {"virtual_stages", s.virtual_stages}, {"dp", p.dp}, {"cp", p.cp},
                   {"ep", p.ep}, {"sequence_parallel", p.sequence_parallel}, {"micro_batch", s.micro_batch},
                   {"zero_stage", s.zero_stage}, {"recompute", graph::Name(s.recompute)},
                   {"precision", std::string(pf::Name(s.precision))}, {"step_time_s", b.total.value()},
                   {"tokens_per_s", r.tokens_per_s}, {"mfu", r.mfu},
                   {"memory_per_chip_bytes", r.memory_fit.worst.value()},
                   {"breakdown_s", StepBreakdownJson(b)}});
  }
  return {{"chip", chip}, {"chips", plan.chips}, {"enumerated", plan.enumerated}, {"simulated", plan.simulated},
          {"feasible", plan.feasible}, {"seconds", plan.seconds}, {"top", top},
          {"infeasible", InfeasibleJson(plan.infeasible)}};
}

void PrintTrainPlan(std::ostream& out, const std::string& chip, const search::TrainPlan& plan, int threads) {
  out << fmt::format("{} layouts of {} × {} enumerated, {} simulated, {} fit; {:.3f} s on {} thread(s)\n",
                     plan.enumerated, plan.chips, chip, plan.simulated, plan.feasible, plan.seconds, threads);
  if (plan.top.empty()) {
    out << "no layout fits\n";
  } else {
    TextTable t({"#", "layout", "mb", "zero", "recompute", "dtype", "step ms", "tokens/s", "MFU", "mem/chip", "compute",
                 "exposed comm", "bubble", "optimizer"});
    t.AlignRight({0, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13});
    int rank = 0;
    for (const auto& l : plan.top) {
      const auto& s = l.candidate.s;
      const auto& r = l.result;
      const auto& b = r.step;
      const Seconds comm = b.tp_comm + b.cp_comm + b.ep_comm + b.pp_comm + b.fsdp_comm + b.dp_comm;
      t.Row({std::to_string(++rank), LayoutText(l.candidate.p, s), std::to_string(s.micro_batch),
             std::to_string(s.zero_stage), graph::Name(s.recompute), std::string(pf::Name(s.precision)), Ms(b.total),
             FormatNumber(r.tokens_per_s, 4), fmt::format("{:.1f}%", 100 * r.mfu), ToString(r.memory_fit.worst, 3),
             Ms(b.compute), Ms(comm), Ms(b.bubble), Ms(b.optimizer)});
    }
    out << t.Render();
    out << "(times per step in ms; exposed comm = TP + CP + EP + PP + FSDP + DP not hidden behind compute)\n";
  }
  PrintInfeasible(out, plan.infeasible);
}

// ---- serving ----------------------------------------------------------------------------

struct Demand {
  long replicas = 0, chips = 0, servers = 0;
  power::ClusterPower power;
  std::optional<spec::HourlyCost> hourly;  // per chip, at the IT power per chip at TDP
};

// Chips, servers and megawatts at TDP for the demand, and $ per hour when the chip has a
// price (spec/chip_price: TCO of a purchase or build cost at that power, or a cloud rate).
Demand DemandFor(double demand, const search::PlannedReplica& r, const hw::Chip& chip, const spec::ChipPrice& price,
                 const spec::EconAssumptions& econ) {
  Demand d;
  d.replicas = search::ReplicasFor(demand, r.max_rate.rate);
  d.chips = d.replicas * r.chips;
  d.power = power::Cluster(d.chips, chip.tdp, econ.server, econ.pue);
  d.servers = d.power.servers;
  if (d.chips > 0) d.hourly = spec::HourlyCostOf(price, d.power.it_power / double(d.chips), econ);
  return d;
}

std::string DollarsPerHour(const Demand& d) {
  return d.hourly ? spec::FormatDollars(d.hourly->per_chip_hour * double(d.chips)) : std::string("-");
}

nlohmann::json PlanServeJson(const std::string& chip, const search::ServePlan& plan, double demand,
                             const std::vector<Demand>& demands) {
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < plan.top.size(); ++i) {
    const auto& r = plan.top[i];
    const auto& p = r.candidate.p;
    const auto& e = r.candidate.s.engine;
    nlohmann::json j = {{"tp", p.tp}, {"pp", p.pp}, {"ep", p.ep}, {"chips_per_replica", r.chips},
                        {"max_batch", e.max_batch}, {"max_tokens", e.max_tokens},
                        {"max_rate_requests_per_s", r.max_rate.rate}, {"requests_per_s_per_chip", r.rate_per_chip},
                        {"ttft_p_slo_s", r.max_rate.at_rate.slo_percentile_ttft},
                        {"tpot_p_slo_s", r.max_rate.at_rate.slo_percentile_tpot},
                        {"output_tokens_per_s", r.max_rate.at_rate.output_tokens_per_s},
                        {"kv_capacity_tokens", r.memory.kv_tokens}, {"probes", r.max_rate.probes}};
    if (demand > 0) {
      const Demand& d = demands[i];
      j["demand"] = {{"requests_per_s", demand}, {"replicas", d.replicas}, {"chips", d.chips}, {"servers", d.servers},
                     {"it_power_w_at_tdp", d.power.it_power.value()},
                     {"facility_power_w_at_tdp", d.power.facility_power.value()}};
      if (d.hourly) {
        j["demand"]["usd_per_hour"] = d.hourly->per_chip_hour.value() * double(d.chips);
        j["demand"]["usd_per_chip_hour"] = d.hourly->per_chip_hour.value();
        j["demand"]["cost_basis"] = d.hourly->basis;
      }
    }
    top.push_back(j);
  }
  return {{"chip", chip}, {"enumerated", plan.enumerated}, {"simulated", plan.simulated}, {"feasible", plan.feasible},
          {"seconds", plan.seconds}, {"top", top}, {"infeasible", InfeasibleJson(plan.infeasible)}};
}

void PrintServePlan(std::ostream& out, const std::string& chip, const search::ServePlan& plan, double demand,
                    const std::vector<Demand>& demands, int threads) {
  out << fmt::format("{} replica shapes on {} enumerated, {} simulated, {} meet the SLOs; {:.2f} s on {} thread(s)\n",
                     plan.enumerated, chip, plan.simulated, plan.feasible, plan.seconds, threads);
  if (plan.top.empty()) {
    out << "no replica shape meets the SLOs\n";
  } else {
    std::vector<std::string> head = {"#", "replica", "max batch", "max tokens", "req/s per replica", "req/s per chip",
                                     "TTFT@p", "TPOT@p", "out tok/s"};
    if (demand > 0) {
      for (const char* h : {"replicas", "chips", "servers", "MW at TDP", "$/hour"}) head.push_back(h);
    }
    TextTable t(head);
    std::vector<size_t> right;
    for (size_t c = 0; c < head.size(); ++c)
      if (c != 1) right.push_back(c);
    t.AlignRight(right);
    for (size_t i = 0; i < plan.top.size(); ++i) {
      const auto& r = plan.top[i];
      const auto& p = r.candidate.p;
      const auto& e = r.candidate.s.engine;
      std::vector<std::string> row = {
          std::to_string(i + 1),
          fmt::format("tp{} pp{}{} ({} chip{})", p.tp, p.pp, p.ep > 1 ? fmt::format(" ep{}", p.ep) : "", r.chips, r.chips == 1 ? "" : "s"),
          std::to_string(e.max_batch), std::to_string(e.max_tokens), FormatNumber(r.max_rate.rate, 4),
          FormatNumber(r.rate_per_chip, 4), fmt::format("{:.0f} ms", r.max_rate.at_rate.slo_percentile_ttft * 1e3),
          fmt::format("{:.1f} ms", r.max_rate.at_rate.slo_percentile_tpot * 1e3),
          FormatNumber(r.max_rate.at_rate.output_tokens_per_s, 4)};
      if (demand > 0) {
        const Demand& d = demands[i];
        row.push_back(std::to_string(d.replicas));
        row.push_back(std::to_string(d.chips));
        row.push_back(std::to_string(d.servers));
        row.push_back(fmt::format("{:.3f}", d.power.facility_power.value() / 1e6));
        row.push_back(DollarsPerHour(d));
      }
      t.Row(row);
    }
    out << t.Render();
    if (demand > 0)
      out << fmt::format(
          "(for {} requests/s; MW = facility power with every chip at TDP, server overheads and PUE from "
          "data/econ/defaults.yaml; $/hour: {})\n",
          FormatNumber(demand, 4), demands.empty() || !demands[0].hourly ? "no price for this chip" : demands[0].hourly->basis);
  }
  PrintInfeasible(out, plan.infeasible);
}

template <typename T>
bool ParseList(const std::vector<std::string>& in, const char* flag, const char* allowed,
               T (*parse)(const std::string&, bool*), std::vector<T>* out, Diagnostics& diag) {
  for (const auto& text : in) {
    bool ok = false;
    T v = parse(text, &ok);
    if (!ok) {
      diag.Error({"", 0, 0}, flag, fmt::format("'{}' is not a valid value; allowed: {}", text, allowed));
      return false;
    }
    out->push_back(v);
  }
  return true;
}

graph::Recompute ParseRecompute(const std::string& t, bool* ok) {
  *ok = true;
  if (t == "none") return graph::Recompute::kNone;
  if (t == "selective") return graph::Recompute::kSelective;
  if (t == "full") return graph::Recompute::kFull;
  *ok = false;
  return graph::Recompute::kNone;
}

DType ParsePrecision(const std::string& t, bool* ok) {
  *ok = true;
  if (t == "bf16") return DType::kBf16;
  if (t == "fp8") return DType::kFp8;
  *ok = false;
  return DType::kBf16;
}

}  // namespace

void AddPlanCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand(
      "plan", "Search parallel layouts (train:) or replica shapes (serve:) and print the best, with infeasible counts");
  auto o = std::make_shared<PlanOpts>();
  cmd->add_option("scenario", o->path, "scenario with a model, a chip or cluster, and a train or serve section")->required();
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->add_option("--top", o->top, "how many of the best to print (default 10)")->check(CLI::Range(1, 100000));
  cmd->add_option("--threads", o->threads, "worker threads (default: all cores); the plan does not depend on it")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--chips", o->chips, "train: total chips (default: the cluster's)")->check(CLI::Range(1L, 100000000L));
  cmd->add_option("--tp", o->tp, "tensor-parallel degrees to try, e.g. 1,2,4,8")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--pp", o->pp, "pipeline-parallel degrees to try")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--cp", o->cp, "train: context-parallel degrees to try")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--ep", o->ep, "expert-parallel degrees to try (MoE)")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--vp", o->vp, "train: virtual pipeline stages to try (interleaved 1F1B)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--zero", o->zero, "train: ZeRO stages to try (0-3)")->delimiter(',')->check(CLI::Range(0, 3));
  cmd->add_option("--micro-batch", o->micro_batch, "train: micro-batch sizes to try")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--recompute", o->recompute, "train: none,selective,full")->delimiter(',');
  cmd->add_option("--precision", o->precision, "train: matmul precisions to try: bf16,fp8")->delimiter(',');
  cmd->add_option("--max-batch", o->max_batch, "serve: max sequences per iteration to try")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-tokens", o->max_tokens, "serve: max tokens per iteration to try")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo", o->slo, "serve: SLOs, e.g. ttft=2s,tpot=200ms[,p=99] (overrides serve.slo)");
  cmd->add_option("--demand", o->demand, "serve: requests/s to provision for (replicas, chips, servers, MW)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--requests", o->requests, "serve: requests per simulated probe (default: serve.workload.requests)")
      ->check(CLI::Range(10L, 10000000L));
  cmd->add_option("--compare-chips", o->compare, "plan the same job on these chip presets too, e.g. h100-sxm,h200-sxm,b200")
      ->delimiter(',');
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    // CLI11's range checks let nan through; a demand beyond 10^9 requests/s (every replica
    // count and chip total is a 64-bit integer) is a typo.
    if (o->demand != 0 && !(o->demand > 0 && o->demand <= 1e9)) {
      diag.Error({}, "--demand", fmt::format("{} is not a rate from 0 to 1e9 requests/s", o->demand));
    }
    auto sc = spec::LoadScenario(o->path, diag);
    if (sc && (!sc->chip || !sc->model || (!sc->train && !sc->serve))) {
      diag.Error({o->path, 0, 0}, "", "`pathfinder plan` needs a model, a chip or cluster, and a train or serve section");
    }
    if (sc && sc->train && sc->serve) {
      diag.Error({o->path, 0, 0}, "", "the scenario has both a train and a serve section; `pathfinder plan` plans one of them");
    }
    search::TrainSpace tspace;
    tspace.tp = o->tp;
    tspace.pp = o->pp;
    tspace.cp = o->cp;
    tspace.ep = o->ep;
    tspace.virtual_stages = o->vp;
    tspace.zero_stage = o->zero;
    tspace.micro_batch = o->micro_batch;
    ParseList<graph::Recompute>(o->recompute, "--recompute", "none, selective, full", ParseRecompute, &tspace.recompute, diag);
    ParseList<DType>(o->precision, "--precision", "bf16, fp8", ParsePrecision, &tspace.precision, diag);
    std::optional<serve::Objectives> slo;
    if (!o->slo.empty()) {
      auto r = spec::ParseSloText(o->slo);
      if (!r.ok())
        diag.Error({"", 0, 0}, "--slo", r.error());
      else
        slo = r.value();
    }
    if (sc && sc->serve && !sc->train) {
      const serve::Objectives& g = slo ? *slo : sc->serve->slo;
      if (g.ttft.value() <= 0 && g.tpot.value() <= 0 && g.e2e.value() <= 0) {
        diag.Error({o->path, 0, 0}, "serve.slo",
                   "planning a serving deployment ranks replica shapes by goodput under SLOs; give serve.slo or "
                   "--slo ttft=2s,tpot=200ms");
      }
    }
    // The chips to plan on.
    std::vector<Target> targets;
    if (sc && sc->chip && !diag.has_errors()) {
      auto cal = spec::ResolveCalibration(*sc->chip, diag);
      if (cal) targets.push_back({*sc->chip, sc->cluster, *cal, sc->chip_design});
      for (const auto& name : o->compare) {
        if (name == sc->chip->name) continue;
        auto chip = spec::LoadChipPreset(name, diag);
        if (!chip) continue;
        auto c = spec::ResolveCalibration(*chip, diag);
        if (c) targets.push_back({*chip, std::nullopt, *c, ""});
      }
    }
    std::optional<spec::EconAssumptions> econ;
    if (!diag.has_errors()) econ = spec::LoadEconDefaults(diag);
    if (!sc || diag.has_errors() || targets.empty() || !econ) {
      *ctx.err << diag.Render();
      ctx.exit_code = 2;
      return;
    }
    search::ThreadPool pool(o->threads);
    nlohmann::json plans = nlohmann::json::array();

    if (sc->train) {
      const train::TrainSettings& base = *sc->train;
      const long chips = o->chips > 0 ? o->chips
                         : sc->cluster ? sc->cluster->chips
                                       : long(sc->parallelism.chips());
      if (!o->json)
        *ctx.out << fmt::format("plan {}: training {} on {} chips, seq {}, global batch {} sequences\n", sc->name,
                                sc->model->name, chips, base.seq_len,
                                base.global_batch > 0 ? std::to_string(base.global_batch) : std::string("dp × micro-batch"));
      for (const Target& t : targets) {
        hw::Cluster cluster = t.cluster ? *t.cluster : train::ClusterFromChipLinks(t.chip, chips);
        if (chips > cluster.chips) {
          *ctx.err << fmt::format("{}: error: --chips {} exceeds the cluster's {} chips\n", o->path, chips, cluster.chips);
          ctx.exit_code = 2;
          return;
        }
        const train::Simulator sim(*sc->model, ops::OpModel(t.chip, t.cal.ceilings), cluster);
        const search::TrainPlan plan = search::PlanTraining(sim, chips, base, tspace, o->top, pool);
        if (o->json) {
          nlohmann::json j = PlanTrainJson(t.chip.name, plan);
          j["cluster"] = t.cluster ? cluster.name : cluster.name + " (no cluster section: chip links at 100 % efficiency)";
          plans.push_back(j);
        } else {
          *ctx.out << fmt::format("\n== {} ({})\n", t.chip.name,
                                  t.cluster ? cluster.name : "no cluster section: chip links at 100 % efficiency");
          PrintTrainPlan(*ctx.out, t.chip.name, plan, pool.threads());
        }
        if (plan.top.empty()) ctx.exit_code = 1;
      }
    } else {
      serve::ServeSettings base = *sc->serve;
      if (slo) base.slo = *slo;
      if (o->requests > 0) base.workload.requests = o->requests;
      search::ServeSpace sspace;
      sspace.tp = o->tp;
      sspace.pp = o->pp;
      sspace.ep = o->ep;
      sspace.max_batch = o->max_batch;
      sspace.max_tokens = o->max_tokens;
      if (!o->json)
        *ctx.out << fmt::format(
            "plan {}: serving {}, {} requests per probe, SLO p{} ttft {} tpot {}; best goodput per chip first\n", sc->name,
            sc->model->name, base.workload.requests, FormatNumber(base.slo.percentile),
            base.slo.ttft.value() > 0 ? ToString(base.slo.ttft) : "-", base.slo.tpot.value() > 0 ? ToString(base.slo.tpot) : "-");
      for (const Target& t : targets) {
        const ops::OpModel op(t.chip, t.cal.ceilings);
        std::optional<comm::Network> net;
        if (t.cluster) net.emplace(*t.cluster);
        const hw::Cluster cl = t.cluster ? *t.cluster : serve::DefaultCluster(t.chip, 8);
        const int domain = int(std::max<long>(1, cl.scale_up.chips));
        const search::ServePlan plan =
            search::PlanServing(op, *sc->model, net ? &*net : nullptr, domain, base, sspace, o->top, pool);
        std::vector<Demand> demands;
        Diagnostics price_diag;
        const spec::ChipPrice price = spec::ChipPriceFor(t.chip, t.design, price_diag);
        *ctx.err << price_diag.Render();
        for (const auto& r : plan.top) demands.push_back(DemandFor(o->demand, r, t.chip, price, *econ));
        if (o->json) {
          plans.push_back(PlanServeJson(t.chip.name, plan, o->demand, demands));
        } else {
          *ctx.out << fmt::format("\n== {}\n", t.chip.name);
          PrintServePlan(*ctx.out, t.chip.name, plan, o->demand, demands, pool.threads());
        }
        if (plan.top.empty()) ctx.exit_code = 1;
      }
    }
    if (o->json) *ctx.out << nlohmann::json{{"scenario", sc->name}, {"plans", plans}}.dump(2) << "\n";
  });
}

}  // namespace pf::cli
