#include "cli/stop_signals.h"

namespace stargate::cli {

SignalWaiter::SignalWaiter(const sigset_t& signals, std::function<void(int)> on_signal)
    : thread_([this, signals, on_signal = std::move(on_signal)] {
        for (;;) {
          int sig = 0;
          sigwait(&signals, &sig);
          if (done_.load()) return;
          on_signal(sig);
          if (sig != SIGHUP) return;  // a reload: keep waiting
        }
      }) {}

SignalWaiter::~SignalWaiter() {
  done_ = true;
  pthread_kill(thread_.native_handle(), SIGTERM);  // a no-op when it already took a signal and ended
  thread_.join();
}

}  // namespace stargate::cli
