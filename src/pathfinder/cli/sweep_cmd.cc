// `pathfinder sweep sweep.yaml [--db results.db] [--resume] [--threads N] [--export out.csv]`:
// evaluates every point of a chip-design sweep (derived peak FLOP/s, memory, TDP, silicon
// area, cost per chip, $ per chip-hour, feasibility) on all cores — and on every rank under
// `mpirun -n N` — writes each point to the SQLite results store as it goes, and prints the
// infeasible points by reason and the Pareto front of the objectives. A killed sweep
// continues with --resume and ends with the same rows as one that was never interrupted.
#include <fmt/core.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/econ/econ.h"
#include "pathfinder/power/power.h"
#include "pathfinder/search/distributed.h"
#include "pathfinder/search/driver.h"
#include "pathfinder/search/objective.h"
#include "pathfinder/search/space.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/sweep_spec.h"
#include "pathfinder/store/store.h"

namespace pf::cli {
namespace {

// ---- The design evaluator ---------------------------------------------------------------

// Metrics of one design point, in this order in Evaluation::metrics. Ratios use TFLOP/s
// so their numbers read like the literature's (e.g. H100 SXM ≈ 1.4 TFLOP/s per W).
enum DesignMetric : size_t {
  kBf16Peak, kFp8Peak, kHbmCapacity, kHbmBandwidth, kTdp, kSiliconArea, kChipCost, kCostPerChipHour,
  kBf16PerDollar, kBf16PerWatt, kNumDesignMetrics
};

std::vector<spec::MetricInfo> DesignMetrics() {
  return {
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
}

// Derives, costs and measures one loaded design. Cost and TCO as in `pathfinder design`:
// a custom chip is bought at build cost (no vendor margin, NRE excluded).
search::Evaluation EvaluateDesign(const spec::DesignFile& f) {
  search::Evaluation e;
  e.metrics.assign(kNumDesignMetrics, NAN);
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
  e.feasible = c.feasibility.ok;
  if (!c.feasibility.ok) e.reason = c.feasibility.reasons.empty() ? "infeasible" : c.feasibility.reasons.front();
  if (!costed) {
    e.feasible = false;
    e.reason = diag.entries().empty() ? "no wafer price" : diag.entries().front().message;
  }
  nlohmann::ordered_json out;
  const auto names = DesignMetrics();
  for (size_t i = 0; i < kNumDesignMetrics; ++i) out[names[i].name] = std::isnan(m[i]) ? nlohmann::ordered_json() : nlohmann::ordered_json(m[i]);
  out["reasons"] = c.feasibility.reasons;
  out["notes"] = c.feasibility.notes;
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
    const auto metrics = DesignMetrics();
    if (!spec::ResolveSweepMetrics(*spec, metrics, diag)) return fail(diag.Render());
    if (!spec::LoadDesign(spec->base_path, diag)) return fail(diag.Render());
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

    const std::string point_name = o->file + " (point)";
    search::EvaluateFn evaluate = [&](size_t i) {
      Diagnostics d;
      auto f = spec::LoadDesignText(spec::ApplyPoint(*spec, points[i]), point_name, d);
      search::Evaluation e;
      if (f) {
        e = EvaluateDesign(*f);
      } else {
        e.feasible = false;
        e.reason = FirstProblem(d);
        e.metrics.assign(kNumDesignMetrics, NAN);
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
      std::vector<size_t> shown = {kBf16Peak, kTdp, kSiliconArea, kChipCost};
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
