// File: real_clock.h
// The clock the binaries run on. Now() is the wall clock read once, at
// construction, plus the monotonic clock's advance since: Unix time, as
// records and logs need, that never steps back or jumps when the system
// clock is set (an NTP step, a suspended VM resumed), so heartbeat
// deadlines and grace periods measure real intervals. Waits are relative,
// on the monotonic clock. The only place in src/ that reads std::chrono's
// clocks or sleeps (tests/lint/check_layers.py). Thread-safe.
#pragma once

#include <chrono>

#include "core/clock.h"

namespace stargate {

class RealClock final : public Clock {
 public:
  RealClock();

  Time Now() const override;
  void SleepUntil(Time deadline) override;
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline) override;

 private:
  const int64_t unix_at_start_ns_;
  const std::chrono::steady_clock::time_point steady_at_start_;
};

}  // namespace stargate
