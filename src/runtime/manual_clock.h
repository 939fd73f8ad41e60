// File: manual_clock.h
// A clock that moves only when told (Advance, Set): tests of the control
// plane decide heartbeat timeouts, partition grace periods and checkpoint
// intervals without sleeping, and in-process servers and agents run on it
// as on the real one. Threads blocked in SleepUntil or WaitUntil wake when
// an Advance reaches their deadline (WaitUntil's also on a notify).
// Thread-safe.
#pragma once

#include <absl/base/thread_annotations.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

#include "core/clock.h"

namespace stargate {

class ManualClock final : public Clock {
 public:
  // 2023-11-14 22:13:20 UTC: a plausible Unix time, so records look real.
  static constexpr Time kDefaultStart = Time::FromMillis(1'700'000'000'000);

  explicit ManualClock(Time start = kDefaultStart) : now_(start) {}

  Time Now() const override;
  void SleepUntil(Time deadline) override;
  // The condition variable and its mutex must outlive any Advance that may
  // find the caller waiting (members of the object whose thread waits).
  // Advance takes that mutex to wake the waiter: a thread must not sleep on
  // this clock while it holds a mutex another thread waits with.
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline) override;

  // Moves time forward by `d` (>= 0) and wakes every thread whose wait
  // ends by then.
  void Advance(Duration d);
  // Moves time to `t`; never backwards (an earlier `t` is ignored).
  void Set(Time t);
  // Threads blocked in SleepUntil or WaitUntil now: a test waits for a
  // thread to reach its wait before it advances past the deadline.
  int waiting() const;

 private:
  void WakeWaiters();

  mutable std::mutex mu_;
  std::condition_variable moved_;  // SleepUntil's, notified on every move
  Time now_ ABSL_GUARDED_BY(mu_);
  int sleeping_ ABSL_GUARDED_BY(mu_) = 0;
  // WaitUntil's callers: their condition variables and mutexes, counted.
  std::map<std::pair<std::condition_variable*, std::mutex*>, int> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stargate
