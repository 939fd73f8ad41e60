// File: power_swings.h
// The largest moves of a site's facility power: the largest step (every
// change at one instant taken together, as a scheduler pass that starts a
// hundred gangs moves the site once) and the largest change within any
// window (a ramp; a minute by default). What the site's electrical plant and
// its grid must absorb: the Llama 3 paper (Dubey et al., arXiv 2407.21783,
// §3.3.4) reports that thousands of GPUs starting and stopping together
// swing a data centre's power by tens of megawatts at once.
//
// O(changes within a window) per instant; deterministic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>

#include "core/units.h"

namespace stargate::twin {

class PowerSwings {
 public:
  explicit PowerSwings(Duration window = Duration::Minutes(1)) : window_ns_(window.nanos()) {}

  // The power is `watts` from `t` on. `t` never goes backwards; the first
  // call sets the starting level (no step), and changes at the same instant
  // as it still count against it.
  void Level(Time t, double watts);

  // A swing that is not a level change here (a gang's checkpoint stall,
  // which the twin does not simulate write by write): counted as a step
  // and as a change within the window.
  void Note(double step_w, double ramp_w) {
    noted_step_ = std::max(noted_step_, step_w);
    noted_ramp_ = std::max(noted_ramp_, ramp_w);
  }

  // Including the instant still open.
  double largest_step_w() const { return std::max(Closed().step_, noted_step_); }
  double largest_ramp_w() const { return std::max(Closed().ramp_, noted_ramp_); }

 private:
  PowerSwings Closed() const;
  void Close();  // the open instant ends at level_

  int64_t window_ns_;
  bool started_ = false;
  int64_t instant_ = 0;  // time of the open instant
  double base_ = 0;      // level before it
  double level_ = 0;     // level after its changes so far
  double step_ = 0, ramp_ = 0;
  double noted_step_ = 0, noted_ramp_ = 0;
  // Closed instants within the window (time, level from then on), oldest
  // first, plus the last one before the window: the level a window ago.
  std::deque<std::pair<int64_t, double>> recent_;
};

}  // namespace stargate::twin
