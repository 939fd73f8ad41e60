// File: scheduler.h
// The seam both drivers (twin/, control/) call:
//   Decisions Schedule(const ClusterState&, const Queue&, Time now)
// A scheduler is a pure policy object: it reads the state and the queue and
// returns decisions; it never mutates the cluster, reads a clock or does I/O.
// The driver applies the decisions (Allocate, dequeue, start processes or
// simulated runs) and calls again when something changed.
#pragma once

#include <memory>
#include <string>

#include "core/scenario.h"
#include "core/status.h"
#include "sched/cluster_state.h"
#include "sched/decisions.h"
#include "sched/queue.h"

namespace stargate::sched {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string name() const = 0;
  virtual Decisions Schedule(const ClusterState& state, const Queue& queue, Time now) = 0;
  // True if Schedule() reads Queue::by_tenant(): the driver then builds its
  // queue with Queue::KeepTenantOrder().
  virtual bool UsesTenantOrder() const { return false; }
  // True if no Start takes a site past its power cap (the driver then says
  // so of jobs a cap holds back).
  virtual bool HonoursPowerCaps() const { return false; }
};

// Makes the policy set named in a scenario or server config ("fifo" or
// "stargate"), configured by `spec`. InvalidArgument lists the known names.
StatusOr<std::unique_ptr<Scheduler>> MakeScheduler(const std::string& policy, const SchedulerSpec& spec = {});

}  // namespace stargate::sched
