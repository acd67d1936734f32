// hw/chip: one accelerator as the simulators see it — peak FLOP/s per dtype, matrix units,
// on-chip SRAM, HBM, power and links. Built by spec/ from a preset in data/chips/ (plus
// overrides), or later derived from a design (process node, area, HBM stacks).
//
// How to add a chip: write data/chips/<name>.yaml (see data/chips/README.md); no code.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"

namespace pf::hw {

// Dense peak FLOP/s per dtype (0 = not supported by the matrix units).
struct PeakTable {
  std::array<FlopsPerSec, kAllDTypes.size()> by_dtype{};
  FlopsPerSec& operator[](DType t) { return by_dtype[static_cast<size_t>(t)]; }
  FlopsPerSec operator[](DType t) const { return by_dtype[static_cast<size_t>(t)]; }
};

// One matrix unit's operation per clock: an m×n×k multiply-accumulate (for GPUs the
// MMA instruction shape per tensor core, for TPUs the systolic array, e.g. 128×128).
struct MatrixUnit {
  int per_core = 0;  // matrix units in one core (tensor cores per SM, MXUs per TensorCore)
  int m = 0, n = 0, k = 0;
};

struct Sram {
  Bytes per_core;  // software-managed / L1 per core (shared memory, SBUF, VMEM)
  Bytes shared;    // last-level on-chip cache or memory shared by all cores (L2, CMEM)
};

struct Hbm {
  std::string generation;  // "HBM3", "HBM3E", ... (a name in data/memory/)
  int stacks = 0;
  Bytes capacity;
  BytesPerSec bandwidth;  // peak, as the vendor states it
};

struct Link {
  std::string name;       // "NVLink 4", "ICI v5p", "NeuronLink v3", "400G InfiniBand"
  BytesPerSec bandwidth;  // per chip, one direction, summed over the chip's links
  int domain = 0;         // largest group of chips this link joins directly (0 = unknown)
};

struct Chip {
  std::string name;                  // preset id, e.g. "h100-sxm"
  std::string display_name;          // "NVIDIA H100 SXM5 80GB"
  std::vector<std::string> aliases;  // other names it is known by in results tables
  std::string vendor;
  std::string family;  // architecture family for calibration defaults: "hopper", "tpu-v5", ...
  int year = 0;

  std::string process_node;
  SquareMillimeters die_area;  // total compute silicon (all dies); 0 = unknown
  int dies = 1;
  double transistors = 0;  // total count; 0 = unknown

  Hertz clock;      // clock at which the peak FLOP/s below are stated
  int cores = 0;    // SMs, CUs, NeuronCores, TensorCores: the units a matmul's tiles spread over
  MatrixUnit matrix_unit;
  PeakTable peak;          // dense matrix peak per dtype
  FlopsPerSec vector_fp32; // non-matrix (SIMT / vector) fp32 peak; 0 = unknown

  Sram sram;
  Hbm hbm;
  Watts tdp;
  // Leakage at the nominal clock when the chip carries its own estimate (a designed chip:
  // its derived leakage, independent of a stated TDP); 0 = the node's static fraction of tdp.
  Watts static_power;
  Link scale_up;
  Link scale_out;
  // The link to the host CPU's memory (PCIe, NVLink-C2C), per chip, one direction: what
  // activation offloading moves over. 0 = unknown.
  Link host_link;
};

// A semantic problem with a constructed chip: the key path and what is wrong.
struct Problem {
  std::string key_path;
  std::string message;
};

// Checks the rules no single field can check alone (at least one peak, positive HBM,
// cores and matrix units consistent with the peak and clock). Empty = valid.
std::vector<Problem> Validate(const Chip& chip);

}  // namespace pf::hw
