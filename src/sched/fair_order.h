// File: fair_order.h
// The order a pass looks at pending jobs in: priority first; within a
// priority, weighted fair share across tenants (the tenant with the
// smallest dominant share, tenant_ledger.h, goes next, counting what this
// pass has already started for it); within a tenant, original submit
// order. Built as a k-way merge of the per-tenant queues with a heap of
// tenants, so each step costs O(log tenants).
//
// With one tenant, with fair share off, or over a queue that does not keep
// tenant order (Queue::KeepTenantOrder), this is exactly Queue order.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "sched/cluster_state.h"
#include "sched/queue.h"
#include "sched/tenant_ledger.h"

namespace stargate::sched {

class FairOrder {
 public:
  // Starts a pass; `state` and `queue` must outlive it and stay unchanged.
  void Begin(const ClusterState& state, const Queue& queue, bool fair);
  // The next job to look at, or nullptr when every job has been seen.
  const JobRequest* Next();
  // The job Next() returned last was started holding `usage`: its tenant's
  // share grows before its next job competes.
  void Charge(const TenantUsage& usage);

 private:
  struct Cursor {
    Queue::Key head;
    double share = 0;
    uint16_t tenant = 0;
    std::set<Queue::Key>::const_iterator it, end;
  };
  // Heap order: true when `a` goes after `b`.
  static bool After(const Cursor& a, const Cursor& b);
  double ShareOf(uint16_t tenant) const;

  const ClusterState* state_ = nullptr;
  const Queue* queue_ = nullptr;
  bool fair_ = false;
  std::optional<Queue::Iterator> plain_;  // fair share off: queue order
  std::vector<Cursor> heap_;
  std::optional<Cursor> current_;                      // popped; goes back on the next Next()
  std::unordered_map<uint16_t, TenantUsage> started_;  // this pass, per tenant
};

}  // namespace stargate::sched
