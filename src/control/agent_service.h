// File: agent_service.h
// The agent API (proto/agent.proto) on gRPC: Register and Heartbeat, both
// handed to the control plane under its mutex. Kept behind a pointer to an
// implementation so gRPC's headers stay in one .cc.
#pragma once

#include <memory>
#include <string>

#include "control/control_plane.h"
#include "core/status.h"

namespace stargate::control {

// A certificate, its key and the CA that signs the peers' (PEM text).
struct TlsPem {
  std::string cert, key, ca;
};

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
