// cli/run_report: the pieces of a run's JSON report that several commands print the same
// way — a training step's breakdown (train, plan) and a chip's cost (train, serve).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pathfinder/core/units.h"
#include "pathfinder/spec/chip_price.h"
#include "pathfinder/train/simulator.h"

namespace pf::cli {

// {"compute": s, "recompute": s, "tp_comm": s, …, "optimizer": s}
nlohmann::json StepBreakdownJson(const train::StepBreakdown& b);

// The price and $/chip-hour fields of a `cost` object; `unavailable` is the reason when
// `hourly` is empty (then the object ends there).
nlohmann::json CostJson(const spec::ChipPrice& price, const std::optional<spec::HourlyCost>& hourly,
                        const std::string& unavailable, Watts it_per_chip);

}  // namespace pf::cli
