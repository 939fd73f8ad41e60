#include "control/protocol/task.h"

#include <charconv>

#include <fmt/format.h>

namespace stargate::control {

std::string TaskLogName(const TaskRef& t) { return fmt::format("job-{}-attempt-{}.log", t.job, t.attempt); }

std::string CheckpointDirName(int64_t step) { return fmt::format("step-{:012}", step); }

std::optional<int64_t> StepOfDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "step-";
  if (!name.starts_with(kPrefix) || name.size() != kPrefix.size() + 12) return std::nullopt;
  int64_t step = 0;
  const char* begin = name.data() + kPrefix.size();
  const auto [end, ec] = std::from_chars(begin, name.data() + name.size(), step);
  if (ec != std::errc() || end != name.data() + name.size() || step < 0) return std::nullopt;
  return step;
}

const char* Name(CheckpointCopyReport::State s) {
  switch (s) {
    case CheckpointCopyReport::State::kCopying:
      return "copying";
    case CheckpointCopyReport::State::kDone:
      return "done";
    case CheckpointCopyReport::State::kFailed:
      return "failed";
    case CheckpointCopyReport::State::kRefused:
      return "refused";
  }
  return "?";
}

}  // namespace stargate::control
