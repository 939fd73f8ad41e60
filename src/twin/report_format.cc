#include "twin/report_format.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "core/fixed_text.h"

namespace stargate::twin::report {
namespace {

constexpr std::string_view kDash = "\u2013";  // en dash: "no value"

// "1234567" -> "1,234,567"; `digits` holds only decimal digits.
std::string GroupThousands(const std::string& digits) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

char* WriteFixedView(double v, int decimals, char* out) {
  if (char* end = WriteFixedFast(v, decimals, /*zero_sign=*/false, out)) return end;
  FixedScratch scratch;
  const std::string_view text = FixedView(v, decimals, scratch);
  std::copy(text.begin(), text.end(), out);
  return out + text.size();
}

std::string Fixed(double v, int decimals) {
  FixedScratch scratch;
  return std::string(FixedView(v, decimals, scratch));
}

std::string_view FixedView(double v, int decimals, FixedScratch& scratch) {
  if (!std::isfinite(v)) return {};
  // Anything that prints as zero prints as a positive zero (a figure just
  // below zero, or -0.5 at no decimals, which rounds to even).
  const std::string_view text = FixedText(v, decimals, scratch);
  if (text.front() == '-' && text.find_first_not_of("0.", 1) == std::string_view::npos) return text.substr(1);
  return text;
}

std::string HoursOrEmpty(Time t) {
  if (t == Time::Never()) return "";
  return Fixed(t.since_epoch().hours(), 4);
}

double MeanOf(std::span<const double> v, double if_empty) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? if_empty : sum / static_cast<double>(v.size());
}

double RoundSignificant(double v, int digits) {
  if (!std::isfinite(v) || v == 0.0) return v;
  // Decimal text and back: glibc strtod rounds correctly, so the result is
  // the double nearest to the rounded decimal, identical on every run.
  const std::string text = fmt::format("{:.{}g}", v, digits);
  return std::strtod(text.c_str(), nullptr);
}

std::string Readable(double v) {
  if (!std::isfinite(v)) return std::string(kDash);
  const double a = std::fabs(v);
  if (a < 0.5e-9) return "0";
  const std::string sign = v < 0 ? "-" : "";
  if (a >= 999.5) return sign + GroupThousands(fmt::format("{:.0f}", a));
  const int magnitude = static_cast<int>(std::floor(std::log10(a)));
  const int decimals = std::max(0, 2 - magnitude);
  return sign + fmt::format("{:.{}f}", a, decimals);
}

std::string Integer(int64_t n) {
  const std::string digits = fmt::format("{}", n < 0 ? -static_cast<uint64_t>(n) : static_cast<uint64_t>(n));
  return (n < 0 ? "-" : "") + GroupThousands(digits);
}

std::string Percent(double fraction) {
  if (!std::isfinite(fraction)) return std::string(kDash);
  return Fixed(100.0 * fraction, 1) + "%";
}

std::string Dollars(double usd) {
  if (!std::isfinite(usd)) return std::string(kDash);
  const std::string sign = usd < 0 ? "-" : "";
  const double a = std::fabs(usd);
  if (a < 999.5) return sign + "$" + fmt::format("{:.0f}", a);
  if (a < 999.5e3) return sign + "$" + Readable(a / 1e3) + "k";
  if (a < 999.5e6) return sign + "$" + Readable(a / 1e6) + "M";
  return sign + "$" + Readable(a / 1e9) + "B";
}

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Buckets BucketMeans(const std::vector<double>& values, size_t max_points) {
  Buckets b;
  const size_t n = values.size();
  if (n == 0) return b;
  const size_t width = (n + std::max<size_t>(max_points, 1) - 1) / std::max<size_t>(max_points, 1);
  const size_t count = (n + width - 1) / width;
  b.means.reserve(count);
  b.bounds.reserve(count + 1);
  b.bounds.push_back(0);
  for (size_t i = 0; i < count; ++i) {
    const size_t start = b.bounds.back();
    const size_t end = (i + 1) * n / count;  // integer split: sizes differ by at most one
    double sum = 0;
    size_t finite = 0;
    for (size_t k = start; k < end; ++k) {
      if (!std::isfinite(values[k])) continue;
      sum += values[k];
      ++finite;
    }
    b.means.push_back(finite > 0 ? sum / static_cast<double>(finite) : std::numeric_limits<double>::quiet_NaN());
    b.bounds.push_back(end);
  }
  return b;
}

}  // namespace stargate::twin::report
