#include "twin/power_save.h"

#include <algorithm>
#include <cmath>

namespace stargate::twin {

int64_t WarmDevices(double warm, int64_t num_nodes, int64_t per_node, int64_t hot_spares) {
  const int64_t nodes = std::max(hot_spares, static_cast<int64_t>(std::ceil(warm * static_cast<double>(num_nodes))));
  return std::min(num_nodes * per_node, nodes * per_node);
}

void PoolPowerSaver::Freed(Time now, int64_t devices) {
  if (devices <= 0) return;
  on_idle_ += devices;
  timers_.push_back(Timer{now, devices});
}

int64_t PoolPowerSaver::Take(int64_t devices) {
  const int64_t from_on = std::min(devices, on_idle_);
  on_idle_ -= from_on;
  // The most recently freed devices go first (still warm, and the oldest
  // timers keep running towards switch-off).
  int64_t left = from_on;
  while (left > 0 && !timers_.empty()) {
    Timer& t = timers_.back();
    const int64_t used = std::min(left, t.devices);
    t.devices -= used;
    left -= used;
    if (t.devices == 0) timers_.pop_back();
  }
  return devices - from_on;
}

void PoolPowerSaver::Sweep(Time now, Duration idle_after) {
  while (!timers_.empty() && timers_.front().freed + idle_after <= now) {
    const int64_t off = std::max<int64_t>(0, std::min(timers_.front().devices, on_idle_ - warm_));
    on_idle_ -= off;
    timers_.pop_front();
  }
}

}  // namespace stargate::twin
