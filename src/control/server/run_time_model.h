// File: run_time_model.h
// Learned run-time estimates: how long a job will run, and its chance of
// failing early, from how jobs like it ran (issue 19). `estimate: auto`,
// the default when a job file gives none, schedules a job (backfill,
// scoring) on this prediction; the forecast runs every job for it.
//
// A job is like others by its group (the same tenant and name), its
// command (the same tenant and `run` + image), its tenant, its kind, size
// and accelerator, and the estimate its file gives (users over-estimate:
// a backfill scheduler rewards a generous limit; Tsafrir, Etsion and
// Feitelson, "Backfilling using system-generated predictions rather than
// user runtime estimates", IEEE TPDS 18(6), 2007, found predictions from
// a user's recent jobs beat the users' own). Each finished first attempt
// becomes a row of those features, computed from the history before it
// (so training never sees the answer), and the history grows.
//
// The prediction, in order:
//   1. a gradient-boosted model (boosted_trees.h: xgboost), once
//      Options::min_train whole runs have been seen: log run time by
//      squared error, and a second model for failing early (logistic);
//   2. while history is short, the median of the group's runs once it has
//      kMinGroup;
//   3. the file's estimate, times its tenant's usual share of an estimate
//      (the median run/estimate) once the tenant has kMinTenant runs;
//   4. the file's estimate;
//   5. Options::fallback (1 h) when the file gives none.
// The trees learn a correction to a baseline (xgboost's base margin):
// the file's estimate, or for `estimate: auto` the median of the group's,
// the command's or the tenant's runs, else the fallback; so a file that
// is right stays right, and one that is generous by habit is corrected.
// The chance of failing early is the second model's, taken as a prior
// worth kPriorEnds ends and updated by the group's own record. The model
// is trained incrementally: every Options::batch new runs a few
// more trees are fitted on the most recent Options::window rows (what the
// earlier trees leave unexplained), and past Options::max_rounds trees it
// is refitted afresh on the window, so the model follows a workload that
// drifts and stays bounded. Training runs off the control plane's lock in
// two halves: TakeBatch copies the rows under it, a Trainer fits them on
// another thread, Publish swaps the result in under it.
//
// "Failing early": a first attempt that ends by a rank's own non-zero exit
// within kEarly of its start (an import error, a bad path, out of memory
// at load); lost nodes, preemptions and cancels say nothing of the job.
// Lives in memory; the server refills it from the stored jobs at start.
// Not thread-safe (the control plane's lock guards it; a Trainer has its
// own owner).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/server/boosted_trees.h"
#include "core/accelerator.h"
#include "core/job_file.h"
#include "core/job_spec.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

// What a job is like, from its file.
struct RunFeatures {
  std::string tenant, name;
  uint64_t command = 0;  // a hash of `run` and `image`
  JobKind kind = JobKind::kBatch;
  int devices = 1;  // nodes x accelerators per node
  AcceleratorType accelerator = AcceleratorType::kCpu;
  Duration given = Duration::Zero();  // the file's estimate; zero = `estimate: auto`
  bool operator==(const RunFeatures&) const = default;
};
RunFeatures FeaturesOf(const JobFile& f);
// For maps keyed by features (jobs alike share a prediction).
struct RunFeaturesHash {
  size_t operator()(const RunFeatures& f) const;
};

enum class EstimateSource : uint8_t { kModel, kGroup, kTenant, kFile, kDefault };
// "model", "group", "tenant", "file", "default" (the API's words).
std::string_view Name(EstimateSource s);

struct RunPrediction {
  Duration run_time;
  double fail_early = 0;  // chance its next attempt fails by its own exit within kEarly
  EstimateSource source = EstimateSource::kDefault;
  std::string from;  // in words, for `job show`: "learned model (9 earlier runs of ml/train)"
};

struct RunTimeModelOptions {
  size_t min_train = 40;  // whole runs before the first model
  size_t batch = 32;      // new rows between trainings
  size_t window = 4096;   // rows trained on (the most recent)
  int rounds = 4;         // trees added per training
  int max_rounds = 160;   // past it, refitted afresh
  int refit_rounds = 40;
  Duration fallback = Duration::Hours(1);
};

class RunTimeModel {
 public:
  using Options = RunTimeModelOptions;
  static constexpr Duration kEarly = Duration::Minutes(10);
  static constexpr size_t kMinGroup = 3;
  static constexpr size_t kMinTenant = 10;
  // The early-failure model's chance counts as this many of the group's
  // own ends (a Beta prior): a group with a long record is its own best
  // witness, a new one the model's.
  static constexpr double kPriorEnds = 10;
  static constexpr size_t kKeep = 64;           // runs kept per group, command and tenant
  static constexpr size_t kMaxGroups = 10'000;  // per kind of group; the least recently seen dropped
  static constexpr size_t kCols = 12;

  RunTimeModel() : RunTimeModel(Options{}) {}
  explicit RunTimeModel(Options o) : o_(o) {}

  // A first attempt's end: succeeded after `ran`, or failed by a rank's
  // own exit after `ran`.
  void Observe(const RunFeatures& f, Duration ran, bool succeeded);
  RunPrediction Predict(const RunFeatures& f) const;
  // Many at once (one pass over the trees).
  std::vector<RunPrediction> Predict(const std::vector<RunFeatures>& fs) const;
  // Moves when predictions may change: a new model published, or (before
  // there is one) a run observed. A prediction made under another version
  // is stale.
  uint64_t version() const { return version_; }
  size_t runs() const { return runs_seen_; }         // whole runs observed
  size_t trained_on() const { return trained_on_; }  // runs the published model had seen

  // Rows to train on, when Options::batch new ones have come since the
  // last (and there are Options::min_train runs); else nullopt.
  struct Batch {
    std::vector<float> run_x, run_y, run_m;  // successful runs: features, log seconds, baseline
    std::vector<float> end_x, end_y;         // all ends: features, 1 = failed early
    size_t runs = 0;                         // runs seen so far
  };
  std::optional<Batch> TakeBatch();
  struct Trained {
    std::shared_ptr<const BoostedTrees> run, early;
    size_t runs = 0;
  };
  // Fits batches into a growing model. Its own owner (one at a time).
  class Trainer {
   public:
    explicit Trainer(Options o = {}) : o_(o) {}
    StatusOr<Trained> Train(const Batch& b);

   private:
    Options o_;
    std::optional<BoostedTrees> run_, early_;
  };
  void Publish(Trained t);

 private:
  struct Recent {  // log run seconds, the most recent kKeep
    std::deque<float> v;
    uint64_t last = 0;
    mutable std::optional<float> median;
    void Add(float x, uint64_t at);
    float Median() const;
  };
  struct Group {
    Recent runs;
    int ends = 0, early = 0;
    uint64_t last = 0;
  };
  std::vector<float> Row(const RunFeatures& f) const;
  float Baseline(const RunFeatures& f) const;  // log seconds
  RunPrediction Fallback(const RunFeatures& f) const;

  Options o_;
  std::map<std::pair<std::string, std::string>, Group> groups_;
  std::map<std::pair<std::string, uint64_t>, Recent> commands_;
  std::map<std::string, Recent> tenants_;
  std::map<std::string, Recent> tenant_ratio_;               // log(run / given)
  std::map<std::string, Group> tenant_ends_;                 // ends and early failures per tenant
  std::deque<float> run_x_, run_y_, run_m_, end_x_, end_y_;  // the window, row after row
  size_t new_rows_ = 0;
  size_t runs_seen_ = 0, ends_seen_ = 0, early_seen_ = 0;
  uint64_t adds_ = 0;
  uint64_t version_ = 0;
  Trained model_;
  size_t trained_on_ = 0;
};

}  // namespace stargate::control
