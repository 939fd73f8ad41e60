// File: node_identity.h
// Which node an agent may speak for (`stargate server --node-auth`):
//
//   cert   the agent API is mutual TLS and a node's name must be its
//          certificate's CN or one of its DNS names (`stargate cert issue
//          NAME` writes both), on every call;
//   token  each node joins once with a join token an admin made (`stargate
//          node join-token create`; stored only as a SHA-256, with an
//          expiry, revocable) and gets a node credential of its own
//          (stored as a hash too), which it shows on every later call; a
//          token makes a node, never takes over one that joined;
//          `stargate node revoke NAME` withdraws it (a token made later
//          may join it again);
//   none   no proof (an open one-machine setup; the server warns).
//
// On top of the proof, the node's holder rule (node_registry.h) still
// applies: an agent whose id is not the live holder's never takes the
// node over. Store keys: jointokens/<id> -> JSON, nodecreds/<node> ->
// hash. Not thread-safe: the control plane calls it under its lock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control/store/store.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

enum class NodeAuth { kNone, kCert, kToken };
std::string_view Name(NodeAuth a);

// What an agent's call shows of who it is.
struct AgentProof {
  bool tls = false;                     // the call came over mutual TLS
  std::vector<std::string> cert_names;  // the peer certificate's CN and DNS names
  std::string join_token;               // Register only
  std::string credential;               // the node credential an earlier Register gave
};

struct JoinToken {
  std::string id;  // public half: lists and revocation name it
  Time created, expires;
  std::string node;  // "" = any node name
  std::string created_by;
  bool revoked = false;
};

class NodeIdentity {
 public:
  // `store` must outlive it.
  NodeIdentity(Store* store, NodeAuth mode) : store_(store), mode_(mode) {}
  NodeAuth mode() const { return mode_; }

  // A registration of `node`: OK with a new node credential to hand back
  // ("" when none is due), or PermissionDenied saying what is wrong.
  StatusOr<std::string> Admit(const std::string& node, const AgentProof& proof, Time now);
  // Any later call for `node` (heartbeats, leaving): OK or PermissionDenied.
  Status Check(const std::string& node, const AgentProof& proof);

  // The token (secret, shown once) and its record.
  StatusOr<std::pair<std::string, JoinToken>> CreateJoinToken(Time now, Duration ttl, const std::string& node,
                                                              const std::string& by);
  StatusOr<std::vector<JoinToken>> JoinTokens();
  // NotFound for an unknown id.
  Status RevokeJoinToken(const std::string& id);
  // Withdraws `node`'s credential at `now`: its agent is refused, and it
  // joins again only with a join token made after now. NotFound when it
  // has none.
  Status RevokeNode(const std::string& node, Time now);

 private:
  Status CheckCert(const std::string& node, const AgentProof& proof) const;
  // The stored hash of `node`'s credential ("" = none), cached.
  StatusOr<std::string> CredentialHash(const std::string& node);

  Store* store_;
  NodeAuth mode_;
  std::map<std::string, std::string> cred_hash_;  // node -> hash ("" = none), as read
};

}  // namespace stargate::control
