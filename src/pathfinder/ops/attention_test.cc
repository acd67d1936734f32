// Attention and memory-bound op models: invariants and rule-named tests.
#include <gtest/gtest.h>

#include "pathfinder/ops/memory_ops.h"
#include "pathfinder/ops/test_chips.h"
#include "pathfinder/ops/tiling.h"

namespace pf::ops {
namespace {

using testing::A100Like;
using testing::H100Like;
using testing::ModelFor;

AttentionShape Prefill(int64_t seq) {
  AttentionShape s;
  s.batch = 1;
  s.heads = 64;
  s.kv_heads = 8;
  s.head_dim = 128;
  s.q_len = s.kv_len = seq;
  s.causal = true;
  return s;
}

AttentionShape Decode(int64_t batch, int64_t context) {
  AttentionShape s = Prefill(1);
  s.batch = batch;
  s.q_len = 1;
  s.kv_len = context;
  return s;
}

TEST(Attention, NeverFasterThanRoofline) {
  const OpModel m = ModelFor(H100Like());
  for (auto s : {Prefill(512), Prefill(8192), Decode(1, 4096), Decode(64, 32768)}) {
    EXPECT_GE(m.Attention(s).time.value(), m.Attention(s, Fidelity::kRoofline).time.value());
  }
}

TEST(Attention, CausalPrefillDoesAboutHalfTheWork) {
  const OpModel m = ModelFor(H100Like());
  AttentionShape c = Prefill(8192), n = Prefill(8192);
  n.causal = false;
  EXPECT_NEAR(m.Attention(c).flops.value() / m.Attention(n).flops.value(), 0.5, 0.001);
  EXPECT_DOUBLE_EQ(m.Attention(n).flops.value(), 4.0 * 64 * 8192.0 * 8192 * 128);
}

TEST(Attention, DecodeIsDominatedByKvCacheReads) {
  const OpModel m = ModelFor(H100Like());
  const auto c = m.Attention(Decode(32, 8192));
  EXPECT_EQ(c.bound, Bound::kMemory);
  const double kv = 32.0 * 8 * 8192 * 2 * 128 * 2;
  EXPECT_GT(kv / c.bytes.value(), 0.99);
}

TEST(Attention, GqaReadsFewerKvBytesThanMha) {
  const OpModel m = ModelFor(H100Like());
  AttentionShape gqa = Decode(8, 8192), mha = gqa, mqa = gqa;
  mha.kv_heads = 64;
  mqa.kv_heads = 1;
  EXPECT_LT(m.Attention(gqa).bytes.value(), m.Attention(mha).bytes.value());
  EXPECT_LT(m.Attention(mqa).bytes.value(), m.Attention(gqa).bytes.value());
}

TEST(Attention, SlidingWindowCapsTheKeysAttended) {
  const OpModel m = ModelFor(H100Like());
  AttentionShape full = Prefill(32768), win = full;
  win.window = 4096;
  EXPECT_LT(m.Attention(win).flops.value(), 0.25 * m.Attention(full).flops.value());
  AttentionShape d = Decode(4, 100000), dw = d;
  dw.window = 4096;
  EXPECT_LT(m.Attention(dw).bytes.value(), 0.05 * m.Attention(d).bytes.value());
}

TEST(Attention, MlaAbsorbedReadsTheLatentOnly) {
  const OpModel m = ModelFor(H100Like());
  AttentionShape s = Decode(16, 8192);
  s.heads = 128;
  s.kv_heads = 128;
  s.head_dim = 192;
  s.v_head_dim = 128;
  s.mla = MlaMode::kAbsorbed;
  s.kv_lora_rank = 512;
  s.rope_dim = 64;
  const auto a = m.Attention(s);
  EXPECT_GT((16.0 * 8192 * 576 * 2) / a.bytes.value(), 0.9);
  s.mla = MlaMode::kNaive;
  EXPECT_GT(m.Attention(s).time.value(), a.time.value());
}

TEST(Attention, SplittingHeadsOrSequenceDividesTheWork) {
  const OpModel m = ModelFor(H100Like());
  AttentionShape s = Prefill(8192), tp = s, cp = s;
  tp.heads_split = 8;
  cp.seq_split = 4;
  EXPECT_NEAR(m.Attention(tp).flops.value() * 8, m.Attention(s).flops.value(), 1);
  EXPECT_NEAR(m.Attention(cp).flops.value() * 4, m.Attention(s).flops.value(), 1);
}

// Context parallelism runs Transformer Engine's ring: one kernel per step on a shorter key
// range, so a rank's share takes longer than 1/cp of the unsplit kernel (the backward's
// length dependence and the merges), and the steps' FLOPs are the shard's.
TEST(Attention, RingStepsCostMoreThanTheirShareOfTheUnsplitKernel) {
  const OpModel m = ModelFor(H100Like());
  for (bool causal : {true, false}) {
    AttentionShape full = Prefill(8192), ring = full;
    full.causal = ring.causal = causal;
    full.backward = ring.backward = true;
    ring.seq_split = 2;
    const AttentionCost f = m.Attention(full), r = m.Attention(ring);
    EXPECT_NEAR(r.flops.value() * 2, f.flops.value(), 1e-9 * f.flops.value()) << causal;
    EXPECT_GT(r.time.value() * 2, f.time.value()) << causal;
    // Two fused kernels, the forward merges (init + one step) and the backward's dQ and dK/dV
    // copies and adds (two per step).
    EXPECT_NEAR(r.overhead.value(), m.ceilings().kernel_overhead.value() * (2 + 3 + 4), 1e-12) << causal;
    // The merges move at least the output once more per step.
    const double o = 8192.0 / 2 * 64 * 128 * 2;
    AttentionShape one = ring;
    one.backward = false;
    EXPECT_GT(m.Attention(one).bytes.value(), 2 * o) << causal;
  }
  // The causal diagonal step is not slower than the steps after it, and the rank's time falls
  // as the split grows.
  AttentionShape a = Prefill(16384);
  a.backward = true;
  double prev = m.Attention(a).time.value();
  for (int cp : {2, 4, 8}) {
    a.seq_split = cp;
    const double t = m.Attention(a).time.value();
    EXPECT_LT(t, prev) << cp;
    prev = t;
  }
}

TEST(Attention, TimeGrowsWithSequenceAndContext) {
  const OpModel m = ModelFor(H100Like());
  double prev = 0;
  for (int64_t s = 128; s <= 16384; s *= 2) {
    const double t = m.Attention(Prefill(s)).time.value();
    EXPECT_GT(t, prev);
    prev = t;
  }
  prev = 0;
  for (int64_t c = 128; c <= 131072; c *= 2) {
    const double t = m.Attention(Decode(8, c)).time.value();
    EXPECT_GE(t, prev);
    prev = t;
  }
}

// The attention MMAs run at the calibrated shares of the GEMM ceiling: a large
// compute-bound non-causal prefill reaches the forward share (less the mapping's losses),
// never more, and its backward pass takes 2.5 × the forward FLOPs at the backward share.
TEST(Attention, CalibratedForwardAndBackwardShares) {
  const hw::Chip chip = H100Like();
  CalibrationSpec own;
  own.name = "h100-test";
  own.matmul[DType::kBf16] = FlopsPerSec(794.5e12);
  own.attention_forward = FlopsPerSec(620.7e12);
  own.attention_backward = FlopsPerSec(561e12);
  const Ceilings c = ResolveCeilings(chip, &own, nullptr);
  EXPECT_STREQ(c.attention_origin, "measured");
  EXPECT_NEAR(c.attention_forward, 620.7 / 794.5, 1e-9);
  const OpModel m(chip, c);
  AttentionShape s;
  s.batch = 1;
  s.heads = 16;
  s.kv_heads = 16;
  s.head_dim = 128;
  s.q_len = s.kv_len = 16384;
  s.causal = false;
  const AttentionCost f = m.Attention(s);
  EXPECT_EQ(f.bound, Bound::kCompute);
  EXPECT_LE(f.achieved.value(), 620.7e12);
  EXPECT_GE(f.achieved.value(), 0.9 * 620.7e12);
  s.backward = true;
  const AttentionCost fb = m.Attention(s);
  const double ratio = (fb.time - f.time).value() / f.time.value();
  EXPECT_NEAR(ratio, 2.5 * 620.7 / 561.0, 0.05);
  // With no file the H100 shares apply to any chip's own GEMM ceiling.
  const Ceilings d = ResolveCeilings(chip, nullptr, nullptr);
  EXPECT_STREQ(d.attention_origin, "fallback");
  EXPECT_NEAR(d.attention_backward, 561.0 / 794.5, 1e-9);
}

// The best kernel's causal forward pays for the mask beyond its geometry, as NVIDIA's cuDNN
// SDPA tables show on H200, GB200 and GB300 (calibration.h kBestAttentionForwardCausalBlocks):
// per FLOP, causal over unmasked at 2k-16k tokens follows v / (v + 2.4), v the key blocks a
// query sees on average (s/256), within a few percent (the exponentials and waves are the
// rest); longer sequences lose less. The backward keeps its own terms: its causal/unmasked
// ratio is the same with or without the forward term.
TEST(Attention, BestKernelsCausalForwardPaysForTheMask) {
  const OpModel m = ModelFor(H100Like());
  double last_loss = 1;
  for (int64_t seq : {2048, 4096, 8192, 16384}) {
    AttentionShape c = Prefill(seq), n = Prefill(seq);
    c.batch = n.batch = 16384 / seq;
    n.causal = false;
    const double per_flop_c = m.Attention(c).time.value() / m.Attention(c).flops.value();
    const double per_flop_n = m.Attention(n).time.value() / m.Attention(n).flops.value();
    const double ratio = per_flop_n / per_flop_c;  // causal rate over unmasked rate
    const double v = (double(seq) + 1) / 2 / 128;
    EXPECT_NEAR(ratio, v / (v + kBestAttentionForwardCausalBlocks), 0.03) << seq;
    EXPECT_LT(1 - ratio, last_loss) << seq;
    last_loss = 1 - ratio;
  }
  // Backward alone: (fwd+bwd − fwd) per FLOP, causal over unmasked, untouched by the term.
  AttentionShape c = Prefill(4096), n = Prefill(4096);
  c.batch = n.batch = 4;
  n.causal = false;
  auto bwd_per_flop = [&](AttentionShape s) {
    const AttentionCost f = m.Attention(s);
    s.backward = true;
    const AttentionCost fb = m.Attention(s);
    return (fb.time - f.time).value() / (fb.flops - f.flops).value();
  };
  const double v = 4097.0 / 2 / 128, vn = 4096.0 / 128, n0 = kBestAttentionBackwardBlockOverhead;
  const double expected = (v / (n0 + v + 0.5) * kBestAttentionBackwardCausalFactor) / (vn / (n0 + vn));
  EXPECT_NEAR(bwd_per_flop(n) / bwd_per_flop(c), expected, 0.03);
  // A decode step has no diagonal: causal or not, the same time (here compute-bound: MLA
  // absorbed, 16 sequences of 4k context, where a mask charge would show).
  AttentionShape d = Decode(16, 4096);
  d.mla = MlaMode::kAbsorbed;
  d.heads = 128;
  d.kv_heads = 1;
  d.kv_lora_rank = 512;
  d.rope_dim = 64;
  AttentionShape dn = d;
  dn.causal = false;
  EXPECT_DOUBLE_EQ(m.Attention(d).time.value(), m.Attention(dn).time.value());
}

// An older kernel runs at its own measured rate: at the shape it was measured on (16k
// tokens, non-causal, head dim 128) the model gives that rate back, less only the wave
// quantization; a kernel the chip has no rate for is unsupported.
TEST(Attention, OlderKernelsRunAtTheirMeasuredRate) {
  const hw::Chip chip = A100Like();
  CalibrationSpec family;
  family.name = "ampere";
  family.applies = "family";
  family.attention_kernels[size_t(AttentionKernel::kFlash1)].forward_backward_share = 0.306;
  const Ceilings c = ResolveCeilings(chip, nullptr, &family);
  const OpModel m(chip, c);
  EXPECT_TRUE(m.SupportsAttention(AttentionKernel::kBest));
  EXPECT_TRUE(m.SupportsAttention(AttentionKernel::kFlash1));
  EXPECT_FALSE(m.SupportsAttention(AttentionKernel::kFlash2));
  AttentionShape s;
  s.batch = 1;
  s.heads = s.kv_heads = 16;
  s.head_dim = 128;
  s.q_len = s.kv_len = 16384;
  s.causal = false;
  s.backward = true;
  s.kernel = AttentionKernel::kFlash1;
  const AttentionCost old_kernel = m.Attention(s);
  const double rate = 0.306 * c.matmul[DType::kBf16].value();
  EXPECT_LE(old_kernel.achieved.value(), rate);
  EXPECT_GE(old_kernel.achieved.value(), 0.95 * rate);
  s.kernel = AttentionKernel::kBest;
  EXPECT_LT(m.Attention(s).time.value(), old_kernel.time.value());
}

// The best kernel on Hopper pads the head dim to a multiple of 64 and has a floor per score
// (tiling.h): at the same heads × head dim, d 96 takes as long per score as d 128, and d 64
// runs at the measured per-score floor, not at twice d 128's rate per score. A family with
// no measured floor (ampere) keeps one rate per FLOP for every head dim.
TEST(Attention, HeadDimsBelowTheFamilysStepArePaddedAndFloored) {
  auto shape = [](int64_t d, bool backward) {
    AttentionShape s;
    s.batch = 1;
    s.heads = s.kv_heads = 16;
    s.head_dim = d;
    s.q_len = s.kv_len = 16384;
    s.causal = false;
    s.backward = backward;
    return s;
  };
  const OpModel h100 = ModelFor(H100Like());
  for (bool backward : {false, true}) {
    const double t96 = h100.Attention(shape(96, backward)).compute_time.value();
    const double t128 = h100.Attention(shape(128, backward)).compute_time.value();
    EXPECT_NEAR(t96 / t128, 1.0, 1e-9);
    const double t64 = h100.Attention(shape(64, backward)).compute_time.value();
    EXPECT_GT(t64, 0.55 * t128);
    const TileTable tiles = TilesFor(H100Like());
    const double floor_cycles =
        tiles.attention_score_cycles_forward + (backward ? tiles.attention_score_cycles_backward : 0.0);
    // 16 heads × 128 query blocks of 128 rows over 132 SMs: 16 waves of 128 × 16384 scores.
    const double scores_per_core = 16.0 * 128 * 16384;
    EXPECT_NEAR(t64, scores_per_core * floor_cycles / 1.83e9, 1e-3 * t64);
  }
  const OpModel a100 = ModelFor(A100Like());
  EXPECT_EQ(TilesFor(A100Like()).attention_head_dim_step, 0);
  const double a96 = a100.Attention(shape(96, false)).compute_time.value();
  const double a128 = a100.Attention(shape(128, false)).compute_time.value();
  EXPECT_LT(a96 / a128, 0.85);  // not padded to 128: about the 0.75 of its FLOPs
}

TEST(MemoryOps, TimeIsBytesOverAchievedBandwidthPlusOverhead) {
  const OpModel m = ModelFor(H100Like());
  const auto t = RmsNorm(8192, 8192, DType::kBf16);
  EXPECT_DOUBLE_EQ(t.read.value(), (8192.0 * 8192 + 8192) * 2);
  EXPECT_DOUBLE_EQ(t.written.value(), 8192.0 * 8192 * 2);
  const auto c = m.Memory(t);
  EXPECT_DOUBLE_EQ(c.time.value(), ((t.read + t.written) / m.ceilings().hbm).value() + kFallbackKernelOverheadSeconds);
  EXPECT_GE(c.time.value(), m.Memory(t, Fidelity::kRoofline).time.value());
}

TEST(MemoryOps, FusionDropsTheIntermediateAndOneLaunch) {
  const auto add = Add(1 << 20, DType::kBf16);
  const auto norm = RmsNorm(1024, 1024, DType::kBf16);
  const auto fused = Fuse(add, norm, Bytes(2.0 * (1 << 20)));
  EXPECT_EQ(fused.kernels, 1);
  EXPECT_DOUBLE_EQ((fused.read + fused.written).value(),
                   (add.read + add.written + norm.read + norm.written).value() - 2 * 2.0 * (1 << 20));
}

TEST(MemoryOps, AdamMixedPrecisionMoves18BytesPerParameterWithBf16Grads) {
  const auto t = AdamStep(1000, DType::kBf16, DType::kBf16);
  EXPECT_DOUBLE_EQ((t.read + t.written).value() / 1000, 12 + 2 + 12 + 2);
}

}  // namespace
}  // namespace pf::ops
