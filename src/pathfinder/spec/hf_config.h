// spec/hf_config: import of a Hugging Face transformers `config.json` into a
// model::Architecture, for model_type llama, mistral, mixtral, qwen2, qwen3, qwen3_moe,
// deepseek_v3 and gpt_oss. Keys are read as the transformers configuration classes define
// them (including their defaults); keys that do not change the shape (rope scaling, token
// ids, dtypes) are ignored; settings that change the shape in ways Architecture cannot
// express (e.g. Qwen's use_sliding_window, decoder_sparse_step ≠ 1) are errors, never
// silently dropped.
//
// How to add a model_type: add a function beside ImportLlamaLike/ImportDeepSeekV3 in
// hf_config.cc, one line in the table kImporters, a config under data/models/hf/ and
// its preset-equality test in hf_config_test.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/diag.h"
#include "pathfinder/model/architecture.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

// The model_type values ImportHfConfig accepts, sorted.
const std::vector<std::string>& SupportedHfModelTypes();

// Reads and imports the config.json at `path`. Problems are diagnostics naming the file,
// line:col (of the key, where the key appears in the text) and the JSON key. Provenance,
// when given, records for each field set "<path>: <json key>" under key_path.<field>.
// The model's name is the config's folder name (data/models/hf/<name>/config.json).
// The result has model::ResolveDefaults applied but is not validated.
std::optional<model::Architecture> ImportHfConfig(const std::string& path, Diagnostics& diag,
                                                  ProvenanceMap* provenance = nullptr, const std::string& key_path = "");

// The same, from JSON text already read; `file` names it in diagnostics, `name` becomes
// Architecture::name.
std::optional<model::Architecture> ParseHfConfig(const std::string& json_text, const std::string& file, const std::string& name,
                                                 Diagnostics& diag, ProvenanceMap* provenance = nullptr,
                                                 const std::string& key_path = "");

}  // namespace pf::spec
