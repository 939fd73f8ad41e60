// File: checkpoint_mover.h
// What an agent does for its site's checkpoint store when the server
// picks it to speak for the site (checkpoint_messages.h):
//   - reports the newest complete checkpoint of each job area it is told
//     to watch (a checkpoint's files are hashed once, when it appears);
//   - copies the checkpoints it is told to from a peer site's agent
//     (task_log_server.h), newest first, one at a time: every file with
//     HTTP ranges (a cut copy resumes where it stopped), at most the
//     link's rate, checked against the manifest's SHA-256, the manifest
//     written last and the directory renamed into place, so a copy is
//     complete or invisible; then only the newest `keep` stay. Copies
//     are staged in <root>/.stargate-staging, the agent's alone;
//   - refuses a copy its node's jurisdiction does not allow.
// On a thread of its own: heartbeats never wait on a disk or a peer.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control/agent/tenant_users.h"
#include "control/protocol/checkpoint_messages.h"
#include "core/clock.h"
#include "core/units.h"

namespace stargate::control {

struct CheckpointMoverOptions {
  std::string root;                       // the site store as this node mounts it (absolute)
  std::string jurisdiction;               // this node's
  std::string node;                       // for messages
  Duration retry = Duration::Seconds(5);  // after a failed copy
  Duration rescan = Duration::Seconds(1);
  // With tenant users (an agent run as root): the account a tenant's
  // files belong to. A copy is made in a staging directory of the agent's
  // own, given to the account, and moved into the tenant's area (made
  // the tenant's as a task's is), so the tenant can prune it and nothing
  // the tenant planted in its area is ever written through. Null: the
  // copy stays the agent's user's.
  std::function<StatusOr<Account>(const std::string& tenant)> owner;
};

class CheckpointMover {
 public:
  // `clock` paces the rate limit and retries; it must outlive the mover.
  CheckpointMover(CheckpointMoverOptions options, Clock* clock);
  ~CheckpointMover();  // cancels a copy in flight (its parts stay, to resume) and joins

  // The lists of the server's latest reply. A copy no longer listed is
  // cancelled; watched areas outside the root are ignored.
  void Want(std::vector<CheckpointWatch> watch, std::vector<CheckpointPull> pull);
  // What the next heartbeat says: the newest complete checkpoint of each
  // watched area that has one, and the state of each listed copy.
  void Report(std::vector<CheckpointHeld>* held, std::vector<CheckpointCopyReport>* copies) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
