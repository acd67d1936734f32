// The per-family tile tables. Each row cites the library configuration it mirrors.
#include "pathfinder/ops/tiling.h"

#include <algorithm>
#include <string>

namespace pf::ops {
namespace {

struct Row {
  std::string_view family_prefix;
  TileTable table;
};

// Sources:
//  hopper:    CUTLASS 3.x sm90 warp-specialized kernels 128x256x64 / 128x128x64 (bf16) with
//             4+ stages (cutlass/python/cutlass_library/generator.py, GenerateSM90_*), and
//             DeepGEMM BLOCK_M ∈ {64,128}, BLOCK_N ≤ 256 (deep_gemm/jit_kernels/gemm.py).
//             FlashAttention-3 overlaps softmax with WGMMA (Shah et al. 2024, §3.1).
//  blackwell: CUTLASS sm100 UMMA 256x256 per 2-SM pair = 128x256 per SM, 128x128
//             (cutlass examples/70_blackwell_gemm); FA3/FA4-style overlap as on Hopper.
//  ampere:    CUTLASS sm80 tensor-op tiles 128x256x32 / 256x128x32 / 128x128x32, 3 stages
//             (cutlass_library generator.py, GenerateSM80_TensorOp_16816).
//  ada:       sm89 runs the sm80 tile set (CUTLASS generator GenerateSM89 reuses it).
//  volta:     CUTLASS sm70 128x256x32 / 128x128x32, 2 stages.
//  cdna:      hipBLASLt macro tiles MT256x256x64 / MT256x128x64 / MT128x128x64 on gfx942
//             (ROCm/hipBLASLt library/src/amd_detail/rocblaslt/src/Tensile/Logic/asm_full/
//             aquavanjaram logic files).
//  tpu:       MXU 128x128 systolic arrays; matmul blocks staged in VMEM (128 MiB on v5e,
//             jax-ml/scaling-book tpus.md). The Pallas TPU matmul guide (jax docs "Pallas
//             TPU matmul") defaults to 512x512 blocks and runs best at bm 512 x bn 1024;
//             XLA's own emitter's blocks are not published, but its measured rate bounds
//             them: 827.5 TFLOP/s for a bf16 8192^3 on a v6e (AI-Hypercomputer/tpu-recipes
//             microbenchmarks/README.md @c8cfe2f) needs at least 2048x2048 output blocks to
//             stay under the v6e's 1.64 TB/s of HBM (512x512 blocks re-read 4.3 GB: 3.1 ms).
//  trainium:  128x128 PE array, moving free dimension up to 512 (AWS Neuron NKI docs,
//             "NKI matmul performance guide": tiles 128 x 512).
//  exp rate:  NVIDIA SMs (Volta..Blackwell) return 16 exp2/MUFU results per clock per SM
//             (CUDA C++ Programming Guide, "Arithmetic Instructions" throughput table);
//             FlashAttention-3 (Shah et al. 2024, §3) quotes 3.9 TFLOP/s of special functions
//             on H100 SXM = 132 SMs x 16 x 1.83 GHz. Query block 128 = FlashAttention-2/3 Br.
//  attention (hopper; kHopperBestAttention below): PyTorch 2.11 SDPA's cuDNN 9.19 backend
//             on an H100 SXM, bf16, 16k tokens per call (data/measurements/
//             h100-sxm-pytorch-2026-11-22.csv, h100-sxm-attention-head-dims-2026-11-22.csv).
//             Time per score at head dims 80, 96 and 128 is the same within 4 % (forward
//             0.82-0.87 ps, backward 2.2-2.4 ps at 16k): the kernels pad the head dim to a
//             multiple of 64. Head dim 64 runs slower than its MMAs: forward 438.2 TFLOP/s
//             and backward 446.6 at 16k non-causal, i.e. 0.584 and 1.433 ps per score, =
//             0.1411 and 0.3462 SM clocks per score at 132 SMs x 1.83 GHz (the clock the
//             H100's tensor peak is quoted at).
//  gaudi:     MME 256x256 output blocks (Intel Gaudi 2 white paper, "MME is a 256x256
//             systolic-like array").
//  loads_contend (last field): true for the GPU families (SMs/CUs issue TMA, cp.async or
//             buffer loads at run time); false for TPU, Trainium and Gaudi (compiler-
//             scheduled DMA). See TileTable::loads_contend.
// clang-format off
constexpr Row kRows[] = {
    {"hopper", {{{{128, 256}, {256, 128}, {128, 128}, {64, 256}}}, 4, 128, 4, true,
                "CUTLASS 3 sm90 tiles; DeepGEMM block sizes", 16, 128, true, true}},
    {"blackwell", {{{{128, 256}, {256, 128}, {128, 128}, {64, 256}}}, 4, 128, 4, true,
                   "CUTLASS sm100 UMMA tiles (per SM)", 16, 128, true, true}},
    {"ampere", {{{{128, 256}, {256, 128}, {128, 128}, {64, 128}}}, 4, 64, 3, false,
                "CUTLASS sm80 tensor-op tiles", 16, 128, true, true}},
    {"ada", {{{{128, 256}, {256, 128}, {128, 128}, {64, 128}}}, 4, 64, 3, false,
             "CUTLASS sm80/sm89 tensor-op tiles", 16, 128, true, true}},
    {"volta", {{{{128, 256}, {128, 128}, {64, 128}}}, 3, 64, 2, false, "CUTLASS sm70 tiles", 16, 128, true, true}},
    {"cdna", {{{{256, 256}, {256, 128}, {128, 128}, {64, 128}}}, 4, 128, 2, false,
              "hipBLASLt gfx942 macro tiles", 0, 128, true, true}},
    {"tpu", {{{{2048, 2048}, {1024, 1024}, {512, 512}, {256, 256}}}, 4, 512, 2, false, "XLA/Pallas TPU matmul blocks"}},
    {"trainium", {{{{128, 512}, {128, 256}, {128, 128}}}, 3, 256, 2, false, "AWS NKI matmul tiles"}},
    {"gaudi", {{{{256, 256}, {256, 128}, {128, 128}}}, 3, 128, 2, false, "Gaudi MME output blocks"}},
};
// clang-format on

// The best fused-attention kernel's head-dim step and per-score floor, measured on Hopper
// (see Sources); no other family has been measured.
struct BestAttention {
  int head_dim_step;
  double score_cycles_forward, score_cycles_backward;
};
constexpr BestAttention kHopperBestAttention = {64, 0.1411, 0.3462};

}  // namespace

TileTable TilesFor(const hw::Chip& chip) {
  for (const Row& r : kRows) {
    if (chip.family.compare(0, r.family_prefix.size(), r.family_prefix) != 0) continue;
    TileTable t = r.table;
    if (r.family_prefix == "hopper") {
      t.attention_head_dim_step = kHopperBestAttention.head_dim_step;
      t.attention_score_cycles_forward = kHopperBestAttention.score_cycles_forward;
      t.attention_score_cycles_backward = kHopperBestAttention.score_cycles_backward;
    }
    return t;
  }
  // Generic: tiles of 2x and 1x the matrix unit (at least 128, the common MMA-tile size),
  // a double-buffered pipeline, no softmax overlap.
  TileTable t;
  const int um = std::max(chip.matrix_unit.m, 1), un = std::max(chip.matrix_unit.n, 1);
  const int base_m = std::max(128, um), base_n = std::max(128, un);
  t.candidates = {{{2 * base_m, 2 * base_n}, {base_m, 2 * base_n}, {base_m, base_n}}};
  t.count = 3;
  t.k_step_bytes = 128;
  t.stages = 2;
  t.source = "generic (from the matrix-unit shape)";
  return t;
}

}  // namespace pf::ops
