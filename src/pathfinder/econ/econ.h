// econ/econ: what silicon and a deployed chip cost — dies per wafer with edge loss, yield by
// a named model, cost per good die, HBM and packaging cost → cost per chip with a breakdown;
// and TCO: capital (chips, servers, network ports, facility per watt) amortized over a
// stated life plus energy at $/kWh × PUE → $ per chip-hour, $ per training run, $ per
// million tokens and tokens per joule.
//
// Formulas (stated once):
//   dies per wafer  DPW = π·(d/2)²/A − π·d/√(2·A), d = usable diameter (wafer − 2·edge
//                   exclusion), A = die area (the standard gross-die approximation, e.g.
//                   de Vries, "Investigation of gross die per wafer formulas", IEEE TSM 2005).
//   yield           Poisson  Y = exp(−A·D0)
//                   Murphy   Y = ((1 − exp(−A·D0)) / (A·D0))²
//                   negative binomial (clustered defects)  Y = (1 + A·D0/α)^−α
//   cost per good die = wafer price / (DPW · Y)
#pragma once

#include <string>
#include <vector>

#include "pathfinder/core/units.h"
#include "pathfinder/hw/design.h"

namespace pf::econ {

enum class YieldModel { kPoisson, kMurphy, kNegativeBinomial };

// Gross dies per wafer; 0 when the die does not fit.
// REQUIRES: die area > 0, wafer_diameter_mm > 2·edge_exclusion_mm.
double DiesPerWafer(SquareMillimeters die, double wafer_diameter_mm = 300, double edge_exclusion_mm = 3);

// Fraction of dies without a killer defect. d0 in defects per cm²; alpha only for the
// negative binomial. REQUIRES: d0 ≥ 0, alpha > 0.
double Yield(YieldModel model, SquareMillimeters die, double d0_per_cm2, double alpha = 3);

struct WaferEcon {
  Dollars wafer_price;
  double defect_density = 0;  // D0, /cm2
  YieldModel model = YieldModel::kNegativeBinomial;
  double alpha = 3;
  double wafer_diameter_mm = 300;
  double edge_exclusion_mm = 3;
};

struct DieCost {
  double dies_per_wafer = 0;
  double yield = 0;
  Dollars per_good_die;  // 0 when the die does not fit on a wafer
};
DieCost CostPerGoodDie(SquareMillimeters die, const WaferEcon& w);

struct CostLine {
  std::string name;
  Dollars cost;
  std::string basis;
  bool estimate = false;
};

struct ChipCost {
  std::vector<CostLine> lines;
  Dollars total;
  DieCost compute_die;
  DieCost io_die;
};

// Package-level inputs (data/econ/defaults.yaml).
struct PackageEcon {
  DollarsPerByte hbm_per_byte;          // when the memory preset gives none
  DollarsPerSquareMm interposer_per_mm2;  // interposer / bridges / RDL, per mm² of interposer
  Dollars assembly_test;                // bonding, substrate, final test, per package
  double package_yield = 1;             // assembly yield (good packages / started)
};

// Cost to build one chip: good dies + HBM + interposer + assembly/test, all divided by the
// package yield (a failed assembly scraps its dies and stacks).
ChipCost EstimateChipCost(const hw::DerivedChip& chip, const WaferEcon& compute, const WaferEcon& io,
                          DollarsPerByte hbm_per_byte, const PackageEcon& pkg);

// ---- TCO ---------------------------------------------------------------------------------

using DollarsPerWatt = decltype(Dollars{} / Watts{});

struct TcoInputs {
  Dollars chip_price;        // what the buyer pays per chip (not the build cost)
  Dollars server_per_chip;   // server chassis, CPUs, DRAM, NICs, per accelerator
  Dollars network_per_port;  // switch port + optics + cable
  double ports_per_chip = 1;
  DollarsPerWatt facility_per_watt;  // data-centre build cost per watt of IT capacity
  Seconds life;                      // amortization period
  DollarsPerJoule electricity;       // $/kWh as $/J
  double pue = 1.3;
  Watts it_power_per_chip;  // chip + its share of the server, at the wall (average)
};

struct Tco {
  Dollars capital_per_chip;  // chip + server + network + facility
  Dollars capital_per_hour;  // per chip, straight-line over the life
  Dollars energy_per_hour;   // per chip, IT power × PUE × price
  Dollars per_chip_hour;
};

// REQUIRES: life > 0.
Tco ComputeTco(const TcoInputs& in);

Dollars TrainingRunCost(const Tco& tco, double chip_hours);
// $ per million tokens for a chip producing `tokens_per_second`. REQUIRES: tokens_per_second > 0.
Dollars CostPerMillionTokens(const Tco& tco, double tokens_per_second);
// Tokens per joule at `power`. REQUIRES: power > 0.
double TokensPerJoule(double tokens_per_second, Watts power);

std::string YieldModelName(YieldModel m);

}  // namespace pf::econ
