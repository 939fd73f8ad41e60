// File: agent_service.h
// The agent API (proto/agent.proto) on gRPC: Register and Heartbeat, mapped
// to plain values (protocol/agent_proto.h) and handed to the control
// plane. Kept behind a pointer to an implementation so gRPC's headers stay
// in one .cc. Thread-safe: gRPC calls it from its own threads.
#pragma once

#include <memory>
#include <string>

#include "control/net/grpc_glue.h"
#include "control/server/control_plane.h"
#include "core/status.h"

namespace stargate::control {

class AgentServer {
 public:
  // `cp` must outlive the server.
  explicit AgentServer(ControlPlane* cp);
  ~AgentServer();

  // Starts serving on `host`:`port` (0 = any free port); returns the port.
  // With `tls` (PEM contents), mutual TLS: only agents whose certificate
  // the CA signed may call.
  StatusOr<int> Start(const std::string& host, int port, const TlsPem* tls = nullptr);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
