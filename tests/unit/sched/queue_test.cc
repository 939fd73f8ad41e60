// The queue's order (priority, then submit, then id; pushed in any order,
// and mostly in order, as a pass pushes them) and its replacement of a job
// pushed again.
#include "sched/queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>
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

// Random pushes (mostly after every queued job, as arrivals come; some
// anywhere, some again), erases, copies and moves, each followed by a walk
// now and then: the walk is always the order of a sort by key, whatever
// the flat list went through (appends, gaps, rebuilds).
TEST(Queue, WalksInOrderThroughPushesErasesCopiesAndMoves) {
  std::mt19937_64 rng(3);
  Queue q;
  std::map<uint32_t, std::pair<int, int64_t>> want;  // id -> (priority, submit)
  int64_t clock = 0;
  for (int step = 0; step < 20'000; ++step) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 55) {
      const uint32_t id = static_cast<uint32_t>(rng() % 3'000);
      const bool late = rng() % 10 != 0;  // usually after every queued job
      const int priority = late ? 0 : static_cast<int>(rng() % 3);
      const int64_t submit = late ? ++clock : static_cast<int64_t>(rng() % (clock + 1));
      q.Push(Req(id, priority, submit));
      want[id] = {priority, submit};
    } else if (op < 90 && !want.empty()) {
      auto it = want.begin();
      std::advance(it, static_cast<long>(rng() % want.size()));
      EXPECT_TRUE(q.Erase(JobId(it->first)));
      want.erase(it);
    } else if (op < 93) {
      Queue copy(q);
      q = copy;  // the copy's list is its own
    } else if (op < 96) {
      Queue moved(std::move(q));
      q = std::move(moved);
    }
    if (rng() % 8 != 0) continue;
    std::vector<std::tuple<int, int64_t, uint32_t>> keys;
    for (const auto& [id, ps] : want) keys.emplace_back(-ps.first, ps.second, id);
    std::sort(keys.begin(), keys.end());
    std::vector<uint32_t> ids;
    for (const auto& k : keys) ids.push_back(std::get<2>(k));
    ASSERT_EQ(Order(q), ids) << "step " << step;
    ASSERT_EQ(q.size(), want.size());
  }
}

}  // namespace
}  // namespace stargate::sched
