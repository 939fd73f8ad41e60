// File: duration_math.h
// Saturating arithmetic on Duration for the models in this folder. A model
// that cannot finish (zero bandwidth, zero throughput) answers
// Duration::Infinite(); these helpers keep Infinite sticky instead of letting
// the int64 wrap around. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <limits>

#include "core/units.h"

namespace stargate::model {

// a + b for non-negative durations; Infinite when either is or the sum overflows.
inline Duration SaturatingAdd(Duration a, Duration b) {
  if (a.is_infinite() || b.is_infinite()) return Duration::Infinite();
  if (b.nanos() > 0 && a.nanos() > std::numeric_limits<int64_t>::max() - b.nanos()) {
    return Duration::Infinite();
  }
  return a + b;
}

// d * k for a non-negative d and k >= 0; Infinite when d is or the product overflows.
inline Duration SaturatingMul(Duration d, int64_t k) {
  if (k <= 0 || d.nanos() <= 0) return Duration::Zero();
  if (d.is_infinite() || d.nanos() > std::numeric_limits<int64_t>::max() / k) {
    return Duration::Infinite();
  }
  return d * k;
}

}  // namespace stargate::model
