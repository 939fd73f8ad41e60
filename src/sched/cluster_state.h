// File: cluster_state.h
// The scheduler's view of the cluster: sites, accelerator pools and nodes,
// with incremental free-capacity indexes so a placement query costs
// O(devices placed), not O(nodes).
//
// Nodes are numbered densely over all sites; a pool is a contiguous range of
// nodes of one accelerator type in one site. Each pool keeps its up nodes in
// buckets by free device count, so "k nodes with >= g free devices" is
// answered from bucket sizes and served by popping bucket entries.
//
// Only the driver mutates the state (Allocate/Release/SetNodeUp) after
// applying decisions; Scheduler::Schedule reads it. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/topology.h"
#include "sched/count_overlay.h"
#include "sched/job_request.h"
#include "sched/release_calendar_tree.h"
#include "sched/site_set.h"
#include "sched/tenant_ledger.h"
#include "sched/wan_backbone.h"

namespace stargate::sched {

// Whole free up nodes per block of consecutive nodes of a pool (an NVLink
// domain, or the nodes under one leaf switch), bucketed by that count, so
// "a leaf with k whole free nodes" is a bucket probe, not a scan.
struct BlockIndex {
  int block_nodes = 1;
  std::vector<uint16_t> whole;  // per block
  std::vector<uint32_t> pos;    // per block: its position in buckets[whole], when whole > 0
  CountBuckets buckets;         // [c]: blocks with exactly c > 0 whole free nodes

  uint32_t BlockOf(uint32_t local_node) const { return local_node / static_cast<uint32_t>(block_nodes); }
  uint32_t num_blocks() const { return static_cast<uint32_t>(whole.size()); }
  // Every node whole, free and up.
  void Init(uint32_t num_nodes, int block_nodes);
  void Inc(uint32_t block);
  void Dec(uint32_t block);

 private:
  // Into / out of buckets[whole[block]] (no bucket when whole is 0).
  void Link(uint32_t block);
  void Unlink(uint32_t block);
};

struct PoolState {
  SiteId site;
  AcceleratorType type = AcceleratorType::kH100;
  int per_node = 8;  // devices per node
  int domain_nodes = 1;
  int nodes_per_rack = 1;
  int nodes_per_leaf = 1;
  int leaves_per_pod = 1;
  uint32_t first_node = 0;  // global index of the pool's node 0
  uint32_t num_nodes = 0;
  uint32_t hot_spares = 0;   // whole free nodes kept for gang repair
  int64_t free_devices = 0;  // on up nodes
  int64_t up_nodes = 0;
  int64_t busy_devices = 0;
  // buckets[f]: pool-local indices of up nodes with exactly f > 0 free
  // devices (buckets[0] stays empty).
  CountBuckets buckets;
  BlockIndex domains;  // blocks of domain_nodes
  BlockIndex leaves;   // blocks of nodes_per_leaf

  int64_t total_devices() const { return static_cast<int64_t>(num_nodes) * per_node; }
  // Up nodes with at least `g` free devices.
  int64_t NodesWithFree(int g) const;
};

// What the driver tells the scheduler about a site's grid and load; the
// scheduler never reads a clock or a series itself.
struct SiteSignals {
  double carbon = 0;            // gCO2/kWh now
  double carbon_ahead = 0;      // mean over the forecast window
  double carbon_min_ahead = 0;  // lowest hourly value in the window (now included)
  Time carbon_min_at;           // start of that hour
  double price = 0;             // USD/MWh now
  double facility_w = 0;        // facility draw now
  // The server's: no fresh value, so the site's mean stands in (said in
  // placement reasons). The twin's series are never stale.
  bool carbon_stale = false;
  bool price_stale = false;
};

// A running gang as backfill, fair share and preemption see it: when its
// devices come back, whose they are, and what stopping it would cost.
struct RunningGang {
  JobId job;
  PoolId pool;
  int64_t devices = 0;
  Time expected_end;
  TenantId tenant;
  int priority = 0;
  // Checkpoints snapshot the work done by checkpoint_origin + k x
  // checkpoint_period (k >= 1) and are durable `checkpoint_lag` later (an
  // async write persisting in the background); period 0 = none, so a stop
  // loses everything since the origin.
  Time checkpoint_origin;
  Duration checkpoint_period;
  Duration checkpoint_lag;
  // Told to stop (preempted); expected_end is then the end of its warning.
  bool draining = false;
  // A share of one device (JobRequest::share_milli / 1000), charged to its
  // tenant as that much of a device, in slot `share_slot` of
  // `share_node`. Its `devices` are 0: the slot's device comes back with
  // its last share, so the calendar holds one entry of one device per
  // slot, at the latest expected end of its shares (under that share's
  // job).
  double share = 0;
  NodeId share_node;
  int share_slot = -1;

  // A gang known only by when its devices come back (no tenant, priority
  // 0, no checkpoints).
  static RunningGang Ending(JobId job, PoolId pool, int64_t devices, Time end) {
    RunningGang g;
    g.job = job;
    g.pool = pool;
    g.devices = devices;
    g.expected_end = end;
    return g;
  }
  // Work a stop at `now` would throw away: compute since the last durable
  // checkpoint (victim choice in preemption).
  Duration LostIfStoppedAt(Time now) const;

  bool operator==(const RunningGang&) const = default;
};

struct SiteState {
  std::string name;
  std::string region;
  double latitude = 0, longitude = 0;  // degrees, north and east positive
  bool located = true;                 // see SiteSpec::located
  FabricSpec fabric;                   // link figures for the step-time model
  int jurisdiction = 0;                // index into ClusterState::jurisdictions()
  std::vector<PoolId> pools;
  double power_cap_w = 0;
  double ramp_w_per_s = 0;  // SiteSpec::power_ramp's rate; 0 = no limit
  double pue = 1.0;
  // The first site with the same pue and the same deterministic carbon
  // series (SeriesSpec::Deterministic), or itself; the same for the price
  // series. A driver that reads each site's figures off its series gives
  // such sites the same figures. Only hints: PoolOrders::Classes checks.
  SiteId carbon_leader, price_leader;
  int64_t total_devices = 0;
  double wan_uplink = 0;  // bytes/s (SiteSpec::wan_uplink; 0 = not given)
  SiteSignals signals;
};

class ClusterState {
 public:
  // Builds the state with every node up and idle.
  explicit ClusterState(const std::vector<SiteSpec>& sites);

  const std::vector<SiteState>& sites() const { return sites_; }
  const std::vector<PoolState>& pools() const { return pools_; }
  const PoolState& pool(PoolId p) const { return pools_[p.value()]; }
  const SiteState& site(SiteId s) const { return sites_[s.value()]; }
  uint32_t num_nodes() const { return static_cast<uint32_t>(nodes_.size()); }
  // A hash of every pool's shape (nodes, devices per node, blocks), fixed
  // at construction: per-pass scratch sized for one state can tell a new
  // state of another shape at the same address (Claims::Reset).
  uint64_t shape_id() const { return shape_id_; }
  int64_t total_devices() const { return total_devices_; }

  PoolId PoolOf(NodeId n) const { return PoolId(nodes_[n.value()].pool); }
  int FreeOn(NodeId n) const { return nodes_[n.value()].free; }
  bool IsUp(NodeId n) const { return nodes_[n.value()].up; }
  uint32_t LocalIndex(NodeId n) const { return n.value() - pools_[nodes_[n.value()].pool].first_node; }

  // Data moves between sites (data gravity, JobRequest::data), bytes/s: a
  // link the driver set between the two (a scenario's `wan`); else, when
  // both sites' regions are on the backbone (links between regions), the
  // least of each site's uplink and the backbone path between their hubs
  // (wan_backbone.h); else the slower of the two sites' uplinks; else
  // kDefaultWan (a scenario link's default, 400 Gb/s). A site without an
  // uplink of its own reaches its hub at kDefaultWan.
  static constexpr double kDefaultWan = 400e9 / 8;
  // (`latency_s`: one way; 0 = fibre over the distance between the two.)
  void SetWanLink(SiteId a, SiteId b, double bytes_per_s, double latency_s = 0);
  void LinkRegions(const std::string& a, const std::string& b, double bytes_per_s, double latency_s);
  double WanBytesPerSec(SiteId a, SiteId b) const;
  // The one-way latency (s) between two sites, by the same route: the
  // pair's own link (its latency as given, or fibre over the distance
  // between them); else, both regions on the backbone, fibre from each
  // site to its region's hub (where PlaceCoordinates places the region:
  // its sites' centre, or a site named after it) and
  // the least-latency path between the hubs; else fibre over the distance
  // between them. 0 for a site with itself, and for the legs of a site
  // that is not located. A transfer takes it on top of its bytes over
  // WanBytesPerSec; a gang spread over sites pays it in every collective.
  double WanLatency(SiteId a, SiteId b) const;
  // The site named `name`, or nullopt.
  std::optional<SiteId> FindSite(std::string_view name) const;

  // Jurisdiction names in first-seen order; SiteState::jurisdiction indexes this.
  const std::vector<std::string>& jurisdictions() const { return jurisdictions_; }
  // The sites in one of `jurisdictions` (each a site's jurisdiction name)
  // and in one of `regions` (each a site's region); an empty list does not
  // narrow. Null when both are empty (every site); an empty set when no
  // site qualifies. Interned: the same ask gets the same set, so a million
  // jobs asking alike hold one (up to 4,096 distinct asks, then the cache
  // starts over). The cache makes this const call unsafe to run alongside
  // any other call, as every call here already is (not thread-safe).
  std::shared_ptr<const SiteSet> AllowedSites(const std::vector<std::string>& jurisdictions,
                                              const std::vector<std::string>& regions) const;
  // Whether some site is in one of `jurisdictions`.
  bool AnySiteIn(const std::vector<std::string>& jurisdictions) const;
  // Whether pool `p` could ever hold `req`'s gang by what it is: accelerator
  // type, node size for a fixed per-node count, jurisdiction and site.
  // (PoolAllows adds the round trip from the job's users.)
  bool PoolMatches(PoolId p, const JobRequest& req) const;

  // Coordinates of a site (by name) or a region (the mean of its sites'),
  // for JobRequest::users; false when no site has that name or region.
  bool PlaceCoordinates(const std::string& name, double* latitude, double* longitude) const;

  // Largest gang (devices) that could ever run in one pool the request allows,
  // counting down nodes too. 0 = no acceptable pool at all. Walks each
  // acceptable type's pools largest first, to the first it accepts; a
  // job with allowed sites asks once per (sites, types, node size), as a
  // set that rules out whole types would walk all their pools each time.
  int64_t MaxGang(const JobRequest& req) const;

  // For a scheduler that keeps per-pool indexes from pass to pass
  // (StargatePolicy): the pools whose nodes or release calendar changed
  // since `reader`'s last call. False (and no list) when this is the
  // first call, or another reader called last: the reader must then look
  // at every pool. A log, not a query (hence const with a mutable log):
  // each call starts a new one.
  bool TakeChangedPools(uint64_t reader, std::vector<PoolId>* pools) const;

  // Driver mutations. Allocate/Release keep the free indexes and busy counts
  // exact; callers must not over-allocate (checked in debug builds).
  void Allocate(NodeId n, int devices);
  void Release(NodeId n, int devices);
  // A node going down must be idle (the driver stops its jobs first).
  void SetNodeUp(NodeId n, bool up);
  // Node `n` back as the constructor made it: up, every device free, no
  // shared slot. For a driver that keeps one state from pass to pass and
  // lays what runs on it again each pass (the server), at the cost of the
  // nodes it laid last time, not of every node. Its running gangs are the
  // driver's to remove (RemoveRunning).
  void ResetNode(NodeId n);
  // The tenants' usage counted again from the running gangs, in the order
  // of `jobs` (the order a state built afresh adds them in, so the sums
  // round alike): adding and removing gangs pass after pass can leave a
  // rounding behind where a share's usage (0.1 + 0.2 - 0.1 - 0.2) should
  // be none, and fair share compares shares exactly.
  void RecountTenants(std::span<const JobId> jobs);
  // Whether `o`, built from the same sites, holds the same: each node's
  // free devices and state, shared slots, pool counts (nodes by free
  // devices), release calendars, running gangs and tenants' usage (to the
  // bit). Not the order of equal nodes in the free indexes, which depends
  // on the order they were freed in (in a state built afresh too: a search
  // may pick another of equal nodes). For tests of a driver that keeps its
  // state.
  bool SameAs(const ClusterState& o) const;
  void SetSignals(SiteId s, const SiteSignals& signals);

  // Shared devices (JobRequest::share_milli). Slot `slot` (0 up to the
  // node's device count) of node `n` is one of its devices split in
  // thousandths among jobs; while any share uses it, it is taken from the
  // node's free devices like a job's. The drivers number slots as the
  // scheduler's Start says (Start::share_slot); an agent maps a slot to
  // the device its first share got.
  static constexpr int kWholeShare = 1000;
  // Adds a share of `milli` to slot `slot` of `n`, opening the slot (one
  // free device taken) when no share used it; true when it opened.
  bool AddShare(NodeId n, int slot, int milli);
  // Takes the share away, closing the slot (its device back) when no
  // share is left; true when it closed.
  bool RemoveShare(NodeId n, int slot, int milli);
  // Thousandths in use in slot `slot` of `n` (0: closed).
  int ShareUsed(NodeId n, int slot) const;
  // Fills every open slot of `n`: no new share goes there (the server's
  // node that may not be ready, whose free devices it takes too).
  void FillShares(NodeId n);
  // One number for slot `slot` of node `n` (Claims' and the calendar's key).
  static uint64_t SlotKey(NodeId n, int slot) { return (uint64_t{n.value()} << 8) | static_cast<uint8_t>(slot); }
  // Calls f(node, slot, free thousandths) for pool `p`'s open slots with
  // at least `milli` free, fewest free first (then node, then slot), until
  // f returns true.
  template <class F>
  void ForSlotsWithRoom(PoolId p, int milli, F f) const {
    for (auto it = open_slots_.lower_bound(OpenSlot{p.value(), static_cast<int16_t>(milli), 0, 0});
         it != open_slots_.end() && it->pool == p.value(); ++it) {
      if (f(NodeId(it->node), static_cast<int>(it->slot), static_cast<int>(it->free))) return;
    }
  }
  // Changes whenever a site's grid figures (carbon now, ahead and lowest
  // ahead, price) change, not its load: orders by those figures are re-sorted only then.
  uint64_t grid_version() const { return grid_version_; }

  // The release calendar for backfill: the driver records each gang it
  // starts with its expected end and drops it when the devices come back.
  // O(log running) each.
  void AddRunning(const RunningGang& g);
  void RemoveRunning(JobId job);
  // Pool `p`'s running gangs by expected end, earliest first.
  const ReleaseCalendarTree& running(PoolId p) const { return running_[p.value()]; }
  // The gang of a running job, or nullptr.
  const RunningGang* Running(JobId job) const;

  // Per-tenant holdings of the running gangs (kept by AddRunning and
  // RemoveRunning) and the tenants' fair-share weights (set by the driver).
  const TenantLedger& tenants() const { return tenants_; }
  void SetTenantWeight(TenantId t, double weight) { tenants_.SetWeight(t, weight); }

 private:
  struct NodeState {
    uint16_t pool = 0;
    uint8_t free = 0;
    bool up = true;
    uint32_t bucket_pos = 0;  // position inside pools_[pool].buckets[free]
  };
  void MarkChanged(uint32_t pool);
  TenantUsage UsageOf(const RunningGang& g) const;
  void BucketInsert(uint32_t node);
  void BucketErase(uint32_t node);

  // An open shared slot, ordered for best-fit lookups per pool.
  struct OpenSlot {
    uint16_t pool;
    int16_t free;  // thousandths
    uint32_t node;
    uint8_t slot;
    auto operator<=>(const OpenSlot&) const = default;
  };
  // Slot `slot` of `n` with `used` thousandths in use, as open_slots_ keys it.
  OpenSlot OpenSlotOf(NodeId n, int slot, int used) const;

  std::vector<SiteState> sites_;
  std::vector<PoolState> pools_;
  // Thousandths used per slot, of nodes with an open slot only.
  std::unordered_map<uint32_t, std::vector<int16_t>> node_shares_;
  std::set<OpenSlot> open_slots_;
  std::vector<NodeState> nodes_;
  std::vector<std::string> jurisdictions_;
  // AllowedSites' interned sets, by (jurisdictions, regions). A cache: it
  // changes no answer, so it may change in a const call.
  using Ask = std::pair<std::vector<std::string>, std::vector<std::string>>;
  using AskRef = std::pair<const std::vector<std::string>&, const std::vector<std::string>&>;
  // Orders asks and looks one up by reference, without copying its names
  // (the server resolves every pending job at every pass).
  struct AskLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::tie(a.first, a.second) < std::tie(b.first, b.second);
    }
  };
  mutable std::map<Ask, std::shared_ptr<const SiteSet>, AskLess> allowed_sites_;
  struct WanLink {
    double bytes_per_s;
    double latency_s;  // 0: fibre over the distance
  };
  std::map<std::pair<uint16_t, uint16_t>, WanLink> wan_links_;  // (lower, higher) site
  WanBackbone backbone_;
  // Per site, km to its region's hub, once the region is on the backbone.
  std::vector<double> hub_km_;
  std::set<std::string, std::less<>> hubs_placed_;
  double FibreBetween(SiteId a, SiteId b) const;
  int64_t total_devices_ = 0;
  uint64_t shape_id_ = 0;
  uint64_t grid_version_ = 0;
  std::vector<ReleaseCalendarTree> running_;  // per pool
  // TakeChangedPools' log, kept once someone reads it. A copy of the
  // state starts with no reader: its reader must look at every pool.
  struct ChangeLog {
    uint64_t reader = 0;
    std::vector<PoolId> pools;
    std::vector<uint8_t> flag;  // per pool (empty: no log)
    ChangeLog() = default;
    ChangeLog(const ChangeLog&) {}
    ChangeLog& operator=(const ChangeLog&) {
      *this = ChangeLog();
      return *this;
    }
    ChangeLog(ChangeLog&&) = default;
    ChangeLog& operator=(ChangeLog&&) = default;
  };
  mutable ChangeLog log_;
  // Per accelerator type: its pools by devices and by nodes, largest
  // first (ties in pool order), so MaxGang stops at the first it accepts.
  std::vector<std::vector<PoolId>> by_devices_, by_nodes_;
  // MaxGang of a job with neither allowed sites nor a per-node count, by
  // its types: the largest pool of any of them (most jobs of a busy pass
  // that cannot start ask).
  std::array<int64_t, 1u << kNumAcceleratorTypes> largest_of_types_{};
  // MaxGang's answers for jobs with allowed sites, by (set, types, fixed
  // per-node count). A cache, like allowed_sites_: pools never change
  // after construction, and each entry holds its set so the address is
  // not reused while it is a key.
  using GangAsk = std::tuple<const SiteSet*, AcceleratorMask, int>;
  mutable std::map<GangAsk, std::pair<std::shared_ptr<const SiteSet>, int64_t>> max_gang_;
  int64_t MaxGangWalk(const JobRequest& req) const;
  std::unordered_map<uint32_t, RunningGang> running_by_job_;
  // Per shared slot (node << 8 | slot) with running shares: their
  // (expected end, job), the latest of which is the slot's calendar entry.
  std::map<uint64_t, std::set<std::pair<Time, uint32_t>>> slot_ends_;
  using SlotEnds = std::set<std::pair<Time, uint32_t>>;
  // The slot's calendar entry (its latest end) out of / into the calendar.
  void EraseSlotEntry(uint16_t pool, const SlotEnds& ends);
  void InsertSlotEntry(uint16_t pool, const SlotEnds& ends);
  TenantLedger tenants_;
};

}  // namespace stargate::sched
