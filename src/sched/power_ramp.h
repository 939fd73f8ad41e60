// File: power_ramp.h
// Choreographed power at sites with a ramp limit (SiteSpec::power_ramp).
// A gang that starts moves its site's power by its whole rise at once
// (every device from idle to running); the Llama 3 paper (Dubey et al.,
// arXiv 2407.21783, §3.3.4) reports swings of tens of megawatts when a
// 16k-GPU job starts, stops or checkpoints in step. Here each ramp-limited
// site has one ramp channel: a starting gang's rise is planned on it after
// the rises already planned there, at the site's rate (one-second steps no
// larger than its per-second limit, a minute's worth no larger than its
// per-minute limit). The gang holds its nodes idle until its turn
// (`ramp_after`: starts are staggered), launches with its devices at their
// lowest power limit (model::kMinCapFraction of TDP; the launch is a step
// from idle to that floor, so the channel rests for the time the rate
// would have taken, `ramp_hold`, before and after it), then rises evenly
// to full (`ramp_up`). A launch step above the per-second limit cannot be
// smoothed by limits alone (the floor is the hardware's); the site's
// largest step then shows it.
//
// Falls are the drivers': a stopped gang's draw (a gang held for a repair
// too) becomes a holding load (`stargate agent --holding-load` burns it)
// that steps down its rise's path, and the channel waits for it (Fall).
// Falls take turns on a fall channel of their own (a fall beside a rise
// nets out, two side by side do not): a gang that stops while another
// falls is held at its draw until that fall and a rest after its release
// are over, kMaxFallWait at most, and its agents are told when to fall
// (HeartbeatReply.fall).
//
// Both drivers call Choreograph on each pass's decisions before applying
// (and logging) them, so the rises are part of the decision log the
// conformance test compares. The channel lives in the driver's
// RampChannels: a server that restarts reserves the rises its stored jobs
// still have (Reserve), not the falls under way. A slot
// is taken for every Start and Repair of the pass, also those a driver
// then drops (a repair without all its spares): time lost, the same in
// both.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/accelerator.h"
#include "core/ids.h"
#include "core/units.h"
#include "sched/cluster_state.h"
#include "sched/decisions.h"
#include "sched/queue.h"

namespace stargate::sched {

// Facility watts `devices` of `type` add going from idle to running at
// `utilisation` under `power_cap` (a fraction of TDP; 0 = none), at `pue`.
double GangRiseWatts(AcceleratorType type, int64_t devices, double utilisation, double power_cap, double pue);

// A gang's rise: the launch step to its devices' lowest limit, and the rest.
struct Rise {
  double step_w = 0;  // at launch
  double ramp_w = 0;  // evenly after the hold
  double total() const { return step_w + ramp_w; }
};
Rise GangRise(AcceleratorType type, int64_t devices, double utilisation, double power_cap, double pue);

struct RampSlot {
  Duration after;  // nodes held idle this long before the launch
  Duration hold;   // then at the lowest limit this long
  Duration up;     // then rising evenly to full this long

  bool ramped() const { return after + hold + up > Duration::Zero(); }
  // The job time it costs, as both drivers count it: nothing runs before
  // the launch, all of the floor's hold, half of the even rise (the gang
  // runs slower under its lower limits).
  Duration Lost() const { return after + hold + Duration::Nanos(up.nanos() / 2); }
};

// The one-second steps of an even part `up` long (one at least).
int64_t StepsOf(Duration up);

// The whole seconds a rise takes at `w_per_s` (> 0): the hold after (and
// the rest before) its launch step, and its even part.
RampSlot RiseSeconds(const Rise& rise, double w_per_s);

// What of `rise`, started on `slot`, a gang draws `since` its start: the
// launch step from `after` on, then one even step a second from the end
// of the hold (the drivers' steps, twin/site_ramp.h and the agents').
Rise DrawnAt(const Rise& rise, const RampSlot& slot, Duration since);

// A stopped gang's fall, drawing `drawn`: its even part a step a second
// (`up`), then the floor held `hold` more, then released at once; its
// agents hold it so (`stargate agent --holding-load`).
RampSlot FallSeconds(const Rise& drawn, double w_per_s);

// The longest a stopped gang is held at its draw for its fall's turn: past
// it, it falls beside the falls before it. Devices at full draw doing no
// work cost energy, and an agent that is never told its turn (a server
// restarted) falls at once after kFallUnanswered.
inline constexpr Duration kMaxFallWait = Duration::Minutes(10);
inline constexpr Duration kFallUnanswered = Duration::Seconds(30);

class RampChannels {
 public:
  // Plans `rise` at `site`, whose rate is `w_per_s` (> 0), at `now`: after
  // every rise planned there before.
  RampSlot Take(const std::string& site, const Rise& rise, double w_per_s, Time now);
  // A gang drawing `drawn` at `site` stopped at `now` and falls
  // (FallSeconds) after the falls before it there (and a rest after the
  // last one's release), held at its draw until then: returns that wait
  // (kMaxFallWait at most). No rise launches there until its fall and a
  // rest after its release are over.
  Duration Fall(const std::string& site, const Rise& drawn, double w_per_s, Time now);
  // Nothing launches at `site` before `until` (a restarted driver's rises
  // already planned).
  void Reserve(const std::string& site, Time until);
  // Falls given a turn later than their stop, and those whose turn would
  // have been past kMaxFallWait (they fell beside the falls before them).
  int64_t held_falls() const { return held_falls_; }
  int64_t overdue_falls() const { return overdue_falls_; }

  // Gives each Start at a ramp-limited site its slot, in decision order,
  // and says so in its reason; each gang a Repair restarts there too (one
  // slot for all its Repairs of the pass). Starts of jobs not in `queue`
  // are left.
  void Choreograph(const ClusterState& state, const Queue& queue, Time now, Decisions* decisions);

 private:
  // Per site, by name (a server's site indices move as sites join): when
  // its planned rises and falls end, and when its falls alone end.
  std::unordered_map<std::string, Time> free_at_;
  std::unordered_map<std::string, Time> falls_end_;
  int64_t held_falls_ = 0, overdue_falls_ = 0;
};

}  // namespace stargate::sched
