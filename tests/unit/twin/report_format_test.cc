// report::Fixed: printf's digits, a positive zero for anything that prints
// as zero (figures just below zero included, where rounding a half-unit to
// even gives zero too), and "" for what is not a number.
#include "twin/report_format.h"

#include <gtest/gtest.h>

#include <limits>

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

}  // namespace
}  // namespace stargate::twin::report
