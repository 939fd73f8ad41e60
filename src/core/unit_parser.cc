#include "core/unit_parser.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/text_util.h"

namespace stargate {
namespace {

// The leading number of a unit string, split from its unit suffix.
struct Number {
  double value = 0;
  // Set when the text was a plain integer that fits: durations then convert
  // exactly instead of through a double (54d in ns exceeds 2^53 precision
  // only for absurd inputs, but exactness is free here).
  std::optional<uint64_t> integer;
  std::string_view unit;
};

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Copies digits from `s` at `*i` into `out`, dropping '_' separators that sit
// between two digits. Returns how many digits were copied.
int TakeDigits(std::string_view s, size_t* i, std::string* out) {
  int n = 0;
  while (*i < s.size()) {
    const char c = s[*i];
    if (IsDigit(c)) {
      out->push_back(c);
      ++n;
    } else if (c == '_' && n > 0 && *i + 1 < s.size() && IsDigit(s[*i + 1])) {
      // separator: skip
    } else {
      break;
    }
    ++*i;
  }
  return n;
}

Status BadNumber(std::string_view what, std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("invalid {} {}: {}", what, Quoted(text), why));
}

// A number without its unit is refused (but zero, the same in every
// unit): `power_cap: 60` meant 60 W to the parser and 60 MW to its writer.
Status NeedsUnit(std::string_view what, std::string_view text, const Number& n, std::string_view units) {
  if (!n.unit.empty() || n.value == 0) return Status();
  return BadNumber(what, text, fmt::format("a number needs its unit ({})", units));
}

// Parses "[+-]digits[.digits][e[+-]digits] unit". `what` names the kind of
// value for messages ("duration", "power", ...).
StatusOr<Number> SplitNumber(std::string_view raw, std::string_view what, bool allow_negative = false) {
  const std::string_view s = Trim(raw);
  if (s.empty()) return BadNumber(what, raw, "empty value");
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  std::string digits;
  int mantissa_digits = TakeDigits(s, &i, &digits);
  bool integral = true;
  if (i < s.size() && s[i] == '.') {
    digits.push_back('.');
    ++i;
    mantissa_digits += TakeDigits(s, &i, &digits);
    integral = false;
  }
  if (mantissa_digits == 0) return BadNumber(what, raw, "expected a number");
  // An 'e' is an exponent only when digits follow; "1EB" is one exabyte.
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && IsDigit(s[j])) {
      digits.append(s.substr(i, j - i));
      i = j;
      TakeDigits(s, &i, &digits);
      integral = false;
    }
  }
  Number n;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, n.value);
  if (ec == std::errc::result_out_of_range) return BadNumber(what, raw, "number out of range");
  if (ec != std::errc() || ptr != end || !std::isfinite(n.value)) {
    return BadNumber(what, raw, "expected a number");
  }
  if (negative && n.value != 0) {
    if (!allow_negative) return BadNumber(what, raw, "must not be negative");
    n.value = -n.value;
  }
  if (integral && !negative) {
    uint64_t u = 0;
    const auto r = std::from_chars(digits.data(), end, u);
    if (r.ec == std::errc() && r.ptr == end) n.integer = u;
  }
  n.unit = Trim(s.substr(i));
  return n;
}

struct Unit {
  std::string_view name;
  double factor;
};

std::optional<double> Lookup(std::span<const Unit> table, std::string_view unit) {
  for (const Unit& u : table) {
    if (u.name == unit) return u.factor;
  }
  return std::nullopt;
}

// value * factor, rejecting results that overflow a double.
StatusOr<double> Scale(std::string_view what, std::string_view text, double value, double factor) {
  const double v = value * factor;
  if (!std::isfinite(v)) return BadNumber(what, text, "value too large");
  return v;
}

// Splits "GB/s" into a decimal or binary prefix factor and the rest. The
// empty prefix matches too, so "B/s" -> {1, "B/s"}.
struct Prefixed {
  double factor;
  std::string_view rest;
  bool binary;
};
Prefixed SplitPrefix(std::string_view unit) {
  static constexpr Unit kBinary[] = {
      {"Ki", 1024.0},          {"Mi", 1048576.0},          {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  static constexpr Unit kDecimal[] = {{"k", 1e3},  {"K", 1e3},  {"M", 1e6}, {"G", 1e9},
                                      {"T", 1e12}, {"P", 1e15}, {"E", 1e18}};
  for (const Unit& u : kBinary) {
    if (unit.starts_with(u.name)) return Prefixed{u.factor, unit.substr(u.name.size()), true};
  }
  for (const Unit& u : kDecimal) {
    if (unit.starts_with(u.name)) return Prefixed{u.factor, unit.substr(u.name.size()), false};
  }
  return Prefixed{1.0, unit, false};
}

constexpr int64_t kNanosPerSecond = 1000000000;

// ns per unit as an integer so integral inputs convert exactly.
struct DurationUnit {
  std::string_view name;
  int64_t nanos;
};
constexpr DurationUnit kDurationUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // "µs" in UTF-8
    {"ms", 1000000},
    {"s", kNanosPerSecond},
    {"sec", kNanosPerSecond},
    {"m", 60 * kNanosPerSecond},
    {"min", 60 * kNanosPerSecond},
    {"h", 3600 * kNanosPerSecond},
    {"hr", 3600 * kNanosPerSecond},
    {"d", 86400 * kNanosPerSecond},
    {"w", 7 * 86400 * kNanosPerSecond},
    {"y", 365 * 86400 * kNanosPerSecond},
};

// Largest finite Duration: Duration::Infinite() (int64 max) is a sentinel.
constexpr int64_t kMaxNanos = std::numeric_limits<int64_t>::max() - 1;

}  // namespace

StatusOr<Duration> ParseDuration(std::string_view text) {
  SG_ASSIGN_OR_RETURN(const Number n, SplitNumber(text, "duration"));
  SG_RETURN_IF_ERROR(NeedsUnit("duration", text, n, "e.g. 90s, 10m, 1.5h, 54d"));
  const std::string_view unit = n.unit.empty() ? "s" : n.unit;
  int64_t per = 0;
  for (const DurationUnit& u : kDurationUnits) {
    if (u.name == unit) per = u.nanos;
  }
  if (per == 0) {
    return BadNumber("duration", text,
                     fmt::format("unknown unit {} (use ns, us, ms, s, m, h, d, w, y)", Quoted(n.unit)));
  }
  const Status too_large = BadNumber("duration", text, "too large (at most ~292 years)");
  if (n.integer) {
    int64_t ns = 0;
    if (*n.integer > static_cast<uint64_t>(kMaxNanos) ||
        __builtin_mul_overflow(static_cast<int64_t>(*n.integer), per, &ns) || ns > kMaxNanos) {
      return too_large;
    }
    return Duration::Nanos(ns);
  }
  const double ns = n.value * static_cast<double>(per);
  // 9.2e18 < int64 max (9.22e18), so llround below cannot overflow.
  if (!(ns < 9.2e18)) return too_large;
  return Duration::Nanos(std::llround(ns));
}

StatusOr<double> ParsePower(std::string_view text) {
  static constexpr Unit kUnits[] = {{"", 1},     {"W", 1},    {"kW", 1e3}, {"KW", 1e3},
                                    {"MW", 1e6}, {"GW", 1e9}, {"TW", 1e12}};
  SG_ASSIGN_OR_RETURN(const Number n, SplitNumber(text, "power"));
  SG_RETURN_IF_ERROR(NeedsUnit("power", text, n, "W, kW, MW, GW"));
  const std::optional<double> f = Lookup(kUnits, n.unit);
  if (!f) {
    return BadNumber("power", text, fmt::format("unknown unit {} (use W, kW, MW, GW, TW)", Quoted(n.unit)));
  }
  return Scale("power", text, n.value, *f);
}

StatusOr<double> ParseBandwidth(std::string_view text) {
  SG_ASSIGN_OR_RETURN(const Number n, SplitNumber(text, "bandwidth"));
  SG_RETURN_IF_ERROR(NeedsUnit("bandwidth", text, n, "e.g. 400Gbps, 25Gb/s, 100GB/s"));
  if (n.unit.empty()) return n.value;
  const Prefixed p = SplitPrefix(n.unit);
  static constexpr Unit kPerSecond[] = {{"bps", 1.0 / 8}, {"b/s", 1.0 / 8}, {"Bps", 1}, {"B/s", 1}};
  const std::optional<double> f = Lookup(kPerSecond, p.rest);
  // Binary prefixes are for bytes only: "Gibps" is not a unit anyone means.
  const bool binary_bits = p.binary && f && *f != 1.0;
  if (!f || binary_bits) {
    return BadNumber(
        "bandwidth", text,
        fmt::format("unknown unit {} (use e.g. 400Gbps, 25Gb/s, 100GB/s, 1.8TB/s, 10GiB/s)", Quoted(n.unit)));
  }
  return Scale("bandwidth", text, n.value, p.factor * *f);
}

StatusOr<double> ParseBytes(std::string_view text) {
  SG_ASSIGN_OR_RETURN(const Number n, SplitNumber(text, "size"));
  SG_RETURN_IF_ERROR(NeedsUnit("size", text, n, "B, kB, MB, GB, TB or KiB..EiB"));
  if (n.unit.empty()) return n.value;
  const Prefixed p = SplitPrefix(n.unit);
  if (p.rest != "B") {
    const std::string hint = p.rest == "b" ? "; 'b' is bits, write 'B' for bytes" : "";
    return BadNumber("size", text,
                     fmt::format("unknown unit {} (use B, kB, MB, GB, TB, PB or KiB..EiB{})", Quoted(n.unit), hint));
  }
  return Scale("size", text, n.value, p.factor);
}

StatusOr<double> ParseCount(std::string_view text) {
  static constexpr Unit kUnits[] = {{"", 1},    {"k", 1e3}, {"K", 1e3},  {"M", 1e6},
                                    {"B", 1e9}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}};
  SG_ASSIGN_OR_RETURN(const Number n, SplitNumber(text, "count"));
  const std::optional<double> f = Lookup(kUnits, n.unit);
  if (!f) {
    return BadNumber("count", text,
                     fmt::format("unknown suffix {} (use k, M, B or G, T, P, or an exponent "
                                 "like 405e9)",
                                 Quoted(n.unit)));
  }
  return Scale("count", text, n.value, *f);
}

StatusOr<double> ParseNumber(std::string_view text) {
  SG_ASSIGN_OR_RETURN(const Number n, SplitNumber(text, "number", /*allow_negative=*/true));
  if (!n.unit.empty()) {
    return BadNumber("number", text, fmt::format("unexpected suffix {}", Quoted(n.unit)));
  }
  return n.value;
}

}  // namespace stargate
