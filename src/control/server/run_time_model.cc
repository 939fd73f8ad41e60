#include "control/server/run_time_model.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace stargate::control {
namespace {

constexpr float kNone = NAN;

// FNV-1a: the same command hashes the same in every run of the server.
uint64_t Hash(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

float LogSeconds(Duration d) { return static_cast<float>(std::log(std::max(1.0, d.seconds()))); }

// The entry for `key`, made (dropping the least recently touched when
// the map is full) and touched at `at`.
template <class Map>
typename Map::mapped_type& Touch(Map& m, const typename Map::key_type& key, uint64_t at, size_t max) {
  auto it = m.find(key);
  if (it == m.end()) {
    if (m.size() >= max) {
      // Drop the least recently touched tenth at once: a server refilling
      // from many unique names pays O(1) amortised, not a scan per name.
      std::vector<uint64_t> lasts;
      lasts.reserve(m.size());
      for (const auto& e : m) lasts.push_back(e.second.last);
      const auto cut = lasts.begin() + static_cast<std::ptrdiff_t>(m.size() / 10);
      std::nth_element(lasts.begin(), cut, lasts.end());
      const uint64_t below = *cut;
      std::erase_if(m, [below](const auto& e) { return e.second.last < below; });
      if (m.size() >= max) m.erase(m.begin());  // (ties)
    }
    it = m.emplace(key, typename Map::mapped_type{}).first;
  }
  it->second.last = at;
  return it->second;
}

void Push(std::deque<float>& to, const std::vector<float>& v, size_t keep) {
  to.insert(to.end(), v.begin(), v.end());
  while (to.size() > keep) to.pop_front();
}

}  // namespace

RunFeatures FeaturesOf(const JobFile& f) {
  RunFeatures r;
  r.tenant = f.spec.tenant;
  r.name = f.spec.name;
  r.command = Hash(f.image, Hash(f.run));
  r.kind = f.spec.kind;
  r.devices = std::max(1, f.spec.accelerator_count);
  r.accelerator = f.spec.accelerators.empty() ? AcceleratorType::kCpu : f.spec.accelerators.front();
  r.given = f.estimate_auto ? Duration::Zero() : f.estimate;
  return r;
}

size_t RunFeaturesHash::operator()(const RunFeatures& f) const {
  size_t h = std::hash<std::string>()(f.tenant);
  for (const size_t x :
       {std::hash<std::string>()(f.name), static_cast<size_t>(f.command), static_cast<size_t>(f.kind),
        static_cast<size_t>(f.devices), static_cast<size_t>(f.accelerator), static_cast<size_t>(f.given.nanos())}) {
    h = h * 1000003 ^ x;
  }
  return h;
}

std::string_view Name(EstimateSource s) {
  switch (s) {
    case EstimateSource::kModel:
      return "model";
    case EstimateSource::kGroup:
      return "group";
    case EstimateSource::kTenant:
      return "tenant";
    case EstimateSource::kFile:
      return "file";
    case EstimateSource::kDefault:
      return "default";
  }
  return "default";
}

void RunTimeModel::Recent::Add(float x, uint64_t at) {
  v.push_back(x);
  if (v.size() > kKeep) v.pop_front();
  last = at;
  median.reset();
}

float RunTimeModel::Recent::Median() const {
  if (v.empty()) return kNone;
  if (!median) {
    std::vector<float> s(v.begin(), v.end());
    const auto mid = s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2);
    std::nth_element(s.begin(), mid, s.end());
    median = *mid;
  }
  return *median;
}

std::vector<float> RunTimeModel::Row(const RunFeatures& f) const {
  std::vector<float> x(kCols, kNone);
  if (f.given > Duration::Zero()) x[0] = LogSeconds(f.given);
  if (auto g = groups_.find({f.tenant, f.name}); g != groups_.end()) {
    const Group& group = g->second;
    if (!group.runs.v.empty()) {
      x[1] = group.runs.Median();
      x[3] = group.runs.v.back();
    }
    x[2] = std::log1p(static_cast<float>(group.runs.v.size()));
    if (group.ends > 0) x[10] = static_cast<float>(group.early) / static_cast<float>(group.ends);
  } else {
    x[2] = 0;
  }
  if (auto c = commands_.find({f.tenant, f.command}); c != commands_.end()) x[4] = c->second.Median();
  if (auto t = tenants_.find(f.tenant); t != tenants_.end()) x[5] = t->second.Median();
  if (auto t = tenant_ratio_.find(f.tenant); t != tenant_ratio_.end()) x[6] = t->second.Median();
  x[7] = static_cast<float>(f.kind);
  x[8] = std::log(static_cast<float>(std::max(1, f.devices)));
  x[9] = static_cast<float>(f.accelerator);
  if (auto t = tenant_ends_.find(f.tenant); t != tenant_ends_.end() && t->second.ends > 0) {
    x[11] = static_cast<float>(t->second.early) / static_cast<float>(t->second.ends);
  }
  return x;
}

float RunTimeModel::Baseline(const RunFeatures& f) const {
  if (f.given > Duration::Zero()) return LogSeconds(f.given);
  if (auto g = groups_.find({f.tenant, f.name}); g != groups_.end() && !g->second.runs.v.empty()) {
    return g->second.runs.Median();
  }
  if (auto c = commands_.find({f.tenant, f.command}); c != commands_.end()) return c->second.Median();
  if (auto t = tenants_.find(f.tenant); t != tenants_.end()) return t->second.Median();
  return LogSeconds(o_.fallback);
}

void RunTimeModel::Observe(const RunFeatures& f, Duration ran, bool succeeded) {
  const bool early = !succeeded && ran <= kEarly;
  const std::vector<float> x = Row(f);  // from the history before this run
  const size_t window = o_.window * kCols;
  Push(end_x_, x, window);
  Push(end_y_, {early ? 1.0f : 0.0f}, o_.window);
  const float y = LogSeconds(ran);
  if (succeeded) {
    Push(run_x_, x, window);
    Push(run_y_, {y}, o_.window);
    Push(run_m_, {Baseline(f)}, o_.window);
    ++runs_seen_;
  }
  ++new_rows_;
  ++ends_seen_;
  if (early) ++early_seen_;
  const uint64_t at = ++adds_;
  Group& g = Touch(groups_, {f.tenant, f.name}, at, kMaxGroups);
  Group& t = Touch(tenant_ends_, f.tenant, at, kMaxGroups);
  for (Group* e : {&g, &t}) {
    ++e->ends;
    if (early) ++e->early;
  }
  if (succeeded) {
    g.runs.Add(y, at);
    Touch(commands_, {f.tenant, f.command}, at, kMaxGroups).Add(y, at);
    Touch(tenants_, f.tenant, at, kMaxGroups).Add(y, at);
    if (f.given > Duration::Zero()) Touch(tenant_ratio_, f.tenant, at, kMaxGroups).Add(y - LogSeconds(f.given), at);
  }
  if (!model_.run) ++version_;  // the fallback's medians moved
}

RunPrediction RunTimeModel::Fallback(const RunFeatures& f) const {
  RunPrediction p;
  auto g = groups_.find({f.tenant, f.name});
  if (g != groups_.end() && g->second.runs.v.size() >= kMinGroup) {
    p.run_time = Duration::FromSeconds(std::exp(static_cast<double>(g->second.runs.Median())));
    p.source = EstimateSource::kGroup;
    p.from = fmt::format("median of {} runs of {}/{}", g->second.runs.v.size(), f.tenant, f.name);
  } else if (auto t = tenant_ratio_.find(f.tenant);
             f.given > Duration::Zero() && t != tenant_ratio_.end() && t->second.v.size() >= kMinTenant) {
    const double share = std::exp(static_cast<double>(t->second.Median()));
    p.run_time = Duration::FromSeconds(std::min(f.given.seconds() * share, Duration::Days(30).seconds()));
    p.source = EstimateSource::kTenant;
    p.from = fmt::format("the file's estimate x {:.2f}, tenant {}'s median share of it ({} runs)", share, f.tenant,
                         t->second.v.size());
  } else if (f.given > Duration::Zero()) {
    p.run_time = f.given;
    p.source = EstimateSource::kFile;
    p.from = "the job file";
  } else {
    p.run_time = o_.fallback;
    p.source = EstimateSource::kDefault;
    p.from = fmt::format("no history yet: the default of {:g} h", o_.fallback.hours());
  }
  if (g != groups_.end() && static_cast<size_t>(g->second.ends) >= kMinGroup) {
    p.fail_early = static_cast<double>(g->second.early) / g->second.ends;
  } else if (auto t = tenant_ends_.find(f.tenant); t != tenant_ends_.end() && t->second.ends >= 10) {
    p.fail_early = static_cast<double>(t->second.early) / t->second.ends;
  }
  return p;
}

RunPrediction RunTimeModel::Predict(const RunFeatures& f) const { return Predict(std::vector<RunFeatures>{f})[0]; }

std::vector<RunPrediction> RunTimeModel::Predict(const std::vector<RunFeatures>& fs) const {
  std::vector<RunPrediction> out;
  out.reserve(fs.size());
  std::vector<float> rows, margins;
  if (model_.run) {
    rows.reserve(fs.size() * kCols);
    for (const RunFeatures& f : fs) {
      const std::vector<float> x = Row(f);
      rows.insert(rows.end(), x.begin(), x.end());
      margins.push_back(Baseline(f));
    }
  }
  StatusOr<std::vector<float>> runs = absl::UnavailableError("no model");
  StatusOr<std::vector<float>> early = absl::UnavailableError("no model");
  if (model_.run && !fs.empty()) {
    runs = model_.run->Predict(rows, kCols, margins);
    early = model_.early->Predict(rows, kCols);
  }
  for (size_t i = 0; i < fs.size(); ++i) {
    // A model that failed to predict (it should not) leaves the fallback.
    if (!runs.ok() || !early.ok()) {
      out.push_back(Fallback(fs[i]));
      continue;
    }
    RunPrediction p;
    const double s = std::exp(static_cast<double>((*runs)[i]));
    p.run_time = Duration::FromSeconds(std::clamp(s, 1.0, Duration::Days(30).seconds()));
    p.fail_early = std::clamp(static_cast<double>((*early)[i]), 0.0, 1.0);
    p.source = EstimateSource::kModel;
    auto g = groups_.find({fs[i].tenant, fs[i].name});
    if (g != groups_.end()) {  // the model's chance as a prior worth kPriorEnds of the group's own ends
      p.fail_early = (g->second.early + kPriorEnds * p.fail_early) / (g->second.ends + kPriorEnds);
    }
    // (Not how many runs it learned from: those are every tenant's.)
    p.from = fmt::format("learned model ({} earlier runs of {}/{})", g == groups_.end() ? 0 : g->second.runs.v.size(),
                         fs[i].tenant, fs[i].name);
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<RunTimeModel::Batch> RunTimeModel::TakeBatch() {
  if (runs_seen_ < o_.min_train || run_y_.empty()) return std::nullopt;
  if (model_.run && new_rows_ < o_.batch) return std::nullopt;
  Batch b;
  b.run_x.assign(run_x_.begin(), run_x_.end());
  b.run_y.assign(run_y_.begin(), run_y_.end());
  b.run_m.assign(run_m_.begin(), run_m_.end());
  b.end_x.assign(end_x_.begin(), end_x_.end());
  b.end_y.assign(end_y_.begin(), end_y_.end());
  b.runs = runs_seen_;
  new_rows_ = 0;
  return b;
}

void RunTimeModel::Publish(Trained t) {
  if (!t.run || !t.early) return;
  trained_on_ = t.runs;
  model_ = std::move(t);
  ++version_;
}

StatusOr<RunTimeModel::Trained> RunTimeModel::Trainer::Train(const Batch& b) {
  int rounds = o_.rounds;
  if (!run_ || run_->rounds() + o_.rounds > o_.max_rounds) {  // the first, or refitted afresh
    auto mean = [](const std::vector<float>& v) {
      double sum = 0;
      for (float x : v) sum += x;
      return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
    };
    SG_ASSIGN_OR_RETURN(BoostedTrees run, BoostedTrees::Create({{"objective", "reg:squarederror"},
                                                                {"max_depth", "4"},
                                                                {"eta", "0.3"},
                                                                {"min_child_weight", "20"},
                                                                {"lambda", "10"},
                                                                {"base_score", "0"}}));
    const double rate = std::clamp(mean(b.end_y), 0.01, 0.99);
    SG_ASSIGN_OR_RETURN(BoostedTrees early, BoostedTrees::Create({{"objective", "binary:logistic"},
                                                                  {"max_depth", "3"},
                                                                  {"eta", "0.3"},
                                                                  {"base_score", fmt::format("{}", rate)}}));
    run_ = std::move(run);
    early_ = std::move(early);
    rounds = o_.refit_rounds;
  }
  SG_RETURN_IF_ERROR(run_->Boost(b.run_x, kCols, b.run_y, rounds, b.run_m));
  SG_RETURN_IF_ERROR(early_->Boost(b.end_x, kCols, b.end_y, rounds));
  Trained t;
  SG_ASSIGN_OR_RETURN(BoostedTrees run_copy, run_->Copy());
  SG_ASSIGN_OR_RETURN(BoostedTrees early_copy, early_->Copy());
  t.run = std::make_shared<const BoostedTrees>(std::move(run_copy));
  t.early = std::make_shared<const BoostedTrees>(std::move(early_copy));
  t.runs = b.runs;
  return t;
}

}  // namespace stargate::control
