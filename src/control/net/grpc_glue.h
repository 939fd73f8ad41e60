// File: grpc_glue.h
// gRPC as the agent API uses it: credentials from PEM text (mutual TLS,
// or plaintext without it) for both ends, and call deadlines given as
// durations, which gRPC measures on its own clock: a network timeout is
// real time whatever Clock the caller runs on. Thread-safe.
#pragma once

#include <grpc/support/time.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "core/units.h"

namespace stargate::control {

// A certificate, its key and the CA that signs the peers' (PEM text).
struct TlsPem {
  std::string cert, key, ca;
};

// For a server: with `tls`, only clients whose certificate the CA signed
// may call; null = plaintext.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsPem* tls);
// For a client: its own certificate and key, and the CA that signed the
// servers'; null = plaintext.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsPem* tls);

// A deadline `after` from whenever gRPC reads it (ClientContext::set_deadline,
// Server::Shutdown).
gpr_timespec DeadlineAfter(Duration after);

}  // namespace stargate::control
