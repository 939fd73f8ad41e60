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
#include <span>

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

// The next EWMA of a service time: weight `alpha` (0, 1] on the new sample;
// the first sample is taken as is.
Duration NextServiceEwma(Duration previous, Duration sample, double alpha);

}  // namespace stargate::sched
