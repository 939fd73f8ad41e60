#include "runtime/real_clock.h"

#include <thread>

namespace stargate {

RealClock::RealClock()
    : unix_at_start_ns_(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count()),
      steady_at_start_(std::chrono::steady_clock::now()) {}

Time RealClock::Now() const {
  const auto since = std::chrono::steady_clock::now() - steady_at_start_;
  return Time::FromNanos(unix_at_start_ns_ + std::chrono::duration_cast<std::chrono::nanoseconds>(since).count());
}

void RealClock::SleepUntil(Time deadline) {
  const Duration left = deadline - Now();
  if (left > Duration::Zero()) std::this_thread::sleep_for(std::chrono::nanoseconds(left.nanos()));
}

bool RealClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline) {
  const Duration left = deadline - Now();
  if (left <= Duration::Zero()) return false;
  cv.wait_for(lock, std::chrono::nanoseconds(left.nanos()));
  return Now() < deadline;
}

}  // namespace stargate
