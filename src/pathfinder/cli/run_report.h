// cli/run_report: the pieces of a run's report that several commands build the same way —
// a training step's breakdown (train, plan), a chip's cost (train, serve), and what the
// power figures of a run need (train, serve).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pathfinder/core/units.h"
#include "pathfinder/ops/calibration.h"
#include "pathfinder/ops/clock.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/chip_price.h"
#include "pathfinder/spec/scenario.h"
#include "pathfinder/train/simulator.h"

namespace pf::cli {

// {"compute": s, "recompute": s, "tp_comm": s, …, "optimizer": s}
nlohmann::json StepBreakdownJson(const train::StepBreakdown& b);

// The price and $/chip-hour fields of a `cost` object; `unavailable` is the reason when
// `hourly` is empty (then the object ends there).
nlohmann::json CostJson(const spec::ChipPrice& price, const std::optional<spec::HourlyCost>& hourly,
                        const std::string& unavailable, Watts it_per_chip);

// The chip's power model and the economic defaults (servers, PUE). When either cannot be
// had, `unavailable` joins the reasons and the run reports no power figure.
struct PowerInputs {
  std::optional<power::ChipPowerModel> model;
  std::optional<spec::EconAssumptions> econ;
  std::string unavailable;
  bool ok() const { return model && econ; }
};
PowerInputs LoadPowerInputs(const hw::Chip& chip);

// What the power report of every run carries.
struct RunPower {
  std::optional<power::RunEnergy> run;
  std::string basis;        // how the chip model was built
  std::string unavailable;  // why there is no figure (no TDP from any source)
  Watts tdp;                // the model's (the preset's, else data/energy/chip-power.yaml)
  double pue = 0;
};

// LoadPowerInputs, with `out`'s basis, TDP and PUE filled from them (or its `unavailable`
// when they did not load).
PowerInputs StartRunPower(const hw::Chip& chip, RunPower& out);

// The power of a training run: one step of the critical stage's activity on every chip.
struct TrainPower : RunPower {
  double run_mwh = 0;    // tokens_to_train, facility
  Seconds nominal_step;  // throttled: the step at the nominal clock (0 otherwise)
};

// The power of the run `r` (simulated with activity). When the modelled power exceeds the
// TDP the step is re-simulated at the throttled clock (power::EnergyOfCappedRun) and `r`
// becomes that step — `pathfinder train` and a training sweep point alike.
TrainPower TrainPowerOf(train::TrainResult& r, const train::TrainSettings& s, const spec::Scenario& sc,
                        const ops::Ceilings& ceilings, const hw::Cluster& cluster);

}  // namespace pf::cli
