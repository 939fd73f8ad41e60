#include "twin/run_result.h"

namespace stargate::twin {

std::string_view Name(JobOutcome o) {
  switch (o) {
    case JobOutcome::kFinished: return "finished";
    case JobOutcome::kRunning: return "running";
    case JobOutcome::kPending: return "pending";
    case JobOutcome::kRejected: return "rejected";
  }
  return "unknown";
}

}  // namespace stargate::twin
