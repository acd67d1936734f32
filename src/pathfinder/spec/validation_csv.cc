// CSV splitting and kind detection for the validation sets.
#include "pathfinder/spec/validation_csv.h"

#include <fmt/core.h>

#include <algorithm>

#include "pathfinder/core/strings.h"
#include "pathfinder/spec/file.h"

namespace pf::spec {

const char* Name(ValidationKind k) {
  switch (k) {
    case ValidationKind::kMicrobench: return "microbench";
    case ValidationKind::kTraining: return "training";
    case ValidationKind::kInference: return "inference";
  }
  return "?";
}

int ValidationTable::Column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return int(i);
  return -1;
}

const std::string& ValidationTable::Get(const CsvRow& row, std::string_view column) const {
  static const std::string kEmpty;
  const int c = Column(column);
  if (c < 0 || size_t(c) >= row.cells.size()) return kEmpty;
  return row.cells[size_t(c)];
}

bool SplitCsv(std::string_view text, std::vector<std::vector<std::string>>* records, std::vector<int>* lines,
              std::string* error) {
  std::vector<std::string> rec;
  std::string field;
  bool in_quotes = false, field_started = false, any = false;
  int line = 1, rec_line = 1, quote_line = 0;
  auto end_field = [&] {
    rec.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    // A blank line is no record.
    if (!(rec.size() == 1 && rec[0].empty())) {
      records->push_back(std::move(rec));
      lines->push_back(rec_line);
    }
    rec.clear();
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!any) {
      rec_line = line;
      any = true;
    }
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
      quote_line = line;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r') {
      // CRLF line ends.
    } else if (c == '\n') {
      end_record();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) {
    *error = fmt::format("line {}: a quoted field is not closed", quote_line);
    return false;
  }
  if (any) end_record();
  return true;
}

std::optional<ValidationTable> ParseValidationCsv(std::string_view text, const std::string& name, Diagnostics& diag) {
  std::vector<std::vector<std::string>> records;
  std::vector<int> lines;
  std::string error;
  if (!SplitCsv(text, &records, &lines, &error)) {
    diag.Error({name, 0, 0}, "", error);
    return std::nullopt;
  }
  if (records.empty()) {
    diag.Error({name, 1, 1}, "", "empty CSV file; expected a header row");
    return std::nullopt;
  }
  ValidationTable t;
  t.file = name;
  t.header = records[0];
  for (auto& h : t.header) h = Trim(h);
  auto has = [&](std::string_view c) { return t.Column(c) >= 0; };
  if (has("id") && has("kind") && has("size_params") && has("measured_value")) {
    t.kind = ValidationKind::kMicrobench;
  } else if (has("measured_metric") && has("scenario")) {
    t.kind = ValidationKind::kInference;
  } else if (has("measured_metric")) {
    t.kind = ValidationKind::kTraining;
  } else {
    diag.Error({name, lines[0], 1}, "",
               "unknown CSV kind: the header has neither id,hardware,kind,size_params,measured_value (microbenchmarks) "
               "nor measured_metric (training; with scenario: inference)");
    return std::nullopt;
  }
  for (size_t i = 1; i < records.size(); ++i) {
    CsvRow r;
    r.line = lines[i];
    r.cells = std::move(records[i]);
    if (r.cells.size() != t.header.size()) {
      r.problem = fmt::format("malformed row: {} fields, the header has {}", r.cells.size(), t.header.size());
      diag.Warning({name, r.line, 1}, "", r.problem);
    }
    t.rows.push_back(std::move(r));
  }
  return t;
}

std::optional<ValidationTable> LoadValidationCsv(const std::string& path, Diagnostics& diag) {
  auto text = ReadTextFile(path, diag);
  if (!text) return std::nullopt;
  return ParseValidationCsv(*text, path, diag);
}

}  // namespace pf::spec
