// spec/design_spec: the field table of a chip design file (`design:` section, plus an
// optional `econ:` section overriding data/econ/defaults.yaml) and its loader, which also
// resolves the technologies the design names (node, memory, packaging, links) into an
// hw::DesignTech ready for hw::DeriveChip.
//
//   design:
//     name: my-2nm-chip
//     node: tsmc-n2
//     packaging: cowos-l
//     compute_dies: 2
//     cores_per_die: 64
//     matrix: {per_core: 4, m: 32, n: 32, k: 16, dtypes: {bf16: 1, fp8: 2, fp4: 4}}
//     vector_lanes_per_core: 128
//     clock: 1.8 GHz
//     sram: [{name: l1, per_core: 512 KB}, {name: l2, per_die: 64 MB}]
//     hbm: {generation: hbm4, stacks: 8}
//     scale_up: {name: NVLink-class, lanes: 72, lane_rate: 200 Gb/s, link: nvlink-5}
#pragma once

#include <optional>
#include <string>

#include "pathfinder/econ/econ.h"
#include "pathfinder/hw/design.h"
#include "pathfinder/power/power.h"
#include "pathfinder/spec/econ_spec.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

const Schema<hw::ChipDesign>& DesignSchema();

struct DesignFile {
  hw::ChipDesign design;
  hw::DesignTech tech;
  EconAssumptions econ;
};

// Loads a design file (or a name in data/designs/ when `path_or_name` has no '/' and no
// ".yaml"), validates it and resolves its technologies. nullopt after recording problems.
std::optional<DesignFile> LoadDesign(const std::string& path_or_name, Diagnostics& diag);

// Parses design YAML text already read (`name` is used in diagnostics).
std::optional<DesignFile> LoadDesignText(const std::string& text, const std::string& name, Diagnostics& diag);

// The economics of a derived design under its file's assumptions: cost per chip with its
// breakdown, one server's power, and TCO. A custom chip is bought at build cost (no vendor
// margin, NRE excluded). nullopt (with a diagnostic) when a wafer price is missing.
struct DesignEconomics {
  econ::ChipCost cost;
  econ::Tco tco;
  power::ClusterPower server;  // one full server
};
std::optional<DesignEconomics> CostDesign(const DesignFile& f, const hw::DerivedChip& c, Diagnostics& diag);

}  // namespace pf::spec
