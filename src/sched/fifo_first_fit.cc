#include "sched/fifo_first_fit.h"

#include <fmt/format.h>

#include "sched/placement.h"

namespace stargate::sched {

Decisions FifoFirstFit::Schedule(const ClusterState& state, const Queue& queue, Time now) {
  Decisions out;
  Claims& claims = claims_;
  claims.Reset(state);
  PlaceRepairs(state, queue, claims, out);
  for (const JobRequest& req : queue) {
    bool placed = false;
    for (size_t p = 0; p < state.pools().size() && !placed; ++p) {
      const PoolId pool(static_cast<uint16_t>(p));
      if (!PoolAllows(state, pool, req)) continue;
      const GangShape shape = ShapeFor(req.accelerators, state.pool(pool).per_node);
      std::vector<NodeId> nodes = FindNodes(state, pool, shape, claims);
      if (nodes.empty()) continue;
      for (NodeId n : nodes) claims.Add(state, pool, n.value(), shape.per_node);
      out.items.push_back(Start{req.id, state.pool(pool).site, pool, std::move(nodes), shape.per_node, {}});
      placed = true;
    }
    if (placed) continue;
    const int64_t max_gang = state.MaxGang(req);
    if (max_gang < req.accelerators) {
      out.items.push_back(Reject{req.id, max_gang == 0
          ? std::string("no site offers an allowed accelerator type in an allowed jurisdiction")
          : fmt::format("needs {} accelerators; the largest allowed pool has {}", req.accelerators, max_gang)});
      continue;
    }
    break;  // head-of-line blocking: FIFO waits for the head
  }
  return out;
}

}  // namespace stargate::sched
