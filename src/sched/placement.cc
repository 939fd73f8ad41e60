#include "sched/placement.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/placement_shape.h"
#include "model/step_time.h"
#include "sched/site_score.h"

namespace stargate::sched {

GangShape ShapeFor(int devices, int per_node) {
  if (devices <= per_node) return GangShape{1, devices};
  return GangShape{(devices + per_node - 1) / per_node, per_node};
}

GangShape ShapeFor(const JobRequest& req, int per_node) {
  if (req.fixed_per_node <= 0) return ShapeFor(req.accelerators, per_node);
  return GangShape{(req.accelerators + req.fixed_per_node - 1) / req.fixed_per_node, req.fixed_per_node};
}

std::optional<Reject> NeverFits(const ClusterState& state, const JobRequest& req) {
  const int64_t max_gang = state.MaxGang(req);
  if (max_gang >= req.accelerators) return std::nullopt;
  // Data residency first: say so when it alone rules every site out.
  if (req.residency_unmet) {
    // A network of many jurisdictions names the first few.
    constexpr size_t kNamed = 20;
    const std::vector<std::string>& all = state.jurisdictions();
    std::string known;
    for (size_t i = 0; i < all.size() && i < kNamed; ++i) known += (known.empty() ? "" : ", ") + all[i];
    if (all.size() > kNamed) known += fmt::format(" and {} more", all.size() - kNamed);
    return Reject{req.id,
                  fmt::format("data residency: no site is in a jurisdiction the job allows (sites are in: {})", known)};
  }
  if (max_gang > 0) {
    return Reject{req.id,
                  fmt::format("needs {} accelerators; the largest allowed pool has {}", req.accelerators, max_gang)};
  }
  if (req.fixed_per_node > 0) {
    return Reject{req.id,
                  fmt::format("no allowed site has nodes with {} accelerators of an allowed type", req.fixed_per_node)};
  }
  return Reject{req.id, "no site offers an allowed accelerator type in an allowed jurisdiction"};
}

bool PoolAllows(const ClusterState& state, PoolId p, const JobRequest& req) {
  return PoolAllows(state, p, req, [&](SiteId site) { return RoundTripMs(state.site(site), req); });
}

std::vector<NodeId> FindNodes(const ClusterState& state, PoolId p, GangShape shape, const Claims& claims,
                              uint32_t reserve_nodes) {
  const PoolState& pool = state.pool(p);
  const int64_t need = shape.devices() + static_cast<int64_t>(reserve_nodes) * pool.per_node;
  if (pool.free_devices - claims.OnPool(p) < need) return {};
  // Exact after claims, so a search that starts always succeeds.
  if (!claims.HasNodesWithFree(state, p, shape.per_node, shape.nodes)) return {};
  std::vector<NodeId> out;
  out.reserve(shape.nodes);
  auto full = [&] { return static_cast<int>(out.size()) >= shape.nodes; };
  for (int f = shape.per_node; f <= pool.per_node && !full(); ++f) {
    claims.Nodes(p).ForEachWith(pool.buckets, f, [&](uint32_t local) {
      out.push_back(NodeId(pool.first_node + local));
      return full();
    });
  }
  if (!full()) return {};
  return out;
}

std::optional<ShareSpot> FindShare(const ClusterState& state, PoolId p, int milli, const Claims& claims,
                                   uint32_t reserve_nodes) {
  std::optional<ShareSpot> spot;
  state.ForSlotsWithRoom(p, milli, [&](NodeId n, int slot, int free) {
    // (A drained node keeps its running shares' slots, and takes no more.)
    if (!state.IsUp(n) || free - claims.ShareClaimed(n.value(), slot) < milli) return false;
    spot = ShareSpot{n, slot, false};
    return true;
  });
  if (spot) return spot;
  claims.ForSlotsOpened(p, [&](uint32_t n, int slot) {
    if (ClusterState::kWholeShare - claims.ShareClaimed(n, slot) < milli) return false;
    spot = ShareSpot{NodeId(n), slot, false};
    return true;
  });
  if (spot) return spot;
  const std::vector<NodeId> nodes = FindNodes(state, p, GangShape{1, 1}, claims, reserve_nodes);
  if (nodes.empty()) return std::nullopt;
  const NodeId n = nodes.front();
  int slot = 0;
  while (state.ShareUsed(n, slot) > 0 || claims.ShareClaimed(n.value(), slot) > 0) ++slot;
  return ShareSpot{n, slot, true};
}

Start ClaimShare(const ClusterState& state, const JobRequest& req, PoolId p, const ShareSpot& spot, Claims& claims,
                 std::string reason, double power_cap) {
  claims.AddShare(state, p, spot.node.value(), spot.slot, req.share_milli, spot.opens);
  Start s{req.id, state.pool(p).site, p, {spot.node}, 1, std::move(reason), power_cap};
  s.share_milli = req.share_milli;
  s.share_slot = spot.slot;
  return s;
}

namespace {

// Appends the whole free, unclaimed nodes of block `b` of `level` to `out`
// until it holds `want`.
void TakeWholeNodes(const ClusterState& state, const PoolState& pool, const BlockIndex& level, uint32_t b,
                    const Claims& claims, PoolId p, size_t want, std::vector<NodeId>& out) {
  const uint32_t begin = b * static_cast<uint32_t>(level.block_nodes);
  const uint32_t end = std::min(pool.num_nodes, begin + static_cast<uint32_t>(level.block_nodes));
  for (uint32_t i = begin; i < end && out.size() < want; ++i) {
    const NodeId n(pool.first_node + i);
    if (state.IsUp(n) && state.FreeOn(n) == pool.per_node && claims.Nodes(p).Taken(i) == 0) out.push_back(n);
  }
}

}  // namespace

std::vector<NodeId> FindGangNodes(const ClusterState& state, PoolId p, GangShape shape, const Claims& claims,
                                  uint32_t reserve_nodes) {
  const PoolState& pool = state.pool(p);
  if (shape.nodes <= 1 || shape.per_node != pool.per_node) {
    return FindNodes(state, p, shape, claims, reserve_nodes);
  }
  const size_t k = static_cast<size_t>(shape.nodes);
  if (!claims.HasNodesWithFree(state, p, pool.per_node, static_cast<int64_t>(k + reserve_nodes))) return {};
  std::vector<NodeId> out;
  out.reserve(k);
  // One NVLink domain, else one leaf: the block with the fewest whole free
  // nodes that still holds the gang, so roomy blocks stay whole.
  const std::pair<const BlockIndex*, const CountOverlay*> levels[] = {{&pool.domains, &claims.Domains(p)},
                                                                      {&pool.leaves, &claims.Leaves(p)}};
  for (const auto& [level, overlay] : levels) {
    if (level->block_nodes <= 1 || k > static_cast<size_t>(level->block_nodes)) continue;
    for (int c = static_cast<int>(k); c <= level->block_nodes; ++c) {
      uint32_t block = 0;
      if (overlay->ForEachWith(level->buckets, c, [&](uint32_t b) {
            block = b;
            return true;
          })) {
        TakeWholeNodes(state, pool, *level, block, claims, p, k, out);
        return out;
      }
    }
  }
  // Wider than a leaf, or no leaf has room: the fullest leaves first, so the
  // gang spans as few leaves as it can.
  const CountOverlay& leaves = claims.Leaves(p);
  for (int c = pool.leaves.block_nodes; c >= 1 && out.size() < k; --c) {
    leaves.ForEachWith(pool.leaves.buckets, c, [&](uint32_t b) {
      TakeWholeNodes(state, pool, pool.leaves, b, claims, p, k, out);
      return out.size() >= k;
    });
  }
  if (out.size() < k) return {};  // not reached: the whole-node count said there were enough
  return out;
}

double SpanFactor(const ClusterState& state, PoolId p, GangShape shape, const Claims& claims, const JobRequest& req) {
  if (req.training == nullptr || shape.nodes <= 1) return 1.0;
  const PoolState& pool = state.pool(p);
  const int k = shape.nodes;
  auto ceil_div = [](int a, int b) { return (a + b - 1) / b; };
  // Tightest: whole domains, whole leaves, whole pods.
  model::PlacementShape tight;
  tight.devices = k * shape.per_node;
  tight.nodes = k;
  tight.devices_per_node = shape.per_node;
  tight.domains = ceil_div(k, pool.domain_nodes);
  tight.leaves = ceil_div(k, pool.nodes_per_leaf);
  tight.pods = ceil_div(tight.leaves, pool.leaves_per_pod);
  // What the search would find now (FindGangNodes' order).
  model::PlacementShape now = tight;
  const bool whole = shape.per_node == pool.per_node;
  auto block_with_room = [&](const BlockIndex& level, const CountOverlay& overlay) {
    return level.block_nodes > 1 && k <= level.block_nodes && overlay.HasAtLeast(level.buckets, k, 1);
  };
  if (whole && block_with_room(pool.domains, claims.Domains(p))) {
    // one NVLink domain: as tight as it gets
  } else if (whole && block_with_room(pool.leaves, claims.Leaves(p))) {
    now.domains = std::min(k, tight.domains + 1);
    now.leaves = now.pods = 1;
  } else {
    now.domains = std::min(k, tight.domains + 1);
    now.leaves = std::min(k, tight.leaves + 1);
    now.pods = std::min(now.leaves, tight.pods + 1);
  }
  const SiteState& site = state.site(pool.site);
  const AcceleratorSpec& accel = Spec(pool.type);
  const double best = model::TrainingStep(*req.training, accel, site.fabric, tight).step.seconds();
  const double here = model::TrainingStep(*req.training, accel, site.fabric, now).step.seconds();
  return best > 0 && here > best ? here / best : 1.0;
}

std::optional<NodeId> FindSpare(const ClusterState& state, PoolId p, NodeId failed, int per_node,
                                const Claims& claims) {
  const PoolState& pool = state.pool(p);
  auto fits = [&](uint32_t node) {
    return state.IsUp(NodeId(node)) && state.FreeOn(NodeId(node)) - claims.On(node) >= per_node;
  };
  // Scan the failed node's domain, then the rest of its leaf.
  const uint32_t local = failed.value() - pool.first_node;
  for (const uint32_t block : {static_cast<uint32_t>(pool.domain_nodes), static_cast<uint32_t>(pool.nodes_per_leaf)}) {
    const uint32_t begin = local / block * block;
    const uint32_t end = std::min(pool.num_nodes, begin + block);
    for (uint32_t i = begin; i < end; ++i) {
      if (fits(pool.first_node + i)) return NodeId(pool.first_node + i);
    }
  }
  std::vector<NodeId> any = FindNodes(state, p, GangShape{1, per_node}, claims);
  if (any.empty()) return std::nullopt;
  return any.front();
}

std::vector<NodeId> PlaceSpread(const ClusterState& state, const JobRequest& req, GangShape shape, Claims& claims,
                                const std::function<double(PoolId)>& rank_pool) {
  // The best allowed pool with a free node in each site.
  std::vector<std::pair<double, NodeId>> best(state.sites().size(), {0.0, NodeId(0)});
  std::vector<char> found(state.sites().size(), 0);
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (!PoolAllows(state, p, req)) continue;
    const PoolState& pool = state.pool(p);
    if (pool.per_node < shape.per_node) continue;
    const double rank = rank_pool ? rank_pool(p) : static_cast<double>(i);
    const size_t site = pool.site.value();
    if (found[site] && best[site].first <= rank) continue;
    std::vector<NodeId> node = FindNodes(state, p, GangShape{1, shape.per_node}, claims, pool.hot_spares);
    if (node.empty()) continue;
    best[site] = {rank, node.front()};
    found[site] = 1;
  }
  std::vector<std::pair<double, NodeId>> sites;
  for (size_t s = 0; s < best.size(); ++s) {
    if (found[s]) sites.push_back(best[s]);
  }
  if (static_cast<int>(sites.size()) < shape.nodes) return {};
  std::stable_sort(sites.begin(), sites.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<NodeId> nodes;
  for (int i = 0; i < shape.nodes; ++i) {
    const NodeId n = sites[static_cast<size_t>(i)].second;
    claims.Add(state, state.PoolOf(n), n.value(), shape.per_node);
    nodes.push_back(n);
  }
  return nodes;
}

std::optional<Reject> NeverFitsSpread(const ClusterState& state, const JobRequest& req) {
  const GangShape shape = ShapeFor(req, 1);
  std::vector<char> site_ok(state.sites().size(), 0);
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (PoolAllows(state, p, req) && state.pool(p).per_node >= shape.per_node) site_ok[state.pool(p).site.value()] = 1;
  }
  const int sites = static_cast<int>(std::count(site_ok.begin(), site_ok.end(), 1));
  if (sites >= shape.nodes) return std::nullopt;
  return Reject{req.id, fmt::format("spreads {} nodes over as many sites; {} allowed site(s) have nodes of {} devices",
                                    shape.nodes, sites, shape.per_node)};
}

void PlaceRepairs(const ClusterState& state, const Queue& queue, Claims& claims, Decisions& out) {
  for (const JobRequest& req : queue.repairs()) {
    for (NodeId failed : req.repair) {
      const std::optional<NodeId> spare = FindSpare(state, req.repair_pool, failed, req.per_node, claims);
      if (!spare) break;
      claims.Add(state, req.repair_pool, spare->value(), req.per_node);
      out.items.push_back(Repair{req.id, failed, *spare});
    }
  }
}

}  // namespace stargate::sched
