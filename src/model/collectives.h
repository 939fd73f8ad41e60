// File: collectives.h
// Alpha-beta (latency-bandwidth) cost of all-reduce (Hockney 1994; Thakur,
// Rabenseifner & Gropp, "Optimization of Collective Communication Operations
// in MPICH", IJHPCA 19(1), 2005). The reduction's compute term (n*gamma) is
// left out: on GPUs it hides behind the transfers.
//
// Conventions for every function here:
//  - `n` is the size of the vector each rank holds, `p` the number of ranks;
//  - `link` is what ONE rank gets: its own per-direction bandwidth and the
//    per-message latency alpha of one hop;
//  - p <= 1 costs nothing; a non-positive bandwidth with n > 0 costs
//    Duration::Infinite() (no path), never a division by zero.
// Pure functions; thread-safe.
#pragma once

#include "core/units.h"

namespace stargate::model {

struct Link {
  BytesPerSec bandwidth;  // per rank, per direction
  Duration alpha;         // latency of one message over one hop
};

// Ring (reduce-scatter then all-gather), bandwidth-optimal:
//   2(p-1)*alpha + 2(p-1)/p * n/B
// (Thakur et al. 2005; NCCL's busbw factor 2(p-1)/p, nccl-tests
// doc/PERFORMANCE.md).
Duration RingAllReduce(Bytes n, int p, Link link);

// Binomial-tree reduce then broadcast, whole vector per hop (no pipelining):
//   2*ceil(log2 p)*(alpha + n/B). Wins only for small, latency-bound n.
Duration TreeAllReduce(Bytes n, int p, Link link);

// The cheaper of RingAllReduce and TreeAllReduce (what a tuned library such
// as NCCL or MPICH picks by message size).
Duration BestAllReduce(Bytes n, int p, Link link);

// Two-level all-reduce over p_inner * p_outer ranks arranged as p_outer groups
// of p_inner (e.g. GPUs of one NVLink domain):
//  1. ring reduce-scatter of n inside each group over `inner`,
//  2. BestAllReduce of the n/p_inner shard across the p_outer groups over
//     `outer` (p_inner such all-reduces run at once, one per rank of a group,
//     each on that rank's own `outer` link),
//  3. ring all-gather inside each group over `inner`.
// With p_outer == 1 this equals RingAllReduce(n, p_inner, inner); with
// p_inner == 1 it equals BestAllReduce(n, p_outer, outer).
Duration HierarchicalAllReduce(Bytes n, int p_inner, Link inner, int p_outer, Link outer);

}  // namespace stargate::model
