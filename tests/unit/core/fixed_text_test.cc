// FixedText prints the digits fmt's "{:.Nf}" prints (printf's): at and a
// few ulps either side of half-way points, where rounding the product
// v x 10^p could go the wrong way, at every magnitude up to and past the
// fast path's, at each precision it serves and past it.
#include "core/fixed_text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace stargate {
namespace {

std::string Fixed(double v, int precision) {
  FixedScratch scratch;
  return std::string(FixedText(v, precision, scratch));
}

TEST(FixedText, NearTiesAsFmt) {
  std::mt19937_64 rng(11);
  for (int precision = 0; precision <= 11; ++precision) {
    const double scale = std::pow(10.0, precision);
    for (int i = 0; i < 50'000; ++i) {
      const double magnitude = std::pow(10.0, static_cast<double>(rng() % 18));
      const double k = std::floor(std::ldexp(static_cast<double>(rng() >> 11), -53) * magnitude);
      double v = (k + 0.5) / scale;
      for (int step = 0; step < static_cast<int>(rng() % 4); ++step) {
        v = std::nextafter(v, rng() % 2 ? 1e300 : -1e300);
      }
      if (rng() % 2) v = -v;
      ASSERT_EQ(Fixed(v, precision), fmt::format("{:.{}f}", v, precision)) << v << " at " << precision;
    }
  }
}

TEST(FixedText, AnyFigureAsFmt) {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 200'000; ++i) {
    const double v =
        std::ldexp(std::ldexp(static_cast<double>(rng() >> 11), -53) - 0.5, static_cast<int>(rng() % 140) - 70);
    const int precision = static_cast<int>(rng() % 10);
    ASSERT_EQ(Fixed(v, precision), fmt::format("{:.{}f}", v, precision)) << v << " at " << precision;
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (double v : {0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.0005, -0.0004, 1e15, -1e15, 999999999999999.5, 1e70, -3e200,
                   std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(), inf, -inf}) {
    for (int precision : {0, 1, 3, 6, 9, 17}) {
      EXPECT_EQ(Fixed(v, precision), fmt::format("{:.{}f}", v, precision)) << v << " at " << precision;
    }
  }
}

}  // namespace
}  // namespace stargate
