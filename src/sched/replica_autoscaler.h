// File: replica_autoscaler.h
// How many replicas a served model should have: enough that each has about
// `target_inflight` requests in flight. Like Kubernetes' horizontal pod
// autoscaler (desired = ceil(load / target per replica)), with a sustain
// window each way: more replicas once the load has asked for them for
// `up_after` (a burst shorter than that is absorbed by queueing), fewer,
// one at a time, once it has asked for fewer for `down_after` (a replica
// takes seconds to start, so it should not be let go in a lull). Pure.
#pragma once

#include <optional>

#include "core/units.h"

namespace stargate::sched {

struct AutoscalePolicy {
  int min_replicas = 1;
  int max_replicas = 1;
  double target_inflight = 4;  // per replica
  Duration up_after = Duration::Seconds(5);
  Duration down_after = Duration::Seconds(60);
};

class ReplicaAutoscaler {
 public:
  explicit ReplicaAutoscaler(const AutoscalePolicy& policy) : policy_(policy) {}

  // The count the load alone asks for: ceil(inflight / target), within
  // [min, max].
  int Wanted(double inflight) const;

  // `inflight`: requests in flight across all replicas, averaged over the
  // time since the last call; `current`: the replica count now. Returns the
  // count to have from `now` on (always within [min, max]).
  int Observe(Time now, double inflight, int current);

 private:
  AutoscalePolicy policy_;
  std::optional<Time> up_since_, down_since_;
};

}  // namespace stargate::sched
