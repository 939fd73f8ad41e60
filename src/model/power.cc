#include "model/power.h"

#include <algorithm>

namespace stargate::model {

Watts BoardPower(const AcceleratorSpec& accel, double utilisation) {
  const double u = std::clamp(utilisation, 0.0, 1.0);
  return accel.idle + (accel.tdp - accel.idle) * u;
}

Watts HostPower(const AcceleratorSpec& accel, double utilisation) {
  const double u = std::clamp(utilisation, 0.0, 1.0);
  return accel.host_share * (kHostIdleFraction + (1 - kHostIdleFraction) * u);
}

Watts DevicePower(const AcceleratorSpec& accel, double utilisation) {
  return BoardPower(accel, utilisation) + HostPower(accel, utilisation);
}

Watts PoolPower(const AcceleratorSpec& accel, int64_t total, int64_t busy, double utilisation) {
  if (total <= 0) return Watts(0);
  const int64_t b = std::clamp<int64_t>(busy, 0, total);
  return DevicePower(accel, utilisation) * static_cast<double>(b) +
         DevicePower(accel, 0) * static_cast<double>(total - b);
}

Watts FacilityPower(Watts it, double pue) { return it * std::max(pue, 1.0); }

}  // namespace stargate::model
