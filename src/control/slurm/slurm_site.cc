#include "control/slurm/slurm_site.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_join.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "control/agent/gpu_probe.h"
#include "control/agent/task_log_server.h"
#include "control/slurm/slurm_runner.h"
#include "runtime/random_hex.h"

namespace stargate::control {
namespace {

// The nodes of the partition (and of `only`, when given).
std::vector<SlurmNode> SiteNodes(const SlurmSiteConfig& c, const std::vector<SlurmNode>& all) {
  std::vector<SlurmNode> out;
  for (const SlurmNode& n : all) {
    if (!c.only.empty() && !c.only.count(n.name)) continue;
    if (!c.partition.empty() &&
        std::find(n.partitions.begin(), n.partitions.end(), c.partition) == n.partitions.end()) {
      continue;
    }
    out.push_back(n);
  }
  return out;
}

StatusOr<NodeInfo> ToNodeInfo(const SlurmSiteConfig& c, const SlurmNode& s) {
  NodeInfo n = c.agent.node;
  n.name = s.name;
  n.address = s.address;
  n.cpus = s.cpus;
  n.memory_bytes = s.memory_bytes;
  if (s.gpus == 0) {
    n.accelerator = AcceleratorType::kCpu;
    n.accelerators = 1;
    return n;
  }
  const std::string type = !s.gpu_type.empty() ? absl::AsciiStrToUpper(s.gpu_type) : c.gpu_type;
  if (type.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("Slurm node {} has {} untyped GPUs (Gres=gpu:{}): give their type with --accelerators TYPE", s.name,
                    s.gpus, s.gpus));
  }
  StatusOr<AcceleratorType> t = ParseAcceleratorType(type);
  if (!t.ok()) t = TypeFromGpuName(type);
  if (!t.ok())
    return absl::InvalidArgumentError(fmt::format("Slurm node {}: {}", s.name, std::string(t.status().message())));
  n.accelerator = *t;
  n.accelerators = std::min(s.gpus, 64);
  return n;
}

}  // namespace

Status RunSlurmSite(const SlurmSiteConfig& config, SlurmClient* slurm, Clock* clock, const std::atomic<bool>& stop) {
  SlurmSiteConfig c = config;
  c.agent.work_dir = std::filesystem::absolute(c.agent.work_dir).lexically_normal().string();
  SG_ASSIGN_OR_RETURN(const std::vector<SlurmNode> all, slurm->Nodes());
  const std::vector<SlurmNode> nodes = SiteNodes(c, all);
  if (nodes.empty()) {
    return absl::NotFoundError(fmt::format("Slurm lists no node{}{}",
                                           c.partition.empty() ? "" : " in partition " + c.partition,
                                           c.only.empty() ? "" : " named " + absl::StrJoin(c.only, ",")));
  }
  std::vector<NodeInfo> infos;
  SlurmRunnerOptions ro;
  for (const SlurmNode& s : nodes) {
    SG_ASSIGN_OR_RETURN(NodeInfo n, ToNodeInfo(c, s));
    n.checkpoint_root = c.agent.node.checkpoint_root;  // the site's, for every node it drives
    infos.push_back(n);
    ro.nodes.insert(n.name);
    if (n.accelerator != AcceleratorType::kCpu) {
      ro.gpu_nodes.insert(n.name);
      // Each GPU's share of the node's CPUs, the smallest over the nodes.
      const int share = n.cpus / std::max(1, n.accelerators);
      ro.batch.cpus_per_gpu = ro.batch.cpus_per_gpu == 0 ? share : std::min(ro.batch.cpus_per_gpu, share);
      if (s.gpus > 0 && s.shards > 0) ro.batch.shards_per_gpu[n.name] = s.shards / s.gpus;
    }
  }
  ro.batch.site = c.agent.node.site;
  ro.batch.work_dir = c.agent.work_dir;
  ro.batch.partition = c.partition;
  ro.batch.fence_s = c.fence_s;
  ro.stop_grace = c.agent.stop_grace;
  SlurmRunner runner(slurm, ro);
  runner.KeepAlive();
  SG_ASSIGN_OR_RETURN(const int adopted, runner.Adopt());
  TaskLogServer logs;
  const std::string log_token = RandomHex(4);
  const int log_port = logs.Start(c.agent.node.address, c.agent.work_dir + "/logs", log_token);
  if (log_port == 0) std::cerr << "stargate slurm: cannot serve task logs on " << c.agent.node.address << "\n";
  fmt::print("stargate slurm {}: {} node(s) ({}), {} running job(s) adopted, logs on {}:{}\n", c.agent.node.site,
             infos.size(), absl::StrJoin(ro.nodes, ","), adopted, c.agent.node.address, log_port);
  std::fflush(stdout);

  std::map<std::string, std::unique_ptr<std::atomic<bool>>> up;
  for (const SlurmNode& s : nodes) up[s.name] = std::make_unique<std::atomic<bool>>(SlurmNodeUsable(s.state));
  std::vector<std::unique_ptr<Agent>> agents;
  auto stop_agents = [&agents] {
    for (auto& agent : agents) agent->Stop();
    for (auto& agent : agents) agent->Wait().IgnoreError();
  };
  for (const NodeInfo& info : infos) {
    AgentConfig a = c.agent;
    a.node = info;
    a.runner = &runner;
    a.log_port = log_port;
    a.log_address = c.agent.node.address;
    a.log_token = log_token;
    a.up = up[a.node.name].get();
    a.host_telemetry = false;  // this host's load is not the Slurm node's
    a.stop = &stop;            // they stop together, at once
    StatusOr<std::unique_ptr<Agent>> agent = Agent::Open(a, clock);
    if (!agent.ok()) {
      stop_agents();
      return agent.status();
    }
    agents.push_back(std::move(agent).value());
  }
  // A second at most, in steps that notice `stop`.
  auto pause = [&] {
    for (int i = 0; i < 10 && !stop.load(); ++i) clock->SleepFor(Duration::Millis(100));
  };
  // The lease on a thread of its own: nothing the driver waits for (a
  // slow slurmctld, a heartbeat) may let the batch jobs fence themselves.
  std::thread lease([&] {
    while (!stop.load()) {
      runner.KeepAlive();
      pause();
    }
  });
  // The jobs' states from Slurm, on a thread of its own too: heartbeats
  // only read what it found, so a slow scontrol stalls nobody.
  std::atomic<bool> agents_done{false};  // the refresher outlives the agents' final stops
  std::thread refresher([&] {
    while (!agents_done.load()) {
      runner.Refresh(clock->Now());
      clock->SleepFor(Duration::Millis(200));
    }
  });
  Time checked = clock->Now();
  while (!stop.load()) {
    if (clock->Now() - checked >= Duration::Seconds(5)) {
      checked = clock->Now();
      StatusOr<std::vector<SlurmNode>> now = slurm->Nodes();
      if (now.ok()) {
        for (const SlurmNode& s : *now) {
          auto it = up.find(s.name);
          if (it == up.end()) continue;
          const bool usable = SlurmNodeUsable(s.state);
          if (usable != it->second->load()) {
            fmt::print("stargate slurm {}: node {} is {} in Slurm: {}\n", c.agent.node.site, s.name, s.state,
                       usable ? "back in service" : "out of service, its ranks stop");
            std::fflush(stdout);
          }
          // A drained node would finish its ranks while the server, which
          // no longer hears from it, starts them elsewhere: stop them.
          if (!usable) {
            const Time at = clock->Now();
            for (const TaskReport& t : runner.Poll(s.name, at)) {
              if (t.running) runner.Stop(s.name, t.task, at, Duration::Zero());
            }
          }
          it->second->store(usable);
        }
      }
    }
    pause();
  }
  // The agents stop their tasks first (scancel), with the refresher still
  // reporting how they end.
  stop_agents();
  agents_done = true;
  lease.join();
  refresher.join();
  return Status();
}

}  // namespace stargate::control
