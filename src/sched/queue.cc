#include "sched/queue.h"

#include <algorithm>

namespace stargate::sched {

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
  if (flat_.valid && last) {
    slot.pos = static_cast<uint32_t>(flat_.list.size());
    flat_.list.push_back(&slot);
  } else {
    flat_.valid = false;
  }
}

void Queue::Flatten() const {
  if (flat_.valid && flat_.gaps <= flat_.list.size() / 2) return;
  flat_.list.clear();
  flat_.list.reserve(order_.size());
  for (const Key& key : order_) {
    const Slot& slot = by_id_.at(key.id);
    slot.pos = static_cast<uint32_t>(flat_.list.size());
    flat_.list.push_back(&slot);
  }
  flat_.gaps = 0;
  flat_.valid = true;
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
    if (flat_.valid) {
      flat_.list[it->second.pos] = nullptr;
      ++flat_.gaps;
    }
  }
  by_id_.erase(it);
  return true;
}

}  // namespace stargate::sched
