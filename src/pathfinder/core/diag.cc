// Collecting and rendering user-input diagnostics.
#include "pathfinder/core/diag.h"

#include <fmt/core.h>

namespace pf {

void Diagnostics::Error(SourceLocation where, std::string key_path, std::string message) {
  entries_.push_back({Diagnostic::Severity::kError, std::move(where), std::move(key_path), std::move(message)});
  ++error_count_;
}

void Diagnostics::Warning(SourceLocation where, std::string key_path, std::string message) {
  entries_.push_back({Diagnostic::Severity::kWarning, std::move(where), std::move(key_path), std::move(message)});
}

void Diagnostics::Append(const Diagnostics& other) {
  for (const auto& d : other.entries_) {
    entries_.push_back(d);
    if (d.severity == Diagnostic::Severity::kError) ++error_count_;
  }
}

std::string RenderDiagnostic(const Diagnostic& d) {
  std::string out;
  if (!d.where.file.empty()) {
    out += d.where.file;
    if (d.where.line > 0) {
      out += fmt::format(":{}", d.where.line);
      if (d.where.column > 0) out += fmt::format(":{}", d.where.column);
    }
    out += ": ";
  }
  out += d.severity == Diagnostic::Severity::kError ? "error: " : "warning: ";
  if (!d.key_path.empty()) out += d.key_path + ": ";
  out += d.message;
  return out;
}

std::string Diagnostics::Render() const {
  std::string out;
  for (const auto& d : entries_) out += RenderDiagnostic(d) + "\n";
  if (error_count_ > 0) {
    out += fmt::format("{} error{}; nothing was simulated.\n", error_count_, error_count_ == 1 ? "" : "s");
  }
  return out;
}

}  // namespace pf
