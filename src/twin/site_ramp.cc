#include "twin/site_ramp.h"

#include <algorithm>
#include <cmath>

namespace stargate::twin {

Time SiteRamp::Change::Next() const {
  Time t = ticks > 0 ? next_tick : Time::Never();
  if (step_w > 0) t = std::min(t, step_at);
  return t;
}

void SiteRamp::Plan(uint32_t job, Time now, const sched::RampSlot& slot, const sched::Rise& rise) {
  if (rise.total() <= 0) return;
  Change c;
  c.job = job;
  c.sign = +1;
  c.step_at = now + slot.after;
  c.step_w = rise.step_w;
  c.next_tick = c.step_at + slot.hold;
  c.ticks = rise.ramp_w > 0 ? sched::StepsOf(slot.up) : 0;
  c.each_w = c.ticks > 0 ? rise.ramp_w / static_cast<double>(c.ticks) : 0.0;
  c.planned = rise;
  deficit_w_ += c.Left();
  changes_.push_back(c);
}

void SiteRamp::Book(Time now) {
  if (now > booked_) held_j_ += holding_w_ * (now - booked_).seconds();
  booked_ = std::max(booked_, now);
}

sched::Rise SiteRamp::Stop(uint32_t job, const sched::Rise& rise, Time now) {
  Advance(now);  // what is due at `now` is drawn
  sched::Rise drawn = rise;
  auto it = std::find_if(changes_.begin(), changes_.end(), [&](const Change& c) { return c.job == job && c.sign > 0; });
  if (it != changes_.end()) {  // a rise under way: only its applied part is drawn
    deficit_w_ = std::max(0.0, deficit_w_ - it->Left());
    // Of the plan (the whole gang's), by the share of it that stops (its
    // survivors, when a node is lost).
    const double share = it->planned.total() > 0 ? rise.total() / it->planned.total() : 0.0;
    drawn.step_w = it->step_w > 0 ? 0.0 : it->planned.step_w * share;
    drawn.ramp_w = std::max(0.0, it->planned.ramp_w - static_cast<double>(it->ticks) * it->each_w) * share;
    changes_.erase(it);
  }
  if (drawn.total() <= 0 || rate_ <= 0) return drawn;
  // Down the rise's own path: the part above the floor a second at a time,
  // the floor held as long as its step takes at the rate, then released.
  const sched::RampSlot fall = sched::FallSeconds(drawn, rate_);
  Change c;
  c.job = job;
  c.sign = -1;
  c.step_w = drawn.step_w;
  c.ticks = drawn.ramp_w > 0 ? sched::StepsOf(fall.up) : 0;
  c.each_w = c.ticks > 0 ? drawn.ramp_w / static_cast<double>(c.ticks) : 0.0;
  c.next_tick = now + Duration::Seconds(1);
  c.step_at = now + Duration::Seconds(c.ticks) + fall.hold;
  holding_w_ += drawn.total();
  changes_.push_back(c);
  return drawn;
}

void SiteRamp::DelayFall(uint32_t job, Duration wait) {
  if (wait <= Duration::Zero()) return;
  auto it =
      std::find_if(changes_.rbegin(), changes_.rend(), [&](const Change& c) { return c.job == job && c.sign < 0; });
  if (it == changes_.rend()) return;
  it->next_tick = it->next_tick + wait;
  it->step_at = it->step_at + wait;
}

void SiteRamp::Clear(Time now) {
  Book(now);
  changes_.clear();
  deficit_w_ = 0;
  holding_w_ = 0;
}

Time SiteRamp::Advance(Time now) {
  Book(now);
  for (Change& c : changes_) {
    double& total = c.sign > 0 ? deficit_w_ : holding_w_;
    if (c.sign > 0 && c.step_w > 0 && c.step_at <= now) total -= std::exchange(c.step_w, 0.0);  // the launch
    // Each step at its second (a late call catches up).
    while (c.ticks > 0 && c.next_tick <= now && (c.sign < 0 || c.step_w == 0)) {
      --c.ticks;
      total -= c.each_w;
      c.next_tick = c.next_tick + Duration::Seconds(1);
    }
    if (c.sign < 0 && c.ticks == 0 && c.step_w > 0 && c.step_at <= now) total -= std::exchange(c.step_w, 0.0);
  }
  std::erase_if(changes_, [](const Change& c) { return c.ticks == 0 && c.step_w == 0; });
  // No rounding drift once nothing is left of a kind.
  if (std::none_of(changes_.begin(), changes_.end(), [](const Change& c) { return c.sign > 0; })) deficit_w_ = 0;
  if (std::none_of(changes_.begin(), changes_.end(), [](const Change& c) { return c.sign < 0; })) holding_w_ = 0;
  Time next = Time::Never();
  for (const Change& c : changes_) next = std::min(next, c.Next());
  return next;
}

}  // namespace stargate::twin
