#include "oracle/linear_program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace stargate::oracle {
namespace {

using Row = LinearProgram::Row;

// x + y = 10, x <= 4, both at most 10: min x + 2y is at x = 4 (16); min
// 3x + y at x = 0 (10).
constexpr int kX = 0, kY = 1;
LinearProgram SplitOfTen() {
  LinearProgram lp;
  lp.AddColumn(10);
  lp.AddColumn(10);
  const int sum = lp.AddRow(Row::kEqual, 10);
  const int limit = lp.AddRow(Row::kAtMost, 4);
  lp.Set(sum, kX, 1);
  lp.Set(sum, kY, 1);
  lp.Set(limit, kX, 1);
  return lp;
}

TEST(LinearProgram, MinimisesEachObjectiveOverTheSameConstraints) {
  const LinearProgram lp = SplitOfTen();
  StatusOr<std::vector<LinearProgram::Minimum>> v = lp.MinimiseEach({{1, 2}, {3, 1}});
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->size(), 2u);
  // With upper bounds given, each figure is the interior point's duality
  // bound: never above the optimum, and within a relative 1e-4 of it.
  EXPECT_TRUE((*v)[0].by_duality);
  EXPECT_TRUE((*v)[1].by_duality);
  EXPECT_LE((*v)[0].value, 16.0 + 1e-12);
  EXPECT_NEAR((*v)[0].value, 16.0, 1e-3);
  EXPECT_LE((*v)[1].value, 10.0 + 1e-12);
  EXPECT_NEAR((*v)[1].value, 10.0, 1e-3);
  // And each objective's own solution.
  ASSERT_EQ((*v)[0].x.size(), 2u);
  EXPECT_NEAR((*v)[0].x[kX], 4, 1e-6);
  EXPECT_NEAR((*v)[0].x[kY], 6, 1e-6);
  EXPECT_NEAR((*v)[1].x[kX], 0, 1e-6);
  EXPECT_NEAR((*v)[1].x[kY], 10, 1e-6);
}

// CLP's tolerances are absolute: coefficients far below 1 (the oracle's are
// tonnes per device-hour) must still give the optimum, proven.
TEST(LinearProgram, TinyCoefficientsStillFindTheOptimumAndProveIt) {
  const LinearProgram lp = SplitOfTen();
  StatusOr<std::vector<LinearProgram::Minimum>> v = lp.MinimiseEach({{1e-9, 2e-9}, {3e-9, 1e-9}});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE((*v)[0].by_duality);
  EXPECT_TRUE((*v)[1].by_duality);
  EXPECT_NEAR((*v)[0].value, 16e-9, 1e-15);
  EXPECT_NEAR((*v)[1].value, 10e-9, 1e-15);
  EXPECT_NEAR((*v)[0].x[kX], 4, 1e-6);
  EXPECT_NEAR((*v)[1].x[kY], 10, 1e-6);
}

TEST(LinearProgram, ColumnsWithoutUpperBoundsStillGetABound) {
  // min x + 2y, x + y = 10, x <= 4, x and y unbounded above: a duality
  // bound needs no upper bound where reduced costs are not negative, and
  // the simplex answers where one would be needed; either way the figure
  // is at most the optimum and within a relative 1e-4 of it.
  LinearProgram lp;
  const int x = lp.AddColumn(), y = lp.AddColumn();
  const int sum = lp.AddRow(Row::kEqual, 10);
  const int limit = lp.AddRow(Row::kAtMost, 4);
  lp.Set(sum, x, 1);
  lp.Set(sum, y, 1);
  lp.Set(limit, x, 1);
  StatusOr<std::vector<LinearProgram::Minimum>> v = lp.MinimiseEach({{1, 2}});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_LE((*v)[0].value, 16.0 + 1e-12);
  EXPECT_NEAR((*v)[0].value, 16.0, 1e-3);
}

TEST(LinearProgram, TheDualityBoundIsAValidBoundOnATransportProblem) {
  // Two sources (capacity 5 and 8), three sinks (demand 3, 4, 5), costs by
  // pair; the optimum, 27, found by hand: s0->d1 4 (4), s0->d0 1 (2),
  // s1->d0 2 (6), s1->d2 5 (15).
  const double cost[2][3] = {{2, 1, 6}, {3, 5, 3}};
  const double cap[2] = {5, 8}, demand[3] = {3, 4, 5};
  LinearProgram lp;
  int rows_cap[2], rows_dem[3];
  for (int s = 0; s < 2; ++s) rows_cap[s] = lp.AddRow(Row::kAtMost, cap[s]);
  for (int d = 0; d < 3; ++d) rows_dem[d] = lp.AddRow(Row::kEqual, demand[d]);
  std::vector<double> obj;
  for (int s = 0; s < 2; ++s) {
    for (int d = 0; d < 3; ++d) {
      const int x = lp.AddColumn(std::min(cap[s], demand[d]));
      lp.Set(rows_cap[s], x, 1);
      lp.Set(rows_dem[d], x, 1);
      obj.push_back(cost[s][d]);
    }
  }
  StatusOr<std::vector<LinearProgram::Minimum>> v = lp.MinimiseEach({obj});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE((*v)[0].by_duality);
  EXPECT_LE((*v)[0].value, 27.0 + 1e-12);
  EXPECT_NEAR((*v)[0].value, 27.0, 1e-3);
}

TEST(LinearProgram, SaysWhenNothingIsFeasible) {
  LinearProgram lp;
  const int x = lp.AddColumn();
  const int eq = lp.AddRow(Row::kEqual, 10);
  const int le = lp.AddRow(Row::kAtMost, 5);
  lp.Set(eq, x, 1);
  lp.Set(le, x, 1);
  StatusOr<std::vector<LinearProgram::Minimum>> v = lp.MinimiseEach({{1}});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(v.status().message()).find("infeasible"), std::string::npos);
}

TEST(LinearProgram, SaysWhenTheMinimumIsUnbounded) {
  LinearProgram lp;  // x - y <= 1, min -x: x and y grow together for ever
  const int x = lp.AddColumn(), y = lp.AddColumn();
  const int r = lp.AddRow(Row::kAtMost, 1);
  lp.Set(r, x, 1);
  lp.Set(r, y, -1);
  StatusOr<std::vector<LinearProgram::Minimum>> v = lp.MinimiseEach({{-1, 0}});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("unbounded"), std::string::npos);
}

TEST(LinearProgram, RefusesWhatCannotBeSolved) {
  // A repeated cell, a NaN, an objective of the wrong length: errors, not
  // whatever the solver would make of them.
  LinearProgram twice;
  const int x = twice.AddColumn();
  const int r = twice.AddRow(Row::kAtMost, 1);
  twice.Set(r, x, 1);
  twice.Set(r, x, 2);
  EXPECT_FALSE(twice.MinimiseEach({{1}}).ok());

  LinearProgram nan;
  const int c = nan.AddColumn();
  nan.Set(nan.AddRow(Row::kAtMost, std::numeric_limits<double>::quiet_NaN()), c, 1);
  EXPECT_FALSE(nan.MinimiseEach({{1}}).ok());

  LinearProgram short_objective;
  short_objective.AddColumn();
  short_objective.Set(short_objective.AddRow(Row::kAtMost, 1), 0, 1);
  EXPECT_FALSE(short_objective.MinimiseEach({{}}).ok());
  EXPECT_FALSE(LinearProgram().MinimiseEach({{}}).ok());
}

}  // namespace
}  // namespace stargate::oracle
