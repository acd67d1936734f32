// hw/tech: the technologies a chip is built from, as the design-derivation and cost models
// see them — memory generations (HBM, LPDDR, GDDR), logic process nodes, chip-to-chip
// interconnects, and advanced packaging. Each is a plain struct built by spec/ from a preset
// in data/{memory,nodes,links,packaging}/, plus a Validate() for the rules no single field
// can check alone.
//
// How to add a technology: write data/<kind>/<name>.yaml with a `source:` (no code). A new
// field: add it here, to its schema in spec/tech_spec.cc, and to the preset files that have
// a sourced value for it.
#pragma once

#include <string>
#include <vector>

#include "pathfinder/core/units.h"
#include "pathfinder/hw/chip.h"

namespace pf::hw {

// A DRAM generation. Bandwidth and capacity are per HBM stack, or per device (package) for
// GDDR/LPDDR; 0 = not given by any source.
struct MemoryTech {
  std::string name;          // preset id, e.g. "hbm3"
  std::string display_name;  // "HBM3"
  std::string standard;      // "JEDEC JESD238"
  int year = 0;
  BytesPerSec pin_rate;         // data rate of one pin ("6.4 Gb/s")
  int interface_width = 0;      // bits per stack / device / channel (see the preset's note)
  int channels = 0;             // independent channels per stack
  BytesPerSec stack_bandwidth;  // per stack (HBM) or per device (GDDR/LPDDR)
  int max_stack_height = 0;     // DRAM dies per stack
  Bytes die_density;            // one DRAM die ("16 Gb")
  Bytes capacity_per_stack;
  JoulesPerByte energy_per_bit;  // access energy (written "3.9 pJ/bit")
  DollarsPerByte cost_per_gb;    // written "$7/GB"
  std::string notes;             // conflicts, ranges, what is missing
};

// A logic process node. Percentages and density gains are vs `baseline`.
struct ProcessNode {
  std::string name;          // "tsmc-n3e"
  std::string display_name;  // "TSMC N3E / N3P"
  std::string foundry;
  std::string transistor_type;  // "FinFET", "GAA nanosheet"
  int hvm_year = 0;             // high-volume manufacturing start
  std::string baseline;         // node the gains below compare with
  double perf_gain_pct = 0;     // speed gain at iso-power vs baseline
  double power_reduction_pct = 0;  // power reduction at iso-speed vs baseline
  double density_gain = 0;      // logic (or chip) density multiple vs baseline
  double logic_density = 0;     // million transistors per mm² (MTr/mm2)
  double sram_bitcell_area = 0;  // high-density SRAM bit cell, µm² (um2)
  double sram_macro_density = 0;  // SRAM macro density, Mb/mm2
  Dollars wafer_price;          // one 300 mm wafer
  double defect_density = 0;    // D0, defects per cm² (/cm2)
  std::string notes;
};

// Where a link sits in the system.
enum class LinkCategory { kScaleUp, kScaleOut, kInterSite, kChipToChip, kDieToDie, kHost };

// A chip-to-chip interconnect generation. Bandwidths are one direction.
struct Interconnect {
  std::string name;          // "nvlink-4"
  std::string display_name;  // "NVLink 4"
  LinkCategory category = LinkCategory::kScaleUp;
  int year = 0;
  std::string signaling;         // "100 Gb/s PAM4 x4"
  BytesPerSec per_link_bandwidth;  // one link, one direction
  int links_per_chip = 0;
  BytesPerSec per_chip_bandwidth;  // summed over the chip's links, one direction
  int max_domain = 0;            // largest group of chips joined directly (0 = unknown / not a domain)
  std::string topology;
  std::string switch_fabric;
  Seconds latency;               // one-way message latency (see the preset's note for what it covers)
  JoulesPerByte energy_per_bit;
  std::string used_in;           // chips that use it
  std::string notes;
};

// An advanced-packaging technology: how much silicon and how many HBM stacks fit.
struct Packaging {
  std::string name;          // "cowos-s"
  std::string display_name;  // "TSMC CoWoS-S (silicon interposer)"
  std::string vendor;
  SquareMillimeters max_silicon_area;  // largest interposer / die / wafer area
  int max_hbm_stacks = 0;
  std::string notes;
};

std::vector<Problem> Validate(const MemoryTech& m);
std::vector<Problem> Validate(const ProcessNode& n);
std::vector<Problem> Validate(const Interconnect& l);
std::vector<Problem> Validate(const Packaging& p);

}  // namespace pf::hw
