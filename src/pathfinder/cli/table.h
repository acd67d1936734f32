// cli/table: a plain-text table with aligned columns for terminal output.
#pragma once

#include <string>
#include <vector>

namespace pf::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Columns listed here are right-aligned (numbers).
  void AlignRight(std::vector<size_t> cols) { right_ = std::move(cols); }
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> right_;
};

}  // namespace pf::cli
