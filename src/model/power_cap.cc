#include "model/power_cap.h"

#include <algorithm>
#include <cmath>

namespace stargate::model {

CapEffect PowerCapEffect(const AcceleratorSpec& accel, double utilisation, double tdp_fraction) {
  CapEffect e;
  if (tdp_fraction <= 0 || tdp_fraction >= 1) return e;
  const double u = std::clamp(utilisation, 0.0, 1.0);
  const double draw = accel.idle.value() + (accel.tdp.value() - accel.idle.value()) * u;
  const double limit = std::clamp(tdp_fraction, kMinCapFraction, 1.0) * accel.tdp.value();
  if (draw <= limit || draw <= 0) return e;
  e.draw_ratio = limit / draw;
  e.slowdown = std::pow(e.draw_ratio, -kCapSpeedExponent);
  e.saved = Watts(draw - limit);
  return e;
}

}  // namespace stargate::model
