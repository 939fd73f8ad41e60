#include "control/slurm/slurm_runner.h"

#include <unistd.h>

#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

namespace stargate::control {

SlurmRunner::SlurmRunner(SlurmClient* slurm, SlurmRunnerOptions o) : slurm_(slurm), o_(std::move(o)) {
  if (o_.uid < 0) o_.uid = static_cast<int64_t>(getuid());
  // Which driver of the site: its node set (FNV-1a), so two drivers with
  // different nodes of one site never take each other's batch jobs, and a
  // restarted driver with the same nodes finds its own.
  uint64_t h = 1469598103934665603ull;
  for (const std::string& n : o_.nodes) {
    for (char c : n + ",") h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  o_.batch.driver = fmt::format("{:08x}", static_cast<uint32_t>(h ^ (h >> 32)));
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
  // Every attempt an earlier driver submitted and did not see recorded
  // has its .nodes file.
  std::map<TaskRef, std::vector<std::string>> unfinished;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(o_.batch.work_dir + "/slurm", ec)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".nodes")) continue;
    const std::optional<TaskRef> ref = TaskOfSlurmJobName(file.substr(0, file.size() - 6));
    if (!ref.has_value()) continue;
    std::ifstream in(entry.path());
    std::string line;
    std::getline(in, line);
    unfinished[*ref] = absl::StrSplit(line, ',', absl::SkipEmpty());
  }
  int adopted = 0;
  std::set<TaskRef> seen;
  for (const SlurmJob& j : jobs) {
    const std::optional<TaskRef> ref = TaskOfSlurmJobName(j.name);
    if (!ref.has_value() || !Ours(j)) continue;
    const SlurmOutcome outcome = OutcomeOf(j);
    auto file = unfinished.find(*ref);
    // Running: ours whatever happens. Ended: only if its end was never
    // recorded (the .nodes file is there), else it is history.
    if (!outcome.running && file == unfinished.end()) continue;
    Gang g;
    if (file != unfinished.end()) {
      g.nodes = file->second;
    } else if (!j.nodes.empty() && j.nodes.find('[') == std::string::npos) {
      g.nodes = absl::StrSplit(j.nodes, ',', absl::SkipEmpty());
    } else {
      std::cerr << fmt::format("stargate slurm {}: Slurm job {} ({}) has no .nodes file; cancelling it\n",
                               o_.batch.site, j.id, j.name);
      slurm_->Cancel(j.id, false).IgnoreError();
      continue;
    }
    g.slurm_id = j.id;
    g.adopted = true;
    g.outcome = outcome;
    gangs_[*ref] = std::move(g);
    seen.insert(*ref);
    ++adopted;
    std::cerr << fmt::format("stargate slurm {}: adopted Slurm job {} (Stargate job {} attempt {}), {}\n",
                             o_.batch.site, j.id, ref->job, ref->attempt, j.state);
  }
  // Submitted, never recorded, and Slurm no longer knows it: lost.
  for (const auto& [ref, nodes] : unfinished) {
    if (seen.count(ref)) continue;
    Gang g;
    g.nodes = nodes;
    g.adopted = true;
    g.outcome = {false, 0, SIGKILL};
    gangs_[ref] = std::move(g);
    Note(ref, "its batch job ended while the driver was away and Slurm no longer knows how: counted as lost");
  }
  return adopted;
}

void SlurmRunner::Start(const std::string& node, const TaskLaunch& task) {
  std::unique_lock<std::mutex> lock(mu_);
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
  g.started.insert(node);
  if (task.power_cap > 0) g.cap_asked = true;
  if (g.slurm_id != 0 || g.submitting || !g.outcome.running || g.stop_sent.has_value()) return;  // never twice
  g.arrived.emplace(node, task);
  for (const std::string& n : g.nodes) {
    if (!g.arrived.count(n)) return;  // the other ranks here come with their nodes' heartbeats
  }
  Submit(task.task, lock);
}

void SlurmRunner::Submit(const TaskRef& ref, std::unique_lock<std::mutex>& lock) {
  Gang& g = gangs_.at(ref);
  std::vector<std::pair<std::string, TaskLaunch>> ranks;
  for (const std::string& n : g.nodes) ranks.emplace_back(n, g.arrived.at(n));
  g.arrived.clear();
  g.submitting = true;
  SlurmBatchOptions batch = o_.batch;
  batch.gpus = o_.gpu_nodes.count(g.nodes.front()) > 0;
  const SlurmBatch b = MakeSlurmBatch(ranks, batch);
  std::error_code ec;
  std::filesystem::create_directories(fmt::format("{}/jobs/{}", o_.batch.work_dir, ref.job), ec);
  std::ofstream(NodesFile(ref), std::ios::trunc) << absl::StrJoin(g.nodes, ",") << "\n";
  const std::string nodes = absl::StrJoin(g.nodes, ",");
  lock.unlock();  // sbatch may take a while: heartbeats go on meanwhile
  StatusOr<uint64_t> id = slurm_->Submit(b.args, b.script);
  lock.lock();
  Gang& after = gangs_.at(ref);  // still there: nothing erases a running gang
  after.submitting = false;
  if (!id.ok()) {
    // If slurmctld took the job before sbatch gave up, Refresh finds it
    // untracked and cancels it.
    Note(ref, fmt::format("sbatch failed: {}", std::string(id.status().message())));
    after.outcome = {false, 1, 0};
    return;
  }
  after.slurm_id = *id;
  fmt::print("stargate slurm {}: job {} attempt {} is Slurm job {} on {}\n", o_.batch.site, ref.job, ref.attempt, *id,
             nodes);
  std::fflush(stdout);
  if (after.stop_wanted.has_value()) {  // stopped while sbatch ran
    const Time when = *after.stop_wanted;
    after.stop_wanted.reset();
    lock.unlock();
    Stop("", ref, when, Duration::Zero());
    lock.lock();
  }
}

void SlurmRunner::Refresh(Time now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Also with nothing tracked: an untracked batch job of the site is found.
    if (refreshing_ || (refreshed_.has_value() && now - *refreshed_ < o_.refresh)) return;
    refreshing_ = true;
    refreshed_ = now;
  }
  StatusOr<std::vector<SlurmJob>> jobs = slurm_->Jobs();  // outside the lock: it may take a while
  std::vector<uint64_t> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    refreshing_ = false;
    if (!jobs.ok()) {  // slurmctld away: the jobs keep their last known state
      if (!warned_) std::cerr << "stargate slurm " << o_.batch.site << ": " << jobs.status().message() << "\n";
      warned_ = true;
      return;
    }
    warned_ = false;
    orphans = Apply(*jobs);
  }
  for (uint64_t id : orphans) slurm_->Cancel(id, false).IgnoreError();
}

bool SlurmRunner::Ours(const SlurmJob& j) const {
  return j.comment == SlurmComment(o_.batch.site, o_.batch.driver) && j.uid == o_.uid;
}

std::vector<uint64_t> SlurmRunner::Apply(const std::vector<SlurmJob>& jobs) {
  std::map<uint64_t, const SlurmJob*> by_id;
  std::set<uint64_t> tracked;
  for (const SlurmJob& j : jobs) by_id[j.id] = &j;
  for (auto& [ref, g] : gangs_) {
    if (g.slurm_id != 0) tracked.insert(g.slurm_id);
    if (g.slurm_id == 0 || !g.outcome.running) continue;
    auto it = by_id.find(g.slurm_id);
    if (it == by_id.end()) {
      // Purged (MinJobAge) or lost with slurmctld's state: it ended, how is unknown.
      if (++g.unseen >= 3) {
        Note(ref, fmt::format("Slurm no longer knows job {}; counted as lost", g.slurm_id));
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
  // This driver's batch jobs that nothing tracks run unseen: cancel them.
  // Not one whose sbatch is under way (its id is not known yet).
  std::vector<uint64_t> orphans;
  for (const SlurmJob& j : jobs) {
    const std::optional<TaskRef> ref = TaskOfSlurmJobName(j.name);
    if (tracked.count(j.id) || !ref.has_value() || !Ours(j) || !OutcomeOf(j).running) continue;
    if (auto g = gangs_.find(*ref); g != gangs_.end() && g->second.submitting) continue;
    std::cerr << fmt::format("stargate slurm {}: Slurm job {} ({}) is not tracked; cancelling it\n", o_.batch.site,
                             j.id, j.name);
    orphans.push_back(j.id);
  }
  return orphans;
}

void SlurmRunner::Stop(const std::string&, const TaskRef& ref, Time now, Duration grace) {
  uint64_t id = 0;
  bool kill = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = gangs_.find(ref);
    if (it == gangs_.end() || !it->second.outcome.running) return;
    Gang& g = it->second;
    if (g.submitting) {  // cancelled once sbatch has said which job it is
      if (!g.stop_wanted.has_value()) g.stop_wanted = now;
      return;
    }
    if (g.slurm_id == 0) {  // still gathering its ranks: nothing runs yet
      g.arrived.clear();
      g.outcome = {false, 0, SIGTERM};
      return;
    }
    if (!g.stop_sent.has_value()) {
      g.stop_sent = now;
    } else if (!g.killed && now - *g.stop_sent >= (grace > Duration::Zero() ? grace : o_.stop_grace)) {
      g.killed = true;
      kill = true;
    } else {
      return;
    }
    id = g.slurm_id;
  }
  if (Status st = slurm_->Cancel(id, kill); !st.ok()) Note(ref, std::string(st.message()));  // outside the lock
}

std::vector<TaskReport> SlurmRunner::Poll(const std::string& node, Time) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TaskReport> out;
  for (const auto& [ref, g] : gangs_) {
    if (std::find(g.nodes.begin(), g.nodes.end(), node) == g.nodes.end() || g.forgotten.count(node)) continue;
    // A node reports a rank only once it reached the runner (a gathering
    // gang must not hide a rank whose start is still on its way: the
    // server would never resend it), or once the gang runs in Slurm.
    if (g.slurm_id == 0 && !g.adopted && !g.started.count(node)) continue;
    out.push_back({ref, g.outcome.running, g.outcome.exit_code, g.outcome.signal, false,
                   g.cap_asked ? TaskReport::Cap::kNotEnforced : TaskReport::Cap::kNone});
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
    if (!g.forgotten.count(n) && (g.slurm_id != 0 || g.adopted || g.started.count(n))) return;
  }
  std::error_code ec;
  std::filesystem::remove(NodesFile(ref), ec);
  gangs_.erase(it);
}

}  // namespace stargate::control
