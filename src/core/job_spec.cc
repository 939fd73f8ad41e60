#include "core/job_spec.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace stargate {

std::string_view Name(JobKind k) {
  switch (k) {
    case JobKind::kTraining:
      return "training";
    case JobKind::kFineTune:
      return "finetune";
    case JobKind::kBatch:
      return "batch";
    case JobKind::kInference:
      return "inference";
  }
  return "unknown";
}

void SortBySubmit(std::vector<JobSpec>& jobs) {
  const auto by_submit = [](const JobSpec& a, const JobSpec& b) { return a.submit < b.submit; };
  if (std::is_sorted(jobs.begin(), jobs.end(), by_submit)) return;  // a generated workload already is
  if (jobs.size() > UINT32_MAX) {                                   // past 32-bit positions: the plain sort
    std::stable_sort(jobs.begin(), jobs.end(), by_submit);
    return;
  }
  // The submit times are read out once and sorted with their positions
  // (the position breaks ties: a stable order); comparing through the specs
  // missed the cache at nearly every comparison of a million.
  std::vector<std::pair<Time, uint32_t>> keyed(jobs.size());
  for (uint32_t i = 0; i < keyed.size(); ++i) keyed[i] = {jobs[i].submit, i};
  std::sort(keyed.begin(), keyed.end());
  std::vector<uint32_t> order(jobs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = keyed[i].second;
  keyed = {};
  // Position i takes the spec at order[i]: followed round each cycle of the
  // permutation, in place (a sorted copy was another ~450 MB of fresh
  // memory for a million specs). A placed position points at itself.
  for (uint32_t i = 0; i < order.size(); ++i) {
    if (order[i] == i) continue;
    JobSpec held = std::move(jobs[i]);
    uint32_t at = i;
    while (order[at] != i) {
      const uint32_t from = order[at];
      jobs[at] = std::move(jobs[from]);
      order[at] = at;
      at = from;
    }
    jobs[at] = std::move(held);
    order[at] = at;
  }
}

}  // namespace stargate
