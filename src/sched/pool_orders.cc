#include "sched/pool_orders.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>

#include "sched/site_score.h"

namespace stargate::sched {
namespace {

// Sorts `pools` by key[site of pool], ties in pool order, and indexes
// when they wake.
PoolOrders::Sorted SortBy(const ClusterState& state, const std::vector<PoolId>& pools,
                          const std::vector<double>& site_key, const std::vector<int64_t>& room,
                          const std::vector<int64_t>& due) {
  PoolOrders::Sorted out;
  out.pools = pools;
  std::stable_sort(out.pools.begin(), out.pools.end(), [&](PoolId a, PoolId b) {
    return site_key[state.pool(a).site.value()] < site_key[state.pool(b).site.value()];
  });
  out.keys.reserve(out.pools.size());
  for (PoolId p : out.pools) out.keys.push_back(site_key[state.pool(p).site.value()]);
  if (!room.empty()) {
    out.room.Build(out.pools, room);
    out.due.Build(out.pools, due);
  }
  return out;
}

// Orders positions [lo, hi) of `pools` (a node's cell; only those below
// `n` hold pools) so that each half of the cell holds the lower and the
// higher keys along the cell's wider key, relative to the whole plane's
// spread, recursively.
void SplitCells(std::vector<PoolId>& pools, size_t lo, size_t hi, size_t n, const std::vector<double>& x,
                const std::vector<double>& y, double x_span, double y_span) {
  const size_t end = std::min(hi, n);
  if (end <= lo + 1 || hi - lo < 2) return;
  double x_lo = x[pools[lo].value()], x_hi = x_lo, y_lo = y[pools[lo].value()], y_hi = y_lo;
  for (size_t i = lo + 1; i < end; ++i) {
    x_lo = std::min(x_lo, x[pools[i].value()]);
    x_hi = std::max(x_hi, x[pools[i].value()]);
    y_lo = std::min(y_lo, y[pools[i].value()]);
    y_hi = std::max(y_hi, y[pools[i].value()]);
  }
  const std::vector<double>& key = (x_hi - x_lo) * y_span >= (y_hi - y_lo) * x_span ? x : y;
  const size_t mid = lo + (hi - lo) / 2;
  if (mid < end) {
    std::nth_element(pools.begin() + static_cast<ptrdiff_t>(lo), pools.begin() + static_cast<ptrdiff_t>(mid),
                     pools.begin() + static_cast<ptrdiff_t>(end), [&](PoolId a, PoolId b) {
                       const double ka = key[a.value()], kb = key[b.value()];
                       return ka != kb ? ka < kb : a.value() < b.value();
                     });
  }
  SplitCells(pools, lo, mid, n, x, y, x_span, y_span);
  SplitCells(pools, mid, hi, n, x, y, x_span, y_span);
}

// `pools` as a k-d tree over the sites' two keys (Plane).
PoolOrders::Plane PlaneOf(const ClusterState& state, const std::vector<PoolId>& pools,
                          const std::vector<double>& carbon_key, const std::vector<double>& cost_key,
                          const std::vector<int64_t>& room, const std::vector<int64_t>& due) {
  PoolOrders::Plane out;
  out.pools = pools;
  const size_t n = pools.size();
  // Keys by pool, for the splits.
  std::vector<double> x(state.pools().size()), y(state.pools().size());
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t site = state.pool(pools[i]).site.value();
    x[pools[i].value()] = carbon_key[site];
    y[pools[i].value()] = cost_key[site];
    x_lo = i == 0 ? carbon_key[site] : std::min(x_lo, carbon_key[site]);
    x_hi = i == 0 ? carbon_key[site] : std::max(x_hi, carbon_key[site]);
    y_lo = i == 0 ? cost_key[site] : std::min(y_lo, cost_key[site]);
    y_hi = i == 0 ? cost_key[site] : std::max(y_hi, cost_key[site]);
  }
  size_t leaves = 1;  // as WakeIndex lays its tree out
  while (leaves < n) leaves *= 2;
  SplitCells(out.pools, 0, leaves, n, x, y, std::max(x_hi - x_lo, 1e-12), std::max(y_hi - y_lo, 1e-12));
  out.room.Build(out.pools, room);
  out.due.Build(out.pools, due);
  // Directions evenly spread in angle over the keys scaled by their least
  // (so a job weighing emissions and cost alike, each against its best,
  // falls between two of them).
  constexpr int K = PoolOrders::kDirections;
  const double x_scale = x_lo > 0 ? x_lo : std::max(x_hi, 1e-12);
  const double y_scale = y_lo > 0 ? y_lo : std::max(y_hi, 1e-12);
  for (int k = 0; k < K; ++k) {
    const double angle = std::numbers::pi / 2 * k / (K - 1);
    out.on_carbon[k] = k == K - 1 ? 0.0 : std::cos(angle) / x_scale;
    out.on_cost[k] = k == 0 ? 0.0 : std::sin(angle) / y_scale;
  }
  // Finite, so a zero weight times it is 0, not NaN.
  constexpr double kNone = std::numeric_limits<double>::max() / 8;
  out.least.assign(2 * leaves * K, kNone);
  for (size_t i = 0; i < n; ++i) {
    const PoolId p = out.pools[i];
    for (int k = 0; k < K; ++k) {
      out.least[(leaves + i) * K + k] = out.on_carbon[k] * x[p.value()] + out.on_cost[k] * y[p.value()];
    }
  }
  for (size_t i = leaves - 1; i >= 1; --i) {
    for (int k = 0; k < K; ++k) {
      out.least[i * K + k] = std::min(out.least[2 * i * K + k], out.least[(2 * i + 1) * K + k]);
    }
  }
  return out;
}

}  // namespace

bool PoolOrders::Update(const ClusterState& state, bool check_layout) {
  bool moved = false;
  if (check_layout || layout_.empty()) {
    std::vector<double> layout;
    layout.reserve(state.sites().size() * 3 + state.pools().size() * 3);
    for (const SiteState& s : state.sites()) {
      layout.insert(layout.end(), {s.latitude, s.longitude, s.located ? 1.0 : 0.0});
    }
    for (const PoolState& p : state.pools()) {
      layout.insert(layout.end(), {static_cast<double>(p.site.value()), static_cast<double>(p.type),
                                   static_cast<double>(p.per_node)});
    }
    moved = layout != layout_;
    if (moved) {
      layout_ = std::move(layout);
      places_.clear();
      ++places_cleared_;
    }
  }
  // The same state's grid figures as last time: nothing to re-sort.
  if (!check_layout && !moved && state.grid_version() == grid_version_) return false;
  grid_version_ = state.grid_version();
  const size_t sites = state.sites().size();
  negative_keys_ = false;
  std::vector<double>& carbon = scratch_[0];
  std::vector<double>& cost = scratch_[1];
  std::vector<double>& min_ahead = scratch_[2];
  carbon.resize(sites);
  cost.resize(sites);
  min_ahead.resize(sites);
  for (size_t i = 0; i < sites; ++i) {
    const SiteState& s = state.sites()[i];
    carbon[i] = s.pue * JudgedIntensity(s.signals);
    cost[i] = s.pue * s.signals.price;
    negative_keys_ = negative_keys_ || cost[i] < 0 || carbon[i] < 0;
    min_ahead[i] = s.signals.carbon_min_ahead;
  }
  if (moved) {
    of_type_.assign(kNumAcceleratorTypes, {});
    room_.assign(state.pools().size(), WakeIndex::Room(INT32_MAX, 0));
    due_.assign(state.pools().size(), WakeIndex::kNever);
    type_of_.clear();
    max_per_node_.assign(kNumAcceleratorTypes, 0);
    min_per_node_.assign(kNumAcceleratorTypes, 0);
    for (const PoolState& pool : state.pools()) {
      type_of_.push_back(pool.type);
      int& most = max_per_node_[static_cast<size_t>(pool.type)];
      int& fewest = min_per_node_[static_cast<size_t>(pool.type)];
      most = std::max(most, pool.per_node);
      fewest = fewest == 0 ? pool.per_node : std::min(fewest, pool.per_node);
    }
    all_.resize(state.pools().size());
    for (size_t i = 0; i < all_.size(); ++i) {
      all_[i] = PoolId(static_cast<uint16_t>(i));
      of_type_[static_cast<size_t>(state.pools()[i].type)].push_back(all_[i]);
    }
  }
  const bool carbon_moved = moved || carbon != carbon_key_;
  const bool cost_moved = moved || cost != cost_key_;
  if (carbon_moved || cost_moved) {
    for (size_t t = 0; t < of_type_.size(); ++t) both_[t] = PlaneOf(state, of_type_[t], carbon, cost, room_, due_);
    for (auto& [at, place] : places_) place.balls.clear();  // built again on first use
  }
  if (carbon_moved) {
    for (size_t t = 0; t < of_type_.size(); ++t) carbon_[t] = SortBy(state, of_type_[t], carbon, room_, due_);
    carbon_key_.swap(carbon);
  }
  if (cost_moved) {
    for (size_t t = 0; t < of_type_.size(); ++t) cost_[t] = SortBy(state, of_type_[t], cost, room_, due_);
    cost_key_.swap(cost);
  }
  if (moved || min_ahead != min_ahead_key_) {
    min_ahead_ = SortBy(state, all_, min_ahead, {}, {});
    min_ahead_key_.swap(min_ahead);
  }
  return moved;
}

void PoolOrders::SetRoom(PoolId p, int64_t room) {
  if (room_[p.value()] == room) return;
  room_[p.value()] = room;
  ForEachOrderOf(p, [&](auto& order) { order.room.Set(p, room); });
}

void PoolOrders::SetDue(PoolId p, int64_t due) {
  if (due_[p.value()] == due) return;
  due_[p.value()] = due;
  ForEachOrderOf(p, [&](auto& order) { order.due.Set(p, due); });
}

template <class F>
void PoolOrders::ForEachOrderOf(PoolId p, F f) {
  const size_t t = static_cast<size_t>(type_of_[p.value()]);
  f(carbon_[t]);
  f(cost_[t]);
  f(both_[t]);
  for (auto& [at, place] : places_) {
    if (place.sorted[t]) f(place.per_type[t]);
    for (auto& [key, ball] : place.balls) {
      if (key.first != t) continue;
      f(ball.carbon);
      f(ball.cost);
      f(ball.both);
    }
  }
}

PoolOrders::Place& PoolOrders::PlaceAt(const ClusterState& state, float latitude, float longitude) {
  // A network whose jobs come from many places keeps the cache bounded.
  constexpr size_t kMaxPlaces = 256;
  const std::pair<float, float> at{latitude, longitude};
  auto it = places_.find(at);
  if (it != places_.end()) return it->second;
  if (places_.size() >= kMaxPlaces) {
    places_.clear();
    ++places_cleared_;
  }
  Place& place = places_[at];
  place.per_site.reserve(state.sites().size());
  for (const SiteState& s : state.sites()) place.per_site.push_back(RoundTripMs(s, latitude, longitude));
  place.per_type.resize(kNumAcceleratorTypes);
  place.sorted.assign(kNumAcceleratorTypes, 0);
  return place;
}

const PoolOrders::Reach& PoolOrders::Ball(const ClusterState& state, AcceleratorType t, float latitude, float longitude,
                                          double limit_ms) {
  const Sorted& by_rtt = ByRoundTrip(state, t, latitude, longitude);
  Place& place = PlaceAt(state, latitude, longitude);
  const std::pair<size_t, double> key{Index(t), limit_ms};
  if (auto it = place.balls.find(key); it != place.balls.end()) return it->second;
  // Full: keep this limit's (a search asks for each of its types in turn).
  if (place.balls.size() >= kMaxBalls) std::erase_if(place.balls, [&](auto& e) { return e.first.second != limit_ms; });
  std::vector<PoolId> within;
  for (size_t i = 0; i < by_rtt.pools.size() && by_rtt.keys[i] <= limit_ms; ++i) within.push_back(by_rtt.pools[i]);
  std::sort(within.begin(), within.end());  // pool order: the orders break ties by it
  Reach& reach = place.balls[key];
  reach.carbon = SortBy(state, within, carbon_key_, room_, due_);
  reach.cost = SortBy(state, within, cost_key_, room_, due_);
  reach.both = PlaneOf(state, within, carbon_key_, cost_key_, room_, due_);
  return reach;
}

const std::vector<double>& PoolOrders::RoundTrips(const ClusterState& state, float latitude, float longitude) {
  return PlaceAt(state, latitude, longitude).per_site;
}

const PoolOrders::Sorted& PoolOrders::ByRoundTrip(const ClusterState& state, AcceleratorType t, float latitude,
                                                  float longitude) {
  Place& place = PlaceAt(state, latitude, longitude);
  if (!place.sorted[Index(t)]) {
    place.per_type[Index(t)] = SortBy(state, of_type_[Index(t)], place.per_site, room_, due_);
    place.sorted[Index(t)] = 1;
  }
  return place.per_type[Index(t)];
}

}  // namespace stargate::sched
