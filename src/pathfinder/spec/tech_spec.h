// spec/tech_spec: the field tables of the technology presets — memory generations
// (data/memory/), process nodes (data/nodes/), interconnects (data/links/) and packaging
// (data/packaging/) — and their loaders. Each preset file has `name:` equal to its file
// stem and a top-level `source:` that is the provenance of every value without its own.
#pragma once

#include <optional>
#include <string>

#include "pathfinder/hw/tech.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

// Field tables, for loading and for `pathfinder explain`.
const Schema<hw::MemoryTech>& MemoryTechSchema();
const Schema<hw::ProcessNode>& ProcessNodeSchema();
const Schema<hw::Interconnect>& InterconnectSchema();
const Schema<hw::Packaging>& PackagingSchema();

// Load data/<kind>/<name>.yaml. Every problem (unknown preset, bad value, missing name,
// failed Validate) is recorded in `diag`; nullopt if there was any.
std::optional<hw::MemoryTech> LoadMemoryPreset(const std::string& name, Diagnostics& diag,
                                               ProvenanceMap* provenance = nullptr);
std::optional<hw::ProcessNode> LoadNodePreset(const std::string& name, Diagnostics& diag,
                                              ProvenanceMap* provenance = nullptr);
std::optional<hw::Interconnect> LoadLinkPreset(const std::string& name, Diagnostics& diag,
                                               ProvenanceMap* provenance = nullptr);
std::optional<hw::Packaging> LoadPackagingPreset(const std::string& name, Diagnostics& diag,
                                                 ProvenanceMap* provenance = nullptr);

// "scale-up", "scale-out", ... as written in data/links/.
std::string LinkCategoryName(hw::LinkCategory c);

}  // namespace pf::spec
