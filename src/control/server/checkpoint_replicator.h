// File: checkpoint_replicator.h
// Checkpoints across sites (issue 22): which site stores hold which
// checkpoint of each job, and the copies that keep a job's policy.
//
// One agent per site speaks for its store (the live node of the site,
// first by name, whose agent moves checkpoints). Every pass the
// replicator plans, for each live job with a `checkpoint:` block:
//   - watch: the job's area in the stores of the sites it runs at and of
//     those holding a copy, whose speakers report the newest complete
//     checkpoint there (kept in JobRecord::checkpoints, so a restarted
//     server knows them);
//   - replicas: `checkpoint.replicas.sites` stores hold the newest step,
//     the job's own site counted: other sites are chosen inside the job's
//     jurisdictions (those holding an older copy first, then the nearest);
//     a site outside them is never asked, and when the policy cannot be
//     met without one, the refusal is audited (once per job and site);
//   - staging: a running attempt's site that lacks the newest complete
//     checkpoint another live site holds pulls it before the ranks there
//     start (Staging holds their launch; the wait is shown and audited);
//     after kStagingTimeout the ranks start from what the site has;
//   - holding: a requeued job whose newest checkpoint only a site that is
//     down holds waits for that site (HoldForCheckpoint), at most its
//     `checkpoint.site_wait`, then restarts from the newest a live site
//     holds: its work is not thrown away for an outage of hours.
// A copy comes from the holder nearest the destination (fibre round trip
// between the sites' coordinates in --sites), at the slower of the two
// sites' wan_bandwidth, authorised by a ticket for that one directory.
//
// Not thread-safe: the control plane calls it under its lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "control/protocol/checkpoint_messages.h"
#include "control/protocol/task.h"
#include "control/server/audit_log.h"
#include "control/server/job_registry.h"
#include "control/server/node_registry.h"
#include "control/server/site_book.h"
#include "core/units.h"

namespace stargate::control {

// The job's checkpoint directory in a store mounted at `root`:
// <root>/<tenant>/<checkpoint.dir, or the job's id>.
std::string JobCheckpointDir(const std::string& root, const JobRecord& r);

// A copy of a job's checkpoint into one site's store, as last planned or
// reported.
struct CheckpointCopyState {
  std::string site, from;  // destination and source sites
  int64_t step = 0;
  CheckpointCopyReport::State state = CheckpointCopyReport::State::kCopying;
  uint64_t bytes_done = 0, bytes_total = 0;
  std::string error;
  Time since;            // when first asked for
  Time ended;            // done, failed or refused (Epoch: not yet)
  bool staging = false;  // the job's ranks at `site` wait for it
};

struct ReplicatorCounters {
  uint64_t copies_done = 0, copies_failed = 0, copies_refused = 0;
  uint64_t bytes_copied = 0;
  uint64_t stagings = 0;  // attempts that waited for a staged checkpoint
};

class CheckpointReplicator {
 public:
  static constexpr Duration kStagingTimeout = Duration::Minutes(15);

  // The registries must outlive the replicator.
  CheckpointReplicator(JobRegistry* jobs, NodeRegistry* nodes) : jobs_(jobs), nodes_(nodes) {}
  void SetSites(std::shared_ptr<const SiteBook> sites) { sites_ = std::move(sites); }
  void SetAudit(AuditLog* audit) { audit_ = audit; }

  // Plans every site's lists again from the live jobs (each pass, after
  // the scheduler's placements).
  Status Plan(Time now);
  // A heartbeat from `node`: what its agent reports of its site's store,
  // recorded when it speaks for the site; `out` gets the site's lists
  // (none for another agent).
  Status OnHeartbeat(const std::string& node, const std::vector<CheckpointHeld>& held,
                     const std::vector<CheckpointCopyReport>& copies, Time now, HeartbeatResult* out);
  // Whether job `r`'s rank on `node` waits for its checkpoint to reach the
  // node's site store.
  bool Staging(const JobRecord& r, const std::string& node, Time now) const;
  // Why pending job `r` must not be placed now (its newest checkpoint is
  // only at sites that are down, and its site_wait since it was requeued
  // is not over), or nullopt.
  std::optional<std::string> HoldForCheckpoint(const JobRecord& r, Time now);
  // Job `r`'s newest checkpoint that live sites hold: its step in the
  // name ("checkpoint step 120"), its size, those sites; nullopt when no
  // live site holds one (or checkpoints are off).
  std::optional<DataInput> RestoreFrom(const JobRecord& r) const;
  // The copies of job `id` planned or made (by destination site).
  std::vector<CheckpointCopyState> CopiesOf(uint64_t id) const;
  // Why `spec` could never keep its replicas on the stores registered now
  // (fewer sites with a store inside its jurisdictions than it wants), or
  // nullopt (also when no node has registered yet).
  std::optional<std::string> NeverReplicates(const JobSpec& spec) const;
  const ReplicatorCounters& counters() const { return counters_; }
  // Copies asked for and not done yet.
  int InFlight() const;

 private:
  struct Lists {
    std::vector<CheckpointWatch> watch;
    std::vector<CheckpointPull> pull;
  };
  using Key = std::pair<uint64_t, std::string>;  // job, site
  // The site's speaker, or null.
  const NodeInfo* Speaker(const std::string& site) const;
  // Of `holders`, the one nearest `site` (round trip; then by name).
  std::string Nearest(const std::string& site, const std::set<std::string>& holders) const;
  Duration RoundTrip(const std::string& a, const std::string& b) const;
  int64_t RateBetween(const std::string& a, const std::string& b) const;
  void AddPull(const JobRecord& r, const std::string& to, const std::string& from, int64_t step, bool staging,
               Time now);
  Status Audit(Time now, const std::string& action, uint64_t job, const std::string& detail) {
    return audit_ == nullptr ? Status() : audit_->Append(now, "replicator", action, job, detail);
  }

  JobRegistry* jobs_;
  NodeRegistry* nodes_;
  std::shared_ptr<const SiteBook> sites_;
  AuditLog* audit_ = nullptr;
  std::map<std::string, std::string> speakers_;  // site -> node
  std::map<std::string, Lists> lists_;           // by site
  std::map<Key, CheckpointCopyState> copies_;
  std::set<Key> refused_noted_;                           // refusals audited
  bool planned_ = false;                                  // speakers_ is known (a pass planned)
  std::set<std::pair<uint64_t, int64_t>> gave_up_noted_;  // job, requeue time (ms)
  std::set<std::tuple<uint64_t, std::string, int64_t>> failures_noted_;
  ReplicatorCounters counters_;
};

}  // namespace stargate::control
