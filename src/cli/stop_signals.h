// File: stop_signals.h
// SIGINT and SIGTERM for the long-running commands (server, agent, up):
// blocked in the calling thread before any other thread starts, so every
// thread inherits the block and none of them takes the signal; one thread
// then sigwait()s on the returned set and stops the command cleanly,
// running nothing in a signal handler.
#pragma once

#include <signal.h>

namespace stargate::cli {

inline sigset_t BlockStopSignals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  return s;
}

}  // namespace stargate::cli
