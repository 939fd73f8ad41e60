#include "control/server/run_time_history.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace stargate::control {

void RunTimeHistory::Add(const std::string& tenant, const std::string& name, double ratio) {
  if (!(ratio >= 0.01 && ratio <= 100)) return;
  auto key = std::make_pair(tenant, name);
  if (!groups_.count(key) && groups_.size() >= kMaxGroups) {
    auto oldest = std::min_element(groups_.begin(), groups_.end(),
                                   [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    groups_.erase(oldest);
  }
  Group& g = groups_[key];
  g.ratios.push_back(ratio);
  if (g.ratios.size() > kKeep) g.ratios.pop_front();
  g.last = ++adds_;
  g.median.reset();
  all_.push_back(ratio);
  if (all_.size() > kKeep * 16) all_.pop_front();
  all_median_.reset();
}

double RunTimeHistory::Median(const std::deque<double>& v) {
  std::vector<double> s(v.begin(), v.end());
  const size_t mid = s.size() / 2;
  std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(mid), s.end());
  return s[mid];
}

RunTimeHistory::Estimate RunTimeHistory::For(const std::string& tenant, const std::string& name) const {
  if (auto it = groups_.find({tenant, name}); it != groups_.end() && it->second.ratios.size() >= kMinGroup) {
    const Group& g = it->second;
    if (!g.median) g.median = Median(g.ratios);
    return {*g.median, fmt::format("{} earlier runs of {}/{}", g.ratios.size(), tenant, name)};
  }
  if (all_.size() >= kMinAll) {
    if (!all_median_) all_median_ = Median(all_);
    return {*all_median_, fmt::format("{} earlier jobs", all_.size())};
  }
  return {1.0, "the job file"};
}

}  // namespace stargate::control
