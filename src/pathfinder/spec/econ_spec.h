// spec/econ_spec: loading the energy model (data/energy/: Horowitz 45 nm baseline × a
// node's energy scale, node clock limit and area-model densities; memory access energies)
// and the economic / server / facility assumptions (data/econ/defaults.yaml, overridable by
// an `econ:` section of a design file).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "pathfinder/econ/econ.h"
#include "pathfinder/hw/design.h"
#include "pathfinder/hw/tech.h"
#include "pathfinder/power/power.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

// Economic and power assumptions. Field meanings and sources: data/econ/defaults.yaml.
struct EconAssumptions {
  econ::YieldModel yield_model = econ::YieldModel::kNegativeBinomial;
  double clustering_alpha = 3;
  double defect_density = 0.1;  // /cm2, when the node preset has none
  double edge_exclusion_mm = 3;
  std::map<std::string, Dollars> wafer_prices;  // node → price, when the node preset has none
  DollarsPerByte hbm_cost_per_gb;               // when the memory preset has none
  econ::PackageEcon package;
  power::ServerPower server;
  double pue = 1.3;
  DollarsPerJoule electricity;
  Seconds life;
  Dollars server_per_chip;
  Dollars network_per_port;
  double ports_per_chip = 1;
  Dollars facility_per_mw;  // data-centre build cost per MW of IT capacity
  econ::DollarsPerWatt FacilityPerWatt() const { return facility_per_mw / Watts(1e6); }
};

const Schema<EconAssumptions>& EconSchema();

// data/econ/defaults.yaml. nullopt after recording problems in `diag`.
std::optional<EconAssumptions> LoadEconDefaults(Diagnostics& diag);

// The energy model of a node: data/energy/baseline-45nm.yaml scaled by
// data/energy/<node>.yaml, with the node preset's logic density / SRAM bit cell where the
// energy file gives none. Unknown node or missing file → diagnostic, nullopt.
std::optional<hw::NodeEnergy> LoadNodeEnergy(const hw::ProcessNode& node, Diagnostics& diag);

// Fills memory.energy_per_bit from data/energy/memory.yaml when the preset has none.
// Returns false (and records an error) when neither has it.
bool FillMemoryEnergy(hw::MemoryTech& memory, Diagnostics& diag);

// Wafer economics of a node: the preset's wafer price and D0, else the assumptions'.
// Records an error when no wafer price is known.
std::optional<econ::WaferEcon> WaferFor(const hw::ProcessNode& node, const EconAssumptions& a, Diagnostics& diag);

// HBM $/byte: the memory preset's, else the assumptions'.
DollarsPerByte HbmCost(const hw::MemoryTech& memory, const EconAssumptions& a);

}  // namespace pf::spec
