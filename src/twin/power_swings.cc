#include "twin/power_swings.h"

#include <algorithm>
#include <cmath>

namespace stargate::twin {

void PowerSwings::Level(Time t, double watts) {
  if (!started_) {
    started_ = true;
    instant_ = t.nanos();
    base_ = level_ = watts;
    return;
  }
  if (t.nanos() != instant_) {
    Close();
    instant_ = t.nanos();
    base_ = level_;
  }
  level_ = watts;
}

void PowerSwings::Close() {
  if (!started_) return;
  step_ = std::max(step_, std::abs(level_ - base_));
  // Every level held at some time in the window before this instant: the
  // one just before it (base_), those set within the window, and the one
  // in force when the window began.
  ramp_ = std::max(ramp_, std::abs(level_ - base_));
  while (recent_.size() >= 2 && recent_[1].first <= instant_ - window_ns_) recent_.pop_front();
  for (const auto& entry : recent_) ramp_ = std::max(ramp_, std::abs(level_ - entry.second));
  recent_.emplace_back(instant_, level_);
}

PowerSwings PowerSwings::Closed() const {
  PowerSwings copy = *this;
  copy.Close();
  return copy;
}

}  // namespace stargate::twin
