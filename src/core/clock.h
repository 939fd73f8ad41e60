// File: clock.h
// Time for the parts of Stargate that run in real time: the control plane,
// its agents and drivers, the CLI. One epoch (Unix), integer nanoseconds
// (core/units.h `Time`), one interface, in the spirit of LevelDB's Env and
// Seastar's manual_clock:
//
//   - runtime/real_clock.h: the binaries' clock (wall time at start, then
//     the monotonic clock, so intervals never jump);
//   - runtime/manual_clock.h: tests' clock, which moves only when the test
//     advances it, so heartbeat timeouts, grace periods and checkpoint
//     intervals are decided without sleeping.
//
// Nothing in src/ but runtime/real_clock.cc reads the system clock or
// sleeps: everything else goes through a Clock (tests/lint/check_layers.py
// checks it). The pure rooms (core, model, sched, workload) never hold
// one: their callers pass the time in. The interface names the standard
// wait types because a timed wait on a condition is what the control
// plane's threads do; core itself never waits, locks or starts a thread.
//
// Implementations are thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

#include "core/units.h"

namespace stargate {

class Clock {
 public:
  virtual ~Clock() = default;

  // Now, since the Unix epoch.
  virtual Time Now() const = 0;

  // Blocks the calling thread until Now() >= deadline (at once if it is).
  virtual void SleepUntil(Time deadline) = 0;
  void SleepFor(Duration d) { SleepUntil(Now() + d); }

  // A timed wait on a condition: blocks on `cv`, whose mutex `lock` holds,
  // until another thread notifies it or Now() reaches `deadline`. It may
  // also wake early for no reason, as std::condition_variable may, so
  // callers re-check what they wait for. Returns false when the deadline
  // has passed, true otherwise.
  virtual bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline) = 0;
};

}  // namespace stargate
