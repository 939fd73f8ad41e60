#include "model/checkpoint.h"

#include <algorithm>
#include <cmath>

namespace stargate::model {

Bytes CheckpointBytes(const TrainingSpec& training) { return Bytes(training.params * training.state_bytes_per_param); }

Duration CheckpointWriteTime(Bytes state, BytesPerSec bandwidth) {
  if (state.value() <= 0) return Duration::Zero();
  if (bandwidth.value() <= 0) return Duration::Infinite();
  return state / bandwidth;
}

Duration SnapshotStallTime(Bytes state, int devices) {
  if (state.value() <= 0) return Duration::Zero();
  return Duration::FromSeconds(state.value() / (kHostCopyBytesPerSecPerDevice * std::max(1, devices)));
}

Duration YoungInterval(Duration write, Duration mtbf) {
  if (mtbf.is_infinite() || write.is_infinite()) return Duration::Infinite();
  return Duration::FromSeconds(std::sqrt(2 * std::max(write.seconds(), 0.0) * std::max(mtbf.seconds(), 0.0)));
}

Duration DalyInterval(Duration write, Duration mtbf) {
  if (mtbf.is_infinite() || write.is_infinite()) return Duration::Infinite();
  const double delta = std::max(write.seconds(), 0.0);
  const double m = std::max(mtbf.seconds(), 0.0);
  if (delta >= 2 * m) return mtbf;
  const double x = delta / (2 * m);
  const double tau = std::sqrt(2 * delta * m) * (1 + std::sqrt(x) / 3 + x / 9) - delta;
  return Duration::FromSeconds(std::max(tau, 0.0));
}

double ExpectedEfficiency(Duration interval, Duration write, Duration restart, Duration mtbf) {
  const double tau = interval.seconds();
  if (tau <= 0 || mtbf.nanos() <= 0) return 0;
  const double delta = std::max(write.seconds(), 0.0);
  const double duty = tau / (tau + delta);
  if (mtbf.is_infinite()) return duty;
  const double lost = (std::max(restart.seconds(), 0.0) + (tau + delta) / 2) / mtbf.seconds();
  return std::clamp(duty * (1 - lost), 0.0, 1.0);
}

}  // namespace stargate::model
