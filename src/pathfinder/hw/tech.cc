// Cross-field checks of the technology presets (memory, process node, link, packaging).
#include "pathfinder/hw/tech.h"

#include <fmt/core.h>

#include <cmath>

namespace pf::hw {
namespace {

// Two figures that should agree (a per-pin rate times the width against the stated stack
// bandwidth; per-link times links against the per-chip figure) may differ by rounding and
// by payload-vs-raw conventions. Sources differ by up to ~10% (TPU ICI per-link payload
// rates vs GCP per-chip figures, see data/links/ici-v5p.yaml); further apart is a typo.
constexpr double kAgreementTolerance = 0.15;

bool Disagree(double stated, double implied) {
  return stated > 0 && implied > 0 && std::fabs(stated - implied) > kAgreementTolerance * implied;
}

}  // namespace

std::vector<Problem> Validate(const MemoryTech& m) {
  std::vector<Problem> out;
  if (m.name.empty()) out.push_back({"name", "a memory technology needs a name"});
  const double implied = m.pin_rate.value() * m.interface_width;
  if (Disagree(m.stack_bandwidth.value(), implied)) {
    out.push_back({"stack_bandwidth",
                   fmt::format("{} does not match pin_rate × interface_width = {} (more than {:.0f}% apart)",
                               ToString(m.stack_bandwidth), ToString(BytesPerSec(implied)), kAgreementTolerance * 100)});
  }
  return out;
}

std::vector<Problem> Validate(const ProcessNode& n) {
  std::vector<Problem> out;
  if (n.name.empty()) out.push_back({"name", "a process node needs a name"});
  const bool has_gain = n.perf_gain_pct != 0 || n.power_reduction_pct != 0 || n.density_gain != 0;
  if (has_gain && n.baseline.empty()) {
    out.push_back({"baseline", "gains are given but not the node they compare with; add baseline: \"<node>\""});
  }
  return out;
}

std::vector<Problem> Validate(const Interconnect& l) {
  std::vector<Problem> out;
  if (l.name.empty()) out.push_back({"name", "an interconnect needs a name"});
  const double implied = l.per_link_bandwidth.value() * l.links_per_chip;
  if (Disagree(l.per_chip_bandwidth.value(), implied)) {
    out.push_back({"per_chip_bandwidth",
                   fmt::format("{} does not match per_link_bandwidth × links_per_chip = {} (more than {:.0f}% apart)",
                               ToString(l.per_chip_bandwidth), ToString(BytesPerSec(implied)), kAgreementTolerance * 100)});
  }
  return out;
}

std::vector<Problem> Validate(const Packaging& p) {
  std::vector<Problem> out;
  if (p.name.empty()) out.push_back({"name", "a packaging technology needs a name"});
  return out;
}

}  // namespace pf::hw
