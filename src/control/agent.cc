#include "control/agent.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <absl/strings/str_split.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "control/device_assignment.h"
#include "control/gpu_probe.h"
#include "proto/agent.grpc.pb.h"

namespace stargate::control {
namespace {

namespace pb = stargate::agent::v1;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct CpuSample {
  uint64_t busy = 0, total = 0;
};

CpuSample ReadCpu() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  uint64_t v[8] = {};
  f >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  CpuSample s;
  for (uint64_t x : v) s.total += x;
  s.busy = s.total - v[3] - v[4];  // minus idle and iowait
  return s;
}

int64_t MemoryUsedBytes() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  int64_t value = 0, total = 0, available = 0;
  while (f >> key >> value >> unit) {
    if (key == "MemTotal:") total = value;
    if (key == "MemAvailable:") available = value;
  }
  return (total - available) * 1024;
}

}  // namespace

struct Agent::Impl {
  struct Proc {
    pid_t pid = -1;                // also the process group id
    bool running = true;
    int exit_code = 0;
    int signal = 0;
    int64_t stop_sent_ms = -1;
    bool leader_done = false;      // its first process ended (exit_code/signal are its)
    std::vector<int> devices;      // node device indices it holds while it runs
  };

  // Devices for a new task: as many as the server placed here
  // (STARGATE_ACCELERATORS_PER_NODE), among those no live task holds.
  std::vector<int> PickFor(const pb::Task& task) {
    std::set<int> held;
    for (const auto& [ref, p] : procs) {
      if (p.running) held.insert(p.devices.begin(), p.devices.end());
    }
    int want = config.node.accelerators;
    auto it = task.env().find("STARGATE_ACCELERATORS_PER_NODE");
    if (it != task.env().end()) want = std::clamp(std::atoi(it->second.c_str()), 0, config.node.accelerators);
    std::vector<int> devices = PickDevices(config.node.accelerators, held, want);
    if (static_cast<int>(devices.size()) < want) {
      std::cerr << fmt::format("stargate agent {}: job {} wants {} devices, {} free\n", config.node.name, task.job_id(),
                               want, devices.size());
    }
    return devices;
  }

  explicit Impl(AgentConfig c) : config(std::move(c)) {}

  void Launch(const pb::Task& task) {
    const TaskRef ref{task.job_id(), task.attempt()};
    if (procs.count(ref)) return;  // started already (a late reply): never twice
    const std::string log = config.work_dir + "/logs/" + TaskLogName(ref);
    const std::string dir = fmt::format("{}/jobs/{}", config.work_dir, ref.job);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // a failure shows as the task's chdir error
    // The agent's env, then the server's, then ours: devices must be right.
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      const size_t eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : task.env()) env[k] = v;
    const std::vector<int> devices = PickFor(task);
    const bool amd = config.node.accelerator == AcceleratorType::kMI250X || config.node.accelerator == AcceleratorType::kMI300X;
    const char* own = std::getenv(amd ? "ROCR_VISIBLE_DEVICES" : "CUDA_VISIBLE_DEVICES");
    for (auto& [k, v] : DeviceEnv(config.node.accelerator, devices, own != nullptr ? own : "")) env[k] = std::move(v);
    env["STARGATE_WORK_DIR"] = dir;
    env["STARGATE_NODE"] = config.node.name;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the agent
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
      execle("/bin/bash", "bash", "-c", task.command().c_str(), static_cast<char*>(nullptr), envp.data());
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
    procs[ref] = p;
    fmt::print("stargate agent {}: started job {} attempt {} (rank {}) pid {}\n", config.node.name, ref.job,
               ref.attempt, task.env().count("RANK") ? task.env().at("RANK") : "?", pid);
    std::fflush(stdout);
  }

  // Collects ended processes: task leaders and, the agent being a child
  // subreaper, anything a task left behind. A task ends with its leader,
  // and what is left of its group is killed; but while the task is being
  // stopped, the rest of the group may still be writing its checkpoint (a
  // shell leader dies on SIGTERM at once, its python child does not), so
  // it ends when its group is empty or the grace period is over.
  void Reap() {
    for (;;) {
      int status = 0;
      const pid_t w = waitpid(-1, &status, WNOHANG);
      if (w <= 0) break;
      for (auto& [ref, p] : procs) {
        if (p.pid != w || !p.running || p.leader_done) continue;
        p.leader_done = true;
        if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
      }
    }
    for (auto& [ref, p] : procs) {
      if (!p.running || !p.leader_done) continue;
      if (p.stop_sent_ms >= 0 && kill(-p.pid, 0) == 0) continue;  // still checkpointing; Stop() bounds it
      kill(-p.pid, SIGKILL);  // anything the task left behind in its group
      p.running = false;
    }
  }

  void Stop(const TaskRef& ref, int64_t now) {
    auto it = procs.find(ref);
    if (it == procs.end() || !it->second.running) return;
    Proc& p = it->second;
    if (p.stop_sent_ms < 0) {
      kill(-p.pid, SIGTERM);  // time to checkpoint
      p.stop_sent_ms = now;
    } else if (now - p.stop_sent_ms >= config.stop_grace_ms) {
      kill(-p.pid, SIGKILL);
    }
  }

  bool Register() {
    pb::RegisterRequest req;
    const NodeInfo& n = config.node;
    req.set_node_name(n.name);
    req.set_site(n.site);
    req.set_region(n.region);
    req.set_jurisdiction(n.jurisdiction);
    req.set_address(n.address);
    req.set_accelerator(std::string(Name(n.accelerator)));
    req.set_accelerators(n.accelerators);
    req.set_cpus(n.cpus);
    req.set_memory_bytes(n.memory_bytes);
    req.set_log_port(log_port);
    req.set_agent_id(agent_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    pb::RegisterReply reply;
    const grpc::Status st = stub->Register(&ctx, req, &reply);
    if (!st.ok()) {
      std::cerr << "stargate agent " << n.name << ": register: " << st.error_message() << "\n";
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE) NextServer();
      return false;
    }
    if (reply.heartbeat_interval_ms() > 0) interval_ms = reply.heartbeat_interval_ms();
    return true;
  }

  void Heartbeat(int64_t now) {
    pb::HeartbeatRequest req;
    req.set_node_name(config.node.name);
    const CpuSample cpu = ReadCpu();
    if (cpu.total > last_cpu.total) {
      req.set_cpu_utilisation(static_cast<double>(cpu.busy - last_cpu.busy) /
                              static_cast<double>(cpu.total - last_cpu.total));
    }
    last_cpu = cpu;
    req.set_memory_used_bytes(MemoryUsedBytes());
    // GPU telemetry where a GPU exists. nvidia-smi is a process start:
    // long polls can return many times a second, so sample it every 5 s.
    if (config.node.accelerator != AcceleratorType::kCpu && now - gpu_sampled_ms >= kGpuSampleMs) {
      gpu_sampled_ms = now;
      auto gpus = ProbeNvidiaSmi();
      if (gpus.ok()) {
        gpu_util = gpu_power_w = 0;
        for (const GpuSample& g : *gpus) {
          gpu_util += g.utilisation;
          gpu_power_w += g.power_w;
        }
        gpu_util /= static_cast<double>(gpus->size());
      }
    }
    req.set_gpu_utilisation(gpu_util);
    req.set_gpu_power_w(gpu_power_w);
    for (const auto& [ref, p] : procs) {
      pb::TaskStatus* s = req.add_tasks();
      s->set_job_id(ref.job);
      s->set_attempt(ref.attempt);
      s->set_running(p.running);
      s->set_exit_code(p.exit_code);
      s->set_signal(p.signal);
    }
    req.set_wait_ms(kLongPollMs);
    req.set_agent_id(agent_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(kLongPollMs + 3000));
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight = &ctx;
    }
    pb::HeartbeatReply reply;
    const grpc::Status st = stub->Heartbeat(&ctx, req, &reply);
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight = nullptr;
    }
    if (!st.ok()) {
      // Cancelled by the watcher (a task ended, or stopping): beat again now.
      // Otherwise the server is away: tasks keep running; retry after a pause.
      if (st.error_code() != grpc::StatusCode::CANCELLED) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        if (st.error_code() == grpc::StatusCode::UNAVAILABLE || st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          NextServer();
        }
      }
      return;
    }
    if (reply.register_again()) registered = false;
    for (const pb::Task& t : reply.run()) Launch(t);
    for (const pb::TaskRef& r : reply.stop()) {
      stopping.insert({r.job_id(), r.attempt()});
    }
    for (const pb::TaskRef& r : reply.forget()) {
      auto it = procs.find({r.job_id(), r.attempt()});
      if (it != procs.end() && !it->second.running) procs.erase(it);
      stopping.erase({r.job_id(), r.attempt()});
    }
  }

  void Connect() {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (!config.tls_ca.empty()) {
      grpc::SslCredentialsOptions opts;
      opts.pem_root_certs = config.tls_ca;
      opts.pem_private_key = config.tls_key;
      opts.pem_cert_chain = config.tls_cert;
      creds = grpc::SslCredentials(opts);
    }
    channel = grpc::CreateCustomChannel(servers[current], creds, channel_args);
    stub = pb::AgentService::NewStub(channel);
  }
  // After a failed call: with several servers, try the next one.
  void NextServer() {
    if (servers.size() < 2) return;
    current = (current + 1) % servers.size();
    Connect();
    registered = false;  // a new leader may not know this agent's process yet
  }

  // Tells the server this node is going away on purpose (best effort).
  void Leave() {
    pb::HeartbeatRequest req;
    req.set_node_name(config.node.name);
    req.set_agent_id(agent_id);
    req.set_leaving(true);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    pb::HeartbeatReply reply;
    stub->Heartbeat(&ctx, req, &reply);
  }

  // Cuts the in-flight long poll short when a child exits or the agent
  // stops, so an end is reported at once rather than when the poll returns.
  void Watch(const std::atomic<bool>& stop, const std::atomic<bool>& done) {
    while (!done.load()) {
      siginfo_t info{};
      const bool child_ended = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
      if (child_ended || stop.load()) {
        std::lock_guard<std::mutex> lock(inflight_mu);
        if (inflight != nullptr) inflight->TryCancel();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(child_ended ? 50 : 10));
    }
  }

  static constexpr int kLongPollMs = 1000;
  static constexpr int64_t kGpuSampleMs = 5000;
  int64_t gpu_sampled_ms = INT64_MIN / 2;
  double gpu_util = 0, gpu_power_w = 0;
  AgentConfig config;
  std::mutex inflight_mu;
  grpc::ClientContext* inflight = nullptr;
  std::vector<std::string> servers;  // agent API addresses; `current` is in use
  size_t current = 0;
  grpc::ChannelArguments channel_args;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::AgentService::Stub> stub;
  std::map<TaskRef, Proc> procs;
  std::set<TaskRef> stopping;
  bool registered = false;
  int interval_ms = 1000;
  int log_port = 0;
  std::string agent_id;            // random per process: see RegisterRequest.agent_id
  CpuSample last_cpu;
};

Agent::Agent(AgentConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Agent::~Agent() = default;

Status Agent::Run(const std::atomic<bool>& stop) {
  Impl& a = *impl_;
  // Absolute: tasks run in their own directory and get paths under this.
  a.config.work_dir = std::filesystem::absolute(a.config.work_dir).lexically_normal().string();
  std::error_code ec;
  std::filesystem::create_directories(a.config.work_dir + "/logs", ec);
  if (ec) return absl::UnavailableError(fmt::format("cannot create {}/logs: {}", a.config.work_dir, ec.message()));
  // Task logs over HTTP: GET /logs/<file>?offset=N gives up to 1 MiB from N.
  httplib::Server logs;
  const std::string log_dir = a.config.work_dir + "/logs/";
  logs.Get(R"(/logs/(job-[0-9]+-attempt-[0-9]+\.log))", [&](const httplib::Request& req, httplib::Response& res) {
    std::ifstream f(log_dir + req.matches[1].str(), std::ios::binary);
    if (!f) {
      res.status = 404;
      return;
    }
    f.seekg(0, std::ios::end);
    const int64_t size = f.tellg();
    int64_t offset = 0;
    if (req.has_param("offset")) offset = std::clamp<int64_t>(std::atoll(req.get_param_value("offset").c_str()), 0, size);
    const int64_t n = std::min<int64_t>(size - offset, int64_t{1} << 20);
    std::string chunk(static_cast<size_t>(n), '\0');
    f.seekg(offset);
    f.read(chunk.data(), n);
    res.set_header("X-Next-Offset", std::to_string(offset + n));
    res.set_content(chunk, "text/plain");
  });
  a.log_port = logs.bind_to_any_port(a.config.node.address);
  std::thread log_thread;
  if (a.log_port > 0) {
    log_thread = std::thread([&] { logs.listen_after_bind(); });
  } else {
    a.log_port = 0;
    std::cerr << "stargate agent: cannot serve task logs on " << a.config.node.address << "\n";
  }
  struct StopLogs {  // on every way out of Run
    httplib::Server& s;
    std::thread& t;
    ~StopLogs() {
      s.stop();
      if (t.joinable()) t.join();
    }
  } stop_logs{logs, log_thread};
  // Reconnect quickly after a server restart (gRPC's default backoff grows
  // to two minutes); heartbeats are cheap.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Several servers (one leads; standbys do not listen): on failure the
  // agent moves on to the next.
  a.servers = absl::StrSplit(a.config.server, ',');
  a.channel_args = args;
  a.Connect();
  a.last_cpu = ReadCpu();
  std::random_device rd;
  a.agent_id = fmt::format("{:08x}{:08x}{:08x}", rd(), rd(), rd());
  // Orphans of a task (a shell that died on SIGTERM leaves its python
  // child) are reparented here rather than to init: Reap collects them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::atomic<bool> done{false};
  std::thread watcher([&] { a.Watch(stop, done); });
  while (!stop.load()) {
    const int64_t now = NowMs();
    a.Reap();
    for (const TaskRef& r : a.stopping) a.Stop(r, now);
    if (!a.registered) {
      a.registered = a.Register();
      if (!a.registered) std::this_thread::sleep_for(std::chrono::milliseconds(a.interval_ms));
      continue;
    }
    a.Heartbeat(now);  // a long poll: returns when there is work, a task ends, or after ~1 s
  }
  done = true;
  watcher.join();
  // Asked to stop: stop every task, then wait for them up to the grace period.
  const int64_t deadline = NowMs() + a.config.stop_grace_ms;
  for (auto& [ref, p] : a.procs) a.Stop(ref, NowMs());
  while (NowMs() < deadline) {
    a.Reap();
    bool any = false;
    for (auto& [ref, p] : a.procs) any = any || p.running;
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& [ref, p] : a.procs) {
    if (p.running) kill(-p.pid, SIGKILL);
  }
  a.Reap();
  if (a.registered) a.Leave();
  return Status();
}

}  // namespace stargate::control
