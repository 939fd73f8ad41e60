// What finished jobs took against their estimates: a group's median once
// it has three runs, everyone's once there are ten, else the file's.
#include "control/server/run_time_history.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace stargate::control {
namespace {

TEST(RunTimeHistory, TheGroupThenEveryoneThenTheFile) {
  RunTimeHistory h;
  EXPECT_EQ(h.For("ml", "train").ratio, 1.0);
  EXPECT_EQ(h.For("ml", "train").from, "the job file");
  h.Add("ml", "train", 0.5);
  h.Add("ml", "train", 0.7);
  EXPECT_EQ(h.For("ml", "train").from, "the job file");  // two runs are not yet a group
  h.Add("ml", "train", 0.6);
  EXPECT_DOUBLE_EQ(h.For("ml", "train").ratio, 0.6);
  EXPECT_EQ(h.For("ml", "train").from, "3 earlier runs of ml/train");
  for (int i = 0; i < 7; ++i) h.Add("cv", "eval" + std::to_string(i), 0.9);
  EXPECT_DOUBLE_EQ(h.For("cv", "new").ratio, 0.9);  // ten jobs: everyone's median
  EXPECT_EQ(h.For("cv", "new").from, "10 earlier jobs");
  EXPECT_DOUBLE_EQ(h.For("ml", "train").ratio, 0.6);  // its group still wins
}

TEST(RunTimeHistory, BogusRatiosAreDroppedAndGroupsBounded) {
  RunTimeHistory h;
  h.Add("t", "j", 0);
  h.Add("t", "j", -1);
  h.Add("t", "j", 1e9);
  h.Add("t", "j", std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(h.size(), 0u);
  for (size_t i = 0; i < RunTimeHistory::kKeep + 10; ++i) h.Add("t", "j", i < 10 ? 50.0 : 2.0);
  EXPECT_DOUBLE_EQ(h.For("t", "j").ratio, 2.0);  // only the most recent kKeep
  for (size_t i = 0; i < RunTimeHistory::kMaxGroups + 5; ++i) h.Add("g", std::to_string(i), 1.0);
  h.Add("t", "j", 2.0);
  for (int i = 0; i < 3; ++i) h.Add("g", "0", 3.0);  // the oldest group was dropped: starts afresh
  EXPECT_DOUBLE_EQ(h.For("g", "0").ratio, 3.0);
  EXPECT_EQ(h.For("g", "0").from, "3 earlier runs of g/0");  // not 4: its first run went with the group
}

}  // namespace
}  // namespace stargate::control
