#include "control/agent/local_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "control/agent/device_assignment.h"

namespace stargate::control {

LocalRunner::LocalRunner(NodeInfo node, std::string work_dir, Duration stop_grace)
    : node_(std::move(node)), work_dir_(std::move(work_dir)), stop_grace_(stop_grace) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

// Devices for a new task: as many as the server placed here
// (STARGATE_ACCELERATORS_PER_NODE), among those no live task holds.
std::vector<int> LocalRunner::PickFor(const TaskLaunch& task) const {
  std::set<int> held;
  for (const auto& [ref, p] : procs_) {
    if (p.running) held.insert(p.devices.begin(), p.devices.end());
  }
  int want = node_.accelerators;
  auto it = task.env.find("STARGATE_ACCELERATORS_PER_NODE");
  if (it != task.env.end()) want = std::clamp(std::atoi(it->second.c_str()), 0, node_.accelerators);
  std::vector<int> devices = PickDevices(node_.accelerators, held, want);
  if (static_cast<int>(devices.size()) < want) {
    std::cerr << fmt::format("stargate agent {}: job {} wants {} devices, {} free\n", node_.name, task.task.job, want,
                             devices.size());
  }
  return devices;
}

void LocalRunner::Start(const std::string&, const TaskLaunch& task) {
  const TaskRef ref = task.task;
  if (procs_.count(ref)) return;  // started already (a late reply): never twice
  const std::string log = work_dir_ + "/logs/" + TaskLogName(ref);
  const std::string dir = fmt::format("{}/jobs/{}", work_dir_, ref.job);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // a failure shows as the task's chdir error
  // The agent's env, then the server's, then ours: devices must be right.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : task.env) env[k] = v;
  const std::vector<int> devices = PickFor(task);
  const bool amd = node_.accelerator == AcceleratorType::kMI250X || node_.accelerator == AcceleratorType::kMI300X;
  const char* own = std::getenv(amd ? "ROCR_VISIBLE_DEVICES" : "CUDA_VISIBLE_DEVICES");
  for (auto& [k, v] : DeviceEnv(node_.accelerator, devices, own != nullptr ? own : "")) env[k] = std::move(v);
  env["STARGATE_WORK_DIR"] = dir;
  env["STARGATE_NODE"] = node_.name;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);     // dies with the agent
    if (getppid() != parent) _exit(127);  // the agent died before prctl
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (chdir(dir.c_str()) != 0) _exit(126);
    // bash execs a simple command in place of itself, so `python3
    // train.py` leads its process group and gets SIGTERM first hand.
    execle("/bin/bash", "bash", "-c", task.command.c_str(), static_cast<char*>(nullptr), envp.data());
    _exit(127);
  }
  Proc p;
  p.devices = devices;
  if (pid < 0) {  // could not fork: report it as ended
    p.running = false;
    p.exit_code = 127;
  } else {
    setpgid(pid, pid);
    p.pid = pid;
  }
  procs_[ref] = p;
  fmt::print("stargate agent {}: started job {} attempt {} (rank {}) pid {}\n", node_.name, ref.job, ref.attempt,
             task.env.count("RANK") ? task.env.at("RANK") : "?", pid);
  std::fflush(stdout);
}

// Collects ended processes: task leaders and, the agent being a child
// subreaper, anything a task left behind. A task ends with its leader,
// and what is left of its group is killed; but while the task is being
// stopped, the rest of the group may still be writing its checkpoint (a
// shell leader dies on SIGTERM at once, its python child does not), so
// it ends when its group is empty or the grace period is over.
void LocalRunner::Reap() {
  for (;;) {
    int status = 0;
    const pid_t w = waitpid(-1, &status, WNOHANG);
    if (w <= 0) break;
    for (auto& [ref, p] : procs_) {
      if (p.pid != w || !p.running || p.leader_done) continue;
      p.leader_done = true;
      if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
    }
  }
  for (auto& [ref, p] : procs_) {
    if (!p.running || !p.leader_done) continue;
    if (p.stop_sent.has_value() && kill(-p.pid, 0) == 0) continue;  // still checkpointing; Stop() bounds it
    kill(-p.pid, SIGKILL);                                          // anything the task left behind in its group
    p.running = false;
  }
}

void LocalRunner::Stop(const std::string&, const TaskRef& ref, Time now) {
  auto it = procs_.find(ref);
  if (it == procs_.end() || !it->second.running) return;
  Proc& p = it->second;
  if (!p.stop_sent.has_value()) {
    kill(-p.pid, SIGTERM);  // time to checkpoint
    p.stop_sent = now;
  } else if (now - *p.stop_sent >= stop_grace_) {
    kill(-p.pid, SIGKILL);
  }
}

std::vector<TaskReport> LocalRunner::Poll(const std::string&, Time) {
  Reap();
  std::vector<TaskReport> out;
  for (const auto& [ref, p] : procs_) out.push_back({ref, p.running, p.exit_code, p.signal});
  return out;
}

void LocalRunner::Forget(const std::string&, const TaskRef& ref) {
  auto it = procs_.find(ref);
  if (it != procs_.end() && !it->second.running) procs_.erase(it);
}

bool LocalRunner::HasNews() const {
  siginfo_t info{};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

}  // namespace stargate::control
