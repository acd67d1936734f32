// ops/tiling: how the vendor matmul libraries cut a GEMM into output tiles on each
// architecture family — the candidate tile shapes, the K-step of the software pipeline and
// its depth — as data the matmul model searches over (the way cuBLAS heuristics and
// autotuners pick a kernel per shape).
//
// How to add a family: add one row to the table in tiling.cc with the library and file the
// tile shapes come from. Unknown families get a generic table derived from the chip's
// matrix-unit shape.
#pragma once

#include <array>
#include <string_view>

#include "pathfinder/hw/chip.h"

namespace pf::ops {

struct TileShape {
  int m = 0, n = 0;
};

struct TileTable {
  std::array<TileShape, 4> candidates{};  // output-tile shapes a library would pick from
  int count = 0;
  int k_step_bytes = 128;  // K depth of one pipeline stage, in bytes of one operand row
  int stages = 2;          // software-pipeline depth (operand buffers resident per core)
  bool softmax_overlaps_matmul = false;  // fused attention hides exp() under the MMAs
  const char* source = "";
  int exp_per_clock_per_core = 0;  // exp() results per clock per core; 0 = vector_fp32 / 16
  int attention_block_m = 128;     // query rows per fused-attention work unit
  // GPU kernels store each C tile from registers after their main loop (not overlapped);
  // systolic designs (TPU, Trainium, Gaudi) drain outputs by DMA behind the next tile.
  bool epilogue_serialized = false;
  // GPU cores issue their operand loads at run time and contend for HBM with every other
  // core, so a load's service time varies and the `stages` buffers between the loads and
  // the MMAs can run empty or full (PipelinedTime in op_model.h). Systolic designs stream
  // operands by DMA the compiler schedules ahead (XLA, Neuron, the Gaudi graph compiler):
  // deterministic service, and a tandem line with deterministic service and any buffer
  // runs at the slower station's rate — max(compute, memory). Unknown families: false.
  bool loads_contend = false;
  // The best fused-attention kernel (kBest) as measured on the family, where it was: the
  // head-dim multiple its MMAs are padded to (0 = none), and the time per attention score
  // that no head dim goes below (softmax, masking, rescaling and, backward, the dS
  // elementwise work), in core clocks per score at the chip's quoted clock (0 = none).
  int attention_head_dim_step = 0;
  double attention_score_cycles_forward = 0;
  double attention_score_cycles_backward = 0;
};

// The table for `chip.family` (matched by prefix: "tpu-v5p" → "tpu").
TileTable TilesFor(const hw::Chip& chip);

}  // namespace pf::ops
