// Nodes: persisted registrations, heartbeat liveness, and the grace a
// restarted server gives agents that are reconnecting.
#include "control/server/node_registry.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

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

// The nodes whose agents move checkpoints are kept by name as they
// register, change and come back after a restart: a pass walks these, not
// every node.
TEST(NodeRegistry, KeepsTheCheckpointMoversByName) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(5'000));
  NodeInfo mover = Node("m"), plain = Node("p"), portless = Node("q");
  mover.moves_checkpoints = portless.moves_checkpoints = true;
  portless.log_port = 0;  // nothing to serve them from
  for (const NodeInfo& n : {mover, plain, portless}) ASSERT_TRUE(nodes.Register(n, T(1'000)).ok());
  EXPECT_EQ(nodes.movers(), (std::set<std::string>{"m"}));
  NodeRegistry restarted(&store, Ms(5'000));
  ASSERT_TRUE(restarted.Load(T(2'000)).ok());
  EXPECT_EQ(restarted.movers(), (std::set<std::string>{"m"}));
  mover.moves_checkpoints = false;  // its agent no longer moves them
  ASSERT_TRUE(nodes.Register(mover, T(3'000)).ok());
  EXPECT_TRUE(nodes.movers().empty());
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

// What a control pass asks costs what changed (issue 20): silence is
// found from heartbeat deadlines. The nodes that may not be ready are the
// silent and the unreported ones; a heartbeat superseded by a later one
// does not make its node silent.
TEST(NodeRegistry, SilenceComesFromHeartbeatDeadlines) {
  MemoryStore store;
  NodeRegistry nodes(&store, Ms(5'000));
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(nodes.Register(Node(n), T(1'000)).ok());
  auto maybe_not_ready = [&] {
    std::set<std::string> out;
    nodes.ForEachMaybeNotReady([&](const std::string& n) { out.insert(n); });
    return out;
  };
  EXPECT_EQ(maybe_not_ready(), (std::set<std::string>{"a", "b", "c"}));  // none has reported
  const uint64_t version = nodes.version();
  NodeTelemetry t;
  t.last_heartbeat = T(1'500);
  ASSERT_TRUE(nodes.Heartbeat("a", t));
  t.last_heartbeat = T(2'000);
  ASSERT_TRUE(nodes.Heartbeat("a", t));
  EXPECT_EQ(nodes.version(), version);  // heartbeats change no node's description
  EXPECT_EQ(maybe_not_ready(), (std::set<std::string>{"b", "c"}));
  EXPECT_EQ(nodes.TakeChanged(), (std::unordered_set<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(nodes.TakeChanged().empty());
  // b and c silent since 1'000; a's 1'500 deadline is stale (heard at 2'000).
  EXPECT_EQ(nodes.NoteFailures(T(6'600)), 2);
  EXPECT_EQ(nodes.TakeChanged(), (std::unordered_set<std::string>{"b", "c"}));
  t.last_heartbeat = T(6'700);
  ASSERT_TRUE(nodes.Heartbeat("b", t));
  EXPECT_EQ(maybe_not_ready(), (std::set<std::string>{"c"}));
  EXPECT_EQ(nodes.NoteFailures(T(7'000)), 0);
  EXPECT_EQ(nodes.NoteFailures(T(7'001)), 1);  // a, 5 s after 2'000
  EXPECT_EQ(maybe_not_ready(), (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(nodes.NoteFailures(T(60'000)), 1);  // b; c and a are counted once
  // Described anew: the version moves; the same description: it does not.
  NodeInfo moved = Node("c");
  moved.accelerators = 4;
  ASSERT_TRUE(nodes.Register(moved, T(61'000)).ok());
  EXPECT_GT(nodes.version(), version);
  const uint64_t v2 = nodes.version();
  ASSERT_TRUE(nodes.Register(moved, T(61'000)).ok());
  EXPECT_EQ(nodes.version(), v2);
}

// Against the definition, on a random run: each pass's failure count is
// the number of nodes down and not yet counted (not left); every node
// that is not Ready is among those ForEachMaybeNotReady visits; and the
// silent-site episodes (CutOffSince) and MaybeCutOff are those a walk over
// every node of every site finds.
TEST(NodeRegistry, IncrementalSilenceMatchesTheDefinitionOnARandomRun) {
  MemoryStore store;
  const Duration timeout = Ms(3'000);
  NodeRegistry nodes(&store, timeout);
  std::mt19937 rng(7);
  std::vector<std::string> names;
  for (int i = 0; i < 30; ++i) names.push_back("n" + std::to_string(i));
  struct Model {
    Time last;
    bool counted = true;  // not registered yet: nothing to count
    bool left = false;
  };
  auto site_of = [](const std::string& n) { return "s" + std::to_string(std::stoi(n.substr(1)) % 3); };
  std::map<std::string, Time> episodes;  // the definition's silent sites: site -> last heard
  std::map<std::string, Time> heard;     // site -> the last heartbeat or registration of any node
  std::map<std::string, Model> model;
  Time now = T(1'000);
  int passes_with_failures = 0;
  int cut_off_seen = 0;
  for (int step = 0; step < 3'000; ++step) {
    const std::string& n = names[rng() % names.size()];
    switch (rng() % 6) {
      case 0: {
        NodeInfo info = Node(n);
        info.site = site_of(n);
        ASSERT_TRUE(nodes.Register(info, now).ok());
        model[n] = Model{now, false, false};
        heard[site_of(n)] = std::max(heard[site_of(n)], now);
        break;
      }
      case 1:
      case 2:
        if (model.count(n)) {
          NodeTelemetry t;
          t.last_heartbeat = now;
          if (nodes.Heartbeat(n, t)) {
            model[n] = Model{now, false, false};
            heard[site_of(n)] = std::max(heard[site_of(n)], now);
          }
        }
        break;
      case 3:
        if (model.count(n) && rng() % 4 == 0 && nodes.Leave(n, "")) {
          model[n].counted = true;
          model[n].left = true;
        }
        break;
      default:
        now = now + Ms(static_cast<int64_t>(rng() % 1'500));
        break;
    }
    int expected = 0;
    for (auto& [name, m] : model) {
      if (m.counted || now - m.last <= timeout) continue;
      m.counted = true;
      ++expected;
    }
    ASSERT_EQ(nodes.NoteFailures(now), expected) << "step " << step;
    passes_with_failures += expected > 0;
    nodes.NoteSilentSites(now);
    // The definition: per site, over its nodes that did not leave.
    auto alive = [&](const Model& m) { return !m.left && now - m.last <= timeout; };
    std::map<std::string, std::pair<bool, std::optional<Time>>> seen;  // any alive; last heard of the silent
    for (const auto& [name, m] : model) {
      auto& [any_alive, last] = seen[site_of(name)];
      if (m.left) continue;
      if (alive(m)) {
        any_alive = true;
      } else {
        last = last.has_value() ? std::max(*last, m.last) : m.last;
      }
    }
    for (const auto& [site, v] : seen) {
      const auto& [any_alive, last] = v;
      if (!any_alive && last.has_value()) {
        auto [it, added] = episodes.try_emplace(site, *last);
        if (!added && *last > it->second) it->second = *last;
      } else if (!last.has_value()) {
        episodes.erase(site);
      }
    }
    for (const auto& [name, m] : model) {
      std::optional<Time> since;
      auto e = episodes.find(site_of(name));
      if (!alive(m) && !m.left && e != episodes.end() && m.last <= e->second) since = e->second;
      if (!alive(m) && m.left && e != episodes.end()) since = e->second;  // left: heard "long ago"
      ASSERT_EQ(nodes.CutOffSince(name, now), since) << name << " step " << step;
      cut_off_seen += since.has_value();
      // Some node of the site heard (ever, even one that left since) well
      // after it went quiet: a left node went quiet "long ago".
      const bool maybe = !alive(m) && !m.left && heard[site_of(name)] <= m.last + NodeRegistry::kSettle;
      ASSERT_EQ(nodes.MaybeCutOff(name, now), maybe) << name << " step " << step;
    }
    std::set<std::string> visited;
    nodes.ForEachMaybeNotReady([&](const std::string& x) { visited.insert(x); });
    for (const auto& [name, m] : model) {
      if (!nodes.Ready(name, now)) EXPECT_TRUE(visited.count(name)) << name << " step " << step;
    }
  }
  EXPECT_GT(passes_with_failures, 10);
  EXPECT_GT(cut_off_seen, 10);
}

}  // namespace
}  // namespace stargate::control
