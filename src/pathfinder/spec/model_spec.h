// spec/model_spec: loading a model architecture — from a preset in data/models/, a Hugging
// Face config.json, or written out inline — with every problem reported as a diagnostic.
//
// A model section takes one of three forms:
//   model: {preset: llama-3-70b, layers: 40}        # a preset, then the fields that differ
//   model: {hf_config: llama/config.json}           # a HF config.json (+ optional overrides)
//   model: {name: tiny, vocab: 32000, hidden: 512, layers: 4, heads: 8, ffn_hidden: 1376}
// A relative hf_config path is resolved against the folder of the file being loaded
// (the folder of ctx.file), or against `base_dir` when that is given. A preset file may
// itself start from another preset (`preset: llama-3-70b` in llama-3.3-70b.yaml).
//
// How to add a model preset: write data/models/<name>.yaml with `name: <name>` and a
// `source:`; the fields are ArchitectureSchema()'s (`pathfinder explain model` lists them).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "pathfinder/core/diag.h"
#include "pathfinder/model/architecture.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

// The field table of a model section (and of a data/models/*.yaml file): drives loading,
// `explain` and the docs. Keys `preset`, `hf_config` and `source` are handled by the loader.
const Schema<model::Architecture>& ArchitectureSchema();

// Loads one model section; returns nullopt when anything was wrong (all problems are in
// ctx.diag, each with file:line:col and key path under `key_path`). After loading, derived
// defaults are filled (model::ResolveDefaults) and model::Validate's problems are reported
// at the section's position. `base_dir` overrides the folder hf_config paths are relative to.
std::optional<model::Architecture> LoadModelSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path,
                                                    const std::string& base_dir = "");

// For the CLI (`pathfinder model llama-3-70b`, `pathfinder model path/config.json`): a name
// ending in .json is a HF config.json, one ending in .yaml/.yml or containing '/' a model
// file in the preset format, anything else a preset name.
std::optional<model::Architecture> LoadModelByName(const std::string& preset_name_or_config_path, Diagnostics& diag,
                                                   ProvenanceMap* provenance = nullptr);

}  // namespace pf::spec
