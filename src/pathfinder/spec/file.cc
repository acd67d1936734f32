// Safe reading of input files and the preset folders.
#include "pathfinder/spec/file.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "pathfinder/core/strings.h"

#ifndef PF_DATA_DIR
#define PF_DATA_DIR "data"
#endif

namespace pf::spec {
namespace fs = std::filesystem;

namespace {

// Length of the valid UTF-8 prefix of `s`.
size_t ValidUtf8Prefix(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
    i += len;
  }
  return i;
}

}  // namespace

SourceLocation LocationOfOffset(const std::string& file, const std::string& text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {file, line, col};
}


std::optional<std::string> ReadTextFile(const std::string& path, Diagnostics& diag) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    diag.Error({path, 0, 0}, "", "no such file");
    return std::nullopt;
  }
  if (fs::is_directory(path, ec)) {
    diag.Error({path, 0, 0}, "", "is a folder, not a file");
    return std::nullopt;
  }
  const auto size = fs::file_size(path, ec);
  if (ec) {
    diag.Error({path, 0, 0}, "", "cannot read: " + ec.message());
    return std::nullopt;
  }
  if (size > kMaxInputFileBytes) {
    diag.Error({path, 0, 0}, "",
               fmt::format("file is {} bytes, over the {} byte limit for input files; is this the right file?", size,
                           kMaxInputFileBytes));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag.Error({path, 0, 0}, "", "cannot open for reading");
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    diag.Error(LocationOfOffset(path, text, nul), "", "file contains binary data (a NUL byte); expected YAML or JSON text");
    return std::nullopt;
  }
  if (const size_t ok = ValidUtf8Prefix(text); ok != text.size()) {
    diag.Error(LocationOfOffset(path, text, ok), "", "file is not valid UTF-8 text; expected YAML or JSON");
    return std::nullopt;
  }
  return text;
}

std::optional<YAML::Node> ParseYaml(const std::string& text, const std::string& name, Diagnostics& diag) {
  if (Trim(text).empty()) {
    diag.Error({name, 0, 0}, "", "file is empty; expected a YAML or JSON map of settings");
    return std::nullopt;
  }
  // Classic Mac line endings (a lone CR): yaml-cpp reads such a file as one comment line, so
  // it loaded as "no settings". Each lone CR ends a line, as it did for its editor.
  std::string normalized;
  const std::string* src = &text;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      normalized = text;
      for (size_t j = i; j < normalized.size(); ++j)
        if (normalized[j] == '\r' && (j + 1 == normalized.size() || normalized[j + 1] != '\n')) normalized[j] = '\n';
      src = &normalized;
      break;
    }
  }
  YAML::Node root;
  try {
    // Every document, so that a second one (after `---`) is an error rather than ignored.
    std::vector<YAML::Node> docs = YAML::LoadAll(*src);
    docs.erase(std::remove_if(docs.begin(), docs.end(), [](const YAML::Node& d) { return d.IsNull(); }), docs.end());
    if (docs.size() > 1) {
      const YAML::Mark m = docs[1].Mark();
      diag.Error({name, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1}, "",
                 "a second YAML document (after '---'); a file holds one map of settings: merge the two, or put "
                 "the second in a file of its own");
      return std::nullopt;
    }
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::Exception& e) {
    diag.Error({name, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1}, "",
               "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  if (root.IsNull()) {
    diag.Error({name, 0, 0}, "", "file has no settings (only comments?); expected a YAML or JSON map");
    return std::nullopt;
  }
  if (!root.IsMap()) {
    const YAML::Mark m = root.Mark();
    diag.Error({name, m.is_null() ? 1 : m.line + 1, m.is_null() ? 1 : m.column + 1}, "",
               "expected a map of settings (key: value) at the top level");
    return std::nullopt;
  }
  return root;
}

std::optional<YAML::Node> LoadYamlFile(const std::string& path, Diagnostics& diag) {
  auto text = ReadTextFile(path, diag);
  if (!text) return std::nullopt;
  return ParseYaml(*text, path, diag);
}

std::string DataDir() {
  if (const char* env = std::getenv("PATHFINDER_DATA"); env != nullptr && *env != '\0') return env;
  return PF_DATA_DIR;
}

std::string PresetFolder(PresetKind kind) {
  switch (kind) {
    case PresetKind::kChip: return "chips";
    case PresetKind::kModel: return "models";
    case PresetKind::kMemory: return "memory";
    case PresetKind::kNode: return "nodes";
    case PresetKind::kLink: return "links";
    case PresetKind::kPackaging: return "packaging";
    case PresetKind::kCalibration: return "calibration";
  }
  return "";
}

std::string PresetKindName(PresetKind kind) {
  switch (kind) {
    case PresetKind::kChip: return "chip";
    case PresetKind::kModel: return "model";
    case PresetKind::kMemory: return "memory";
    case PresetKind::kNode: return "process node";
    case PresetKind::kLink: return "link";
    case PresetKind::kPackaging: return "packaging";
    case PresetKind::kCalibration: return "calibration";
  }
  return "";
}

std::vector<std::string> ListPresets(PresetKind kind) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path dir = fs::path(DataDir()) / PresetFolder(kind);
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> FindPreset(PresetKind kind, const std::string& name, Diagnostics& diag,
                                      const SourceLocation& where, const std::string& key_path) {
  const auto names = ListPresets(kind);
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    return (fs::path(DataDir()) / PresetFolder(kind) / (name + ".yaml")).string();
  }
  const std::string hint = ClosestMatch(name, names);
  diag.Error(where, key_path,
             hint.empty() ? fmt::format("unknown {} preset '{}'; `pathfinder presets {}` lists them", PresetKindName(kind), name,
                                        PresetFolder(kind))
                          : fmt::format("unknown {} preset '{}'; did you mean '{}'?", PresetKindName(kind), name, hint));
  return std::nullopt;
}

}  // namespace pf::spec
