// Serving-simulator scenario benchmarks (issue 6 targets): 100 000 requests on one 8-chip
// replica in ≤ 2 s, and 1 000 000 requests over 64 replicas in ≤ 30 s. Llama-3-70B FP8 on
// H100 SXM TP8, log-normal chat lengths, Poisson arrivals near saturation, decode-first
// continuous batching with chunked prefill. Chip, calibration and model come from data/.
//
// Built into pf_bench by bench/CMakeLists.txt's *_bench.cc glob (needs pf_serve, pf_spec).
#include <benchmark/benchmark.h>

#include <memory>

#include "pathfinder/serve/metrics.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/model_spec.h"

namespace {

using namespace pf;

struct Fixture {
  std::unique_ptr<ops::OpModel> op;
  model::Architecture arch;
};

const Fixture& Get() {
  static const Fixture f = [] {
    Diagnostics d;
    auto chip = spec::LoadChipPreset("h100-sxm", d);
    auto cal = spec::ResolveCalibration(*chip, d);
    auto arch = spec::LoadModelByName("llama-3-70b", d);
    return Fixture{std::make_unique<ops::OpModel>(*chip, cal->ceilings), *arch};
  }();
  return f;
}

serve::ServeSettings Chat(long requests, int replicas, double rate) {
  serve::ServeSettings s;
  s.workload.requests = requests;
  s.workload.input = {serve::LengthKind::kLogNormal, 1000, 600, 16, 8000};
  s.workload.output = {serve::LengthKind::kLogNormal, 200, 150, 1, 2000};
  s.arrivals = {serve::ArrivalKind::kPoisson, rate, 0};
  s.engine.replicas = replicas;
  s.weight_dtype = s.kv_dtype = DType::kFp8;
  return s;
}

void Run(benchmark::State& state, long requests, int replicas, double rate) {
  const Fixture& f = Get();
  graph::Parallelism p;
  p.tp = 8;
  const serve::ServeSettings s = Chat(requests, replicas, rate);
  double out_tps = 0;
  for (auto _ : state) {
    serve::IterationCostModel cost(*f.op, f.arch, p, s, nullptr);  // fresh caches: cold start counted
    const serve::SimResult r = serve::Simulate(s, cost);
    out_tps = serve::Summarize(r, s.slo).output_tokens_per_s;
    benchmark::DoNotOptimize(r.requests.data());
  }
  state.counters["requests"] = double(requests);
  state.counters["sim_output_tok_per_s"] = benchmark::Counter(out_tps);
  state.SetItemsProcessed(state.iterations() * requests);
}

// 40 req/s per replica is above one TP8 replica's capacity for these lengths, so queues and
// batches stay full: the simulator's worst case.
void BM_Serve100kRequestsOneReplica(benchmark::State& state) { Run(state, 100000, 1, 40); }
BENCHMARK(BM_Serve100kRequestsOneReplica)->Unit(benchmark::kSecond)->Iterations(1);

void BM_Serve1MRequests64Replicas(benchmark::State& state) { Run(state, 1000000, 64, 40.0 * 64); }
BENCHMARK(BM_Serve1MRequests64Replicas)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
