// File: site_ramp.h
// What a ramp-limited site's power does beside its gangs' running draw
// (sched/power_ramp.h), as the product does it with device power limits
// and a holding load:
//   - a rise still to come of a gang started on a ramp plan (a deficit:
//     its devices are counted running but draw less): the launch step to
//     the floor, then the rest once a second over the whole seconds of
//     `up`;
//   - the fall of a gang that stopped, in reverse: its devices held by the
//     agent's holding load (`stargate agent --holding-load`) whose limit
//     steps down once a second from the gang's draw to the floor over the
//     same `up`, then released (a step of the floor's draw). A fall
//     waits its turn at the gang's draw when the ramp channel says so
//     (DelayFall), as the agents do when the server tells them.
// The engine adds offset_w() to the site's facility power. O(planned
// changes) per change; deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "core/units.h"
#include "sched/power_ramp.h"

namespace stargate::twin {

class SiteRamp {
 public:
  explicit SiteRamp(double w_per_s = 0) : rate_(w_per_s) {}

  // Gang `job` started at `now` with `slot` for `rise`.
  void Plan(uint32_t job, Time now, const sched::RampSlot& slot, const sched::Rise& rise);
  // Gang `job`, whose whole rise is `rise`, stops at `now`: what of it the
  // site draws (all of it, or the part of a rise in progress) falls as
  // said above.
  // Returns what it drew (sched::DrawnAt of its plan).
  sched::Rise Stop(uint32_t job, const sched::Rise& rise, Time now);
  // Gang `job`'s fall (Stop just now) begins `wait` later: it is held at
  // what it drew until then (sched::RampChannels::Fall's turn).
  void DelayFall(uint32_t job, Duration wait);
  // The site went out at `now`: nothing is left to rise or fall.
  void Clear(Time now);
  // Applies every change due at or before `now`; the next one's time
  // (Time::Never() when none is left).
  Time Advance(Time now);

  // Facility watts to add to the running gangs' draw (negative while
  // rises are under way, positive while stopped gangs are held).
  double offset_w() const { return holding_w_ - deficit_w_; }
  double holding_w() const { return holding_w_; }
  // Holding loads' energy so far (J), up to the last Advance or Stop.
  double held_j() const { return held_j_; }

 private:
  // A rise (sign +1: launch step first, then the steps) or a fall (sign
  // -1: the steps first, then the release step).
  struct Change {
    uint32_t job;
    int sign;
    Time step_at;    // the launch or the release
    double step_w;   // 0 once applied
    Time next_tick;  // the next of `ticks` steps of `each_w`
    int64_t ticks;
    double each_w;
    sched::Rise planned;  // a rise's whole plan (what Stop scales from)
    double Left() const { return step_w + static_cast<double>(ticks) * each_w; }
    Time Next() const;
  };
  void Book(Time now);  // holding energy up to `now`

  double rate_;
  std::vector<Change> changes_;
  double deficit_w_ = 0;  // rises still to come
  double holding_w_ = 0;  // falls still to come
  Time booked_ = Time::Epoch();
  double held_j_ = 0;
};

}  // namespace stargate::twin
