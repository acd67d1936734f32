// ops/calibration: what real software achieves on a chip, as opposed to what the datasheet
// promises. Two layers:
//   * CalibrationSpec — one data file (data/calibration/<chip or family>.yaml), loaded by
//     spec/calibration_spec. A chip file holds measured values (absolute FLOP/s, B/s) with
//     the microbenchmark row they came from; a family file holds fractions of the datasheet
//     peak, used for chips of that family without their own measurement.
//   * Ceilings — the resolved numbers the hot path reads: per dtype the best achievable
//     matmul FLOP/s, the achievable HBM bandwidth, and a per-kernel fixed overhead.
// Resolution order per value: the chip's measured value, else its family's fraction × the
// chip's peak, else the global fallback fractions below.
//
// Header-only on purpose: spec/ fills CalibrationSpec without linking ops/.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/hw/chip.h"

namespace pf::ops {

// A value per dtype, indexed by DType.
template <class T>
struct PerDType {
  std::array<T, kAllDTypes.size()> v{};
  T& operator[](DType t) { return v[static_cast<size_t>(t)]; }
  const T& operator[](DType t) const { return v[static_cast<size_t>(t)]; }
};

// Global fallbacks for a chip with neither its own measurement nor a family file: the
// median measured fraction over every chip in ../shared/validation/microbench_results.csv.
//   matmul: gemm_bf16_max_achievable rows, achieved / dense peak: 96.9, 86.9, 83.8, 81.1,
//           80.3, 77.6, 74.1, 72.9, 68.0, 60.4, 51.4 % → median 77.6 %.
//   HBM:    hbm_stream_triad rows, achieved / vendor peak: A100-40 1360/1555, A100-80
//           1759/2039, H100 PCIe 1832/2000, H200 3534/4800, MI210 1248/1638 → median 86.3 %.
inline constexpr double kFallbackMatmulFraction = 0.776;
inline constexpr double kFallbackHbmFraction = 0.863;
// Per-kernel fixed cost (launch, pipeline fill, epilogue drain) when no file gives one:
// a few microseconds on current GPUs — CUDA kernel launch latency is 2–5 µs (NVIDIA
// "Getting Started with CUDA Graphs", 2019: "a few microseconds" per launch). Estimate.
inline constexpr double kFallbackKernelOverheadSeconds = 3e-6;
// Fused attention reaches less of the matrix units than a plain GEMM (softmax, masking,
// online rescaling, and in the backward pass five dependent MMAs with atomics on dQ).
// Fallback shares of the chip's own matmul ceiling, for chips whose calibration states no
// attention shares of their own (Blackwell's come from cuDNN on GB200,
// data/calibration/blackwell.yaml), from the H100 (data/calibration/h100-sxm.yaml):
// FlashAttention-3 forward 620.7 TFLOP/s and backward 561 TFLOP/s (head dim 128, 16k
// tokens) over its GEMM ceiling 794.5 TFLOP/s → 0.781 and 0.706. Assumption: those chips'
// best attention kernels keep the same share of their GEMM ceiling (stated in
// data/calibration/README.md).
inline constexpr double kFallbackAttentionForwardShare = 620.7 / 794.5;
inline constexpr double kFallbackAttentionBackwardShare = 561.0 / 794.5;
// The best kernel's backward pass slows at short sequences much more than its forward: per
// query block it runs a preprocessing pass (rowsum of dO∘O) and accumulates dQ in fp32
// across key blocks, work that does not shrink with the keys a query sees. Measured on an
// H100 SXM (data/measurements/h100-sxm-pytorch-2026-11-22.csv, PyTorch 2.11 SDPA cuDNN 9.19
// backend, bf16, head dim 128, 16k tokens, sequence 512-16384, causal and not): relative to
// the model without this term, the backward rate follows AttentionKernelEfficiency with a
// block overhead of 5.25 key blocks (least-squares fit to the 11 points other than the
// non-causal 16k anchor; rms 3.5 %) and a causal factor of 1.019 (the causal 16k point).
// The forward's measured length dependence without a mask is within ±10 % of the model
// without a term and gets none; its mask dependence is kBestAttentionForwardCausalBlocks.
// Applied to every chip, like the shares above (assumption). The H200 run of the same
// benchmark is the out-of-sample check (data/measurements/README.md).
inline constexpr double kBestAttentionBackwardBlockOverhead = 5.25;
// The best kernel's forward pays for the causal mask beyond its geometry: relative to no
// mask at the same length it runs at 0.76-0.77 at 2k tokens, 0.88-0.90 at 4k, 0.89-0.93 at
// 8k and 0.95-1.01 at 16k in NVIDIA's own cuDNN SDPA benchmark on H200 (cuDNN 9.19), GB200
// and GB300 (cuDNN 9.22): NVIDIA/cudnn-frontend benchmark/sdpa_benchmark_training/results/
// {h200_919_only_cudnn,llama3.1/gb200,llama3.1/gb300}/llama3.1_*.csv, Llama 3.1 heads (64 q,
// 8 kv, head dim 128), bf16, top_left against no_mask. Modelled as the diagonal costing
// this many key blocks of work per query block (AttentionKernelEfficiency with no block
// overhead and no causal factor): a least-squares fit to those 15 ratios (2k-32k, rms 2.8
// %). The backward's terms above already give 0.79, 0.87, 0.94 and 0.97 at 2k-16k, which
// the same tables confirm (0.73-0.80, 0.85-0.87, 0.91-0.95, 0.95-0.98), so it gets no term
// of its own. Applied to every chip (the three chips agree within the rms). Without it the
// model ran the causal forward as fast as the unmasked one, 10-37 % faster than this
// project's H100 measurements at 1k-8k tokens, which no number here was taken from.
inline constexpr double kBestAttentionForwardCausalBlocks = 2.4;
inline constexpr double kBestAttentionBackwardCausalFactor = 1.019;

// What a collective overlapped with compute costs that compute, on a chip whose collectives
// run as kernels on its cores: NCCL and RCCL run one CTA per channel on the SMs/CUs the
// matmuls use (CollectivesRunOnCores). TPUs, Trainium and Gaudi move collective data with
// DMA engines beside their cores and are not charged (assumption). Measured on an H100 SXM
// (data/measurements/README.md, "What a collective's CTAs cost the compute beside them"):
// a whole training step's time beside a copy kernel of N CTAs over its time alone, median
// over four bf16 steps (MPT- and Llama-shaped, eager and compiled; three of them at N = 1,
// 2, 4) and two fp8 steps, at N = 1, 2, 4, 8, 16, 32 of the 132 SMs. A matmul loses the SMs the collective holds, far
// more than their share (a Hopper GEMM CTA needs a whole SM's register file, and cuBLAS sizes its grid to every SM);
// memory-bound kernels share SMs with it and lose little, which is why fp8 steps (more of their time memory-bound) lose
// less. Held as the share of the cores taken, so a chip with more or fewer cores is charged by that share (assumption),
// and held at the last point beyond 32 of 132 (no measurement there).
struct BesideCollectivePoint {
  double core_share, bf16, fp8;  // cores the collective holds / all cores → step time beside / alone
};
inline constexpr std::array<BesideCollectivePoint, 7> kBesideCollective = {{
    {0.0, 1.0, 1.0},
    {1.0 / 132, 1.073, 1.034},
    {2.0 / 132, 1.084, 1.037},
    {4.0 / 132, 1.156, 1.0615},
    {8.0 / 132, 1.160, 1.074},
    {16.0 / 132, 1.215, 1.135},
    {32.0 / 132, 1.338, 1.237},
}};
// `value` of a table of points sorted by core_share, at `core_share`: linear between
// points, the first point's below it and the last point's beyond it.
template <class Point, size_t N, class Value>
double AtCoreShare(const std::array<Point, N>& table, double core_share, Value value) {
  if (core_share <= table.front().core_share) return value(table.front());
  for (size_t i = 1; i < N; ++i) {
    const Point &lo = table[i - 1], &hi = table[i];
    if (core_share <= hi.core_share) {
      const double t = (core_share - lo.core_share) / (hi.core_share - lo.core_share);
      return value(lo) + t * (value(hi) - value(lo));
    }
  }
  return value(table.back());
}
// Compute time beside a collective that holds `core_share` of the cores, over alone, for
// compute in `dtype` (8 bits or fewer: the fp8 column; else bf16's). Linear between points.
inline double ComputeSlowdownBesideCollective(double core_share, DType dtype) {
  const bool narrow = BytesPerElement(dtype) <= 1.0;
  return AtCoreShare(kBesideCollective, core_share,
                     [&](const BesideCollectivePoint& p) { return narrow ? p.fp8 : p.bf16; });
}
// One matmul beside a kernel that holds N SMs, its time over its time alone, measured on an
// H100 SXM (data/measurements/README.md, second run: scripts/gpu/overlap2.py,
// raw/h100-overlap2.jsonl): the median over five training GEMM shapes (MPT-13B qkv, fc1,
// fc2 and Llama 3 8B fc1 in bf16, GPT-3's fc1 at TP 4 in fp8, all at 4096 tokens) and three
// stand-ins that hold the SMs alike (register arithmetic, a copy, a reduction), at N = 1, 2,
// 4, 8, 16, 24, 32 of 132. Far above N/132: a Hopper GEMM CTA needs a whole SM, and cuBLAS
// sizes its grid to every SM, so the tiles of the held SMs wait for a later wave. Held as
// the share of the cores, like kBesideCollective, and held at the last point beyond it.
struct HeldCoresPoint {
  double core_share, slowdown;  // cores held / all cores → matmul time beside / alone
};
inline constexpr std::array<HeldCoresPoint, 8> kMatmulBesideHeldCores = {{
    {0.0, 1.0},
    {1.0 / 132, 1.092},
    {2.0 / 132, 1.123},
    {4.0 / 132, 1.178},
    {8.0 / 132, 1.186},
    {16.0 / 132, 1.292},
    {24.0 / 132, 1.295},
    {32.0 / 132, 1.512},
}};
// A matmul's time beside a kernel holding `core_share` of the cores, over alone (linear
// between the measured points).
inline double MatmulSlowdownBesideHeldCores(double core_share) {
  return AtCoreShare(kMatmulBesideHeldCores, core_share, [](const HeldCoresPoint& p) { return p.slowdown; });
}
// Whether the chip's collectives run as kernels on its compute cores (NVIDIA's NCCL, AMD's
// RCCL) and so slow the compute they overlap (ComputeSlowdownBesideCollective).
inline bool CollectivesRunOnCores(const hw::Chip& chip) { return chip.vendor == "NVIDIA" || chip.vendor == "AMD"; }

// Which fused-attention kernel a run uses. kBest is the best published kernel for the chip
// (the rates above: FlashAttention-3 on H100, cuDNN-class elsewhere) — what current
// software reaches. The others are older kernels that real runs used and that reach much
// less of the matrix units on the same chip (Dao, "FlashAttention-2", arXiv 2307.08691:
// FlashAttention-1 reaches "only 25-40% of the theoretical maximum FLOPs/s" on A100):
//   kFlash2        flash-attn 2.x CUDA (mma.sync; on Hopper it uses no wgmma/TMA)
//   kFlash1        flash-attn 1.x CUDA
//   kFlash1Triton  flash-attn 1.0.x flash_attn_triton.py (the Triton kernel with ALiBi bias
//                  support that MosaicML's llm-foundry ran as attn_impl: triton)
// A named kernel has a rate only on the chips it was measured on (calibration files'
// attention_kernels); elsewhere it is unsupported and callers say so.
enum class AttentionKernel { kBest, kFlash2, kFlash1, kFlash1Triton };
inline constexpr std::array<AttentionKernel, 4> kAllAttentionKernels = {
    AttentionKernel::kBest, AttentionKernel::kFlash2, AttentionKernel::kFlash1, AttentionKernel::kFlash1Triton};
inline const char* Name(AttentionKernel k) {
  switch (k) {
    case AttentionKernel::kBest:
      return "best";
    case AttentionKernel::kFlash2:
      return "flash-attention-2";
    case AttentionKernel::kFlash1:
      return "flash-attention-1";
    case AttentionKernel::kFlash1Triton:
      return "flash-attention-1-triton";
  }
  return "?";
}
// "best, flash-attention-2, flash-attention-1 or flash-attention-1-triton", for messages.
inline std::string AttentionKernelNames() {
  std::string out;
  for (size_t i = 0; i < kAllAttentionKernels.size(); ++i) {
    if (i > 0) out += i + 1 == kAllAttentionKernels.size() ? " or " : ", ";
    out += Name(kAllAttentionKernels[i]);
  }
  return out;
}
inline std::optional<AttentionKernel> ParseAttentionKernel(std::string_view name) {
  for (AttentionKernel k : kAllAttentionKernels)
    if (name == Name(k)) return k;
  return std::nullopt;
}

// One named kernel's rates in one calibration file; zero = not given. A chip file gives
// measured FLOP/s, a family file shares of the bf16 matmul ceiling. Either per pass, or
// only for forward + backward together (3.5 × the forward FLOPs over the total time,
// the FlashAttention benchmarks' convention) — then the pass rates keep FlashAttention-3's
// forward:backward ratio on H100 (620.7 : 561 TFLOP/s), an assumption stated in
// data/calibration/README.md.
//
// The rates are taken at one shape (16k tokens, no causal mask); two more numbers from the
// same benchmark carry them to other lengths and to causal masking:
//   block_overhead n₀ — the fixed work of one query block (load Q, rescale and write O) in
//     units of one 128-key block's work, fitted to the kernel's non-causal rates at 2k–8k;
//   causal_factor C — what the causal mask costs beyond its geometry, from the causal rate
//     at 16k.
// A query block that iterates v key blocks (v = visible keys / 128) takes n₀ + v units, plus
// half a block on the diagonal when causal, for v units of useful work; the rate is the
// calibrated one times that efficiency over the efficiency at the calibration point, times
// C when causal. Checked against the same figures' causal rates at 2k–8k, which no number
// here was taken from (spec/calibration_spec_test.cc).
struct AttentionKernelSpec {
  FlopsPerSec forward, backward, forward_backward;
  double forward_share = 0, backward_share = 0, forward_backward_share = 0;
  double block_overhead = 0;  // n₀; 0 = not given
  double causal_factor = 0;   // C; 0 = not given (1)
};

// One calibration data file as written. Zero means "not given in this file".
struct CalibrationSpec {
  std::string name;     // file stem: a chip preset name or a family name
  std::string applies;  // "chip" or "family"
  PerDType<FlopsPerSec> matmul;   // measured best achievable dense matmul FLOP/s
  PerDType<double> matmul_fraction;  // achievable / dense peak (family defaults)
  BytesPerSec hbm_bandwidth;      // measured achievable HBM bandwidth (stream triad)
  double hbm_fraction = 0;        // achievable / vendor peak (family defaults)
  Seconds kernel_overhead;        // fixed cost per kernel
  // Measured best fused-attention FLOP/s (bf16, forward and backward pass), and the same
  // as shares of the matmul ceiling for family files.
  FlopsPerSec attention_forward, attention_backward;
  double attention_forward_share = 0, attention_backward_share = 0;
  // Named older kernels, indexed by AttentionKernel (kBest unused: the fields above).
  std::array<AttentionKernelSpec, kAllAttentionKernels.size()> attention_kernels{};
  std::string notes;
};

// A kernel's MMA rates as shares of the bf16 matmul ceiling; origin null = not calibrated
// for this chip.
struct AttentionShares {
  double forward = 0, backward = 0;
  const char* origin = nullptr;
  double block_overhead = 0, causal_factor = 1;  // AttentionKernelSpec; the best kernel: 0, 1 (not modelled)
  // What the causal mask's diagonal costs a query block, in key blocks of work: half a block
  // (the masked half of the diagonal block) for the named kernels, whose causal_factor holds
  // the rest; kBestAttentionForwardCausalBlocks for the best kernel's forward.
  double causal_blocks = 0.5;
};
// The length and mask dependence of a named kernel (AttentionKernelSpec): the factor its
// calibrated rate is multiplied by for a query that sees `visible` keys on average.
inline double AttentionKernelEfficiency(const AttentionShares& k, double visible, bool causal) {
  constexpr double kKeyBlock = 128, kCalibrationKeys = 16384;
  const double v = std::max(1.0, visible / kKeyBlock), ref = kCalibrationKeys / kKeyBlock;
  const double here = v / (k.block_overhead + v + (causal ? k.causal_blocks : 0.0));
  const double at_calibration = ref / (k.block_overhead + ref);
  return here / at_calibration * (causal ? k.causal_factor : 1.0);
}

// The resolved ceilings of one chip.
struct Ceilings {
  PerDType<FlopsPerSec> matmul;  // 0 where the chip has no peak for the dtype
  BytesPerSec hbm;
  Seconds kernel_overhead;
  // Fused attention's MMA rate as a share of the matmul ceiling of the same dtype, forward
  // and backward pass (≤ 1).
  double attention_forward = kFallbackAttentionForwardShare;
  double attention_backward = kFallbackAttentionBackwardShare;
  const char* attention_origin = "fallback";
  // The named older kernels (index kBest unused: the two shares above).
  std::array<AttentionShares, kAllAttentionKernels.size()> attention_kernels{};
  // The shares of `k` (kBest: attention_forward / _backward).
  AttentionShares Attention(AttentionKernel k) const {
    if (k == AttentionKernel::kBest) return {attention_forward, attention_backward, attention_origin};
    return attention_kernels[static_cast<size_t>(k)];
  }
  // Where each came from, for reports: "measured", "family", "fallback".
  PerDType<const char*> matmul_origin{};
  const char* hbm_origin = "fallback";
};

// Resolves the ceilings of `chip` from its own file and its family's file (either may be
// null). Values are never above the datasheet peak.
inline Ceilings ResolveCeilings(const hw::Chip& chip, const CalibrationSpec* own, const CalibrationSpec* family) {
  Ceilings c;
  // A dtype with no value of its own inherits the efficiency (ceiling / peak) of the
  // chip's calibrated bf16 matmuls — same matrix units, same software stack — before the
  // global fallback applies. Assumption, stated in data/calibration/README.md.
  auto resolve = [&](DType t) -> const char* {
    const FlopsPerSec peak = chip.peak[t];
    if (peak.value() <= 0) return "none";
    if (own != nullptr && own->matmul[t].value() > 0) {
      c.matmul[t] = Min(own->matmul[t], peak);
      return "measured";
    }
    if (own != nullptr && own->matmul_fraction[t] > 0) {
      c.matmul[t] = peak * own->matmul_fraction[t];
      return "chip";
    }
    if (family != nullptr && family->matmul_fraction[t] > 0) {
      c.matmul[t] = peak * family->matmul_fraction[t];
      return "family";
    }
    return nullptr;
  };
  const char* bf16_origin = resolve(DType::kBf16);
  const double bf16_fraction = bf16_origin != nullptr && chip.peak[DType::kBf16].value() > 0
                                   ? c.matmul[DType::kBf16] / chip.peak[DType::kBf16]
                                   : 0.0;
  for (DType t : kAllDTypes) {
    const char* origin = t == DType::kBf16 ? bf16_origin : resolve(t);
    if (origin == nullptr) {
      if (bf16_fraction > 0) {
        c.matmul[t] = chip.peak[t] * bf16_fraction;
        origin = "bf16 efficiency";
      } else {
        c.matmul[t] = chip.peak[t] * kFallbackMatmulFraction;
        origin = "fallback";
      }
    }
    c.matmul_origin[t] = origin;
  }
  const BytesPerSec hbm_peak = chip.hbm.bandwidth;
  if (own != nullptr && own->hbm_bandwidth.value() > 0) {
    c.hbm = Min(own->hbm_bandwidth, hbm_peak.value() > 0 ? hbm_peak : own->hbm_bandwidth);
    c.hbm_origin = "measured";
  } else if (own != nullptr && own->hbm_fraction > 0) {
    c.hbm = hbm_peak * own->hbm_fraction;
    c.hbm_origin = "chip";
  } else if (family != nullptr && family->hbm_fraction > 0) {
    c.hbm = hbm_peak * family->hbm_fraction;
    c.hbm_origin = "family";
  } else {
    c.hbm = hbm_peak * kFallbackHbmFraction;
  }
  if (own != nullptr && own->kernel_overhead.value() > 0) c.kernel_overhead = own->kernel_overhead;
  else if (family != nullptr && family->kernel_overhead.value() > 0) c.kernel_overhead = family->kernel_overhead;
  else c.kernel_overhead = Seconds(kFallbackKernelOverheadSeconds);
  const FlopsPerSec bf16 = c.matmul[DType::kBf16];
  if (own != nullptr && own->attention_forward.value() > 0 && own->attention_backward.value() > 0 && bf16.value() > 0) {
    c.attention_forward = std::min(1.0, own->attention_forward / bf16);
    c.attention_backward = std::min(1.0, own->attention_backward / bf16);
    c.attention_origin = "measured";
  } else if (own != nullptr && own->attention_forward_share > 0 && own->attention_backward_share > 0) {
    c.attention_forward = own->attention_forward_share;
    c.attention_backward = own->attention_backward_share;
    c.attention_origin = "chip";
  } else if (family != nullptr && family->attention_forward_share > 0 && family->attention_backward_share > 0) {
    c.attention_forward = family->attention_forward_share;
    c.attention_backward = family->attention_backward_share;
    c.attention_origin = "family";
  }
  // Named kernels: the chip's measured FLOP/s, else the chip's shares, else the family's.
  // A forward + backward rate R alone becomes pass shares k·f₀, k·b₀ (f₀, b₀ the H100
  // FlashAttention-3 shares) with 3.5/R = 1/(k·f₀) + 2.5/(k·b₀).
  const auto split = [](double fb) -> std::pair<double, double> {
    const double f0 = kFallbackAttentionForwardShare, b0 = kFallbackAttentionBackwardShare;
    const double k = fb * (1.0 / f0 + 2.5 / b0) / 3.5;
    return {std::min(1.0, k * f0), std::min(1.0, k * b0)};
  };
  for (AttentionKernel k : kAllAttentionKernels) {
    if (k == AttentionKernel::kBest) continue;
    AttentionShares& out = c.attention_kernels[static_cast<size_t>(k)];
    const auto shape = [](const AttentionKernelSpec& ks, double f, double b, const char* origin) {
      return AttentionShares{f, b, origin, ks.block_overhead, ks.causal_factor > 0 ? ks.causal_factor : 1.0};
    };
    const auto from_shares = [&](const AttentionKernelSpec& ks, const char* origin) {
      if (ks.forward_share > 0 && ks.backward_share > 0) {
        out = shape(ks, std::min(1.0, ks.forward_share), std::min(1.0, ks.backward_share), origin);
      } else if (ks.forward_backward_share > 0) {
        const auto [f, b] = split(ks.forward_backward_share);
        out = shape(ks, f, b, origin);
      }
      return out.origin != nullptr;
    };
    if (own != nullptr && bf16.value() > 0) {
      const AttentionKernelSpec& ks = own->attention_kernels[static_cast<size_t>(k)];
      if (ks.forward.value() > 0 && ks.backward.value() > 0) {
        out = shape(ks, std::min(1.0, ks.forward / bf16), std::min(1.0, ks.backward / bf16), "measured");
      } else if (ks.forward_backward.value() > 0) {
        const auto [f, b] = split(ks.forward_backward / bf16);
        out = shape(ks, f, b, "measured");
      }
    }
    if (out.origin == nullptr && own != nullptr) from_shares(own->attention_kernels[static_cast<size_t>(k)], "chip");
    if (out.origin == nullptr && family != nullptr)
      from_shares(family->attention_kernels[static_cast<size_t>(k)], "family");
  }
  return c;
}

}  // namespace pf::ops
