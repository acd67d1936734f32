// spec/chip_energy: the power model of any chip — a preset, a preset with overrides, or a
// chip derived from a design — built from the energy data (data/energy/, data/memory/,
// data/links/), and what a training step or a serving run did, as power/ sees it. This is
// the seam `pathfinder train` and `pathfinder serve` use to report watts, megawatts and
// joules per token for every chip.
//
// Process-node text → energy file (data/energy/<node>.yaml). A node preset id ("tsmc-n2")
// is taken as is; otherwise the first token of the compute die's text found in this table
// decides (TSMC names only):
//   4N, N4 → tsmc-n4; 4NP, N4P → tsmc-n4p   (NVIDIA's 4N / 4NP are customised N4 / N4P)
//   N5, 5nm          → tsmc-n5
//   N3E, N3P         → tsmc-n3e  (N3P is an optical shrink of N3E; one energy file)
//   N3, N3B          → tsmc-n3
//   N7, 7nm, N6      → tsmc-n7   (N6 is a 7 nm-class derivative of N7)
//   N2 → tsmc-n2, N2P → tsmc-n2p, A16 → tsmc-a16
// Chiplet parts written "XCD TSMC N5 + IOD TSMC N6": the compute die (the part naming XCD,
// else the first part) decides — it draws most of the power.
//
// Fallback, never a failure: when the node maps to no energy file (12FFN, Samsung, Intel,
// unknown text), or the memory generation has no access energy, the chip gets the
// TDP-based estimate of power.h (TdpModel) with static power = kTdpStaticFraction × TDP,
// and the model's `basis` says so ("TDP-based estimate: no energy data for node 'TSMC
// 12FFN'"). A chip whose preset states no TDP takes it from data/energy/chip-power.yaml
// (estimates, each with its derivation) and the basis says that too.
//
// Link energy: the scale-up link's preset (data/links/, matched by name) when it gives an
// energy_per_bit, else the baseline SerDes energy (data/energy/baseline-45nm.yaml
// serdes_byte, 5 pJ/bit).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/diag.h"
#include "pathfinder/hw/chip.h"
#include "pathfinder/power/power.h"
#include "pathfinder/serve/iteration_cost.h"
#include "pathfinder/serve/metrics.h"
#include "pathfinder/serve/simulator.h"
#include "pathfinder/spec/econ_spec.h"
#include "pathfinder/train/simulator.h"

namespace pf::spec {

// Static share of the TDP in the TDP-based estimate: data/energy/baseline-45nm.yaml
// static_fraction (21 %, an H100's measured idle power over its TDP); chip_energy_test.cc
// checks the two agree.
inline constexpr double kTdpStaticFraction = 0.21;

// The energy file (node name, e.g. "tsmc-n4") for a chip's process-node text by the table
// above; "" when none applies.
std::string EnergyNodeOf(const std::string& process_node);

// The chip's power model. nullopt only when the chip has no TDP from any source or a data
// file is malformed; the reason is recorded in `diag`.
std::optional<power::ChipPowerModel> ChipPowerModelFor(const hw::Chip& chip, Diagnostics& diag);

// The default server (data/econ/defaults.yaml, an 8-chip DGX H100-class host) with its host,
// NIC and other power taken per chip and packed `chips_per_server` to a server.
power::ServerPower ServerFor(const EconAssumptions& a, int chips_per_server);

// One training step of one chip of the critical stage: matmul FLOPs in `matmul` (the
// settings' precision), attention in bf16 (the activation dtype, train::StepOptionsOf),
// every other operator as fp32 vector work; HBM bytes as the op model moves them; `link`
// the bytes the chip sends over its links in the step (train::TrainResult::link_sent).
// duration = `step`.
power::Activity TrainStepActivity(const std::vector<train::OpActivity>& ops, DType matmul, Seconds step, Bytes link);

// A training step under the chip's power cap (power::EnergyOfCappedRun). `r` is the step at
// the nominal clock, simulated with activity; `simulate` runs the same step on another op
// model (the chip at a lower clock, ops::AtClockRatio). When the step's modelled power
// exceeds the TDP, `r` becomes the step re-simulated at the highest clock ratio within it —
// MFU and HFU stay fractions of the datasheet peak — and `*ratio` gets that ratio (1 when the
// cap does not bind). The cap binds on the step less its pipeline bubble and its exposed
// data-parallel sync, idle spans at the step's ends that lend the compute no headroom
// (chip_energy.cc). Returns the energy of the step as run, on `server` at `pue`.
power::RunEnergy CapTrainStep(train::TrainResult& r,
                              const std::function<train::TrainResult(const ops::OpModel&)>& simulate,
                              const hw::Chip& chip, const ops::Ceilings& ceilings, const power::ChipPowerModel& m,
                              DType matmul, const power::ServerPower& server, double pue, double* ratio);

// One chip's serving work (serve::ChipWork) over `busy` seconds.
power::Activity ServeActivity(const serve::ChipWork& work, Seconds busy);

// A serving run: the simulation and its summary (serve::Simulate, serve::Summarize).
struct ServeRun {
  serve::SimResult res;
  serve::Summary sum;
};

// One chip of a serving run of `replicas` replicas: its replica's average work while busy
// (duration = the busy time); `*span` gets the run's span, at least the busy time.
power::Activity ServeRunActivity(const ServeRun& run, int replicas, Seconds* span);

// A serving run under the chip's power cap (power::EnergyOfCappedRun), as `pathfinder serve`
// runs it: every chip does its replica's average work while busy. `run` is the run at the
// nominal clock; `run_at(r)` re-simulates it at clock ratio r (ops::AtClockRatio). When its
// busy power exceeds the TDP, `run` becomes the run re-simulated at the highest ratio within
// it and `*ratio` gets that ratio (1 when the cap does not bind). Returns the energy of the
// run as run, over `chips` chips on `server` at `pue`, per output token.
power::RunEnergy CapServeRun(ServeRun& run, const std::function<ServeRun(double)>& run_at, int replicas, long chips,
                             const power::ChipPowerModel& m, Hertz clock, const power::ServerPower& server, double pue,
                             double* ratio);

}  // namespace pf::spec
