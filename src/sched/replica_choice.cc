#include "sched/replica_choice.h"

#include <algorithm>
#include <cmath>

namespace stargate::sched {

Duration ExpectedLatency(const ReplicaLoad& r, Duration fallback_service) {
  const Duration service = r.service > Duration::Zero() ? r.service : fallback_service;
  return r.network + Duration::Nanos(service.nanos() * (std::max(0, r.inflight) + 1));
}

std::optional<size_t> PickReplica(std::span<const ReplicaLoad> replicas, std::span<const size_t> tried,
                                  Duration fallback_service) {
  std::optional<size_t> best;
  Duration best_latency;
  for (size_t i = 0; i < replicas.size(); ++i) {
    const ReplicaLoad& r = replicas[i];
    if (!r.routable || std::find(tried.begin(), tried.end(), i) != tried.end()) continue;
    const Duration latency = ExpectedLatency(r, fallback_service);
    if (!best || latency < best_latency || (latency == best_latency && r.inflight < replicas[*best].inflight)) {
      best = i;
      best_latency = latency;
    }
  }
  return best;
}

Duration NextServiceEwma(Duration previous, Duration sample, double alpha) {
  if (previous <= Duration::Zero()) return sample;
  alpha = std::clamp(alpha, 1e-6, 1.0);
  return Duration::Nanos(
      std::llround(alpha * static_cast<double>(sample.nanos()) + (1 - alpha) * static_cast<double>(previous.nanos())));
}

}  // namespace stargate::sched
