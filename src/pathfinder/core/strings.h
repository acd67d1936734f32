// Small string helpers shared by spec/ and cli/: edit distance for "did you mean".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pf {

// Levenshtein distance, case-sensitive.
int EditDistance(std::string_view a, std::string_view b);

// The closest candidate to `word` if it is close enough to be a plausible typo
// (distance ≤ max(2, |word|/3), case-insensitive match counts as distance 0); else "".
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

std::string ToLower(std::string_view s);
std::string Trim(std::string_view s);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace pf
