// Edit distance and the "did you mean" suggestion.
#include "pathfinder/core/strings.h"

#include <algorithm>
#include <cctype>

namespace pf {

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = int(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = int(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = 1 << 30;
  const std::string lw = ToLower(word);
  for (const auto& c : candidates) {
    int d = ToLower(c) == lw ? 0 : EditDistance(lw, ToLower(c));
    // A candidate that starts with the word (or the reverse) is a plausible abbreviation.
    if (d > 0 && !lw.empty() && (ToLower(c).rfind(lw, 0) == 0 || lw.rfind(ToLower(c), 0) == 0)) d = std::min(d, 2);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const int limit = std::max(2, int(word.size()) / 3);
  return best_d <= limit ? best : std::string();
}

}  // namespace pf
