#include "sched/pool_orders.h"

#include <algorithm>

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
  if (moved || carbon != carbon_key_) {
    for (size_t t = 0; t < of_type_.size(); ++t) carbon_[t] = SortBy(state, of_type_[t], carbon, room_, due_);
    carbon_key_.swap(carbon);
  }
  if (moved || cost != cost_key_) {
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
  ForEachOrderOf(p, [&](Sorted& order) { order.room.Set(p, room); });
}

void PoolOrders::SetDue(PoolId p, int64_t due) {
  if (due_[p.value()] == due) return;
  due_[p.value()] = due;
  ForEachOrderOf(p, [&](Sorted& order) { order.due.Set(p, due); });
}

template <class F>
void PoolOrders::ForEachOrderOf(PoolId p, F f) {
  const size_t t = static_cast<size_t>(type_of_[p.value()]);
  f(carbon_[t]);
  f(cost_[t]);
  for (auto& [at, place] : places_) {
    if (place.sorted[t]) f(place.per_type[t]);
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
