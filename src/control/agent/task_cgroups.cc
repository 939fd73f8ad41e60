#include "control/agent/task_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace stargate::control {
namespace {

namespace fs = std::filesystem;

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// Writes `value` to a cgroup file; false when the kernel refuses it.
bool WriteFile(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  if (!f) return false;
  f << value;
  f.flush();
  return static_cast<bool>(f);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The cgroups below `dir`, parents before children. A cgroup's own files
// are most of what a listing holds (~40 on v2): they are told apart by the
// directory entry's type, not a stat each (std::filesystem's recursive
// walk made a task's end cost more than its start).
void CgroupsBelow(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> here;
  while (const dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    here.push_back(dir + "/" + e->d_name);
  }
  closedir(d);
  for (std::string& child : here) {
    out->push_back(child);
    CgroupsBelow(out->back(), out);
  }
}

// mkdir -p that says why it failed.
bool MakeDirs(const std::string& path, std::string* why) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec && why != nullptr) *why = fmt::format("cannot create {}: {}", path, ec.message());
  return !ec;
}

}  // namespace

std::string CgroupName(const TaskRef& task) { return fmt::format("job-{}-attempt-{}", task.job, task.attempt); }

std::optional<TaskRef> ParseCgroupName(std::string_view name) {
  constexpr std::string_view kJob = "job-", kAttempt = "-attempt-";
  if (!name.starts_with(kJob)) return std::nullopt;
  const size_t mid = name.find(kAttempt);
  if (mid == std::string_view::npos) return std::nullopt;
  TaskRef ref;
  const std::string_view job = name.substr(kJob.size(), mid - kJob.size());
  const std::string_view attempt = name.substr(mid + kAttempt.size());
  const auto a = std::from_chars(job.data(), job.data() + job.size(), ref.job);
  const auto b = std::from_chars(attempt.data(), attempt.data() + attempt.size(), ref.attempt);
  if (a.ec != std::errc() || a.ptr != job.data() + job.size() || b.ec != std::errc() ||
      b.ptr != attempt.data() + attempt.size() || job.empty() || attempt.empty()) {
    return std::nullopt;
  }
  return ref;
}

std::unique_ptr<TaskCgroups> TaskCgroups::Open(const std::string& root, const std::string& group, std::string* why) {
  auto out = std::unique_ptr<TaskCgroups>(new TaskCgroups());
  out->group_ = group;
  std::string first_error;
  auto use = [&](const std::string& name, const std::string& mount) {
    const std::string dir = fmt::format("{}/stargate/{}", mount, group);
    std::string err;
    if (!MakeDirs(dir, &err)) {
      if (first_error.empty()) first_error = err;
      return false;
    }
    out->used_.push_back({name, dir});
    return true;
  };
  // The unified hierarchy: the root itself on a pure v2 host, or beside
  // the v1 controllers on a hybrid one.
  std::string v2;
  if (Exists(root + "/cgroup.controllers")) {
    v2 = root;
  } else if (Exists(root + "/unified/cgroup.controllers")) {
    v2 = root + "/unified";
  }
  if (!v2.empty() && use("v2", v2)) {
    out->v2_kill_ = Exists(v2 + "/cgroup.kill") || Exists(out->used_.back().dir + "/cgroup.kill");
    // Limits under v2 need the controllers enabled down to the task's
    // parent (best effort: they may be absent, or delegated elsewhere).
    for (const std::string& parent : {v2, v2 + "/stargate", out->used_.back().dir}) {
      for (const char* c : {"+memory", "+cpu", "+pids"}) WriteFile(parent + "/cgroup.subtree_control", c);
    }
  }
  if (v2 != root) {  // v1 controllers (a pure v2 host has none)
    for (const char* c : {"pids", "freezer", "memory", "cpu"}) {
      const std::string mount = root + "/" + c;
      if (Exists(mount + "/cgroup.procs") && !Exists(mount + "/cgroup.controllers")) use(c, mount);
    }
  }
  if (out->Members() == nullptr) {
    *why = first_error.empty() ? fmt::format("no cgroup hierarchy under {}", root) : first_error;
    return nullptr;
  }
  return out;
}

TaskCgroups::~TaskCgroups() {
  for (const Hierarchy& h : used_) rmdir(h.dir.c_str());  // fails, harmlessly, while a task cgroup is left
}

const TaskCgroups::Hierarchy* TaskCgroups::Find(std::string_view name) const {
  for (const Hierarchy& h : used_) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

const TaskCgroups::Hierarchy* TaskCgroups::Members() const {
  for (std::string_view n : {"v2", "pids", "freezer"}) {
    if (const Hierarchy* h = Find(n)) return h;
  }
  return nullptr;
}

std::string TaskCgroups::Dir(const Hierarchy& h, const TaskRef& task) const { return h.dir + "/" + CgroupName(task); }

std::string TaskCgroups::Describe() const {
  std::string v1;
  for (const Hierarchy& h : used_) {
    if (h.name != "v2") v1 += (v1.empty() ? "" : ", ") + h.name;
  }
  const Hierarchy* v2 = Find("v2");
  std::string out = v2 != nullptr ? fmt::format("cgroup v2 at {}{}", v2->dir, v2_kill_ ? "" : " (no cgroup.kill)") : "";
  if (!v1.empty()) out += fmt::format("{}v1 {}", out.empty() ? "" : "; ", v1);
  return out;
}

StatusOr<std::vector<std::string>> TaskCgroups::Create(const TaskRef& task, const CgroupLimits& limits) {
  // A name in use: an earlier start of this very task (its membership
  // cgroup is made first, so without it there is nothing to end).
  if (const Hierarchy* m = Members(); m != nullptr && access(Dir(*m, task).c_str(), F_OK) == 0) {
    if (!Empty(task)) Kill(task);
  }
  Remove(task);
  // Only the hierarchies this task needs: each one the child joins is a
  // migration, and on a hybrid host each migration waits for an RCU grace
  // period (milliseconds) while the agent, which vforked it, waits too.
  // Membership always; the freezer where there is no cgroup.kill (Kill
  // freezes); memory and cpu for a limit.
  const Hierarchy* members = Members();
  const bool freezer_kills = !(Find("v2") != nullptr && v2_kill_);
  auto needed = [&](const Hierarchy& h) {
    return &h == members || (h.name == "freezer" && freezer_kills) || (h.name == "memory" && limits.memory_bytes > 0) ||
           (h.name == "cpu" && limits.cpus > 0);
  };
  std::vector<std::string> procs;
  for (const Hierarchy& h : used_) {
    if (!needed(h)) continue;
    const std::string dir = Dir(h, task);
    std::string why;
    if (!MakeDirs(dir, &why)) return absl::UnavailableError(why);
    procs.push_back(dir + "/cgroup.procs");
  }
  // Limits: v2 where its controller is enabled here, else v1.
  if (limits.memory_bytes > 0) {
    const Hierarchy* v2 = Find("v2");
    const Hierarchy* v1 = Find("memory");
    const bool ok =
        (v2 != nullptr && WriteFile(Dir(*v2, task) + "/memory.max", std::to_string(limits.memory_bytes))) ||
        (v1 != nullptr && WriteFile(Dir(*v1, task) + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes)));
    if (!ok) return absl::UnavailableError("no memory controller to limit the task's memory (resources.memory)");
  }
  if (limits.cpus > 0) {
    constexpr int64_t kPeriod = 100'000;  // us
    const int64_t quota = std::max<int64_t>(1000, static_cast<int64_t>(limits.cpus * kPeriod));
    const Hierarchy* v2 = Find("v2");
    const Hierarchy* v1 = Find("cpu");
    const bool ok = (v2 != nullptr && WriteFile(Dir(*v2, task) + "/cpu.max", fmt::format("{} {}", quota, kPeriod))) ||
                    (v1 != nullptr && WriteFile(Dir(*v1, task) + "/cpu.cfs_period_us", std::to_string(kPeriod)) &&
                     WriteFile(Dir(*v1, task) + "/cpu.cfs_quota_us", std::to_string(quota)));
    if (!ok) return absl::UnavailableError("no cpu controller to limit the task's CPUs (resources.cpus)");
  }
  return procs;
}

std::string TaskCgroups::Path(const TaskRef& task) const {
  return fmt::format("/stargate/{}/{}", group_, CgroupName(task));
}

std::vector<int> TaskCgroups::Pids(const TaskRef& task) const {
  std::vector<int> pids;
  const Hierarchy* m = Members();
  if (m == nullptr) return pids;
  auto read = [&](const std::string& dir) {
    std::istringstream in(ReadFile(dir + "/cgroup.procs"));
    int pid = 0;
    while (in >> pid) pids.push_back(pid);
  };
  std::vector<std::string> dirs = {Dir(*m, task)};
  CgroupsBelow(dirs.front(), &dirs);
  for (const std::string& dir : dirs) read(dir);
  return pids;
}

bool TaskCgroups::Empty(const TaskRef& task) const {
  const Hierarchy* m = Members();
  if (m != nullptr && m->name == "v2") {
    // v2 says it for the whole subtree in one file: "populated 0|1".
    const int fd = open((Dir(*m, task) + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT;  // no such cgroup: nothing in it
    char buf[256];
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
      buf[n] = '\0';
      if (const char* p = std::strstr(buf, "populated "); p != nullptr) return p[10] == '0';
    }
  }
  return Pids(task).empty();
}

void TaskCgroups::Kill(const TaskRef& task) {
  if (const Hierarchy* v2 = Find("v2"); v2 != nullptr && v2_kill_) {
    if (WriteFile(Dir(*v2, task) + "/cgroup.kill", "1")) return;
  }
  // Freeze first where possible, so nothing forks between reading the
  // pids and killing them; SIGKILL reaches frozen processes on thaw.
  const Hierarchy* freezer = Find("freezer");
  const bool frozen = freezer != nullptr && WriteFile(Dir(*freezer, task) + "/freezer.state", "FROZEN");
  for (int pid : Pids(task)) kill(pid, SIGKILL);
  if (frozen) WriteFile(Dir(*freezer, task) + "/freezer.state", "THAWED");
}

bool TaskCgroups::Remove(const TaskRef& task) {
  bool gone = true;
  for (const Hierarchy& h : used_) {
    const std::string dir = Dir(h, task);
    // Mostly there is nothing below it (or no such cgroup): one rmdir.
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) continue;
    // Deepest first: a container runtime's cgroups below the task's.
    std::vector<std::string> below;
    CgroupsBelow(dir, &below);
    for (auto it = below.rbegin(); it != below.rend(); ++it) rmdir(it->c_str());
    if (rmdir(dir.c_str()) != 0 && errno != ENOENT) gone = false;
  }
  return gone;
}

std::vector<TaskRef> TaskCgroups::Tasks() const {
  std::vector<TaskRef> out;
  const Hierarchy* m = Members();
  if (m == nullptr) return out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(m->dir, ec)) {
    if (!e.is_directory(ec)) continue;
    if (std::optional<TaskRef> ref = ParseCgroupName(e.path().filename().string())) out.push_back(*ref);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace stargate::control
