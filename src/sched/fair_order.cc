#include "sched/fair_order.h"

#include <algorithm>
#include <tuple>

namespace stargate::sched {

bool FairOrder::After(const Cursor& a, const Cursor& b) {
  return std::tie(a.head.neg_priority, a.share, a.head.submit_ns, a.head.id, a.tenant) >
         std::tie(b.head.neg_priority, b.share, b.head.submit_ns, b.head.id, b.tenant);
}

double FairOrder::ShareOf(uint16_t tenant) const {
  auto it = started_.find(tenant);
  return state_->tenants().DominantShare(TenantId(tenant), it == started_.end() ? TenantUsage{} : it->second);
}

void FairOrder::Begin(const ClusterState& state, const Queue& queue, bool fair) {
  state_ = &state;
  queue_ = &queue;
  fair_ = fair && queue.by_tenant().size() > 1;
  heap_.clear();
  current_.reset();
  started_.clear();
  plain_.reset();
  if (!fair_) {
    plain_.emplace(queue.begin());
    return;
  }
  for (const auto& [tenant, keys] : queue.by_tenant()) {
    heap_.push_back(Cursor{*keys.begin(), ShareOf(tenant), tenant, keys.begin(), keys.end()});
  }
  std::make_heap(heap_.begin(), heap_.end(), After);
}

const JobRequest* FairOrder::Next() {
  if (!fair_) {
    if (*plain_ == queue_->end()) return nullptr;
    if (current_.has_value()) ++*plain_;
    current_ = Cursor{};  // not emplace(): clang cannot default-construct a nested aggregate there
    if (*plain_ == queue_->end()) return nullptr;
    return &**plain_;
  }
  if (current_.has_value()) {  // the tenant served last: advance it and put it back
    Cursor c = *current_;
    current_.reset();
    if (++c.it != c.end) {
      c.head = *c.it;
      c.share = ShareOf(c.tenant);
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), After);
    }
  }
  if (heap_.empty()) return nullptr;
  std::pop_heap(heap_.begin(), heap_.end(), After);
  current_ = heap_.back();
  heap_.pop_back();
  return &queue_->at(current_->head.id);
}

void FairOrder::Charge(const TenantUsage& usage) {
  if (!fair_ || !current_.has_value()) return;
  started_[current_->tenant] += usage;
}

}  // namespace stargate::sched
