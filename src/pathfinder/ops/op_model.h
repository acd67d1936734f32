// ops/op_model: the time of one operator on one chip. An OpModel is built once per chip
// (chip description + resolved calibration) and then answers millions of queries without
// allocating: Matmul (dense, batched, grouped), Attention (prefill and decode, GQA/MQA, MLA,
// sliding window, split over heads and sequence) and memory-bound ops.
//
// Fidelities (DESIGN.md):
//   kRoofline — max(FLOPs / datasheet peak, unique bytes / datasheet HBM bandwidth).
//   kMapped   — the operator is tiled onto the chip: tile padding to the matrix unit, wave
//               quantization over cores, split-K when tiles are fewer than cores, operand
//               re-reads when the working set does not fit on chip, compute at the measured
//               ceiling, traffic at the achievable bandwidth, the loads and the MMAs coupled
//               by a finite software pipeline (PipelinedTime), plus a per-kernel overhead.
//   The event mode reuses kMapped costs: every cost carries its compute and memory parts
//   and its fixed overhead separately so a timeline can place and overlap them.
//
// Invariants (ops/*_test.cc): kMapped ≥ kRoofline; more FLOP/s or bandwidth is never
// slower; time is monotone in every dimension.
#pragma once

#include <cstdint>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/hw/chip.h"
#include "pathfinder/ops/calibration.h"
#include "pathfinder/ops/tiling.h"

namespace pf::ops {

enum class Fidelity { kRoofline, kMapped };
enum class Bound { kCompute, kMemory, kLatency };
const char* Name(Fidelity f);
const char* Name(Bound b);

// ---- Matmul --------------------------------------------------------------------------

// C[m×n] = A[m×k] · B[k×n], `batch` independent problems (a batched GEMM, or a grouped
// GEMM of `batch` groups of equal m — each group with its own A, B and C).
struct MatmulShape {
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 1;
};

struct MatmulCost {
  Seconds time;          // total, including the overhead
  Seconds compute_time;  // mapped MMA time (waves × tile time)
  Seconds memory_time;   // HBM traffic / achievable bandwidth
  Seconds overhead;      // fixed per-kernel cost
  // Time lost because loads and MMAs share a finite pipeline (PipelinedTime): time =
  // overhead + max(compute_time, memory_time) + pipeline_stall. Zero in roofline fidelity.
  Seconds pipeline_stall;
  Flops flops;           // useful: 2·m·n·k·batch
  Flops executed_flops;  // including tile and matrix-unit padding
  Bytes bytes;           // HBM traffic including re-reads
  FlopsPerSec achieved;  // flops / time
  BytesPerSec achieved_bandwidth;  // bytes / time
  Bound bound = Bound::kCompute;
  // The mapping (zero in roofline fidelity).
  int tile_m = 0, tile_n = 0;
  int split_k = 1;
  int64_t tiles = 0;     // work units (tiles × split_k)
  int64_t waves = 0;
  double wave_efficiency = 0;  // work units / (waves × cores)
  double reread_factor = 1;    // operand bytes read / unique operand bytes
};

// ---- Attention -------------------------------------------------------------------------

// How multi-head latent attention (DeepSeek-V2/V3) is computed.
enum class MlaMode {
  kNone,      // ordinary MHA / GQA / MQA
  kAbsorbed,  // W_UK, W_UV absorbed: attend over the shared latent (like MQA with
              // head_dim = kv_lora_rank + rope_dim, v_head_dim = kv_lora_rank)
  kNaive,     // latent up-projected to per-head K and V, then ordinary attention
};

// One fused attention call on one chip. Prefill: q_len = kv_len = sequence. Decode:
// q_len = new tokens per sequence (1, or more with speculative decoding), kv_len = context.
struct AttentionShape {
  int64_t batch = 1;
  int64_t heads = 0;      // query heads (whole model; heads_split divides them)
  int64_t kv_heads = 0;   // 0 = heads (MHA); 1 = MQA
  int64_t head_dim = 0;   // query/key head dimension
  int64_t v_head_dim = 0; // 0 = head_dim
  int64_t q_len = 0;
  int64_t kv_len = 0;
  bool causal = true;
  int64_t window = 0;     // sliding window in tokens (0 = none)
  DType dtype = DType::kBf16;     // Q/K/V/O and matmul dtype
  DType kv_dtype = DType::kBf16;  // KV-cache storage
  bool backward = false;  // forward + backward of the fused kernel (FlashAttention-2 bwd)
  // MLA (DeepSeek-V2 §2.1): the cache holds the latent (kv_lora_rank) + rope key (rope_dim).
  MlaMode mla = MlaMode::kNone;
  int64_t kv_lora_rank = 0;
  int64_t rope_dim = 0;
  // Splits for tensor / context parallel callers: heads and kv_heads are divided by
  // heads_split (kv_heads never below 1: replicated); queries by seq_split (ring/context
  // parallel: each rank attends its query shard to the whole key sequence, load-balanced).
  // A self-attention (q_len = kv_len, no window, no MLA cache) split over seq_split > 1 runs
  // as Transformer Engine's ring does, one kernel per step with the partial outputs merged
  // between steps (OpModel::RingAttention).
  int heads_split = 1;
  int seq_split = 1;
  // The kernel (calibration.h); a named one must be calibrated for the chip
  // (OpModel::SupportsAttention).
  AttentionKernel kernel = AttentionKernel::kBest;
};

struct AttentionCost {
  Seconds time, compute_time, memory_time, overhead;
  Flops flops;  // matmul FLOPs (QKᵀ and PV, + MLA up-projection in naive mode)
  Bytes bytes;
  FlopsPerSec achieved;
  BytesPerSec achieved_bandwidth;
  Bound bound = Bound::kCompute;
  int64_t blocks = 0;  // parallel work units (query blocks × heads × batch, or KV splits)
  int64_t waves = 0;
};

// ---- Memory-bound ops -------------------------------------------------------------------

// Bytes an elementwise/reduction kernel moves; built by the helpers in memory_ops.h.
struct MemoryTraffic {
  Bytes read;
  Bytes written;
  Flops flops;     // vector work, for reports (never the bound on the modelled chips)
  int kernels = 1; // launches (fused ops are one)
};

struct MemoryOpCost {
  Seconds time, memory_time, overhead;
  Bytes bytes;
  BytesPerSec achieved_bandwidth;
  Bound bound = Bound::kMemory;
};

// ---- The software pipeline ---------------------------------------------------------------

// Time of a main loop whose loads (`memory`, all of them at the achievable bandwidth) feed
// the matrix units (`compute`) through `stages` operand buffers per core — the
// producer/consumer pipeline of TMA/cp.async GEMM kernels (CUTLASS "multistage" and
// warp-specialized mainloops, DeepGEMM). max(compute, memory) assumes the buffers never run
// empty or full; with a finite buffer the loads stall when all stages are full and the MMAs
// stall when all are empty. Modelled as a two-station tandem line with a buffer of
// S = `stages` places and exponential service times — the two-machine line with one finite buffer
// (Buzacott & Shanthikumar, "Stochastic Models of Manufacturing Systems", 1993), which is
// the birth-death chain of M/M/1/K on the filled stages n = 0..S with ρ = c/m (arrival rate
// 1/m, service rate 1/c): P(n) ∝ ρⁿ, throughput = (1 − P(0))/c (Kleinrock, "Queueing
// Systems" vol. 1, 1975, §3.6 "M/M/1/K: finite storage"). Per unit of work:
//   time = max(c, m) · (1 + rˢ / (1 + r + … + rˢ⁻¹)),  r = min(c, m) / max(c, m).
// Far from the ridge (r → 0) this is max(c, m); at the ridge (c = m) it is (S+1)/S · c.
// Exponential service is the high-variability end (HBM latency under load varies widely;
// the MMAs do not); checked, not fitted, against the per-shape DeepGEMM rows of
// ../shared/validation, which near the ridge still run slower than this predicts. No
// constant besides `stages` (TileTable, from the library configurations). Never below
// max(c, m), never above c + m (S = 1: no overlap); increasing in c and in m, so more
// FLOP/s or bandwidth is never slower.
// REQUIRES: compute ≥ 0, memory ≥ 0. stages < 1 (no pipeline modelled) gives max(c, m).
inline double PipelinedTime(double compute, double memory, int stages) {
  const double hi = compute > memory ? compute : memory;
  const double lo = compute > memory ? memory : compute;
  if (!(hi > 0) || stages < 1) return hi;
  const double r = lo / hi;
  double rs = 1, sum = 0;  // r^S and 1 + r + … + r^(S-1)
  for (int i = 0; i < stages; ++i) {
    sum += rs;
    rs *= r;
  }
  return hi * (1.0 + rs / sum);
}

// ---- The model ---------------------------------------------------------------------------

class OpModel {
 public:
  OpModel(hw::Chip chip, Ceilings ceilings);

  // REQUIRES: the chip has a peak for `in` (else PF_CHECK fails; callers check first with
  // Supports). `out` is the stored output dtype (DefaultOutput(in) when not given).
  MatmulCost Matmul(const MatmulShape& s, DType in, DType out, Fidelity f = Fidelity::kMapped) const;
  MatmulCost Matmul(const MatmulShape& s, DType in, Fidelity f = Fidelity::kMapped) const {
    return Matmul(s, in, DefaultOutput(in), f);
  }
  AttentionCost Attention(const AttentionShape& s, Fidelity f = Fidelity::kMapped) const;
  MemoryOpCost Memory(const MemoryTraffic& t, Fidelity f = Fidelity::kMapped) const;

  bool Supports(DType t) const { return chip_.peak[t].value() > 0; }
  bool SupportsAttention(AttentionKernel k) const { return ceil_.Attention(k).origin != nullptr; }
  // Outputs of 8-bit and 4-bit matmuls are stored in bf16 (cuBLASLt / DeepGEMM / TE FP8
  // GEMMs write BF16); wider types keep their own.
  static DType DefaultOutput(DType in);

  const hw::Chip& chip() const { return chip_; }
  const Ceilings& ceilings() const { return ceil_; }
  const TileTable& tiles() const { return tiles_; }

 private:
  // Self-attention over a sequence split across seq_split ranks in Transformer Engine's
  // point-to-point ring (AttnFuncWithCPAndKVP2P, pytorch/attention/dot_product_attention/
  // context_parallel.py): seq_split steps, each one fused-attention kernel on this rank's
  // queries against one K/V shard, with the partial outputs merged after each step (and the
  // gradients accumulated in the backward). Causal: the sequence in 2·cp chunks, rank r
  // holding chunks r and 2cp−1−r; step 0 is the causal "diagonal" (2c queries × 2c keys), the
  // other steps the "lower-triangle" (2c queries × the first c keys, no mask) of the ranks
  // that run it at every step; not causal: cp steps of S/cp × S/cp. The scores are those of
  // the unsplit kernel's shard; what differs is each kernel's shorter key range (its length
  // dependence, AttentionKernelEfficiency), one launch per step and the merges.
  AttentionCost RingAttention(const AttentionShape& s) const;

  hw::Chip chip_;
  Ceilings ceil_;
  TileTable tiles_;
  int cores_ = 1;
};

}  // namespace pf::ops
