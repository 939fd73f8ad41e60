// File: boosted_trees.h
// Gradient-boosted trees from Debian's xgboost (its C API), as the run-time
// model (run_time_model.h) needs them: dense float rows with NaN for a
// missing feature, more rounds added to a model already trained (xgboost
// fits each new tree to what the earlier ones leave on the rows given, so
// a model grows incrementally as jobs finish), a copy to predict with
// while the original goes on training, and predictions for many rows at
// once. One thread per booster (nthread 1) and a fixed seed: the same
// rows give the same trees.
// Not thread-safe: one owner at a time (a copy may go to another thread).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace stargate::control {

class BoostedTrees {
 public:
  // `params`: xgboost's (objective, max_depth, eta, ...), added to
  // nthread 1, seed 0, tree_method hist and verbosity 0.
  static StatusOr<BoostedTrees> Create(const std::map<std::string, std::string>& params);
  BoostedTrees(BoostedTrees&& o) noexcept;
  BoostedTrees& operator=(BoostedTrees&& o) noexcept;
  BoostedTrees(const BoostedTrees&) = delete;
  BoostedTrees& operator=(const BoostedTrees&) = delete;
  ~BoostedTrees();

  // Adds `rounds` trees fitted on `rows` (row-major, rows.size() / cols
  // rows) against `labels`. `margin` (one per row, or empty): where each
  // row's prediction starts before the trees (xgboost's base_margin), so
  // the trees learn the correction to a baseline.
  Status Boost(const std::vector<float>& rows, size_t cols, const std::vector<float>& labels, int rounds,
               const std::vector<float>& margin = {});
  // One prediction per row (for binary:logistic, a probability); the same
  // `margin` as in training.
  StatusOr<std::vector<float>> Predict(const std::vector<float>& rows, size_t cols,
                                       const std::vector<float>& margin = {}) const;
  // The same trees in a new booster (through xgboost's own model format).
  StatusOr<BoostedTrees> Copy() const;
  int rounds() const { return rounds_; }

 private:
  explicit BoostedTrees(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;  // BoosterHandle
  int rounds_ = 0;
};

}  // namespace stargate::control
