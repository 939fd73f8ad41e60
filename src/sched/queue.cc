#include "sched/queue.h"

#include <algorithm>

namespace stargate::sched {

Queue::Queue(const Queue& o)
    : order_(o.order_),
      by_tenant_(o.by_tenant_),
      keep_tenant_order_(o.keep_tenant_order_),
      by_id_(o.by_id_),
      repairs_(o.repairs_) {}

Queue& Queue::operator=(const Queue& o) {
  if (this == &o) return *this;
  order_ = o.order_;
  by_tenant_ = o.by_tenant_;
  keep_tenant_order_ = o.keep_tenant_order_;
  by_id_ = o.by_id_;
  repairs_ = o.repairs_;
  flat_.clear();
  gaps_ = 0;
  flat_valid_ = false;
  return *this;
}

void Queue::Push(JobRequest req) {
  Erase(req.id);
  const uint32_t id = req.id.value();
  if (req.is_repair()) {
    repairs_.push_back(req);
    by_id_.emplace(id, Slot{std::move(req)});
    return;
  }
  // Jobs come mostly in order (by id: submit order): at the end, a
  // constant-time insert; anywhere else it costs what insert does.
  const Key key = KeyOf(req);
  const bool last = order_.empty() || *order_.rbegin() < key;
  order_.emplace_hint(order_.end(), key);
  if (keep_tenant_order_) {
    std::set<Key>& mine = by_tenant_[req.tenant.value()];
    mine.emplace_hint(mine.end(), key);
  }
  const Slot& slot = by_id_.emplace(id, Slot{std::move(req)}).first->second;
  if (flat_valid_ && last) {
    slot.pos = static_cast<uint32_t>(flat_.size());
    flat_.push_back(&slot);
  } else {
    flat_valid_ = false;
  }
}

void Queue::Flatten() const {
  if (flat_valid_ && gaps_ <= flat_.size() / 2) return;
  flat_.clear();
  flat_.reserve(order_.size());
  for (const Key& key : order_) {
    const Slot& slot = by_id_.at(key.id);
    slot.pos = static_cast<uint32_t>(flat_.size());
    flat_.push_back(&slot);
  }
  gaps_ = 0;
  flat_valid_ = true;
}

bool Queue::Erase(JobId job) {
  auto it = by_id_.find(job.value());
  if (it == by_id_.end()) return false;
  if (it->second.req.is_repair()) {
    // Few repairs wait at once (one per broken gang): a scan is cheap.
    auto r = std::find_if(repairs_.begin(), repairs_.end(), [&](const JobRequest& q) { return q.id == job; });
    if (r != repairs_.end()) repairs_.erase(r);
  } else {
    order_.erase(KeyOf(it->second.req));
    if (keep_tenant_order_) {
      auto t = by_tenant_.find(it->second.req.tenant.value());
      t->second.erase(KeyOf(it->second.req));
      if (t->second.empty()) by_tenant_.erase(t);
    }
    if (flat_valid_) {
      flat_[it->second.pos] = nullptr;
      ++gaps_;
    }
  }
  by_id_.erase(it);
  return true;
}

}  // namespace stargate::sched
