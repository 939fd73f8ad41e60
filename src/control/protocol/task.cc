#include "control/protocol/task.h"

#include <fmt/format.h>

namespace stargate::control {

std::string TaskLogName(const TaskRef& t) { return fmt::format("job-{}-attempt-{}.log", t.job, t.attempt); }

}  // namespace stargate::control
