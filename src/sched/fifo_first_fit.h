// File: fifo_first_fit.h
// The baseline policy: strict FIFO (priority, then submit order) with
// first-fit placement over sites and pools in declaration order. The head of
// the queue blocks everyone behind it (no backfill), as in a plain FIFO
// batch scheduler. Jobs that can never fit anywhere are rejected.
#pragma once

#include "sched/claims.h"
#include "sched/scheduler.h"

namespace stargate::sched {

class FifoFirstFit final : public Scheduler {
 public:
  std::string name() const override { return "fifo"; }
  Decisions Schedule(const ClusterState& state, const Queue& queue, Time now) override;

 private:
  Claims claims_;  // scratch, reused across passes
};

}  // namespace stargate::sched
