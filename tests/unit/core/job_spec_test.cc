#include "core/job_spec.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"

namespace stargate {
namespace {

// SortBySubmit moves the specs round the permutation's cycles in place; it
// must give what a stable sort of the same specs gives, ties in their order.
TEST(SortBySubmit, IsAStableSortByTheSubmitTime) {
  Rng rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<JobSpec> jobs(rng.Below(200));
    for (size_t i = 0; i < jobs.size(); ++i) {
      jobs[i].name = "job-with-a-name-past-small-strings-" + std::to_string(i);
      jobs[i].submit = Time::FromNanos(static_cast<int64_t>(rng.Below(20)));  // many ties
    }
    std::vector<JobSpec> want = jobs;
    std::stable_sort(want.begin(), want.end(), [](const JobSpec& a, const JobSpec& b) { return a.submit < b.submit; });
    SortBySubmit(jobs);
    ASSERT_EQ(jobs.size(), want.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      EXPECT_EQ(jobs[i].name, want[i].name) << "round " << round << " position " << i;
      EXPECT_EQ(jobs[i].submit, want[i].submit);
    }
  }
}

TEST(SortBySubmit, LeavesSortedSpecsAsTheyAre) {
  std::vector<JobSpec> jobs(3);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].name = "j" + std::to_string(i);
    jobs[i].submit = Time::FromNanos(5);
  }
  SortBySubmit(jobs);
  EXPECT_EQ(jobs[0].name, "j0");
  EXPECT_EQ(jobs[2].name, "j2");
  SortBySubmit(jobs);  // and a second time
  EXPECT_EQ(jobs[1].name, "j1");
}

}  // namespace
}  // namespace stargate
