#include "model/geo.h"

#include <algorithm>
#include <cmath>

namespace stargate::model {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double Radians(double deg) { return deg * kPi / 180.0; }

}  // namespace

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = Radians(lat2 - lat1);
  const double dlon = Radians(lon2 - lon1);
  const double s_lat = std::sin(dlat / 2);
  const double s_lon = std::sin(dlon / 2);
  double h = s_lat * s_lat + std::cos(Radians(lat1)) * std::cos(Radians(lat2)) * s_lon * s_lon;
  h = std::clamp(h, 0.0, 1.0);  // rounding can push antipodal points past 1
  return 2.0 * kEarthRadiusKm * std::asin(std::sqrt(h));
}

Duration FiberLatency(double km) { return Duration::FromSeconds(std::max(km, 0.0) * kFiberMicrosPerKm * 1e-6); }

}  // namespace stargate::model
