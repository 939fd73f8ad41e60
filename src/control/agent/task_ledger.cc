#include "control/agent/task_ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "control/agent/task_cgroups.h"

namespace stargate::control {

TaskLedger::TaskLedger(std::string dir) : dir_(std::move(dir)) {}

std::string TaskLedger::Path(const TaskRef& task) const { return dir_ + "/" + CgroupName(task); }

Status TaskLedger::Begin(const TaskRef& task) {
  if (dir_.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::ofstream f(Path(task), std::ios::trunc);
  f << "started\n";
  f.flush();
  if (!f) return absl::InternalError(fmt::format("cannot record the attempt in {}", Path(task)));
  return absl::OkStatus();
}

void TaskLedger::Ended(const TaskRef& task, End end) {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string tmp = Path(task) + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "ended " << end.exit_code << " " << end.signal << "\n";
  }
  std::rename(tmp.c_str(), Path(task).c_str());
}

void TaskLedger::Drop(const TaskRef& task) {
  if (!dir_.empty()) std::remove(Path(task).c_str());
}

std::vector<TaskLedger::Entry> TaskLedger::Load() const {
  std::vector<Entry> out;
  std::error_code ec;
  if (dir_.empty()) return out;
  for (const auto& file : std::filesystem::directory_iterator(dir_, ec)) {
    const std::optional<TaskRef> ref = ParseCgroupName(file.path().filename().string());
    if (!ref.has_value()) continue;  // a .tmp left by a kill mid-write: the file it was to replace holds
    std::ifstream f(file.path());
    std::string word;
    if (!(f >> word)) {
      out.push_back({*ref, std::nullopt});  // cut off while being written: it may have started
      continue;
    }
    End end;
    if (word == "ended" && f >> end.exit_code >> end.signal) {
      out.push_back({*ref, end});
    } else {
      out.push_back({*ref, std::nullopt});
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.task < b.task; });
  return out;
}

}  // namespace stargate::control
