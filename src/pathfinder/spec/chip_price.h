// spec/chip_price: what a chip costs its user per hour — the seam `pathfinder train` and
// `pathfinder serve` use to print $ per chip-hour, $ per step, $ per run and $ per million
// tokens for every chip.
//
// Where the price comes from, in this order:
//   1. a chip derived from a design file: its build cost (spec::CostDesign: good dies, HBM,
//      interposer, assembly, ÷ package yield; no vendor margin, NRE excluded) under the
//      design file's `econ:` assumptions;
//   2. data/econ/chip-prices.yaml `prices:` — a purchase price per chip preset (matched by
//      the chip's preset name; a preset with overrides keeps its preset's price);
//   3. data/econ/chip-prices.yaml `cloud_rates:` — chips that are not sold (TPU, Trainium):
//      a cloud on-demand $/chip-hour, used as is, with no TCO build-up;
//   4. none of these: no price, and the basis says why ("no price for chip 'x' in …").
// A purchase price (1 or 2) becomes $/chip-hour through econ::ComputeTco with the average
// IT power per chip of the run (the chip's power model plus its share of the server, at the
// wall) and the assumptions of data/econ/defaults.yaml.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/diag.h"
#include "pathfinder/econ/econ.h"
#include "pathfinder/hw/chip.h"
#include "pathfinder/spec/econ_spec.h"

namespace pf::spec {

struct ChipPrice {
  enum class Kind { kNone, kPurchase, kBuildCost, kCloudRate };
  Kind kind = Kind::kNone;
  Dollars purchase;       // kPurchase, kBuildCost: per chip
  Dollars per_chip_hour;  // kCloudRate
  bool estimate = false;
  std::string basis;      // one line: the figure and where it comes from, or why there is none
  std::string source;     // the data file's source text (kPurchase, kCloudRate)
  std::optional<EconAssumptions> econ;  // kBuildCost: the design file's assumptions
};

// "none", "purchase", "build-cost", "cloud-rate"
std::string KindName(ChipPrice::Kind k);

// The price of `chip`. `design_file` is spec::Scenario::chip_design ("" for a preset or an
// inline chip). A malformed chip-prices.yaml or design file records errors in `diag` (file,
// line, key) and gives kNone; a chip with no price is not an error.
ChipPrice ChipPriceFor(const hw::Chip& chip, const std::string& design_file, Diagnostics& diag);

// Every entry of data/econ/chip-prices.yaml by preset name (for tests and `explain`).
struct PriceEntry {
  std::string chip;
  ChipPrice price;
};
std::vector<PriceEntry> LoadChipPrices(Diagnostics& diag);

// The TCO of one chip bought at `chip_price` drawing `it_power_per_chip` on average (chip +
// its share of the server, at the wall), under the assumptions `a`.
econ::Tco TcoFor(Dollars chip_price, Watts it_power_per_chip, const EconAssumptions& a);

// $ per chip-hour of a run: the cloud rate as is, or the TCO of the purchase / build cost at
// `it_power_per_chip`. nullopt for kNone, or when a purchase has no power figure
// (it_power_per_chip ≤ 0).
struct HourlyCost {
  Dollars per_chip_hour;
  std::optional<econ::Tco> tco;  // purchase / build cost only
  std::string basis;             // short, for the `cost:` line
};
std::optional<HourlyCost> HourlyCostOf(const ChipPrice& p, Watts it_power_per_chip, const EconAssumptions& defaults);

// "$30,000", "$1.36", "$0.0123", "$5.21M".
std::string FormatDollars(Dollars d);

}  // namespace pf::spec
