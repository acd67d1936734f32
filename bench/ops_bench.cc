// Cost of one operator estimate (the inner loop of every sweep): mapped and roofline
// matmul, prefill and decode attention, one memory-bound op. Target (issue 3): ≥ 5 M
// matmul estimates per second per core. Chips are built in code (ops/test_chips.h).
#include <benchmark/benchmark.h>

#include "pathfinder/ops/memory_ops.h"
#include "pathfinder/ops/test_chips.h"

namespace {

using namespace pf;
using namespace pf::ops;

void BM_MatmulMapped(benchmark::State& state) {
  const OpModel m = testing::ModelFor(testing::H100Like());
  int64_t i = 0;
  for (auto _ : state) {
    // Vary the shape so nothing is hoisted out of the loop.
    const MatmulShape s{1024 + (i & 1023), 4096 + (i & 511), 8192 - (i & 255), 1};
    benchmark::DoNotOptimize(m.Matmul(s, DType::kBf16).time);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatmulMapped);

void BM_MatmulRoofline(benchmark::State& state) {
  const OpModel m = testing::ModelFor(testing::H100Like());
  int64_t i = 0;
  for (auto _ : state) {
    const MatmulShape s{1024 + (i & 1023), 4096 + (i & 511), 8192 - (i & 255), 1};
    benchmark::DoNotOptimize(m.Matmul(s, DType::kBf16, Fidelity::kRoofline).time);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatmulRoofline);

void BM_AttentionPrefill(benchmark::State& state) {
  const OpModel m = testing::ModelFor(testing::H100Like());
  AttentionShape s;
  s.heads = 64;
  s.kv_heads = 8;
  s.head_dim = 128;
  int64_t i = 0;
  for (auto _ : state) {
    s.q_len = s.kv_len = 4096 + (i & 1023);
    benchmark::DoNotOptimize(m.Attention(s).time);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttentionPrefill);

void BM_AttentionDecode(benchmark::State& state) {
  const OpModel m = testing::ModelFor(testing::H100Like());
  AttentionShape s;
  s.batch = 64;
  s.heads = 64;
  s.kv_heads = 8;
  s.head_dim = 128;
  s.q_len = 1;
  int64_t i = 0;
  for (auto _ : state) {
    s.kv_len = 8192 + (i & 4095);
    benchmark::DoNotOptimize(m.Attention(s).time);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttentionDecode);

void BM_RmsNorm(benchmark::State& state) {
  const OpModel m = testing::ModelFor(testing::H100Like());
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.Memory(RmsNorm(8192 + (i & 1023), 8192, DType::kBf16)).time);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RmsNorm);

}  // namespace
