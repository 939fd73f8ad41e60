// File: linear_program.h
// A linear program as plain data (columns 0 <= x <= upper, rows that are
// equalities or upper limits, a sparse matrix), minimised once per
// objective over the same constraints by COIN-OR CLP (the LP solver of
// CBC; Debian coinor-libclp-dev, through its C API, its log off). The
// second and later objectives go on from the last optimal basis.
//
// GLPK 5.0 was tried first: its simplex took 40-300 s on the oracle's
// 88k-column programs and its interior point stopped as numerically
// unstable; CLP solves them in seconds.
//
// Each figure is, where it can be, a lower bound proven by duality rather
// than the solver's optimum (which holds only within its tolerances): the
// row duals y it ends with give the Lagrangian bound
//   sum_i b_i y_i + sum_j upper_j * min(0, c_j - sum_i a_ij y_i)
// (y_i <= 0 on upper-limit rows), which no feasible x beats, whatever y is.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace stargate::oracle {

class LinearProgram {
 public:
  enum class Row : uint8_t { kEqual, kAtMost };

  // A column 0 <= x <= upper; returns its index. Give every column the
  // tightest upper bound the rows imply: the duality bound multiplies by it.
  int AddColumn(double upper = kUnbounded);
  static constexpr double kUnbounded = 1e300;
  // A row `sum(coef * x) == rhs` or `<= rhs`; returns its index.
  int AddRow(Row kind, double rhs);
  // Adds `coef` at (row, column); the same cell twice is an error at Solve.
  void Set(int row, int column, double coef);

  int columns() const { return static_cast<int>(upper_.size()); }
  int rows() const { return static_cast<int>(rows_.size()); }
  int64_t nonzeros() const { return static_cast<int64_t>(cells_.size()); }

  struct Minimum {
    double value = 0;         // at most the optimum (by duality), within a relative 1e-4 of it
    bool by_duality = false;  // the interior point's duality bound (else the simplex's optimum)
    std::vector<double> x;    // the solution found (a hair outside the bounds at worst), one per column
  };
  // Minimises each objective (one coefficient per column) in turn. An
  // infeasible or unbounded program, a coefficient that is not finite or a
  // solver failure is an error.
  StatusOr<std::vector<Minimum>> MinimiseEach(const std::vector<std::vector<double>>& objectives) const;

 private:
  struct RowSpec {
    Row kind;
    double rhs;
  };
  struct Cell {
    int row, column;
    double coef;
  };
  std::vector<double> upper_;  // one per column
  std::vector<RowSpec> rows_;
  std::vector<Cell> cells_;
};

}  // namespace stargate::oracle
