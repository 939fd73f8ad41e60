#include "sched/scheduler.h"

#include <fmt/format.h>

#include "sched/fifo_first_fit.h"
#include "sched/stargate_policy.h"

namespace stargate::sched {

StatusOr<std::unique_ptr<Scheduler>> MakeScheduler(const std::string& policy, const SchedulerSpec& spec) {
  if (policy == "fifo" || policy == "fifo-first-fit") return std::make_unique<FifoFirstFit>();
  if (policy == "stargate") return std::make_unique<StargatePolicy>(spec);
  return absl::InvalidArgumentError(fmt::format("unknown scheduler policy '{}' (known: fifo, stargate)", policy));
}

}  // namespace stargate::sched
