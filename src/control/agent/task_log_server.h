// File: task_log_server.h
// Task logs over HTTP, for `stargate job logs` and the REST API:
// GET /logs/job-<id>-attempt-<n>.log?offset=N gives up to 1 MiB of the
// file from byte N, and the next offset in X-Next-Offset. Serves one
// directory (an agent's WORK_DIR/logs) from a thread of its own, only to
// callers with "Authorization: Bearer TOKEN" (the server, which checks
// users' tokens and tenants first): logs are users' data.
//
// With a checkpoint root it also serves complete checkpoints to peer
// agents (issue 22): GET /checkpoints/file?dir=D&path=P gives file P of
// checkpoint directory D (a step-<12 digits> directory under the root),
// honouring "Range: bytes=N-" so a cut copy resumes, to a caller whose
// bearer is CheckpointTicket(token, D) (digest.h): the server hands that
// ticket to the one peer it asks to copy D, which can read nothing else.
// Symbolic links that lead out of D are not followed.
#pragma once

#include <memory>
#include <string>

namespace stargate::control {

class TaskLogServer {
 public:
  TaskLogServer();
  ~TaskLogServer();  // stops serving

  // Serves `dir` on `address`, a port the kernel picks; returns it, or 0
  // when it cannot bind (the caller says so; logs stay on disk).
  // `token`: a fresh RandomHex(4) per server (random_hex.h).
  // `checkpoint_root`: the site store as this node mounts it ("" = serve
  // no checkpoints).
  int Start(const std::string& address, const std::string& dir, const std::string& token,
            const std::string& checkpoint_root = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
