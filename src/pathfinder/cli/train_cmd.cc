// `pathfinder train scenario.yaml [--json] [--trace step.json]`: one training step of the
// scenario's model on its chip/cluster with its parallelism and `train:` settings — step time
// and breakdown, tokens/s, MFU/HFU, memory per chip and the fit check, time to train, and
// the power: per-chip watts (power cap included), cluster IT and facility megawatts, energy
// per step and per token, MWh for the whole run (spec/chip_energy, power/); and the money: $
// per chip-hour (TCO of the chip's price, or its cloud rate), $ per step, per million tokens
// and for the whole run (spec/chip_price, econ/).
#include <fmt/core.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/run_report.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/chip_price.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/train/simulator.h"
#include "pathfinder/train/event.h"

namespace pf::cli {

namespace {

nlohmann::json ToJson(const TrainPower& p) {
  if (!p.run) return {{"available", false}, {"reason", p.unavailable}};
  const power::RunEnergy& e = *p.run;
  nlohmann::json j = {{"available", true},
                      {"basis", p.basis},
                      {"chip_w", e.chip.average.value()},
                      {"tdp_w", p.tdp.value()},
                      {"throttled", e.chip.throttled},
                      {"nominal_clock_step_time_s", p.nominal_step.value() > 0 ? p.nominal_step.value() : e.duration.value()},
                      {"clock_ratio", e.chip.clock_ratio},
                      {"note", e.chip.note},
                      {"step_time_s", e.duration.value()},
                      {"chips", e.cluster.chips},
                      {"servers", e.cluster.servers},
                      {"chips_mw", e.cluster.chips_power.value() / 1e6},
                      {"it_mw", e.cluster.it_power.value() / 1e6},
                      {"facility_mw", e.cluster.facility_power.value() / 1e6},
                      {"pue", p.pue},
                      {"energy_per_step_j", e.facility_energy.value()},
                      {"chip_j_per_token", e.ChipJoulesPerToken()},
                      {"facility_j_per_token", e.FacilityJoulesPerToken()}};
  if (p.run_mwh > 0) j["run_mwh"] = p.run_mwh;
  return j;
}

// The money of the run: $ per chip-hour of the chip (TCO at the run's average IT power per
// chip, or a cloud rate), times the chips and the step time.
struct TrainCost {
  spec::ChipPrice price;
  std::optional<spec::HourlyCost> hourly;
  std::string unavailable;
  Watts it_per_chip;
  double per_step = 0;            // $, all chips
  double per_million_tokens = 0;  // $
  double run = 0;                 // $, tokens_to_train (0 when not set)
};

TrainCost CostOf(const train::TrainResult& r, const train::TrainSettings& s, const spec::Scenario& sc, const TrainPower& pw,
                 Diagnostics& diag) {
  TrainCost out;
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
  const double per_hour = out.hourly->per_chip_hour.value();
  out.per_step = per_hour * double(r.chips) * r.step.total.value() / 3600.0;
  if (r.tokens_per_step > 0) out.per_million_tokens = out.per_step / r.tokens_per_step * 1e6;
  if (s.tokens_to_train > 0) out.run = per_hour * r.chip_hours;  // econ::TrainingRunCost, without a Tco for cloud rates
  return out;
}

nlohmann::json ToJson(const TrainCost& c, const train::TrainSettings& s) {
  nlohmann::json j = CostJson(c.price, c.hourly, c.unavailable, c.it_per_chip);
  if (!c.hourly) return j;
  j["per_step_usd"] = c.per_step;
  j["per_million_tokens_usd"] = c.per_million_tokens;
  if (s.tokens_to_train > 0) {
    j["tokens_to_train"] = s.tokens_to_train;
    j["run_usd"] = c.run;
  }
  return j;
}

nlohmann::json ToJson(const train::TrainResult& r, const train::TrainSettings& s) {
  const auto& b = r.step;
  nlohmann::json j = {
      {"ok", r.ok},
      {"reason", r.reason},
      {"chips", r.chips},
      {"microbatches", r.microbatches},
      {"step_time_s", b.total.value()},
      {"breakdown_s", StepBreakdownJson(b)},
      {"tokens_per_step", r.tokens_per_step},
      {"tokens_per_s", r.tokens_per_s},
      {"tokens_per_s_per_chip", r.tokens_per_s_per_chip},
      {"model_flops_per_token", r.model_flops_per_token.value()},
      {"hardware_flops_per_token", r.hardware_flops_per_token.value()},
      {"mfu", r.mfu},
      {"hfu", r.hfu},
      {"critical_stage", r.critical_stage},
      {"fits", r.fits},
      {"fit_reason", r.memory_fit.reason},
  };
  nlohmann::json mem = nlohmann::json::array();
  for (const auto& m : r.memory) {
    mem.push_back({{"stage", m.stage},
                   {"weights", m.weights.value()},
                   {"gradients", m.gradients.value()},
                   {"optimizer", m.optimizer.value()},
                   {"activations", m.activations.value()},
                   {"buffers", m.buffers.value()},
                   {"overhead", m.overhead.value()},
                   {"total", m.total.value()},
                   {"in_flight_microbatches", m.in_flight}});
  }
  j["memory_per_chip_bytes"] = mem;
  if (s.tokens_to_train > 0) {
    j["tokens_to_train"] = s.tokens_to_train;
    j["time_to_train_s"] = r.time_to_train.value();
    j["chip_hours"] = r.chip_hours;
  }
  nlohmann::json act = nlohmann::json::array();
  for (const auto& a : r.activity) {
    act.push_back({{"op", a.name}, {"flops", a.flops.value()}, {"bytes", a.bytes.value()}, {"time_s", a.time.value()}, {"count", a.count}});
  }
  j["activity_critical_stage"] = act;
  return j;
}

}  // namespace

void AddTrainCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("train", "Simulate one training step: time, breakdown, MFU, memory fit, time to train");
  struct Opts {
    std::string path;
    bool json = false;
    std::string trace;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("scenario", o->path, "scenario file with chip or cluster, model, parallelism and train sections")->required();
  cmd->add_flag("--json", o->json, "print JSON (with the per-operator activity of the critical stage)");
  cmd->add_option("--trace", o->trace, "write the step's pipeline timeline as a Chrome/Perfetto trace");
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    auto sc = spec::LoadScenario(o->path, diag);
    if (sc && (!sc->chip || !sc->model)) {
      diag.Error({o->path, 0, 0}, "", "pathfinder train needs a model and a chip or cluster section");
    }
    std::optional<spec::ResolvedCalibration> cal;
    if (sc && sc->chip) cal = spec::ResolveCalibration(*sc->chip, diag);
    *ctx.err << diag.Render();
    if (!sc || diag.error_count() > 0 || !cal) {
      ctx.exit_code = 2;
      return;
    }
    const train::TrainSettings s = sc->train ? *sc->train : train::TrainSettings{};
    const graph::Parallelism& p = sc->parallelism;
    hw::Cluster cluster = sc->cluster ? *sc->cluster : train::ClusterFromChipLinks(*sc->chip, p.chips());
    const train::Simulator sim(*sc->model, ops::OpModel(*sc->chip, cal->ceilings), cluster);
    train::TrainResult r = sim.Run(p, s, /*with_activity=*/true);
    if (!r.ok) {
      *ctx.err << fmt::format("{}: error: cannot simulate: {}\n", o->path, r.reason);
      ctx.exit_code = 2;
      return;
    }
    const TrainPower pw = TrainPowerOf(r, s, *sc, cal->ceilings, cluster);  // a throttled chip: r at its clock
    std::optional<train::EventResult> ev;
    if (!o->trace.empty()) {
      std::string trace;
      ev = train::RunEvents(r, s, &trace);
      std::ofstream f(o->trace);
      f << trace;
      if (!f) {
        *ctx.err << fmt::format("error: cannot write trace '{}'\n", o->trace);
        ctx.exit_code = 2;
        return;
      }
    }
    Diagnostics cost_diag;  // a malformed data/econ file: reported, the rest still printed
    const TrainCost cost = CostOf(r, s, *sc, pw, cost_diag);
    if (cost_diag.has_errors()) *ctx.err << cost_diag.Render();
    if (o->json) {
      nlohmann::json j = ToJson(r, s);
      j["power"] = ToJson(pw);
      j["cost"] = ToJson(cost, s);
      j["scenario"] = sc->name;
      if (ev) j["event_mode"] = {{"step_time_s", ev->total.value()}, {"passes", ev->events}, {"trace", o->trace}};
      j["cluster"] = cluster.name + (sc->cluster ? "" : " (no cluster section: chip links at 100 % efficiency)");
      *ctx.out << j.dump(2) << "\n";
      if (!r.fits) ctx.exit_code = 1;
      return;
    }
    const auto& b = r.step;
    auto ms = [&](Seconds t) { return fmt::format("{:.2f} ms", t.value() * 1e3); };
    auto pct = [&](Seconds t) { return fmt::format("{:.1f}%", 100.0 * t.value() / b.total.value()); };
    *ctx.out << fmt::format("train {}: {} on {} × {} ({}), tp {} pp {} dp {} cp {} ep {}{}\n", sc->name, sc->model->name, r.chips,
                            sc->chip->name, sc->cluster ? cluster.name : "no cluster section: chip links at 100 % efficiency",
                            p.tp, p.pp, p.dp, p.cp, p.ep, p.sequence_parallel ? " +sp" : "");
    *ctx.out << fmt::format("seq {}, global batch {} sequences, micro-batch {}, {} micro-batches, {}, recompute {}, ZeRO {}, {}{}\n",
                            s.seq_len, r.tokens_per_step / double(s.seq_len), s.micro_batch, r.microbatches, pf::Name(s.precision),
                            graph::Name(s.recompute), s.zero_stage, train::Name(s.schedule),
                            s.virtual_stages > 1 ? fmt::format(" × {} virtual stages", s.virtual_stages) : "");
    TextTable t({"step time (critical stage " + std::to_string(r.critical_stage) + ")", "time", "share"});
    t.AlignRight({1, 2});
    t.Row({"compute (fwd + bwd)", ms(b.compute), pct(b.compute)});
    t.Row({"  of which recompute", ms(b.recompute), pct(b.recompute)});
    t.Row({"TP communication (exposed)", ms(b.tp_comm), pct(b.tp_comm)});
    t.Row({"CP communication (exposed)", ms(b.cp_comm), pct(b.cp_comm)});
    t.Row({"EP all-to-all (exposed)", ms(b.ep_comm), pct(b.ep_comm)});
    t.Row({"PP send/recv (exposed)", ms(b.pp_comm), pct(b.pp_comm)});
    t.Row({"FSDP gathers (exposed)", ms(b.fsdp_comm), pct(b.fsdp_comm)});
    if (s.offload_layers > 0) t.Row({"activation offload (exposed)", ms(b.offload), pct(b.offload)});
    t.Row({"pipeline bubble", ms(b.bubble), pct(b.bubble)});
    t.Row({"DP gradient sync (exposed)", ms(b.dp_comm), pct(b.dp_comm)});
    if (b.beside_collectives.value() > 0) {
      t.Row({fmt::format("  FSDP + DP: compute slowed beside them ({} CTAs)", s.collective_ctas),
             ms(b.beside_collectives), pct(b.beside_collectives)});
    }
    t.Row({"optimizer step", ms(b.optimizer), pct(b.optimizer)});
    t.Row({"step", ms(b.total), "100%"});
    *ctx.out << t.Render();
    *ctx.out << fmt::format("tokens/s {:.4g} ({:.4g} per chip), MFU {:.1f}%, HFU {:.1f}% of {} peak\n", r.tokens_per_s,
                            r.tokens_per_s_per_chip, r.mfu * 100, r.hfu * 100, pf::Name(s.precision));
    TextTable m({"memory per chip", "weights", "grads", "optimizer", "activations", "buffers", "overhead", "total"});
    m.AlignRight({1, 2, 3, 4, 5, 6, 7});
    auto row = [&](const memory::StageMemory& x) {
      m.Row({fmt::format("stage {} ({:.3g} mb in flight)", x.stage, x.in_flight), ToString(x.weights, 3), ToString(x.gradients, 3),
             ToString(x.optimizer, 3), ToString(x.activations, 3), ToString(x.buffers, 3), ToString(x.overhead, 3),
             ToString(x.total, 3)});
    };
    row(r.memory.front());
    if (r.memory.size() > 1) row(r.memory.back());
    *ctx.out << m.Render();
    *ctx.out << (r.fits ? fmt::format("fits: largest stage {} of {} HBM\n", ToString(r.memory_fit.worst, 3),
                                      ToString(sc->chip->hbm.capacity, 3))
                        : fmt::format("does not fit: {}\n", r.memory_fit.reason));
    if (s.offload_layers > 0) {
      *ctx.out << fmt::format(
          "activation offload: {} layers per stage, {} per micro-batch to host memory and back "
          "over {} ({} per direction)\n",
          s.offload_layers, ToString(r.memory.front().offloaded, 3), sc->chip->host_link.name,
          ToString(sc->chip->host_link.bandwidth, 3));
    }
    if (s.tokens_to_train > 0) {
      *ctx.out << fmt::format("{:.4g} tokens: {:.1f} days, {:.4g} chip-hours\n", s.tokens_to_train,
                              r.time_to_train.value() / 86400.0, r.chip_hours);
    }
    if (pw.run) {
      const power::RunEnergy& e = *pw.run;
      *ctx.out << fmt::format("power ({})\n", pw.basis);
      *ctx.out << fmt::format("power: {:.0f} W per chip ({:.0f}% of {} TDP){}; {} chips in {} server(s): IT {:.3g} MW, "
                              "facility {:.3g} MW at PUE {:.2f}\n",
                              e.chip.average.value(), 100 * e.chip.average.value() / pw.tdp.value(), ToString(pw.tdp, 3),
                              e.chip.throttled ? " THROTTLED" : "", e.cluster.chips, e.cluster.servers,
                              e.cluster.it_power.value() / 1e6, e.cluster.facility_power.value() / 1e6, pw.pue);
      if (e.chip.throttled) *ctx.out << fmt::format("power cap: {}; the step above is at the throttled clock\n", e.chip.note);
      *ctx.out << fmt::format("energy: {:.4g} MJ per step (facility), {:.3g} J/token facility, {:.3g} J/token at the chips{}\n",
                              e.facility_energy.value() / 1e6, e.FacilityJoulesPerToken(), e.ChipJoulesPerToken(),
                              pw.run_mwh > 0 ? fmt::format("; {:.4g} tokens: {:.4g} MWh", s.tokens_to_train, pw.run_mwh) : "");
    } else {
      *ctx.out << fmt::format("power: not estimated: {}\n", pw.unavailable);
    }
    if (cost.hourly) {
      *ctx.out << fmt::format("cost: {} per chip-hour ({}), {} per step, {} per million tokens{}\n",
                              spec::FormatDollars(cost.hourly->per_chip_hour), cost.hourly->basis,
                              spec::FormatDollars(Dollars(cost.per_step)), spec::FormatDollars(Dollars(cost.per_million_tokens)),
                              s.tokens_to_train > 0 ? fmt::format(", {} for the run of {:.4g} tokens",
                                                                  spec::FormatDollars(Dollars(cost.run)), s.tokens_to_train)
                                                    : "");
    } else {
      *ctx.out << fmt::format("cost: not estimated: {}\n", cost.unavailable);
    }
    if (ev) {
      *ctx.out << fmt::format("event mode: step {:.2f} ms ({} passes); trace written to {} (open in ui.perfetto.dev)\n",
                              ev->total.value() * 1e3, ev->events, o->trace);
    }
    if (!r.fits) ctx.exit_code = 1;
  });
}

}  // namespace pf::cli
