#include "control/server/job_registry.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/job_file_parser.h"

namespace stargate::control {
namespace {

constexpr char kNextId[] = "meta/next_job_id";
constexpr char kJobsPrefix[] = "jobs/";
constexpr char kIdemPrefix[] = "idempotency/";
// A submission being stored in stages: its marker (see CommitSubmission).
constexpr char kSubmittingPrefix[] = "submitting/";
constexpr int kCasRetries = 16;  // another writer raced us: re-read and try again

constexpr std::pair<JobState, std::string_view> kStateNames[] = {{JobState::kPending, "pending"},
                                                                 {JobState::kRunning, "running"},
                                                                 {JobState::kSucceeded, "succeeded"},
                                                                 {JobState::kFailed, "failed"},
                                                                 {JobState::kCancelled, "cancelled"}};

StatusOr<JobState> StateFromName(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return absl::DataLossError(fmt::format("stored job has unknown state '{}'", name));
}

// A counter or id stored as decimal text.
StatusOr<uint64_t> ParseId(const KeyValue& kv) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(kv.value.data(), kv.value.data() + kv.value.size(), v);
  if (ec != std::errc() || end != kv.value.data() + kv.value.size()) {
    return absl::DataLossError(fmt::format("store key {}: '{}' is not a number", kv.key, kv.value));
  }
  return v;
}

}  // namespace

std::string_view Name(JobState s) {
  for (const auto& [state, n] : kStateNames) {
    if (state == s) return n;
  }
  return "unknown";
}

bool IsFinal(JobState s) { return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCancelled; }

std::string JobRegistry::Key(uint64_t id) { return fmt::format("{}{:012}", kJobsPrefix, id); }

std::string JobRegistry::Encode(const JobRecord& r) const {
  nlohmann::json j = {{"id", r.id},
                      {"state", Name(r.state)},
                      {"spec", r.spec_text},
                      {"filename", r.filename},
                      {"submitted_unix_ms", r.submitted.millis()},
                      {"updated_unix_ms", r.updated.millis()},
                      {"restarts", r.restarts},
                      {"idempotency_key", r.idempotency_key},
                      {"reason", r.reason},
                      {"attempt", r.attempt},
                      {"nodes", r.nodes},
                      {"master_addr", r.master_addr},
                      {"master_port", r.master_port},
                      {"share_slot", r.share_slot},
                      {"exits", r.exits},
                      {"stopping", r.stopping},
                      {"repairing", r.repairing},
                      {"failed_attempts", r.failed_attempts},
                      {"failed_rank", r.failed_rank},
                      {"started_unix_ms", r.started.millis()},
                      {"checkpoint_interval_ms", r.checkpoint_interval.millis()},
                      {"stop_grace_ms", r.stop_grace.millis()},
                      {"deferred_until_unix_ms", r.deferred_until.millis()},
                      {"power_cap", r.power_cap},
                      {"launch_unix_ms", r.launch_at.millis()},
                      {"ramp_hold_ms", r.ramp_hold.millis()},
                      {"ramp_up_ms", r.ramp_up.millis()},
                      {"stop_since_unix_ms", r.stop_since.millis()},
                      {"queued_unix_ms", r.queued.millis()}};
  if (r.array_id != 0) {
    j["array_id"] = r.array_id;
    j["array_index"] = r.array_index;
    j["array"] = r.spec.array.text();  // may come from --array, not the file
  }
  if (!r.checkpoints.empty()) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [site, h] : r.checkpoints) {
      c[site] = {{"step", h.step}, {"bytes", h.bytes}, {"seen_unix_ms", h.seen.millis()}};
    }
    j["checkpoints"] = std::move(c);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // bad UTF-8 never throws
}

StatusOr<JobRecord> JobRegistry::Decode(const KeyValue& kv) const {
  const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(fmt::format("store key {}: not a job record", kv.key));
  }
  JobRecord r;
  std::string array_text;
  try {
    r.id = j.at("id").get<uint64_t>();
    SG_ASSIGN_OR_RETURN(r.state, StateFromName(j.at("state").get<std::string>()));
    r.spec_text = j.at("spec").get<std::string>();
    r.filename = j.at("filename").get<std::string>();
    r.submitted = Time::FromMillis(j.at("submitted_unix_ms").get<int64_t>());
    r.updated = Time::FromMillis(j.at("updated_unix_ms").get<int64_t>());
    r.restarts = j.at("restarts").get<int>();
    r.idempotency_key = j.at("idempotency_key").get<std::string>();
    r.reason = j.at("reason").get<std::string>();
    r.attempt = j.value("attempt", 0u);
    r.nodes = j.value("nodes", std::vector<std::string>{});
    r.master_addr = j.value("master_addr", std::string());
    r.master_port = j.value("master_port", 0);
    r.share_slot = std::clamp(j.value("share_slot", 0), 0, 255);
    r.exits = j.value("exits", std::vector<int>{});
    r.stopping = j.value("stopping", false);
    r.repairing = j.value("repairing", false);
    r.failed_attempts = j.value("failed_attempts", 0);
    r.failed_rank = j.value("failed_rank", -1);
    r.started = Time::FromMillis(j.value("started_unix_ms", int64_t{0}));
    r.checkpoint_interval = Duration::Millis(j.value("checkpoint_interval_ms", int64_t{0}));
    r.stop_grace = Duration::Millis(j.value("stop_grace_ms", int64_t{0}));
    r.deferred_until = Time::FromMillis(j.value("deferred_until_unix_ms", int64_t{0}));
    r.power_cap = j.value("power_cap", 0.0);
    r.launch_at = Time::FromMillis(j.value("launch_unix_ms", int64_t{0}));
    r.ramp_hold = Duration::Millis(j.value("ramp_hold_ms", int64_t{0}));
    r.ramp_up = Duration::Millis(j.value("ramp_up_ms", int64_t{0}));
    r.stop_since = Time::FromMillis(j.value("stop_since_unix_ms", int64_t{0}));
    r.queued = Time::FromMillis(j.value("queued_unix_ms", int64_t{0}));
    r.array_id = j.value("array_id", uint64_t{0});
    r.array_index = j.value("array_index", 0u);
    array_text = j.value("array", std::string());
    if (auto c = j.find("checkpoints"); c != j.end() && c->is_object()) {
      for (const auto& [site, h] : c->items()) {
        r.checkpoints[site] = SiteCheckpoint{h.at("step").get<int64_t>(), h.at("bytes").get<uint64_t>(),
                                             Time::FromMillis(h.value("seen_unix_ms", int64_t{0}))};
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(fmt::format("store key {}: {}", kv.key, e.what()));
  }
  if (parsed_text_.first != r.spec_text || parsed_text_.second != r.filename) {
    SG_ASSIGN_OR_RETURN(parsed_, ParseJobFile(r.spec_text, r.filename));
    parsed_text_ = {r.spec_text, r.filename};
  }
  r.spec = parsed_;
  if (r.array_id != 0) {
    StatusOr<JobArray> array = JobArray::Parse(array_text);
    if (!array.ok())
      return absl::DataLossError(fmt::format("store key {}: array: {}", kv.key, std::string(array.status().message())));
    r.spec.array = *std::move(array);
  }
  SetSubmitted(r.spec, r.submitted);
  r.revision = kv.revision;
  return r;
}

StatusOr<JobRecord> JobRegistry::Submit(const std::string& spec_text, const std::string& filename,
                                        const std::string& idempotency_key, bool* created) {
  SG_ASSIGN_OR_RETURN(JobFile spec, ParseJobFile(spec_text, filename));
  return Submit(std::move(spec), spec_text, filename, idempotency_key, created);
}

StatusOr<JobRecord> JobRegistry::Submit(JobFile spec, const std::string& spec_text, const std::string& filename,
                                        const std::string& idempotency_key, bool* created, const AlsoWrite& also) {
  std::vector<NewJob> one;
  one.push_back(NewJob{std::move(spec), spec_text, filename, idempotency_key});
  SG_ASSIGN_OR_RETURN(std::vector<Made> made, SubmitMany(std::move(one), also));
  if (created != nullptr) *created = made[0].created;
  return std::move(made[0].jobs.front());
}

StatusOr<std::optional<uint64_t>> JobRegistry::KeyedJob(const std::string& tenant, const std::string& idempotency_key) {
  // Tenant names have no '/' (job_file_parser.h), so tenant/key is unambiguous.
  StatusOr<KeyValue> seen = store_->Get(fmt::format("{}{}/{}", kIdemPrefix, tenant, idempotency_key));
  if (!seen.ok() && seen.status().code() == absl::StatusCode::kNotFound) {
    // Written before keys were per tenant (idempotency/<key>): still this
    // tenant's when its job is, so a retry across an upgrade finds its job.
    StatusOr<KeyValue> legacy = store_->Get(kIdemPrefix + idempotency_key);
    if (legacy.ok()) {
      StatusOr<uint64_t> id = ParseId(*legacy);
      if (id.ok() && (cache_.count(*id) || Reload(*id).ok()) && cache_.at(*id).spec.spec.tenant == tenant) {
        seen = legacy;
      }
    }
  }
  if (!seen.ok()) {
    if (seen.status().code() == absl::StatusCode::kNotFound) return std::optional<uint64_t>();
    return seen.status();
  }
  SG_ASSIGN_OR_RETURN(const uint64_t id, ParseId(*seen));
  // Not cached: the commit that made it reached the store, but its answer
  // did not reach us (a timeout during an etcd election).
  if (!cache_.count(id)) SG_RETURN_IF_ERROR(Reload(id));
  return std::optional<uint64_t>(id);
}

StatusOr<std::vector<JobRecord>> JobRegistry::SubmissionOf(uint64_t id) {
  SG_ASSIGN_OR_RETURN(JobRecord first, Get(id));
  if (first.array_id != id) return std::vector<JobRecord>{std::move(first)};
  return Array(id);
}

StatusOr<std::vector<JobRegistry::Made>> JobRegistry::SubmitMany(std::vector<NewJob> batch, const AlsoWrite& also) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    std::vector<Made> out(batch.size());
    StatusOr<KeyValue> next = store_->Get(kNextId);
    if (!next.ok() && next.status().code() != absl::StatusCode::kNotFound) return next.status();
    uint64_t id = 1;
    if (next.ok()) {
      SG_ASSIGN_OR_RETURN(id, ParseId(*next));
    }
    const uint64_t first = id;
    Txn txn;
    txn.IfRevision(kNextId, next.ok() ? next->revision : 0);
    std::set<std::string> keys;  // this batch's
    bool any = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      const NewJob& item = batch[i];
      const std::string& tenant = item.spec.spec.tenant;
      if (!item.idempotency_key.empty()) {
        SG_ASSIGN_OR_RETURN(const std::optional<uint64_t> earlier_id, KeyedJob(tenant, item.idempotency_key));
        if (earlier_id.has_value()) {
          SG_ASSIGN_OR_RETURN(const JobRecord earlier, Get(*earlier_id));
          if (earlier.spec.spec.tenant != tenant) {  // a key stored before keys were per tenant
            return absl::AlreadyExistsError(
                fmt::format("Idempotency-Key '{}' is in use; use a new key", item.idempotency_key));
          }
          if (earlier.spec_text != item.text || earlier.spec.array.text() != item.spec.array.text()) {
            return absl::AlreadyExistsError(
                fmt::format("Idempotency-Key '{}' was used for job {} with a different job file; use a new key",
                            item.idempotency_key, *earlier_id));
          }
          SG_ASSIGN_OR_RETURN(out[i].jobs, SubmissionOf(*earlier_id));
          continue;
        }
        const std::string idem_key = fmt::format("{}{}/{}", kIdemPrefix, tenant, item.idempotency_key);
        if (!keys.insert(idem_key).second) {
          return absl::InvalidArgumentError(
              fmt::format("Idempotency-Key '{}' is given twice in one request", item.idempotency_key));
        }
        txn.IfAbsent(idem_key).Put(idem_key, std::to_string(id));
      }
      const std::vector<uint32_t> indices =
          item.spec.array.empty() ? std::vector<uint32_t>{0} : item.spec.array.Indices();
      out[i].jobs.reserve(indices.size());
      out[i].created = any = true;
      JobRecord r;
      r.spec_text = item.text;
      r.filename = item.filename;
      r.spec = item.spec;
      Stamp(r);
      r.submitted = r.updated;
      SetSubmitted(r.spec, r.submitted);
      r.idempotency_key = item.idempotency_key;
      r.reason = "submitted";
      r.array_id = item.spec.array.empty() ? 0 : id;
      for (uint32_t index : indices) {
        r.id = id++;
        r.array_index = index;
        txn.IfAbsent(Key(r.id)).Put(Key(r.id), Encode(r));
        out[i].jobs.push_back(r);
      }
      if (also) SG_RETURN_IF_ERROR(also(txn, out[i].jobs.front()));
    }
    if (!any) return out;
    txn.Put(kNextId, std::to_string(id));
    std::map<std::string, int64_t> revisions;
    StatusOr<int64_t> rev = CommitSubmission(txn, first, id, &revisions);
    if (rev.ok()) {
      for (Made& m : out) {
        if (!m.created) continue;
        for (JobRecord& r : m.jobs) {
          r.revision = revisions.empty() ? *rev : revisions.at(Key(r.id));
          Remember(r);
        }
      }
      return out;
    }
    if (rev.status().code() != absl::StatusCode::kFailedPrecondition) return rev.status();
  }
  return absl::AbortedError("job submission kept racing other writers; try again");
}

StatusOr<std::vector<JobRecord>> JobRegistry::Array(uint64_t array_id) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  std::vector<JobRecord> out;
  // An array's elements have consecutive ids from its id.
  for (auto it = cache_.find(array_id); it != cache_.end() && it->second.array_id == array_id; ++it) {
    out.push_back(it->second);
  }
  if (out.empty() || array_id == 0) return absl::NotFoundError(fmt::format("no job array {}", array_id));
  return out;
}

StatusOr<std::vector<JobRecord>> JobRegistry::CancelArray(uint64_t array_id, const std::string& reason) {
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    SG_ASSIGN_OR_RETURN(std::vector<JobRecord> elements, Array(array_id));
    std::vector<JobRecord> changed;
    Txn txn;
    for (JobRecord& r : elements) {
      if (IsFinal(r.state)) continue;
      r.state = JobState::kCancelled;
      r.reason = reason;
      Stamp(r);
      txn.IfRevision(Key(r.id), r.revision).Put(Key(r.id), Encode(r));
      changed.push_back(std::move(r));
    }
    if (changed.empty()) return changed;
    std::vector<JobRecord> tried = changed;
    StatusOr<std::vector<JobRecord>> done = CommitCancels(std::move(changed));
    if (done.ok() || done.status().code() != absl::StatusCode::kFailedPrecondition) return done;
    for (const JobRecord& r : tried) SG_RETURN_IF_ERROR(Reload(r.id));
  }
  return absl::AbortedError(fmt::format("cancelling array {} kept racing other writers; try again", array_id));
}

size_t JobRegistry::PerCommit() const {
  // Room for a condition per write and the store's own (etcd's fence); no
  // commit bigger than a million writes even where the store has no limit.
  return std::max<size_t>(1, std::min<size_t>(store_->MaxOpsPerCommit(), 1 << 20) - 2);
}

Status JobRegistry::DeleteInCommits(const std::vector<std::string>& keys) {
  const size_t per_commit = PerCommit();
  for (size_t from = 0; from < keys.size(); from += per_commit) {
    Txn t;
    for (size_t i = from; i < std::min(keys.size(), from + per_commit); ++i) t.Delete(keys[i]);
    SG_RETURN_IF_ERROR(store_->Commit(t).status());
  }
  return Status();
}

StatusOr<std::vector<JobRecord>> JobRegistry::CommitCancels(std::vector<JobRecord> changed) {
  // Each element's cancel stands alone (a cancel is idempotent), so an
  // array larger than one commit is cancelled in several.
  const size_t per_commit = PerCommit();
  for (size_t from = 0; from < changed.size(); from += per_commit) {
    const size_t to = std::min(changed.size(), from + per_commit);
    Txn txn;
    for (size_t i = from; i < to; ++i) {
      txn.IfRevision(Key(changed[i].id), changed[i].revision).Put(Key(changed[i].id), Encode(changed[i]));
    }
    SG_ASSIGN_OR_RETURN(const int64_t rev, store_->Commit(txn));
    for (size_t i = from; i < to; ++i) {
      changed[i].revision = rev;
      Remember(changed[i]);
    }
  }
  return changed;
}

// ---- Submissions larger than one commit.
//
// etcd takes at most 128 operations in a transaction, and an array of
// 10,000 jobs is 10,000 writes. Such a submission is stored in stages:
//  1. the next job id moves past the new jobs (the same compare-and-swap
//     as a single commit), with a marker "submitting/<first id>" that
//     names the new jobs' ids and every other key the submission writes;
//  2. the writes, with their conditions, in commits the store takes;
//  3. the marker is removed, and only then is anything acknowledged.
// A failure in 2 or 3 undoes what was written. A server that dies part
// way leaves the marker, and the next one to load the registry removes
// the jobs and keys it names (UndoUnfinishedSubmissions): the client was
// never told, so to every reader it is all or nothing, as one commit is.
StatusOr<int64_t> JobRegistry::CommitSubmission(const Txn& txn, uint64_t first, uint64_t end,
                                                std::map<std::string, int64_t>* revisions) {
  const size_t limit = store_->MaxOpsPerCommit();
  if (txn.writes.size() <= limit && txn.conditions.size() + 1 <= limit) return store_->Commit(txn);
  if (limit < 8)
    return absl::FailedPreconditionError(fmt::format("the store takes only {} operations a commit", limit));
  std::map<std::string, int64_t> condition_of;
  for (const Txn::Condition& c : txn.conditions) condition_of[c.key] = c.revision;
  nlohmann::json marker = {{"first", first}, {"end", end}, {"keys", nlohmann::json::array()}};
  std::vector<const Txn::Write*> staged;
  for (const Txn::Write& w : txn.writes) {
    if (w.key == kNextId) continue;
    staged.push_back(&w);
    if (!w.key.starts_with(kJobsPrefix)) marker["keys"].push_back(w.key);
  }
  const std::string marker_key = fmt::format("{}{:012}", kSubmittingPrefix, first);
  Txn reserve;
  reserve.IfRevision(kNextId, condition_of[kNextId]).Put(kNextId, std::to_string(end));
  std::set<std::string> written_keys;
  for (const Txn::Write* w : staged) written_keys.insert(w->key);
  for (const auto& [key, revision] : condition_of) {  // a condition on a key it does not write
    if (key != kNextId && !written_keys.contains(key)) reserve.IfRevision(key, revision);
  }
  reserve.IfAbsent(marker_key).Put(marker_key, marker.dump());
  SG_ASSIGN_OR_RETURN(const int64_t reserved, store_->Commit(reserve));

  std::vector<std::string> written;
  auto undo = [&](Status why) {
    // Best effort: what stays is removed when the registry is next loaded.
    if (DeleteInCommits(written).ok()) (void)store_->Commit(Txn().Delete(marker_key));
    return why;
  };
  const size_t per_commit = PerCommit();
  for (size_t from = 0; from < staged.size(); from += per_commit) {
    const size_t to = std::min(staged.size(), from + per_commit);
    Txn part;
    for (size_t i = from; i < to; ++i) {
      const Txn::Write& w = *staged[i];
      if (auto c = condition_of.find(w.key); c != condition_of.end()) part.IfRevision(w.key, c->second);
      part.writes.push_back(w);
    }
    StatusOr<int64_t> rev = store_->Commit(part);
    if (!rev.ok()) {
      // Another writer took a key the submission needed: as a lost
      // compare-and-swap, the caller reads again and retries.
      return undo(rev.status());
    }
    for (size_t i = from; i < to; ++i) {
      written.push_back(staged[i]->key);
      (*revisions)[staged[i]->key] = *rev;
    }
  }
  StatusOr<int64_t> done = store_->Commit(Txn().IfRevision(marker_key, reserved).Delete(marker_key));
  if (!done.ok()) return undo(done.status());
  return done;
}

Status JobRegistry::UndoUnfinishedSubmissions() {
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> markers, store_->List(kSubmittingPrefix));
  for (const KeyValue& m : markers) {
    const nlohmann::json j = nlohmann::json::parse(m.value, nullptr, false);
    if (j.is_discarded() || !j.contains("first") || !j.contains("end") || !j.contains("keys")) {
      return absl::DataLossError(fmt::format("store key {}: not a submission marker", m.key));
    }
    std::vector<std::string> keys;
    for (uint64_t id = j["first"].get<uint64_t>(); id < j["end"].get<uint64_t>(); ++id) keys.push_back(Key(id));
    for (const nlohmann::json& k : j["keys"]) keys.push_back(k.get<std::string>());
    SG_RETURN_IF_ERROR(DeleteInCommits(keys));
    SG_RETURN_IF_ERROR(store_->Commit(Txn().Delete(m.key)).status());
  }
  return Status();
}

void JobRegistry::Forget() {
  for (const auto& [node, ids] : running_on_) touched_nodes_.insert(node);
  loaded_ = false;
  cache_.clear();
  live_.clear();
  running_on_.clear();
  ended_running_.clear();
  unreadable_.clear();
}

Status JobRegistry::EnsureLoaded() {
  if (loaded_) return Status();
  SG_RETURN_IF_ERROR(UndoUnfinishedSubmissions());
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> kvs, store_->List(kJobsPrefix));
  for (const KeyValue& kv : kvs) {
    // One record this version cannot read must not take every other job
    // down with it: it stays in the store, counted and named in unreadable().
    StatusOr<JobRecord> r = Decode(kv);
    if (!r.ok()) {
      unreadable_.push_back(std::string(r.status().message()));
      continue;
    }
    Remember(*r);
  }
  loaded_ = true;
  return Status();
}

namespace {
// Nodes where a rank of `r`'s attempt is still running (by the record):
// also after the job was cancelled or failed, until that rank has exited,
// because its devices are busy until then.
template <typename F>
void ForRunningRanks(const JobRecord& r, F f) {
  for (size_t rank = 0; rank < r.nodes.size() && rank < r.exits.size(); ++rank) {
    if (r.exits[rank] == JobRecord::kRunningExit) f(r.nodes[rank]);
  }
}
}  // namespace

void JobRegistry::Remember(const JobRecord& r) {
  auto old = cache_.find(r.id);
  if (old != cache_.end()) {
    ForRunningRanks(old->second, [&](const std::string& n) {
      touched_nodes_.insert(n);
      auto it = running_on_.find(n);
      if (it == running_on_.end()) return;
      it->second.erase(r.id);
      if (it->second.empty()) running_on_.erase(it);
    });
  }
  bool runs = false;
  ForRunningRanks(r, [&](const std::string& n) {
    touched_nodes_.insert(n);
    running_on_[n].insert(r.id);
    runs = true;
  });
  if (runs && IsFinal(r.state)) {
    ended_running_.insert(r.id);
  } else {
    ended_running_.erase(r.id);
  }
  JobRecord& kept = cache_[r.id];  // in place: addresses handed out stay valid
  kept = r;
  if (IsFinal(r.state)) {
    live_.erase(r.id);
  } else {
    live_[r.id] = &kept;
  }
}

Status JobRegistry::Reload(uint64_t id) {
  StatusOr<KeyValue> kv = store_->Get(Key(id));
  if (!kv.ok()) return kv.status();
  SG_ASSIGN_OR_RETURN(JobRecord r, Decode(*kv));
  Remember(r);
  return Status();
}

StatusOr<JobRecord> JobRegistry::Get(uint64_t id) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  auto it = cache_.find(id);
  if (it == cache_.end()) return absl::NotFoundError(fmt::format("no job {}", id));
  return it->second;
}

StatusOr<std::vector<JobRecord>> JobRegistry::List() {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  std::vector<JobRecord> out;
  out.reserve(cache_.size());
  for (const auto& [id, r] : cache_) out.push_back(r);
  return out;
}

StatusOr<std::vector<JobRecord>> JobRegistry::ListLive() {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  std::vector<JobRecord> out;
  out.reserve(live_.size());
  for (const auto& [id, r] : live_) out.push_back(*r);
  return out;
}

Status JobRegistry::ForEachLive(const std::function<void(const JobRecord&)>& f) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  for (const auto& [id, r] : live_) f(*r);
  return Status();
}

StatusOr<std::vector<JobRecord>> JobRegistry::ListEndedButRunning() {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  std::vector<JobRecord> out;
  for (uint64_t id : ended_running_) out.push_back(cache_.at(id));
  return out;
}

StatusOr<std::vector<uint64_t>> JobRegistry::RunningOn(const std::string& node) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  auto it = running_on_.find(node);
  if (it == running_on_.end()) return std::vector<uint64_t>{};
  return std::vector<uint64_t>(it->second.begin(), it->second.end());
}

void JobRegistry::Stamp(JobRecord& r) const {
  r.updated = Time::FromMillis(clock_->Now().millis());
  r.submitted = Time::FromMillis(r.submitted.millis());
  r.started = Time::FromMillis(r.started.millis());
  r.checkpoint_interval = Duration::Millis(r.checkpoint_interval.millis());
  r.stop_grace = Duration::Millis(r.stop_grace.millis());
  r.deferred_until = Time::FromMillis(r.deferred_until.millis());
  r.stop_since = Time::FromMillis(r.stop_since.millis());
  r.queued = Time::FromMillis(r.queued.millis());
}

StatusOr<JobRecord> JobRegistry::Update(JobRecord r) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  Stamp(r);
  Txn txn;
  txn.IfRevision(Key(r.id), r.revision).Put(Key(r.id), Encode(r));
  StatusOr<int64_t> rev = store_->Commit(txn);
  if (!rev.ok()) {
    if (rev.status().code() == absl::StatusCode::kFailedPrecondition) Reload(r.id).IgnoreError();
    return rev.status();
  }
  r.revision = *rev;
  Remember(r);
  return r;
}

StatusOr<JobRegistry::Census> JobRegistry::TakeCensus() {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  Census out;
  DeviceTally held;
  for (const auto& entry : cache_) {
    const JobRecord& r = entry.second;  // not a structured binding: clang 14 cannot capture one
    ++out.by_state[r.state];
    ForRunningRanks(r, [&](const std::string& n) { out.busy_on[n] += held.Add(n, r); });
  }
  return out;
}

StatusOr<JobRecord> JobRegistry::Cancel(uint64_t id, const std::string& reason) {
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    SG_ASSIGN_OR_RETURN(JobRecord r, Get(id));
    if (r.state == JobState::kCancelled) return r;
    if (IsFinal(r.state)) {
      return absl::FailedPreconditionError(fmt::format("job {} already {}", id, Name(r.state)));
    }
    r.state = JobState::kCancelled;
    r.reason = reason;
    Stamp(r);
    Txn txn;
    txn.IfRevision(Key(id), r.revision).Put(Key(id), Encode(r));
    StatusOr<int64_t> rev = store_->Commit(txn);
    if (rev.ok()) {
      r.revision = *rev;
      Remember(r);
      return r;
    }
    if (rev.status().code() != absl::StatusCode::kFailedPrecondition) return rev.status();
    SG_RETURN_IF_ERROR(Reload(id));  // someone else wrote it: start from their version
  }
  return absl::AbortedError(fmt::format("cancelling job {} kept racing other writers; try again", id));
}

}  // namespace stargate::control
