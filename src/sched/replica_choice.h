// File: replica_choice.h
// Which replica of a served model should answer the next request: the one
// expected to answer soonest. Expected latency = the network round trip
// from the users to the replica + (requests in flight there + 1) x its
// recent service time. The product is the peak-EWMA idea of Finagle's and
// linkerd's balancers (latency EWMA x (outstanding + 1)); the network term
// is added on its own so an idle replica an ocean away still loses to a
// lightly loaded one next door, and wins once the near one's queue costs
// more than the ocean. Pure; thread-compatible.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "core/units.h"

namespace stargate::sched {

struct ReplicaLoad {
  bool routable = false;  // healthy and placed
  Duration network;       // round trip between the users and the replica
  int inflight = 0;       // requests sent to it and not yet answered
  Duration service;       // recent service time (EWMA); zero until measured
};

// `fallback_service` stands in for a replica with no measurement yet.
Duration ExpectedLatency(const ReplicaLoad& r, Duration fallback_service);

// The routable replica with the least expected latency, skipping indices
// in `tried` (replicas a failed attempt of this request already used);
// ties go to fewer in flight, then the lower index. Nothing when none is left.
std::optional<size_t> PickReplica(std::span<const ReplicaLoad> replicas, std::span<const size_t> tried,
                                  Duration fallback_service);

// PickReplica's answer in O(log n) per request and per change, for a
// router with hundreds of replicas (edge sites): the routable replicas
// with a measured service time kept ordered by (expected latency, in
// flight, index); those not measured yet, whose latency moves with the
// fallback (the others' mean), are looked at apart (a replica is one
// only until its first answer). One index per users' region (the network
// term differs). The caller calls Set after every change of a replica's
// load.
class ReplicaIndex {
 public:
  // Replica `i`'s load is now `r` (adds it when new).
  void Set(size_t i, const ReplicaLoad& r);
  // As PickReplica(loads, tried, fallback_service) over the loads Set.
  std::optional<size_t> Pick(std::span<const size_t> tried, Duration fallback_service) const;
  void Clear();

 private:
  struct Key {
    Duration latency;
    int inflight = 0;
    size_t index = 0;
    auto operator<=>(const Key&) const = default;
  };
  std::set<Key> measured_;
  std::set<size_t> unmeasured_;     // routable, no service time yet
  std::vector<ReplicaLoad> loads_;  // by index
  std::vector<std::optional<Key>> key_;
};

// The next EWMA of a service time: weight `alpha` (0, 1] on the new sample;
// the first sample is taken as is.
Duration NextServiceEwma(Duration previous, Duration sample, double alpha);

}  // namespace stargate::sched
