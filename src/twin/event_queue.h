// File: event_queue.h
// The twin's future event list: a binary heap ordered by (time, sequence).
// The sequence number breaks ties in insertion order, so two runs with the
// same seed process simultaneous events identically.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "core/units.h"

namespace stargate::twin {

enum class EventType : uint8_t {
  kJobFinish,        // a = job, b = epoch (stale when the job restarted since)
  kPoolFailure,      // a = pool: the pool's next component failure
  kSiteFailure,      // a = site
  kNodeRepair,       // a = node
  kSiteRepair,       // a = site
  kJobWake,          // a = job, b = epoch: a deferred job returns to the queue
  kJobPreempt,       // a = job, b = epoch: a preempted job's warning is over
  kPowerSweep,       // a = pool: idle devices may have reached their switch-off time
  kScriptedFailure,  // a = index into failures.scripted
  kNodeDrain,        // a = node: it takes no new work from now (TwinInputs::drains)
  kRampStep,         // a = site: a choreographed power change is due (twin/site_ramp.h)
};

struct Event {
  int64_t time_ns;
  uint64_t seq;
  uint32_t a;
  uint32_t b;
  EventType type;
};

class EventQueue {
 public:
  void Push(Time t, EventType type, uint32_t a, uint32_t b = 0) {
    heap_.push(Event{t.nanos(), next_seq_++, a, b, type});
  }
  bool empty() const { return heap_.empty(); }
  Time NextTime() const { return Time::FromNanos(heap_.top().time_ns); }
  Event Pop() {
    Event e = heap_.top();
    heap_.pop();
    return e;
  }
  size_t size() const { return heap_.size(); }

 private:
  struct Later {
    bool operator()(const Event& x, const Event& y) const {
      return x.time_ns != y.time_ns ? x.time_ns > y.time_ns : x.seq > y.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace stargate::twin
