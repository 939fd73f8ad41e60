#include "control/agent/local_runner.h"

#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "control/agent/device_assignment.h"
#include "control/net/digest.h"
#include "runtime/random_hex.h"

namespace stargate::control {

namespace {
// This agent's cgroup group: its node and work dir, so agents side by side
// on one host (tests, a site driver) never see each other's tasks, and a
// restarted agent finds its predecessor's.
std::string CgroupGroup(const std::string& node, const std::string& work_dir) {
  std::string name = node;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return fmt::format("{}-{}", name.substr(0, 64), Sha256Hex(work_dir).substr(0, 12));
}

// A command with no shell syntax at all (words of letters, digits and
// `-_./:=,+@%`, split by spaces: no quotes, variables, globs, redirections
// or separators) whose first word is a program on `path`: its argv and the
// program's path, to exec without a shell in between. `bash -c` would exec
// that very program in place of itself after reading the same words, so
// nothing changes but one exec less (on a small VM a process start is
// milliseconds: most of a trivial job's cost). Anything else, a builtin
// (cd, exit, ulimit) or a program not found, is for bash: nullopt.
std::optional<std::pair<std::string, std::vector<std::string>>> DirectExec(std::string_view command,
                                                                           std::string_view path) {
  std::vector<std::string> words;
  std::string word;
  for (char c : command) {
    if (c == ' ') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("-_./:=,+@%").find(c) == std::string_view::npos) {
      return std::nullopt;
    }
    word += c;
  }
  if (!word.empty()) words.push_back(std::move(word));
  // `NAME=value cmd` sets a variable for bash to pass on.
  if (words.empty() || words.front().find('=') != std::string::npos) return std::nullopt;
  const std::string& name = words.front();
  auto runnable = [](const std::string& file) {
    struct stat st {};
    return stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(file.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (!runnable(name)) return std::nullopt;
    return std::make_pair(name, std::move(words));
  }
  for (std::string_view rest = path; !rest.empty();) {
    const size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty() || dir.front() != '/') continue;  // a relative PATH entry: let bash decide
    const std::string file = fmt::format("{}/{}", dir, name);
    if (runnable(file)) return std::make_pair(file, std::move(words));
  }
  return std::nullopt;
}
}  // namespace

LocalRunner::LocalRunner(NodeInfo node, std::string work_dir, Duration stop_grace, TenantUserConfig tenants)
    : node_(std::move(node)),
      work_dir_(std::move(work_dir)),
      stop_grace_(stop_grace),
      limiter_(node_.accelerator, work_dir_.empty() ? "" : work_dir_ + "/power-limits"),
      ledger_(work_dir_.empty() ? "" : LedgerDir(node_.name, work_dir_)) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (tenants.enabled) {
    fmt::print("stargate agent {}: tasks run as their tenant's user (sg-<tenant>, uids {}-{}{})\n", node_.name,
               tenants.uid_min, tenants.uid_max, tenants.named.empty() ? "" : ", or as named in the config");
    tenants_ = std::make_unique<TenantUsers>(std::move(tenants));
    // Logs are the agent's to serve: no task reads another's.
    std::error_code ec;
    std::filesystem::create_directories(work_dir_ + "/logs", ec);
    chmod((work_dir_ + "/logs").c_str(), 0700);
  }
  std::string why;
  cgroups_ = TaskCgroups::Open("/sys/fs/cgroup", CgroupGroup(node_.name, work_dir_), &why);
  if (cgroups_ != nullptr) {
    fmt::print("stargate agent {}: each task in its own cgroup ({})\n", node_.name, cgroups_->Describe());
  } else {
    fmt::print(
        "stargate agent {}: warning: no cgroups ({}): a task's processes that leave its process group outlive its "
        "stop, and a restarted agent cannot end what its predecessor started\n",
        node_.name, why);
  }
  std::fflush(stdout);
}

std::string LocalRunner::LedgerDir(const std::string& node, const std::string& work_dir) {
  return work_dir + "/task-ledger/" + CgroupGroup(node, work_dir);
}

int LocalRunner::EndLeftovers(const std::string&) {
  if (!limits_restored_) {  // devices an earlier agent left power-limited
    limiter_.RestoreLeftovers();
    limits_restored_ = true;
  }
  if (!ledger_read_) {  // what an earlier agent started and the server may not have heard ended
    for (const TaskLedger::Entry& e : ledger_.Load()) {
      if (procs_.count(e.task)) continue;
      Proc& p = procs_[e.task];
      p.running = false;
      p.inherited = true;
      if (e.end.has_value()) {  // reported as it ended
        p.exit_code = e.end->exit_code;
        p.signal = e.end->signal;
      } else {  // it may have run: lost, never started again
        p.lost = true;
        p.signal = SIGKILL;
      }
    }
    ledger_read_ = true;
  }
  if (cgroups_ == nullptr) return 0;
  int left = 0;
  for (const TaskRef& ref : cgroups_->Tasks()) {
    auto it = procs_.find(ref);
    if (it != procs_.end() && !it->second.inherited) continue;  // one of ours
    Proc& p = procs_[ref];                                      // reported from now on, until forgotten
    if (it == procs_.end()) {  // a cgroup the ledger does not name (an agent from before it)
      p.inherited = true;
      p.lost = true;
      p.signal = SIGKILL;
    }
    p.running = false;
    if (!cgroups_->Empty(ref)) {
      if (!p.killed) {
        fmt::print("stargate agent {}: ending job {} attempt {}, left running by an earlier agent (pids {})\n",
                   node_.name, ref.job, ref.attempt, fmt::join(cgroups_->Pids(ref), " "));
        std::fflush(stdout);
        p.killed = true;
      }
      cgroups_->Kill(ref);
      p.lost = true;
      p.signal = SIGKILL;
    }
    if (!cgroups_->Empty(ref) || !cgroups_->Remove(ref)) ++left;
  }
  return left;
}

// Devices for a new task: as many as the server placed here
// (STARGATE_ACCELERATORS_PER_NODE), among those no live task holds; for a
// share of one device, the device its slot's live shares have, else one
// no live task holds (the server opens a slot only where a device is free).
//
// A task told to stop is on its way out: the server has let its devices
// go (a node it gave up on, a preempted gang's warning) and may reopen
// its slot number for a new share. A new share never joins it, or the
// slot's later shares would follow a process about to end onto a device
// the server thinks free; its devices are taken only when no other is.
std::vector<int> LocalRunner::PickFor(const TaskLaunch& task) const {
  const int slot = ShareSlotOf(task.env);
  std::set<int> held, leaving;
  for (const auto& [ref, p] : procs_) {
    if (!p.running) continue;
    if (p.stop_sent.has_value()) {
      leaving.insert(p.devices.begin(), p.devices.end());
      continue;
    }
    if (slot >= 0 && p.share_slot == slot && !p.devices.empty()) return p.devices;
    held.insert(p.devices.begin(), p.devices.end());
  }
  int want = node_.accelerators;
  auto it = task.env.find("STARGATE_ACCELERATORS_PER_NODE");
  if (it != task.env.end()) want = std::clamp(std::atoi(it->second.c_str()), 0, node_.accelerators);
  if (slot >= 0) want = std::min(want, 1);
  std::set<int> busy = held;
  busy.insert(leaving.begin(), leaving.end());
  std::vector<int> devices = PickDevices(node_.accelerators, busy, want);
  if (static_cast<int>(devices.size()) < want) {
    // Short: the leaving tasks' devices, lowest first, as the server counts them free.
    std::set<int> taken = held;
    taken.insert(devices.begin(), devices.end());
    for (int d : PickDevices(node_.accelerators, taken, want - static_cast<int>(devices.size()))) devices.push_back(d);
    std::sort(devices.begin(), devices.end());
  }
  if (static_cast<int>(devices.size()) < want) {
    std::cerr << fmt::format("stargate agent {}: job {} wants {} devices, {} free\n", node_.name, task.task.job, want,
                             devices.size());
  }
  return devices;
}

void LocalRunner::Refuse(const TaskRef& ref, const std::string& log, const Status& why) {
  if (std::ofstream f(log, std::ios::app); f) f << "stargate agent: cannot start the task: " << why << "\n";
  Proc p;
  p.running = false;
  p.exit_code = 125;
  procs_[ref] = p;
  ledger_.Ended(ref, {p.exit_code, 0});
  fmt::print("stargate agent {}: job {} attempt {} not started: {}\n", node_.name, ref.job, ref.attempt,
             std::string(why.message()));
  std::fflush(stdout);
}

StatusOr<std::vector<std::string>> LocalRunner::ContainerArgv(const TaskLaunch& task, const std::string& dir,
                                                              const std::vector<int>& devices,
                                                              const std::optional<Account>& account,
                                                              const std::map<std::string, std::string>& env,
                                                              const std::string& log) const {
  const std::string podman = "/usr/bin/podman";
  if (access(podman.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError("this node has no podman (/usr/bin/podman) to run the job's image");
  }
  if (geteuid() != 0) return absl::FailedPreconditionError("running an image needs the agent to run as root");
  // The container's env: the server's and ours, not the agent's own (its
  // PATH is the host's). In a 0600 file, not on podman's command line,
  // which anyone on the host can read.
  std::map<std::string, std::string> inside = task.env;
  for (const char* k : {"STARGATE_WORK_DIR", "STARGATE_NODE", "HOME", "USER", "LOGNAME", "CUDA_VISIBLE_DEVICES",
                        "CUDA_DEVICE_ORDER", "ROCR_VISIBLE_DEVICES", "STARGATE_DEVICES"}) {
    if (auto it = env.find(k); it != env.end()) inside[k] = it->second;
  }
  const std::string env_file = log + ".env";
  {
    const int fd = open(env_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return absl::UnavailableError(fmt::format("cannot write {}: {}", env_file, std::strerror(errno)));
    std::string text;
    for (const auto& [k, v] : inside) text += k + "=" + v + "\n";
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    if (!ok) return absl::UnavailableError(fmt::format("cannot write {}", env_file));
  }
  std::vector<std::string> argv = {
      podman, "--cgroup-manager=cgroupfs", "--runtime=runc", "run", "--rm", "--name",
      fmt::format("sg-job{}-attempt{}-{}", task.task.job, task.task.attempt, RandomHex(1)), "--network=host",
      // conmon stays in the task's cgroup, so a stop or a restarted agent ends it too
      "--cgroups=no-conmon", "--env-file", env_file, "--workdir", dir, "--volume", dir + ":" + dir};
  // podman's default limits (1048576 open files and processes) are above
  // what a host may allow, and runc cannot raise a hard limit: the agent's
  // own, with processes capped at 32768 (higher failed under runc 1.1 on
  // this project's VM, hard limit 96362).
  rlimit files{}, procs{};
  getrlimit(RLIMIT_NOFILE, &files);
  getrlimit(RLIMIT_NPROC, &procs);
  const rlim_t nproc = std::min<rlim_t>(procs.rlim_max, 32768);
  argv.insert(argv.end(), {"--ulimit", fmt::format("nofile={}:{}", files.rlim_cur, files.rlim_max), "--ulimit",
                           fmt::format("nproc={}:{}", std::min<rlim_t>(procs.rlim_cur, nproc), nproc)});
  // The container's own cgroups below the task's.
  if (cgroups_ != nullptr) argv.insert(argv.end(), {"--cgroup-parent", cgroups_->Path(task.task)});
  if (auto c = task.env.find("STARGATE_CHECKPOINT_DIR"); c != task.env.end()) {
    std::error_code ec;
    std::filesystem::create_directories(c->second, ec);
    argv.insert(argv.end(), {"--volume", c->second + ":" + c->second});
  }
  if (account.has_value()) argv.insert(argv.end(), {"--user", fmt::format("{}:{}", account->uid, account->gid)});
  // Device nodes: NVIDIA's for the host GPUs the task holds (the indices
  // DeviceEnv put in CUDA_VISIBLE_DEVICES, the driver's numbering, the same
  // inside), and the driver's control nodes; AMD's /dev/kfd and /dev/dri
  // expose all of the node's GPUs, ROCR_VISIBLE_DEVICES narrows them.
  std::vector<std::string> nodes;
  if (node_.accelerator == AcceleratorType::kMI250X || node_.accelerator == AcceleratorType::kMI300X) {
    if (!devices.empty()) nodes = {"/dev/kfd", "/dev/dri"};
  } else if (node_.accelerator != AcceleratorType::kCpu && !devices.empty()) {
    if (auto cvd = env.find("CUDA_VISIBLE_DEVICES"); cvd != env.end()) {
      for (std::string_view rest = cvd->second; !rest.empty();) {
        const size_t comma = rest.find(',');
        nodes.push_back(fmt::format("/dev/nvidia{}", rest.substr(0, comma)));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    for (const char* n : {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"}) nodes.push_back(n);
  }
  for (const std::string& n : nodes) {
    if (access(n.c_str(), F_OK) == 0) argv.insert(argv.end(), {"--device", n});
  }
  argv.insert(argv.end(), {task.image, "/bin/bash", "-c", task.command});
  return argv;
}

// What the child of a task start needs, all made before it exists.
struct SpawnArgs {
  pid_t parent;
  const std::vector<std::string>* cgroup_procs;  // joined first
  const char* log;
  const Account* account;  // the tenant's user to become; null: stay
  const char* dir;
  const char* program;
  char* const* argv;
  char* const* envp;
};

// Starts the task's process; its pid, or -1. vfork: the agent is a big,
// many-threaded process, and fork's copy of its page tables (and the TLB
// shootdowns of copy-on-write across its threads) cost more than the rest
// of a short task's start. The child borrows the agent's memory until
// execve, so it only makes system calls on what `a` holds, and sets its
// ids with the raw system calls: glibc's setuid would signal every thread
// of the (shared) process. Its own frame, so nothing of the caller's is
// live across the vfork.
static __attribute__((noinline)) pid_t SpawnTask(const SpawnArgs& a) {
  const pid_t pid = vfork();
  if (pid != 0) return pid;
  for (const std::string& f : *a.cgroup_procs) {  // async-signal-safe: open, write, close
    const int cg = open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (cg < 0 || write(cg, "0", 1) != 1) _exit(125);
    close(cg);
  }
  setpgid(0, 0);
  // The log first, as the agent: the file is the agent's (0600), the task
  // only holds it open.
  const int fd = open(a.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  // On the host the task becomes its tenant's user here; in an image,
  // podman (root) does it for the container (--user).
  if (a.account != nullptr && (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setgid, a.account->gid) != 0 ||
                               syscall(SYS_setuid, a.account->uid) != 0)) {
    _exit(126);
  }
  // After setuid, which clears it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);       // dies with the agent
  if (getppid() != a.parent) _exit(127);  // the agent died before prctl
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (chdir(a.dir) != 0) _exit(126);
  // bash execs a simple command in place of itself, so `python3
  // train.py` leads its process group and gets SIGTERM first hand.
  execve(a.program, a.argv, a.envp);
  _exit(127);
}

void LocalRunner::Start(const std::string&, const TaskLaunch& task) {
  const TaskRef ref = task.task;
  if (procs_.count(ref)) return;  // started already (a late reply): never twice
  const std::string log = work_dir_ + "/logs/" + TaskLogName(ref);
  std::string dir = fmt::format("{}/jobs/{}", work_dir_, ref.job);
  std::optional<Account> account;  // the tenant's user, when tasks switch users
  std::map<std::string, std::string> private_env;
  if (tenants_ != nullptr) {
    auto tenant_it = task.env.find("STARGATE_TENANT");
    const std::string tenant = tenant_it != task.env.end() ? tenant_it->second : "default";
    StatusOr<Account> a = tenants_->Resolve(tenant);
    if (!a.ok()) return Refuse(ref, log, a.status());
    account = *a;
    std::error_code ec;
    std::filesystem::create_directories(work_dir_ + "/tenants", ec);
    chmod((work_dir_ + "/tenants").c_str(), 0711);  // passable, not listable
    const std::string area = fmt::format("{}/tenants/{}", work_dir_, tenant);
    dir = fmt::format("{}/jobs/{}", area, ref.job);
    if (Status st = TenantUsers::MakePrivate(area, dir, *account); !st.ok()) return Refuse(ref, log, st);
    // The checkpoint area (STARGATE_CHECKPOINT_AREA, the server's
    // <data dir>/checkpoints/<tenant>) is the tenant's, and the job's
    // checkpoint dir must lie inside it.
    auto c = task.env.find("STARGATE_CHECKPOINT_DIR");
    auto ca = task.env.find("STARGATE_CHECKPOINT_AREA");
    if (c != task.env.end() && ca != task.env.end()) {
      namespace fs = std::filesystem;
      const fs::path ckpt_area = fs::path(ca->second).lexically_normal();
      const fs::path rel = fs::path(c->second).lexically_normal().lexically_relative(ckpt_area);
      if (ckpt_area.filename() != tenant || rel.empty() || *rel.begin() == ".." || *rel.begin() == ".") {
        return Refuse(ref, log, absl::InvalidArgumentError("the checkpoint dir is not inside the tenant's area"));
      }
      fs::create_directories(ckpt_area.parent_path(), ec);
      chmod(ckpt_area.parent_path().c_str(), 0711);  // passable, not listable
      if (Status st = TenantUsers::MakePrivate(ckpt_area.string(), c->second, *account); !st.ok()) {
        return Refuse(ref, log, st);
      }
    }
    private_env = {{"HOME", area}, {"USER", account->name}, {"LOGNAME", account->name}};
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // a failure shows as the task's chdir error
  }
  // The agent's env, then the server's, then ours: devices must be right.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : task.env) env[k] = v;
  const std::vector<int> devices = PickFor(task);
  // A holding load on these devices gives way: the new task's own draw
  // takes its place.
  for (Hold& h : holds_) {
    if (std::any_of(h.devices.begin(), h.devices.end(),
                    [&](int d) { return std::find(devices.begin(), devices.end(), d) != devices.end(); })) {
      EndHold(h);
    }
  }
  std::erase_if(holds_, [](const Hold& h) { return h.ids.empty(); });
  const char* own = std::getenv(VisibleDevicesVar());
  for (auto& [k, v] : DeviceEnv(node_.accelerator, devices, own != nullptr ? own : "")) env[k] = std::move(v);
  env["STARGATE_WORK_DIR"] = dir;
  env["STARGATE_NODE"] = node_.name;
  for (const auto& [k, v] : private_env) env[k] = v;
  // What the child execs: bash on the host, or podman running bash in the
  // job's image (ContainerArgv).
  std::vector<std::string> argv_strings = {"bash", "-c", task.command};
  std::string program = "/bin/bash";
  if (task.image.empty()) {
    auto path = env.find("PATH");
    if (auto direct = DirectExec(task.command, path != env.end() ? path->second : "/usr/local/bin:/usr/bin:/bin")) {
      program = std::move(direct->first);
      argv_strings = std::move(direct->second);
    }
  } else {
    StatusOr<std::vector<std::string>> made_argv = ContainerArgv(task, dir, devices, account, env, log);
    if (!made_argv.ok()) return Refuse(ref, log, made_argv.status());
    argv_strings = std::move(made_argv).value();
    program = argv_strings.front();
  }
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  // Recorded before anything of it runs: a next agent must know it started.
  if (Status st = ledger_.Begin(ref); !st.ok()) return Refuse(ref, log, st);
  std::vector<std::string> cgroup_procs;  // the child joins these before anything else
  if (cgroups_ != nullptr) {
    StatusOr<std::vector<std::string>> made = cgroups_->Create(ref, CgroupLimits{task.memory_bytes, task.cpus});
    if (!made.ok()) return Refuse(ref, log, made.status());  // never outside its cgroup: it could not be stopped whole
    cgroup_procs = std::move(made).value();
  } else if (task.memory_bytes > 0 || task.cpus > 0) {
    fmt::print("stargate agent {}: job {}: no cgroups here, so its memory and CPU limits are not applied\n", node_.name,
               ref.job);
  }
  const pid_t parent = getpid();
  // The scheduler's power cap, on the devices as the driver numbers them
  // (once nothing can refuse the task: a refused task never holds a limit).
  TaskReport::Cap cap = TaskReport::Cap::kNone;
  std::vector<std::string> driver_ids;  // its devices as the driver numbers them (none on a CPU node)
  if (auto ids = env.find(VisibleDevicesVar()); ids != env.end() && node_.accelerator != AcceleratorType::kCpu) {
    driver_ids = absl::StrSplit(ids->second, ',', absl::SkipEmpty());
  }
  std::vector<std::string> capped;
  if (task.power_cap > 0) {
    std::string why;
    capped = driver_ids;
    if (limiter_.Apply(capped, task.power_cap, &why)) {
      cap = TaskReport::Cap::kEnforced;
      fmt::print("stargate agent {}: job {} attempt {}: devices {} limited to {:.0f}% of their default power\n",
                 node_.name, ref.job, ref.attempt, absl::StrJoin(capped, ","), task.power_cap * 100);
    } else {
      cap = TaskReport::Cap::kNotEnforced;
      capped.clear();
      fmt::print("stargate agent {}: job {} attempt {}: power cap of {:.0f}% not enforced: {}\n", node_.name, ref.job,
                 ref.attempt, task.power_cap * 100, why);
    }
  }
  // A choreographed start (sched/power_ramp.h): the lowest limit before
  // anything runs, then StepRamps raises it.
  Proc p;
  if (task.ramped()) {
    const std::vector<std::string>& ids = driver_ids;
    p.ramp_target = cap == TaskReport::Cap::kEnforced ? task.power_cap : 1.0;
    p.ramp_limit = task.RampLimitAt(Duration::Zero(), p.ramp_target);
    std::string why;
    if (limiter_.Apply(ids, p.ramp_limit, &why)) {
      p.ramping = true;
      p.hold_after = task.ramp_up > Duration::Zero();
      p.ramp = task;
      p.ramp_ids = ids;
      capped = ids;
      fmt::print(
          "stargate agent {}: job {} attempt {}: power ramp: {:.0f}% of default for {:.0f} s, then up over {:.0f} s\n",
          node_.name, ref.job, ref.attempt, p.ramp_limit * 100, task.ramp_hold.seconds(), task.ramp_up.seconds());
    } else {
      // A refused floor restored the devices' defaults: the cap goes back on.
      cap = ReapplyCap(capped, task.power_cap, cap);
      fmt::print("stargate agent {}: job {} attempt {}: power ramp not enforced: {}\n", node_.name, ref.job,
                 ref.attempt, why);
    }
  }
  const pid_t pid = SpawnTask(SpawnArgs{parent, &cgroup_procs, log.c_str(),
                                        account.has_value() && task.image.empty() ? &*account : nullptr, dir.c_str(),
                                        program.c_str(), argv.data(), envp.data()});
  p.devices = devices;
  p.share_slot = ShareSlotOf(task.env);
  p.cap = cap;
  p.capped = std::move(capped);
  if (pid < 0) {  // could not fork: report it as ended
    p.running = false;
    p.exit_code = 127;
    ledger_.Ended(ref, {p.exit_code, 0});
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
    for (Hold& h : holds_) {
      if (h.pgid == w) h.pgid = -1;  // its command ended: the hold ends at the next step
    }
    for (auto& [ref, p] : procs_) {
      if (p.pid != w || !p.running || p.leader_done) continue;
      p.leader_done = true;
      if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
    }
  }
  for (auto& [ref, p] : procs_) {
    if (!p.running || !p.leader_done) continue;
    if (cgroups_ == nullptr) {
      if (p.stop_sent.has_value() && kill(-p.pid, 0) == 0) continue;  // still checkpointing; Stop() bounds it
      kill(-p.pid, SIGKILL);                                          // anything the task left behind in its group
      p.running = false;
      ledger_.Ended(ref, {p.exit_code, p.signal});
      continue;
    }
    // The task is its cgroup: it has ended when that is empty.
    if (cgroups_->Empty(ref)) {
      ledger_.Ended(ref, {p.exit_code, p.signal});  // first: a kill between the two must not lose the end
      cgroups_->Remove(ref);
      p.running = false;
      continue;
    }
    if (p.stop_sent.has_value() && !p.killed) continue;  // still checkpointing; Stop() bounds it
    if (!p.killed) {
      cgroups_->Kill(ref);  // what the task left behind, wherever it went
      p.killed = true;
    }
  }
}

void LocalRunner::Stop(const std::string&, const TaskRef& ref, Time now, Duration grace) {
  auto it = procs_.find(ref);
  if (it == procs_.end() || !it->second.running) return;
  Proc& p = it->second;
  if (!p.stop_sent.has_value()) {
    kill(-p.pid, SIGTERM);  // time to checkpoint
    p.stop_sent = now;
  } else if (now - *p.stop_sent >= (grace > Duration::Zero() ? grace : stop_grace_)) {
    kill(-p.pid, SIGKILL);
    if (cgroups_ != nullptr) {
      cgroups_->Kill(ref);
      p.killed = true;
    }
  }
}

TaskReport::Cap LocalRunner::ReapplyCap(std::vector<std::string>& ids, double cap, TaskReport::Cap state) {
  std::string why;
  if (state == TaskReport::Cap::kEnforced && !ids.empty() && limiter_.Apply(ids, cap, &why)) return state;
  if (state == TaskReport::Cap::kEnforced) ids.clear();
  return state == TaskReport::Cap::kEnforced ? TaskReport::Cap::kNotEnforced : state;
}

void LocalRunner::StepRamps(Time now) {
  for (auto& [ref, p] : procs_) {
    if (!p.ramping || !p.running) continue;
    if (!p.launched) p.launched = now;
    const double limit = p.ramp.RampLimitAt(now - *p.launched, p.ramp_target);
    const bool done = limit >= p.ramp_target;
    // Steps of a few percent: each is a call to the vendor tool per device.
    if (!done && limit - p.ramp_limit < 0.02) continue;
    std::string why;
    if (done && p.ramp_target >= 1.0) {
      limiter_.Restore(p.ramp_ids);
      p.capped.clear();
    } else if (!limiter_.Apply(p.ramp_ids, limit, &why)) {
      // The devices are back at their defaults: the cap, if any, goes back on.
      p.cap = ReapplyCap(p.capped, p.ramp_target, p.cap);
      fmt::print("stargate agent {}: job {}: power ramp stopped at {:.0f}%: {}\n", node_.name, ref.job,
                 p.ramp_limit * 100, why);
      p.ramping = p.hold_after = false;
      continue;
    }
    p.ramp_limit = limit;
    p.ramping = !done;
  }
}

void LocalRunner::StartHold(const TaskRef& ref, Proc& p, Time now) {
  p.hold_after = false;
  if (holding_load_.empty()) {
    fmt::print("stargate agent {}: job {} attempt {}: its end is not ramped down: no --holding-load\n", node_.name,
               ref.job, ref.attempt);
    return;
  }
  Hold h;
  h.task = ref;
  h.ids = p.ramp_ids;
  h.devices = p.devices;
  h.ramp = p.ramp;
  h.target = p.ramp_target;
  // Down the way it came up, from where it was: as far into the rise as it
  // got (the floor's hold at least), as the twin's fall
  // (sched::FallSeconds of what it drew).
  const Duration into = p.launched ? now - *p.launched : Duration::Zero();
  h.from = std::clamp(into, h.ramp.ramp_hold, h.ramp.ramp_hold + h.ramp.ramp_up);
  h.limit = h.ramp.RampLimitAt(h.from, h.target);
  std::string why;
  if (h.ids.empty() || !limiter_.Apply(h.ids, h.limit, &why)) {
    fmt::print("stargate agent {}: job {}: no holding load: {}\n", node_.name, ref.job,
               h.ids.empty() ? "no controllable device" : why);
    return;
  }
  // Its env: the agent's, with the devices the task had (and no other
  // device list).
  const std::string key = VisibleDevicesVar();
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).substr(0, key.size() + 1) != key + "=") env_strings.emplace_back(*e);
  }
  env_strings.push_back(key + "=" + absl::StrJoin(h.ids, ","));
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = holding_load_;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {  // only async-signal-safe calls from here
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // filler: it never outlives the agent
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(sh.c_str(), argv, envp.data());
    _exit(127);
  }
  if (pid < 0) {
    fmt::print("stargate agent {}: job {}: holding load not started: {}\n", node_.name, ref.job, std::strerror(errno));
    limiter_.Restore(h.ids);
    return;
  }
  setpgid(pid, pid);
  h.pgid = pid;
  h.since = now;
  p.capped.clear();  // the hold restores them
  fmt::print("stargate agent {}: job {} attempt {}: holding load on devices {} from {:.0f}% down over {:.0f} s\n",
             node_.name, ref.job, ref.attempt, absl::StrJoin(h.ids, ","), h.limit * 100, h.from.seconds());
  std::fflush(stdout);
  holds_.push_back(std::move(h));
}

void LocalRunner::EndHold(Hold& h) {
  if (h.ids.empty()) return;
  if (h.pgid > 0) kill(-h.pgid, SIGKILL);  // never one Reap collected: its id may be another's now
  h.pgid = -1;
  limiter_.Restore(h.ids);
  h.ids.clear();
}

std::vector<TaskRef> LocalRunner::Holding(const std::string&) const {
  std::vector<TaskRef> out;
  for (const Hold& h : holds_) {
    if (!h.fall_at && !h.ids.empty()) out.push_back(h.task);
  }
  return out;
}

void LocalRunner::FallAt(const std::string&, const TaskRef& task, Time at) {
  for (Hold& h : holds_) {
    if (h.task != task || h.fall_at) continue;
    h.fall_at = at;
    fmt::print(
        "stargate agent {}: job {} attempt {}: the holding load falls {:.0f} s after the task's end (the "
        "site's falls take turns)\n",
        node_.name, task.job, task.attempt, std::max(0.0, (at - h.since).seconds()));
    std::fflush(stdout);
  }
}

void LocalRunner::StepHolds(Time now) {
  for (Hold& h : holds_) {
    if (!h.fall_at && now - h.since >= kFallUnanswered) {
      h.fall_at = now;
      fmt::print("stargate agent {}: job {} attempt {}: no word on the holding load's turn in {:.0f} s: falling\n",
                 node_.name, h.task.job, h.task.attempt, kFallUnanswered.seconds());
      std::fflush(stdout);
    }
    // Its place on the rise, going down from its turn.
    const Duration falling = h.fall_at && now > *h.fall_at ? now - *h.fall_at : Duration::Zero();
    const Duration left = h.from - falling;
    if (left <= Duration::Zero() || h.pgid < 0) {  // released (or its command ended)
      EndHold(h);
      continue;
    }
    const double limit = h.ramp.RampLimitAt(left, h.target);
    if (h.limit - limit < 0.02) continue;
    std::string why;
    if (!limiter_.Apply(h.ids, limit, &why)) {
      EndHold(h);
      continue;
    }
    h.limit = limit;
  }
  std::erase_if(holds_, [](const Hold& h) { return h.ids.empty(); });
}

std::vector<TaskReport> LocalRunner::Poll(const std::string&, Time now) {
  Reap();
  StepRamps(now);
  for (auto& [ref, p] : procs_) {
    if (!p.running && p.hold_after) StartHold(ref, p, now);
  }
  StepHolds(now);
  std::vector<TaskReport> out;
  for (auto& [ref, p] : procs_) {
    if (!p.running && !p.capped.empty()) {  // ended: its devices back to their default limit
      limiter_.Restore(p.capped);
      p.capped.clear();
    }
    out.push_back({ref, p.running, p.exit_code, p.signal, p.lost, p.cap});
  }
  return out;
}

void LocalRunner::Forget(const std::string&, const TaskRef& ref) {
  auto it = procs_.find(ref);
  if (it != procs_.end() && !it->second.running) {
    procs_.erase(it);
    ledger_.Drop(ref);
  }
}

bool LocalRunner::HasNews() const {
  siginfo_t info{};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

}  // namespace stargate::control
