// spec/catalog: the presets of every kind in one place — a summary table per kind for
// `pathfinder presets`, and the explained fields of one preset for `pathfinder explain`.
// How to add a preset kind: a folder in data/, a PresetKind in file.h, a loader module,
// and one entry in catalog.cc's kKinds table.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/spec/explain.h"
#include "pathfinder/spec/file.h"

namespace pf::spec {

struct PresetTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// The kinds `pathfinder presets` knows, by folder name: chips, models, memory, nodes, links, packaging.
std::vector<std::string> CatalogKindNames();
std::optional<PresetKind> CatalogKind(const std::string& folder_name);

// One row per preset; a preset that fails to load is reported in `diag`.
PresetTable ListPresetTable(PresetKind kind, Diagnostics& diag);

// The explained fields of preset `name`, searching every kind; nullopt + a diagnostic
// ("unknown preset 'x'; did you mean 'y'?") if no kind has it.
struct ExplainedPreset {
  PresetKind kind;
  std::string name;
  std::vector<ExplainRow> rows;
};
std::optional<ExplainedPreset> ExplainPresetByName(const std::string& name, Diagnostics& diag);

// The field table of a preset kind (every key its files may hold), for docs.
std::vector<FieldDoc> DescribeKind(PresetKind kind);

}  // namespace pf::spec
