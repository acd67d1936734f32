// Design-sweep throughput (issue 8): points per second for a chip-design sweep — apply a
// point to the base design, load it through the design schema (the same validation as a
// file), derive the chip, cost it — on one thread and through the deterministic pool; and
// the search pieces around it: Latin hypercube generation and the Pareto front; and one
// point of a design × serving-workload sweep (examples/sweep-2nm-serving.yaml): the design
// point plus the serving fast mode (serve/steady_state) and the chip's power model, the
// per-point cost behind the 1 000 000-point target (≤ 10 min on 2 cores ⇒ ≤ 1.2 ms a point
// a core).
// The store's write rate is measured by `pathfinder sweep` itself (see RESULTS.md).
#include <benchmark/benchmark.h>

#include <cmath>

#include "pathfinder/econ/econ.h"
#include "pathfinder/hw/design.h"
#include "pathfinder/search/objective.h"
#include "pathfinder/search/pool.h"
#include "pathfinder/search/space.h"
#include "pathfinder/serve/steady_state.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/spec/sweep_spec.h"

namespace {

using namespace pf;

// The example sweep (examples/sweep-2nm-design.yaml, found beside data/), loaded once.
const spec::SweepSpec& Example() {
  static const spec::SweepSpec s = [] {
    Diagnostics d;
    auto v = spec::LoadSweep(std::string(PF_DATA_DIR) + "/../examples/sweep-2nm-design.yaml", d);
    if (!v) std::abort();
    return *v;
  }();
  return s;
}

std::vector<search::Parameter> Params(const spec::SweepSpec& s) {
  std::vector<search::Parameter> out;
  for (const auto& p : s.parameters) {
    search::Parameter q;
    if (!p.values.empty()) {
      q.kind = search::Parameter::Kind::kValues;
      q.count = p.values.size();
    } else {
      q.lo = p.lo;
      q.hi = p.hi;
      q.integer = p.integer;
    }
    out.push_back(q);
  }
  return out;
}

// One point as `pathfinder sweep` evaluates it (cli/sweep_cmd.cc): apply, load, derive, cost.
double EvaluatePoint(const spec::SweepSpec& s, const search::Point& p) {
  Diagnostics d;
  auto f = spec::LoadDesignText(spec::ApplyPoint(s, p), "point", d);
  if (!f) return NAN;
  const hw::DerivedChip c = hw::DeriveChip(f->design, f->tech);
  auto wafer = spec::WaferFor(f->tech.node, f->econ, d);
  if (!wafer) return NAN;
  const auto cost = econ::EstimateChipCost(c, *wafer, *wafer, spec::HbmCost(f->tech.memory, f->econ), f->econ.package);
  return c.chip.peak[DType::kBf16].value() / cost.total.value();
}

void BM_DesignPointOneThread(benchmark::State& state) {
  const auto& s = Example();
  const auto pts = search::LatinHypercube(Params(s), 256, 1);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(EvaluatePoint(s, pts[i++ % pts.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DesignPointOneThread);

// Points/s of the pool over all threads (wall time): the rate a sweep runs at.
void BM_DesignSweepPool(benchmark::State& state) {
  const auto& s = Example();
  const auto pts = search::LatinHypercube(Params(s), 512, 1);
  search::ThreadPool pool(int(state.range(0)));
  std::vector<double> out(pts.size());
  for (auto _ : state) {
    pool.ParallelFor(pts.size(), [&](size_t i) { out[i] = EvaluatePoint(s, pts[i]); });
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(pts.size()));
}
BENCHMARK(BM_DesignSweepPool)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- Design × serving workload, fast mode ------------------------------------------------

struct ServingSweep {
  spec::SweepSpec sweep;
  spec::Scenario workload;
  std::optional<ops::CalibrationSpec> family;  // the derived chips' calibration family file, loaded once
  std::optional<power::ChipPowerModel> power;  // the node/memory/link energy, read once (as sweep_cmd.cc's cache)
};

const ServingSweep& Serving() {
  static const ServingSweep s = [] {
    Diagnostics d;
    ServingSweep out;
    auto v = spec::LoadSweep(std::string(PF_DATA_DIR) + "/../examples/sweep-2nm-serving.yaml", d);
    if (!v) std::abort();
    out.sweep = *v;
    auto w = spec::LoadScenario(v->workload_paths.front(), d);
    if (!w || !w->chip) std::abort();
    out.workload = *w;
    auto r = spec::ResolveCalibration(*w->chip, d);
    if (!r) std::abort();
    if (!r->family_file.empty()) out.family = spec::LoadCalibrationPreset(r->family_file, d);
    out.power = spec::ChipPowerModelFor(*w->chip, d);
    if (!out.power || out.power->method != power::ChipPowerModel::Method::kActivity) std::abort();
    return out;
  }();
  return s;
}

// One point as `pathfinder sweep` evaluates a design sweep with a workload: apply, load,
// derive, cost, serve in the fast mode, price the power; returns $ per million tokens.
double EvaluateServingPoint(const ServingSweep& s, const search::Point& p) {
  Diagnostics d;
  auto f = spec::LoadDesignText(spec::ApplyPoint(s.sweep, p), "point", d);
  if (!f) return NAN;
  const hw::DerivedChip c = hw::DeriveChip(f->design, f->tech);
  const auto costed = spec::CostDesign(*f, c, d);
  if (!costed || !c.feasibility.ok) return NAN;
  const ops::OpModel op(c.chip, ops::ResolveCeilings(c.chip, nullptr, s.family ? &*s.family : nullptr));
  const serve::ServeSettings& set = *s.workload.serve;
  serve::IterationCostModel cost(op, *s.workload.model, s.workload.parallelism, set, nullptr);
  if (!cost.memory().fits) return NAN;
  const serve::SteadyState ss = serve::EstimateSteadyState(cost, set);
  // The power model rebuilt from energy data read once (cli/sweep_cmd.cc PowerModelCache; the
  // workload's chip is the same design, so the same node, memory and link).
  power::ChipPowerModel pm = *s.power;
  hw::MemoryTech memory;
  memory.energy_per_bit = pm.energy.hbm_byte;
  pm.energy = power::MakeEnergyModel(c.chip, pm.energy.node, memory, pm.energy.link_byte);
  const power::PowerResult pr = power::Evaluate(spec::ServeActivity(ss.work, ss.iteration), pm, c.chip.clock);
  benchmark::DoNotOptimize(pr.average.value());
  return econ::CostPerMillionTokens(costed->tco, ss.output_tokens_per_s_per_chip).value();
}

void BM_DesignServingPointOneThread(benchmark::State& state) {
  const auto& s = Serving();
  const auto pts = search::LatinHypercube(Params(s.sweep), 256, 1);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(EvaluateServingPoint(s, pts[i++ % pts.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DesignServingPointOneThread)->Unit(benchmark::kMicrosecond);

// The parts of a serving point: the fast mode alone on one derived chip (no loading).
void BM_SteadyStateOnly(benchmark::State& state) {
  const auto& s = Serving();
  Diagnostics d;
  auto f = spec::LoadDesignText(spec::ApplyPoint(s.sweep, search::LatinHypercube(Params(s.sweep), 1, 1)[0]), "point", d);
  if (!f) std::abort();
  const hw::DerivedChip c = hw::DeriveChip(f->design, f->tech);
  const ops::OpModel op(c.chip, ops::ResolveCeilings(c.chip, nullptr, s.family ? &*s.family : nullptr));
  for (auto _ : state) {
    serve::IterationCostModel cost(op, *s.workload.model, s.workload.parallelism, *s.workload.serve, nullptr);
    benchmark::DoNotOptimize(serve::EstimateSteadyState(cost, *s.workload.serve).output_tokens_per_s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SteadyStateOnly)->Unit(benchmark::kMicrosecond);

void BM_ChipPowerModelFor(benchmark::State& state) {
  const auto& s = Serving();
  for (auto _ : state) {
    Diagnostics d;
    benchmark::DoNotOptimize(spec::ChipPowerModelFor(*s.workload.chip, d));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChipPowerModelFor)->Unit(benchmark::kMicrosecond);

void BM_LatinHypercube(benchmark::State& state) {
  std::vector<search::Parameter> ps(5);
  for (auto& p : ps) p.hi = 1;
  for (auto _ : state) benchmark::DoNotOptimize(search::LatinHypercube(ps, size_t(state.range(0)), 7));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LatinHypercube)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_ParetoFront(benchmark::State& state) {
  search::Rng rng(3);
  std::vector<search::Evaluation> pts(size_t(state.range(0)));
  for (auto& e : pts) e.metrics = {rng.Uniform(), rng.Uniform()};
  const std::vector<search::Objective> obj = {{0, search::Sense::kMaximize}, {1, search::Sense::kMinimize}};
  for (auto _ : state) benchmark::DoNotOptimize(search::ParetoFront(pts, obj));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParetoFront)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
