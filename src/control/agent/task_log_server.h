// File: task_log_server.h
// Task logs over HTTP, for `stargate job logs` and the REST API:
// GET /logs/job-<id>-attempt-<n>.log?offset=N gives up to 1 MiB of the
// file from byte N, and the next offset in X-Next-Offset. Serves one
// directory (an agent's WORK_DIR/logs) from a thread of its own, only to
// callers with "Authorization: Bearer TOKEN" (the server, which checks
// users' tokens and tenants first): logs are users' data.
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
  int Start(const std::string& address, const std::string& dir, const std::string& token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
