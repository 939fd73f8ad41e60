#include "sched/wan_backbone.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <tuple>

namespace stargate::sched {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

void WanBackbone::Link(const std::string& a, const std::string& b, double bytes_per_s, double latency_s) {
  auto hub = [&](const std::string& name) {
    auto [it, added] = hub_.try_emplace(name, static_cast<uint32_t>(edges_.size()));
    if (added) edges_.emplace_back();
    return it->second;
  };
  const uint32_t x = hub(a), y = hub(b);
  for (auto [from, to] : {std::pair{x, y}, std::pair{y, x}}) {
    std::vector<Edge>& out = edges_[from];
    std::erase_if(out, [&](const Edge& e) { return e.to == to; });
    out.push_back(Edge{to, bytes_per_s, latency_s});
  }
  solved_ = false;
}

void WanBackbone::Solve() const {
  // Dijkstra from every hub, by latency, a wider path winning a tie: the
  // backbone has a hub per region, so this is small.
  const size_t n = edges_.size();
  paths_.assign(n * n, Path{kInf, 0});
  using Item = std::tuple<double, double, uint32_t>;  // latency, -bandwidth, hub
  for (uint32_t s = 0; s < n; ++s) {
    Path* best = &paths_[s * n];
    best[s] = Path{0, kInf};
    std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
    queue.emplace(0.0, -kInf, s);
    while (!queue.empty()) {
      const auto [latency, neg_bw, u] = queue.top();
      queue.pop();
      if (latency != best[u].latency_s || -neg_bw != best[u].bytes_per_s) continue;  // superseded
      for (const Edge& e : edges_[u]) {
        const Path via{latency + e.latency_s, std::min(-neg_bw, e.bytes_per_s)};
        Path& known = best[e.to];
        if (via.latency_s < known.latency_s ||
            (via.latency_s == known.latency_s && via.bytes_per_s > known.bytes_per_s)) {
          known = via;
          queue.emplace(via.latency_s, -via.bytes_per_s, e.to);
        }
      }
    }
  }
  solved_ = true;
}

std::optional<WanBackbone::Path> WanBackbone::PathBetween(std::string_view a, std::string_view b) const {
  const auto x = hub_.find(a), y = hub_.find(b);
  if (x == hub_.end() || y == hub_.end()) return std::nullopt;
  if (!solved_) Solve();
  const Path& p = paths_[x->second * edges_.size() + y->second];
  if (p.latency_s == kInf) return std::nullopt;
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
  return p->latency_s;
}

}  // namespace stargate::sched
