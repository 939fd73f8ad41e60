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

void ReplicaIndex::Set(size_t i, const ReplicaLoad& r) {
  if (i >= loads_.size()) {
    loads_.resize(i + 1);
    key_.resize(i + 1);
  }
  if (key_[i]) measured_.erase(*key_[i]);
  key_[i].reset();
  unmeasured_.erase(i);
  loads_[i] = r;
  if (!r.routable) return;
  if (r.service <= Duration::Zero()) {
    unmeasured_.insert(i);
    return;
  }
  key_[i] = Key{ExpectedLatency(r, r.service), r.inflight, i};
  measured_.insert(*key_[i]);
}

std::optional<size_t> ReplicaIndex::Pick(std::span<const size_t> tried, Duration fallback_service) const {
  auto skipped = [&](size_t i) { return std::find(tried.begin(), tried.end(), i) != tried.end(); };
  std::optional<Key> best;
  for (const Key& k : measured_) {  // the first not tried (each tried one skips one entry)
    if (skipped(k.index)) continue;
    best = k;
    break;
  }
  for (size_t i : unmeasured_) {
    if (skipped(i)) continue;
    const Key k{ExpectedLatency(loads_[i], fallback_service), loads_[i].inflight, i};
    if (!best || k < *best) best = k;
  }
  if (!best) return std::nullopt;
  return best->index;
}

void ReplicaIndex::Clear() {
  measured_.clear();
  unmeasured_.clear();
  loads_.clear();
  key_.clear();
}

Duration NextServiceEwma(Duration previous, Duration sample, double alpha) {
  if (previous <= Duration::Zero()) return sample;
  alpha = std::clamp(alpha, 1e-6, 1.0);
  return Duration::Nanos(
      std::llround(alpha * static_cast<double>(sample.nanos()) + (1 - alpha) * static_cast<double>(previous.nanos())));
}

}  // namespace stargate::sched
