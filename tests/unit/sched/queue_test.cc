// The queue's order (priority, then submit, then id; pushed in any order,
// and mostly in order, as a pass pushes them) and its replacement of a job
// pushed again.
#include "sched/queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace stargate::sched {
namespace {

JobRequest Req(uint32_t id, int priority, int64_t submit_s, int accelerators = 1) {
  JobRequest r;
  r.id = JobId(id);
  r.priority = priority;
  r.submit = Time::Epoch() + Duration::Seconds(submit_s);
  r.accelerators = accelerators;
  return r;
}

std::vector<uint32_t> Order(const Queue& q) {
  std::vector<uint32_t> ids;
  for (const JobRequest& r : q) ids.push_back(r.id.value());
  return ids;
}

TEST(Queue, WalksByPriorityThenSubmitThenId) {
  Queue q;
  q.Push(Req(3, 0, 10));
  q.Push(Req(1, 0, 20));
  q.Push(Req(2, 5, 30));
  q.Push(Req(4, 0, 10));
  EXPECT_EQ(Order(q), (std::vector<uint32_t>{2, 3, 4, 1}));
  q.Push(Req(1, 9, 20, 8));  // pushed again: replaced, and moved
  EXPECT_EQ(Order(q), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(q.begin()->accelerators, 8);
  EXPECT_TRUE(q.Erase(JobId(2)));
  EXPECT_FALSE(q.Erase(JobId(2)));
  EXPECT_EQ(Order(q), (std::vector<uint32_t>{1, 3, 4}));
}

}  // namespace
}  // namespace stargate::sched
