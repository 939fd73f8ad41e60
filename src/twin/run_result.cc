#include "twin/run_result.h"

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

}  // namespace stargate::twin
