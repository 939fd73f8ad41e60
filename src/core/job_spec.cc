#include "core/job_spec.h"

namespace stargate {

std::string_view Name(JobKind k) {
  switch (k) {
    case JobKind::kTraining:
      return "training";
    case JobKind::kFineTune:
      return "finetune";
    case JobKind::kBatch:
      return "batch";
    case JobKind::kInference:
      return "inference";
  }
  return "unknown";
}

}  // namespace stargate
