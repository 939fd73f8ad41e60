// Nodes: persisted registrations, heartbeat liveness, and the grace a
// restarted server gives agents that are reconnecting.
#include "control/server/node_registry.h"

#include <gtest/gtest.h>

#include "control/store/memory_store.h"

namespace stargate::control {
namespace {

Time T(int64_t ms) { return Time::FromMillis(ms); }
Duration Ms(int64_t ms) { return Duration::Millis(ms); }

NodeInfo Node(const std::string& name) {
  NodeInfo n;
  n.name = name;
  n.site = "s";
  n.address = "127.0.0.1";
  n.accelerator = AcceleratorType::kH100;
  n.accelerators = 8;
  n.log_port = 4242;
  return n;
}

TEST(NodeRegistry, LivenessFollowsHeartbeats) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(5'000));
  ASSERT_TRUE(nodes.Register(Node("a"), T(1'000)).ok());
  EXPECT_TRUE(nodes.Alive("a", T(6'000)));
  EXPECT_FALSE(nodes.Alive("a", T(6'001)));
  NodeTelemetry t;
  t.last_heartbeat = T(6'500);
  EXPECT_TRUE(nodes.Heartbeat("a", t));
  EXPECT_TRUE(nodes.Alive("a", T(11'000)));
  EXPECT_FALSE(nodes.Heartbeat("ghost", t));
  EXPECT_FALSE(nodes.Alive("ghost", T(0)));
}

// A stall of the server's own control loop (its passes far apart) moves
// the deadlines of nodes that were up by it; normal passes move nothing,
// and a node already down or gone stays so.
TEST(NodeRegistry, AServerStallIsNotTakenForTheNodesSilence) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(1'500));
  ASSERT_TRUE(nodes.Register(Node("a"), T(1'000)).ok());
  ASSERT_TRUE(nodes.Register(Node("b"), T(1'000)).ok());
  ASSERT_TRUE(nodes.Register(Node("gone"), T(1'000)).ok());
  nodes.Leave("gone", "");
  EXPECT_EQ(nodes.NotePass(T(1'000)), Ms(0));  // the first pass: nothing to compare
  EXPECT_EQ(nodes.NotePass(T(1'250)), Ms(0));
  EXPECT_EQ(nodes.NotePass(T(1'250) + NodeRegistry::kStall), Ms(0));  // slow, not stalled
  EXPECT_FALSE(nodes.Alive("a", T(2'501)));
  // Deaf from 2'000 to 4'000: "a" and "b" were heard at 1'000, so at 4'000
  // they look 3 s silent, but 1'750 ms of that was the server's.
  EXPECT_EQ(nodes.NotePass(T(2'000)), Ms(0));
  EXPECT_EQ(nodes.NotePass(T(4'000)), Ms(1'750));
  EXPECT_TRUE(nodes.Alive("a", T(4'000)));
  EXPECT_TRUE(nodes.Alive("b", T(4'250)));
  EXPECT_FALSE(nodes.Alive("a", T(4'251)));  // still down 1.5 s after its (moved) last word
  EXPECT_FALSE(nodes.Alive("gone", T(4'000)));
  // A node down (and noted) before a stall is not revived by it.
  EXPECT_EQ(nodes.NoteFailures(T(5'000)), 2);
  EXPECT_EQ(nodes.NotePass(T(5'000)), Ms(1'000) - NodeRegistry::kPassInterval);
  EXPECT_FALSE(nodes.Alive("a", T(5'000)));
  // The credit never puts a last heartbeat in the future.
  NodeTelemetry t;
  t.last_heartbeat = T(5'900);
  ASSERT_TRUE(nodes.Heartbeat("b", t));
  EXPECT_EQ(nodes.NotePass(T(7'000)), Ms(2'000) - NodeRegistry::kPassInterval);
  EXPECT_EQ(nodes.telemetry("b").last_heartbeat, T(7'000));
}

// Silent-site episodes: the whole site silent starts one; a node back
// alone does not end it for the others; a new silence after some node was
// heard starts a new one, even if a node never came back.
TEST(NodeRegistry, SilentSiteEpisodes) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(5'000));
  ASSERT_TRUE(nodes.Register(Node("x"), T(1'000)).ok());
  ASSERT_TRUE(nodes.Register(Node("y"), T(1'000)).ok());
  nodes.NoteSilentSites(T(3'000));
  EXPECT_FALSE(nodes.CutOffSince("x", T(3'000)).has_value());  // alive
  nodes.NoteSilentSites(T(7'000));                             // both silent since 1,000
  EXPECT_EQ(nodes.CutOffSince("y", T(7'000)), T(1'000));
  NodeTelemetry t;
  t.last_heartbeat = T(8'000);
  ASSERT_TRUE(nodes.Heartbeat("x", t));  // x is back; y is not (and never will be)
  nodes.NoteSilentSites(T(8'000));
  EXPECT_EQ(nodes.CutOffSince("y", T(8'000)), T(1'000));  // still the same episode for y
  EXPECT_FALSE(nodes.CutOffSince("x", T(8'000)).has_value());
  nodes.NoteSilentSites(T(20'000));  // silent again: a new episode
  EXPECT_EQ(nodes.CutOffSince("x", T(20'000)), T(8'000));
}

// Nodes of a cut-off site stop heartbeating up to an interval apart: one
// found silent first is not lost while nothing of its site was heard well
// after it went quiet.
TEST(NodeRegistry, ASilentNodeMayBeCutOffWithItsSiteUntilAPeerIsHeardLater) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(1'500));
  ASSERT_TRUE(nodes.Register(Node("x"), T(1'000)).ok());
  ASSERT_TRUE(nodes.Register(Node("y"), T(1'000)).ok());
  NodeTelemetry t;
  t.last_heartbeat = T(2'000);
  ASSERT_TRUE(nodes.Heartbeat("y", t));  // y's last word before the cut, 1 s after x's
  EXPECT_TRUE(nodes.MaybeCutOff("x", T(2'600)));
  EXPECT_FALSE(nodes.MaybeCutOff("y", T(2'600)));  // alive
  t.last_heartbeat = T(3'100);
  ASSERT_TRUE(nodes.Heartbeat("y", t));  // y goes on: x is down on its own
  EXPECT_FALSE(nodes.MaybeCutOff("x", T(3'100)));
}

TEST(NodeRegistry, ARestartedServerKnowsTheNodesAndWaitsForThemToReconnect) {
  MemoryStore store;
  {
    NodeRegistry first(&store, Ms(5'000));
    ASSERT_TRUE(first.Register(Node("a"), T(1'000)).ok());
  }
  NodeRegistry restarted(&store, Ms(5'000));
  ASSERT_TRUE(restarted.Load(T(100'000)).ok());
  ASSERT_NE(restarted.Find("a"), nullptr);
  EXPECT_EQ(restarted.Find("a")->accelerators, 8);
  EXPECT_EQ(restarted.Find("a")->log_port, 4242);
  EXPECT_TRUE(restarted.Alive("a", T(100'000) + NodeRegistry::kRestartGrace));
  EXPECT_FALSE(restarted.Alive("a", T(100'001) + NodeRegistry::kRestartGrace));
}

TEST(NodeRegistry, ANodeIsHeldByOneAgentUntilItMissesItsHeartbeats) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(5'000));
  ASSERT_TRUE(nodes.Register(Node("a"), T(1'000), "agent-1").ok());
  // A second agent with the same name (or agent-1 restarted) is refused...
  const Status dup = nodes.Register(Node("a"), T(2'000), "agent-2");
  EXPECT_EQ(dup.code(), absl::StatusCode::kFailedPrecondition);
  NodeTelemetry t;
  t.last_heartbeat = T(2'000);
  t.agent_id = "agent-2";
  EXPECT_FALSE(nodes.Heartbeat("a", t));
  t.agent_id = "agent-1";
  EXPECT_TRUE(nodes.Heartbeat("a", t));
  // ...until the holder is down; then it takes over.
  EXPECT_TRUE(nodes.Register(Node("a"), T(7'001), "agent-2").ok());
  t.agent_id = "agent-1";
  EXPECT_FALSE(nodes.Heartbeat("a", t));
  // After a server restart the first agent heard keeps the node.
  NodeRegistry restarted(&store, Ms(5'000));
  ASSERT_TRUE(restarted.Load(T(10'000)).ok());
  t.agent_id = "agent-2";
  EXPECT_TRUE(restarted.Heartbeat("a", t));
  t.agent_id = "agent-3";
  EXPECT_FALSE(restarted.Heartbeat("a", t));
}

TEST(NodeRegistry, SitesRecordUpTimeAndLostNodesButNotCleanLeaves) {
  MemoryStore store;
  {
    NodeRegistry nodes(&store, Ms(5'000));
    ASSERT_TRUE(nodes.Register(Node("a"), T(0)).ok());
    ASSERT_TRUE(nodes.Register(Node("b"), T(0)).ok());
    NodeTelemetry t;
    for (int64_t ms = 1'000; ms <= 3'600'000; ms += 1'000) {  // an hour of beats from a and b
      t.last_heartbeat = T(ms);
      ASSERT_TRUE(nodes.Heartbeat("a", t));
      ASSERT_TRUE(nodes.Heartbeat("b", t));
    }
    EXPECT_NEAR(nodes.health().at("s").node_hours, 2.0, 1e-9);
    EXPECT_EQ(nodes.NoteFailures(T(3'600'000)), 0);
    nodes.Leave("a", "");  // a stops cleanly: down, not a failure
    EXPECT_FALSE(nodes.Alive("a", T(3'600'000)));
    EXPECT_FALSE(nodes.Heartbeat("a", t));  // a late poll of the agent that left does not revive it
    EXPECT_FALSE(nodes.Alive("a", T(3'600'000)));
    EXPECT_EQ(nodes.NoteFailures(T(3'600'000)), 0);
    // b goes silent: one failure, counted once.
    EXPECT_EQ(nodes.NoteFailures(T(3'605'001)), 1);
    EXPECT_EQ(nodes.NoteFailures(T(3'700'000)), 0);
    EXPECT_EQ(nodes.health().at("s").failures, 1);
    // b comes back after the outage: the gap is not up time; it can fail again.
    t.last_heartbeat = T(3'800'000);
    ASSERT_TRUE(nodes.Heartbeat("b", t));
    EXPECT_NEAR(nodes.health().at("s").node_hours, 2.0, 1e-9);
    EXPECT_EQ(nodes.NoteFailures(T(3'805'001)), 1);
    ASSERT_TRUE(nodes.SaveHealth(T(3'805'001)).ok());
  }
  NodeRegistry restarted(&store, Ms(5'000));
  ASSERT_TRUE(restarted.Load(T(10'000'000)).ok());
  EXPECT_EQ(restarted.health().at("s").failures, 2);
  EXPECT_NEAR(restarted.health().at("s").node_hours, 2.0, 1e-9);
  // Nodes that never reconnect after the restart are not counted again.
  EXPECT_EQ(restarted.NoteFailures(T(10'000'000 + 60'000)), 0);
  NodeTelemetry t;
  t.last_heartbeat = T(10'100'000);
  ASSERT_TRUE(restarted.Heartbeat("b", t));  // b is heard from again, then lost
  EXPECT_EQ(restarted.NoteFailures(T(10'200'000)), 1);
}

}  // namespace
}  // namespace stargate::control
