// File: queue.h
// Pending jobs in scheduling order: higher priority first, then earlier
// original submit, then lower id; on request (KeepTenantOrder) the same
// order is also kept per tenant, so a fair-share pass (fair_order.h) can
// merge the tenants' queues; that doubles the cost of Push and Erase, so
// only policies that use it ask for it (Scheduler::UsesTenantOrder). A job requeued after a failure keeps its
// submit time and so returns to its old place. Gang-repair requests (jobs
// that still hold most of their gang) are kept apart, in arrival order: a
// policy serves them before any new placement. Not thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "sched/job_request.h"

namespace stargate::sched {

class Queue {
 public:
  struct Key {
    int neg_priority;
    int64_t submit_ns;
    uint32_t id;
    auto operator<=>(const Key&) const = default;
  };

  // Keep by_tenant() from now on (call while empty).
  void KeepTenantOrder() { keep_tenant_order_ = true; }
  bool keeps_tenant_order() const { return keep_tenant_order_; }

  // Adds `req`; a job already queued is replaced.
  void Push(JobRequest req);
  // Room for `n` jobs without rehashing (a pass that queues them all).
  void Reserve(size_t n) { by_id_.reserve(n); }
  // Removes `job`; returns false if it was not queued.
  bool Erase(JobId job);
  bool Contains(JobId job) const { return by_id_.count(job.value()) != 0; }
  size_t size() const { return by_id_.size(); }
  bool empty() const { return by_id_.empty(); }

  // Repair requests, oldest first; not part of the ordered iteration below.
  const std::vector<JobRequest>& repairs() const { return repairs_; }

  // Iteration in scheduling order yields const JobRequest& (repairs excluded).
  class Iterator {
   public:
    Iterator(const Queue* q, std::set<Key>::const_iterator it) : q_(q), it_(it) {}
    const JobRequest& operator*() const { return q_->by_id_.at(it_->id); }
    const JobRequest* operator->() const { return &**this; }
    Iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return it_ != o.it_; }
    bool operator==(const Iterator& o) const { return it_ == o.it_; }

   private:
    const Queue* q_;
    std::set<Key>::const_iterator it_;
  };
  Iterator begin() const { return Iterator(this, order_.begin()); }
  Iterator end() const { return Iterator(this, order_.end()); }

  // Each tenant's queued jobs (repairs excluded) in scheduling order, keyed
  // by TenantId::value() (the invalid id for jobs without a tenant); empty
  // unless KeepTenantOrder() was called.
  const std::map<uint16_t, std::set<Key>>& by_tenant() const { return by_tenant_; }
  const JobRequest& at(uint32_t id) const { return by_id_.at(id); }

 private:
  static Key KeyOf(const JobRequest& r) { return Key{-r.priority, r.submit.nanos(), r.id.value()}; }
  std::set<Key> order_;
  std::map<uint16_t, std::set<Key>> by_tenant_;
  bool keep_tenant_order_ = false;
  std::unordered_map<uint32_t, JobRequest> by_id_;
  std::vector<JobRequest> repairs_;
};

}  // namespace stargate::sched
