#include "control/server/boosted_trees.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <xgboost/c_api.h>

namespace stargate::control {
namespace {

Status Check(int rc, const char* what) {
  if (rc == 0) return Status();
  return absl::InternalError(fmt::format("xgboost {}: {}", what, XGBGetLastError()));
}

// A DMatrix freed on scope exit.
struct Matrix {
  DMatrixHandle h = nullptr;
  ~Matrix() {
    if (h != nullptr) XGDMatrixFree(h);
  }
};

Status MakeMatrix(const std::vector<float>& rows, size_t cols, const std::vector<float>& margin, Matrix* m) {
  if (cols == 0 || rows.size() % cols != 0) {
    return absl::InvalidArgumentError(fmt::format("{} values are not rows of {}", rows.size(), cols));
  }
  if (!margin.empty() && margin.size() != rows.size() / cols) {
    return absl::InvalidArgumentError(fmt::format("{} margins for {} rows", margin.size(), rows.size() / cols));
  }
  // One thread here too: no OpenMP pool of every core inside the server.
  SG_RETURN_IF_ERROR(
      Check(XGDMatrixCreateFromMat_omp(rows.data(), rows.size() / cols, cols, NAN, &m->h, /*nthread=*/1), "matrix"));
  if (margin.empty()) return Status();
  return Check(XGDMatrixSetFloatInfo(m->h, "base_margin", margin.data(), margin.size()), "margins");
}

}  // namespace

StatusOr<BoostedTrees> BoostedTrees::Create(const std::map<std::string, std::string>& params) {
  BoosterHandle h = nullptr;
  SG_RETURN_IF_ERROR(Check(XGBoosterCreate(nullptr, 0, &h), "create"));
  BoostedTrees b(h);
  std::map<std::string, std::string> all = {
      {"nthread", "1"}, {"seed", "0"}, {"tree_method", "hist"}, {"verbosity", "0"}};
  for (const auto& [k, v] : params) all[k] = v;
  for (const auto& [k, v] : all) SG_RETURN_IF_ERROR(Check(XGBoosterSetParam(h, k.c_str(), v.c_str()), k.c_str()));
  return b;
}

BoostedTrees::BoostedTrees(BoostedTrees&& o) noexcept
    : handle_(std::exchange(o.handle_, nullptr)), rounds_(std::exchange(o.rounds_, 0)) {}

BoostedTrees& BoostedTrees::operator=(BoostedTrees&& o) noexcept {
  if (this != &o) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = std::exchange(o.handle_, nullptr);
    rounds_ = std::exchange(o.rounds_, 0);
  }
  return *this;
}

BoostedTrees::~BoostedTrees() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Status BoostedTrees::Boost(const std::vector<float>& rows, size_t cols, const std::vector<float>& labels, int rounds,
                           const std::vector<float>& margin) {
  Matrix m;
  SG_RETURN_IF_ERROR(MakeMatrix(rows, cols, margin, &m));
  if (labels.size() != rows.size() / cols) {
    return absl::InvalidArgumentError(fmt::format("{} labels for {} rows", labels.size(), rows.size() / cols));
  }
  SG_RETURN_IF_ERROR(Check(XGDMatrixSetFloatInfo(m.h, "label", labels.data(), labels.size()), "labels"));
  if (rounds_ == 0) {  // a booster made without matrices learns its width here
    SG_RETURN_IF_ERROR(Check(XGBoosterSetParam(handle_, "num_feature", std::to_string(cols).c_str()), "num_feature"));
  }
  for (int i = 0; i < rounds; ++i) {
    SG_RETURN_IF_ERROR(Check(XGBoosterUpdateOneIter(handle_, rounds_, m.h), "update"));
    ++rounds_;
  }
  return Status();
}

StatusOr<std::vector<float>> BoostedTrees::Predict(const std::vector<float>& rows, size_t cols,
                                                   const std::vector<float>& margin) const {
  Matrix m;
  SG_RETURN_IF_ERROR(MakeMatrix(rows, cols, margin, &m));
  bst_ulong const* shape = nullptr;
  bst_ulong dim = 0;
  float const* out = nullptr;
  static constexpr char kConfig[] =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  SG_RETURN_IF_ERROR(Check(XGBoosterPredictFromDMatrix(handle_, m.h, kConfig, &shape, &dim, &out), "predict"));
  const size_t n = rows.size() / cols;
  return std::vector<float>(out, out + n);
}

StatusOr<BoostedTrees> BoostedTrees::Copy() const {
  bst_ulong len = 0;
  const char* buf = nullptr;
  SG_RETURN_IF_ERROR(Check(XGBoosterSaveModelToBuffer(handle_, R"({"format": "ubj"})", &len, &buf), "save"));
  const std::string bytes(buf, len);  // valid only until the next xgboost call
  SG_ASSIGN_OR_RETURN(BoostedTrees copy, Create({}));
  SG_RETURN_IF_ERROR(Check(XGBoosterLoadModelFromBuffer(copy.handle_, bytes.data(), bytes.size()), "load"));
  copy.rounds_ = rounds_;
  return copy;
}

}  // namespace stargate::control
