// Diagnostics: bad user input, collected so that every problem in a file is reported at
// once. Each entry names the file, line and column, the key path, and the message:
//   scenario.yaml:7:3: error: chip.hbm.bandwith: unknown key; did you mean 'bandwidth'?
// The library never prints and never exits; cli/ prints these and returns exit code 2.
#pragma once

#include <string>
#include <vector>

namespace pf {

struct SourceLocation {
  std::string file;  // empty when the problem is not tied to a file (e.g. a CLI flag)
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown
};

struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  SourceLocation where;
  std::string key_path;  // e.g. "chip.hbm.capacity"; may be empty
  std::string message;
};

class Diagnostics {
 public:
  void Error(SourceLocation where, std::string key_path, std::string message);
  void Warning(SourceLocation where, std::string key_path, std::string message);
  void Append(const Diagnostics& other);

  bool has_errors() const { return error_count_ > 0; }
  int error_count() const { return error_count_; }
  const std::vector<Diagnostic>& entries() const { return entries_; }

  // One line per entry, then "N errors; nothing was simulated." when there are errors.
  std::string Render() const;

 private:
  std::vector<Diagnostic> entries_;
  int error_count_ = 0;
};

std::string RenderDiagnostic(const Diagnostic& d);

}  // namespace pf
