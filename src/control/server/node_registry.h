// File: node_registry.h
// The nodes agents registered: what they are (persisted in the Store under
// nodes/<name>, so a restarted server knows them) and whether they are
// alive (in memory only: heartbeats arrive every second from every node,
// too often to write each one). A node is down once it has missed
// heartbeats for `timeout`. A restarted server calls no known node down
// before `kRestartGrace` (or the timeout, if longer) has passed: agents
// reconnect with backoff, and a node that kept running its tasks through
// the outage must not lose them to a race. Not thread-safe.
//
// Kept incremental for networks of 100,000 nodes and more (issue 20): a
// heartbeat costs a few map operations, and what a control pass asks
// (which nodes went silent, which sites fell silent, which nodes are not
// ready, whose draw changed) costs what changed since the last pass, not a
// walk over every node. Silence is found from a queue of heartbeat
// deadlines, not by looking at every node's last heartbeat.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "control/protocol/node_info.h"
#include "control/store/store.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

// The node as JSON, as GET /v1/nodes shows it (no secrets).
nlohmann::json NodeJson(const NodeInfo& n);

// What a site's nodes have shown of their reliability, for checkpoint
// intervals (`interval: auto`). Persisted under sitehealth/<site>.
struct SiteHealth {
  double node_hours = 0;  // up time: heartbeat gaps within the timeout, over its nodes
  int64_t failures = 0;   // nodes lost: missed heartbeats without saying they were leaving
};

class NodeRegistry {
 public:
  static constexpr Duration kRestartGrace = Duration::Seconds(10);

  // `store` must outlive the registry.
  NodeRegistry(Store* store, Duration timeout) : store_(store), timeout_(timeout) {}

  // Reads the known nodes; each counts as heard from at `now`, and all
  // are alive for the restart grace (none when the store knew no node).
  Status Load(Time now);
  // Adds or updates a node (persisted) and counts it as heard from, for
  // agent `agent_id`. FailedPrecondition while another agent that is still
  // alive holds the node (a duplicate name, or this node's agent restarted
  // before its old self was declared down).
  Status Register(const NodeInfo& info, Time now, const std::string& agent_id = "");
  // Another live agent than `agent_id` holds the node.
  bool HeldByOther(const std::string& name, const std::string& agent_id, Time now) const;
  // FailedPrecondition, saying so, when HeldByOther.
  Status CheckHolder(const std::string& name, const std::string& agent_id, Time now) const;
  // False for an unknown node, or one another agent holds (it must
  // register again). `t.agent_id` "" skips the holder check.
  bool Heartbeat(const std::string& name, const NodeTelemetry& t);

  // The node's agent stopped cleanly (agent `agent_id`, "" = anyone): down
  // now, and not a failure.
  // False (nothing changes) for an unknown node or another agent's.
  bool Leave(const std::string& name, const std::string& agent_id);
  // Counts each node that went down since the last call (and did not
  // leave) as a failure of its site; returns how many. Only nodes heard
  // from since Load count: one that went down while the server was away
  // and never came back is not counted (it may have been counted before).
  int NoteFailures(Time now);
  // Persists the site health that changed: at once after a failure, else
  // at most once a minute (up time accrues with every heartbeat).
  Status SaveHealth(Time now);
  // What SaveHealth wrote was lost (a store batch that did not commit):
  // every site's health is saved again on the next call.
  void HealthUnsaved();
  const std::map<std::string, SiteHealth>& health() const { return health_; }

  bool Alive(const std::string& name, Time now) const;
  // The same for a node's telemetry already at hand (a loop over every
  // node need not look each up by name).
  bool Alive(const NodeTelemetry& t, Time now) const {
    return now - t.last_heartbeat <= timeout_ || now <= grace_until_;
  }
  // The node's telemetry, null for a node never heard from.
  const NodeTelemetry* FindTelemetry(const std::string& name) const {
    auto it = telemetry_.find(name);
    return it == telemetry_.end() ? nullptr : &it->second;
  }
  // Alive, and its agent has said what it runs since it (re-)registered:
  // only then may new work land on it (a restarted agent, or a Slurm
  // driver that adopted its batch jobs, may still run a stale attempt).
  bool Ready(const std::string& name, Time now) const;
  // Notes which sites went silent as a whole (every node of it that did
  // not leave is silent now: its WAN link cut, or the whole site down),
  // since their last heartbeat, and which are whole again (every node
  // that did not leave alive). Called once per control pass.
  void NoteSilentSites(Time now);
  // For a silent node that went quiet with the rest of its site (noted by
  // NoteSilentSites, and not yet back): when the site was last heard
  // from. Its nodes rejoin one by one; those not back yet still count.
  std::optional<Time> CutOffSince(const std::string& name, Time now) const;
  // A silent node whose site may be going silent as a whole: nodes stop
  // heartbeating up to a heartbeat interval apart when a link is cut, so
  // until some node of its site is heard well after it went quiet
  // (kSettle), its silence is not yet known to be its own.
  static constexpr Duration kSettle = Duration::Seconds(2);
  bool MaybeCutOff(const std::string& name, Time now) const;
  // The control loop calls this on each pass (every kPassInterval, or
  // sooner when woken). A longer gap means the server itself stalled: a
  // slow disk write holding the lock, the process descheduled, a
  // suspended VM. It could not hear heartbeats meanwhile, so nodes not
  // already down get the stall credited (their deadlines move by it) and
  // its own deafness is not taken for their silence. Returns the credit
  // (zero when the gap was normal).
  static constexpr Duration kPassInterval = Duration::Millis(250);
  static constexpr Duration kStall = Duration::Millis(750);
  Duration NotePass(Time now);
  // Just restarted: every known node counts as alive until agents reconnect.
  bool InGrace(Time now) const { return now <= grace_until_; }
  const NodeInfo* Find(const std::string& name) const;
  // All known nodes by name.
  const std::map<std::string, NodeInfo>& nodes() const { return nodes_; }
  // Those whose agents move checkpoints (moves_checkpoints, with a log
  // port to serve them), by name: a pass looks at these, not at every node.
  const std::set<std::string>& movers() const { return movers_; }
  // Moves on whenever a node is added or what one is (site, accelerators,
  // ...) changes: a cluster view built from nodes() is current while it
  // stays the same.
  uint64_t version() const { return version_; }
  // Every node that may not be Ready at `now`, the time of the last
  // NoteFailures or NoteSilentSites (a superset: silent since, not yet
  // reported since registering). Each is still to be asked Ready().
  template <typename F>
  void ForEachMaybeNotReady(F f) const {
    for (const std::string& n : silent_) f(n);
    for (const std::string& n : unreported_) {
      if (!silent_.count(n)) f(n);
    }
  }
  // Every node found silent (not Alive) by the last NoteFailures or
  // NoteSilentSites, and not heard from since.
  template <typename F>
  void ForEachSilent(F f) const {
    for (const std::string& n : silent_) f(n);
  }
  // The nodes whose GPU reading changed, gone silent or back, (re-)
  // registered or left since the last call: those whose share of their
  // site's draw may have changed.
  std::unordered_set<std::string> TakeChanged() { return std::exchange(changed_, {}); }
  const NodeTelemetry& telemetry(const std::string& name) const { return telemetry_.at(name); }

 private:
  Store* store_;
  Duration timeout_;
  std::map<std::string, NodeInfo> nodes_;
  std::set<std::string> movers_;  // see movers(); kept with nodes_ (Keep)
  // Puts `n` in nodes_ and movers_.
  void Keep(NodeInfo n);
  std::map<std::string, NodeTelemetry> telemetry_;
  Time grace_until_;                         // after Load: nobody is down before this
  std::optional<Time> last_pass_;            // NotePass: the control loop's last pass
  std::set<std::string> down_noted_;         // down and already counted (or left)
  std::map<std::string, std::string> left_;  // node -> the agent that left it (until it registers again)
  std::map<std::string, SiteHealth> health_;
  std::map<std::string, Time> silent_sites_;  // site -> last heard from, until whole again
  std::set<std::string> health_dirty_;
  bool failure_unsaved_ = false;
  Time health_saved_;

  // Finds the nodes whose heartbeat deadline passed by `now` (past the
  // restart grace): each is silent from then, its site is looked at again,
  // and (unless it left or was already counted) it is a failure.
  void Expire(Time now);
  // A heartbeat deadline for `name`, heard at `at`: queued unless one is
  // already (`replace`: this one instead, as when it leaves).
  void Expect(const std::string& name, Time at, bool replace = false);
  std::unordered_map<std::string, Time> queued_at_;  // node -> the heartbeat its queued deadline is for
  using Deadline = std::pair<Time, std::string>;     // last heartbeat, node
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  int expired_failures_ = 0;  // counted by Expire, returned by NoteFailures
  // Per site: its nodes, and what NoteSilentSites and MaybeCutOff ask of
  // them, kept as heartbeats, silences, leaves and registrations happen.
  struct SiteMembers {
    std::set<std::string> names;
    int left = 0;                                   // of them, in left_
    std::set<std::pair<Time, std::string>> silent;  // of them, silent and not left: last heartbeat, name
    Time last_heard;                                // the latest heartbeat (or registration) of any of them
  };
  std::map<std::string, SiteMembers> site_nodes_;
  // Every change of a node's last heartbeat goes through here (`now`:
  // its deadline is due at once, as when it leaves).
  void SetLastHeartbeat(const std::string& name, const std::string& site, NodeTelemetry& t, Time at, bool now = false);
  // Takes `name` out of its site's silent and left accounting (before it
  // registers again, maybe elsewhere).
  void Detach(const std::string& name);
  std::set<std::string> sites_to_check_;     // NoteSilentSites looks at these again
  std::set<std::string> silent_;             // found silent by Expire, not heard from since
  std::set<std::string> unreported_;         // registered, no heartbeat since
  std::unordered_set<std::string> changed_;  // see TakeChanged
  uint64_t version_ = 0;
};

}  // namespace stargate::control
