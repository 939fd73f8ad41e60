#include "oracle/linear_program.h"

#include <coin/Clp_C_Interface.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>

namespace stargate::oracle {
namespace {

struct ModelDeleter {
  void operator()(Clp_Simplex* m) const { Clp_deleteModel(m); }
};
using Model = std::unique_ptr<Clp_Simplex, ModelDeleter>;

constexpr double kInfinity = 1e30;  // CLP reads anything this large as infinite
constexpr double kProvenTolerance = 1e-4;

}  // namespace

int LinearProgram::AddColumn(double upper) {
  upper_.push_back(upper);
  return columns() - 1;
}

int LinearProgram::AddRow(Row kind, double rhs) {
  rows_.push_back(RowSpec{kind, rhs});
  return static_cast<int>(rows_.size()) - 1;
}

void LinearProgram::Set(int row, int column, double coef) { cells_.push_back(Cell{row, column, coef}); }

StatusOr<std::vector<LinearProgram::Minimum>> LinearProgram::MinimiseEach(
    const std::vector<std::vector<double>>& objectives) const {
  if (columns() == 0 || rows_.empty()) return absl::InvalidArgumentError("the program has no columns or no rows");
  for (const RowSpec& r : rows_) {
    if (!std::isfinite(r.rhs)) return absl::InvalidArgumentError("a row's limit is not finite");
  }
  for (double u : upper_) {
    if (std::isnan(u) || u < 0) return absl::InvalidArgumentError("a column's upper bound is negative or NaN");
  }
  for (const Cell& c : cells_) {
    if (!std::isfinite(c.coef) || c.row < 0 || c.row >= rows() || c.column < 0 || c.column >= columns()) {
      return absl::InvalidArgumentError(fmt::format("bad matrix cell ({}, {})", c.row, c.column));
    }
  }
  for (const std::vector<double>& obj : objectives) {
    if (obj.size() != static_cast<size_t>(columns())) {
      return absl::InvalidArgumentError("an objective's length is not the number of columns");
    }
    for (double v : obj) {
      if (!std::isfinite(v)) return absl::InvalidArgumentError("an objective coefficient is not finite");
    }
  }
  // The matrix by column (CLP's layout), each cell once.
  std::vector<size_t> order(cells_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(cells_[a].column, cells_[a].row) < std::tie(cells_[b].column, cells_[b].row);
  });
  std::vector<CoinBigIndex> start(static_cast<size_t>(columns()) + 1, 0);
  std::vector<int> index(cells_.size());
  std::vector<double> value(cells_.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const Cell& c = cells_[order[k]];
    if (k > 0 && c.column == cells_[order[k - 1]].column && c.row == cells_[order[k - 1]].row) {
      return absl::InvalidArgumentError("a matrix cell is set twice");
    }
    index[k] = c.row;
    value[k] = c.coef;
    ++start[static_cast<size_t>(c.column) + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<double> col_lo(static_cast<size_t>(columns()), 0.0), col_up(static_cast<size_t>(columns()));
  for (size_t j = 0; j < col_up.size(); ++j) col_up[j] = upper_[j] >= kUnbounded ? kInfinity : upper_[j];
  std::vector<double> row_lo(rows_.size()), row_up(rows_.size());
  for (size_t i = 0; i < rows_.size(); ++i) {
    row_up[i] = rows_[i].rhs;
    row_lo[i] = rows_[i].kind == Row::kEqual ? rows_[i].rhs : -kInfinity;
  }

  // Each objective scaled to a largest coefficient of 1: CLP's tolerances
  // are absolute, and the oracle's coefficients (tonnes per device-hour,
  // ~1e-4) are small enough that its default dual tolerance left reduced
  // costs off by a relative 5e-4, and the duality bound with them.
  std::vector<double> scale(objectives.size(), 1.0);
  std::vector<std::vector<double>> scaled(objectives);
  for (size_t k = 0; k < objectives.size(); ++k) {
    double largest = 0;
    for (double v : objectives[k]) largest = std::max(largest, std::abs(v));
    if (largest > 0) scale[k] = 1.0 / largest;
    for (double& v : scaled[k]) v *= scale[k];
  }

  Model model(Clp_newModel());
  Clp_setLogLevel(model.get(), 0);
  Clp_loadProblem(model.get(), columns(), rows(), start.data(), index.data(), value.data(), col_lo.data(),
                  col_up.data(), scaled.empty() ? nullptr : scaled[0].data(), row_lo.data(), row_up.data());
  Clp_setOptimizationDirection(model.get(), 1);

  // The Lagrangian bound of the row duals y the solve ended with: no
  // feasible x beats it, whatever y is (nullopt when a column it needs has
  // no finite upper bound).
  auto duality_bound = [&](const std::vector<double>& obj) -> std::optional<double> {
    const double* dual = Clp_dualRowSolution(model.get());
    std::vector<double> y(rows_.size());
    double bound = 0;
    for (size_t i = 0; i < rows_.size(); ++i) {
      y[i] = rows_[i].kind == Row::kAtMost ? std::min(0.0, dual[i]) : dual[i];
      bound += y[i] * rows_[i].rhs;
    }
    std::vector<double> reduced(obj);
    for (const Cell& c : cells_) reduced[static_cast<size_t>(c.column)] -= c.coef * y[static_cast<size_t>(c.row)];
    for (size_t j = 0; j < reduced.size(); ++j) {
      if (reduced[j] >= 0) continue;
      if (upper_[j] >= kUnbounded) return std::nullopt;
      bound += reduced[j] * upper_[j];
    }
    return bound;
  };

  std::vector<Minimum> values;
  for (size_t k = 0; k < objectives.size(); ++k) {
    if (k == 0) {
      Clp_initialSolve(model.get());  // presolve, then CLP's choice of method
      // The primal simplex from where it ended: already optimal, so only a
      // few pivots at most, and the duals then come from the final basis
      // itself (after presolve they can be off enough to lose the proof).
      if (Clp_status(model.get()) == 0) Clp_primal(model.get(), 0);
    } else {
      // Same constraints: the last optimal basis is still feasible, so the
      // primal simplex goes on from it.
      Clp_chgObjCoefficients(model.get(), scaled[k].data());
      Clp_primal(model.get(), 0);
    }
    switch (Clp_status(model.get())) {
      case 0:
        break;
      case 1:
        return absl::FailedPreconditionError("the program is infeasible");
      case 2:
        return absl::FailedPreconditionError("the program is unbounded");
      default:
        return absl::InternalError(fmt::format("CLP stopped without an optimum (status {})", Clp_status(model.get())));
    }
    const double optimum = Clp_objectiveValue(model.get()) / scale[k];
    Minimum m{optimum, false, {}};
    const double* primal = Clp_getColSolution(model.get());
    m.x.assign(primal, primal + columns());
    // Prefer the proven figure: it is what "no schedule spends less" may
    // rest on. With the objective scaled it meets the optimum within ~1e-13
    // (relative) on the oracle's programs; rounding may put it a hair
    // above, and further apart than 1e-4 it is not used. The lower of the
    // two is at most the true optimum either way.
    std::optional<double> bound = duality_bound(scaled[k]);
    if (bound.has_value()) *bound /= scale[k];
    if (bound.has_value() && std::abs(optimum - *bound) <= kProvenTolerance * std::abs(optimum) + 1e-9) {
      m.value = std::min(*bound, optimum);
      m.by_duality = true;
    }
    values.push_back(m);
  }
  return values;
}

}  // namespace stargate::oracle
