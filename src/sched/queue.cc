#include "sched/queue.h"

namespace stargate::sched {

void Queue::Push(const JobRequest& req) {
  Erase(req.id);
  order_.insert(KeyOf(req));
  by_id_.emplace(req.id.value(), req);
}

bool Queue::Erase(JobId job) {
  auto it = by_id_.find(job.value());
  if (it == by_id_.end()) return false;
  order_.erase(KeyOf(it->second));
  by_id_.erase(it);
  return true;
}

}  // namespace stargate::sched
