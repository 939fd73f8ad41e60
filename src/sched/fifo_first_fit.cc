#include "sched/fifo_first_fit.h"

#include "sched/placement.h"

namespace stargate::sched {

Decisions FifoFirstFit::Schedule(const ClusterState& state, const Queue& queue, Time now) {
  Decisions out;
  Claims& claims = claims_;
  claims.Reset(state);
  PlaceRepairs(state, queue, claims, out);
  for (const JobRequest& req : queue) {
    if (req.spread_sites) {  // one node per site, first sites first
      const GangShape shape = ShapeFor(req, 1);
      std::vector<NodeId> nodes = PlaceSpread(state, req, shape, claims);
      if (!nodes.empty()) {
        const PoolId pool = state.PoolOf(nodes.front());
        out.items.push_back(Start{req.id, state.pool(pool).site, pool, std::move(nodes), shape.per_node, {}});
        continue;
      }
      if (std::optional<Reject> never = NeverFitsSpread(state, req)) {
        out.items.push_back(std::move(*never));
        continue;
      }
      break;
    }
    bool placed = false;
    for (size_t p = 0; p < state.pools().size() && !placed; ++p) {
      const PoolId pool(static_cast<uint16_t>(p));
      if (!PoolAllows(state, pool, req)) continue;
      if (req.share_milli > 0) {  // a share of one device, packed
        const std::optional<ShareSpot> spot = FindShare(state, pool, req.share_milli, claims);
        if (!spot) continue;
        out.items.push_back(ClaimShare(state, req, pool, *spot, claims));
        placed = true;
        continue;
      }
      const GangShape shape = ShapeFor(req, state.pool(pool).per_node);
      std::vector<NodeId> nodes = FindNodes(state, pool, shape, claims);
      if (nodes.empty()) continue;
      for (NodeId n : nodes) claims.Add(state, pool, n.value(), shape.per_node);
      out.items.push_back(Start{req.id, state.pool(pool).site, pool, std::move(nodes), shape.per_node, {}});
      placed = true;
    }
    if (placed) continue;
    if (std::optional<Reject> never = NeverFits(state, req)) {
      out.items.push_back(std::move(*never));
      continue;
    }
    break;  // head-of-line blocking: FIFO waits for the head
  }
  return out;
}

}  // namespace stargate::sched
