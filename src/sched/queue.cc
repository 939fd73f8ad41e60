#include "sched/queue.h"

#include <algorithm>

namespace stargate::sched {

void Queue::Push(JobRequest req) {
  Erase(req.id);
  if (req.is_repair()) {
    repairs_.push_back(req);
  } else {
    // Jobs come mostly in order (by id: submit order): at the end, a
    // constant-time insert; anywhere else it costs what insert does.
    order_.emplace_hint(order_.end(), KeyOf(req));
    if (keep_tenant_order_) {
      std::set<Key>& mine = by_tenant_[req.tenant.value()];
      mine.emplace_hint(mine.end(), KeyOf(req));
    }
  }
  const uint32_t id = req.id.value();
  by_id_.emplace(id, std::move(req));
}

bool Queue::Erase(JobId job) {
  auto it = by_id_.find(job.value());
  if (it == by_id_.end()) return false;
  if (it->second.is_repair()) {
    // Few repairs wait at once (one per broken gang): a scan is cheap.
    auto r = std::find_if(repairs_.begin(), repairs_.end(), [&](const JobRequest& q) { return q.id == job; });
    if (r != repairs_.end()) repairs_.erase(r);
  } else {
    order_.erase(KeyOf(it->second));
    if (keep_tenant_order_) {
      auto t = by_tenant_.find(it->second.tenant.value());
      t->second.erase(KeyOf(it->second));
      if (t->second.empty()) by_tenant_.erase(t);
    }
  }
  by_id_.erase(it);
  return true;
}

}  // namespace stargate::sched
