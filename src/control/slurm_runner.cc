#include "control/slurm_runner.h"

#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

namespace stargate::control {

SlurmRunner::SlurmRunner(SlurmClient* slurm, SlurmRunnerOptions o) : slurm_(slurm), o_(std::move(o)) {
  std::error_code ec;
  std::filesystem::create_directories(o_.batch.work_dir + "/slurm", ec);
  std::filesystem::create_directories(o_.batch.work_dir + "/logs", ec);
}

std::string SlurmRunner::NodesFile(const TaskRef& ref) const {
  return fmt::format("{}/slurm/{}.nodes", o_.batch.work_dir, SlurmJobName(ref));
}

void SlurmRunner::Note(const TaskRef& ref, const std::string& text) const {
  std::cerr << fmt::format("stargate slurm {}: job {} attempt {}: {}\n", o_.batch.site, ref.job, ref.attempt, text);
  std::ofstream(fmt::format("{}/logs/{}", o_.batch.work_dir, TaskLogName(ref)), std::ios::app)
      << "stargate: " << text << "\n";
}

void SlurmRunner::KeepAlive() {
  const std::string lease = o_.batch.work_dir + "/slurm/lease";
  std::ofstream(lease, std::ios::trunc) << "alive\n";  // the mtime is what counts
}

StatusOr<int> SlurmRunner::Adopt() {
  SG_ASSIGN_OR_RETURN(const std::vector<SlurmJob> jobs, slurm_->Jobs());
  std::lock_guard<std::mutex> lock(mu_);
  int adopted = 0;
  for (const SlurmJob& j : jobs) {
    const std::optional<TaskRef> ref = TaskOfSlurmJobName(j.name);
    if (!ref.has_value() || j.comment != SlurmComment(o_.batch.site) || !OutcomeOf(j).running) continue;
    std::ifstream in(NodesFile(*ref));
    std::string line;
    std::getline(in, line);
    Gang g;
    g.nodes = absl::StrSplit(line.empty() ? j.nodes : line, ',', absl::SkipEmpty());
    g.slurm_id = j.id;
    gangs_[*ref] = std::move(g);
    ++adopted;
    std::cerr << fmt::format("stargate slurm {}: adopted Slurm job {} (Stargate job {} attempt {})\n", o_.batch.site,
                             j.id, ref->job, ref->attempt);
  }
  return adopted;
}

void SlurmRunner::Start(const std::string& node, const TaskLaunch& task) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = gangs_.try_emplace(task.task);
  Gang& g = it->second;
  if (added) {
    // This site's nodes of the gang, in rank order.
    auto nodes = task.env.find("STARGATE_NODES");
    if (nodes != task.env.end()) {
      for (absl::string_view n : absl::StrSplit(nodes->second, ',', absl::SkipEmpty())) {
        if (o_.nodes.count(std::string(n))) g.nodes.emplace_back(n);
      }
    }
    if (std::find(g.nodes.begin(), g.nodes.end(), node) == g.nodes.end()) g.nodes.push_back(node);
  }
  if (g.slurm_id != 0 || !g.outcome.running || g.stop_sent_ms >= 0) return;  // started, or over: never twice
  g.arrived.emplace(node, task);
  for (const std::string& n : g.nodes) {
    if (!g.arrived.count(n)) return;  // the other ranks here come with their nodes' heartbeats
  }
  Submit(task.task, g);
}

void SlurmRunner::Submit(const TaskRef& ref, Gang& g) {
  std::vector<std::pair<std::string, TaskLaunch>> ranks;
  for (const std::string& n : g.nodes) ranks.emplace_back(n, g.arrived.at(n));
  g.arrived.clear();
  const SlurmBatch batch = MakeSlurmBatch(ranks, o_.batch);
  std::error_code ec;
  std::filesystem::create_directories(fmt::format("{}/jobs/{}", o_.batch.work_dir, ref.job), ec);
  std::ofstream(NodesFile(ref), std::ios::trunc) << absl::StrJoin(g.nodes, ",") << "\n";
  StatusOr<uint64_t> id = slurm_->Submit(batch.args, batch.script);
  if (!id.ok()) {
    Note(ref, fmt::format("sbatch failed: {}", std::string(id.status().message())));
    g.outcome = {false, 1, 0};
    return;
  }
  g.slurm_id = *id;
  fmt::print("stargate slurm {}: job {} attempt {} is Slurm job {} on {}\n", o_.batch.site, ref.job, ref.attempt, *id,
             absl::StrJoin(g.nodes, ","));
  std::fflush(stdout);
}

void SlurmRunner::Refresh(int64_t now_ms) {
  if (now_ms - refreshed_ms_ < o_.refresh_ms) return;
  refreshed_ms_ = now_ms;
  bool any = false;
  for (const auto& [ref, g] : gangs_) any = any || (g.slurm_id != 0 && g.outcome.running);
  if (!any) return;
  StatusOr<std::vector<SlurmJob>> jobs = slurm_->Jobs();
  if (!jobs.ok()) {  // slurmctld away: the jobs keep their last known state
    if (!warned_) std::cerr << "stargate slurm " << o_.batch.site << ": " << jobs.status().message() << "\n";
    warned_ = true;
    return;
  }
  warned_ = false;
  std::map<uint64_t, const SlurmJob*> by_id;
  for (const SlurmJob& j : *jobs) by_id[j.id] = &j;
  for (auto& [ref, g] : gangs_) {
    if (g.slurm_id == 0 || !g.outcome.running) continue;
    auto it = by_id.find(g.slurm_id);
    if (it == by_id.end()) {
      // Purged (MinJobAge) or lost with slurmctld's state: it ended, how is unknown.
      if (++g.unseen >= 3) {
        Note(ref, fmt::format("Slurm no longer knows job {}; counted as failed", g.slurm_id));
        g.outcome = {false, 0, SIGKILL};
      }
      continue;
    }
    g.unseen = 0;
    g.outcome = OutcomeOf(*it->second);
    if (!g.outcome.running) {
      fmt::print("stargate slurm {}: Slurm job {} (job {} attempt {}) ended {} {}:{}\n", o_.batch.site, g.slurm_id,
                 ref.job, ref.attempt, it->second->state, g.outcome.exit_code, g.outcome.signal);
      std::fflush(stdout);
    }
  }
}

void SlurmRunner::Stop(const std::string&, const TaskRef& ref, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = gangs_.find(ref);
  if (it == gangs_.end() || !it->second.outcome.running) return;
  Gang& g = it->second;
  if (g.slurm_id == 0) {  // still gathering its ranks: nothing runs yet
    g.arrived.clear();
    g.outcome = {false, 0, SIGTERM};
    return;
  }
  if (g.stop_sent_ms < 0) {
    g.stop_sent_ms = now_ms;
    if (Status st = slurm_->Cancel(g.slurm_id, false); !st.ok()) Note(ref, std::string(st.message()));
  } else if (!g.killed && now_ms - g.stop_sent_ms >= o_.stop_grace_ms) {
    g.killed = true;
    if (Status st = slurm_->Cancel(g.slurm_id, true); !st.ok()) Note(ref, std::string(st.message()));
  }
}

std::vector<TaskReport> SlurmRunner::Poll(const std::string& node, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Refresh(now_ms);
  std::vector<TaskReport> out;
  for (const auto& [ref, g] : gangs_) {
    if (std::find(g.nodes.begin(), g.nodes.end(), node) == g.nodes.end() || g.forgotten.count(node)) continue;
    // A rank still gathering counts as running: the server must neither
    // start it again nor think it never started.
    out.push_back({ref, g.outcome.running, g.outcome.exit_code, g.outcome.signal});
  }
  return out;
}

void SlurmRunner::Forget(const std::string& node, const TaskRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = gangs_.find(ref);
  if (it == gangs_.end() || it->second.outcome.running) return;
  Gang& g = it->second;
  g.forgotten.insert(node);
  for (const std::string& n : g.nodes) {
    if (!g.forgotten.count(n)) return;
  }
  std::error_code ec;
  std::filesystem::remove(NodesFile(ref), ec);
  gangs_.erase(it);
}

}  // namespace stargate::control
