// spec/preset_section: the one way a scenario section names a preset and overrides it —
// `chip: h100-sxm`, `chip: {preset: h100-sxm, hbm: {capacity: 96 GB}}`, or every field
// inline — shared by every preset kind that appears in scenarios (chips, clusters).
// Layers are applied in order (preset file, then the section's own keys); required fields
// are checked after all layers; provenance of preset values is kept under the section's
// key path and overrides are attributed to the scenario file.
#pragma once

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pathfinder/spec/file.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

template <class T>
struct PresetSectionHooks {
  std::string kind;     // "chip", "cluster": used in messages
  std::string example;  // a preset name for messages, e.g. "h100-sxm"
  const Schema<T>* schema = nullptr;
  // Finds the preset file of `name`, or records "unknown … preset" and returns nullopt.
  std::function<std::optional<std::string>(const std::string& name, Diagnostics&, const SourceLocation&, const std::string& key)>
      find;
  // Loads a preset file (checked on its own), returning its root node in *root.
  std::function<std::optional<T>(const std::string& path, const std::string& name, Diagnostics&, ProvenanceMap*,
                                 YAML::Node* root)>
      load_file;
  // Reports required fields missing from every layer.
  std::function<void(const std::vector<YAML::Node>& layers, const YAML::Node& where, LoadContext&, const std::string& key)>
      check_required;
  // Reports cross-field problems of the assembled value.
  std::function<void(const T&, const YAML::Node& where, LoadContext&, const std::string& key)> report;
};

// Loads one preset file on its own: its top-level `source:` is the default provenance,
// required fields and cross-field rules are checked, and `name:` must equal the file stem
// `expect_name`. The file's root is returned in *root_out (for required-field checks over
// later override layers).
template <class T, class CheckRequired, class Report>
std::optional<T> LoadPresetFileWith(const std::string& path, const std::string& expect_name, Diagnostics& diag,
                                    ProvenanceMap* provenance, YAML::Node* root_out, const Schema<T>& schema,
                                    CheckRequired check_required, Report report) {
  const int before = diag.error_count();
  auto root = LoadYamlFile(path, diag);
  if (!root) return std::nullopt;
  LoadContext ctx{path, "", &diag, provenance};
  if ((*root)["source"] && (*root)["source"].IsScalar()) ctx.default_source = (*root)["source"].Scalar();
  T value{};
  schema.Load(*root, value, ctx, "");
  check_required(std::vector<YAML::Node>{*root}, *root, ctx, "");
  if (!expect_name.empty() && !value.name.empty() && value.name != expect_name) {
    ctx.Error((*root)["name"], "name", fmt::format("'{}' must equal the file name '{}'", value.name, expect_name));
  }
  if (diag.error_count() == before) report(value, *root, ctx, "");
  if (root_out) *root_out = *root;
  if (diag.error_count() != before) return std::nullopt;
  return value;
}

template <class T>
std::optional<T> LoadPresetSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path,
                                   const PresetSectionHooks<T>& h) {
  const int before = ctx.diag->error_count();
  T value{};
  std::vector<YAML::Node> layers;
  std::string preset;
  // YAML::Node's operator= writes through to the node it refers to, so the preset node is
  // bound once, by construction, and never assigned.
  const YAML::Node preset_node = node.IsMap() && node["preset"] ? node["preset"] : node;
  if (node.IsScalar()) {
    preset = node.Scalar();
  } else if (node.IsMap() && node["preset"]) {
    if (!preset_node.IsScalar()) {
      ctx.Error(preset_node, JoinPath(key_path, "preset"), fmt::format("expected a {} preset name, e.g. {}", h.kind, h.example));
      return std::nullopt;
    }
    preset = preset_node.Scalar();
  } else if (!node.IsMap()) {
    ctx.Error(node, key_path,
              fmt::format("expected a {} preset name (e.g. {}) or a section with the {}'s fields", h.kind, h.example, h.kind));
    return std::nullopt;
  }
  if (!preset.empty()) {
    auto path = h.find(preset, *ctx.diag, ctx.At(preset_node), node.IsScalar() ? key_path : JoinPath(key_path, "preset"));
    if (!path) return std::nullopt;
    YAML::Node root;
    ProvenanceMap preset_prov;
    auto base = h.load_file(*path, preset, *ctx.diag, ctx.provenance ? &preset_prov : nullptr, &root);
    if (!base) return std::nullopt;
    value = *base;
    layers.push_back(root);
    if (ctx.provenance) {
      for (auto& [k, v] : preset_prov) (*ctx.provenance)[JoinPath(key_path, k)] = v;
    }
  }
  if (node.IsMap()) {
    LoadContext over = ctx;
    over.default_source = "scenario override (" + ctx.file + ")";
    h.schema->Load(node, value, over, key_path);
    layers.push_back(node);
  }
  if (ctx.diag->error_count() != before) return std::nullopt;
  h.check_required(layers, node, ctx, key_path);
  if (ctx.diag->error_count() == before) h.report(value, node, ctx, key_path);
  if (ctx.diag->error_count() != before) return std::nullopt;
  return value;
}

}  // namespace pf::spec
