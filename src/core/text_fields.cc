#include "core/text_fields.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace stargate {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
// Numeric timestamps above this would overflow int64 nanoseconds (~9.22e9 s).
constexpr double kMaxTimestampSeconds = 9e9;

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly `width` ASCII digits at s[*pos] into *value.
bool ReadDigits(std::string_view s, size_t* pos, int width, int64_t* value) {
  if (*pos + width > s.size()) return false;
  int64_t v = 0;
  for (int i = 0; i < width; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += width;
  *value = v;
  return true;
}

bool ReadChar(std::string_view s, size_t* pos, char expected) {
  if (*pos >= s.size() || s[*pos] != expected) return false;
  ++*pos;
  return true;
}

// The separator between date and time: one space or 'T'.
bool ReadDateTimeSeparator(std::string_view s, size_t* pos) { return ReadChar(s, pos, ' ') || ReadChar(s, pos, 'T'); }

}  // namespace

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsMissing(std::string_view s) {
  s = TrimBlanks(s);
  return s.empty() || s == "None" || s == "null" || s == "NULL" || s == "NaN" || s == "nan" || s == "Unknown" ||
         s == "\\N";
}

std::optional<double> ParseFieldNumber(std::string_view s) {
  s = TrimBlanks(s);
  if (s.empty()) return std::nullopt;
  // from_chars accepts "inf"/"nan" and hex only on request; reject the
  // words explicitly so a corrupt field never becomes a non-finite time.
  const char first = s.front();
  if (!(first == '-' || first == '+' || first == '.' || (first >= '0' && first <= '9'))) {
    return std::nullopt;
  }
  if (first == '+') s.remove_prefix(1);  // from_chars does not take '+'
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseFieldCount(std::string_view s) {
  const std::optional<double> v = ParseFieldNumber(s);
  if (!v || *v < 0 || *v > 9e15 || std::floor(*v) != *v) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<int64_t> ParseDateTimeNanos(std::string_view s) {
  s = TrimBlanks(s);
  size_t pos = 0;
  int64_t y, mo, d, h, mi, sec;
  if (!ReadDigits(s, &pos, 4, &y) || !ReadChar(s, &pos, '-') || !ReadDigits(s, &pos, 2, &mo) ||
      !ReadChar(s, &pos, '-') || !ReadDigits(s, &pos, 2, &d) || !ReadDateTimeSeparator(s, &pos) ||
      !ReadDigits(s, &pos, 2, &h) || !ReadChar(s, &pos, ':') || !ReadDigits(s, &pos, 2, &mi) ||
      !ReadChar(s, &pos, ':') || !ReadDigits(s, &pos, 2, &sec)) {
    return std::nullopt;
  }
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, static_cast<int>(mo)) || h > 23 ||
      mi > 59 || sec > 60) {
    return std::nullopt;  // 60 admits a leap second, as strptime does
  }
  // A fraction of a second: up to nine digits count, more are dropped.
  int64_t frac = 0;
  if (ReadChar(s, &pos, '.') || ReadChar(s, &pos, ',')) {
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) frac = frac * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) frac *= 10;
  }
  // The zone: Z, or +HH:MM, +HHMM, +HH (and '-'), east of UTC positive.
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int64_t sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh = 0, om = 0;
    if (!ReadDigits(s, &pos, 2, &oh)) return std::nullopt;
    const bool colon = ReadChar(s, &pos, ':');
    if ((colon || pos < s.size()) && !ReadDigits(s, &pos, 2, &om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * kNanosPerSecond + frac;
}

std::optional<int64_t> ParseDateTime(std::string_view s) {
  const std::optional<int64_t> ns = ParseDateTimeNanos(s);
  if (!ns) return std::nullopt;
  // Whole seconds, rounding down (a date-time before 1970 only by its zone).
  return *ns >= 0 ? *ns / kNanosPerSecond : -((-*ns + kNanosPerSecond - 1) / kNanosPerSecond);
}

std::string_view WithoutUtcSuffix(std::string_view s) {
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ParseTimestampNanos(std::string_view s) {
  if (const std::optional<int64_t> ns = ParseDateTimeNanos(s)) return ns;
  const std::optional<double> v = ParseFieldNumber(s);
  if (!v || *v < 0 || *v >= kMaxTimestampSeconds) return std::nullopt;
  return std::llround(*v * 1e9);
}

std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out(s.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

Status TraceError(const std::string& filename, int64_t line, std::string_view field, std::string_view message) {
  return absl::InvalidArgumentError(fmt::format("{}:{}: {}: {}", filename, line, field, message));
}

}  // namespace stargate
