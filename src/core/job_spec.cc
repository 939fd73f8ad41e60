#include "core/job_spec.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

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
  std::vector<uint32_t> order(jobs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return jobs[a].submit < jobs[b].submit; });
  std::vector<JobSpec> sorted;
  sorted.reserve(jobs.size());
  for (uint32_t i : order) sorted.push_back(std::move(jobs[i]));
  jobs = std::move(sorted);
}

}  // namespace stargate
