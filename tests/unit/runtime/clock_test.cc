// The two clocks: the manual one moves only when told, and wakes what
// waits on it exactly when its deadline is reached; the real one is Unix
// time that never goes back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/manual_clock.h"
#include "runtime/real_clock.h"

namespace stargate {
namespace {

// Real-time polling for what another thread does, bounded.
template <typename Pred>
bool Eventually(Pred done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(ManualClock, MovesOnlyForwardAndOnlyWhenTold) {
  ManualClock clock(Time::FromMillis(1000));
  EXPECT_EQ(clock.Now(), Time::FromMillis(1000));
  clock.Advance(Duration::Millis(250));
  EXPECT_EQ(clock.Now(), Time::FromMillis(1250));
  clock.Set(Time::FromMillis(1100));  // never backwards
  EXPECT_EQ(clock.Now(), Time::FromMillis(1250));
  clock.Set(Time::FromMillis(5000));
  EXPECT_EQ(clock.Now(), Time::FromMillis(5000));
  clock.SleepUntil(Time::FromMillis(4000));  // in the past: returns at once
}

TEST(ManualClock, ASleeperWakesWhenTheClockReachesItsDeadline) {
  ManualClock clock;
  const Time deadline = clock.Now() + Duration::Seconds(10);
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepUntil(deadline);
    woke = true;
  });
  ASSERT_TRUE(Eventually([&] { return clock.waiting() == 1; }));
  clock.Advance(Duration::Seconds(9));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(woke.load());
  clock.Advance(Duration::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return woke.load(); }));
  sleeper.join();
  EXPECT_EQ(clock.waiting(), 0);
}

TEST(ManualClock, ATimedWaitEndsOnANotifyOrAtItsDeadline) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool flag = false;
  std::atomic<int> outcome{-1};  // 1: notified, 0: deadline
  auto waiter = [&] {
    std::unique_lock<std::mutex> lock(mu);
    const Time deadline = clock.Now() + Duration::Seconds(5);
    bool before = true;
    while (!flag && (before = clock.WaitUntil(cv, lock, deadline))) {
    }
    outcome = flag ? 1 : before ? -1 : 0;
  };
  // Notified before the deadline.
  std::thread a(waiter);
  ASSERT_TRUE(Eventually([&] { return clock.waiting() == 1; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    flag = true;
  }
  cv.notify_all();
  a.join();
  EXPECT_EQ(outcome.load(), 1);
  // Not notified: it ends when the clock reaches the deadline, not before.
  flag = false;
  outcome = -1;
  std::thread b(waiter);
  ASSERT_TRUE(Eventually([&] { return clock.waiting() == 1; }));
  clock.Advance(Duration::Millis(4999));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(outcome.load(), -1);
  clock.Advance(Duration::Millis(1));
  b.join();
  EXPECT_EQ(outcome.load(), 0);
  // A deadline already passed returns at once.
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_FALSE(clock.WaitUntil(cv, lock, clock.Now()));
}

TEST(RealClock, IsUnixTimeThatNeverGoesBack) {
  RealClock clock;
  const Time a = clock.Now();
  const int64_t system_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(a.millis()), static_cast<double>(system_ms), 1000.0);
  Time last = a;
  for (int i = 0; i < 1000; ++i) {
    const Time t = clock.Now();
    EXPECT_GE(t, last);
    last = t;
  }
  clock.SleepFor(Duration::Millis(20));
  EXPECT_GE(clock.Now() - a, Duration::Millis(20));
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  const Time start = clock.Now();
  while (clock.WaitUntil(cv, lock, start + Duration::Millis(30))) {
  }
  EXPECT_GE(clock.Now() - start, Duration::Millis(30));
}

}  // namespace
}  // namespace stargate
