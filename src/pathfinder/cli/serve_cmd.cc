// `pathfinder serve scenario.yaml`: simulates the scenario's serving run and prints TTFT,
// TPOT, ITL, E2E percentiles, throughput, goodput, KV-cache use and batch size; optionally
// the per-request CSV (--requests-csv), a Perfetto/Chrome trace of the iterations (--trace)
// and the highest Poisson rate meeting the SLOs (--find-max-rate --slo ttft=2s,tpot=200ms);
// and the power: average chip watts (busy and idle), replica/cluster and facility power,
// joules per output token and output tokens per joule (spec/chip_energy, power/); and the
// money: $ per chip-hour (TCO of the chip's price, or its cloud rate) and $ per million output
// tokens (spec/chip_price, econ/).
#include <fmt/core.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/run_report.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/comm/topology.h"
#include "pathfinder/serve/metrics.h"
#include "pathfinder/serve/settings.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/chip_price.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/spec/serve_spec.h"

namespace pf::cli {
namespace {

nlohmann::json ToJson(const serve::Percentiles& p) {
  return {{"mean_s", p.mean}, {"p50_s", p.p50}, {"p90_s", p.p90}, {"p99_s", p.p99}};
}

nlohmann::json ToJson(const serve::Summary& s) {
  return {{"requests", s.requests},
          {"completed", s.completed},
          {"rejected", s.rejected},
          {"span_s", s.span},
          {"ttft", ToJson(s.ttft)},
          {"tpot", ToJson(s.tpot)},
          {"itl", ToJson(s.itl)},
          {"e2e", ToJson(s.e2e)},
          {"output_tokens_per_s", s.output_tokens_per_s},
          {"total_tokens_per_s", s.total_tokens_per_s},
          {"requests_per_s", s.requests_per_s},
          {"goodput_requests_per_s", s.goodput_requests_per_s},
          {"slo_attainment", s.slo_attainment},
          {"slo_met", s.slo_met},
          {"mean_input_tokens", s.mean_input},
          {"mean_output_tokens", s.mean_output},
          {"mean_batch", s.mean_batch},
          {"mean_kv_used", s.mean_kv_used},
          {"max_kv_used", s.max_kv_used},
          {"iterations", s.iterations},
          {"preemptions", s.preemptions},
          {"tokens_per_decode_step", s.tokens_per_decode_step},
          {"busy_share",
           {{"linear", s.busy_share.linear},
            {"attention", s.busy_share.attention},
            {"communication", s.busy_share.communication},
            {"host", s.busy_share.host},
            {"draft", s.busy_share.draft}}}};
}

// "linear 61 % · attention 22 % · communication 14 % · host 3 %" (parts that took time).
std::string ShareText(const serve::TimeSplit& f) {
  std::string out;
  auto add = [&](const char* name, double x) {
    if (x <= 0) return;
    if (!out.empty()) out += " · ";
    out += fmt::format("{} {:.0f} %", name, x * 100);
  };
  add("linear", f.linear);
  add("attention", f.attention);
  add("communication", f.communication);
  add("host", f.host);
  add("drafter", f.draft);
  return out.empty() ? "-" : out;
}

std::string Ms(double s) { return FormatNumber(s * 1e3, 4) + " ms"; }

// The power of the run: every chip does its replica's average work while busy and idles
// at its static power for the rest of the span.
struct ServePower : RunPower {
  power::PowerResult busy;  // one chip while busy
  double busy_fraction = 0;
  Seconds nominal_span;  // throttled: the run's span at the nominal clock (0 otherwise)
};

// A serving run and its summary.
using spec::ServeRun;

// The power of the run. When the modelled power exceeds the TDP the run is re-simulated at
// the throttled clock (spec::CapServeRun; `run_at(r)` simulates it at clock ratio r) and
// `run` becomes that run.
ServePower PowerOf(ServeRun& run, const std::function<ServeRun(double)>& run_at, int replicas, int chips_per_replica,
                   const hw::Chip& chip, const std::optional<hw::Cluster>& cluster) {
  ServePower out;
  const PowerInputs in = StartRunPower(chip, out);
  if (!in.ok()) return out;
  const power::ChipPowerModel* model = &*in.model;
  const spec::EconAssumptions* econ = &*in.econ;
  Seconds span;
  if (spec::ServeRunActivity(run, replicas, &span).duration.value() <= 0 || span.value() <= 0) {
    out.unavailable = "the run did no work";
    return out;
  }
  const double nominal_span = run.sum.span;
  const int per_server = cluster ? cluster->server.chips : 0;
  double ratio = 1;
  out.run = spec::CapServeRun(run, run_at, replicas, long(replicas) * chips_per_replica, *model, chip.clock,
                              spec::ServerFor(*econ, per_server), econ->pue, &ratio);
  const power::Activity busy = spec::ServeRunActivity(run, replicas, &span);
  if (ratio < 1) out.nominal_span = Seconds(nominal_span);
  out.busy = power::Evaluate(busy, *model, chip.clock);
  if (ratio < 1) out.busy.average = out.run->chip.energy.Total() / out.run->chip.duration;  // the throttled draw
  out.busy_fraction = busy.duration / span;
  return out;
}

nlohmann::json ToJson(const ServePower& p) {
  if (!p.run) return {{"available", false}, {"reason", p.unavailable}};
  const power::RunEnergy& e = *p.run;
  const double fj = e.FacilityJoulesPerToken();
  return {{"available", true},
          {"basis", p.basis},
          {"chip_w", e.chip.average.value()},
          {"chip_busy_w", p.busy.average.value()},
          {"busy_fraction", p.busy_fraction},
          {"tdp_w", p.tdp.value()},
          {"throttled", e.chip.throttled},
          {"clock_ratio", e.chip.clock_ratio},
          {"nominal_clock_span_s", p.nominal_span.value() > 0 ? p.nominal_span.value() : e.duration.value()},
          {"note", e.chip.note},
          {"chips", e.cluster.chips},
          {"servers", e.cluster.servers},
          {"chips_w", e.cluster.chips_power.value()},
          {"it_w", e.cluster.it_power.value()},
          {"facility_w", e.cluster.facility_power.value()},
          {"pue", p.pue},
          {"energy_j", e.facility_energy.value()},
          {"output_tokens", e.tokens},
          {"chip_j_per_output_token", e.ChipJoulesPerToken()},
          {"facility_j_per_output_token", fj},
          {"output_tokens_per_j", fj > 0 ? 1.0 / fj : 0.0}};
}

// The money of the run: every chip is paid for over the whole span, busy or idle.
struct ServeCost {
  spec::ChipPrice price;
  std::optional<spec::HourlyCost> hourly;
  std::string unavailable;
  Watts it_per_chip;
  double per_million_output_tokens = 0;  // $; 0 when no tokens came out
};

ServeCost CostOf(const serve::Summary& sum, long chips, const spec::Scenario& sc, const ServePower& pw, Diagnostics& diag) {
  ServeCost out;
  out.price = spec::ChipPriceFor(*sc.chip, sc.chip_design, diag);
  auto econ = spec::LoadEconDefaults(diag);
  if (pw.run && pw.run->cluster.chips > 0) out.it_per_chip = pw.run->cluster.it_power / double(pw.run->cluster.chips);
  if (econ) out.hourly = spec::HourlyCostOf(out.price, out.it_per_chip, *econ);
  if (!out.hourly) {
    out.unavailable = out.price.kind == spec::ChipPrice::Kind::kNone ? out.price.basis
                      : !econ ? "data/econ/defaults.yaml did not load"
                              : "no power estimate for the TCO (" + pw.unavailable + ")";
    return out;
  }
  const double per_chip_tokens_per_s = chips > 0 ? sum.output_tokens_per_s / double(chips) : 0;
  if (per_chip_tokens_per_s > 0) {
    out.per_million_output_tokens =
        out.hourly->per_chip_hour.value() * 1e6 / (per_chip_tokens_per_s * 3600.0);  // econ::CostPerMillionTokens
  }
  return out;
}

nlohmann::json ToJson(const ServeCost& c) {
  nlohmann::json j = CostJson(c.price, c.hourly, c.unavailable, c.it_per_chip);
  if (!c.hourly) return j;
  j["per_million_output_tokens_usd"] = c.per_million_output_tokens;
  return j;
}

// Chrome trace-event JSON (opens in ui.perfetto.dev): one track per replica, one slice per
// iteration with its batch, tokens, KV use and time by part.
std::string TraceJson(const serve::SimResult& r) {
  nlohmann::json ev = nlohmann::json::array();
  for (const auto& x : r.timeline) {
    ev.push_back(
        {{"name", x.prefill_tokens > 0 ? "prefill+decode" : "decode"},
         {"ph", "X"},
         {"ts", x.start * 1e6},
         {"dur", x.duration * 1e6},
         {"pid", 1},
         {"tid", x.replica},
         {"args",
          {{"seqs", x.seqs},
           {"tokens", x.tokens},
           {"prefill_tokens", x.prefill_tokens},
           {"kv_used", x.kv_used},
           {"linear_ms", x.linear * 1e3},
           {"attention_ms", x.attention * 1e3},
           {"communication_ms", x.communication * 1e3},
           {"host_ms", x.host * 1e3},
           {"draft_ms", x.draft * 1e3}}}});
    ev.push_back({{"name", "kv_used"},
                  {"ph", "C"},
                  {"ts", x.start * 1e6},
                  {"pid", 1},
                  {"args", {{fmt::format("replica {}", x.replica), x.kv_used}}}});
  }
  return nlohmann::json{{"traceEvents", ev}, {"displayTimeUnit", "ms"}}.dump() + "\n";
}

}  // namespace

void AddServeCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("serve", "Simulate serving a model: TTFT, TPOT, throughput, goodput, KV-cache use");
  struct Opts {
    std::string scenario;
    bool json = false;
    std::string requests_csv, trace, slo;
    bool find_max_rate = false;
    long requests = 0;
    double rate = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("scenario", o->scenario, "a scenario file with chip/cluster, model, parallelism and serve sections")
      ->required();
  cmd->add_flag("--json", o->json, "print the summary as JSON");
  cmd->add_option("--requests-csv", o->requests_csv, "write one row per request to this CSV file");
  cmd->add_option("--trace", o->trace, "write a Perfetto (Chrome trace JSON) timeline of the iterations");
  cmd->add_flag("--find-max-rate", o->find_max_rate, "find the highest Poisson rate that meets the SLOs");
  cmd->add_option("--slo", o->slo, "SLOs, e.g. ttft=2s,tpot=200ms[,e2e=30s][,p=99] (overrides serve.slo)");
  cmd->add_option("--requests", o->requests, "override serve.workload.requests")->check(CLI::Range(1L, 100000000L));
  cmd->add_option("--rate", o->rate, "override the arrival rate (requests/s; makes arrivals Poisson)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            // CLI::PositiveNumber lets nan through (nan <= 0 is false), and the run then ignored it.
            char* end = nullptr;
            const double r = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !(r > 0) || !std::isfinite(r))
              return "'" + v + "' is not a positive number of requests/s";
            return {};
          },
          "POSITIVE"));
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    auto sc = spec::LoadScenario(o->scenario, diag);
    if (sc && (!sc->chip || !sc->model || !sc->serve)) {
      diag.Error({o->scenario, 0, 0}, "", "`pathfinder serve` needs a chip (or cluster), a model and a serve section");
    }
    serve::ServeSettings s;
    if (sc && sc->serve) s = *sc->serve;
    if (!o->slo.empty()) {
      auto r = spec::ParseSloText(o->slo);
      if (!r.ok())
        diag.Error({"", 0, 0}, "--slo", r.error());
      else
        s.slo = r.value();
    }
    std::optional<spec::ResolvedCalibration> cal;
    if (!diag.has_errors()) cal = spec::ResolveCalibration(*sc->chip, diag);
    *ctx.err << diag.Render();  // warnings too (e.g. a designed chip's estimated datasheet), as `train` does
    if (diag.has_errors() || !cal) {
      ctx.exit_code = 2;
      return;
    }
    if (o->requests > 0) s.workload.requests = o->requests;
    if (o->rate > 0) s.arrivals = {serve::ArrivalKind::kPoisson, o->rate, 0};
    s.engine.replicas = serve::ServedReplicas(s.engine, sc->parallelism.dp);
    // What the flags changed is checked as serve: checks the scenario's own values.
    if (s.arrivals.kind == serve::ArrivalKind::kPoisson && s.workload.trace.empty()) {
      if (auto m = spec::PoissonSpanError(s.workload.requests, s.arrivals.rate)) {
        *ctx.err << "error: " << *m << "\n";
        ctx.exit_code = 2;
        return;
      }
    }
    if (o->find_max_rate && s.slo.ttft.value() <= 0 && s.slo.tpot.value() <= 0 && s.slo.e2e.value() <= 0) {
      *ctx.err << "error: --find-max-rate needs SLOs: give --slo ttft=2s,tpot=200ms or serve.slo\n";
      ctx.exit_code = 2;
      return;
    }
    const ops::OpModel op(*sc->chip, cal->ceilings);
    std::optional<comm::Network> net;
    if (sc->cluster) net.emplace(*sc->cluster);
    serve::IterationCostModel cost(op, *sc->model, sc->parallelism, s, net ? &*net : nullptr);
    const auto& mem = cost.memory();
    if (!mem.fits) {
      *ctx.err << fmt::format(
          "{}: error: {} does not fit on {} × {}: weights {} + activations {} per chip leave no room for "
          "a KV block in {} of HBM\n1 error; nothing was simulated.\n",
          o->scenario, sc->model->name, cost.chips(), sc->chip->name, ToString(mem.weights), ToString(mem.activations),
          ToString(mem.hbm));
      ctx.exit_code = 2;
      return;
    }
    serve::SimOptions opt;
    opt.record_timeline = !o->trace.empty();
    std::optional<serve::MaxRate> max_rate;
    if (o->find_max_rate) max_rate = serve::FindMaxRate(s, cost);
    ServeRun run;
    run.res = serve::Simulate(s, cost, opt);
    run.sum = serve::Summarize(run.res, s.slo);
    auto run_at = [&](double ratio) {
      const ops::ClockedChip c = ops::AtClockRatio(*sc->chip, cal->ceilings, ratio);
      const ops::OpModel slow(c.chip, c.ceilings);
      serve::IterationCostModel slow_cost(slow, *sc->model, sc->parallelism, s, net ? &*net : nullptr);
      ServeRun x;
      x.res = serve::Simulate(s, slow_cost, opt);
      x.sum = serve::Summarize(x.res, s.slo);
      return x;
    };
    const ServePower pw = PowerOf(run, run_at, s.engine.replicas, cost.chips(), *sc->chip, sc->cluster);
    const serve::SimResult& res = run.res;  // at the throttled clock when the power cap binds
    const serve::Summary& sum = run.sum;
    Diagnostics cost_diag;  // a malformed data/econ file: reported, the rest still printed
    const ServeCost money = CostOf(sum, long(s.engine.replicas) * cost.chips(), *sc, pw, cost_diag);
    if (cost_diag.has_errors()) *ctx.err << cost_diag.Render();
    auto write = [&](const std::string& path, const std::string& text) {
      std::ofstream f(path, std::ios::binary);
      f << text;
      if (!f) {
        *ctx.err << fmt::format("error: cannot write {}\n", path);
        ctx.exit_code = 2;
      }
    };
    if (!o->requests_csv.empty()) write(o->requests_csv, serve::RequestsCsv(res));
    if (!o->trace.empty()) write(o->trace, TraceJson(res));

    if (o->json) {
      nlohmann::json j = {{"scenario", sc->name},
                          {"chip", sc->chip->name},
                          {"model", sc->model->name},
                          {"replicas", s.engine.replicas},
                          {"chips_per_replica", cost.chips()},
                          {"matmul_dtype", std::string(Name(cost.matmul_dtype()))},
                          {"memory_per_chip",
                           {{"hbm_bytes", mem.hbm.value()},
                            {"weights_bytes", mem.weights.value()},
                            {"activations_bytes", mem.activations.value()},
                            {"kv_bytes_per_token", mem.kv_per_token.value()},
                            {"kv_capacity_tokens_per_replica", mem.kv_tokens}}},
                          {"summary", ToJson(sum)},
                          {"power", ToJson(pw)},
                          {"cost", ToJson(money)}};
      if (max_rate)
        j["max_rate"] = {
            {"requests_per_s", max_rate->rate}, {"probes", max_rate->probes}, {"at_rate", ToJson(max_rate->at_rate)}};
      *ctx.out << j.dump(2) << "\n";
      return;
    }
    *ctx.out << fmt::format("serve {}: {} on {} replica(s) × {} {} (TP{} PP{} EP{}), matmuls in {}\n", sc->name,
                            sc->model->name, s.engine.replicas, cost.chips(), sc->chip->name, sc->parallelism.tp,
                            sc->parallelism.pp, sc->parallelism.ep, Name(cost.matmul_dtype()));
    *ctx.out << fmt::format(
        "memory per chip: HBM {}, weights {}, activations {}, KV cache {} tokens per replica ({} per token per chip)\n",
        ToString(mem.hbm), ToString(mem.weights), ToString(mem.activations), mem.kv_tokens, ToString(mem.kv_per_token));
    TextTable t({"latency", "mean", "p50", "p90", "p99"});
    t.AlignRight({1, 2, 3, 4});
    auto row = [&](const char* n, const serve::Percentiles& p) {
      t.Row({n, Ms(p.mean), Ms(p.p50), Ms(p.p90), Ms(p.p99)});
    };
    row("TTFT", sum.ttft);
    row("TPOT", sum.tpot);
    row("ITL", sum.itl);
    row("E2E", sum.e2e);
    *ctx.out << t.Render();
    TextTable u({"quantity", "value"});
    u.AlignRight({1});
    u.Row({"requests completed", fmt::format("{} of {} ({} rejected)", sum.completed, sum.requests, sum.rejected)});
    u.Row({"mean input / output tokens", FormatNumber(sum.mean_input, 5) + " / " + FormatNumber(sum.mean_output, 5)});
    u.Row({"span (first arrival → last token)", FormatNumber(sum.span, 5) + " s"});
    u.Row({"output tokens/s", FormatNumber(sum.output_tokens_per_s, 5)});
    u.Row({"total tokens/s", FormatNumber(sum.total_tokens_per_s, 5)});
    u.Row({"requests/s", FormatNumber(sum.requests_per_s, 5)});
    u.Row({"goodput (requests/s meeting SLOs)", FormatNumber(sum.goodput_requests_per_s, 5)});
    u.Row({"SLO attainment", FormatNumber(sum.slo_attainment * 100, 4) + " %"});
    u.Row({"mean batch (sequences/iteration)", FormatNumber(sum.mean_batch, 4)});
    u.Row({"KV cache used (mean / max)",
           FormatNumber(sum.mean_kv_used * 100, 3) + " % / " + FormatNumber(sum.max_kv_used * 100, 3) + " %"});
    u.Row({"iterations / preemptions", fmt::format("{} / {}", sum.iterations, sum.preemptions)});
    u.Row({"iteration time by part", ShareText(sum.busy_share)});
    if (s.speculative.on()) {
      const serve::Speculative& sp = s.speculative;
      u.Row({"speculative decoding (tokens per decode step)",
             fmt::format("{} draft(s) at acceptance {}: {} in the run ({} expected)", sp.draft_tokens,
                         FormatNumber(sp.acceptance, 3), FormatNumber(sum.tokens_per_decode_step, 4),
                         FormatNumber(sp.TokensPerStep(), 4))});
    }
    *ctx.out << u.Render();
    if (pw.run) {
      const power::RunEnergy& e = *pw.run;
      const double fj = e.FacilityJoulesPerToken();
      *ctx.out << fmt::format("power ({})\n", pw.basis);
      *ctx.out << fmt::format("power: {} per chip on average ({} while busy, busy {:.1f}% of the span; {} TDP){}; {} chips in {} "
                              "server(s): IT {}, facility {} at PUE {:.2f}\n",
                              ToString(e.chip.average, 3), ToString(pw.busy.average, 3), pw.busy_fraction * 100,
                              ToString(pw.tdp, 3), e.chip.throttled ? " THROTTLED" : "", e.cluster.chips, e.cluster.servers,
                              ToString(e.cluster.it_power, 3), ToString(e.cluster.facility_power, 3), pw.pue);
      if (e.chip.throttled) *ctx.out << fmt::format("power cap: {}; the figures above are at the throttled clock\n", e.chip.note);
      *ctx.out << fmt::format("energy: {:.3g} J per output token facility ({:.3g} J at the chips), {:.3g} output tokens per joule\n",
                              fj, e.ChipJoulesPerToken(), fj > 0 ? 1.0 / fj : 0.0);
    } else {
      *ctx.out << fmt::format("power: not estimated: {}\n", pw.unavailable);
    }
    if (money.hourly) {
      *ctx.out << fmt::format("cost: {} per chip-hour ({}), {}\n", spec::FormatDollars(money.hourly->per_chip_hour),
                              money.hourly->basis,
                              money.per_million_output_tokens > 0
                                  ? spec::FormatDollars(Dollars(money.per_million_output_tokens)) + " per million output tokens"
                                  : "no output tokens");
    } else {
      *ctx.out << fmt::format("cost: not estimated: {}\n", money.unavailable);
    }
    if (max_rate) {
      *ctx.out << fmt::format("max rate meeting the SLOs at p{}: {} requests/s ({} output tokens/s; {} probes)\n",
                              FormatNumber(s.slo.percentile), FormatNumber(max_rate->rate, 4),
                              FormatNumber(max_rate->at_rate.output_tokens_per_s, 5), max_rate->probes);
    }
  });
}

}  // namespace pf::cli
