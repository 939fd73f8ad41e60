// File: leader_lease.h
// One leader among several `stargate server`s sharing an etcd cluster: the
// leader holds `key` (its identity as the value) attached to an etcd lease
// of `ttl`, which it keeps alive; if it dies, stops, or cannot reach a
// quorum, the lease runs out, etcd deletes the key, and a standby's
// TryAcquire succeeds. The usual etcd recipe (clientv3/concurrency), on
// the JSON gateway. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "control/store/etcd_client.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

class LeaderLease {
 public:
  LeaderLease(EtcdClient client, std::string key, std::string identity, Duration ttl)
      : client_(std::move(client)), key_(std::move(key)), identity_(std::move(identity)), ttl_(ttl) {}

  // True when this process now holds the key (or already did); false while
  // another does.
  StatusOr<bool> TryAcquire();
  // Renews the lease; FailedPrecondition once it has run out (leadership is
  // lost: the caller must stop acting as leader at once).
  Status KeepAlive();
  // Gives the key up now (a clean shutdown), so a standby need not wait
  // for the TTL.
  Status Release();
  // The identity of the current holder ("" when none).
  StatusOr<std::string> Holder();
  // For a standby: returns once the key changes (the leader released it,
  // or its lease ran out and etcd deleted it) or after `wait`, whichever
  // is first; an etcd watch, so a standby tries at once, not on a poll.
  Status AwaitChange(Duration wait);

  Duration ttl() const { return ttl_; }

 private:
  EtcdClient client_;
  std::string key_;
  std::string identity_;
  Duration ttl_;
  std::string lease_;  // etcd lease ID while leader ("" = none)
};

}  // namespace stargate::control
