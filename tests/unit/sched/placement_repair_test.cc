// Gang repair in sched/: FindSpare's topology preference and PlaceRepairs
// serving repair requests ahead of new work.
#include <gtest/gtest.h>

#include "sched/fifo_first_fit.h"
#include "sched/placement.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

// One pool of 16 GB200-style nodes: NVLink domains of 2 nodes, leaves of 4
// nodes, pods of 2 leaves.
ClusterState Cluster() { return testing::OneSite({PoolSpec{AcceleratorType::kGB200, 16, 4, 2, 2}}, 4, 2); }

Claims Fresh(const ClusterState& s) {
  Claims c;
  c.Reset(s);
  return c;
}

void Fill(ClusterState& s, std::initializer_list<uint32_t> nodes) {
  for (uint32_t n : nodes) s.Allocate(NodeId(n), 4);
}

TEST(FindSpare, PrefersTheFailedNodesDomainThenLeafThenAnywhere) {
  ClusterState s = Cluster();
  const PoolId p(0);
  // A gang on nodes 0..6; node 1 fails; node 7 (other domain, same pod) and
  // the rest are free.
  Fill(s, {0, 1, 2, 3, 4, 5, 6});
  s.Release(NodeId(1), 4);
  s.SetNodeUp(NodeId(1), false);
  Claims c = Fresh(s);
  // Domain {0,1}: 0 busy, 1 down. Leaf {0..3}: all busy or down. Anywhere: a free node.
  auto spare = FindSpare(s, p, NodeId(1), 4, c);
  ASSERT_TRUE(spare.has_value());
  EXPECT_GE(spare->value(), 7u);

  // Free node 3: same leaf as node 1, other domain, so it wins over the rest.
  s.Release(NodeId(3), 4);
  spare = FindSpare(s, p, NodeId(1), 4, c);
  ASSERT_TRUE(spare.has_value());
  EXPECT_EQ(spare->value(), 3u);

  // Free node 0: same domain, wins over node 3.
  s.Release(NodeId(0), 4);
  spare = FindSpare(s, p, NodeId(1), 4, c);
  ASSERT_TRUE(spare.has_value());
  EXPECT_EQ(spare->value(), 0u);

  // Claims made earlier in the pass count as used.
  c.Add(s, p, 0, 4);
  c.Add(s, p, 3, 4);
  spare = FindSpare(s, p, NodeId(1), 4, c);
  ASSERT_TRUE(spare.has_value());
  EXPECT_NE(spare->value(), 0u);
  EXPECT_NE(spare->value(), 3u);
}

TEST(FindSpare, NoneWhenThePoolIsFull) {
  ClusterState s = Cluster();
  for (uint32_t n = 0; n < 16; ++n) s.Allocate(NodeId(n), 4);
  s.Release(NodeId(5), 4);
  s.SetNodeUp(NodeId(5), false);
  Claims c = Fresh(s);
  EXPECT_FALSE(FindSpare(s, PoolId(0), NodeId(5), 4, c).has_value());
  // Once the failed node is back it is a fine replacement for itself.
  s.SetNodeUp(NodeId(5), true);
  auto spare = FindSpare(s, PoolId(0), NodeId(5), 4, c);
  ASSERT_TRUE(spare.has_value());
  EXPECT_EQ(spare->value(), 5u);
}

JobRequest RepairOf(uint32_t id, std::vector<NodeId> failed) {
  JobRequest r;
  r.id = JobId(id);
  r.accelerators = 16;
  r.repair = std::move(failed);
  r.repair_pool = PoolId(0);
  r.per_node = 4;
  return r;
}

TEST(PlaceRepairs, ServedBeforeNewWorkAndNeverTwiceTheSameSpare) {
  ClusterState s = Cluster();
  // Two gangs of 4 nodes each lost a node; only two nodes are free.
  for (uint32_t n = 0; n < 14; ++n) s.Allocate(NodeId(n), 4);
  s.Release(NodeId(2), 4);
  s.SetNodeUp(NodeId(2), false);
  s.Release(NodeId(9), 4);
  s.SetNodeUp(NodeId(9), false);
  Queue q;
  JobRequest big;
  big.id = JobId(7);
  big.accelerators = 8;  // would take both free nodes
  q.Push(big);
  q.Push(RepairOf(1, {NodeId(2)}));
  q.Push(RepairOf(2, {NodeId(9)}));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.repairs().size(), 2u);

  FifoFirstFit fifo;
  Decisions d = fifo.Schedule(s, q, Time::Epoch());
  ASSERT_EQ(d.items.size(), 2u);
  const auto& a = std::get<Repair>(d.items[0]);
  const auto& b = std::get<Repair>(d.items[1]);
  EXPECT_EQ(a.job, JobId(1));
  EXPECT_EQ(a.failed, NodeId(2));
  EXPECT_EQ(b.job, JobId(2));
  EXPECT_NE(a.spare, b.spare);
  for (NodeId n : {a.spare, b.spare}) EXPECT_TRUE(n == NodeId(14) || n == NodeId(15));
}

TEST(PlaceRepairs, AGangShortOfSparesWaitsWithWhatItGot) {
  ClusterState s = Cluster();
  for (uint32_t n = 0; n < 15; ++n) s.Allocate(NodeId(n), 4);
  for (uint32_t n : {0u, 1u}) {
    s.Release(NodeId(n), 4);
    s.SetNodeUp(NodeId(n), false);
  }
  Queue q;
  q.Push(RepairOf(1, {NodeId(0), NodeId(1)}));
  Claims c = Fresh(s);
  Decisions d;
  PlaceRepairs(s, q, c, d);
  ASSERT_EQ(d.items.size(), 1u);  // one spare (node 15) for two holes
  EXPECT_EQ(std::get<Repair>(d.items[0]).spare, NodeId(15));
  q.Erase(JobId(1));
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.repairs().empty());
}

}  // namespace
}  // namespace stargate::sched
