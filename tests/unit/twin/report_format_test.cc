// report::Fixed: printf's digits, a positive zero for anything that prints
// as zero (figures just below zero included, where rounding a half-unit to
// even gives zero too), and "" for what is not a number.
#include "twin/report_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include "core/rng.h"

namespace stargate::twin::report {
namespace {

TEST(ReportFormat, FixedPrintsZeroWithoutASign) {
  EXPECT_EQ(Fixed(-0.0, 3), "0.000");
  EXPECT_EQ(Fixed(-0.0004, 3), "0.000");
  EXPECT_EQ(Fixed(-0.5, 0), "0");  // -0.5 rounds to even: -0
  EXPECT_EQ(Fixed(-5e-7, 6), "0.000000");
  EXPECT_EQ(Fixed(-1e-300, 2), "0.00");
  EXPECT_EQ(Fixed(-0.0006, 3), "-0.001");
  EXPECT_EQ(Fixed(-1.5, 0), "-2");
  EXPECT_EQ(Fixed(-1.25, 1), "-1.2");  // an exact tie, to even
  EXPECT_EQ(Fixed(2.5, 0), "2");
  EXPECT_EQ(Fixed(1234.5678, 2), "1234.57");
  EXPECT_EQ(Fixed(std::numeric_limits<double>::quiet_NaN(), 2), "");
  EXPECT_EQ(Fixed(-std::numeric_limits<double>::infinity(), 2), "");
}

// WriteFixedView writes FixedView's text, whatever the figure: ties
// (which it leaves to FixedView), negatives that print as zero, figures
// past its fast path's reach, and what is not a number.
TEST(ReportFormat, WriteFixedViewWritesFixedViewsText) {
  Rng rng(9);
  std::vector<double> figures = {0.0,
                                 -0.0,
                                 0.5,
                                 -0.5,
                                 2.5,
                                 1.25,
                                 -1.25,
                                 0.0005,
                                 -0.0004,
                                 999999.9999995,
                                 1e15,
                                 -1e15,
                                 1e300,
                                 5e-324,
                                 std::numeric_limits<double>::quiet_NaN(),
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity()};
  for (int i = 0; i < 200'000; ++i) {
    const double magnitude = std::pow(10.0, -8 + 24 * rng.Uniform());
    double v = magnitude * rng.Uniform();
    if (rng.Bernoulli(0.2)) v = std::round(v * 1e3) / 1e3 + 0.0005;  // near a tie at 3 decimals
    figures.push_back(rng.Bernoulli(0.3) ? -v : v);
  }
  for (double v : figures) {
    for (int decimals = 0; decimals <= 12; ++decimals) {
      FixedScratch scratch;
      const std::string_view want = FixedView(v, decimals, scratch);
      char out[kFixedViewRoom];
      const char* end = WriteFixedView(v, decimals, out);
      ASSERT_EQ(std::string_view(out, static_cast<size_t>(end - out)), want) << v << " at " << decimals;
    }
  }
}

}  // namespace
}  // namespace stargate::twin::report
