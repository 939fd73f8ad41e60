#include "core/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace stargate {
namespace {

constexpr size_t kMaxQuoted = 60;

// Lower case, '-' as '_': "Fat-Tree" and "fat_tree" are the same intent.
std::string Fold(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string Quoted(std::string_view s) {
  std::string out = "'";
  const size_t n = std::min(s.size(), kMaxQuoted);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > kMaxQuoted) out += "...";
  out += "'";
  return out;
}

int EditDistance(std::string_view a, std::string_view b, int cap) {
  const int la = static_cast<int>(a.size());
  const int lb = static_cast<int>(b.size());
  if (std::abs(la - lb) > cap) return cap + 1;
  std::vector<int> prev(lb + 1), cur(lb + 1);
  for (int j = 0; j <= lb; ++j) prev[j] = j;
  for (int i = 1; i <= la; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= lb; ++j) {
      const int subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > cap) return cap + 1;
    std::swap(prev, cur);
  }
  return std::min(prev[lb], cap + 1);
}

std::string_view ClosestMatch(std::string_view word, std::span<const std::string_view> candidates) {
  if (word.size() > 200) return {};
  const std::string folded = Fold(word);
  for (std::string_view c : candidates) {
    if (Fold(c) == folded) return c;
  }
  // One edit per three characters: "nodes_per_rak" finds "nodes_per_rack",
  // but a one-letter name ("c") is not "a" misspelled.
  const int cap = word.size() < 3 ? 0 : std::max<int>(1, static_cast<int>(word.size()) / 3);
  std::string_view best;
  int best_d = cap + 1;
  for (std::string_view c : candidates) {
    const int d = EditDistance(folded, Fold(c), cap);
    if (d <= cap && d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

bool SameName(std::string_view a, std::string_view b) { return a.size() == b.size() && Fold(a) == Fold(b); }

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  const std::string_view m = ClosestMatch(word, candidates);
  if (m.empty()) return "";
  return fmt::format(" (did you mean '{}'?)", m);
}

}  // namespace stargate
