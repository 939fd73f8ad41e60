// File: queue.h
// Pending jobs in scheduling order: higher priority first, then earlier
// original submit, then lower id; on request (KeepTenantOrder) the same
// order is also kept per tenant, so a fair-share pass (fair_order.h) can
// merge the tenants' queues; that doubles the cost of Push and Erase, so
// only policies that use it ask for it (Scheduler::UsesTenantOrder). A job requeued after a failure keeps its
// submit time and so returns to its old place. Gang-repair requests (jobs
// that still hold most of their gang) are kept apart, in arrival order: a
// policy serves them before any new placement.
//
// A walk in scheduling order reads a flat list of the jobs (a pass over
// 100,000 pending jobs walks them all, where a tree walk and a look-up per
// job cost 7% of a busy pass): a job pushed after every queued one (the
// usual arrival) is appended to it, an erased one leaves a gap, and the
// list is rebuilt from the ordered set on the next walk after a push
// anywhere else, or once gaps outnumber half of it. Not thread-safe (a
// walk may rebuild the list).
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

  // Iteration in scheduling order yields const JobRequest& (repairs
  // excluded); the queue must not change while it walks.
  class Iterator {
   public:
    Iterator(const Queue* q, size_t i) : q_(q), i_(i) { Skip(); }
    const JobRequest& operator*() const { return q_->flat_.list[i_]->req; }
    const JobRequest* operator->() const { return &**this; }
    Iterator& operator++() {
      ++i_;
      Skip();
      // A pass reads jobs it mostly cannot start at a few ns each: asked
      // for ahead, each job's request is in cache when its turn comes
      // (the requests are scattered over the map's nodes).
      constexpr size_t kAhead = 8;
      if (i_ + kAhead < q_->flat_.list.size()) {
        if (const Slot* ahead = q_->flat_.list[i_ + kAhead]) {
          // (Its first two lines: the fields a pass reads of a job it
          // cannot start, the data and priority among them.)
          __builtin_prefetch(&ahead->req);
          __builtin_prefetch(reinterpret_cast<const char*>(&ahead->req) + 64);
        }
      }
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    void Skip() {
      while (i_ < q_->flat_.list.size() && q_->flat_.list[i_] == nullptr) ++i_;
    }
    const Queue* q_;
    size_t i_;
  };
  Iterator begin() const {
    Flatten();
    return Iterator(this, 0);
  }
  Iterator end() const {
    Flatten();
    return Iterator(this, flat_.list.size());
  }

  // Each tenant's queued jobs (repairs excluded) in scheduling order, keyed
  // by TenantId::value() (the invalid id for jobs without a tenant); empty
  // unless KeepTenantOrder() was called.
  const std::map<uint16_t, std::set<Key>>& by_tenant() const { return by_tenant_; }
  const JobRequest& at(uint32_t id) const { return by_id_.at(id).req; }

 private:
  struct Slot {
    JobRequest req;
    mutable uint32_t pos = 0;  // its place in flat_, while that is valid
  };
  // The jobs of order_ in order, null where one was erased since. A copy
  // of a queue starts without one (it would point into the other queue's
  // jobs) and rebuilds it on its first walk; a move keeps it (the jobs
  // move with the map).
  struct Flat {
    std::vector<const Slot*> list;
    size_t gaps = 0;
    bool valid = false;
    Flat() = default;
    Flat(const Flat&) {}
    Flat& operator=(const Flat&) {
      *this = Flat();
      return *this;
    }
    Flat(Flat&&) noexcept = default;
    Flat& operator=(Flat&&) noexcept = default;
  };
  static Key KeyOf(const JobRequest& r) { return Key{-r.priority, r.submit.nanos(), r.id.value()}; }
  // Makes flat_ valid and at most half gaps.
  void Flatten() const;

  std::set<Key> order_;
  std::map<uint16_t, std::set<Key>> by_tenant_;
  bool keep_tenant_order_ = false;
  std::unordered_map<uint32_t, Slot> by_id_;  // node-based: a Slot stays put until erased
  std::vector<JobRequest> repairs_;
  mutable Flat flat_;
};

}  // namespace stargate::sched
