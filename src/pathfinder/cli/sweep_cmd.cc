// `pathfinder sweep sweep.yaml [--db results.db] [--resume] [--threads N] [--export out.csv]`:
// evaluates every point of a chip-design sweep (derived peak FLOP/s, memory, TDP, silicon
// area, cost per chip, $ per chip-hour, feasibility; with `workload:` also the serving fast
// mode's tokens/s per chip, TPOT, TTFT, tokens/J and $/M tokens, at the throttled clock
// when the power cap binds) or of a scenario sweep
// (the training or serving simulator's metrics) on all cores — and on every rank under
// `mpirun -n N` — writes each point to the SQLite results store as it goes, and prints the
// infeasible points by reason and the Pareto front of the objectives. A killed sweep
// continues with --resume and ends with the same rows as one that was never interrupted.
#include <fmt/core.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/run_report.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/econ/econ.h"
#include "pathfinder/power/power.h"
#include "pathfinder/search/distributed.h"
#include "pathfinder/search/driver.h"
#include "pathfinder/search/objective.h"
#include "pathfinder/search/space.h"
#include "pathfinder/serve/metrics.h"
#include "pathfinder/serve/settings.h"
#include "pathfinder/serve/simulator.h"
#include "pathfinder/serve/steady_state.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/spec/sweep_spec.h"
#include "pathfinder/store/store.h"
#include "pathfinder/train/simulator.h"

namespace pf::cli {
namespace {

// ---- Shared pieces ----------------------------------------------------------------------

// The calibration files of a chip, loaded once per (name, family) for the whole sweep: the
// ceilings are then resolved per point (they scale with the point's peaks), as
// spec::ResolveCalibration does, without reading files for every point.
class CalibrationCache {
 public:
  std::optional<ops::Ceilings> For(const hw::Chip& chip, Diagnostics& diag) {
    const std::string key = chip.name + "\n" + chip.family;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(key);
    if (it == files_.end()) {
      Files f;
      auto r = spec::ResolveCalibration(chip, diag);
      if (!r) return std::nullopt;
      if (!r->chip_file.empty()) f.own = spec::LoadCalibrationPreset(r->chip_file, diag);
      if (!r->family_file.empty()) f.family = spec::LoadCalibrationPreset(r->family_file, diag);
      it = files_.emplace(key, std::move(f)).first;
    }
    return ops::ResolveCeilings(chip, it->second.own ? &*it->second.own : nullptr,
                                it->second.family ? &*it->second.family : nullptr);
  }

 private:
  struct Files {
    std::optional<ops::CalibrationSpec> own, family;
  };
  std::mutex mu_;
  std::map<std::string, Files> files_;
};

// The chip power models of a sweep's chips. spec::ChipPowerModelFor reads the node, memory
// and link files for every call (≈ 1 ms); what it reads depends only on the chip's process
// node, HBM generation and scale-up link, so they are read once per such key and the model
// is rebuilt per point the way ChipPowerModelFor builds it (power::MakeEnergyModel from the
// chip, the node energy, the memory's access energy and the link energy; or the TDP-based
// estimate). sweep_process_test checks the result against ChipPowerModelFor.
class PowerModelCache {
 public:
  std::optional<power::ChipPowerModel> For(const hw::Chip& chip, Diagnostics& diag) {
    if (chip.tdp.value() <= 0) return spec::ChipPowerModelFor(chip, diag);  // TDP from a data file: no shortcut
    const std::string key = chip.process_node + "\n" + chip.hbm.generation + "\n" + chip.scale_up.name;
    std::optional<power::ChipPowerModel> base;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = models_.find(key); it != models_.end()) base = it->second;
    }
    if (!base) {
      base = spec::ChipPowerModelFor(chip, diag);
      if (!base) return std::nullopt;
      std::lock_guard<std::mutex> lock(mu_);
      models_.emplace(key, *base);
      return base;
    }
    power::ChipPowerModel m = *base;
    if (m.method == power::ChipPowerModel::Method::kActivity) {
      hw::MemoryTech memory;
      memory.energy_per_bit = base->energy.hbm_byte;
      m.energy = power::MakeEnergyModel(chip, base->energy.node, memory, base->energy.link_byte);
    } else {
      m.tdp.tdp = chip.tdp;
      m.tdp.static_power = power::StaticPowerOf(chip, spec::kTdpStaticFraction);
      m.tdp.peak = chip.peak;
      m.tdp.vector_fp32 = chip.vector_fp32;
      m.tdp.hbm_bandwidth = chip.hbm.bandwidth;
    }
    return m;
  }

 private:
  std::mutex mu_;
  std::map<std::string, power::ChipPowerModel> models_;
};

nlohmann::ordered_json MetricsJson(const std::vector<spec::MetricInfo>& names, const std::vector<double>& m) {
  nlohmann::ordered_json out;
  for (size_t i = 0; i < names.size() && i < m.size(); ++i)
    out[names[i].name] = std::isnan(m[i]) ? nlohmann::ordered_json() : nlohmann::ordered_json(m[i]);
  return out;
}

std::string DoesNotFit(const serve::IterationCostModel& cost, const hw::Chip& chip) {
  const auto& mem = cost.memory();
  return fmt::format("does not fit: weights {} + activations {} per chip leave no room for a KV block in {} of HBM ({} × {})",
                     ToString(mem.weights, 3), ToString(mem.activations, 3), ToString(mem.hbm, 3), cost.chips(), chip.name);
}

// ---- The design evaluator ---------------------------------------------------------------

// Metrics of one design point, in this order in Evaluation::metrics. Ratios use TFLOP/s
// so their numbers read like the literature's (e.g. H100 SXM ≈ 1.4 TFLOP/s per W). The
// serve_* metrics exist when the sweep names a workload (serving fast mode).
enum DesignMetric : size_t {
  kBf16Peak, kFp8Peak, kHbmCapacity, kHbmBandwidth, kTdp, kSiliconArea, kChipCost, kCostPerChipHour,
  kBf16PerDollar, kBf16PerWatt, kNumDesignMetrics,
  kServeTokensPerChip = kNumDesignMetrics, kServeTpot, kServeTtft, kServeBatch, kServeTokensPerJoule,
  kServeDollarsPerMillion, kNumDesignServeMetrics
};

constexpr size_t kServeMetricsPerWorkload = kNumDesignServeMetrics - kNumDesignMetrics;

// `suffixes`: one per workload ("" for a single workload, "@<file stem>" for several).
std::vector<spec::MetricInfo> DesignMetrics(const std::vector<std::string>& suffixes) {
  std::vector<spec::MetricInfo> m = {
      {"bf16_peak", DimensionOf<FlopsPerSec>::value, ""},
      {"fp8_peak", DimensionOf<FlopsPerSec>::value, ""},
      {"hbm_capacity", DimensionOf<Bytes>::value, ""},
      {"hbm_bandwidth", DimensionOf<BytesPerSec>::value, ""},
      {"tdp", DimensionOf<Watts>::value, ""},
      {"silicon_area", DimensionOf<SquareMillimeters>::value, ""},
      {"chip_cost", DimensionOf<Dollars>::value, ""},
      {"cost_per_chip_hour", std::nullopt, "$/h"},
      {"bf16_tflops_per_dollar", std::nullopt, "TFLOP/s/$"},
      {"bf16_tflops_per_watt", std::nullopt, "TFLOP/s/W"},
  };
  for (const std::string& x : suffixes) {
    m.push_back({"serve_tokens_per_s_per_chip" + x, std::nullopt, "tokens/s"});
    m.push_back({"serve_tpot" + x, DimensionOf<Seconds>::value, ""});
    m.push_back({"serve_ttft" + x, DimensionOf<Seconds>::value, ""});
    m.push_back({"serve_batch" + x, std::nullopt, "sequences"});
    m.push_back({"serve_tokens_per_joule" + x, std::nullopt, "tokens/J"});
    m.push_back({"serve_dollars_per_million_tokens" + x, std::nullopt, "$"});
  }
  return m;
}

// The serving workload of a design sweep: its model, parallelism and serve section, loaded
// once; each point's derived chip replaces its chip. Collectives use the chip's own
// scale-up link (serve::DefaultCluster), since the workload's cluster was built for its chip.
struct ServeWorkload {
  std::string suffix;  // of its metric names: "" alone, "@<file stem>" among several
  model::Architecture model;
  graph::Parallelism parallelism;
  serve::ServeSettings settings;
};

// Derives, costs and measures one loaded design. Cost and TCO as in `pathfinder design`:
// a custom chip is bought at build cost (no vendor margin, NRE excluded). With a workload,
// also serves it in the fast mode: tokens/s per chip, TPOT, TTFT, tokens per joule at the
// chip (spec::ChipPowerModelFor + power::Evaluate of one steady-state iteration), and $ per
// million output tokens from the chip's TCO per hour (econ::CostPerMillionTokens).
search::Evaluation EvaluateDesign(const spec::DesignFile& f, const std::vector<ServeWorkload>& workloads,
                                  CalibrationCache* cals, PowerModelCache* powers) {
  search::Evaluation e;
  const size_t n = kNumDesignMetrics + kServeMetricsPerWorkload * workloads.size();
  e.metrics.assign(n, NAN);
  const hw::DerivedChip c = hw::DeriveChip(f.design, f.tech);
  Diagnostics diag;
  const auto costed = spec::CostDesign(f, c, diag);
  const hw::Chip& chip = c.chip;
  auto& m = e.metrics;
  m[kBf16Peak] = chip.peak[DType::kBf16].value();
  m[kFp8Peak] = chip.peak[DType::kFp8].value();
  m[kHbmCapacity] = chip.hbm.capacity.value();
  m[kHbmBandwidth] = chip.hbm.bandwidth.value();
  m[kTdp] = chip.tdp.value();
  m[kSiliconArea] = c.total_silicon.value();
  if (costed) {
    m[kChipCost] = costed->cost.total.value();
    m[kCostPerChipHour] = costed->tco.per_chip_hour.value();
  }
  m[kBf16PerDollar] = m[kBf16Peak] / 1e12 / m[kChipCost];
  m[kBf16PerWatt] = m[kBf16Peak] / 1e12 / m[kTdp];
  std::vector<std::string> reasons = c.feasibility.reasons;
  e.feasible = c.feasibility.ok;
  if (!c.feasibility.ok) e.reason = c.feasibility.reasons.empty() ? "infeasible" : c.feasibility.reasons.front();
  if (!costed) {
    e.feasible = false;
    e.reason = diag.entries().empty() ? "no wafer price" : diag.entries().front().message;
  }
  nlohmann::ordered_json serve_all;
  for (size_t wi = 0; wi < workloads.size() && c.feasibility.ok; ++wi) {
    const ServeWorkload* w = &workloads[wi];
    // This workload's metrics: the serve_* slots shifted by its index.
    auto at = [&](size_t metric) -> double& { return m[metric + wi * kServeMetricsPerWorkload]; };
    nlohmann::ordered_json serve_out;
    std::string why;
    Diagnostics d;
    const auto ceilings = cals->For(chip, d);
    if (!ceilings) {
      why = "no calibration: " + (d.entries().empty() ? std::string("?") : d.entries().front().message);
    } else {
      const ops::OpModel op(chip, *ceilings);
      serve::IterationCostModel cost(op, w->model, w->parallelism, w->settings, nullptr);
      if (!cost.memory().fits) {
        why = DoesNotFit(cost, chip);
      } else {
        serve::SteadyState ss = serve::EstimateSteadyState(cost, w->settings);
        serve_out = {{"batch_limit", ss.batch_limit}, {"kv_tokens", cost.memory().kv_tokens}, {"chips_per_replica", cost.chips()}};
        if (auto pm = powers->For(chip, d)) {
          // The power cap fed back as `serve` does: above the TDP the steady state is
          // re-estimated at the throttled clock (power::EnergyOfCappedRun), and the metrics
          // below are that state's.
          auto steady_at = [&](double r) {
            if (r >= 1) return ss;
            const ops::ClockedChip slow_chip = ops::AtClockRatio(chip, *ceilings, r);
            const ops::OpModel slow(slow_chip.chip, slow_chip.ceilings);
            serve::IterationCostModel slow_cost(slow, w->model, w->parallelism, w->settings, nullptr);
            return serve::EstimateSteadyState(slow_cost, w->settings);
          };
          auto run_at = [&](double r) {
            const serve::SteadyState x = steady_at(r);
            return power::RunAt{spec::ServeActivity(x.work, x.iteration), x.iteration};
          };
          double ratio = 1;
          const power::RunEnergy e =
              power::EnergyOfCappedRun(run_at, *pm, chip.clock, cost.chips(), power::ServerPower{}, 1.0, 0.0, &ratio);
          if (!e.chip.feasible) why = e.chip.note;
          if (ratio < 1) ss = steady_at(ratio);
          const double joules = e.chip.average.value() * ss.iteration.value();
          if (joules > 0) at(kServeTokensPerJoule) = ss.batch / double(cost.chips()) / joules;
          serve_out["chip_w"] = e.chip.average.value();
          serve_out["throttled"] = e.chip.throttled;
          serve_out["clock_ratio"] = ratio;
        }
        at(kServeTokensPerChip) = ss.output_tokens_per_s_per_chip;
        at(kServeTpot) = ss.tpot.value();
        at(kServeTtft) = ss.ttft.value();
        at(kServeBatch) = ss.batch;
        if (costed && ss.output_tokens_per_s_per_chip > 0)
          at(kServeDollarsPerMillion) = econ::CostPerMillionTokens(costed->tco, ss.output_tokens_per_s_per_chip).value();
      }
    }
    if (workloads.size() == 1) serve_all = serve_out;
    else if (!serve_out.is_null()) serve_all[w->suffix.substr(1)] = serve_out;
    if (!why.empty()) {
      if (workloads.size() > 1) why = w->suffix.substr(1) + ": " + why;
      reasons.push_back(why);
      if (e.feasible) {
        e.feasible = false;
        e.reason = why;
      }
    }
  }
  std::vector<std::string> suffixes;
  for (const ServeWorkload& w : workloads) suffixes.push_back(w.suffix);
  nlohmann::ordered_json out = MetricsJson(DesignMetrics(suffixes), m);
  out["reasons"] = reasons;
  out["notes"] = c.feasibility.notes;
  if (!serve_all.is_null()) out["serve"] = serve_all;
  e.details = out.dump();
  return e;
}

// ---- The scenario evaluator -------------------------------------------------------------

// Metrics of one training scenario point (train::Simulator, power cap applied), as `pathfinder train`.
enum TrainMetric : size_t { kStepTime, kTokensPerS, kTokensPerSPerChip, kMfu, kTrainMemory, kTrainFits, kNumTrainMetrics };

std::vector<spec::MetricInfo> TrainMetrics() {
  return {
      {"step_time", DimensionOf<Seconds>::value, ""},
      {"tokens_per_s", std::nullopt, "tokens/s"},
      {"tokens_per_s_per_chip", std::nullopt, "tokens/s"},
      {"mfu", std::nullopt, ""},
      {"memory_per_chip", DimensionOf<Bytes>::value, ""},
      {"fits", std::nullopt, ""},
  };
}

// Metrics of one serving scenario point (serve::Simulate, the discrete-event simulator).
enum ServeMetric : size_t {
  kOutPerS, kOutPerSPerChip, kTtftP99, kTpotP99, kGoodput, kServeMemory, kServeFits, kNumServeMetrics
};

std::vector<spec::MetricInfo> ServeMetrics() {
  return {
      {"output_tokens_per_s", std::nullopt, "tokens/s"},
      {"output_tokens_per_s_per_chip", std::nullopt, "tokens/s"},
      {"ttft_p99", DimensionOf<Seconds>::value, ""},
      {"tpot_p99", DimensionOf<Seconds>::value, ""},
      {"goodput", std::nullopt, "requests/s"},
      {"memory_per_chip", DimensionOf<Bytes>::value, ""},
      {"fits", std::nullopt, ""},
  };
}

search::Evaluation EvaluateTrain(const spec::Scenario& sc, CalibrationCache* cals) {
  search::Evaluation e;
  e.metrics.assign(kNumTrainMetrics, NAN);
  auto& m = e.metrics;
  Diagnostics d;
  std::optional<ops::Ceilings> ceilings;
  if (sc.chip && sc.model) ceilings = cals->For(*sc.chip, d);
  if (!ceilings) {
    e.feasible = false;
    e.reason = !sc.chip || !sc.model ? "the point has no chip or no model" : "no calibration";
  } else {
    const train::TrainSettings s = sc.train ? *sc.train : train::TrainSettings{};
    const graph::Parallelism& p = sc.parallelism;
    const hw::Cluster cluster = sc.cluster ? *sc.cluster : train::ClusterFromChipLinks(*sc.chip, p.chips());
    const train::Simulator sim(*sc.model, ops::OpModel(*sc.chip, *ceilings), cluster);
    train::TrainResult r = sim.Run(p, s, /*with_activity=*/true);
    if (r.ok) TrainPowerOf(r, s, sc, *ceilings, cluster);  // a throttled chip: r at its clock, as `pathfinder train`
    if (!r.ok) {
      e.feasible = false;
      e.reason = "cannot simulate: " + r.reason;
    } else {
      m[kStepTime] = r.step.total.value();
      m[kTokensPerS] = r.tokens_per_s;
      m[kTokensPerSPerChip] = r.tokens_per_s_per_chip;
      m[kMfu] = r.mfu;
      m[kTrainMemory] = r.memory_fit.worst.value();
      m[kTrainFits] = r.fits ? 1 : 0;
      if (!r.fits) {
        e.feasible = false;
        e.reason = "does not fit: " + r.memory_fit.reason;
      }
    }
  }
  nlohmann::ordered_json out = MetricsJson(TrainMetrics(), m);
  out["reasons"] = e.feasible ? std::vector<std::string>{} : std::vector<std::string>{e.reason};
  e.details = out.dump();
  return e;
}

search::Evaluation EvaluateServe(const spec::Scenario& sc, CalibrationCache* cals) {
  search::Evaluation e;
  e.metrics.assign(kNumServeMetrics, NAN);
  auto& m = e.metrics;
  Diagnostics d;
  std::optional<ops::Ceilings> ceilings;
  if (sc.chip && sc.model && sc.serve) ceilings = cals->For(*sc.chip, d);
  nlohmann::ordered_json extra;
  if (!ceilings) {
    e.feasible = false;
    e.reason = !sc.chip || !sc.model ? "the point has no chip or no model" : "no calibration";
  } else {
    serve::ServeSettings s = *sc.serve;
    s.engine.replicas = serve::ServedReplicas(s.engine, sc.parallelism.dp);  // as `pathfinder serve`
    const ops::OpModel op(*sc.chip, *ceilings);
    std::optional<comm::Network> net;
    if (sc.cluster) net.emplace(*sc.cluster);
    serve::IterationCostModel cost(op, *sc.model, sc.parallelism, s, net ? &*net : nullptr);
    const auto& mem = cost.memory();
    if (!mem.fits) {
      e.feasible = false;
      e.reason = DoesNotFit(cost, *sc.chip);
      m[kServeFits] = 0;
    } else {
      const serve::SimResult res = serve::Simulate(s, cost);
      const serve::Summary sum = serve::Summarize(res, s.slo);
      m[kOutPerS] = sum.output_tokens_per_s;
      m[kOutPerSPerChip] = sum.output_tokens_per_s / double(std::max(1, s.engine.replicas) * cost.chips());
      m[kTtftP99] = sum.ttft.p99;
      m[kTpotP99] = sum.tpot.p99;
      m[kGoodput] = sum.goodput_requests_per_s;
      m[kServeMemory] = (mem.weights + mem.activations + mem.kv_per_token * (sum.max_kv_used * double(mem.kv_tokens))).value();
      m[kServeFits] = 1;
      extra = {{"completed", sum.completed}, {"rejected", sum.rejected}, {"mean_batch", sum.mean_batch},
               {"ttft_mean_s", sum.ttft.mean}, {"tpot_mean_s", sum.tpot.mean}, {"slo_attainment", sum.slo_attainment}};
    }
  }
  nlohmann::ordered_json out = MetricsJson(ServeMetrics(), m);
  if (!extra.is_null()) out["summary"] = extra;
  out["reasons"] = e.feasible ? std::vector<std::string>{} : std::vector<std::string>{e.reason};
  e.details = out.dump();
  return e;
}

// The first problem of a point that failed to load, without the (generated) file position.
std::string FirstProblem(const Diagnostics& d) {
  for (const auto& x : d.entries())
    if (x.severity == Diagnostic::Severity::kError) return "invalid point: " + (x.key_path.empty() ? "" : x.key_path + ": ") + x.message;
  return "invalid point";
}

std::string InputJson(const spec::SweepSpec& s, const search::Point& p) {
  nlohmann::ordered_json in;
  for (size_t i = 0; i < s.parameters.size(); ++i) in[s.parameters[i].path] = spec::ParameterValue(s.parameters[i], p[i]);
  return in.dump();
}

std::vector<search::Point> Points(const spec::SweepSpec& s, std::string* error) {
  std::vector<search::Parameter> params;
  for (const auto& p : s.parameters) {
    search::Parameter q;
    q.name = p.path;
    if (!p.values.empty()) {
      q.kind = search::Parameter::Kind::kValues;
      q.count = p.values.size();
    } else {
      q.lo = p.lo;
      q.hi = p.hi;
      q.integer = p.integer;
      q.log = p.log;
      q.steps = p.steps;
    }
    params.push_back(q);
  }
  switch (s.method) {
    case spec::SweepMethod::kGrid: {
      auto g = search::Grid(params, spec::kMaxSweepPoints);
      if (!g.ok()) {
        *error = g.error();
        return {};
      }
      return std::move(g).value();
    }
    case spec::SweepMethod::kRandom: return search::Random(params, s.samples, s.seed);
    case spec::SweepMethod::kLatinHypercube: return search::LatinHypercube(params, s.samples, s.seed);
  }
  return {};
}

std::string Fmt(double v) { return std::isnan(v) ? "-" : FormatNumber(v, 4); }

}  // namespace

void AddSweepCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("sweep", "Evaluate a design-space sweep into a results store and print its Pareto front");
  struct Opts {
    std::string file, db, run, export_path;
    bool resume = false, quiet = false;
    int threads = 0;
    size_t top = 20;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("sweep", o->file, "a sweep file (design:, method:, parameters:, objectives:, constraints:)")->required();
  cmd->add_option("--db", o->db, "the SQLite results store (default: <sweep file name>.db in the current folder)");
  cmd->add_option("--run", o->run, "the run's id in the store (default: the sweep file's name)");
  cmd->add_flag("--resume", o->resume, "continue a run already in the store (it must be the same sweep)");
  cmd->add_option("--threads", o->threads, "threads per process (default: all cores)")->check(CLI::Range(0, 4096));
  cmd->add_option("--export", o->export_path, "write every point of the run to a .csv or .json file");
  cmd->add_option("--top", o->top, "Pareto points to print (default 20)");
  cmd->add_flag("--quiet", o->quiet, "no progress output");
  cmd->callback([&ctx, o] {
    std::unique_ptr<search::Comm> comm = search::WorldComm();
    const bool root = comm->is_root();
    auto fail = [&](const std::string& text) {
      if (root) *ctx.err << text;
      ctx.exit_code = 2;
    };
    // Every rank loads and checks the sweep (each needs the points); only the root speaks.
    Diagnostics diag;
    auto spec = spec::LoadSweep(o->file, diag);
    if (!spec) return fail(diag.Render());
    // The base (and workload) must load as they are; a point's own problems make it infeasible.
    const bool design = spec->base_kind == "design";
    const bool train_mode = spec->scenario_mode == "train";
    std::vector<ServeWorkload> workloads;
    std::vector<std::string> suffixes;
    if (design) {
      spec::LoadDesign(spec->base_path, diag);
      for (const std::string& path : spec->workload_paths) {
        const std::string suffix =
            spec->workload_paths.size() > 1 ? "@" + std::filesystem::path(path).stem().string() : std::string();
        suffixes.push_back(suffix);
        auto w = spec::LoadScenario(path, diag);
        if (w && (!w->model || !w->serve)) diag.Error({path, 0, 0}, "", "a workload needs a model and a serve section");
        else if (w) workloads.push_back(ServeWorkload{suffix, *w->model, w->parallelism, *w->serve});
      }
    } else {
      auto sc = spec::LoadScenario(spec->base_path, diag);
      if (sc && (!sc->chip || !sc->model)) diag.Error({spec->base_path, 0, 0}, "", "a scenario sweep needs a chip (or cluster) and a model");
    }
    const std::vector<spec::MetricInfo> metrics =
        design ? DesignMetrics(suffixes) : train_mode ? TrainMetrics() : ServeMetrics();
    spec::ResolveSweepMetrics(*spec, metrics, diag);
    if (diag.has_errors()) return fail(diag.Render());
    for (ServeWorkload& w : workloads)
      w.settings.engine.replicas = serve::ServedReplicas(w.settings.engine, w.parallelism.dp);
    std::string error;
    const std::vector<search::Point> points = Points(*spec, &error);
    if (!error.empty()) return fail(fmt::format("{}: error: {}\n", o->file, error));

    std::vector<search::Constraint> constraints;
    for (const auto& c : spec->constraints) {
      constraints.push_back({c.index, c.at_most, c.bound, fmt::format("{} {} {}", c.metric, c.at_most ? "≤" : "≥", c.bound_text)});
    }
    std::vector<search::Objective> objectives;
    std::vector<std::string> objective_names;
    for (const auto& ob : spec->objectives) {
      objectives.push_back({ob.index, ob.maximize ? search::Sense::kMaximize : search::Sense::kMinimize});
      objective_names.push_back(ob.metric);
    }

    // The root opens the store and finds what is left; every rank learns whether to go on.
    const std::string stem = std::filesystem::path(o->file).stem().string();
    const std::string db_path = o->db.empty() ? stem + ".db" : o->db;
    const std::string run_id = o->run.empty() ? stem : o->run;
    std::unique_ptr<store::Store> db;
    std::vector<size_t> pending;
    size_t done_before = 0;
    std::string status;
    if (root) {
      auto opened = store::Store::Open(db_path);
      if (!opened.ok()) {
        status = opened.error();
      } else {
        db = std::move(opened).value();
        store::RunInfo info{run_id, spec->hash, spec->definition, int64_t(points.size()), objective_names};
        auto begun = db->BeginRun(info, o->resume);
        auto done = begun.ok() ? db->DoneIndices(run_id) : Result<std::vector<int64_t>>(Error{begun.error()});
        if (!done.ok()) {
          status = done.error();
        } else {
          std::vector<bool> have(points.size(), false);
          for (int64_t i : done.value())
            if (i >= 0 && size_t(i) < points.size()) have[size_t(i)] = true;
          for (size_t i = 0; i < points.size(); ++i)
            if (!have[i]) pending.push_back(i);
          done_before = points.size() - pending.size();
        }
      }
    }
    status = comm->Broadcast(status);
    if (!status.empty()) return fail(fmt::format("error: {}\n", status));

    // The point's name resolves the base's relative paths (a scenario's chip design file).
    const std::string point_name = design ? o->file + " (point)" : spec->base_path;
    CalibrationCache cals;
    PowerModelCache powers;
    search::EvaluateFn evaluate = [&](size_t i) {
      Diagnostics d;
      search::Evaluation e;
      if (design) {
        auto f = spec::LoadDesignText(spec::ApplyPoint(*spec, points[i]), point_name, d);
        if (f) e = EvaluateDesign(*f, workloads, &cals, &powers);
      } else {
        auto sc = spec::LoadScenarioNode(spec::ApplyPointNode(*spec, points[i]), point_name, d);
        if (sc) e = train_mode ? EvaluateTrain(*sc, &cals) : EvaluateServe(*sc, &cals);
      }
      if (e.metrics.empty()) {
        e.feasible = false;
        e.reason = FirstProblem(d);
        e.metrics.assign(metrics.size(), NAN);
        e.details = nlohmann::json{{"reasons", {e.reason}}}.dump();
      }
      search::ApplyConstraints(constraints, e);
      return e;
    };
    search::SinkFn sink = [&](const std::vector<size_t>& idx, const std::vector<search::Evaluation>& evs) -> Result<bool> {
      std::vector<store::PointRow> rows;
      rows.reserve(idx.size());
      for (size_t k = 0; k < idx.size(); ++k) {
        store::PointRow r;
        r.index = int64_t(idx[k]);
        r.input = InputJson(*spec, points[idx[k]]);
        r.output = evs[k].details;
        r.feasible = evs[k].feasible;
        r.reason = evs[k].reason;
        for (const auto& ob : objectives) r.objectives.push_back(evs[k].metrics[ob.metric]);
        rows.push_back(std::move(r));
      }
      return db->Write(run_id, rows);
    };
    search::ThreadPool pool(o->threads);
    search::Progress progress(points.size(), done_before, (root && !o->quiet) ? ctx.err : nullptr, isatty(STDERR_FILENO) != 0);
    auto ran = search::RunDistributed(pending, evaluate, sink, *comm, pool, {0, &progress});
    if (!ran.ok()) return fail(fmt::format("error: {}\n", ran.error()));
    progress.Finish();
    if (!root) return;

    // The summary comes from the store, so a resumed run reports the same as an unbroken one.
    auto rows = db->Rows(run_id);
    if (!rows.ok()) return fail(fmt::format("error: {}\n", rows.error()));
    std::vector<search::Evaluation> evs;
    for (const auto& r : rows.value()) {
      search::Evaluation e;
      e.feasible = r.feasible;
      e.reason = r.reason;
      const auto j = nlohmann::json::parse(r.output);
      for (const auto& mi : metrics) e.metrics.push_back(j.contains(mi.name) && j[mi.name].is_number() ? j[mi.name].get<double>() : NAN);
      evs.push_back(std::move(e));
    }
    const char* method = spec->method == spec::SweepMethod::kGrid ? "grid" : spec->method == spec::SweepMethod::kRandom ? "random" : "lhs";
    size_t feasible = 0;
    for (const auto& e : evs) feasible += e.feasible ? 1 : 0;
    *ctx.out << fmt::format("sweep {}: {} points ({}), run '{}' in {} ({} rank(s) × {} thread(s))\n", o->file, points.size(), method, run_id,
                            db_path, comm->size(), pool.threads());
    *ctx.out << fmt::format("{} evaluated now, {} from before; {} feasible, {} infeasible\n", ran.value(), done_before, feasible,
                            evs.size() - feasible);
    const auto counts = search::CountInfeasible(evs);
    if (!counts.empty()) {
      TextTable t({"infeasible", "reason"});
      t.AlignRight({0});
      for (const auto& [reason, n] : counts) t.Row({fmt::format("{}", n), reason});
      *ctx.out << "\n" << t.Render();
    }
    if (!objectives.empty()) {
      const auto front = search::ParetoFront(evs, objectives);
      std::vector<std::string> goals;
      for (const auto& ob : spec->objectives) goals.push_back(fmt::format("{} {}", ob.maximize ? "max" : "min", ob.metric));
      *ctx.out << fmt::format("\nPareto front ({}): {} points{}\n", Join(goals, ", "), front.size(),
                              front.size() > o->top ? fmt::format(", first {} shown", o->top) : "");
      std::vector<std::string> header = {"point"};
      for (const auto& p : spec->parameters) header.push_back(p.path);
      std::vector<size_t> shown = design ? std::vector<size_t>{kBf16Peak, kTdp, kSiliconArea, kChipCost}
                                 : train_mode ? std::vector<size_t>{kStepTime, kTokensPerSPerChip, kMfu}
                                              : std::vector<size_t>{kOutPerSPerChip, kTtftP99, kTpotP99};
      for (const auto& ob : objectives)
        if (std::find(shown.begin(), shown.end(), ob.metric) == shown.end()) shown.push_back(ob.metric);
      for (size_t m : shown) header.push_back(metrics[m].name);
      TextTable t(header);
      std::vector<size_t> right;
      for (size_t c = 0; c < header.size(); ++c)
        if (c == 0 || c > spec->parameters.size()) right.push_back(c);
      t.AlignRight(right);
      for (size_t k = 0; k < front.size() && k < o->top; ++k) {
        const size_t i = front[k];
        std::vector<std::string> cells = {fmt::format("{}", rows.value()[i].index)};
        const auto in = nlohmann::json::parse(rows.value()[i].input);
        for (const auto& p : spec->parameters) cells.push_back(in.value(p.path, ""));
        for (size_t m : shown) {
          const double v = evs[i].metrics[m];
          if (metrics[m].dimension == DimensionOf<FlopsPerSec>::value) cells.push_back(ToString(FlopsPerSec(v)));
          else if (metrics[m].dimension == DimensionOf<Watts>::value) cells.push_back(ToString(Watts(v)));
          else if (metrics[m].dimension == DimensionOf<Dollars>::value) cells.push_back(ToString(Dollars(v)));
          else if (metrics[m].dimension == DimensionOf<Seconds>::value) cells.push_back(std::isnan(v) ? "-" : ToString(Seconds(v)));
          else if (metrics[m].dimension == DimensionOf<Bytes>::value) cells.push_back(std::isnan(v) ? "-" : ToString(Bytes(v)));
          else cells.push_back(Fmt(v));
        }
        t.Row(cells);
      }
      *ctx.out << t.Render();
    }
    if (!o->export_path.empty()) {
      auto info = db->Run(run_id);
      const bool json = o->export_path.size() >= 5 && o->export_path.compare(o->export_path.size() - 5, 5, ".json") == 0;
      std::ofstream f(o->export_path, std::ios::binary);
      if (info.ok()) {
        if (json) f << store::ExportJson(info.value(), rows.value()).dump(1) << "\n";
        else f << store::ExportCsv(info.value(), rows.value());
      }
      if (!f || !info.ok()) return fail(fmt::format("error: cannot write '{}'\n", o->export_path));
      *ctx.out << fmt::format("\nwrote {} points to {}\n", rows.value().size(), o->export_path);
    }
  });
}

}  // namespace pf::cli
