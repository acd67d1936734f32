// spec/explain: every field of a resolved value with its unit, value and source — what
// `pathfinder explain` prints — built from the same field table that loads it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pathfinder/spec/schema.h"

namespace pf::spec {

struct ExplainRow {
  std::string path;
  std::string unit;  // "size", "bandwidth", "integer", …
  std::string value;
  std::string source;  // "" when the field was not set (default)
  bool estimate = false;
};

template <class T>
std::vector<ExplainRow> ExplainRows(const Schema<T>& schema, const T& value, const ProvenanceMap& prov,
                                    const std::string& prefix = "") {
  std::vector<FieldDoc> docs;
  schema.Describe(prefix, &docs);
  std::map<std::string, std::string> unit_of;
  for (const auto& d : docs) unit_of[d.path] = d.unit;
  std::vector<std::pair<std::string, std::string>> shown;
  schema.Show(value, prefix, &shown);
  std::vector<ExplainRow> rows;
  for (const auto& [path, v] : shown) {
    ExplainRow r{path, unit_of.count(path) ? unit_of[path] : "", v, "", false};
    if (auto it = prov.find(path); it != prov.end()) {
      r.source = it->second.source;
      r.estimate = it->second.estimate;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace pf::spec
