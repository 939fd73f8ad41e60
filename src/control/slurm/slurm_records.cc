#include "control/slurm/slurm_records.h"

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>

#include <csignal>

#include <fmt/format.h>

namespace stargate::control {
namespace {

std::string Get(const std::map<std::string, std::string>& r, const std::string& key) {
  auto it = r.find(key);
  return it == r.end() || it->second == "(null)" ? "" : it->second;
}

int GetInt(const std::map<std::string, std::string>& r, const std::string& key) {
  int v = 0;
  return absl::SimpleAtoi(Get(r, key), &v) ? v : 0;
}

}  // namespace

std::vector<std::map<std::string, std::string>> ParseScontrolRecords(std::string_view text) {
  std::vector<std::map<std::string, std::string>> out;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipWhitespace())) {
    std::map<std::string, std::string> rec;
    std::string* last = nullptr;
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      const size_t eq = word.find('=');
      if (eq == absl::string_view::npos || eq == 0) {
        if (last != nullptr) *last += " " + std::string(word);
        continue;
      }
      last = &(rec[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1)));
    }
    if (!rec.empty()) out.push_back(std::move(rec));
  }
  return out;
}

StatusOr<std::vector<SlurmJob>> ParseSlurmJobs(std::string_view text) {
  std::vector<SlurmJob> jobs;
  int line = 0;
  for (const auto& r : ParseScontrolRecords(text)) {
    ++line;
    SlurmJob j;
    if (!absl::SimpleAtoi(Get(r, "JobId"), &j.id) || j.id == 0) {
      return absl::InvalidArgumentError(fmt::format("scontrol show job, record {}: no valid JobId", line));
    }
    j.name = Get(r, "JobName");
    j.state = Get(r, "JobState");
    j.reason = Get(r, "Reason");
    j.comment = Get(r, "Comment");
    j.nodes = Get(r, "NodeList");
    const std::string user = Get(r, "UserId");
    if (const size_t open = user.find('('); open != std::string::npos) {
      if (!absl::SimpleAtoi(user.substr(open + 1, user.size() - open - 2), &j.uid)) j.uid = -1;
    }
    const std::string exit = Get(r, "ExitCode");
    const size_t colon = exit.find(':');
    if (!absl::SimpleAtoi(exit.substr(0, colon), &j.exit_code)) j.exit_code = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(exit.substr(colon + 1), &j.signal)) j.signal = 0;
    jobs.push_back(std::move(j));
  }
  return jobs;
}

namespace {
// CountInGres, and the first type named of `name` into `type` (if not null).
int CountTyped(std::string_view gres, std::string_view name, std::string* type) {
  int total = 0;
  for (absl::string_view g : absl::StrSplit(absl::string_view(gres.data(), gres.size()), ',', absl::SkipEmpty())) {
    g = g.substr(0, g.find('('));  // "(S:0-1)": socket affinity
    std::vector<absl::string_view> parts = absl::StrSplit(g, ':');
    if (parts.size() < 2 || parts[0] != absl::string_view(name.data(), name.size())) continue;
    int n = 0;
    if (absl::SimpleAtoi(parts.back(), &n) && n > 0) total += n;
    if (type != nullptr && type->empty() && parts.size() == 3) *type = std::string(parts[1]);
  }
  return total;
}
}  // namespace

int GpusInGres(std::string_view gres, std::string* type) { return CountTyped(gres, "gpu", type); }

int CountInGres(std::string_view gres, std::string_view name) { return CountTyped(gres, name, nullptr); }

StatusOr<std::vector<SlurmNode>> ParseSlurmNodes(std::string_view text) {
  std::vector<SlurmNode> nodes;
  int line = 0;
  for (const auto& r : ParseScontrolRecords(text)) {
    ++line;
    SlurmNode n;
    n.name = Get(r, "NodeName");
    if (n.name.empty()) {
      return absl::InvalidArgumentError(fmt::format("scontrol show node, record {}: no NodeName", line));
    }
    n.address = Get(r, "NodeAddr");
    if (n.address.empty()) n.address = n.name;
    n.state = Get(r, "State");
    n.cpus = GetInt(r, "CPUTot");
    n.memory_bytes = int64_t{GetInt(r, "RealMemory")} << 20;  // MiB
    n.gpus = GpusInGres(Get(r, "Gres"), &n.gpu_type);
    n.shards = CountInGres(Get(r, "Gres"), "shard");
    n.partitions = absl::StrSplit(Get(r, "Partitions"), ',', absl::SkipEmpty());
    nodes.push_back(std::move(n));
  }
  return nodes;
}

SlurmOutcome OutcomeOf(const SlurmJob& job) {
  const std::string& s = job.state;
  if (s == "COMPLETED") return {false, job.exit_code, job.signal};
  if (s == "FAILED") return {false, job.exit_code != 0 || job.signal != 0 ? job.exit_code : 1, job.signal};
  if (s == "CANCELLED") return {false, 0, job.signal != 0 ? job.signal : SIGTERM};
  if (s == "NODE_FAIL" || s == "BOOT_FAIL" || s == "PREEMPTED" || s == "OUT_OF_MEMORY") return {false, 0, SIGKILL};
  if (s == "TIMEOUT" || s == "DEADLINE") return {false, 0, SIGKILL};
  if (s == "SPECIAL_EXIT" || s == "REVOKED") return {false, 1, 0};
  // PENDING, CONFIGURING, RUNNING, COMPLETING, SUSPENDED, REQUEUED,
  // RESIZING, SIGNALING, STAGE_OUT, STOPPED, REQUEUE_HOLD, ...: not over.
  return {};
}

bool SlurmNodeUsable(std::string_view state) {
  const std::string s = absl::AsciiStrToUpper(std::string(state));
  for (const char* bad : {"DOWN", "DRAIN", "FAIL", "INVAL", "FUTURE", "NOT_RESPONDING", "POWERED_DOWN"}) {
    if (s.find(bad) != std::string::npos) return false;
  }
  return s.find('*') == std::string::npos;  // "IDLE*": not responding
}

}  // namespace stargate::control
