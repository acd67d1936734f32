// Matmul model: invariants (roofline bound, monotonicity, more resources never slower) and
// rule-named unit tests. Chips are built in code (test_chips.h), not loaded from data/.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "pathfinder/ops/test_chips.h"

namespace pf::ops {
namespace {

using testing::A100Like;
using testing::H100Like;
using testing::ModelFor;

const MatmulShape kShapes[] = {{1, 4096, 4096, 1},    {64, 2112, 7168, 1},  {128, 7168, 2048, 1}, {1000, 1000, 1000, 1},
                               {4096, 4096, 4096, 1}, {8192, 8192, 8192, 1}, {2048, 128, 2048, 8}, {333, 4097, 129, 3}};

TEST(Matmul, NeverFasterThanRoofline) {
  for (const auto& chip : {H100Like(), A100Like()}) {
    const OpModel m = ModelFor(chip);
    for (const auto& s : kShapes) {
      for (DType t : {DType::kBf16, DType::kFp8}) {
        if (!m.Supports(t)) continue;
        EXPECT_GE(m.Matmul(s, t).time.value(), m.Matmul(s, t, Fidelity::kRoofline).time.value())
            << chip.name << " " << s.m << "x" << s.n << "x" << s.k;
      }
    }
  }
}

TEST(Matmul, TimeIsMonotoneInEveryDimension) {
  const OpModel m = ModelFor(H100Like());
  for (const auto& s : kShapes) {
    double prev_m = 0, prev_n = 0, prev_k = 0;
    for (int64_t d = 1; d <= 600; d += 7) {
      const double tm = m.Matmul({s.m + d, s.n, s.k, s.batch}, DType::kBf16).time.value();
      const double tn = m.Matmul({s.m, s.n + d, s.k, s.batch}, DType::kBf16).time.value();
      const double tk = m.Matmul({s.m, s.n, s.k + d, s.batch}, DType::kBf16).time.value();
      EXPECT_GE(tm, prev_m * (1 - 1e-12));
      EXPECT_GE(tn, prev_n * (1 - 1e-12));
      EXPECT_GE(tk, prev_k * (1 - 1e-12));
      prev_m = tm;
      prev_n = tn;
      prev_k = tk;
    }
  }
}

// The same with the pipeline coupling at other depths: fp8 on the 4-stage hopper table
// (where the DeepGEMM rows sit near the ridge) and bf16 on the 3-stage ampere table.
TEST(Matmul, TimeIsMonotoneInEveryDimensionAtOtherPipelineDepths) {
  const OpModel h = ModelFor(H100Like()), a = ModelFor(A100Like());
  for (const auto& [model, dtype] : {std::pair{&h, DType::kFp8}, std::pair{&a, DType::kBf16}}) {
    for (const auto& s : kShapes) {
      double prev_m = 0, prev_n = 0, prev_k = 0;
      for (int64_t d = 1; d <= 600; d += 7) {
        const double tm = model->Matmul({s.m + d, s.n, s.k, s.batch}, dtype).time.value();
        const double tn = model->Matmul({s.m, s.n + d, s.k, s.batch}, dtype).time.value();
        const double tk = model->Matmul({s.m, s.n, s.k + d, s.batch}, dtype).time.value();
        EXPECT_GE(tm, prev_m * (1 - 1e-12)) << s.m + d << "x" << s.n << "x" << s.k;
        EXPECT_GE(tn, prev_n * (1 - 1e-12)) << s.m << "x" << s.n + d << "x" << s.k;
        EXPECT_GE(tk, prev_k * (1 - 1e-12)) << s.m << "x" << s.n << "x" << s.k + d;
        prev_m = tm;
        prev_n = tn;
        prev_k = tk;
      }
    }
  }
}

TEST(Matmul, MoreFlopsOrBandwidthIsNeverSlower) {
  const hw::Chip chip = H100Like();
  const Ceilings base = ResolveCeilings(chip, nullptr, nullptr);
  Ceilings more_flops = base, more_bw = base;
  more_flops.matmul[DType::kBf16] = base.matmul[DType::kBf16] * 1.5;
  more_bw.hbm = base.hbm * 1.5;
  const OpModel a(chip, base), f(chip, more_flops), b(chip, more_bw);
  for (const auto& s : kShapes) {
    const double t = a.Matmul(s, DType::kBf16).time.value();
    EXPECT_LE(f.Matmul(s, DType::kBf16).time.value(), t);
    EXPECT_LE(b.Matmul(s, DType::kBf16).time.value(), t);
  }
}

// Sweeping the bandwidth and the FLOP/s through the ridge of a one-wave grouped fp8 GEMM
// (where PipelinedTime matters most): time never rises as either grows.
TEST(Matmul, MoreFlopsOrBandwidthIsNeverSlowerThroughTheRidge) {
  const hw::Chip chip = H100Like();
  const Ceilings base = ResolveCeilings(chip, nullptr, nullptr);
  const MatmulShape s{256, 4096, 7168, 4};
  double prev_bw = 1e30, prev_fl = 1e30;
  for (double f = 0.25; f <= 4.0; f *= 1.05) {
    Ceilings bw = base, fl = base;
    bw.hbm = base.hbm * f;
    fl.matmul[DType::kFp8] = base.matmul[DType::kFp8] * f;
    const double t_bw = OpModel(chip, bw).Matmul(s, DType::kFp8).time.value();
    const double t_fl = OpModel(chip, fl).Matmul(s, DType::kFp8).time.value();
    EXPECT_LE(t_bw, prev_bw * (1 + 1e-12)) << f;
    EXPECT_LE(t_fl, prev_fl * (1 + 1e-12)) << f;
    prev_bw = t_bw;
    prev_fl = t_fl;
  }
}

TEST(Matmul, RooflineIsMaxOfComputeAndTraffic) {
  const OpModel m = ModelFor(H100Like());
  const auto c = m.Matmul({8192, 8192, 8192, 1}, DType::kBf16, Fidelity::kRoofline);
  EXPECT_DOUBLE_EQ(c.time.value(), 2.0 * 8192.0 * 8192 * 8192 / 989.4e12);
  EXPECT_EQ(c.bound, Bound::kCompute);
  const auto d = m.Matmul({1, 8192, 8192, 1}, DType::kBf16, Fidelity::kRoofline);
  EXPECT_EQ(d.bound, Bound::kMemory);
  EXPECT_NEAR(d.bytes.value(), (8192.0 + 8192.0 * 8192 + 8192) * 2, 1);
}

TEST(Matmul, LargeSquareIsComputeBoundNearTheCeiling) {
  const OpModel m = ModelFor(H100Like());
  const auto c = m.Matmul({8192, 8192, 8192, 1}, DType::kBf16);
  EXPECT_EQ(c.bound, Bound::kCompute);
  EXPECT_GT(c.achieved.value(), 0.85 * m.ceilings().matmul[DType::kBf16].value());
  EXPECT_LE(c.achieved.value(), m.ceilings().matmul[DType::kBf16].value());
}

TEST(Matmul, DecodeGemvIsMemoryBoundAndReadsTheWeightsOnce) {
  const OpModel m = ModelFor(H100Like());
  const auto c = m.Matmul({1, 8192, 8192, 1}, DType::kBf16);
  EXPECT_EQ(c.bound, Bound::kMemory);
  EXPECT_GE(c.bytes.value(), 8192.0 * 8192 * 2);
  EXPECT_LT(c.bytes.value(), 1.01 * 8192.0 * 8192 * 2);
}

TEST(Matmul, PadsKToTheMatrixUnitDepth) {
  const OpModel m = ModelFor(H100Like());  // k = 16 for bf16
  const auto a = m.Matmul({4096, 4096, 4097, 1}, DType::kBf16);
  EXPECT_DOUBLE_EQ(a.executed_flops.value() / (2.0 * a.tile_m * a.tile_n * a.tiles), 4112.0);
  // fp8 instructions are twice as deep (32).
  const auto b = m.Matmul({4096, 4096, 4097, 1}, DType::kFp8);
  EXPECT_DOUBLE_EQ(b.executed_flops.value() / (2.0 * b.tile_m * b.tile_n * b.tiles), 4128.0);
}

TEST(Matmul, ShrinksTheTileToTheMatrixUnitPaddedM) {
  const OpModel m = ModelFor(H100Like());  // matrix unit m = 64
  const auto c = m.Matmul({1, 4096, 4096, 1}, DType::kBf16);
  EXPECT_EQ(c.tile_m, 64);
}

TEST(Matmul, QuantizesWavesOverCores) {
  const OpModel m = ModelFor(H100Like());
  for (const auto& s : kShapes) {
    const auto c = m.Matmul(s, DType::kBf16);
    EXPECT_EQ(c.waves, (c.tiles + 131) / 132);
    EXPECT_NEAR(c.wave_efficiency, double(c.tiles) / double(c.waves * 132), 1e-12);
  }
  // One tile more than a full wave costs a second wave: ≥ 1.5x the time of a full wave.
  const auto full = m.Matmul({128 * 12, 256 * 11, 8192, 1}, DType::kBf16);  // 132 tiles of 128x256
  const auto over = m.Matmul({128 * 12 + 1, 256 * 11, 8192, 1}, DType::kBf16);
  EXPECT_GT(over.compute_time.value(), 1.05 * full.compute_time.value());
}

TEST(Matmul, SplitsKWhenTilesCannotFillTheCores) {
  const OpModel m = ModelFor(H100Like());
  const auto c = m.Matmul({128, 256, 65536, 1}, DType::kBf16);
  EXPECT_GT(c.split_k, 1);
  EXPECT_LE(c.tiles, 132);
}

TEST(Matmul, RereadsOperandsThatDoNotFitTheSharedCache) {
  const OpModel m = ModelFor(H100Like());  // 50 MB L2
  EXPECT_DOUBLE_EQ(m.Matmul({2048, 2048, 2048, 1}, DType::kBf16).reread_factor, 1.0);  // 16 MB fits
  EXPECT_GT(m.Matmul({16384, 16384, 16384, 1}, DType::kBf16).reread_factor, 1.0);
}

TEST(Matmul, SkipsTilesWhosePipelineDoesNotFitCoreSram) {
  hw::Chip chip = H100Like();
  chip.sram.per_core = Bytes(140e3);  // 128x256 bf16 x 4 stages of 128 B = 196 KB does not fit
  const OpModel m = ModelFor(chip);
  const auto c = m.Matmul({8192, 8192, 8192, 1}, DType::kBf16);
  EXPECT_LE((c.tile_m + c.tile_n) * 64 * 2 * 4, 140000);
}

TEST(Matmul, AddsOneKernelOverhead) {
  const OpModel m = ModelFor(H100Like());
  const auto c = m.Matmul({8, 8, 8, 1}, DType::kBf16);
  EXPECT_EQ(c.bound, Bound::kLatency);
  EXPECT_DOUBLE_EQ(c.overhead.value(), kFallbackKernelOverheadSeconds);
}

TEST(Matmul, GroupedGemmCostsAtLeastItsGroups) {
  const OpModel m = ModelFor(H100Like());
  const auto one = m.Matmul({512, 4096, 7168, 1}, DType::kFp8);
  const auto four = m.Matmul({512, 4096, 7168, 4}, DType::kFp8);
  EXPECT_GE(four.time.value(), one.time.value());
  EXPECT_DOUBLE_EQ(four.flops.value(), 4 * one.flops.value());
}

TEST(PipelinedTime, IsTheMaxFarFromTheRidgeAndLosesOneStageInSPlusOneAtIt) {
  EXPECT_DOUBLE_EQ(PipelinedTime(1.0, 1.0, 4), 1.25);  // (S+1)/S at c = m
  EXPECT_DOUBLE_EQ(PipelinedTime(2.0, 2.0, 2), 3.0);
  EXPECT_NEAR(PipelinedTime(1.0, 1e-3, 4), 1.0, 1e-11);  // compute-bound: r^4 = 1e-12
  EXPECT_NEAR(PipelinedTime(1e-3, 1.0, 4), 1.0, 1e-11);  // memory-bound
  EXPECT_DOUBLE_EQ(PipelinedTime(0.0, 1.0, 4), 1.0);
  EXPECT_DOUBLE_EQ(PipelinedTime(0.0, 0.0, 4), 0.0);
}

TEST(PipelinedTime, OneBufferSerializesLoadsAndMmas) {
  EXPECT_DOUBLE_EQ(PipelinedTime(3.0, 1.0, 1), 4.0);
  EXPECT_DOUBLE_EQ(PipelinedTime(1.0, 3.0, 1), 4.0);
}

TEST(PipelinedTime, DeeperPipelinesLoseLess) {
  EXPECT_DOUBLE_EQ(PipelinedTime(1.0, 1.0, 2), 1.5);
  EXPECT_DOUBLE_EQ(PipelinedTime(1.0, 1.0, 8), 1.125);
  for (double r : {0.3, 0.7, 1.0, 1.5}) {
    double prev = PipelinedTime(1.0, r, 1);
    for (int stages = 2; stages <= 8; ++stages) {
      const double t = PipelinedTime(1.0, r, stages);
      EXPECT_LT(t, prev) << r << " " << stages;
      prev = t;
    }
  }
}

TEST(PipelinedTime, NeverBelowTheMaxAndIncreasingInComputeAndMemory) {
  for (int stages : {1, 2, 4, 6}) {
    for (double m = 0.1; m < 4; m *= 1.3) {
      double prev = 0;
      for (double c = 0.1; c < 4; c *= 1.1) {
        const double t = PipelinedTime(c, m, stages);
        EXPECT_GE(t, std::max(c, m));
        EXPECT_LE(t, c + m + 1e-12);  // never worse than no overlap at all
        EXPECT_GT(t, prev);
        EXPECT_DOUBLE_EQ(t, PipelinedTime(m, c, stages));  // symmetric in its two stations
        prev = t;
      }
    }
  }
}

// The shape of deepgemm_fp8_grouped_masked_4x256x4096x7168: one wave of 128x256 tiles whose
// MMAs and weight stream take about equally long. The 4-stage pipeline (hopper tile table)
// loses about a fifth; a big compute-bound GEMM loses nothing measurable.
TEST(Matmul, NearTheRidgeLoadsAndMmasStallEachOther) {
  const OpModel m = ModelFor(H100Like());
  const auto ridge = m.Matmul({256, 4096, 7168, 4}, DType::kFp8);
  const double bound = std::max(ridge.compute_time.value(), ridge.memory_time.value());
  const double ratio = std::min(ridge.compute_time.value(), ridge.memory_time.value()) / bound;
  EXPECT_GT(ratio, 0.8);
  EXPECT_GT(ridge.pipeline_stall.value(), 0.12 * bound);
  EXPECT_LE(ridge.pipeline_stall.value(), 0.25 * bound);
  EXPECT_DOUBLE_EQ(ridge.time.value(), ridge.overhead.value() + bound + ridge.pipeline_stall.value());
  const auto big = m.Matmul({8192, 8192, 8192, 1}, DType::kBf16);
  EXPECT_LT(big.pipeline_stall.value(), 1e-3 * big.compute_time.value());
  EXPECT_DOUBLE_EQ(m.Matmul({256, 4096, 7168, 4}, DType::kFp8, Fidelity::kRoofline).pipeline_stall.value(), 0.0);
}

TEST(Matmul, CompilerScheduledDmaKeepsTheMaxOfComputeAndTraffic) {
  hw::Chip chip = H100Like();
  chip.family = "tpu-test";  // TPU tile table: loads_contend = false
  const OpModel m = ModelFor(chip);
  for (const auto& s : kShapes) EXPECT_EQ(m.Matmul(s, DType::kBf16).pipeline_stall.value(), 0.0);
  EXPECT_FALSE(TilesFor(chip).loads_contend);
  EXPECT_TRUE(TilesFor(H100Like()).loads_contend);
  EXPECT_TRUE(TilesFor(A100Like()).loads_contend);
}

// A TPU v6e-like chip (one TensorCore, 918 TFLOP/s bf16, 1.64 TB/s HBM): at the 827.5
// TFLOP/s a v6e is measured to run a bf16 8192^3 matmul at (tpu-recipes), the GEMM is
// compute-bound, which 512x512 blocks could not be (their re-reads need 2.3x the HBM time of
// the MXU time); the model picks the large VMEM blocks.
TEST(Matmul, TpuBlocksKeepALargeGemmComputeBound) {
  const hw::Chip c = testing::TpuV6eLike();
  CalibrationSpec own;
  own.matmul[DType::kBf16] = FlopsPerSec(827.5e12);
  own.hbm_bandwidth = BytesPerSec(1.3596e12);
  const OpModel m(c, ResolveCeilings(c, &own, nullptr));
  const MatmulCost big = m.Matmul({8192, 8192, 8192, 1}, DType::kBf16);
  EXPECT_EQ(big.bound, Bound::kCompute);
  EXPECT_GE(big.tile_m, 2048);
  EXPECT_NEAR(big.achieved.value(), 827.5e12, 0.01 * 827.5e12);
  // 512x512 blocks would re-read each operand 16 times: 4.3 GB, 3.2 ms at 1.36 TB/s.
  EXPECT_LT(big.bytes.value(), 1.5e9);
}

TEST(Calibration, MeasuredBeatsFamilyBeatsFallbackAndNeverExceedsPeak) {
  const hw::Chip chip = H100Like();
  CalibrationSpec own, fam;
  own.matmul[DType::kBf16] = FlopsPerSec(800e12);
  own.matmul[DType::kFp8] = FlopsPerSec(5000e12);  // above peak: clamped
  fam.matmul_fraction[DType::kBf16] = 0.5;
  fam.matmul_fraction[DType::kFp16] = 0.6;
  fam.hbm_fraction = 0.8;
  const Ceilings c = ResolveCeilings(chip, &own, &fam);
  EXPECT_DOUBLE_EQ(c.matmul[DType::kBf16].value(), 800e12);
  EXPECT_DOUBLE_EQ(c.matmul[DType::kFp8].value(), 1978.9e12);
  EXPECT_DOUBLE_EQ(c.matmul[DType::kFp16].value(), 0.6 * 989.4e12);
  EXPECT_DOUBLE_EQ(c.hbm.value(), 0.8 * 3.35e12);
  // tf32 has nothing: inherits the bf16 efficiency.
  EXPECT_NEAR(c.matmul[DType::kTf32].value(), 494.7e12 * 800 / 989.4, 1e3);
  const Ceilings f = ResolveCeilings(chip, nullptr, nullptr);
  EXPECT_DOUBLE_EQ(f.matmul[DType::kBf16].value(), 989.4e12 * kFallbackMatmulFraction);
}

}  // namespace
}  // namespace pf::ops
