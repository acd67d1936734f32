// spec/cluster_spec: the field table of hw::Cluster and loading cluster presets
// (data/clusters/*.yaml) and `cluster:` sections of scenarios (a preset plus overrides, or
// every field inline). A cluster names its chip preset (in a scenario, also a chip section
// such as `chip: {design: file}`); the network numbers live in the cluster file, each with
// its source.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/hw/chip.h"
#include "pathfinder/hw/cluster.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

const Schema<hw::Cluster>& ClusterSchema();

// Names of the presets in data/clusters/, sorted.
std::vector<std::string> ListClusterPresets();

// Loads data/clusters/<name>.yaml. Problems are recorded in `diag`; nullopt if any.
std::optional<hw::Cluster> LoadClusterPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance = nullptr);

// A `cluster:` section: a preset name, or a map with `preset:` and overrides, or every field.
// With `section_chip`, the section's `chip:` may also be a chip section (`{design: file}`,
// `{preset: name, <overrides>}`, see LoadChipSection): the chip is loaded into
// *section_chip and the cluster's `chip` is its name. Without it, only a preset name.
std::optional<hw::Cluster> LoadClusterSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path,
                                              std::optional<hw::Chip>* section_chip = nullptr);

// A preset name or a path to a cluster YAML file (anything ending in .yaml/.yml/.json).
std::optional<hw::Cluster> LoadClusterByName(const std::string& name_or_path, Diagnostics& diag);

}  // namespace pf::spec
