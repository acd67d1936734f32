// Dies per wafer, yield, cost per chip and TCO (formulas in econ.h).
#include "pathfinder/econ/econ.h"

#include <fmt/core.h>

#include <cmath>
#include <numbers>

#include "pathfinder/core/check.h"

namespace pf::econ {

double DiesPerWafer(SquareMillimeters die, double wafer_diameter_mm, double edge_exclusion_mm) {
  PF_CHECK(die.value() > 0, "die area must be > 0");
  PF_CHECK(wafer_diameter_mm > 2 * edge_exclusion_mm, "edge exclusion larger than the wafer");
  const double d = wafer_diameter_mm - 2 * edge_exclusion_mm;
  const double a = die.value();
  const double dpw = std::numbers::pi * (d / 2) * (d / 2) / a - std::numbers::pi * d / std::sqrt(2 * a);
  return dpw > 0 ? std::floor(dpw) : 0.0;
}

double Yield(YieldModel model, SquareMillimeters die, double d0_per_cm2, double alpha) {
  PF_CHECK(d0_per_cm2 >= 0 && alpha > 0, "bad yield inputs d0={} alpha={}", d0_per_cm2, alpha);
  const double ad = die.value() / 100.0 * d0_per_cm2;  // mm² → cm²
  if (ad == 0) return 1.0;
  switch (model) {
    case YieldModel::kPoisson: return std::exp(-ad);
    case YieldModel::kMurphy: {
      const double x = (1 - std::exp(-ad)) / ad;
      return x * x;
    }
    case YieldModel::kNegativeBinomial: return std::pow(1 + ad / alpha, -alpha);
  }
  return 0;
}

DieCost CostPerGoodDie(SquareMillimeters die, const WaferEcon& w) {
  DieCost c;
  c.dies_per_wafer = DiesPerWafer(die, w.wafer_diameter_mm, w.edge_exclusion_mm);
  c.yield = Yield(w.model, die, w.defect_density, w.alpha);
  if (c.dies_per_wafer > 0 && c.yield > 0) c.per_good_die = w.wafer_price / (c.dies_per_wafer * c.yield);
  return c;
}

ChipCost EstimateChipCost(const hw::DerivedChip& chip, const WaferEcon& compute, const WaferEcon& io,
                          DollarsPerByte hbm_per_byte, const PackageEcon& pkg) {
  ChipCost out;
  const auto& cd = chip.compute_die;
  out.compute_die = CostPerGoodDie(cd.each, compute);
  const std::string ym = YieldModelName(compute.model);
  out.lines.push_back({"compute dies", out.compute_die.per_good_die * double(cd.count),
                       fmt::format("{} × {} per good die ({} dies/wafer, {} yield {:.1f} % at D0 {}/cm2, wafer {})", cd.count,
                                   ToString(out.compute_die.per_good_die), out.compute_die.dies_per_wafer, ym,
                                   out.compute_die.yield * 100, compute.defect_density, ToString(compute.wafer_price)),
                       true});
  if (chip.io_die) {
    out.io_die = CostPerGoodDie(chip.io_die->each, io);
    out.lines.push_back({"I/O dies", out.io_die.per_good_die * double(chip.io_die->count),
                         fmt::format("{} × {} per good die ({} yield {:.1f} %)", chip.io_die->count,
                                     ToString(out.io_die.per_good_die), YieldModelName(io.model), out.io_die.yield * 100),
                         true});
  }
  out.lines.push_back({"HBM", chip.chip.hbm.capacity * hbm_per_byte,
                       fmt::format("{} × {}", ToString(chip.chip.hbm.capacity), ToString(hbm_per_byte)), true});
  const bool multi = chip.chip.dies > 1 || chip.chip.hbm.stacks > 0;
  if (multi) {
    out.lines.push_back({"interposer", chip.interposer_area * pkg.interposer_per_mm2,
                         fmt::format("{} mm2 × {}", FormatNumber(chip.interposer_area.value(), 4),
                                     ToString(pkg.interposer_per_mm2)),
                         true});
  }
  out.lines.push_back({"assembly and test", pkg.assembly_test, "per package", true});
  Dollars sum;
  for (const auto& l : out.lines) sum += l.cost;
  if (pkg.package_yield > 0 && pkg.package_yield < 1) {
    const Dollars loss = sum / pkg.package_yield - sum;
    out.lines.push_back({"assembly yield loss", loss, fmt::format("package yield {:.1f} %", pkg.package_yield * 100), true});
    sum += loss;
  }
  out.total = sum;
  return out;
}

Tco ComputeTco(const TcoInputs& in) {
  PF_CHECK(in.life.value() > 0, "TCO life must be > 0");
  Tco t;
  const Dollars facility = in.facility_per_watt * in.it_power_per_chip;
  t.capital_per_chip = in.chip_price + in.server_per_chip + in.network_per_port * in.ports_per_chip + facility;
  const double hours = in.life.value() / 3600.0;
  t.capital_per_hour = t.capital_per_chip / hours;
  t.energy_per_hour = in.it_power_per_chip * Seconds(3600.0) * in.pue * in.electricity;
  t.per_chip_hour = t.capital_per_hour + t.energy_per_hour;
  return t;
}

Dollars TrainingRunCost(const Tco& tco, double chip_hours) { return tco.per_chip_hour * chip_hours; }

Dollars CostPerMillionTokens(const Tco& tco, double tokens_per_second) {
  PF_CHECK(tokens_per_second > 0, "tokens per second must be > 0");
  return tco.per_chip_hour * (1e6 / (tokens_per_second * 3600.0));
}

double TokensPerJoule(double tokens_per_second, Watts power) {
  PF_CHECK(power.value() > 0, "power must be > 0");
  return tokens_per_second / power.value();
}

std::string YieldModelName(YieldModel m) {
  switch (m) {
    case YieldModel::kPoisson: return "poisson";
    case YieldModel::kMurphy: return "murphy";
    case YieldModel::kNegativeBinomial: return "negative-binomial";
  }
  return "?";
}

}  // namespace pf::econ
