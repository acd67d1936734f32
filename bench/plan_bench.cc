// The training planner (issue 8): the whole plan search for Llama-3.1-405B on 16 384 H100s
// (dgx-h100 cluster, seq 8192, global batch 2048 sequences, every layout of the default
// space) on one thread and on all cores. Reported counters: layouts enumerated per second
// and layouts simulated (passed the framework rules, ran the fast-mode simulator with its
// memory fit) per second. Target: the plan in ≤ 1 s; ≥ 200 000 layout evaluations/s.
#include <benchmark/benchmark.h>

#include "pathfinder/search/train_planner.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/model_spec.h"

namespace {

const pf::train::Simulator& Llama405bH100() {
  static const pf::train::Simulator sim = [] {
    pf::Diagnostics diag;
    auto c = pf::spec::LoadChipPreset("h100-sxm", diag);
    auto cal = pf::spec::ResolveCalibration(*c, diag);
    auto cl = pf::spec::LoadClusterPreset("dgx-h100", diag);
    auto m = pf::spec::LoadModelByName("llama-3.1-405b", diag);
    cl->chips = 16384;
    return pf::train::Simulator(*m, pf::ops::OpModel(*c, cal->ceilings), *cl);
  }();
  return sim;
}

void BM_TrainPlan405bOn16kH100(benchmark::State& state) {
  pf::train::TrainSettings s;
  s.seq_len = 8192;
  s.global_batch = 2048;
  pf::search::ThreadPool pool(int(state.range(0)));
  size_t enumerated = 0, simulated = 0;
  for (auto _ : state) {
    const pf::search::TrainPlan plan = pf::search::PlanTraining(Llama405bH100(), 16384, s, {}, 10, pool);
    benchmark::DoNotOptimize(plan.top.data());
    enumerated += plan.enumerated;
    simulated += plan.simulated;
  }
  state.counters["layouts/s"] = benchmark::Counter(double(enumerated), benchmark::Counter::kIsRate);
  state.counters["simulated/s"] = benchmark::Counter(double(simulated), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainPlan405bOn16kH100)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
