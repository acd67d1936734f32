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
#include <string>

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
// Fallback shares of the chip's own matmul ceiling, from the one chip with both measured
// (data/calibration/h100-sxm.yaml): FlashAttention-3 forward 620.7 TFLOP/s and backward
// 561 TFLOP/s (head dim 128, 16k tokens) over its GEMM ceiling 794.5 TFLOP/s → 0.781 and
// 0.706. Assumption: other chips' best attention kernels keep the same share of their GEMM
// ceiling (stated in data/calibration/README.md).
inline constexpr double kFallbackAttentionForwardShare = 620.7 / 794.5;
inline constexpr double kFallbackAttentionBackwardShare = 561.0 / 794.5;

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
  std::string notes;
};

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
  return c;
}

}  // namespace pf::ops
