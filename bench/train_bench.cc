// Micro-benchmark: one fast-mode training-step evaluation (graph build, every distinct
// operator costed on the chip, collectives on the rank layout, closed-form schedule, memory
// fit) — issue 5's target is ≤ 20 µs — and one event-mode run of Llama-3.1-405B with PP 16
// and 64 micro-batches (target ≤ 200 ms). The chip, cluster and model come from the presets
// in data/, so the numbers are those of the shipped calibration. The same evaluation at
// 8 and 499 712 chips shows the cost does not grow with the chip count.
#include <benchmark/benchmark.h>

#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/model_spec.h"
#include "pathfinder/train/event.h"
#include "pathfinder/train/simulator.h"

namespace {

pf::train::Simulator Make(const char* chip, const char* cluster, const char* model, long chips = 0) {
  pf::Diagnostics diag;
  auto c = pf::spec::LoadChipPreset(chip, diag);
  auto cal = pf::spec::ResolveCalibration(*c, diag);
  auto cl = pf::spec::LoadClusterPreset(cluster, diag);
  auto m = pf::spec::LoadModelByName(model, diag);
  if (chips > 0) cl->chips = chips;
  return pf::train::Simulator(*m, pf::ops::OpModel(*c, cal->ceilings), *cl);
}

// GPT-3 175B as MLPerf on H100: tp 4, pp 8, interleaved, fp8; dp from the argument.
void BM_TrainStepFastMode(benchmark::State& state) {
  static const pf::train::Simulator sim = Make("trainium2", "trn2-two-sites", "gpt3-175b");
  pf::graph::Parallelism p{4, 8, int(state.range(0)), 1, 1, true};
  pf::train::TrainSettings s;
  s.seq_len = 2048;
  s.micro_batch = 1;
  s.global_batch = 8L * p.dp;
  s.schedule = pf::train::Schedule::kInterleaved;
  s.virtual_stages = 4;
  for (auto _ : state) {
    auto r = sim.Run(p, s);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrainStepFastMode)->Arg(8)->Arg(15616)->Unit(benchmark::kMicrosecond);

void BM_TrainStepMoe(benchmark::State& state) {
  static const pf::train::Simulator sim = Make("h100-sxm", "dgx-h100", "deepseek-v3");
  pf::graph::Parallelism p{1, 16, 64, 1, 64, false};
  pf::train::TrainSettings s;
  s.seq_len = 4096;
  s.global_batch = 4096;
  s.precision = pf::DType::kFp8;
  for (auto _ : state) {
    auto r = sim.Run(p, s);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TrainStepMoe)->Unit(benchmark::kMicrosecond);

void BM_TrainStepEventMode405b(benchmark::State& state) {
  static const pf::train::Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3.1-405b", 16384);
  pf::graph::Parallelism p{8, 16, 128, 1, 1, true};
  pf::train::TrainSettings s;
  s.seq_len = 8192;
  s.global_batch = 128L * 64;  // 64 micro-batches per replica
  s.schedule = pf::train::Schedule::kInterleaved;
  s.virtual_stages = 4;
  s.first_stage_layers = 7;
  s.last_stage_layers = 7;
  const auto fast = sim.Run(p, s);
  for (auto _ : state) {
    auto e = pf::train::RunEvents(fast, s);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_TrainStepEventMode405b)->Unit(benchmark::kMillisecond);

}  // namespace
