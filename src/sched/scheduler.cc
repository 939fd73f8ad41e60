#include "sched/scheduler.h"

#include <fmt/format.h>

#include "sched/fifo_first_fit.h"

namespace stargate::sched {

StatusOr<std::unique_ptr<Scheduler>> MakeScheduler(const std::string& policy) {
  if (policy == "fifo" || policy == "fifo-first-fit") return std::make_unique<FifoFirstFit>();
  return absl::InvalidArgumentError(fmt::format("unknown scheduler policy '{}' (known: fifo)", policy));
}

}  // namespace stargate::sched
