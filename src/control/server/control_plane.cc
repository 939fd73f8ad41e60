#include "control/server/control_plane.h"

#include <algorithm>
#include <future>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "core/job_file_parser.h"

namespace stargate::control {

ControlPlane::ControlPlane(Store* store, Clock* clock, std::unique_ptr<sched::Scheduler> scheduler,
                           ControlPlaneOptions options)
    : store_(store),
      clock_(clock),
      sites_file_(std::move(options.sites_file)),
      log_(options.log ? std::move(options.log) : std::function<void(const std::string&)>([](const std::string& line) {
        std::cerr << line << "\n";
      })),
      credit_stalls_(options.credit_stalls),
      max_long_polls_(options.max_long_polls),
      policy_(scheduler->name()),
      scheduler_spec_(options.scheduler_spec),
      jobs_(store, clock),
      nodes_(store, options.heartbeat_timeout),
      audit_(store),
      identity_(store, options.node_auth),
      datasets_(store),
      reconciler_(&jobs_, &nodes_, std::move(scheduler), options.data_dir, clock),
      replicator_(&jobs_, &nodes_) {
  reconciler_options_ = options.reconciler;
  reconciler_options_.sites = std::move(options.sites);
  std::lock_guard<std::mutex> lock(mu_);
  ConfigureLocked();
  reconciler_.SetAudit(&audit_);
  reconciler_.SetMetrics(&metrics_);
  reconciler_.SetDatasets(&datasets_);
  replicator_.SetAudit(&audit_);
  // A rank whose site store lacks the job's newest checkpoint starts once
  // it is staged there (the reconciler asks under the lock).
  reconciler_.SetLaunchGate([this](const JobRecord& r, const std::string& node)
                                ABSL_NO_THREAD_SAFETY_ANALYSIS { return replicator_.Staging(r, node, clock_->Now()); });
  // A requeued job whose newest checkpoint is at a site that is down waits
  // for it (its checkpoint.site_wait), rather than restart from older.
  reconciler_.SetHoldGate([this](const JobRecord& r, Time now)
                              ABSL_NO_THREAD_SAFETY_ANALYSIS { return replicator_.HoldForCheckpoint(r, now); });
  // A site without the newest checkpoint is charged the time to stage it.
  reconciler_.SetRestoreNeed([this](const JobRecord& r)
                                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return replicator_.RestoreFrom(r); });
}

void ControlPlane::ConfigureLocked() {
  reconciler_.Configure(reconciler_options_);
  replicator_.SetSites(reconciler_options_.sites);
}

Status ControlPlane::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  SG_RETURN_IF_ERROR(nodes_.Load(clock_->Now()));
  SG_RETURN_IF_ERROR(datasets_.Load());
  if (history_loaded_) return Status();
  // In id order, not quite the order they ended: close enough for medians.
  SG_ASSIGN_OR_RETURN(const std::vector<JobRecord> all, jobs_.List());
  for (const JobRecord& r : all) reconciler_.Remember(r);
  history_loaded_ = true;
  return Status();
}

std::map<uint64_t, RunPrediction> ControlPlane::Predictions(const std::vector<JobRecord>& jobs) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint64_t, RunPrediction> out;
  reconciler_.PredictAll(jobs);  // the stale ones in one batch
  for (const JobRecord& r : jobs) out[r.id] = reconciler_.PredictionOf(r);
  return out;
}

Status ControlPlane::TrainRunTimes() {
  std::lock_guard<std::mutex> train(train_mu_);
  std::optional<RunTimeModel::Batch> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch = reconciler_.run_times().TakeBatch();
  }
  if (!batch) return Status();
  SG_ASSIGN_OR_RETURN(RunTimeModel::Trained trained, trainer_.Train(*batch));
  std::lock_guard<std::mutex> lock(mu_);
  reconciler_.run_times().Publish(std::move(trained));
  return Status();
}

Status ControlPlane::Audit(const std::string& actor, const std::string& action, uint64_t job,
                           const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  return audit_.Append(clock_->Now(), actor, action, job, detail);
}

StatusOr<ControlPlane::Submitted> ControlPlane::Submit(const std::string& text, const std::string& filename,
                                                       const std::string& idempotency_key, const std::string& actor) {
  SG_ASSIGN_OR_RETURN(JobFile parsed, ParseJobFile(text, filename));
  return Submit(std::move(parsed), text, filename, idempotency_key, actor);
}

StatusOr<ControlPlane::Submitted> ControlPlane::Submit(JobFile parsed, const std::string& text,
                                                       const std::string& filename, const std::string& idempotency_key,
                                                       const std::string& actor) {
  std::vector<JobRegistry::NewJob> one;
  one.push_back(JobRegistry::NewJob{std::move(parsed), text, filename, idempotency_key});
  SG_ASSIGN_OR_RETURN(std::vector<JobRegistry::Made> made, SubmitMany(std::move(one), actor));
  return Submitted{std::move(made[0].jobs.front()), made[0].created};
}

StatusOr<std::vector<JobRegistry::Made>> ControlPlane::SubmitMany(std::vector<JobRegistry::NewJob> batch,
                                                                  const std::string& actor) {
  StatusOr<std::vector<JobRegistry::Made>> made;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Time now = clock_->Now();
    for (const JobRegistry::NewJob& item : batch) {
      // A dataset the job names must be registered (a typo would else
      // cost the job its data gravity silently). Checked, not resolved:
      // each pass looks its copies up again.
      for (const DataInput& in : item.spec.spec.inputs) {
        if (in.registered() && datasets_.Find(item.spec.spec.tenant, in.name) == nullptr) {
          return absl::InvalidArgumentError(
              fmt::format("{}: inputs: tenant {} has no dataset {} (register it: stargate data register {} "
                          "--site SITE --size SIZE --path PATH)",
                          item.filename.empty() ? "the job" : item.filename, item.spec.spec.tenant, in.name, in.name));
        }
      }
      if (item.allow_pending) continue;
      std::optional<std::string> why = reconciler_.NeverRuns(item.spec.spec);
      if (!why.has_value()) why = replicator_.NeverReplicates(item.spec.spec);
      if (why.has_value()) {
        return absl::InvalidArgumentError(
            fmt::format("{}: no site can ever run this job: {} (submit it with --allow-pending, "
                        "allow_pending=true over REST, to queue it for nodes yet to join)",
                        item.filename.empty() ? "the job" : item.filename, *why));
      }
    }
    // The audit entry commits with the job: no job without its entry.
    auto audit = [&](Txn& txn, const JobRecord& r) {
      std::string detail = fmt::format("{} (tenant {})", r.spec.spec.name, r.spec.spec.tenant);
      if (r.array_id != 0) {
        detail += fmt::format(", array {} of {} jobs (indices {}, job ids {}-{})", r.array_id, r.spec.array.size(),
                              r.spec.array.text(), r.id, r.id + r.spec.array.size() - 1);
      }
      return audit_.Stage(txn, now, actor, "submit", r.id, detail);
    };
    made = jobs_.SubmitMany(std::move(batch), audit);
  }
  if (made.ok()) Changed();  // the loop places them now, not at its next pass
  return made;
}

StatusOr<std::vector<JobRecord>> ControlPlane::Array(uint64_t array_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.Array(array_id);
}

StatusOr<std::vector<JobRecord>> ControlPlane::CancelArray(uint64_t array_id, const std::string& reason,
                                                           const std::string& actor) {
  StatusOr<std::vector<JobRecord>> now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SG_ASSIGN_OR_RETURN(const std::vector<JobRecord> cancelled, jobs_.CancelArray(array_id, reason));
    SG_RETURN_IF_ERROR(audit_.Append(clock_->Now(), actor, "cancel", array_id,
                                     fmt::format("array {}: {} job(s) not yet ended", array_id, cancelled.size())));
    now = jobs_.Array(array_id);
  }
  Changed();  // their nodes are told to stop them on their next reply
  return now;
}

StatusOr<JobRecord> ControlPlane::Cancel(uint64_t id, const std::string& reason, const std::string& actor) {
  JobRecord r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SG_ASSIGN_OR_RETURN(r, jobs_.Cancel(id, reason));
    SG_RETURN_IF_ERROR(audit_.Append(clock_->Now(), actor, "cancel", id, ""));
  }
  Changed();  // its nodes are told to stop it on their next reply
  return r;
}

StatusOr<JobRecord> ControlPlane::Job(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.Get(id);
}

std::vector<CheckpointCopyState> ControlPlane::CheckpointCopies(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return replicator_.CopiesOf(id);
}

StatusOr<std::vector<JobRecord>> ControlPlane::Jobs() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.List();
}

StatusOr<std::vector<AuditEntry>> ControlPlane::QueryAudit(const AuditFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  return audit_.Query(filter);
}

StatusOr<int64_t> ControlPlane::Revision() {
  std::lock_guard<std::mutex> lock(mu_);
  return store_->Revision();
}

Status ControlPlane::AwaitDurable() { return store_->WaitDurable(store_->LastCommitted()); }

std::vector<std::string> ControlPlane::UnreadableJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.unreadable();
}

ControlPlane::NodesView ControlPlane::Nodes() {
  std::lock_guard<std::mutex> lock(mu_);
  NodesView v;
  v.now = clock_->Now();
  v.nodes.reserve(nodes_.nodes().size());
  for (const auto& [name, info] : nodes_.nodes()) {
    v.nodes.push_back(NodeView{info, nodes_.telemetry(name), nodes_.Alive(name, v.now)});
  }
  v.health = nodes_.health();
  return v;
}

StatusOr<ForecastSnapshot> ControlPlane::ForecastState() {
  std::lock_guard<std::mutex> lock(mu_);
  ForecastSnapshot s;
  s.now = clock_->Now();
  s.policy = policy_;
  s.scheduler = scheduler_spec_;
  s.nodes = nodes_.nodes();
  for (const auto& [name, info] : s.nodes) {
    if (nodes_.Alive(name, s.now)) s.alive.insert(name);
  }
  s.health = nodes_.health();
  s.sites = reconciler_options_.sites;
  s.hot_spares = reconciler_options_.hot_spares;
  s.gang_repair = reconciler_options_.gang_repair;
  SG_ASSIGN_OR_RETURN(s.jobs, jobs_.ListLive());
  for (JobRecord& r : s.jobs) datasets_.Resolve(r.spec.spec.tenant, r.spec.spec.inputs);  // as the live passes see them
  reconciler_.PredictAll(s.jobs);  // cached since the last pass unless the model moved
  for (const JobRecord& r : s.jobs) s.run_times[r.id] = reconciler_.PredictionOf(r);
  return s;
}

std::optional<NodeInfo> ControlPlane::FindNode(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  const NodeInfo* n = nodes_.Find(name);
  if (n == nullptr) return std::nullopt;
  return *n;
}

ControlPlane::SitesView ControlPlane::Sites() {
  std::lock_guard<std::mutex> lock(mu_);
  return SitesView{clock_->Now(), reconciler_options_.sites, reconciler_.site_draw()};
}

Status ControlPlane::ReloadSites(const std::string& actor) {
  if (sites_file_.empty()) return absl::FailedPreconditionError("the server was started without --sites");
  // One reload at a time, so an older read never replaces a newer one.
  std::lock_guard<std::mutex> one(reload_mu_);
  StatusOr<std::shared_ptr<const SiteBook>> book = SiteBook::Load(sites_file_);  // outside mu_: file I/O
  std::lock_guard<std::mutex> lock(mu_);
  const Time now = clock_->Now();
  if (!book.ok()) {
    SG_RETURN_IF_ERROR(
        audit_.Append(now, actor, "sites-reload", 0,
                      fmt::format("refused, the old sites stay: {}", std::string(book.status().message()))));
    return book.status();
  }
  reconciler_options_.sites =
      reconciler_options_.sites != nullptr ? (*book)->WithFeedsOf(*reconciler_options_.sites) : *std::move(book);
  ConfigureLocked();
  SG_RETURN_IF_ERROR(
      audit_.Append(now, actor, "sites-reload", 0,
                    fmt::format("{}: {} site(s)", sites_file_, reconciler_options_.sites->sites().size())));
  Changed();
  return Status();
}

Status ControlPlane::SetFeed(const std::string& site, const std::string& signal, const std::string& url,
                             std::vector<std::pair<Time, double>> points) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reconciler_options_.sites == nullptr) return absl::NotFoundError("no sites");
  std::shared_ptr<const SiteBook> next = reconciler_options_.sites->WithPoints(site, signal, url, std::move(points));
  if (next == nullptr)
    return absl::NotFoundError(fmt::format("site {} {} is no longer fed from {}", site, signal, url));
  reconciler_options_.sites = std::move(next);
  ConfigureLocked();
  return Status();
}

std::string ControlPlane::RenderMetrics() {
  std::lock_guard<std::mutex> lock(mu_);
  return control::RenderMetrics(jobs_, nodes_, reconciler_options_.sites.get(), reconciler_.site_draw(), metrics_,
                                clock_->Now()) +
         RenderCheckpointMetrics(replicator_.counters(), replicator_.InFlight());
}

Status ControlPlane::Refuse(const std::string& node, const std::string& agent_id, const Status& st) {
  ++metrics_.refused;
  const Time now = clock_->Now();
  const std::string key = node + "\n" + std::string(st.message());
  // Once a minute per node and reason, and at most kRefusalAudits a minute
  // in all: callers who make up node names cannot fill the audit log (the
  // metric still counts every refusal).
  if (now - refusal_window_ >= Duration::Seconds(60)) {
    refusal_window_ = now;
    refusal_audits_ = 0;
    refusal_audited_.clear();
  }
  auto it = refusal_audited_.find(key);
  if ((it == refusal_audited_.end() || now - it->second >= Duration::Seconds(60)) && refusal_audits_ < kRefusalAudits) {
    refusal_audited_[key] = now;
    ++refusal_audits_;
    audit_
        .Append(now, "node " + node, "refuse", 0,
                fmt::format("agent {}: {}", agent_id.empty() ? "(no id)" : agent_id, std::string(st.message())))
        .IgnoreError();
  }
  return st;
}

StatusOr<std::string> ControlPlane::Register(const Registration& r, AgentProof proof) {
  std::unique_lock<std::mutex> lock(mu_);
  const NodeInfo& n = r.node;
  proof.join_token = r.join_token;
  proof.credential = r.credential;
  if (r.agent_id.empty()) return Refuse(n.name, r.agent_id, absl::PermissionDeniedError("no agent id"));
  // The holder first: a refused registration changes nothing (no new credential).
  if (Status st = nodes_.CheckHolder(n.name, r.agent_id, clock_->Now()); !st.ok()) {
    return Refuse(n.name, r.agent_id, st);
  }
  StatusOr<std::string> credential = identity_.Admit(n.name, proof, clock_->Now());
  if (!credential.ok()) {
    if (credential.status().code() != absl::StatusCode::kPermissionDenied) return credential.status();
    return Refuse(n.name, r.agent_id, credential.status());
  }
  SG_RETURN_IF_ERROR(nodes_.Register(n, clock_->Now(), r.agent_id));  // its holder rule was checked above
  ++metrics_.registrations;
  audit_
      .Append(clock_->Now(), "node " + n.name, "join", 0,
              fmt::format("site {} ({}), {} x {}, agent {}{}", n.site, n.jurisdiction, n.accelerators,
                          Name(n.accelerator), r.agent_id, credential->empty() ? "" : ", new node credential"))
      .IgnoreError();  // best effort: a registration must not fail on it
  lock.unlock();
  SG_RETURN_IF_ERROR(AwaitDurable());  // the credential is handed out only once stored
  return credential;
}

Status ControlPlane::Vouch(const std::string& node, const std::string& agent_id, const AgentProof& proof) {
  // Nothing a caller says is recorded before it has shown it speaks for
  // the node: an empty id would pass the holder check.
  if (agent_id.empty()) return Refuse(node, agent_id, absl::PermissionDeniedError("no agent id"));
  if (Status st = identity_.Check(node, proof); !st.ok()) return Refuse(node, agent_id, st);
  if (nodes_.HeldByOther(node, agent_id, clock_->Now())) {
    return Refuse(node, agent_id,
                  absl::PermissionDeniedError("not the node's holder: another live agent holds it; its reports "
                                              "are ignored"));
  }
  return Status();
}

Status ControlPlane::Leave(const AgentHeartbeat& h, AgentProof proof) {
  std::promise<Status> left;
  std::future<Status> answer = left.get_future();
  LeaveAsync(h, std::move(proof), [&left](Status st) { left.set_value(std::move(st)); });
  return answer.get();
}

void ControlPlane::LeaveAsync(const AgentHeartbeat& h, AgentProof proof, std::function<void(Status)> done) {
  std::unique_lock<std::mutex> lock(mu_);
  proof.credential = h.credential;
  const std::string& agent_id = h.telemetry.agent_id;
  Status st = Vouch(h.node, agent_id, proof);
  if (st.ok() && !nodes_.Leave(h.node, agent_id)) {
    st = Refuse(h.node, agent_id, absl::PermissionDeniedError("not the node's holder: a leave was ignored"));
  }
  if (!st.ok()) {
    lock.unlock();
    done(st);
    return;
  }
  audit_.Append(clock_->Now(), "node " + h.node, "leave", 0, "its agent stopped cleanly").IgnoreError();
  Changed();  // its gangs need stopping and requeueing
  if (!store_->IsDurable(store_->LastCommitted())) {
    // Answered as a beat is, once the sync that serves every answer due
    // has come (AnswerPolls).
    StartPollThreads();
    auto p = std::make_unique<Poll>(MakePoll(h));
    p->r = HeartbeatResult{};
    p->answer = [done = std::move(done)](StatusOr<HeartbeatResult> r) { done(r.status()); };
    QueueAnswer(std::move(p));
    return;
  }
  lock.unlock();
  done(Status());
}

StatusOr<std::pair<std::string, JoinToken>> ControlPlane::CreateJoinToken(Duration ttl, const std::string& node,
                                                                          const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  SG_ASSIGN_OR_RETURN(auto made, identity_.CreateJoinToken(clock_->Now(), ttl, node, actor));
  audit_
      .Append(clock_->Now(), actor, "join-token", 0,
              fmt::format("created {} for {}, valid {} s", made.second.id, node.empty() ? "any node" : "node " + node,
                          ttl.millis() / 1000))
      .IgnoreError();
  return made;
}

StatusOr<Dataset> ControlPlane::RegisterData(const std::string& tenant, const std::string& name, DatasetCopy copy,
                                             const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  // A site the server knows: a typo would else hold data nowhere.
  std::set<std::string> known;
  if (reconciler_options_.sites != nullptr) {
    for (const SiteInfo& s : reconciler_options_.sites->sites()) known.insert(s.name);
  }
  for (const auto& [node, info] : nodes_.nodes()) known.insert(info.site);
  if (!known.contains(copy.site)) {
    std::string list;
    for (const std::string& s : known) list += (list.empty() ? "" : ", ") + s;
    return absl::InvalidArgumentError(
        fmt::format("site: no site {} (known: {})", copy.site, list.empty() ? "none yet" : list));
  }
  const Time now = clock_->Now();
  copy.registered = now;
  copy.by = actor;
  const std::string detail = fmt::format("dataset {} (tenant {}): {:.1f} GB at site {}, {}", name, tenant,
                                         copy.bytes / 1e9, copy.site, copy.path);
  SG_ASSIGN_OR_RETURN(Dataset d, datasets_.WithCopy(tenant, name, std::move(copy)));
  Txn txn;
  datasets_.Stage(txn, d);
  SG_RETURN_IF_ERROR(audit_.Stage(txn, now, actor, "data-register", 0, detail));
  SG_RETURN_IF_ERROR(store_->Commit(txn).status());
  datasets_.Apply(d);
  Changed();  // pending jobs that name it are weighed again
  return d;
}

StatusOr<Dataset> ControlPlane::UnregisterData(const std::string& tenant, const std::string& name,
                                               const std::string& site, const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  SG_ASSIGN_OR_RETURN(Dataset d, datasets_.WithoutCopy(tenant, name, site));
  Txn txn;
  datasets_.Stage(txn, d);
  SG_RETURN_IF_ERROR(audit_.Stage(
      txn, clock_->Now(), actor, "data-unregister", 0,
      fmt::format("dataset {} (tenant {}): {}", name, tenant, site.empty() ? "every copy" : "copy at site " + site)));
  SG_RETURN_IF_ERROR(store_->Commit(txn).status());
  datasets_.Apply(d);
  Changed();
  return d;
}

std::vector<Dataset> ControlPlane::Datasets(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  return datasets_.List(tenant);
}

std::optional<Dataset> ControlPlane::FindDataset(const std::string& tenant, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  const Dataset* d = datasets_.Find(tenant, name);
  if (d == nullptr) return std::nullopt;
  return *d;
}

StatusOr<std::vector<JoinToken>> ControlPlane::JoinTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  return identity_.JoinTokens();
}

Status ControlPlane::RevokeJoinToken(const std::string& id, const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  SG_RETURN_IF_ERROR(identity_.RevokeJoinToken(id));
  return audit_.Append(clock_->Now(), actor, "join-token", 0, fmt::format("revoked {}", id));
}

Status ControlPlane::RevokeNode(const std::string& node, const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  SG_RETURN_IF_ERROR(identity_.RevokeNode(node, clock_->Now()));
  return audit_.Append(clock_->Now(), actor, "revoke-node", 0, fmt::format("node {}: credential withdrawn", node));
}

ControlPlane::Poll ControlPlane::MakePoll(const AgentHeartbeat& h) const {
  Poll p;
  p.h = h;
  p.reports_an_end = std::any_of(h.tasks.begin(), h.tasks.end(), [](const TaskReport& r) { return !r.running; });
  // From its arrival, not from when it gets the lock (a stalled loop).
  p.deadline = clock_->Now() + std::clamp(h.wait, Duration::Zero(), kMaxHeartbeatWait);
  return p;
}

Status ControlPlane::BeginPoll(Poll& p, AgentProof proof) {
  proof.credential = p.h.credential;
  SG_RETURN_IF_ERROR(Vouch(p.h.node, p.h.telemetry.agent_id, proof));
  ++metrics_.heartbeats;
  // Ends reported free devices, and the pass they wake may place work
  // here: the answer that acknowledges the ends waits for that pass
  // (briefly), so one round trip carries both, not two.
  p.passes_before = passes_;
  p.pass_deadline = std::min(p.deadline, clock_->Now() + kHoldForPass);
  return Status();
}

ControlPlane::PollNext ControlPlane::StepPoll(Poll& p) {
  const AgentHeartbeat& h = p.h;
  StatusOr<HeartbeatResult>& r = p.r;
  r = reconciler_.OnHeartbeat(h.node, h.telemetry, h.tasks, h.holding);
  if (r.ok() && !r->register_again) {
    if (Status st = replicator_.OnHeartbeat(h.node, h.held, h.copies, clock_->Now(), &*r); !st.ok()) r = st;
  }
  // A copy the agent has not heard of yet is news worth answering for.
  const bool new_copy = r.ok() && std::any_of(r->pull.begin(), r->pull.end(), [&](const CheckpointPull& c) {
                          return std::none_of(h.copies.begin(), h.copies.end(), [&](const CheckpointCopyReport& k) {
                            return k.job == c.job && k.step == c.step;
                          });
                        });
  const bool hold = r.ok() && !r->forget.empty() && passes_ == p.passes_before && clock_->Now() < p.pass_deadline;
  // A holding load's fall turn is news too: its devices burn at full
  // draw until it comes.
  if (!r.ok() || r->register_again || !r->run.empty() || !r->stop.empty() || (!r->forget.empty() && !hold) ||
      !r->fall.empty() || new_copy || clock_->Now() >= p.deadline || p.GaveUp() || stop_loop_) {
    return PollNext::kAnswer;
  }
  return hold ? PollNext::kHoldForPass : PollNext::kWait;
}

bool ControlPlane::HoldPoll(Poll& p) {
  if (metrics_.long_polls >= max_long_polls_) {
    // Held, it would take more than allowed (a server thread each on the
    // sync path): answer now, and spread the agents' next beats over a
    // second.
    ++metrics_.polls_turned_away;
    const uint64_t spread = (std::hash<std::string>{}(p.h.node) + metrics_.heartbeats) % 1000;
    p.r->next_beat = kHeartbeatInterval + Duration::Millis(static_cast<int64_t>(spread));
    return false;
  }
  ++metrics_.long_polls;
  p.held = true;
  return true;
}

void ControlPlane::ReleasePoll(Poll& p) {
  if (!p.held) return;
  --metrics_.long_polls;
  p.held = false;
}

StatusOr<HeartbeatResult> ControlPlane::Heartbeat(const AgentHeartbeat& h, const std::function<bool()>& cancelled,
                                                  AgentProof proof) {
  std::promise<StatusOr<HeartbeatResult>> answered;
  std::future<StatusOr<HeartbeatResult>> reply = answered.get_future();
  HeartbeatAsync(h, cancelled, std::move(proof),
                 [&answered](StatusOr<HeartbeatResult> r) { answered.set_value(std::move(r)); });
  return reply.get();
}

void ControlPlane::HeartbeatAsync(const AgentHeartbeat& h, std::function<bool()> cancelled, AgentProof proof,
                                  HeartbeatAnswer answer) {
  auto p = std::make_unique<Poll>(MakePoll(h));
  p->cancelled = std::move(cancelled);
  p->answer = std::move(answer);
  std::unique_lock<std::mutex> lock(mu_);
  if (Status st = BeginPoll(*p, std::move(proof)); !st.ok()) {
    lock.unlock();
    p->answer(st);
    return;
  }
  StartPollThreads();
  p = Settle(std::move(p));
  if (p == nullptr) {  // parked
    parked_count_ = parked_.size();
    keeper_wake_.notify_one();  // it may wait for a later deadline than this one's
    return;
  }
  // A reply tells the agent to start, stop or forget tasks: only once
  // what it says (and the ends it acknowledges) is on disk, so a server
  // restarted after a crash never disowns a task it handed out. Most
  // beats are answered at once: on this thread when that is so already,
  // else by the answering thread, which waits for the disk once for all
  // of them (this thread must not: the server's few would each wait a
  // sync for one beat).
  if (!store_->IsDurable(store_->LastCommitted())) {
    QueueAnswer(std::move(p));
    return;
  }
  lock.unlock();
  // An ended task may free room or end a job: the loop should look now.
  if (p->reports_an_end) Changed();
  p->answer(std::move(p->r));
}

void ControlPlane::StartPollThreads() {
  if (keeper_.joinable()) return;
  keeper_ = std::thread([this] { KeepPolls(); });
  answerer_ = std::thread([this] { AnswerPolls(); });
}

std::unique_ptr<ControlPlane::Poll> ControlPlane::Settle(std::unique_ptr<Poll> p) {
  switch (StepPoll(*p)) {
    case PollNext::kAnswer:
      return p;
    case PollNext::kHoldForPass:
      Changed();  // the loop passes now
      break;
    case PollNext::kWait:
      if (!HoldPoll(*p)) return p;  // turned away
      break;
  }
  parked_.push_back(std::move(p));
  return nullptr;
}

void ControlPlane::QueueAnswer(std::unique_ptr<Poll> p) {
  if (p->reports_an_end) Changed();  // as HeartbeatAsync's answer at once
  {
    std::lock_guard<std::mutex> lock(answer_mu_);
    to_answer_.push_back(std::move(p));
  }
  answer_cv_.notify_one();
}

void ControlPlane::KeepPolls() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Every parked poll again, first and after any wake: what changed
    // while this thread was not waiting (a poll parked, then a pass,
    // before it first took the lock) is seen here.
    std::vector<std::unique_ptr<Poll>> polls = std::move(parked_);
    parked_.clear();
    for (auto& p : polls) {
      ReleasePoll(*p);
      // A poll given up on is not stepped: a late OnHeartbeat would
      // count it alive again.
      if (!p->GaveUp()) p = Settle(std::move(p));
      if (p != nullptr) QueueAnswer(std::move(p));
    }
    parked_count_ = parked_.size();
    if (stop_loop_ && parked_.empty()) return;
    if (parked_.empty()) {
      // Nothing to look at: not woken by every change (thousands a
      // second from beats that report ends, each a thread switch; Changed
      // wakes the keeper only while polls are parked).
      keeper_wake_.wait(lock, [&] { return stop_loop_ || !parked_.empty(); });
    } else if (!stop_loop_) {
      // Woken by any change (Changed), a park, a nudge, or the nearest
      // deadline.
      Time wake = clock_->Now() + kMaxHeartbeatWait;
      for (const auto& p : parked_) wake = std::min(wake, p->held ? p->deadline : p->pass_deadline);
      clock_->WaitUntil(keeper_wake_, lock, wake);
    }
  }
}

void ControlPlane::AnswerPolls() {
  std::unique_lock<std::mutex> lock(answer_mu_);
  for (;;) {
    answer_cv_.wait(lock, [&] { return answerer_stop_ || !to_answer_.empty(); });
    if (to_answer_.empty()) return;
    std::vector<std::unique_ptr<Poll>> polls = std::move(to_answer_);
    to_answer_.clear();
    lock.unlock();
    // As Heartbeat: a reply only once what it says is on disk.
    const Status durable = AwaitDurable();
    for (auto& p : polls) {
      if (durable.ok()) {
        p->answer(std::move(p->r));
      } else {
        p->answer(durable);
      }
    }
    lock.lock();
  }
}

void ControlPlane::PassLocked() {
  const Time start = clock_->Now();
  if (const Duration credit = credit_stalls_ ? nodes_.NotePass(start) : Duration::Zero(); credit > Duration::Zero()) {
    ++metrics_.stalls;
    log_(fmt::format("stargate server: the control loop stalled for {} ms; nodes' heartbeat deadlines moved by it",
                     credit.millis()));
  }
  // The pass's writes (placements, restarts, audit entries) share one
  // store transaction: one log write for a pass that places 20,000 jobs.
  // None is acknowledged before EndBatch (LastCommitted waits for it).
  const Status begun = store_->BeginBatch();
  if (Status st = reconciler_.Tick(); !st.ok())
    log_(fmt::format("stargate server: control loop: {}", std::string(st.message())));
  if (Status st = replicator_.Plan(clock_->Now()); !st.ok())
    log_(fmt::format("stargate server: checkpoint copies: {}", std::string(st.message())));
  if (begun.ok()) {
    if (Status st = store_->EndBatch(); !st.ok()) {
      // What the pass wrote is gone: read the jobs from the store again.
      log_(fmt::format("stargate server: control loop: the pass's writes were lost ({}); reading the jobs again",
                       std::string(st.message())));
      jobs_.Forget();
      nodes_.HealthUnsaved();
    }
  }
  metrics_.scheduler_pass.Observe((clock_->Now() - start).seconds());
  if (history_.Due(start)) SampleHistory(start);
  ++passes_;
  Changed();  // placements made: wake the agents' long polls
}

void ControlPlane::SampleHistory(Time now) {
  StatusOr<JobRegistry::Census> census = jobs_.TakeCensus();
  if (!census.ok()) return;
  HistorySample s;
  s.at = now;
  auto count = [&](JobState st) { return census->by_state[st]; };
  s.pending = count(JobState::kPending);
  s.running = count(JobState::kRunning);
  const int64_t ended = count(JobState::kSucceeded) + count(JobState::kFailed) + count(JobState::kCancelled);
  const std::map<std::string, int64_t>& busy_on = census->busy_on;
  s.started = static_cast<int64_t>(metrics_.queue_wait.count() - history_started_);
  s.finished = history_ended_ < 0 ? 0 : ended - history_ended_;
  history_started_ = metrics_.queue_wait.count();
  history_ended_ = ended;
  std::map<std::string, SiteSample> sites;
  for (const auto& [name, n] : nodes_.nodes()) {
    SiteSample& site = sites[n.site];
    if (!nodes_.Alive(name, now)) continue;
    site.devices += static_cast<float>(n.accelerators);
    if (auto b = busy_on.find(name); b != busy_on.end()) site.busy += static_cast<float>(b->second);
  }
  const SiteBook* book = reconciler_options_.sites.get();
  double carbon_w = 0, weighted = 0;
  for (auto& [name, site] : sites) {
    if (auto d = reconciler_.site_draw().find(name); d != reconciler_.site_draw().end()) {
      site.facility_w = static_cast<float>(d->second.facility_w);
    }
    if (book != nullptr) {
      if (const SiteInfo* info = book->Find(name); info != nullptr && info->power_cap_w.has_value()) {
        site.cap_w = static_cast<float>(*info->power_cap_w);
      }
      if (const SiteGridNow grid = book->GridAt(name, now); grid.carbon_given) {
        site.carbon = static_cast<float>(grid.signals.carbon);
        carbon_w += site.facility_w;
        weighted += site.facility_w * grid.signals.carbon;
      }
    }
    s.total.facility_w += site.facility_w;
    s.total.cap_w += site.cap_w;
    s.total.busy += site.busy;
    s.total.devices += site.devices;
  }
  s.total.carbon = carbon_w > 0 ? static_cast<float>(weighted / carbon_w) : -1;
  history_.Add(std::move(s), sites);
}

nlohmann::json ControlPlane::HistoryJson() {
  std::lock_guard<std::mutex> lock(mu_);
  return history_.ToJson();
}

uint64_t ControlPlane::passes() {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

void ControlPlane::Pass() {
  std::lock_guard<std::mutex> lock(mu_);
  PassLocked();
}

void ControlPlane::RunLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_loop_) {
    PassLocked();
    clock_->WaitUntil(changed_, lock, clock_->Now() + NodeRegistry::kPassInterval);
  }
}

void ControlPlane::StopLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_loop_ = true;
  }
  Changed();
  keeper_wake_.notify_all();
}

ControlPlane::~ControlPlane() {
  StopLoop();  // the keeper answers what is parked, then ends
  if (keeper_.joinable()) keeper_.join();
  {
    std::lock_guard<std::mutex> lock(answer_mu_);
    answerer_stop_ = true;
  }
  answer_cv_.notify_all();
  if (answerer_.joinable()) answerer_.join();
}

}  // namespace stargate::control
