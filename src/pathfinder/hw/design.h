// hw/design: a chip described by its architecture (process node, matrix units, SRAM, HBM
// stacks, SerDes, dies, packaging) rather than by its datasheet, and the derivation of the
// datasheet from it: peak FLOP/s per dtype, memory, area per block, total silicon, a TDP
// estimate and feasibility with reasons. The derived hw::Chip can be used wherever a preset
// chip can.
//
// The model is one model for every chip (no per-chip factors); its constants are listed,
// each with its source, at the top of design.cc. A constant that is an estimate is marked
// so there and in every AreaBlock/PowerBlock derived from it.
//
// How to add a block to the area model: add a constant with its source in design.cc, one
// AreaBlock in DeriveDieArea, and a test in design_test.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/hw/chip.h"
#include "pathfinder/hw/tech.h"

namespace pf::hw {

// One supported dtype of the matrix units: MACs per clock relative to bf16 (fp8 2, fp4 4,
// tf32 0.5, fp64 1/16 on H100).
struct DTypeRate {
  DType dtype = DType::kBf16;
  double rate = 1.0;
};

// The matrix units: `per_core` units per core, each an m×n×k bf16 MAC array per clock.
struct MatrixDesign {
  int per_core = 0;
  int m = 0, n = 0, k = 0;
  std::vector<DTypeRate> dtypes;  // must include bf16 (rate 1) or fp16
};

// One SRAM level. Sizes per core and/or per compute die; `registers` marks register files
// and accumulators (counted for area and power, not reported as software-managed SRAM).
struct SramLevel {
  std::string name;
  Bytes per_core;
  Bytes per_die;
  bool registers = false;
};

// Off-package SerDes: `lanes` one-direction lanes at `lane_rate` each.
struct SerdesDesign {
  std::string name;
  int lanes = 0;
  BytesPerSec lane_rate;
  int domain = 0;  // largest group of chips joined directly (0 = unknown)
};

// Base / I/O dies under or beside the compute dies (AMD MI300X's IODs): they hold the
// shared SRAM, the HBM PHYs and the SerDes when present.
struct IoDieDesign {
  int count = 0;
  std::string node;  // a name in data/nodes/; empty = the compute-die node
  Bytes sram;        // per I/O die (last-level cache)
  bool stacked = false;  // compute dies sit on the I/O dies (3D): they add no interposer area
};

struct ChipDesign {
  std::string name;
  std::string display_name;
  std::string node;       // compute-die process node, a name in data/nodes/
  std::string packaging;  // a name in data/packaging/
  int compute_dies = 1;
  int cores_per_die = 0;  // physical cores per compute die (area)
  int enabled_cores = 0;  // cores enabled in the product, all dies together (peak); 0 = all
  MatrixDesign matrix;
  int vector_lanes_per_core = 0;  // fp32 FMA lanes (SIMT / vector units)
  Hertz clock;
  // The clock a dense matmul holds under the power limit (≤ clock; 0 = clock): the TDP
  // estimate is the power there, dynamic power ∝ f³ (the power model's V ∝ f).
  Hertz sustained_clock;
  std::vector<SramLevel> sram;
  std::string hbm_generation;  // a name in data/memory/
  int hbm_stacks = 0;
  int hbm_sites = 0;           // PHYs on silicon (≥ stacks); 0 = stacks
  Bytes hbm_stack_capacity;    // 0 = the generation's capacity_per_stack
  BytesPerSec hbm_stack_bandwidth;  // 0 = the generation's stack_bandwidth
  BytesPerSec d2d_bandwidth;   // die-to-die bandwidth per die, one direction (0 = single die)
  SerdesDesign scale_up;
  SerdesDesign scale_out;
  int pcie_lanes = 16;         // host interface
  IoDieDesign io_dies;
  Watts tdp;                   // a stated power limit; 0 = use the estimate
};

// The energy facts and design limits of a process node that the area model, the TDP
// estimate and the power model need. Built by spec/ from data/energy/ (Horowitz 45 nm
// baseline × the node's energy scale) and the node preset.
struct NodeEnergy {
  std::string node;
  JoulesPerFlop bf16_flop;   // one bf16 FLOP (half an FMA with fp32 accumulate), arithmetic only
  double dtype_factor[kAllDTypes.size()] = {};  // energy per FLOP relative to bf16, per dtype
  JoulesPerByte register_byte;  // register file / operand buffer access
  JoulesPerByte sram_byte;      // large on-chip SRAM (L2, SBUF, VMEM) access
  JoulesPerByte d2d_byte;       // on-package die-to-die
  JoulesPerByte serdes_byte;    // off-package SerDes when the link preset gives none
  double uncore_fraction = 0;   // clock tree, control, NoC: dynamic power as a fraction of the datapath's
  // Measured on real hardware (data/energy/baseline-45nm.yaml): the modelled datapath energy
  // (arithmetic, operand reads, uncore) × datapath_scale is what a sustained matmul draws,
  // and each HBM byte also costs hbm_path_byte on chip (controller, L2, NoC, load/store).
  double datapath_scale = 1;
  JoulesPerByte hbm_path_byte;
  double static_fraction = 0;   // leakage as a fraction of total power at TDP
  Hertz max_clock;              // highest clock the node reaches in a shipped high-performance die
  // Area-model inputs for the node (the preset's values unless data/energy/ states a
  // logic-cell density where the preset's is a whole-product average):
  double logic_density = 0;     // MTr/mm2 of logic cells
  double sram_bitcell_um2 = 0;  // high-density 6T bit cell
  JoulesPerFlop Flop(DType t) const { return bf16_flop * dtype_factor[static_cast<size_t>(t)]; }
};

// Everything a design is derived from. `io_node`/`io_energy` only when I/O dies use
// another node than the compute dies.
struct DesignTech {
  ProcessNode node;
  NodeEnergy energy;
  MemoryTech memory;
  Packaging packaging;
  std::optional<ProcessNode> io_node;
  std::optional<NodeEnergy> io_energy;
  JoulesPerByte scale_up_energy;   // from the link preset, 0 = energy.serdes_byte
  JoulesPerByte scale_out_energy;
};

struct AreaBlock {
  std::string name;
  SquareMillimeters area;  // one die
  std::string basis;       // how it was computed and from which constants
  bool estimate = false;
};

struct DieArea {
  std::string what;  // "compute die", "I/O die"
  int count = 0;
  SquareMillimeters each;
  std::vector<AreaBlock> blocks;
};

struct PowerBlock {
  std::string name;
  Watts power;
  std::string basis;
};

struct Feasibility {
  bool ok = true;
  std::vector<std::string> reasons;  // why not; empty when feasible
  std::vector<std::string> notes;    // true but not disqualifying (estimated power above a stated TDP)
};

struct DerivedChip {
  Chip chip;  // usable wherever a preset chip is (tdp = stated or estimated)
  DieArea compute_die;
  std::optional<DieArea> io_die;
  SquareMillimeters total_silicon;  // all logic dies
  SquareMillimeters interposer_area;  // logic dies + HBM stack footprints (+ spacing)
  std::vector<PowerBlock> power;      // at peak bf16 compute and peak HBM bandwidth
  Watts peak_power;                   // all of `power`: every block at peak at the full clock
  Watts tdp_estimate;                 // the same at the sustained clock (= peak_power without one)
  double transistors = 0;             // estimated logic transistors (SRAM bit cells excluded)
  Feasibility feasibility;
};

// Model limits and sizes used by the feasibility check.
inline constexpr double kReticleAreaMm2 = 858.0;  // 26 mm × 33 mm scanner field (data/packaging/monolithic.yaml)

// Derives the datasheet. Never fails on a bad design: an impossible one comes back with
// feasibility.ok = false and a reason per broken rule.
// REQUIRES: design.cores_per_die > 0, design.matrix.per_core > 0 (spec/ checks these).
DerivedChip DeriveChip(const ChipDesign& design, const DesignTech& tech);
DerivedChip DeriveChip(const ChipDesign& design, const ProcessNode& node, const MemoryTech& memory,
                       const Packaging& packaging, const NodeEnergy& energy);

// Cross-field problems of a design that make derivation meaningless (no bf16 rate, more
// enabled cores than physical ones). Empty = derivable.
std::vector<Problem> Validate(const ChipDesign& design);

}  // namespace pf::hw
