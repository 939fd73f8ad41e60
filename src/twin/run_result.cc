#include "twin/run_result.h"

#include <algorithm>
#include <cmath>

namespace stargate::twin {

std::string_view Name(JobOutcome o) {
  switch (o) {
    case JobOutcome::kFinished:
      return "finished";
    case JobOutcome::kRunning:
      return "running";
    case JobOutcome::kPending:
      return "pending";
    case JobOutcome::kRejected:
      return "rejected";
  }
  return "unknown";
}

std::string_view Name(AuditAction a) {
  switch (a) {
    case AuditAction::kStart:
      return "start";
    case AuditAction::kDefer:
      return "defer";
    case AuditAction::kPreempt:
      return "preempt";
    case AuditAction::kReject:
      return "reject";
    case AuditAction::kRepair:
      return "repair";
  }
  return "unknown";
}

std::vector<size_t> SitesFurthestFromBound(const RunResult& r, size_t limit) {
  const BoundFigures& b = r.summary.bound;
  std::vector<size_t> order;
  if (!b.computed) return order;
  for (size_t i = 0; i < r.sites.size() && i < b.sites.size(); ++i) order.push_back(i);
  auto apart = [&](size_t i) { return std::fabs(r.sites[i].tco2 - b.sites[i].tco2); };
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return apart(x) > apart(y); });
  order.resize(std::min(order.size(), limit));
  return order;
}

}  // namespace stargate::twin
