#include "sched/wan_backbone.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <tuple>

namespace stargate::sched {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kNoPath = std::numeric_limits<int64_t>::max();

}  // namespace

void WanBackbone::Link(const std::string& a, const std::string& b, double bytes_per_s, double latency_s) {
  auto hub = [&](const std::string& name) {
    auto [it, added] = hub_.try_emplace(name, static_cast<uint32_t>(edges_.size()));
    if (added) edges_.emplace_back();
    return it->second;
  };
  const uint32_t x = hub(a), y = hub(b);
  // Whole nanoseconds: latencies summed along a path then tie exactly
  // when they should (10 ms + 20 ms is 30 ms), so the wider path wins.
  const int64_t latency_ns = std::llround(std::max(0.0, latency_s) * 1e9);
  for (const std::pair<uint32_t, uint32_t>& ends : {std::pair{x, y}, std::pair{y, x}}) {
    std::vector<Edge>& out = edges_[ends.first];
    const uint32_t to = ends.second;
    std::erase_if(out, [&](const Edge& e) { return e.to == to; });
    out.push_back(Edge{to, bytes_per_s, latency_ns});
  }
  from_.clear();  // every source is solved again on first use
}

const std::vector<WanBackbone::Path>& WanBackbone::From(uint32_t s) const {
  // Dijkstra from one hub, by latency, a wider path winning a tie; solved
  // for a source when first asked, so a backbone of many hubs costs only
  // the sources that transfers start from.
  if (from_.empty()) from_.resize(edges_.size());
  std::vector<Path>& best = from_[s];
  if (!best.empty()) return best;
  best.assign(edges_.size(), Path{kNoPath, 0});
  best[s] = Path{0, kInf};
  using Item = std::tuple<int64_t, double, uint32_t>;  // latency, -bandwidth, hub
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  queue.emplace(0, -kInf, s);
  while (!queue.empty()) {
    const auto [latency, neg_bw, u] = queue.top();
    queue.pop();
    if (latency != best[u].latency_ns || -neg_bw != best[u].bytes_per_s) continue;  // superseded
    for (const Edge& e : edges_[u]) {
      const Path via{latency + e.latency_ns, std::min(-neg_bw, e.bytes_per_s)};
      Path& known = best[e.to];
      if (via.latency_ns < known.latency_ns ||
          (via.latency_ns == known.latency_ns && via.bytes_per_s > known.bytes_per_s)) {
        known = via;
        queue.emplace(via.latency_ns, -via.bytes_per_s, e.to);
      }
    }
  }
  return best;
}

std::optional<WanBackbone::Path> WanBackbone::PathBetween(std::string_view a, std::string_view b) const {
  const auto x = hub_.find(a), y = hub_.find(b);
  if (x == hub_.end() || y == hub_.end()) return std::nullopt;
  const Path& p = From(x->second)[y->second];
  if (p.latency_ns == kNoPath) return std::nullopt;
  return p;
}

std::optional<double> WanBackbone::PathBytesPerSec(std::string_view a, std::string_view b) const {
  const std::optional<Path> p = PathBetween(a, b);
  if (!p) return std::nullopt;
  return p->bytes_per_s;
}

std::optional<double> WanBackbone::PathLatency(std::string_view a, std::string_view b) const {
  const std::optional<Path> p = PathBetween(a, b);
  if (!p) return std::nullopt;
  return static_cast<double>(p->latency_ns) * 1e-9;
}

}  // namespace stargate::sched
