// spec/validation_csv: reading the published-results CSVs in the schema of
// ../shared/validation (microbenchmarks, training, inference). RFC 4180 quoting: fields
// in double quotes may hold commas, newlines and doubled quotes (""). The kind of file is
// detected from its header. A row whose cell count differs from the header's is kept with
// a `problem` (and a warning naming its line), so callers count it as skipped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pathfinder/core/diag.h"

namespace pf::spec {

enum class ValidationKind { kMicrobench, kTraining, kInference };
const char* Name(ValidationKind k);  // "microbench", "training", "inference"

struct CsvRow {
  int line = 0;                    // 1-based line where the row starts
  std::vector<std::string> cells;
  std::string problem;             // non-empty: the row is malformed (why)
};

struct ValidationTable {
  std::string file;
  ValidationKind kind = ValidationKind::kMicrobench;
  std::vector<std::string> header;
  std::vector<CsvRow> rows;

  // Column index of `name`, or -1.
  int Column(std::string_view name) const;
  // The cell of `column` in `row`; "" when the column or cell is absent.
  const std::string& Get(const CsvRow& row, std::string_view column) const;
};

// Splits CSV text into records of fields. Records start on `line` numbers given back in
// `lines`. Returns false (with `error`) on an unterminated quote.
bool SplitCsv(std::string_view text, std::vector<std::vector<std::string>>* records, std::vector<int>* lines,
              std::string* error);

// Parses CSV text already read; `name` is used in diagnostics.
std::optional<ValidationTable> ParseValidationCsv(std::string_view text, const std::string& name, Diagnostics& diag);
// Reads and parses a file.
std::optional<ValidationTable> LoadValidationCsv(const std::string& path, Diagnostics& diag);

}  // namespace pf::spec
