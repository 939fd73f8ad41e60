#include "sched/replica_autoscaler.h"

#include <algorithm>
#include <cmath>

namespace stargate::sched {

int ReplicaAutoscaler::Wanted(double inflight) const {
  const double per = std::max(policy_.target_inflight, 1e-9);
  const double raw = std::ceil(std::max(0.0, inflight) / per - 1e-9);
  const double clamped =
      std::clamp(raw, static_cast<double>(policy_.min_replicas), static_cast<double>(policy_.max_replicas));
  return static_cast<int>(clamped);
}

int ReplicaAutoscaler::Observe(Time now, double inflight, int current) {
  const int bounded = std::clamp(current, policy_.min_replicas, policy_.max_replicas);
  if (bounded != current) {  // outside the policy (a new file, say): fix at once
    up_since_.reset();
    down_since_.reset();
    return bounded;
  }
  const int wanted = Wanted(inflight);
  if (wanted > current) {
    down_since_.reset();
    if (!up_since_) up_since_ = now;
    if (now - *up_since_ >= policy_.up_after) {
      up_since_.reset();
      return wanted;  // straight to what the load asks for: it has asked long enough
    }
  } else if (wanted < current) {
    up_since_.reset();
    if (!down_since_) down_since_ = now;
    if (now - *down_since_ >= policy_.down_after) {
      down_since_ = now;  // the next step down waits a whole window again
      return current - 1;
    }
  } else {
    up_since_.reset();
    down_since_.reset();
  }
  return current;
}

}  // namespace stargate::sched
