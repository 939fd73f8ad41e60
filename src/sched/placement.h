// File: placement.h
// Gang shape and node search inside one pool, shared by every policy.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sched/claims.h"
#include "sched/cluster_state.h"
#include "sched/decisions.h"
#include "sched/queue.h"

namespace stargate::sched {

// How a gang of `devices` lays out on nodes of `per_node` devices: one node
// when it fits on one, otherwise whole nodes.
struct GangShape {
  int nodes = 1;
  int per_node = 1;
  int64_t devices() const { return static_cast<int64_t>(nodes) * per_node; }
};
GangShape ShapeFor(int devices, int per_node);
// The shape of `req`'s gang in a pool of `per_node`-device nodes: its
// fixed per-node count when it has one, else ShapeFor(devices, per_node).
GangShape ShapeFor(const JobRequest& req, int per_node);

// True if pool `p` allows `req`: accelerator type, jurisdiction, site
// (regions), and the round trip from the job's users within its max_rtt.
bool PoolAllows(const ClusterState& state, PoolId p, const JobRequest& req);
// The same with the round trip to a site from `round_trip(site)` (a
// caller's cache of RoundTripMs), called only when the job has a limit.
template <class RoundTrip>
bool PoolAllows(const ClusterState& state, PoolId p, const JobRequest& req, RoundTrip round_trip) {
  if (!state.PoolMatches(p, req)) return false;
  if (req.max_rtt <= Duration::Zero()) return true;
  const SiteId site = state.pool(p).site;
  return state.site(site).located && round_trip(site) <= req.max_rtt.seconds() * 1e3;
}

// A Reject for `req` when no allowed pool could ever hold its gang (down
// nodes counted as up), with the reason; nullopt when one could.
std::optional<Reject> NeverFits(const ClusterState& state, const JobRequest& req);

// Picks `shape.nodes` up nodes of pool `p` with >= shape.per_node free devices
// after `claims`, tightest fit first (fewest free devices), so whole nodes stay
// whole for big gangs. `reserve_nodes` whole nodes' worth of devices must stay
// free afterwards (hot spares). Returns empty when the pool cannot host the
// gang. Cost: O(nodes returned + claimed nodes skipped).
std::vector<NodeId> FindNodes(const ClusterState& state, PoolId p, GangShape shape, const Claims& claims,
                              uint32_t reserve_nodes = 0);

// A gang with `spread_sites`: one node of `shape.per_node` free devices in
// each of `shape.nodes` different sites, from allowed pools, keeping each
// pool's hot spares. `rank_pool` orders the candidate pools (lower first,
// e.g. a site score; nullptr = pool order); the first node goes to the best
// site. Empty when fewer sites have room. The nodes are claimed.
std::vector<NodeId> PlaceSpread(const ClusterState& state, const JobRequest& req, GangShape shape, Claims& claims,
                                const std::function<double(PoolId)>& rank_pool = nullptr);

// For a `spread_sites` request: a Reject when fewer sites than its nodes
// have an allowed pool whose nodes are big enough; nullopt otherwise.
std::optional<Reject> NeverFitsSpread(const ClusterState& state, const JobRequest& req);

// Where a share of one device (JobRequest::share_milli) goes in pool `p`
// after `claims`: the open slot with the least room that holds it (slots
// open before the pass, then those it opened), else a new slot (the node's
// lowest free slot number) on the tightest node with a free device,
// keeping `reserve_nodes` whole free nodes. Packing onto open slots first
// keeps devices whole for whole-device work.
struct ShareSpot {
  NodeId node;
  int slot = 0;
  bool opens = false;  // a new slot: takes one of the node's free devices
};
std::optional<ShareSpot> FindShare(const ClusterState& state, PoolId p, int milli, const Claims& claims,
                                   uint32_t reserve_nodes = 0);
// Claims `spot` for `req` in `claims` and returns its Start.
Start ClaimShare(const ClusterState& state, const JobRequest& req, PoolId p, const ShareSpot& spot, Claims& claims,
                 std::string reason = {}, double power_cap = 0);

// Topology-aware FindNodes for gangs of whole nodes: all in one
// NVLink domain if one has room, else all under one leaf switch, else over
// the fewest leaves (fullest first); the tightest such block is chosen so
// roomy ones stay whole for bigger gangs. The twin's step-time model
// (model/placement_shape.h) charges the gradient all-reduce for every level
// the gang spans, so a narrower span is a faster job. Gangs of partial
// nodes, and single nodes, go to FindNodes. `reserve_nodes` whole free
// nodes must remain. Cost: O(nodes per block x blocks visited) plus the
// bucket probes.
std::vector<NodeId> FindGangNodes(const ClusterState& state, PoolId p, GangShape shape, const Claims& claims,
                                  uint32_t reserve_nodes = 0);

// How much longer a training job runs in pool `p` than at its tightest
// span there, given the span FindGangNodes would give its gang now (one
// NVLink domain, one leaf, or several leaves, after `claims`), by the
// step-time model (model/step_time.h) on the pool's accelerator and the
// site's fabric. 1 for non-training work and single-node gangs. The span
// is predicted from block counts, so a gang that ends up wider than
// predicted is charged by the twin, not here.
double SpanFactor(const ClusterState& state, PoolId p, GangShape shape, const Claims& claims, const JobRequest& req);

// A replacement for `failed` (a node of a gang in pool `p`) with `per_node`
// free devices after `claims`: first in the failed node's NVLink domain, then
// its leaf, so the repaired gang keeps its span; then anywhere in the pool.
// Cost: O(nodes per leaf) plus one bucket probe.
std::optional<NodeId> FindSpare(const ClusterState& state, PoolId p, NodeId failed, int per_node, const Claims& claims);

// Serves the queue's gang-repair requests, oldest first: one Repair per
// failed node a spare was found for (claimed in `claims`). A gang resumes
// once all its failed nodes are replaced; the rest wait for the next pass.
// Every policy calls this before placing new work.
void PlaceRepairs(const ClusterState& state, const Queue& queue, Claims& claims, Decisions& out);

}  // namespace stargate::sched
