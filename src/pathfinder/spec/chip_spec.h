// spec/chip_spec: the field table of hw::Chip, loading chip presets (data/chips/*.yaml)
// and `chip:` sections of scenarios (a preset plus overrides, a chip derived from a design
// file plus overrides, or a full inline chip), and resolving the hardware names used in
// results tables to presets through their aliases.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/hw/chip.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

const Schema<hw::Chip>& ChipSchema();

// Loads data/chips/<name>.yaml. Problems are recorded in `diag`; nullopt if any.
std::optional<hw::Chip> LoadChipPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance = nullptr);

// Loads a scenario's chip section: either a preset name (`chip: h100-sxm`) or a map
// (`chip: {preset: h100-sxm, hbm: {capacity: 96 GB}}`, or every field inline), or a chip
// derived from a design (`chip: {design: ../examples/design-2nm-inference.yaml}`: a path
// relative to ctx.file's folder, or a name in data/designs/): spec::LoadDesign, then
// hw::DeriveChip, then the section's other keys override fields as they do a preset's.
// `design` and `preset` are exclusive. Errors inside a design file carry that file's name
// and line. Overrides are recorded in `provenance` with the scenario file as their source;
// derived values with the design file as theirs, marked estimates.
std::optional<hw::Chip> LoadChipSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path);

// The design file a chip section derives its chip from, resolved as LoadChipSection does
// (relative to `file`'s folder; data/designs/<name>.yaml for a bare name); "" when the
// section names no design.
std::string ChipDesignPath(const YAML::Node& section, const std::string& file);

// A hardware cell such as "8x NVIDIA H100 SXM (DGX H100, 8x400Gb/s)" → preset name
// ("h100-sxm") and the leading count (8). The text before the first " (" is matched,
// after removing a leading "<N>x ", against each preset's name, display name and aliases
// (case-insensitive, exact).
struct ResolvedHardware {
  std::string preset;
  int count = 1;
};
std::optional<ResolvedHardware> ResolveChipName(const std::string& hardware_text);

}  // namespace pf::spec
