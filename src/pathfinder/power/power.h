// power/power: energy and power of one chip running a step or a serving iteration, from the
// activity the simulators report (FLOPs per dtype, bytes per memory level, duration); the
// power cap (the clock throttles when modelled power exceeds TDP, and the result says so);
// and server and facility power, so a cluster reports its megawatts.
//
// Energy per FLOP and per byte come from hw::NodeEnergy (data/energy/, Horowitz ISSCC 2014
// at 45 nm scaled by each node's published power reductions, the datapath × a scale measured
// on an H100, and each HBM byte's on-chip path measured there too) and the memory
// generation's energy_per_bit. Throttling model (stated once, here): dynamic power ∝ f·V², and in the
// DVFS range V ∝ f, so at clock ratio r = f/f0 the same work takes duration/r, its dynamic
// energy scales by r² and its dynamic power by r³; static power does not change. The whole
// activity is treated as clock-bound (a memory-bound step stretches less: the model is
// conservative there).
#pragma once

#include <array>
#include <functional>
#include <string>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"
#include "pathfinder/hw/chip.h"
#include "pathfinder/hw/design.h"
#include "pathfinder/hw/tech.h"

namespace pf::power {

// What one chip did during `duration`.
struct Activity {
  std::array<Flops, kAllDTypes.size()> flops{};  // by dtype (index = DType)
  Bytes sram;    // on-chip SRAM traffic (read + write)
  Bytes hbm;     // HBM traffic
  Bytes d2d;     // die-to-die traffic
  Bytes link;    // off-package (scale-up + scale-out) traffic sent
  Seconds duration;
  Flops& operator[](DType t) { return flops[static_cast<size_t>(t)]; }
  Flops operator[](DType t) const { return flops[static_cast<size_t>(t)]; }
};

struct EnergyBreakdown {
  Joules compute;  // matrix/vector arithmetic incl. operand reads (× the measured datapath scale)
  Joules sram;
  Joules hbm;  // the HBM device's access energy + each byte's measured on-chip path
  Joules d2d;
  Joules link;
  Joules uncore;   // clock tree, control, NoC
  Joules leakage;  // static power × duration
  Joules Total() const { return compute + sram + hbm + d2d + link + uncore + leakage; }
};

// Energy costs of one chip.
struct ChipEnergyModel {
  hw::NodeEnergy node;
  JoulesPerByte hbm_byte;
  JoulesPerByte link_byte;
  double operand_bytes_per_flop = 0;  // operand reads per FLOP of the matrix units
  Watts tdp;
  Watts static_power;  // chip.static_power when stated, else tdp × node.static_fraction
};

// A chip's leakage: its own estimate when it carries one (a designed chip), else
// `fraction` of its TDP.
inline Watts StaticPowerOf(const hw::Chip& chip, double fraction) {
  return chip.static_power.value() > 0 ? chip.static_power : chip.tdp * fraction;
}

// REQUIRES: chip.tdp > 0. `memory.energy_per_bit` may be 0 (then HBM energy is 0 and
// the caller should have filled it from data/energy/).
ChipEnergyModel MakeEnergyModel(const hw::Chip& chip, const hw::NodeEnergy& node, const hw::MemoryTech& memory,
                                JoulesPerByte link_byte);

struct PowerResult {
  EnergyBreakdown energy;
  Seconds duration;      // stretched when throttled
  Watts average;         // energy / duration
  bool throttled = false;
  double clock_ratio = 1;  // f / f0
  Hertz clock;           // the clock it ran at
  bool feasible = true;  // false when static power alone exceeds TDP
  std::string note;
};

// Energy, average power and the power cap for one chip's activity at `nominal_clock`.
PowerResult Evaluate(const Activity& a, const ChipEnergyModel& m, Hertz nominal_clock);

// ---- TDP-based estimate, for chips without energy data -----------------------------------
//
// When a chip's process node has no data/energy/ file (or its memory no access energy) the
// activity cannot be priced per FLOP and per byte. The estimate then is
//   P = P_static + u · (TDP − P_static),  u = min(1, t_roofline / duration),
//   t_roofline = max(Σ_dtype FLOPs / peak(dtype), HBM bytes / HBM bandwidth),
// i.e. the chip draws its static share at rest and its full TDP when the activity keeps
// its matrix units or its HBM at peak for the whole duration. It never exceeds the TDP, so
// it never throttles. FLOPs of a dtype the matrix units lack are timed at the bf16 peak
// (fp32 at vector_fp32 when stated).
struct TdpModel {
  Watts tdp;
  Watts static_power;
  hw::PeakTable peak;
  FlopsPerSec vector_fp32;
  BytesPerSec hbm_bandwidth;
};

// u above. REQUIRES: a.duration > 0.
double Utilization(const Activity& a, const TdpModel& m);

// One chip's power model: activity-based (ChipEnergyModel) or the TDP-based estimate.
// `basis` says which and from what data; every report prints it beside the figures.
struct ChipPowerModel {
  enum class Method { kActivity, kTdp };
  Method method = Method::kActivity;
  ChipEnergyModel energy;  // kActivity
  TdpModel tdp;            // kTdp
  std::string basis;
  Watts StaticPower() const { return method == Method::kActivity ? energy.static_power : tdp.static_power; }
  Watts Tdp() const { return method == Method::kActivity ? energy.tdp : tdp.tdp; }
};

// The activity's energy and average power under either method (TDP-based: compute holds
// the dynamic part, leakage the static part).
PowerResult Evaluate(const Activity& a, const ChipPowerModel& m, Hertz nominal_clock);

// `busy` is what one chip did while busy (a.duration = its busy time); the chip then idles
// at its static power (clock-gated) until `span` has passed since it started. When busy
// throttles, the busy part stretches and the idle part keeps its length. The result's
// duration is the stretched span and its average is energy / that duration.
// REQUIRES: span ≥ busy.duration.
PowerResult EvaluateOver(const Activity& busy, const ChipPowerModel& m, Hertz nominal_clock, Seconds span);

// ---- Server and facility ----------------------------------------------------------------

// One server: chips plus everything else that draws power. Defaults: data/econ/defaults.yaml.
struct ServerPower {
  int chips_per_server = 8;
  Watts host_cpus;
  Watts nics;
  Watts other;  // fans, DRAM, storage, switches on the board, BMC
  double conversion_efficiency = 1;  // AC → DC delivered / drawn
};

struct ClusterPower {
  long chips = 0;
  long servers = 0;
  Watts chips_power;     // all accelerators
  Watts it_power;        // at the wall of the servers
  Watts facility_power;  // IT × PUE
};

// Power of `chips` accelerators each drawing `chip_power`, packed `chips_per_server` per
// server (the last server may be partly filled but draws its full host power), with `pue`.
// REQUIRES: chips ≥ 0, pue ≥ 1, conversion_efficiency in (0, 1].
ClusterPower Cluster(long chips, Watts chip_power, const ServerPower& server, double pue);

// ---- A whole run ------------------------------------------------------------------------

// The energy of `chips` chips each doing `busy` within `span` (EvaluateOver), in servers
// at `pue`, and per token of `tokens` produced in that span.
struct RunEnergy {
  PowerResult chip;       // one chip over the run
  ClusterPower cluster;   // all chips at chip.average
  Seconds duration;       // the run's wall time (stretched when throttled)
  Joules chips_energy;    // all accelerators
  Joules it_energy;       // at the wall of the servers
  Joules facility_energy; // × PUE
  double tokens = 0;
  double ChipJoulesPerToken() const { return tokens > 0 ? chips_energy.value() / tokens : 0; }
  double FacilityJoulesPerToken() const { return tokens > 0 ? facility_energy.value() / tokens : 0; }
};

// REQUIRES: chips ≥ 0, span ≥ busy.duration, as Cluster().
RunEnergy EnergyOfRun(const Activity& busy, const ChipPowerModel& m, Hertz nominal_clock, Seconds span, long chips,
                      const ServerPower& server, double pue, double tokens);

// The run as simulated at clock ratio r = f/f0 (compute at r × its nominal rate; memory
// and links unchanged): what one chip did while busy (busy.duration) and the run's wall
// time (≥ busy.duration).
struct RunAt {
  Activity busy;
  Seconds span;
};

// EnergyOfRun with the power cap fed back into the run: when the run's busy time at the
// nominal clock draws more than the TDP, the clock ratio r is the highest at which the run
// re-simulated by `at(r)` stays within it over its busy time — (dynamic energy · r² +
// static · busy(r)) / busy(r) ≤ TDP, by regula falsi (Illinois) to 2^-14 of the bracket or
// 10^-4 of the TDP, a handful of re-simulations: a board's limiter
// averages over tens of milliseconds, so the idle rest of the span (a caller leaves out only
// idle spans longer than that) lends the busy time no headroom — and the result is that run: its
// stretched duration, throttled = true, clock_ratio = r, and a note saying so. Memory-bound
// work does not stretch, unlike Evaluate's closed form. `*ratio` gets r (1 when the cap does
// not bind). The TDP-based estimate never throttles.
RunEnergy EnergyOfCappedRun(const std::function<RunAt(double)>& at, const ChipPowerModel& m, Hertz nominal_clock,
                            long chips, const ServerPower& server, double pue, double tokens, double* ratio);

}  // namespace pf::power
