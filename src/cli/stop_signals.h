// File: stop_signals.h
// SIGINT and SIGTERM for the long-running commands (server, agent, serve,
// up): blocked in the calling thread before any other thread starts, so
// every thread inherits the block and none of them takes the signal; one
// thread then sigwait()s on the returned set and stops the command
// cleanly, running nothing in a signal handler.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace stargate::cli {

inline sigset_t BlockStopSignals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  return s;
}

// A thread that waits for one of `signals` (blocked by BlockStopSignals)
// and calls `on_signal` with it, from that thread; SIGHUP (a reload, in
// a set that has it) is answered and waited past, any other ends the wait. Destroying the waiter
// (the command ended on its own, or after the signal) wakes and joins it;
// `on_signal` is not called for that wake-up.
class SignalWaiter {
 public:
  SignalWaiter(const sigset_t& signals, std::function<void(int)> on_signal);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace stargate::cli
