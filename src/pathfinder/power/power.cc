// Chip energy from activity, the power cap, and server / facility power (see power.h for
// the throttling model).
#include "pathfinder/power/power.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "pathfinder/core/check.h"

namespace pf::power {

ChipEnergyModel MakeEnergyModel(const hw::Chip& chip, const hw::NodeEnergy& node, const hw::MemoryTech& memory,
                                JoulesPerByte link_byte) {
  PF_CHECK(chip.tdp.value() > 0, "chip {} has no TDP", chip.name);
  ChipEnergyModel m;
  m.node = node;
  m.hbm_byte = memory.energy_per_bit;
  m.link_byte = link_byte.value() > 0 ? link_byte : node.serdes_byte;
  const auto& mu = chip.matrix_unit;
  if (mu.m > 0 && mu.n > 0 && mu.k > 0) {
    // bf16 operands A (m×k) and B (k×n) per m·n·k MACs = 2·m·n·k FLOPs (design.cc).
    m.operand_bytes_per_flop = (double(mu.m) * mu.k + double(mu.k) * mu.n) / (double(mu.m) * mu.n * mu.k);
  }
  m.tdp = chip.tdp;
  m.static_power = StaticPowerOf(chip, node.static_fraction);
  return m;
}

namespace {

// The activity's dynamic energy at the nominal clock (leakage left at 0).
EnergyBreakdown DynamicEnergy(const Activity& a, const ChipEnergyModel& m) {
  EnergyBreakdown e;
  Flops total_flops;
  for (DType t : kAllDTypes) {
    e.compute += a[t] * m.node.Flop(t);
    total_flops += a[t];
  }
  e.compute += Bytes(total_flops.value() * m.operand_bytes_per_flop) * m.node.register_byte;
  e.compute *= m.node.datapath_scale;
  e.sram = a.sram * m.node.sram_byte;
  e.hbm = a.hbm * (m.hbm_byte + m.node.hbm_path_byte);
  e.d2d = a.d2d * m.node.d2d_byte;
  e.link = a.link * m.link_byte;
  e.uncore = (e.compute + e.sram) * m.node.uncore_fraction;
  return e;
}

void ScaleDynamic(EnergyBreakdown& e, double s) {
  e.compute *= s;
  e.sram *= s;
  e.hbm *= s;
  e.d2d *= s;
  e.link *= s;
  e.uncore *= s;
}

}  // namespace

PowerResult Evaluate(const Activity& a, const ChipEnergyModel& m, Hertz nominal_clock) {
  PowerResult r;
  EnergyBreakdown e = DynamicEnergy(a, m);
  const Joules dynamic = e.compute + e.sram + e.hbm + e.d2d + e.link + e.uncore;
  r.duration = a.duration;
  r.clock = nominal_clock;
  if (a.duration.value() > 0) {
    const Watts p_dyn = dynamic / a.duration;
    if (p_dyn + m.static_power > m.tdp) {
      r.throttled = true;
      if (m.tdp <= m.static_power) {
        r.feasible = false;
        r.note = fmt::format("static power {} alone reaches the TDP {}", ToString(m.static_power), ToString(m.tdp));
      } else {
        // P_dyn(r) = P_dyn0 · r³ (V ∝ f) must equal TDP − static.
        r.clock_ratio = std::cbrt((m.tdp - m.static_power) / p_dyn);
        r.duration = a.duration / r.clock_ratio;
        r.clock = nominal_clock * r.clock_ratio;
        ScaleDynamic(e, r.clock_ratio * r.clock_ratio);
        r.note = fmt::format("modelled power {} exceeds TDP {}: clock throttled to {} ({:.1f} %), duration × {:.3f}",
                             ToString(p_dyn + m.static_power), ToString(m.tdp), ToString(r.clock), r.clock_ratio * 100,
                             1.0 / r.clock_ratio);
      }
    }
  }
  e.leakage = m.static_power * r.duration;
  r.energy = e;
  r.average = r.duration.value() > 0 ? e.Total() / r.duration : Watts{};
  return r;
}

double Utilization(const Activity& a, const TdpModel& m) {
  PF_CHECK(a.duration.value() > 0, "utilization over a zero duration");
  Seconds t_flops;
  for (DType t : kAllDTypes) {
    if (a[t].value() <= 0) continue;
    FlopsPerSec peak = m.peak[t];
    if (t == DType::kFp32 && m.vector_fp32.value() > 0 && peak.value() <= 0) peak = m.vector_fp32;
    if (peak.value() <= 0) peak = m.peak[DType::kBf16];
    if (peak.value() > 0) t_flops += a[t] / peak;
  }
  const Seconds t_hbm = m.hbm_bandwidth.value() > 0 ? a.hbm / m.hbm_bandwidth : Seconds(0);
  return std::min(1.0, Max(t_flops, t_hbm) / a.duration);
}

PowerResult Evaluate(const Activity& a, const ChipPowerModel& m, Hertz nominal_clock) {
  if (m.method == ChipPowerModel::Method::kActivity) return Evaluate(a, m.energy, nominal_clock);
  PowerResult r;
  r.duration = a.duration;
  r.clock = nominal_clock;
  if (a.duration.value() <= 0) return r;
  const double u = Utilization(a, m.tdp);
  r.energy.compute = (m.tdp.tdp - m.tdp.static_power) * u * a.duration;
  r.energy.leakage = m.tdp.static_power * a.duration;
  r.average = r.energy.Total() / a.duration;
  return r;
}

PowerResult EvaluateOver(const Activity& busy, const ChipPowerModel& m, Hertz nominal_clock, Seconds span) {
  PF_CHECK(span.value() >= busy.duration.value() * (1 - 1e-12), "span {} shorter than the busy time {}", ToString(span),
           ToString(busy.duration));
  PowerResult r = Evaluate(busy, m, nominal_clock);
  const Seconds idle = Max(Seconds(0), span - busy.duration);
  r.energy.leakage += m.StaticPower() * idle;
  r.duration += idle;
  r.average = r.duration.value() > 0 ? r.energy.Total() / r.duration : Watts{};
  return r;
}

ClusterPower Cluster(long chips, Watts chip_power, const ServerPower& server, double pue) {
  PF_CHECK(chips >= 0 && server.chips_per_server > 0, "bad cluster size");
  PF_CHECK(pue >= 1.0, "PUE {} < 1", pue);
  PF_CHECK(server.conversion_efficiency > 0 && server.conversion_efficiency <= 1, "bad conversion efficiency");
  ClusterPower c;
  c.chips = chips;
  c.servers = (chips + server.chips_per_server - 1) / server.chips_per_server;
  c.chips_power = chip_power * double(chips);
  const Watts host = (server.host_cpus + server.nics + server.other) * double(c.servers);
  c.it_power = (c.chips_power + host) / server.conversion_efficiency;
  c.facility_power = c.it_power * pue;
  return c;
}

RunEnergy EnergyOfCappedRun(const std::function<RunAt(double)>& at, const ChipPowerModel& m, Hertz nominal_clock,
                            long chips, const ServerPower& server, double pue, double tokens, double* ratio) {
  *ratio = 1;
  const RunAt nominal = at(1.0);
  RunEnergy e = EnergyOfRun(nominal.busy, m, nominal_clock, nominal.span, chips, server, pue, tokens);
  if (!e.chip.throttled || !e.chip.feasible || m.method != ChipPowerModel::Method::kActivity) return e;
  const ChipEnergyModel& em = m.energy;
  // Average power over the busy time of the run re-simulated at clock ratio r: dynamic
  // energy · r² (V ∝ f) plus static power. The idle rest of the span is left out: it lends
  // the busy time no headroom (header). Increasing in r; Evaluate's ratio (every second of
  // the busy time stretched by 1/r) is an upper bound, since re-simulated memory-bound work
  // does not stretch.
  auto busy_time = [](const RunAt& x) { return x.busy.duration.value() > 0 ? x.busy.duration : x.span; };
  auto power_at = [&](double r, RunAt* run) {
    *run = at(r);
    const EnergyBreakdown d = DynamicEnergy(run->busy, em);
    const Joules dyn = (d.compute + d.sram + d.hbm + d.d2d + d.link + d.uncore) * (r * r);
    return (dyn + em.static_power * busy_time(*run)) / busy_time(*run);
  };
  double hi = e.chip.clock_ratio, lo = hi * hi;
  RunAt run, run_lo;  // the last evaluation, and the run at lo (kept: it is the answer)
  const double cap = em.tdp.value();
  double f_hi = power_at(hi, &run).value() - cap;
  if (f_hi <= 0) {
    lo = hi;
    run_lo = run;
  } else {
    double f_lo = power_at(lo, &run_lo).value() - cap;
    for (int i = 0; i < 14 && f_lo > 0; ++i) {
      hi = lo;
      f_hi = f_lo;
      lo *= 0.5;
      f_lo = power_at(lo, &run_lo).value() - cap;
    }
    // Regula falsi with the Illinois step (the side that stays has its excess halved), on the
    // bracket lo (within the TDP) .. hi (over it), to 2^-14 of the bracket or 10^-4 of the TDP
    // below it: each step re-simulates the run, and a secant through a power curve this
    // smooth needs a handful where halving the bracket needed fourteen.
    const double tol = (hi - lo) / 16384.0;
    int last = 0;  // the end moved last: +1 lo, -1 hi
    for (int i = 0; i < 40 && hi - lo > tol && f_lo < -1e-4 * cap; ++i) {
      double mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo);
      if (!(mid > lo && mid < hi)) mid = 0.5 * (lo + hi);
      const double f_mid = power_at(mid, &run).value() - cap;
      if (f_mid <= 0) {
        lo = mid;
        f_lo = f_mid;
        run_lo = run;
        if (last == 1) f_hi *= 0.5;  // hi stayed twice
        last = 1;
      } else {
        hi = mid;
        f_hi = f_mid;
        if (last == -1) f_lo *= 0.5;  // lo stayed twice
        last = -1;
      }
    }
  }
  *ratio = lo;
  run = run_lo;
  EnergyBreakdown d = DynamicEnergy(run.busy, em);
  const Watts p_nominal =
      (DynamicEnergy(nominal.busy, em).Total() + em.static_power * busy_time(nominal)) / busy_time(nominal);
  ScaleDynamic(d, lo * lo);
  d.leakage = em.static_power * run.span;
  RunEnergy out;
  out.chip.energy = d;
  out.chip.duration = run.span;
  out.chip.average = d.Total() / run.span;
  out.chip.throttled = true;
  out.chip.clock_ratio = lo;
  out.chip.clock = nominal_clock * lo;
  out.chip.note = fmt::format(
      "modelled power {} at the nominal clock exceeds TDP {}{}: clock throttled to {} ({:.1f} %), the run "
      "re-simulated at that clock takes {} instead of {}",
      ToString(p_nominal), ToString(em.tdp),
      nominal.busy.duration.value() < nominal.span.value() * (1 - 1e-9)
          ? fmt::format(" over its busy {} of {}", ToString(nominal.busy.duration), ToString(nominal.span))
          : "",
      ToString(out.chip.clock), lo * 100, ToString(run.span), ToString(nominal.span));
  out.cluster = Cluster(chips, out.chip.average, server, pue);
  out.duration = run.span;
  out.chips_energy = out.cluster.chips_power * out.duration;
  out.it_energy = out.cluster.it_power * out.duration;
  out.facility_energy = out.cluster.facility_power * out.duration;
  out.tokens = tokens;
  return out;
}

RunEnergy EnergyOfRun(const Activity& busy, const ChipPowerModel& m, Hertz nominal_clock, Seconds span, long chips,
                      const ServerPower& server, double pue, double tokens) {
  RunEnergy e;
  e.chip = EvaluateOver(busy, m, nominal_clock, span);
  e.cluster = Cluster(chips, e.chip.average, server, pue);
  e.duration = e.chip.duration;
  e.chips_energy = e.cluster.chips_power * e.duration;
  e.it_energy = e.cluster.it_power * e.duration;
  e.facility_energy = e.cluster.facility_power * e.duration;
  e.tokens = tokens;
  return e;
}

}  // namespace pf::power
