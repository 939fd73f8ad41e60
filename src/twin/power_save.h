// File: power_save.h
// Power saving for one accelerator pool, as Slurm's power-save mode does it
// (SuspendTime, ResumeTimeout): devices left idle for `idle_after` are
// switched off, except a warm reserve (at least the hot spares) that stays
// on for quick starts; a job that needs more idle devices than are powered
// waits for the rest to boot. Counting is by devices, as the twin's power
// model is; which nodes are off does not matter to it.
//
// Off devices draw nothing here (a BMC's few watts are ignored).
#pragma once

#include <cstdint>
#include <deque>

#include "core/units.h"

namespace stargate::twin {

// The devices a pool keeps on however long they are idle: `warm` of its
// nodes, rounded up, and at least its hot spares (scheduler.power_save).
// So at every instant at least this many of its devices are powered, busy
// or not (PoolPowerSaver), wherever its site is up: the oracle bound counts
// their idle draw too.
int64_t WarmDevices(double warm, int64_t num_nodes, int64_t per_node, int64_t hot_spares);

class PoolPowerSaver {
 public:
  PoolPowerSaver() = default;
  // `warm` devices stay on however long they are idle; at the start the
  // pool is idle with only those on.
  explicit PoolPowerSaver(int64_t warm) : warm_(warm), on_idle_(warm) {}

  // `devices` became idle at `now` (powered, timer started).
  void Freed(Time now, int64_t devices);
  // A job takes `devices` idle devices; returns how many of them were off
  // and must boot first.
  int64_t Take(int64_t devices);
  // Switches off what has been idle for `idle_after` by `now`, down to the
  // warm reserve.
  void Sweep(Time now, Duration idle_after);

  int64_t on_idle() const { return on_idle_; }

 private:
  struct Timer {
    Time freed;
    int64_t devices;
  };
  int64_t warm_ = 0;
  int64_t on_idle_ = 0;
  std::deque<Timer> timers_;  // oldest first; their devices sum to <= on_idle_
};

}  // namespace stargate::twin
