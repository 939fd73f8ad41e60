#include "twin/site_meter.h"

#include <algorithm>

namespace stargate::twin {

void SiteMeter::AdvanceTo(Time t) {
  constexpr int64_t kHour = Duration::Hours(1).nanos();
  const int64_t end = std::min<int64_t>(t.nanos(), static_cast<int64_t>(energy_j_.size()) * kHour);
  if (!up_ && down_s_.empty()) down_s_.assign(energy_j_.size(), 0.0);
  while (last_ns_ < end) {
    const int64_t h = last_ns_ / kHour;
    const int64_t stop = std::min(end, (h + 1) * kHour);
    const double dt = static_cast<double>(stop - last_ns_) * 1e-9;
    energy_j_[static_cast<size_t>(h)] += facility_w_ * dt;
    busy_device_s_[static_cast<size_t>(h)] += static_cast<double>(busy_) * dt;
    if (!up_) down_s_[static_cast<size_t>(h)] += dt;
    last_ns_ = stop;
  }
  last_ns_ = std::max(last_ns_, t.nanos());
}

void SiteMeter::Set(double facility_w, int64_t busy_devices, bool up) {
  facility_w_ = facility_w;
  up_ = up;
  busy_ = busy_devices;
  peak_w_ = std::max(peak_w_, facility_w);
  swings_.Level(Time::Epoch() + Duration::Nanos(last_ns_), facility_w);
}

}  // namespace stargate::twin
