#include "control/server/reconciler.h"

#include <absl/strings/str_join.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "control/server/checkpoint_replicator.h"
#include "control/server/live_cluster.h"
#include "model/checkpoint.h"
#include "model/failure.h"
#include "model/power.h"
#include "model/power_cap.h"
#include "sched/placement.h"
#include "sched/request_of.h"
#include "sched/site_score.h"

namespace stargate::control {
namespace {

// The attempt's power ramp (sched/power_ramp.h), as its Start gave it.
sched::RampSlot RampOf(const JobRecord& r) {
  return sched::RampSlot{std::max(Duration::Zero(), r.launch_at - r.started), r.ramp_hold, r.ramp_up};
}

// A ramped start computes from its launch, slowly at first: the time the
// twin counts lost to it, not the job's own run time.
Duration RampWait(const JobRecord& r) { return RampOf(r).Lost(); }

// As a shell reports it: 0-255, 128 + N for signal N. Clamped, because it
// comes from the network and the negative sentinels mean "running"/"lost".
int ExitStatus(const TaskReport& t) {
  if (t.signal != 0) return 128 + std::clamp(t.signal, 1, 127);
  return t.exit_code >= 0 && t.exit_code <= 255 ? t.exit_code : 255;
}

}  // namespace

TenantId Reconciler::TenantOf(const std::string& name) {
  auto [it, added] =
      tenants_.try_emplace(name, TenantId(static_cast<uint16_t>(std::min<size_t>(tenants_.size(), 65534))));
  return it->second;
}

std::map<std::string, std::string> Reconciler::TaskEnv(const JobRecord& r, int rank) const {
  std::map<std::string, std::string> env = r.spec.env;
  const int world = static_cast<int>(r.nodes.size());
  // Inside the tenant's area (checkpoint.dir is relative to it: the parser
  // refuses '/' and '..'), so no job names another tenant's checkpoints;
  // the area is in the checkpoint store of the rank's site (the root its
  // node declared), else in the server's data dir (one machine).
  const NodeInfo* node = rank < static_cast<int>(r.nodes.size()) ? nodes_->Find(r.nodes[rank]) : nullptr;
  const std::string root = node != nullptr && !node->checkpoint_root.empty() ? node->checkpoint_root
                                                                             : fmt::format("{}/checkpoints", data_dir_);
  const std::string area = fmt::format("{}/{}", root, r.spec.spec.tenant);
  const std::string ckpt = JobCheckpointDir(root, r);
  const std::map<std::string, std::string> ours = {
      // torchrun conventions, one process per node (a torchrun inside the
      // command takes NNODES / NODE_RANK / MASTER_* instead).
      {"RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(world)},
      {"LOCAL_RANK", "0"},
      {"LOCAL_WORLD_SIZE", "1"},
      {"NODE_RANK", std::to_string(rank)},
      {"NNODES", std::to_string(world)},
      {"MASTER_ADDR", r.master_addr},
      {"MASTER_PORT", std::to_string(r.master_port)},
      {"STARGATE_JOB_ID", std::to_string(r.id)},
      {"STARGATE_JOB_NAME", r.spec.spec.name},
      {"STARGATE_TENANT", r.spec.spec.tenant},
      {"STARGATE_ATTEMPT", std::to_string(r.attempt)},
      {"STARGATE_RESTART_COUNT", std::to_string(r.restarts)},
      {"STARGATE_CHECKPOINT_DIR", ckpt},
      {"STARGATE_CHECKPOINT_AREA", area},  // the tenant's: its agents make it the tenant user's
      {"STARGATE_ACCELERATORS_PER_NODE", std::to_string(r.spec.spec.per_node)},
      // A share of one device: the slot its agent maps to one device, and
      // the share (always set, empty for whole devices, so no job's own env
      // can name another job's slot).
      {"STARGATE_GPU_SHARE_SLOT", r.spec.spec.share_milli > 0 ? std::to_string(r.share_slot) : ""},
      {"STARGATE_GPU_SHARE",
       r.spec.spec.share_milli > 0 ? fmt::format("{:.3f}", r.spec.spec.share_milli / 1000.0) : ""},
      // The gang's nodes in rank order: a Slurm site driver submits the
      // ranks on its nodes as one batch job.
      {"STARGATE_NODES", absl::StrJoin(r.nodes, ",")},
      // Seconds between checkpoints the job should aim for (Daly's optimum
      // for `interval: auto`).
      {"STARGATE_CHECKPOINT_INTERVAL_S", std::to_string(std::max<int64_t>(1, CheckpointInterval(r).millis() / 1000))},
  };
  for (const auto& [k, v] : ours) env[k] = v;  // ours win: ranks must be right
  // How many checkpoints the job's own pruning keeps (checkpoint.keep, as
  // copies to other sites keep): its env may say otherwise.
  env.try_emplace("STARGATE_CHECKPOINT_KEEP", std::to_string(r.spec.checkpoint_keep));
  // Where each registered dataset the job reads lies at this rank's site
  // (`stargate data register --path`): STARGATE_DATA_<NAME>, the name upper
  // case with '.' and '-' as '_'. Unset where the site holds no copy.
  if (datasets_ != nullptr && node != nullptr) {
    for (const DataInput& in : r.spec.spec.inputs) {
      const Dataset* d = in.registered() ? datasets_->Find(r.spec.spec.tenant, in.name) : nullptr;
      if (d == nullptr) continue;
      for (const DatasetCopy& c : d->copies) {
        if (c.site != node->site) continue;
        std::string var = "STARGATE_DATA_";
        for (const char ch : in.name) {
          var += std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::toupper(ch)) : '_';
        }
        env[var] = c.path;
      }
    }
  }
  if (r.array_id != 0) {
    // An array element: its index, and the names a Slurm array's scripts
    // read (sbatch(1), OUTPUT ENVIRONMENT VARIABLES) for the same values.
    const JobArray& a = r.spec.array;
    const std::pair<std::string_view, std::string> array[] = {
        {"ARRAY_JOB_ID", std::to_string(r.array_id)},   {"ARRAY_TASK_ID", std::to_string(r.array_index)},
        {"ARRAY_TASK_COUNT", std::to_string(a.size())}, {"ARRAY_TASK_MIN", std::to_string(a.min())},
        {"ARRAY_TASK_MAX", std::to_string(a.max())},
    };
    for (const auto& [name, value] : array) env[fmt::format("SLURM_{}", name)] = value;
    env["STARGATE_ARRAY_ID"] = std::to_string(r.array_id);
    env["STARGATE_ARRAY_INDEX"] = std::to_string(r.array_index);
    env["STARGATE_ARRAY_SIZE"] = std::to_string(a.size());
  }
  return env;
}

Status Reconciler::StopAttempt(JobRecord& r, const std::string& reason, Time now) {
  r.stopping = true;
  r.stop_since = now;
  r.reason = reason;
  SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
  return RequeueIfDrained(r, now);
}

bool Reconciler::Drained(const JobRecord& r, Time now) const {
  for (size_t rank = 0; rank < r.nodes.size(); ++rank) {
    if (r.exits[rank] == JobRecord::kRunningExit && nodes_->Alive(r.nodes[rank], now)) return false;
  }
  return true;
}

Status Reconciler::RequeueIfDrained(JobRecord& r, Time now) {
  // A gang being repaired waits, drained, for the next pass to find spares.
  if (r.repairing || !Drained(r, now)) return Status();
  return Requeue(r);
}

Status Reconciler::Requeue(JobRecord& r) {
  r.state = JobState::kPending;
  r.stopping = false;
  r.repairing = false;
  r.stop_grace = Duration::Zero();
  r.queued = clock_->Now();
  ++r.restarts;
  r.nodes.clear();
  r.exits.clear();
  SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
  return Status();
}

void Reconciler::NoteFall(const JobRecord& r, const std::string& node, Time now) {
  const sched::RampSlot slot = RampOf(r);
  // Given no ramp (a share, or a start at a site with no limit): no fall.
  // (Not slot.ramped(): `after` can be a stored time's rounding.)
  if (r.ramp_hold + r.ramp_up <= Duration::Zero()) return;
  auto [it, first] = fallen_.try_emplace(r.id, r.attempt);
  if (!first && it->second == r.attempt) return;  // once per attempt: its first rank to end
  it->second = r.attempt;
  const NodeInfo* info = nodes_->Find(node);
  if (info == nullptr) return;
  // Its ranks that still draw (a lost node's does not), as the twin's
  // survivors.
  const auto drawing = std::count_if(r.exits.begin(), r.exits.end(), [](int e) { return e != JobRecord::kLostExit; });
  const sched::Rise rise = sched::GangRise(info->accelerator, static_cast<int64_t>(drawing) * r.spec.spec.per_node,
                                           sched::UtilisationOf(r.spec.spec.kind), r.power_cap, 1.0);
  falls_.push_back(
      Fall{TaskRef{r.id, r.attempt}, r.nodes, info->site, sched::DrawnAt(rise, slot, now - r.started), now});
}

void Reconciler::TakeFallTurns(Time now) {
  // Turns long past: a rank that ends later falls at once (FallTurnOf).
  std::erase_if(fall_turns_, [&](const auto& t) { return t.second.at + sched::kMaxFallWait < now; });
  if (falls_.empty()) return;
  const LiveCluster& cluster = Cluster();
  for (const Fall& f : std::exchange(falls_, {})) {
    const auto id = cluster.site_ids.find(f.site);
    if (id == cluster.site_ids.end()) continue;
    const SiteSpec* spec = &cluster.sites[id->second];
    // PUE applies at the site, as the twin's rise does.
    const Duration wait =
        ramp_channels_.Fall(f.site, sched::Rise{f.drawn.step_w * spec->pue, f.drawn.ramp_w * spec->pue},
                            spec->power_ramp.RateWattsPerSecond(), f.at);
    fall_turns_[f.task] = FallTurn{f.at + wait, f.nodes};
  }
}

std::optional<Duration> Reconciler::FallTurnOf(const TaskRef& task, const std::string& node, Time now) const {
  auto part_of = [&](const std::vector<std::string>& nodes) {
    return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
  };
  if (auto it = fall_turns_.find(task); it != fall_turns_.end()) {
    return part_of(it->second.nodes) ? std::max(Duration::Zero(), it->second.at - now) : Duration::Zero();
  }
  const auto noted = std::find_if(falls_.begin(), falls_.end(), [&](const Fall& f) { return f.task == task; });
  if (noted != falls_.end() && part_of(noted->nodes)) return std::nullopt;
  return Duration::Zero();
}

Status Reconciler::BeginAttempt(JobRecord& r, Time now) {
  r.state = JobState::kRunning;
  r.stopping = false;
  r.repairing = false;
  ++r.attempt;
  if (r.attempt == 1 && metrics_ != nullptr) {
    metrics_->queue_wait.Observe(std::max(Duration::Zero(), now - r.submitted).seconds());
  }
  r.exits.assign(r.nodes.size(), JobRecord::kRunningExit);
  r.master_addr = nodes_->Find(r.nodes[0])->address;
  // Below Linux's ephemeral range (32768+), where outgoing connections
  // would collide with it.
  r.master_port = 20000 + static_cast<int>((r.id * 31 + r.attempt) % 12000);
  r.started = now;
  r.stop_grace = Duration::Zero();
  r.checkpoint_interval = PlanCheckpointInterval(r);
  SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
  return Status();
}

// Marks a reason set while a job waits for its silent site.
constexpr std::string_view kSilentSitePrefix = "waiting: ";

Status Reconciler::FailLostGangs(PassJobs& jobs, Time now) {
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].state != JobState::kRunning) continue;
    JobRecord& r = jobs.Mut(i);  // few: the pass lists only running jobs with something to look at
    if (r.stopping) {            // draining: requeue once its live ranks have stopped
      SG_RETURN_IF_ERROR(RequeueIfDrained(r, now));
      continue;
    }
    bool waiting = false;  // on a silent site, within the grace
    std::string silent_site;
    for (size_t rank = 0; rank < r.nodes.size() && !r.stopping; ++rank) {
      if (r.exits[rank] != JobRecord::kRunningExit || nodes_->Alive(r.nodes[rank], now)) continue;
      const NodeInfo* info = nodes_->Find(r.nodes[rank]);
      if (info != nullptr && options_.site_partition_grace > Duration::Zero()) {
        const std::optional<Time> since = nodes_->CutOffSince(r.nodes[rank], now);
        if (since.has_value() && now - *since <= options_.site_partition_grace) {
          waiting = true;
          silent_site = info->site;
          continue;
        }
        // Its site may be going silent too: look again next pass.
        if (!since.has_value() && nodes_->MaybeCutOff(r.nodes[rank], now)) continue;
      }
      r.exits[rank] = JobRecord::kLostExit;
      // A gang keeps its other nodes and gets a spare for the lost one
      // (PlaceRepairs); a single node has nothing to keep.
      // (Not for a gang spread over sites: the spare would be in a
      // survivor's site.)
      r.repairing = options_.gang_repair && r.nodes.size() > 1 && !r.spec.spec.spread_sites;
      SG_RETURN_IF_ERROR(StopAttempt(r,
                                     fmt::format("node {} (rank {}) missed its heartbeats; restarting from the "
                                                 "last checkpoint{}",
                                                 r.nodes[rank], rank, r.repairing ? " with a spare in its place" : ""),
                                     now));
      break;
    }
    // Say once that the job waits for its site, and once that it is back.
    if (r.stopping) continue;
    const std::string note =
        waiting ? fmt::format(
                      "{}site {} is unreachable (all its nodes silent): its ranks keep running; restarting "
                      "elsewhere if it is not back within {} s",
                      kSilentSitePrefix, silent_site, options_.site_partition_grace.millis() / 1000)
                : std::string();
    const bool was_waiting = r.reason.rfind(kSilentSitePrefix, 0) == 0;
    if (waiting && r.reason != note) {
      r.reason = note;
      SG_RETURN_IF_ERROR(Audit(now, "wait-site", r.id, note.substr(kSilentSitePrefix.size())));
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
    } else if (!waiting && was_waiting) {
      r.reason = "its site is reachable again; the attempt goes on";
      SG_RETURN_IF_ERROR(Audit(now, "site-back", r.id, r.reason));
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
    }
  }
  return Status();
}

Status Reconciler::Schedule(PassJobs& jobs, Time now) {
  // A drained gang waiting for spares for its lost nodes.
  // Not while a restarted server still counts every node alive: a dead
  // node would be taken for a spare.
  auto awaits_repair = [&](const JobRecord& r) {
    return r.state == JobState::kRunning && r.repairing && !nodes_->InGrace(now) && Drained(r, now);
  };
  PrunePredictions(jobs);  // `jobs` are all that may still run
  if (!ramps_seeded_) {
    // A restarted server: the rises its predecessor planned still run.
    ramps_seeded_ = true;
    for (const JobRecord& r : jobs) {
      const sched::RampSlot slot = RampOf(r);
      if (r.state != JobState::kRunning || !slot.ramped() || r.nodes.empty()) continue;
      if (const NodeInfo* info = nodes_->Find(r.nodes[0]); info != nullptr) {
        ramp_channels_.Reserve(info->site, r.started + slot.after + slot.hold + slot.up);
      }
    }
  }
  // Nothing waits: skip building the cluster view (10k nodes cost ~ms).
  if (std::none_of(jobs.begin(), jobs.end(),
                   [&](const JobRecord& r) { return r.state == JobState::kPending || awaits_repair(r); })) {
    return Status();
  }
  PredictAll(jobs);  // one batch through the model when it has changed
  const LiveCluster& c = Cluster();
  if (c.node_names.empty()) return Status();
  sched::ClusterState& state = KeptView(c);
  // A node that went silent reports its stale tasks afresh when it is back.
  for (auto it = stale_.begin(); it != stale_.end();) {
    it = nodes_->Alive(it->first, now) ? std::next(it) : stale_.erase(it);
  }
  sched::Queue queue;
  if (scheduler_->UsesTenantOrder()) queue.KeepTenantOrder();
  queue.Reserve(jobs.size());
  std::vector<sched::RunningGang> gangs;  // what holds devices now, in job order
  LayWork(state, c, jobs, now, &view_nodes_, &gangs);
  // Gangs as the last pass left them are not laid again: their calendar
  // entries and tenants' usage stay as they were.
  std::unordered_set<uint32_t> now_running;
  now_running.reserve(gangs.size());
  for (const sched::RunningGang& g : gangs) {
    now_running.insert(g.job.value());
    const sched::RunningGang* kept = state.Running(g.job);
    if (kept == nullptr || !(*kept == g)) state.AddRunning(g);  // (replacing what changed)
  }
  for (JobId j : view_gangs_) {
    if (!now_running.count(j.value())) state.RemoveRunning(j);
  }
  view_gangs_.clear();
  for (const sched::RunningGang& g : gangs) view_gangs_.push_back(g.job);
  state.RecountTenants(view_gangs_);  // summed in job order, as a view built afresh does
  SetSiteSignals(state, now);
  if (options_.check_kept_view) CheckKeptView(c, jobs, now);
  std::map<uint64_t, std::vector<size_t>> lost_ranks;  // gangs asking for spares
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobRecord& r = jobs[i];
    if (awaits_repair(r)) {
      std::vector<size_t> lost;
      std::optional<NodeId> survivor;
      for (size_t rank = 0; rank < r.nodes.size(); ++rank) {
        const bool gone = r.exits[rank] == JobRecord::kLostExit || !nodes_->Alive(r.nodes[rank], now);
        if (gone) {
          lost.push_back(rank);
        } else if (auto it = c.node_ids.find(r.nodes[rank]); it != c.node_ids.end()) {
          survivor = NodeId(it->second);
        }
      }
      if (!survivor.has_value() || lost.empty()) {  // nothing to keep (or nothing lost): start over
        JobRecord& m = jobs.Mut(i);
        m.reason += "; no node of the gang is left, requeued";
        SG_RETURN_IF_ERROR(Requeue(m));
      } else {
        sched::JobRequest req = RequestOf(r, state);
        req.repair_pool = state.PoolOf(*survivor);
        req.per_node = r.spec.spec.per_node;
        for (size_t rank : lost) req.repair.push_back(NodeId(c.node_ids.at(r.nodes[rank])));
        lost_ranks[r.id] = std::move(lost);
        queue.Push(std::move(req));
        continue;
      }
    }
    if (r.state != JobState::kPending) continue;
    if (r.deferred_until > now) continue;  // out of the queue until its hour, as in the twin
    if (std::optional<std::string> held = hold_gate_ ? hold_gate_(r, now) : std::nullopt) {
      if (r.reason != *held) {
        JobRecord& m = jobs.Mut(i);
        m.reason = *std::move(held);
        SG_ASSIGN_OR_RETURN(m, jobs_->Update(m));
      }
      continue;
    }
    queue.Push(RequestOf(r, state));
  }
  if (queue.empty()) return Status();
  sched::Decisions decisions = scheduler_->Schedule(state, queue, now);
  ramp_channels_.Choreograph(state, queue, now, &decisions);
  std::set<uint64_t> preempted;  // a gang under repair may be chosen as a victim too
  for (const sched::Decision& d : decisions.items) {
    if (const auto* p = std::get_if<sched::Preempt>(&d)) preempted.insert(p->job.value());
  }
  std::map<uint64_t, std::vector<std::string>> repaired;  // "lost -> spare", per gang
  std::map<uint64_t, const sched::Repair*> ramp_of;       // its restart's power ramp
  for (const sched::Decision& d : decisions.items) {
    const auto* rp = std::get_if<sched::Repair>(&d);
    if (rp == nullptr || !lost_ranks.count(rp->job.value()) || preempted.count(rp->job.value())) continue;
    ramp_of[rp->job.value()] = rp;
    JobRecord& r = jobs.MutId(rp->job.value());
    auto pos = std::find(r.nodes.begin(), r.nodes.end(), c.node_names[rp->failed.value()]);
    // One rank per node: a survivor with devices to spare is no spare.
    if (pos == r.nodes.end() ||
        std::find(r.nodes.begin(), r.nodes.end(), c.node_names[rp->spare.value()]) != r.nodes.end()) {
      continue;
    }
    repaired[r.id].push_back(fmt::format("{} -> {}", *pos, c.node_names[rp->spare.value()]));
    *pos = c.node_names[rp->spare.value()];
  }
  for (auto& [id, lost] : lost_ranks) {
    JobRecord& r = jobs.MutId(id);
    if (repaired[id].size() == lost.size()) {  // every lost node has a spare: restart in place
      ++r.restarts;
      r.reason = fmt::format("gang repaired in place ({}); restarting from the last checkpoint",
                             fmt::join(repaired[id], ", "));
      // Its restart ramped as a start is (sched/power_ramp.h).
      const auto ramp = ramp_of.find(id);
      const sched::Repair none{};
      const sched::Repair& rp = ramp != ramp_of.end() ? *ramp->second : none;
      r.launch_at = now + rp.ramp_after;
      r.ramp_hold = rp.ramp_hold;
      r.ramp_up = rp.ramp_up;
      SG_RETURN_IF_ERROR(BeginAttempt(r, now));
      SG_RETURN_IF_ERROR(Audit(now, "repair", r.id, r.reason));
    } else {
      SG_ASSIGN_OR_RETURN(r, jobs_->Get(id));  // undo the partial swap
      r.reason += preempted.count(id) ? "; preempted while under repair, requeued" : "; no spare in its pool, requeued";
      SG_RETURN_IF_ERROR(Requeue(r));
    }
  }
  SG_RETURN_IF_ERROR(ApplyDecisions(decisions, c.node_names, jobs, now));
  // The jobs the scheduler decided something for; the others wait.
  std::set<uint64_t> decided;
  for (const sched::Decision& d : decisions.items) {
    std::visit([&](const auto& x) { decided.insert(x.job.value()); }, d);
  }
  SG_RETURN_IF_ERROR(NotePowerHolds(state, queue, decided, jobs, now));
  return ExplainWaits(state, queue, decided, jobs, now);
}

namespace {
constexpr std::string_view kWaitingFor = "waiting for ";
constexpr std::string_view kWaitingTurn = "waiting its turn: ";
}  // namespace

Status Reconciler::ExplainWaits(const sched::ClusterState& state, const sched::Queue& queue,
                                const std::set<uint64_t>& decided, PassJobs& jobs, Time now) {
  int explained = 0;
  std::map<uint64_t, Time> since;               // this pass's first ones
  for (const sched::JobRequest& req : queue) {  // in queue order: the first ones are the ones people ask about
    if (explained >= kExplainedPerPass) break;
    if (decided.count(req.id.value())) continue;
    const size_t at = jobs.IndexOf(req.id.value());
    if (at == jobs.size()) continue;
    const JobRecord& r = jobs[at];
    // A reason that says more (a deferral, a power hold, a silent site, a
    // reject grace, why it was requeued) is kept.
    if (r.state != JobState::kPending ||
        !(r.reason == "submitted" || r.reason.starts_with(kWaitingFor) || r.reason.starts_with(kWaitingTurn))) {
      continue;
    }
    ++explained;
    auto was = unexplained_since_.find(r.id);
    const Time first = was != unexplained_since_.end() ? was->second : now;
    since[r.id] = first;
    if (now - first < kExplainAfter) continue;
    std::string types;
    for (AcceleratorType t : r.spec.spec.accelerators) types += (types.empty() ? "" : "|") + std::string(Name(t));
    // The allowed pool with the most nodes that could take a rank now.
    int64_t best = 0, sites_with_one = 0;
    std::string best_site;
    sched::GangShape shape = sched::ShapeFor(req, 1);
    std::set<uint16_t> counted_sites;
    for (size_t i = 0; i < state.pools().size(); ++i) {
      const PoolId p(static_cast<uint16_t>(i));
      if (!sched::PoolAllows(state, p, req)) continue;
      const sched::PoolState& pool = state.pool(p);
      const sched::GangShape here = sched::ShapeFor(req, pool.per_node);
      const int64_t n = pool.NodesWithFree(here.per_node);
      if (n > 0 && counted_sites.insert(pool.site.value()).second) ++sites_with_one;
      if (n > best || best_site.empty()) {
        best = n;
        best_site = state.site(pool.site).name;
        shape = here;
      }
    }
    std::string why;
    if (req.spread_sites) {
      why = sites_with_one < shape.nodes
                ? fmt::format("{}one node with {} free {} in each of {} sites: {} site(s) have one now", kWaitingFor,
                              shape.per_node, types, shape.nodes, sites_with_one)
                : fmt::format("{}sites have room, held for jobs ahead of it (priority, fair share or a reservation)",
                              kWaitingTurn);
    } else if (best < shape.nodes) {
      why = fmt::format("{}{} node(s) with {} free {} in one site: the best site{} has {} now", kWaitingFor,
                        shape.nodes, shape.per_node, types, best_site.empty() ? "" : " (" + best_site + ")", best);
    } else {
      why = fmt::format("{}{} has room, held for jobs ahead of it (priority, fair share or a reservation)",
                        kWaitingTurn, best_site);
    }
    if (r.reason != why) {  // written when it changes, not every pass
      JobRecord& m = jobs.Mut(at);
      m.reason = why;
      SG_ASSIGN_OR_RETURN(m, jobs_->Update(m));
    }
  }
  unexplained_since_ = std::move(since);
  return Status();
}

void Reconciler::LayWork(sched::ClusterState& state, const LiveCluster& c, PassJobs& jobs, Time now,
                         std::vector<uint32_t>* laid, std::vector<sched::RunningGang>* gangs) {
  for (const auto& [node, tasks] : stale_) {  // see OnHeartbeat
    auto it = c.node_ids.find(node);
    if (it == c.node_ids.end()) continue;
    for (const auto& [ref, devices] : tasks) {
      const int take = std::min(devices, state.FreeOn(NodeId(it->second)));
      if (take > 0) {
        state.Allocate(NodeId(it->second), take);
        laid->push_back(it->second);
      }
    }
  }
  for (const JobRecord& r : jobs) {
    if (!r.nodes.empty()) {  // running, or ended with ranks still stopping
      int64_t devices = 0;
      bool share = false;  // a share of one device, held
      // A gang under repair keeps its surviving nodes, drained or not.
      const bool repairing = r.state == JobState::kRunning && r.repairing;
      for (size_t rank = 0; rank < r.nodes.size(); ++rank) {
        auto it = c.node_ids.find(r.nodes[rank]);
        if (it == c.node_ids.end()) continue;
        const bool holds = repairing ? r.exits[rank] != JobRecord::kLostExit && nodes_->Alive(r.nodes[rank], now)
                                     : r.exits[rank] == JobRecord::kRunningExit;
        if (!holds) continue;
        const NodeId n(it->second);
        if (r.spec.spec.share_milli > 0) {  // its slot, opened by its first share
          if (state.ShareUsed(n, r.share_slot) > 0 || state.FreeOn(n) > 0) {
            state.AddShare(n, r.share_slot, r.spec.spec.share_milli);
            laid->push_back(n.value());
            share = true;
          }
          continue;
        }
        const int take = std::min(r.spec.spec.per_node, state.FreeOn(n));
        if (take > 0) {
          state.Allocate(n, take);
          laid->push_back(n.value());
        }
        devices += take;
      }
      // A gang over several pools (spread over sites) has no one pool for
      // the release calendar: its devices are held, its end is not known.
      if ((devices > 0 || share) && !r.nodes.empty() && !r.spec.spec.spread_sites) {
        const Duration ramp = RampWait(r);
        sched::RunningGang g = sched::RunningGang::Ending(
            JobId(static_cast<uint32_t>(r.id)), state.PoolOf(NodeId(c.node_ids.at(r.nodes[0]))), devices,
            r.started + ramp + Duration::Millis(static_cast<int64_t>(EstimateOf(r).seconds() * 1e3)));
        g.priority = r.spec.spec.priority;
        g.tenant = TenantOf(r.spec.spec.tenant);
        if (share) {
          g.share = r.spec.spec.share_milli / 1000.0;
          g.share_node = NodeId(c.node_ids.at(r.nodes[0]));
          g.share_slot = r.share_slot;
        }
        g.checkpoint_origin = r.started + ramp;
        g.checkpoint_period = r.spec.spec.checkpoint.enabled ? CheckpointInterval(r) : Duration::Zero();
        if (r.stopping && r.stop_grace > Duration::Zero()) {
          // Preempted: its devices come back when its warning ends (or it
          // ends first), as the policy and the twin expect of a victim.
          g.draining = true;
          g.expected_end = std::min(g.expected_end, r.stop_since + r.stop_grace);
        }
        gangs->push_back(g);
      }
    }
  }
  // The nodes that may not be ready (silent, or not reported since they
  // registered), not every node: the registry keeps that set.
  nodes_->ForEachMaybeNotReady([&](const std::string& name) {
    if (nodes_->Ready(name, now)) return;
    auto id = c.node_ids.find(name);
    if (id == c.node_ids.end()) return;
    const NodeId i(id->second);
    // No new work on it: down when nothing holds it, else its free devices
    // are taken (a silent node whose ranks wait out a site partition, one
    // just back that has not reported yet).
    laid->push_back(i.value());
    if (state.FreeOn(i) == state.pool(state.PoolOf(i)).per_node) {
      state.SetNodeUp(i, false);
    } else {
      if (state.FreeOn(i) > 0) state.Allocate(i, state.FreeOn(i));
      state.FillShares(i);  // nor into its shared devices
    }
  });
}

sched::ClusterState& Reconciler::KeptView(const LiveCluster& c) {
  if (view_ == nullptr || view_build_ != cluster_builds_ || !options_.keep_view) {
    view_ = std::make_unique<sched::ClusterState>(c.sites);
    view_build_ = cluster_builds_;
    view_gangs_.clear();
  } else {
    // A node laid twice is put back once: the second reset finds it as built.
    for (uint32_t n : view_nodes_) view_->ResetNode(NodeId(n));
  }
  view_nodes_.clear();
  return *view_;
}

void Reconciler::CheckKeptView(const LiveCluster& c, PassJobs& jobs, Time now) {
  sched::ClusterState fresh(c.sites);
  std::vector<uint32_t> laid;
  std::vector<sched::RunningGang> gangs;
  LayWork(fresh, c, jobs, now, &laid, &gangs);
  for (const sched::RunningGang& g : gangs) fresh.AddRunning(g);
  if (!view_->SameAs(fresh)) {
    // A tripwire for tests (the option is theirs): fail loudly, not in a log.
    fmt::print(stderr, "stargate server: the kept scheduler view differs from one built afresh\n");
    std::abort();
  }
}

const LiveCluster& Reconciler::Cluster() {
  if (!cluster_built_ || cluster_version_ != nodes_->version()) {
    cluster_ = BuildCluster(nodes_->nodes(), options_.hot_spares, options_.sites.get());
    cluster_version_ = nodes_->version();
    cluster_built_ = true;
    ++cluster_builds_;
  }
  return cluster_;
}

std::optional<std::string> Reconciler::NeverRuns(const JobSpec& spec) {
  const LiveCluster& c = Cluster();
  if (c.node_names.empty()) return std::nullopt;
  if (fit_state_ == nullptr || fit_build_ != cluster_builds_) {  // built once per change of the nodes
    fit_state_ = std::make_unique<sched::ClusterState>(c.sites);
    fit_build_ = cluster_builds_;
  }
  const sched::JobRequest req = sched::RequestOf(spec, *fit_state_, sched::JobContext{});
  const std::optional<sched::Reject> never =
      req.spread_sites ? sched::NeverFitsSpread(*fit_state_, req) : sched::NeverFits(*fit_state_, req);
  if (!never.has_value()) return std::nullopt;
  return never->reason;
}

Reconciler::NodeDraw Reconciler::ReckonNode(const std::string& name, Time now) const {
  NodeDraw out;
  const NodeInfo* n = nodes_->Find(name);
  if (n == nullptr) return out;
  out.site = n->site;
  const NodeTelemetry* t = nodes_->FindTelemetry(name);
  if (t == nullptr || !nodes_->Alive(*t, now)) return out;  // a silent node is not counted (nor known)
  // What its running ranks hold, and at what utilisation and cap (the cut
  // of a cap its agent said holds): live jobs first, then ended ones whose
  // ranks still run, each in id order.
  double busy = 0, util_sum = 0, cut_w = 0;
  DeviceTally held;  // a shared device busy once (as the twin counts it)
  if (const std::set<uint64_t>* ids = jobs_->RunningOnRef(name)) {
    for (const bool ended : {false, true}) {
      for (uint64_t id : *ids) {
        const JobRecord* r = jobs_->Peek(id);
        if (r == nullptr || IsFinal(r->state) != ended) continue;
        const float util = sched::UtilisationOf(r->spec.spec.kind);
        for (size_t rank = 0; rank < r->nodes.size() && rank < r->exits.size(); ++rank) {
          if (r->exits[rank] != JobRecord::kRunningExit || r->nodes[rank] != name) continue;
          // A share draws its part of its slot's device, which is busy.
          const bool share = r->spec.spec.share_milli > 0;
          const double take =
              share ? (busy + held.Peek(name, *r) > n->accelerators ? 0 : r->spec.spec.share_milli / 1000.0)
                    : std::min<double>(r->spec.spec.per_node, n->accelerators - busy);
          if (take <= 0) continue;
          busy += share ? held.Add(name, *r) : take;
          util_sum += take * util;
          auto cap = cap_state_.find({TaskRef{r->id, r->attempt}, name});
          if (r->power_cap > 0 && cap != cap_state_.end() && cap->second == TaskReport::Cap::kEnforced) {
            cut_w += take * model::PowerCapEffect(Spec(n->accelerator), util, r->power_cap).saved.value();
          }
        }
      }
    }
  }
  const AcceleratorSpec& spec = Spec(n->accelerator);
  // The catalog's figure for its busy and idle devices (device and host
  // share, linear in utilisation), less the cuts of enforced caps.
  auto linear = [&](auto power) {
    const double idle = power(spec, 0.0).value(), full = power(spec, 1.0).value();
    return n->accelerators * idle + util_sum * (full - idle);
  };
  const double estimate = linear(model::DevicePower) - cut_w;
  // A reading counts when it is higher: nvidia-smi's board power plus
  // the catalog's host share. The estimate covers what a reading lags
  // behind (ranks started since) and nodes without one. A reading that
  // is not a number, negative or past 1.5 x TDP per device is none.
  double measured = t->gpu_power_w;
  if (!std::isfinite(measured) || measured <= 0 || measured > 1.5 * n->accelerators * spec.tdp.value()) measured = 0;
  const double it_w = measured > 0 ? std::max(measured + linear(model::HostPower), estimate) : estimate;
  out.it_uw = std::llround(it_w * 1e6);
  out.source = measured > 0 ? NodeDraw::kMeasured : NodeDraw::kEstimated;
  return out;
}

void Reconciler::UpdateDraw(Time now) {
  std::set<std::string> dirty = jobs_->TakeTouchedNodes();
  for (const std::string& name : nodes_->TakeChanged()) dirty.insert(name);
  if (draw_full_) {
    for (const auto& [name, info] : nodes_->nodes()) dirty.insert(name);
    draw_full_ = false;
  }
  auto add = [&](const NodeDraw& d, int sign) {
    SiteSum& sum = site_sum_[d.site];
    sum.it_uw += sign * d.it_uw;
    sum.nodes += sign;
    sum.measured += sign * (d.source == NodeDraw::kMeasured);
    sum.estimated += sign * (d.source == NodeDraw::kEstimated);
    if (sum.nodes == 0) site_sum_.erase(d.site);
  };
  for (const std::string& name : dirty) {
    NodeDraw next = ReckonNode(name, now);
    auto old = node_draw_.find(name);
    if (old != node_draw_.end()) add(old->second, -1);
    if (next.site.empty()) {  // not a known node
      if (old != node_draw_.end()) node_draw_.erase(old);
      continue;
    }
    add(next, +1);
    node_draw_[name] = std::move(next);
  }
  site_draw_.clear();
  for (const auto& [site, sum] : site_sum_) {
    SiteDraw& d = site_draw_[site];
    d.it_w = static_cast<double>(sum.it_uw) / 1e6;
    d.measured_nodes = sum.measured;
    d.estimated_nodes = sum.estimated;
    const SiteInfo* info = options_.sites != nullptr ? options_.sites->Find(site) : nullptr;
    d.facility_w = model::FacilityPower(Watts(d.it_w), info != nullptr ? info->pue : SiteSpec{}.pue).value();
  }
  PruneCapReports(now);
}

void Reconciler::PruneCapReports(Time now) {
  if (cap_state_.empty() || now - caps_pruned_ < Duration::Seconds(10)) return;
  caps_pruned_ = now;
  std::erase_if(cap_state_, [&](const auto& e) {
    const JobRecord* r = jobs_->Peek(e.first.first.job);
    if (r == nullptr || r->attempt != e.first.first.attempt) return true;
    for (size_t rank = 0; rank < r->nodes.size() && rank < r->exits.size(); ++rank) {
      if (r->nodes[rank] == e.first.second && r->exits[rank] == JobRecord::kRunningExit) return false;
    }
    return true;
  });
}

void Reconciler::SetSiteSignals(sched::ClusterState& state, Time now) {
  for (size_t s = 0; s < state.sites().size(); ++s) {
    const sched::SiteState& site = state.site(SiteId(static_cast<uint16_t>(s)));
    sched::SiteSignals signals;
    if (options_.sites != nullptr) signals = options_.sites->GridAt(site.name, now).signals;
    auto d = site_draw_.find(site.name);
    signals.facility_w = d != site_draw_.end() ? d->second.facility_w : 0.0;
    state.SetSignals(SiteId(static_cast<uint16_t>(s)), signals);
  }
}

bool Reconciler::IsRankOf(const TaskRef& task, const std::string& node) {
  StatusOr<JobRecord> r = jobs_->Get(task.job);
  return r.ok() && r->attempt == task.attempt && std::find(r->nodes.begin(), r->nodes.end(), node) != r->nodes.end();
}

Status Reconciler::NotePowerHolds(const sched::ClusterState& state, const sched::Queue& queue,
                                  const std::set<uint64_t>& decided, PassJobs& jobs, Time now) {
  if (!scheduler_->HonoursPowerCaps()) return Status();
  if (std::none_of(state.sites().begin(), state.sites().end(),
                   [](const sched::SiteState& site) { return site.power_cap_w > 0; })) {
    return Status();
  }
  for (const sched::JobRequest& req : queue) {  // repairs excluded
    if (decided.count(req.id.value())) continue;
    // Held back by a cap alone: a pool with room whose site's draw plus
    // this start's would pass the cap. Said once per holding site.
    std::string why;
    for (size_t i = 0; i < state.pools().size() && why.empty(); ++i) {
      const PoolId p(static_cast<uint16_t>(i));
      const sched::PoolState& pool = state.pool(p);
      if (!sched::PoolAllows(state, p, req) || pool.free_devices < sched::ShapeFor(req, pool.per_node).devices()) {
        continue;
      }
      const double extra_w = sched::Estimate(state, p, req).extra_w;
      if (sched::PowerAdmits(state, pool.site, 0, extra_w)) continue;
      const sched::SiteState& site = state.site(pool.site);
      const SiteDraw& d = site_draw_[site.name];
      why = fmt::format(
          "held back by power: site {} draws {:.1f} kW (GPU power: {}, x PUE {:.2f}) of its {:.1f} kW cap; "
          "starting here would add {:.1f} kW; no new work starts there until its draw falls",
          site.name, site.signals.facility_w / 1e3, d.Source(), site.pue, site.power_cap_w / 1e3, extra_w / 1e3);
    }
    const size_t at = jobs.IndexOf(req.id.value());
    if (why.empty() || at == jobs.size()) continue;
    // Said once while the same site holds it, not each pass its draw moves.
    const std::string key = why.substr(0, why.find(" draws "));
    if (jobs[at].reason.rfind(key + " draws ", 0) == 0) continue;
    JobRecord& r = jobs.Mut(at);
    r.reason = why;
    SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
    SG_RETURN_IF_ERROR(Audit(now, "power-hold", r.id, why));
  }
  return Status();
}

void Reconciler::UseMemoOf(uint64_t version) {
  // Also bounded when the version stays: by the jobs predicted.
  if (memo_version_ != version || memo_.size() > 2 * predicted_.size() + 64) {
    memo_.clear();
    memo_version_ = version;
  }
}

const RunPrediction& Reconciler::PredictionOf(const JobRecord& r) {
  const uint64_t version = run_times_.version();
  Predicted& p = predicted_[r.id];
  if (p.version != version || p.prediction == nullptr) {
    if (!p.features.has_value()) p.features = FeaturesOf(r.spec);
    UseMemoOf(version);
    auto [it, fresh] = memo_.try_emplace(*p.features);
    if (fresh || it->second == nullptr) {
      it->second = std::make_shared<const RunPrediction>(run_times_.Predict(*p.features));
    }
    p.prediction = it->second;
    p.version = version;
  }
  return *p.prediction;
}

void Reconciler::PrunePredictions(const PassJobs& jobs) {
  if (predicted_.size() <= 2 * jobs.size() + 64) return;
  std::set<uint64_t> live;
  for (const JobRecord& r : jobs) live.insert(r.id);
  std::erase_if(predicted_, [&](const auto& e) { return !live.count(e.first); });
}

void Reconciler::PredictAll(const std::vector<JobRecord>& jobs) {
  PassJobs view;
  for (const JobRecord& r : jobs) view.Add(r);
  PredictAll(view);
}

void Reconciler::PredictAll(const PassJobs& jobs) {
  const uint64_t version = run_times_.version();
  UseMemoOf(version);
  std::vector<Predicted*> stale;    // (the map's values stay where they are)
  std::vector<RunFeatures> unseen;  // distinct, not in the memo: one batch through the model
  for (const JobRecord& r : jobs) {
    Predicted& p = predicted_[r.id];
    if (p.version == version && p.prediction != nullptr) continue;
    if (!p.features.has_value()) p.features = FeaturesOf(r.spec);
    if (auto [it, fresh] = memo_.try_emplace(*p.features); fresh) unseen.push_back(*p.features);
    stale.push_back(&p);
  }
  if (!unseen.empty()) {
    std::vector<RunPrediction> fresh = run_times_.Predict(unseen);
    for (size_t i = 0; i < unseen.size(); ++i) {
      memo_[unseen[i]] = std::make_shared<const RunPrediction>(std::move(fresh[i]));
    }
  }
  for (Predicted* p : stale) {
    p->prediction = memo_.at(*p->features);
    p->version = version;
  }
}

Duration Reconciler::EstimateOf(const JobRecord& r) {
  return r.spec.estimate_auto ? PredictionOf(r).run_time : r.spec.estimate;
}

// Approximate where the live path is exact: a failed job's `updated` is
// when its last rank reported (a stop grace after the failure), and a
// first attempt that failed and was retried is no longer on record.
void Reconciler::Remember(const JobRecord& r) {
  if (r.attempt != 1 || r.restarts != 0 || r.started == Time::Epoch()) return;
  if (r.state == JobState::kSucceeded || r.state == JobState::kFailed) {
    run_times_.Observe(FeaturesOf(r.spec), r.updated - r.started - RampWait(r), r.state == JobState::kSucceeded);
    // A trained model's version stays, but its rows (group medians, last
    // run) moved: jobs predicted from now on are predicted afresh, as
    // when each job had its own.
    memo_.clear();
    fallen_.erase(r.id);
  }
}

sched::JobRequest Reconciler::RequestOf(const JobRecord& r, const sched::ClusterState& state) {
  sched::JobContext context;
  context.id = JobId(static_cast<uint32_t>(r.id));
  context.tenant = TenantOf(r.spec.spec.tenant);
  context.estimate = EstimateOf(r);
  context.resumed = r.attempt > 0;
  context.queued_at = r.queued > Time::Epoch() ? r.queued : r.submitted;  // back in the queue (a requeue), or submitted
  context.utilisation = sched::UtilisationOf(r.spec.spec.kind);           // as the twin's
  sched::JobRequest req = sched::RequestOf(r.spec.spec, state, context);
  const std::vector<DataInput>& inputs = r.spec.spec.inputs;
  if (datasets_ != nullptr && std::any_of(inputs.begin(), inputs.end(), [](const DataInput& in) {
        return in.registered();
      })) {  // rare: the registry's sizes and holders for the datasets it names
    std::vector<DataInput> resolved = inputs;
    datasets_->Resolve(r.spec.spec.tenant, resolved);
    req.data = sched::ResolveData(resolved, state);
  }
  // A job that ran before resumes from its newest checkpoint: a site whose
  // store lacks it waits for it to be staged (the twin charges the same).
  if (r.state == JobState::kPending && r.attempt > 0 && restore_need_) {
    if (std::optional<DataInput> need = restore_need_(r)) {
      sched::DataNeed d = std::move(sched::ResolveData({*std::move(need)}, state).front());
      d.checkpoint = true;
      req.data.push_back(std::move(d));
    }
  }
  return req;
}

Status Reconciler::ApplyDecisions(const sched::Decisions& decisions, const std::vector<std::string>& node_names,
                                  PassJobs& jobs, Time now) {
  for (const sched::Decision& d : decisions.items) {
    if (const auto* st = std::get_if<sched::Start>(&d)) {
      JobRecord& r = jobs.MutId(st->job.value());
      std::vector<NodeId> placed = st->nodes;
      std::sort(placed.begin(), placed.end());
      r.nodes.clear();
      for (NodeId n : placed) r.nodes.push_back(node_names[n.value()]);
      r.reason = st->reason.empty() ? fmt::format("placed on {} node(s)", r.nodes.size()) : st->reason;
      r.power_cap = st->power_cap;
      r.share_slot = st->share_slot;
      r.launch_at = now + st->ramp_after;  // staggered at a ramp-limited site
      r.ramp_hold = st->ramp_hold;
      r.ramp_up = st->ramp_up;
      SG_RETURN_IF_ERROR(BeginAttempt(r, now));
      SG_RETURN_IF_ERROR(Audit(now, "place", r.id, fmt::format("{} -> {}", r.reason, fmt::join(r.nodes, " "))));
    } else if (const auto* p = std::get_if<sched::Preempt>(&d)) {
      const size_t at = jobs.IndexOf(p->job.value());
      if (at < jobs.size() && jobs[at].state == JobState::kRunning && !jobs[at].stopping) {
        // SIGTERM now, SIGKILL when the warning ends (the agents apply it);
        // the attempt ends as a preemption, not a failure of the job.
        JobRecord& r = jobs.Mut(at);
        r.stop_grace = p->warning;
        const std::string why = fmt::format("preempted ({} s warning): {}", p->warning.millis() / 1000, p->reason);
        SG_RETURN_IF_ERROR(StopAttempt(r, why, now));
        SG_RETURN_IF_ERROR(Audit(now, "preempt", r.id, why));
      }
    } else if (const auto* rj = std::get_if<sched::Reject>(&d)) {
      // Final, as in the twin: the job can never run on the nodes this
      // server has known, and fails with the reason, once the reject grace
      // (nodes still joining) is over and not while a restarted server is
      // still hearing from its nodes.
      JobRecord& r = jobs.MutId(rj->job.value());
      if (r.state != JobState::kPending) continue;
      if (nodes_->InGrace(now) || now - r.submitted < options_.reject_grace) {
        const std::string why = fmt::format(
            "waiting: {} (it fails {} s after its submission unless a node that fits "
            "joins)",
            rj->reason, options_.reject_grace.millis() / 1000);
        if (r.reason != why) {  // said once, not every pass
          r.reason = why;
          SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
        }
        continue;
      }
      r.state = JobState::kFailed;
      r.reason = "rejected: " + rj->reason;
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
      SG_RETURN_IF_ERROR(Audit(now, "reject", r.id, rj->reason));
    } else if (const auto* df = std::get_if<sched::Defer>(&d)) {
      // Out of the queue until `until`, as in the twin.
      JobRecord& r = jobs.MutId(df->job.value());
      r.deferred_until = df->until;
      r.reason = df->reason;
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
      SG_RETURN_IF_ERROR(Audit(now, "defer", r.id, df->reason));
    }
  }
  return Status();
}

Duration Reconciler::CheckpointInterval(const JobRecord& r) {
  return r.checkpoint_interval > Duration::Zero() ? r.checkpoint_interval
                                                  : Duration::Millis(r.spec.spec.checkpoint.interval.millis());
}

Duration Reconciler::PlanCheckpointInterval(const JobRecord& r) const {
  const CheckpointPolicy& cp = r.spec.spec.checkpoint;
  if (!cp.daly) return cp.interval;
  // Each node fails at its site's measured rate, shrunk toward the Llama 3
  // rate of a node with this many devices (model::PosteriorRate).
  const double prior = model::FailuresPerHour(model::LlamaThreeComponents(), r.spec.spec.per_node, 1, 0);
  double per_hour = 0;
  for (const std::string& node : r.nodes) {
    const NodeInfo* n = nodes_->Find(node);
    auto h = n != nullptr ? nodes_->health().find(n->site) : nodes_->health().end();
    per_hour +=
        h == nodes_->health().end() ? prior : model::PosteriorRate(h->second.failures, h->second.node_hours, prior);
  }
  const Duration mtbf = per_hour > 0 ? Duration::FromSeconds(3600.0 / per_hour) : Duration::Infinite();
  const Duration tau = model::DalyInterval(r.spec.checkpoint_cost, mtbf);
  return Duration::Millis(std::max<int64_t>(1000, tau.millis()));
}

Status Reconciler::Tick() {
  const Time now = clock_->Now();
  nodes_->NoteFailures(now);
  nodes_->NoteSilentSites(now);
  // Best effort: what did not reach the store is written on a later tick;
  // placing and restarting jobs must not wait for it.
  nodes_->SaveHealth(now).IgnoreError();
  // The live jobs this pass may change: queued, stopping, under repair,
  // waiting for a silent site, or with a rank on a silent node. A running
  // job whose ranks are all on live nodes is left alone (and not copied)
  // unless there is work to place.
  SG_RETURN_IF_ERROR(jobs_->Load());  // RunningOnRef reads the loaded index
  std::set<uint64_t> on_silent_nodes;
  nodes_->ForEachSilent([&](const std::string& name) {
    if (const std::set<uint64_t>* ids = jobs_->RunningOnRef(name)) on_silent_nodes.insert(ids->begin(), ids->end());
  });
  PassJobs live;  // the registry's records in place: a pass copies only what it changes
  SG_RETURN_IF_ERROR(jobs_->ForEachLive([&](const JobRecord& r) {
    if (r.state != JobState::kRunning || r.stopping || r.repairing || on_silent_nodes.count(r.id) ||
        r.reason.rfind(kSilentSitePrefix, 0) == 0) {
      live.Add(r);
    }
  }));
  SG_RETURN_IF_ERROR(FailLostGangs(live, now));
  // Cancelled or failed jobs whose ranks are still stopping hold their
  // devices; a rank on a node that is gone will never report.
  SG_ASSIGN_OR_RETURN(std::vector<JobRecord> ending, jobs_->ListEndedButRunning());
  for (JobRecord& r : ending) {
    bool lost = false;
    for (size_t rank = 0; rank < r.nodes.size(); ++rank) {
      if (r.exits[rank] == JobRecord::kRunningExit && !nodes_->Alive(r.nodes[rank], now)) {
        r.exits[rank] = JobRecord::kLostExit;
        lost = true;
      }
    }
    if (lost) {
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
    }
  }
  UpdateDraw(now);     // every pass: /v1/sites and /metrics show it even with nothing to place
  TakeFallTurns(now);  // every pass: agents hold devices at their draw until told
  // Work to place (or a gang to repair): the scheduler sees every live job.
  if (std::none_of(live.begin(), live.end(), [](const JobRecord& r) {
        return r.state == JobState::kPending || (r.state == JobState::kRunning && r.repairing);
      })) {
    return Status();
  }
  PassJobs all;
  SG_RETURN_IF_ERROR(jobs_->ForEachLive([&](const JobRecord& r) { all.Add(r); }));
  for (JobRecord& r : ending) all.AddCopy(std::move(r));
  return Schedule(all, now);
}

StatusOr<HeartbeatResult> Reconciler::OnHeartbeat(const std::string& node, const NodeTelemetry& telemetry,
                                                  const std::vector<TaskReport>& tasks,
                                                  const std::vector<TaskRef>& holding) {
  const Time now = clock_->Now();
  HeartbeatResult out;
  NodeTelemetry t = telemetry;
  t.last_heartbeat = now;
  if (!nodes_->Heartbeat(node, t)) {
    out.register_again = true;
    return out;
  }
  // Record what ended; a rank's non-zero exit fails the job.
  std::set<TaskRef> reported;
  for (const TaskReport& rep : tasks) {
    reported.insert(rep.task);
    // Whether the rank's power cap holds, said once per rank: a cap not
    // enforced is counted as none (the draw the node reports, uncapped).
    if (rep.cap != TaskReport::Cap::kNone && rep.running && !cap_state_.count({rep.task, node}) &&
        IsRankOf(rep.task, node)) {
      cap_state_[{rep.task, node}] = rep.cap;
      SG_RETURN_IF_ERROR(Audit(now, "power-cap", rep.task.job,
                               rep.cap == TaskReport::Cap::kEnforced
                                   ? fmt::format("attempt {}: the power cap is enforced on {}", rep.task.attempt, node)
                                   : fmt::format("attempt {}: the power cap is NOT enforced on {} (no controllable "
                                                 "device): its draw counts uncapped",
                                                 rep.task.attempt, node)));
    }
    if (rep.running) continue;
    cap_state_.erase({rep.task, node});
    out.forget.push_back(rep.task);
    StatusOr<JobRecord> got = jobs_->Get(rep.task.job);
    if (!got.ok()) continue;
    JobRecord& r = *got;
    if (r.attempt != rep.task.attempt || r.state == JobState::kPending) continue;
    auto pos = std::find(r.nodes.begin(), r.nodes.end(), node);
    if (pos == r.nodes.end()) continue;
    const size_t rank = static_cast<size_t>(pos - r.nodes.begin());
    if (r.exits[rank] != JobRecord::kRunningExit) continue;
    NoteFall(r, node, now);
    r.exits[rank] = rep.lost ? JobRecord::kLostExit : ExitStatus(rep);
    if (rep.lost && !IsFinal(r.state) && !r.stopping) {
      // Its agent died and the next one ended it: lost, as with a lost
      // node (not the job's failure), and this attempt never runs again.
      SG_RETURN_IF_ERROR(StopAttempt(r,
                                     fmt::format("the agent on {} restarted while rank {} ran, and ended what was "
                                                 "left of it; restarting from the last checkpoint",
                                                 node, rank),
                                     now));
      continue;
    }
    if (IsFinal(r.state)) {  // a cancelled or failed job's rank is gone: its devices are free
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
      continue;
    }
    if (r.stopping) {  // a rank of a stopping attempt is gone: requeue once all are
      SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
      SG_RETURN_IF_ERROR(RequeueIfDrained(r, now));
      continue;
    }
    // A first attempt's end goes to the run-time model once it is stored
    // (a heartbeat repeated after a failed write is not counted twice).
    const bool first = r.attempt == 1 && r.restarts == 0;
    std::optional<bool> ended_ok;
    if (r.exits[rank] != 0) {
      const std::string why = rep.signal != 0
                                  ? fmt::format("rank {} on {} was killed by signal {}", rank, node, rep.signal)
                                  : fmt::format("rank {} on {} exited with code {}", rank, node, rep.exit_code);
      r.failed_rank = static_cast<int>(rank);
      if (r.failed_attempts < r.spec.max_restarts) {  // retry from the checkpoint: stop the rest, then requeue
        ++r.failed_attempts;
        // Back off as Kubernetes' CrashLoopBackOff does (10 s, doubling,
        // at most 5 min): a job that fails at once does not spin through
        // its retries, nor hold devices others wait for.
        const Duration backoff = RestartBackoff(r.failed_attempts);
        r.deferred_until = now + backoff;
        SG_RETURN_IF_ERROR(StopAttempt(
            r,
            fmt::format("{}; restarting from the last checkpoint in {} s at the earliest (retry {} of {}; each "
                        "waits twice the one before, at most {} s)",
                        why, backoff.millis() / 1000, r.failed_attempts, r.spec.max_restarts,
                        kMaxRestartBackoff.millis() / 1000),
            now));
        if (first) run_times_.Observe(FeaturesOf(r.spec), now - r.started - RampWait(r), false);
        continue;
      }
      r.state = JobState::kFailed;
      r.reason = why;
      ended_ok = false;
    } else if (std::all_of(r.exits.begin(), r.exits.end(), [](int e) { return e == 0; })) {
      r.state = JobState::kSucceeded;
      r.reason = fmt::format("all {} rank(s) exited 0", r.exits.size());
      ended_ok = true;
    }
    SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
    if (first && ended_ok.has_value()) {
      run_times_.Observe(FeaturesOf(r.spec), now - r.started - RampWait(r), *ended_ok);
    }
  }
  // What this node should run: ranks of running jobs placed here, not ended.
  std::set<TaskRef> wanted;
  SG_ASSIGN_OR_RETURN(const std::vector<uint64_t> here, jobs_->RunningOn(node));
  for (uint64_t id : here) {
    SG_ASSIGN_OR_RETURN(JobRecord r, jobs_->Get(id));
    // Stopping, cancelled or failed: not wanted, but keeps its devices until
    // it exits. A rank the agent does not run (its start never reached the
    // agent) has nothing to wait for.
    if (r.stopping || r.state != JobState::kRunning) {
      bool changed = false;
      for (size_t rank = 0; rank < r.nodes.size(); ++rank) {
        if (r.nodes[rank] == node && r.exits[rank] == JobRecord::kRunningExit && !reported.count({r.id, r.attempt})) {
          r.exits[rank] = JobRecord::kNeverStartedExit;
          changed = true;
        }
      }
      if (changed) {
        SG_ASSIGN_OR_RETURN(r, jobs_->Update(r));
        if (r.stopping) SG_RETURN_IF_ERROR(RequeueIfDrained(r, now));
      }
      continue;
    }
    for (size_t rank = 0; rank < r.nodes.size(); ++rank) {
      if (r.nodes[rank] != node || r.exits[rank] != JobRecord::kRunningExit) continue;
      const TaskRef ref{r.id, r.attempt};
      wanted.insert(ref);
      if (!reported.count(ref) && !(launch_gate_ && launch_gate_(r, node)) && r.launch_at <= now) {
        out.run.push_back(TaskLaunch{ref, r.spec.run, TaskEnv(r, static_cast<int>(rank)), r.spec.memory_bytes,
                                     r.spec.cpus, r.spec.image, r.power_cap, r.ramp_hold, r.ramp_up,
                                     RampOf(r).ramped() ? model::kMinCapFraction : 0.0});
      }
    }
  }
  // Unwanted tasks still running: told to stop. Those the job record no
  // longer holds devices for (an attempt the server gave up on while the
  // node was silent: a partitioned node, a Slurm job outliving its driver)
  // hold their devices here until they end, so no new rank lands on them.
  std::map<TaskRef, int>& stale = stale_[node];
  stale.clear();
  for (const TaskReport& rep : tasks) {
    if (!rep.running || wanted.count(rep.task)) continue;
    out.stop.push_back(rep.task);
    StatusOr<JobRecord> r = jobs_->Get(rep.task.job);
    if (r.ok() && r->attempt == rep.task.attempt && r->stopping && r->stop_grace > Duration::Zero()) {
      out.stop_grace[rep.task] = r->stop_grace;  // a preemption's warning
    }
    const NodeInfo* info = nodes_->Find(node);
    int devices = info != nullptr ? info->accelerators : 0;
    if (r.ok()) {
      auto pos = std::find(r->nodes.begin(), r->nodes.end(), node);
      const bool held = r->attempt == rep.task.attempt && pos != r->nodes.end() &&
                        r->exits[static_cast<size_t>(pos - r->nodes.begin())] == JobRecord::kRunningExit;
      if (held) continue;
      devices = r->spec.spec.per_node;
    }
    stale[rep.task] = devices;
  }
  if (stale.empty()) stale_.erase(node);
  // Falls' turns, for ranks of this node's own jobs only (a node has at
  // most 64 devices, so as many ranks: more is not an agent's list).
  for (size_t i = 0; i < holding.size() && i < 64; ++i) {
    if (std::optional<Duration> wait = FallTurnOf(holding[i], node, now)) out.fall[holding[i]] = *wait;
  }
  return out;
}

}  // namespace stargate::control
