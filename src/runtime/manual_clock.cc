#include "runtime/manual_clock.h"

#include <vector>

namespace stargate {

Time ManualClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

void ManualClock::SleepUntil(Time deadline) {
  std::unique_lock<std::mutex> l(mu_);
  ++sleeping_;
  moved_.wait(l, [&] { return now_ >= deadline; });
  --sleeping_;
}

bool ManualClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline) {
  const std::pair<std::condition_variable*, std::mutex*> key{&cv, lock.mutex()};
  {
    std::lock_guard<std::mutex> l(mu_);
    if (now_ >= deadline) return false;
    ++waiters_[key];
  }
  // The caller holds `lock` from here until wait() releases it, and
  // WakeWaiters takes that mutex before it notifies: no wake-up is lost.
  cv.wait(lock);
  std::lock_guard<std::mutex> l(mu_);
  if (--waiters_[key] == 0) waiters_.erase(key);
  return now_ < deadline;
}

void ManualClock::Advance(Duration d) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (d > Duration::Zero()) now_ += d;
  }
  WakeWaiters();
}

void ManualClock::Set(Time t) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (t > now_) now_ = t;
  }
  WakeWaiters();
}

int ManualClock::waiting() const {
  std::lock_guard<std::mutex> l(mu_);
  int n = sleeping_;
  for (const auto& [key, count] : waiters_) n += count;
  return n;
}

void ManualClock::WakeWaiters() {
  std::vector<std::pair<std::condition_variable*, std::mutex*>> wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, count] : waiters_) wake.push_back(key);
  }
  moved_.notify_all();
  // Each waiter re-checks its own deadline; one not due yet waits again.
  for (auto [cv, m] : wake) {
    { std::lock_guard<std::mutex> hold(*m); }
    cv->notify_all();
  }
}

}  // namespace stargate
