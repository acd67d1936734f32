// The power model of a chip from the energy data, with the TDP-based fallback, and the
// activities of a training step and a serving run (see chip_energy.h for the node table).
#include "pathfinder/spec/chip_energy.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <utility>

#include "pathfinder/core/strings.h"
#include "pathfinder/core/units_parse.h"
#include "pathfinder/ops/clock.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/schema.h"
#include "pathfinder/spec/tech_spec.h"

namespace pf::spec {
namespace {

// The table of chip_energy.h, lower case.
struct NodeRow {
  const char* token;
  const char* node;
};
constexpr NodeRow kNodeTable[] = {
    {"4n", "tsmc-n4"},   {"4np", "tsmc-n4p"}, {"n4", "tsmc-n4"},   {"n4p", "tsmc-n4p"},   {"n5", "tsmc-n5"},
    {"5nm", "tsmc-n5"},  {"n3e", "tsmc-n3e"}, {"n3p", "tsmc-n3e"}, {"n3", "tsmc-n3"},    {"n3b", "tsmc-n3"},
    {"n7", "tsmc-n7"},   {"7nm", "tsmc-n7"},  {"n6", "tsmc-n7"},   {"n2", "tsmc-n2"},    {"n2p", "tsmc-n2p"},
    {"a16", "tsmc-a16"},
};

std::vector<std::string> Tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// "NVLink 4 (H800, reduced)" → "nvlink4": lower case, letters and digits, up to a '('.
std::string LinkKey(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '(') break;
    if (std::isalnum(static_cast<unsigned char>(c))) out += char(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

double PicoJoulesPerBit(JoulesPerByte e) { return e.value() / 8.0 * 1e12; }

// How the static power was set: "30 % of 700 W TDP", or a designed chip's own leakage.
std::string StaticText(const hw::Chip& c, double fraction) {
  if (c.static_power.value() > 0) return fmt::format("{} (the design's leakage estimate)", ToString(c.static_power, 3));
  return fmt::format("{:.0f} % of {} TDP", fraction * 100, ToString(c.tdp, 3));
}

bool EnergyFileExists(const std::string& node) {
  return std::filesystem::exists(DataDir() + "/energy/" + node + ".yaml");
}

// data/energy/chip-power.yaml for a chip whose preset states no TDP.
std::optional<Watts> TdpFromFile(const std::string& chip, Diagnostics& diag) {
  const std::string path = DataDir() + "/energy/chip-power.yaml";
  auto root = LoadYamlFile(path, diag);
  if (!root) return std::nullopt;
  LoadContext ctx{path, "", &diag, nullptr};
  const YAML::Node table = (*root)["tdp"];
  if (!table || !table.IsMap() || !table[chip]) {
    diag.Error({path, 0, 0}, "tdp",
               fmt::format("chip '{}' states no tdp and data/energy/chip-power.yaml has none; add one to either", chip));
    return std::nullopt;
  }
  YAML::Node v = UnwrapSourced(table[chip], "tdp." + chip, ctx);
  auto r = ParseQuantity<Watts>(v.IsScalar() ? ScalarText(v) : "");
  if (!r.ok() || r.value().value() <= 0) {
    ctx.Error(v, "tdp." + chip, r.ok() ? "must be > 0" : r.error());
    return std::nullopt;
  }
  return r.value();
}

// The scale-up link's energy per byte from its preset, or 0 (MakeEnergyModel then takes
// the node's SerDes default); `what` says which.
JoulesPerByte LinkEnergy(const hw::Chip& chip, std::string* what) {
  const std::string key = LinkKey(chip.scale_up.name);
  if (!key.empty()) {
    for (const std::string& name : ListPresets(PresetKind::kLink)) {
      if (LinkKey(name) != key) continue;
      Diagnostics scratch;
      auto l = LoadLinkPreset(name, scratch);
      if (l && l->energy_per_bit.value() > 0) {
        *what = "link preset " + name;
        return l->energy_per_bit;
      }
      *what = fmt::format("SerDes default; link preset {} gives no energy", name);
      return JoulesPerByte{};
    }
  }
  *what = chip.scale_up.name.empty() ? "SerDes default; no scale-up link" : "SerDes default; no link preset for '" + chip.scale_up.name + "'";
  return JoulesPerByte{};
}

}  // namespace

std::string EnergyNodeOf(const std::string& process_node) {
  const std::string text = ToLower(process_node);
  if (text.empty()) return "";
  // A node preset id, as designs write it.
  if (text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos &&
      std::filesystem::exists(DataDir() + "/nodes/" + text + ".yaml")) {
    return EnergyFileExists(text) ? text : "";
  }
  // The compute die of a chiplet part.
  std::string die = text;
  if (text.find('+') != std::string::npos) {
    size_t b = 0;
    std::string first;
    while (b <= text.size()) {
      const size_t e = text.find('+', b);
      const std::string part = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
      if (first.empty()) first = part;
      if (part.find("xcd") != std::string::npos) {
        first = part;
        break;
      }
      if (e == std::string::npos) break;
      b = e + 1;
    }
    die = first;
  }
  const std::vector<std::string> tokens = Tokens(die);
  for (const std::string& t : tokens) {
    if (t == "samsung" || t == "intel" || t == "gf" || t == "globalfoundries") return "";
  }
  for (const std::string& t : tokens) {
    for (const NodeRow& row : kNodeTable) {
      if (t == row.token) return row.node;
    }
  }
  return "";
}

std::optional<power::ChipPowerModel> ChipPowerModelFor(const hw::Chip& chip, Diagnostics& diag) {
  hw::Chip c = chip;
  std::string tdp_note;
  if (c.tdp.value() <= 0) {
    auto t = TdpFromFile(c.name, diag);
    if (!t) return std::nullopt;
    c.tdp = *t;
    tdp_note = fmt::format("; TDP {} is an estimate (data/energy/chip-power.yaml)", ToString(c.tdp, 3));
  }

  std::string why;  // why the activity-based model cannot be built
  const std::string node = EnergyNodeOf(c.process_node);
  if (c.process_node.empty()) {
    why = "no process node stated";
  } else if (node.empty()) {
    why = fmt::format("no energy data for node '{}'", c.process_node);
  }
  std::optional<hw::NodeEnergy> energy;
  hw::MemoryTech memory;
  if (why.empty()) {
    auto preset = LoadNodePreset(node, diag);
    if (!preset) return std::nullopt;
    energy = LoadNodeEnergy(*preset, diag);
    if (!energy) return std::nullopt;
    if (c.hbm.generation.empty()) {
      why = "no memory generation stated";
    } else {
      Diagnostics scratch;  // a generation without access energy is a fallback, not an error
      auto m = LoadMemoryPreset(ToLower(c.hbm.generation), scratch);
      if (!m || !FillMemoryEnergy(*m, scratch)) {
        why = fmt::format("no access energy for memory '{}'", c.hbm.generation);
      } else {
        memory = *m;
      }
    }
  }

  power::ChipPowerModel m;
  if (!why.empty()) {
    m.method = power::ChipPowerModel::Method::kTdp;
    m.tdp.tdp = c.tdp;
    m.tdp.static_power = power::StaticPowerOf(c, kTdpStaticFraction);
    m.tdp.peak = c.peak;
    m.tdp.vector_fp32 = c.vector_fp32;
    m.tdp.hbm_bandwidth = c.hbm.bandwidth;
    m.basis = fmt::format("TDP-based estimate: {}; P = static {} + utilisation x the rest of the {} TDP{}", why,
                          StaticText(c, kTdpStaticFraction), ToString(c.tdp, 3), tdp_note);
    return m;
  }
  std::string link_what;
  const JoulesPerByte link = LinkEnergy(c, &link_what);
  m.method = power::ChipPowerModel::Method::kActivity;
  m.energy = power::MakeEnergyModel(c, *energy, memory, link);
  m.basis = fmt::format("activity-based: {} energy ('{}'), {} {:.3g} pJ/bit, link {:.3g} pJ/bit ({}), static {}{}",
                        node, c.process_node, memory.name, PicoJoulesPerBit(m.energy.hbm_byte),
                        PicoJoulesPerBit(m.energy.link_byte), link_what, StaticText(c, energy->static_fraction), tdp_note);
  return m;
}

power::ServerPower ServerFor(const EconAssumptions& a, int chips_per_server) {
  power::ServerPower s = a.server;
  const int n = chips_per_server > 0 ? chips_per_server : a.server.chips_per_server;
  const double share = double(n) / double(a.server.chips_per_server);
  s.chips_per_server = n;
  s.host_cpus *= share;
  s.nics *= share;
  s.other *= share;
  return s;
}

power::Activity TrainStepActivity(const std::vector<train::OpActivity>& ops, DType matmul, Seconds step, Bytes link) {
  power::Activity a;
  for (const train::OpActivity& op : ops) {
    const DType t = op.kind == graph::OpKind::kMatmul      ? matmul
                    : op.kind == graph::OpKind::kAttention ? DType::kBf16
                                                           : DType::kFp32;
    a[t] += op.flops;
    a.hbm += op.bytes;
  }
  a.link = link;
  a.duration = step;
  return a;
}

power::Activity ServeActivity(const serve::ChipWork& work, Seconds busy) {
  power::Activity a;
  for (DType t : kAllDTypes) a[t] = work.flops[static_cast<size_t>(t)];
  a.hbm = work.hbm;
  a.link = work.link;
  a.duration = busy;
  return a;
}

power::Activity ServeRunActivity(const ServeRun& run, int replicas, Seconds* span) {
  const double n = double(std::max(1, replicas));
  const Seconds busy(run.res.busy_seconds / n);
  *span = Max(Seconds(run.sum.span), busy);
  return ServeActivity(run.res.work * (1.0 / n), busy);
}

power::RunEnergy CapServeRun(ServeRun& run, const std::function<ServeRun(double)>& run_at, int replicas, long chips,
                             const power::ChipPowerModel& m, Hertz clock, const power::ServerPower& server, double pue,
                             double* ratio) {
  const ServeRun nominal = run;
  // The runs the solve simulated, by clock ratio: its answer is one of them, so the run at
  // that ratio is taken from here rather than simulated again.
  std::vector<std::pair<double, ServeRun>> simulated;
  auto at = [&](double r) {
    power::RunAt x;
    if (r >= 1) {
      x.busy = ServeRunActivity(nominal, replicas, &x.span);
    } else {
      simulated.emplace_back(r, run_at(r));
      x.busy = ServeRunActivity(simulated.back().second, replicas, &x.span);
    }
    return x;
  };
  *ratio = 1;
  power::RunEnergy e = power::EnergyOfCappedRun(at, m, clock, chips, server, pue,
                                                nominal.sum.output_tokens_per_s * nominal.sum.span, ratio);
  if (*ratio < 1) {
    auto it = std::find_if(simulated.begin(), simulated.end(), [&](const auto& x) { return x.first == *ratio; });
    run = it != simulated.end() ? std::move(it->second) : run_at(*ratio);
    e.tokens = run.sum.output_tokens_per_s * run.sum.span;
  }
  return e;
}

power::RunEnergy CapTrainStep(train::TrainResult& r,
                              const std::function<train::TrainResult(const ops::OpModel&)>& simulate,
                              const hw::Chip& chip, const ops::Ceilings& ceilings, const power::ChipPowerModel& m,
                              DType matmul, const power::ServerPower& server, double pue, double* ratio) {
  const train::TrainResult nominal = r;
  auto step_at = [&](double x) {
    if (x >= 1) return nominal;
    const ops::ClockedChip c = ops::AtClockRatio(chip, ceilings, x);
    return simulate(ops::OpModel(c.chip, c.ceilings));
  };
  // The power cap holds the step's compute to the TDP, not the whole step: the pipeline's
  // fill and drain and the exposed data-parallel sync after the backward are spans of their
  // own at the step's ends, each typically longer than the tens of milliseconds a board's
  // limiter averages over (data/measurements/README.md: an H100 4096³ GEMM held its burst
  // rate for ~30 ms, then dropped to the capped one), so their idle time lends the compute no
  // headroom. Exposed TP, CP, EP, PP and FSDP waits come in pieces between the kernels and
  // count as busy. The data-parallel part of the cost beside collectives is compute, not idle.
  auto at = [&](double x) {
    const train::TrainResult s = step_at(x);
    const Seconds busy = Max(Seconds(0), s.step.total - s.step.IdleEnds());
    return power::RunAt{TrainStepActivity(s.activity, matmul, busy, s.link_sent), s.step.total};
  };
  *ratio = 1;
  power::RunEnergy e = power::EnergyOfCappedRun(at, m, chip.clock, r.chips, server, pue, r.tokens_per_step, ratio);
  if (*ratio < 1) {
    r = step_at(*ratio);
    r.mfu *= *ratio;
    r.hfu *= *ratio;
  }
  return e;
}

}  // namespace pf::spec
