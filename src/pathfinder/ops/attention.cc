// The fused-attention cost model (FlashAttention-2/3 style): prefill and decode, GQA/MQA,
// MLA absorbed and naive, sliding window, split over heads (TP) and queries (CP).
//
// Mapped model: the query rows of one KV-head group are packed into blocks of
// attention_block_m rows (padded to the matrix unit); blocks spread over cores in waves;
// when blocks are fewer than cores the keys are split as well (flash-decoding, Dao et al.
// 2023). Compute = the blocks' QKᵀ and PV MMAs at the measured matmul ceiling plus the
// softmax exponentials on the special-function units (hidden under the MMAs where the
// family's kernels overlap them, FlashAttention-3 §3.1), forward and backward MMAs each at
// the measured share of the GEMM ceiling that the chosen kernel reaches (the best one by
// default, Ceilings::attention_forward / _backward; older kernels by name, calibration.h).
// The best kernel's MMAs run on head dims padded to its family's step, and each pass takes
// at least its family's measured time per score (tiling.h: on Hopper, head dim 64 is bound
// by the per-score work, not the MMAs).
// Memory = Q, K, V (or the MLA latent) read once, O written once. Backward
// (FlashAttention-2 §3.2): 5 MMAs instead of 2 (2.5× the forward FLOPs), reads Q, K, V, O,
// dO and writes dQ, dK, dV.
#include <algorithm>
#include <cmath>

#include "pathfinder/core/check.h"
#include "pathfinder/ops/op_model.h"

namespace pf::ops {
namespace {

inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t RoundUp(int64_t a, int64_t b) { return CeilDiv(a, b) * b; }

// Σ_{x=a..b} min(x, w) (w ≤ 0: no window).
double SumMin(double a, double b, double w) {
  if (b < a) return 0;
  if (w <= 0 || w >= b) return (a + b) * (b - a + 1) / 2;
  if (w < a) return w * (b - a + 1);
  return (a + w) * (w - a + 1) / 2 + w * (b - w);
}

}  // namespace

AttentionCost OpModel::Attention(const AttentionShape& s, Fidelity f) const {
  PF_CHECK(Supports(s.dtype), "chip {} has no matrix peak for {}", chip_.name, Name(s.dtype));
  PF_CHECK(s.batch > 0 && s.heads > 0 && s.q_len > 0 && s.kv_len > 0 && s.heads_split > 0 && s.seq_split > 0,
           "attention dims must be positive");
  PF_CHECK(s.mla != MlaMode::kNone || s.head_dim > 0, "attention head_dim must be positive");
  const AttentionShares shares = ceil_.Attention(s.kernel);
  PF_CHECK(shares.origin != nullptr, "attention kernel {} is not calibrated for chip {}", Name(s.kernel), chip_.name);
  if (s.seq_split > 1 && s.q_len == s.kv_len && s.window <= 0 && s.mla == MlaMode::kNone && f == Fidelity::kMapped) {
    return RingAttention(s);
  }

  const double bpe = BytesPerElement(s.dtype), kv_bpe = BytesPerElement(s.kv_dtype);
  const int64_t heads = CeilDiv(s.heads, s.heads_split);
  int64_t kv_heads = std::max<int64_t>(1, CeilDiv(s.kv_heads > 0 ? s.kv_heads : s.heads, s.heads_split));
  int64_t d_qk = s.head_dim, d_v = s.v_head_dim > 0 ? s.v_head_dim : s.head_dim;
  double cache_per_token = 0;  // bytes of K and V per token per KV head
  if (s.mla == MlaMode::kAbsorbed) {
    PF_CHECK(s.kv_lora_rank > 0, "MLA needs kv_lora_rank");
    d_qk = s.kv_lora_rank + s.rope_dim;
    d_v = s.kv_lora_rank;
    kv_heads = 1;
    cache_per_token = double(s.kv_lora_rank + s.rope_dim) * kv_bpe;  // latent shared by K and V
  } else {
    cache_per_token = double(d_qk + d_v) * kv_bpe;
  }
  const double q_local = double(CeilDiv(s.q_len, s.seq_split));
  const double kv = double(s.kv_len);
  const double q = double(s.q_len);

  // Average keys each query attends to.
  double visible;
  if (s.causal) {
    visible = SumMin(kv - q + 1, kv, double(s.window)) / q;
  } else {
    visible = s.window > 0 ? std::min(kv, double(s.window)) : kv;
  }
  // Keys actually read: the window (plus the query span) or all.
  const double kv_read = s.window > 0 ? std::min(kv, double(s.window) + q_local) : kv;

  const double scores = double(s.batch) * double(heads) * q_local * visible;
  const double bwd_mma = s.backward ? 3.5 : 1.0;  // fwd (2 MMAs) + bwd (5 MMAs) = 3.5 × fwd
  AttentionCost r;
  double flops = 2.0 * scores * double(d_qk + d_v) * bwd_mma;

  // HBM bytes.
  const double q_bytes = double(s.batch) * double(heads) * q_local * double(d_qk) * bpe;
  const double o_bytes = double(s.batch) * double(heads) * q_local * double(d_v) * bpe;
  const double kv_bytes = double(s.batch) * double(kv_heads) * kv_read * cache_per_token;
  double bytes = q_bytes + o_bytes + kv_bytes;
  if (s.backward) bytes += q_bytes + kv_bytes + 2 * o_bytes + (q_bytes + kv_bytes);  // Q,K,V,O,dO in; dQ,dK,dV out
  int kernels = 1;
  double up_flops = 0;
  if (s.mla == MlaMode::kNaive) {
    // K_nope and V up-projected from the latent per head and materialized (written, read).
    PF_CHECK(s.kv_lora_rank > 0, "MLA needs kv_lora_rank");
    const double lat = double(s.batch) * kv_read;
    up_flops = 2.0 * lat * double(s.kv_lora_rank) * double(heads) * double(d_qk - s.rope_dim + d_v);
    const double latent_bytes = lat * double(s.kv_lora_rank + s.rope_dim) * kv_bpe;
    bytes += latent_bytes + kv_bytes;  // read latent, write K/V (then the attention kernel reads them)
    kernels = 2;
  }
  flops += up_flops;
  r.flops = Flops(flops);
  r.bytes = Bytes(bytes);

  if (f == Fidelity::kRoofline) {
    r.compute_time = r.flops / chip_.peak[s.dtype];
    r.memory_time = r.bytes / chip_.hbm.bandwidth;
    r.time = Max(r.compute_time, r.memory_time);
    r.bound = r.compute_time >= r.memory_time ? Bound::kCompute : Bound::kMemory;
    r.achieved = r.flops / r.time;
    r.achieved_bandwidth = r.bytes / r.time;
    return r;
  }

  // Mapping: queries of a KV-head group share the keys, packed into row blocks.
  const int64_t um = std::max(1, chip_.matrix_unit.m);
  const int64_t group_rows = int64_t(double(heads) / double(kv_heads) * q_local + 0.5);
  const int64_t bm = std::min<int64_t>(tiles_.attention_block_m, RoundUp(std::max<int64_t>(1, group_rows), um));
  const int64_t blocks = s.batch * kv_heads * CeilDiv(std::max<int64_t>(1, group_rows), bm);
  int64_t kv_split = 1;
  if (blocks < cores_) kv_split = std::max<int64_t>(1, std::min<int64_t>(cores_ / blocks, int64_t(visible / 64.0)));
  const int64_t units = blocks * kv_split;
  const int64_t waves = CeilDiv(units, cores_);
  const double per_core = ceil_.matmul[s.dtype].value() / cores_;
  const double unit_scores = double(bm) * visible / double(kv_split);
  // The forward MMAs run at the kernel's measured forward rate, the backward's (2.5 × the
  // forward FLOPs) at its backward rate (calibration.h).
  // A named kernel's rate also follows its measured length and mask dependence
  // (AttentionKernelEfficiency, calibration.h).
  const double unit_fwd_flops = 2.0 * unit_scores * double(d_qk + d_v);
  // The best kernel's MMAs run on the head dims padded to the family's step, and no pass
  // runs faster per score than the family's measured floor (tiling.h).
  const bool best = s.kernel == AttentionKernel::kBest;
  const int64_t step = best ? tiles_.attention_head_dim_step : 0;
  const double mma_fwd_flops =
      step > 0 ? 2.0 * unit_scores * double(RoundUp(d_qk, step) + RoundUp(d_v, step)) : unit_fwd_flops;
  const double floor_fwd = best ? unit_scores * tiles_.attention_score_cycles_forward / chip_.clock.value() : 0.0;
  const double floor_bwd = best ? unit_scores * tiles_.attention_score_cycles_backward / chip_.clock.value() : 0.0;
  // The best kernel's backward has its own measured length dependence (calibration.h).
  const double unit_visible = visible / double(kv_split);
  const double efficiency = best ? 1.0 : AttentionKernelEfficiency(shares, unit_visible, s.causal);
  // The best kernel's forward has its own measured cost of the causal mask (calibration.h),
  // fitted to square prefill: the query blocks that meet the diagonal pay it. A decode step
  // (one query row) has no diagonal to mask, and of a query block's key splits only the last
  // holds the diagonal, so each split pays its share.
  const double forward_efficiency =
      best && s.causal && s.q_len > 1
          ? AttentionKernelEfficiency({.causal_blocks = kBestAttentionForwardCausalBlocks / double(kv_split)},
                                      unit_visible, true)
          : 1.0;
  const double backward_efficiency =
      best ? AttentionKernelEfficiency({.block_overhead = kBestAttentionBackwardBlockOverhead,
                                        .causal_factor = kBestAttentionBackwardCausalFactor},
                                       unit_visible, s.causal)
           : 1.0;
  const double unit_mma =
      (std::max(mma_fwd_flops / (per_core * shares.forward), floor_fwd) / forward_efficiency +
       (s.backward
            ? std::max((bwd_mma - 1.0) * mma_fwd_flops / (per_core * shares.backward), floor_bwd) / backward_efficiency
            : 0.0)) /
      efficiency;
  // Special-function throughput for exp(): 1 per score forward, 2 with the backward recompute.
  double exp_rate = 0;
  if (tiles_.exp_per_clock_per_core > 0) exp_rate = double(tiles_.exp_per_clock_per_core) * chip_.clock.value();
  else if (chip_.vector_fp32.value() > 0) exp_rate = chip_.vector_fp32.value() / 16.0 / cores_;
  const double unit_exp = exp_rate > 0 ? unit_scores * (s.backward ? 2.0 : 1.0) / exp_rate : 0.0;
  // A named older kernel's measured rate is the whole kernel's (its softmax included, as it
  // ran), so its exponentials add nothing on top.
  const double unit_time = s.kernel != AttentionKernel::kBest ? unit_mma
                           : tiles_.softmax_overlaps_matmul   ? std::max(unit_mma, unit_exp)
                                                              : unit_mma + unit_exp;
  double compute = double(waves) * unit_time;
  if (up_flops > 0) compute += up_flops / ceil_.matmul[s.dtype].value();

  r.compute_time = Seconds(compute);
  r.memory_time = r.bytes / ceil_.hbm;
  r.overhead = ceil_.kernel_overhead * double(kernels);
  r.time = r.overhead + Max(r.compute_time, r.memory_time);
  r.bound = r.overhead > Max(r.compute_time, r.memory_time) ? Bound::kLatency
            : r.compute_time >= r.memory_time                ? Bound::kCompute
                                                             : Bound::kMemory;
  r.blocks = units;
  r.waves = waves;
  r.achieved = r.flops / r.time;
  r.achieved_bandwidth = r.bytes / r.time;
  return r;
}

AttentionCost OpModel::RingAttention(const AttentionShape& s) const {
  const int64_t cp = s.seq_split;
  AttentionShape diagonal = s;
  diagonal.seq_split = 1;
  AttentionShape other = diagonal;  // the steps after the first
  int64_t q_rows = 0;
  if (s.causal) {
    const int64_t c = CeilDiv(s.q_len, 2 * cp);
    diagonal.q_len = diagonal.kv_len = 2 * c;
    other.q_len = 2 * c;
    other.kv_len = c;
    other.causal = false;
    q_rows = 2 * c;
  } else {
    q_rows = CeilDiv(s.q_len, cp);
    diagonal.q_len = diagonal.kv_len = other.q_len = other.kv_len = q_rows;
  }
  const AttentionCost first = Attention(diagonal, Fidelity::kMapped);
  const AttentionCost rest = Attention(other, Fidelity::kMapped);
  const double steps_after = double(cp - 1);

  // The merges (TE's jit-fused corrections, memory-bound). Forward: step 0 scales its partial
  // output into the output (out_correction_init: read O_step, write O); each later step adds
  // its own (out_correction: read O_step and O, write O) and merges the softmax statistics
  // (softmax_lse_correction: read both, write one; fp32). Backward: step 0 copies its dQ and
  // dK/dV, each later step adds them to the accumulated ones (read both, write one).
  const double bpe = BytesPerElement(s.dtype);
  const double heads = double(CeilDiv(s.heads, s.heads_split));
  const double kv_heads = double(std::max<int64_t>(1, CeilDiv(s.kv_heads > 0 ? s.kv_heads : s.heads, s.heads_split)));
  const double d_qk = double(s.head_dim), d_v = double(s.v_head_dim > 0 ? s.v_head_dim : s.head_dim);
  const double rows = double(s.batch) * double(q_rows);
  const double o = rows * heads * d_v * bpe, lse = rows * heads * 4.0;
  MemoryTraffic merge{Bytes(o + steps_after * (2 * o + 2 * lse)), Bytes(o + steps_after * (o + lse)), Flops(0),
                      1 + 2 * int(cp - 1)};
  if (s.backward) {
    const double dq = rows * heads * d_qk * bpe;
    auto dkv = [&](const AttentionShape& x) {
      return double(s.batch) * double(x.kv_len) * kv_heads * (d_qk + d_v) * bpe;
    };
    merge.read += Bytes(dq + dkv(diagonal) + steps_after * 2 * (dq + dkv(other)));
    merge.written += Bytes(dq + dkv(diagonal) + steps_after * (dq + dkv(other)));
    merge.kernels += 2 * int(cp);
  }
  const MemoryOpCost m = Memory(merge);

  AttentionCost r;
  r.flops = first.flops + rest.flops * steps_after;
  r.bytes = first.bytes + rest.bytes * steps_after + m.bytes;
  r.compute_time = first.compute_time + rest.compute_time * steps_after;
  r.memory_time = first.memory_time + rest.memory_time * steps_after + m.memory_time;
  r.overhead = first.overhead + rest.overhead * steps_after + m.overhead;
  r.time = first.time + rest.time * steps_after + m.time;
  r.bound = first.bound;
  r.blocks = first.blocks;
  r.waves = first.waves;
  r.achieved = r.flops / r.time;
  r.achieved_bandwidth = r.bytes / r.time;
  return r;
}

}  // namespace pf::ops
