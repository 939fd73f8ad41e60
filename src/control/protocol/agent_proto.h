// File: agent_proto.h
// The agent API's messages (proto/agent.proto) as plain values and back:
// the only place either side touches the generated protobuf types, so the
// server's registries and the agent's runners see only task.h and
// node_info.h. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/protocol/node_info.h"
#include "control/protocol/task.h"
#include "core/status.h"
#include "core/units.h"
#include "proto/agent.pb.h"

namespace stargate::control {

// RegisterRequest.
struct Registration {
  NodeInfo node;
  std::string agent_id;  // random per agent process; the server refuses (and audits) an empty one
  // Proof of identity with `--node-auth token` (node_identity.h): a join
  // token the first time, then the node credential it was given.
  std::string join_token, credential;
};

// HeartbeatRequest.
struct AgentHeartbeat {
  std::string node;
  NodeTelemetry telemetry;        // agent_id and the samples; the server sets the rest
  std::vector<TaskReport> tasks;  // every task it runs, and those ended since the last reply
  Duration wait;                  // long poll: the server may hold the reply this long
  bool leaving = false;           // the agent is stopping cleanly
  std::string credential;         // the node credential (`--node-auth token`)
  // The site store's checkpoints (checkpoint_messages.h).
  std::vector<CheckpointHeld> held;
  std::vector<CheckpointCopyReport> copies;
  // Ended ramped tasks held at their draw until told their fall's turn.
  std::vector<TaskRef> holding;
};

namespace pb = ::stargate::agent::v1;

pb::RegisterRequest ToProto(const Registration& r);
// InvalidArgument when the node has no name, site or address, its device
// count is outside [1, 64], its accelerator type is unknown, or its
// checkpoint root is not as CheckCheckpointRoot wants it.
StatusOr<Registration> FromProto(const pb::RegisterRequest& r);

// A checkpoint root a node may declare: "" (none), or an absolute path in
// normal form (not "/"; no ".", "..", "//" or trailing '/'), at most 1024 bytes, of
// printable characters: tasks' checkpoint dirs are built under it.
Status CheckCheckpointRoot(std::string_view root);

pb::HeartbeatRequest ToProto(const AgentHeartbeat& h);
AgentHeartbeat FromProto(const pb::HeartbeatRequest& h);

pb::HeartbeatReply ToProto(const HeartbeatResult& r);
HeartbeatResult FromProto(const pb::HeartbeatReply& r);

}  // namespace stargate::control
