// spec/file: reading a scenario, preset or config file safely. Every failure — missing,
// unreadable, over the size limit, binary, empty, not valid YAML/JSON — becomes a
// diagnostic naming the file (and line and column where the parser gives them).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/diag.h"

namespace pf::spec {

// Input files larger than this are refused (scenarios and presets are a few KB; a file
// this big is almost certainly the wrong file).
inline constexpr size_t kMaxInputFileBytes = 4 * 1024 * 1024;

// The 1-based line and column of byte `offset` in `text` (for parsers that report offsets).
SourceLocation LocationOfOffset(const std::string& file, const std::string& text, size_t offset);

// Reads a text file: checks existence, size, and that it is text (no NUL bytes, valid
// UTF-8). Returns nullopt after recording a diagnostic.
std::optional<std::string> ReadTextFile(const std::string& path, Diagnostics& diag);

// Reads and parses a YAML (or JSON) file into a node; the top level must be a map.
std::optional<YAML::Node> LoadYamlFile(const std::string& path, Diagnostics& diag);

// Parses YAML text already read; `name` is used in diagnostics.
std::optional<YAML::Node> ParseYaml(const std::string& text, const std::string& name, Diagnostics& diag);

// The data folder: $PATHFINDER_DATA if set, else the source tree's data/ (compiled in).
std::string DataDir();

// Preset kinds, each a folder of data/ holding one <name>.yaml per preset.
enum class PresetKind { kChip, kModel, kMemory, kNode, kLink, kPackaging, kCalibration };
std::string PresetFolder(PresetKind kind);  // "chips", "models", "memory", ...
std::string PresetKindName(PresetKind kind);  // "chip", "model", ...

// Names (file stems) of the presets of a kind, sorted.
std::vector<std::string> ListPresets(PresetKind kind);

// The path of a preset file, or nullopt after recording "unknown <kind> preset 'x'; did
// you mean 'y'?" against `where`/`key_path`.
std::optional<std::string> FindPreset(PresetKind kind, const std::string& name, Diagnostics& diag,
                                      const SourceLocation& where, const std::string& key_path);

}  // namespace pf::spec
