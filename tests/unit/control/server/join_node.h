// File: join_node.h
// Test helper: a CPU:1 node registered with a control plane and heard
// from once, as an agent would do it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "control/server/control_plane.h"

namespace stargate::control::testing {

// Node `name` (site "s") registered and heard from; its heartbeat (no wait).
inline AgentHeartbeat JoinNode(ControlPlane& cp, const std::string& name) {
  Registration r;
  r.node.name = name;
  r.node.site = "s";
  r.node.address = "10.0.0.1";
  r.node.accelerator = AcceleratorType::kCpu;
  r.node.accelerators = 1;
  r.agent_id = "agent-" + name;
  EXPECT_TRUE(cp.Register(r).ok());
  AgentHeartbeat h;
  h.node = name;
  h.telemetry.agent_id = r.agent_id;
  EXPECT_TRUE(cp.Heartbeat(h).ok());  // heard from: no news left for it
  return h;
}

}  // namespace stargate::control::testing
