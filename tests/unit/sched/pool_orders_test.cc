// PoolOrders' planes (the k-d trees over both site keys) hold what the
// bounded search relies on, however often the keys move: every pool of
// the type once, each node's least sums the least over the pools below it
// at the keys now (whether the plane was split anew or refilled), room
// and due kept per pool; and a ball holds exactly the pools within reach,
// with the least round trip below each node of its plane.
#include "sched/pool_orders.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "sched/site_score.h"

namespace stargate::sched {
namespace {

ClusterState RandomNetwork(Rng& rng, int sites) {
  std::vector<SiteSpec> specs;
  const AcceleratorType types[] = {AcceleratorType::kH100, AcceleratorType::kA100};
  for (int i = 0; i < sites; ++i) {
    SiteSpec s;
    s.name = "s" + std::to_string(i);
    s.pue = 1.1 + 0.1 * static_cast<double>(rng.Below(3));
    s.latitude = -60 + 120 * rng.Uniform();
    s.longitude = -180 + 360 * rng.Uniform();
    s.pools.push_back(PoolSpec{types[rng.Below(2)], 1 + static_cast<int>(rng.Below(4)), 8, 2, 1});
    specs.push_back(s);
  }
  return ClusterState(specs);
}

// `n` sites of one H100 node each, anywhere.
ClusterState OneNodeSites(Rng& rng, int n) {
  std::vector<SiteSpec> specs;
  for (int i = 0; i < n; ++i) {
    SiteSpec s;
    s.name = "s" + std::to_string(i);
    s.latitude = -60 + 120 * rng.Uniform();
    s.longitude = -180 + 360 * rng.Uniform();
    s.pools.push_back(PoolSpec{AcceleratorType::kH100, 1, 8, 1, 1});
    specs.push_back(s);
  }
  return ClusterState(specs);
}

void MoveKeys(Rng& rng, ClusterState& state) {
  for (size_t i = 0; i < state.sites().size(); ++i) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = rng.Bernoulli(0.05) ? 0.0 : 20 + 600 * rng.Uniform();
    sig.price = rng.Bernoulli(0.2) ? 50.0 : 10 + 90 * rng.Uniform();  // some ties
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
}

// Checks `plane` against the keys in `state`: its pools are `want`, and
// every node's least sums are the least over the pools below it that have
// room now (least_open) and devices due back (least_due). A ball's plane
// (`users`: its point) also holds each node's least round trip below.
void ExpectHolds(const ClusterState& state, const PoolOrders::Plane& plane, std::vector<PoolId> want,
                 const std::vector<int64_t>& room, const std::vector<int64_t>& due,
                 std::optional<std::pair<float, float>> users = std::nullopt) {
  std::vector<PoolId> got = plane.pools;
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  ASSERT_EQ(got, want);
  constexpr int K = PoolOrders::kDirections;
  const size_t leaves = plane.room.leaves();
  ASSERT_GE(leaves, plane.pools.size());
  ASSERT_EQ(plane.least_open.size(), 2 * leaves * K);
  ASSERT_EQ(plane.least_due.size(), 2 * leaves * K);
  for (int k = 0; k < K; ++k) {
    ASSERT_GE(plane.on_carbon[k], 0);
    ASSERT_GE(plane.on_cost[k], 0);
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(plane.rtt_ms != nullptr, users.has_value());
  ASSERT_EQ(plane.least_rtt.size(), users ? 2 * leaves : 0u);
  for (size_t node = 1; node < 2 * leaves; ++node) {
    // The positions below `node`.
    size_t lo = node, hi = node + 1;
    while (lo < leaves) lo *= 2, hi *= 2;
    if (users) {
      double least = kInf;
      for (size_t leaf = lo; leaf < hi && leaf - leaves < plane.pools.size(); ++leaf) {
        const SiteState& site = state.site(state.pool(plane.pools[leaf - leaves]).site);
        least = std::min(least, RoundTripMs(site, users->first, users->second));
      }
      if (least < kInf) EXPECT_EQ(plane.least_rtt[node], least) << "node " << node;
      if (least == kInf) EXPECT_GT(plane.least_rtt[node], 1e300) << "node " << node;
    }
    int64_t least_room = WakeIndex::kNever;
    for (int k = 0; k < K; ++k) {
      double open = kInf, due_back = kInf;
      for (size_t leaf = lo; leaf < hi && leaf - leaves < plane.pools.size(); ++leaf) {
        const PoolId p = plane.pools[leaf - leaves];
        const SiteState& site = state.site(state.pool(p).site);
        const double x = site.pue * JudgedIntensity(site.signals), y = site.pue * site.signals.price;
        const double sum = plane.on_carbon[k] * x + plane.on_cost[k] * y;
        if (room[p.value()] <= WakeIndex::DevicesOnANode(1)) open = std::min(open, sum);
        if (due[p.value()] != WakeIndex::kNever) due_back = std::min(due_back, sum);
        if (k == 0) least_room = std::min(least_room, room[p.value()]);
      }
      // Where no pool below counts, the sum is huge (past any score).
      if (open < kInf) EXPECT_EQ(plane.least_open[node * K + k], open) << "node " << node << " direction " << k;
      if (open == kInf) EXPECT_GT(plane.least_open[node * K + k], 1e300) << "node " << node;
      if (due_back < kInf) EXPECT_EQ(plane.least_due[node * K + k], due_back) << "node " << node << " direction " << k;
      if (due_back == kInf) EXPECT_GT(plane.least_due[node * K + k], 1e300) << "node " << node;
    }
    EXPECT_EQ(plane.room.Least(node), least_room) << "node " << node;
  }
}

TEST(PoolOrders, PlanesHoldTheLeastSumsBelowEachNodeAsTheKeysMove) {
  Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    ClusterState state = RandomNetwork(rng, 1 + static_cast<int>(rng.Below(60)));
    PoolOrders orders;
    std::vector<int64_t> room(state.pools().size(), WakeIndex::Room(INT32_MAX, 0));
    std::vector<int64_t> due(state.pools().size(), WakeIndex::kNever);
    MoveKeys(rng, state);
    orders.Update(state, true);
    const float lat = 10, lon = 20;
    const double limit = 30 + 100 * rng.Uniform();
    auto allowed = std::make_shared<SiteSet>(state.sites().size());
    for (size_t i = 0; i < state.sites().size(); ++i) {
      if (rng.Bernoulli(0.3)) allowed->Add(SiteId(static_cast<uint16_t>(i)));
    }
    const std::shared_ptr<const SiteSet> fence = allowed;
    // More moves than a plane is refilled before it is split anew.
    for (int hour = 0; hour < 60; ++hour) {
      for (int k = 0; k < 5; ++k) {  // rooms and dues change between moves
        const PoolId p(static_cast<uint16_t>(rng.Below(state.pools().size())));
        room[p.value()] =
            rng.Bernoulli(0.3) ? WakeIndex::kNever : WakeIndex::Room(rng.Below(4), static_cast<int>(rng.Below(9)));
        orders.SetRoom(p, room[p.value()]);
        const PoolId q(static_cast<uint16_t>(rng.Below(state.pools().size())));
        due[q.value()] = rng.Bernoulli(0.5) ? WakeIndex::kNever : static_cast<int64_t>(rng.Below(1'000'000));
        orders.SetDue(q, due[q.value()]);
      }
      for (AcceleratorType t : {AcceleratorType::kH100, AcceleratorType::kA100}) {
        ExpectHolds(state, orders.ByBoth(t), orders.OfType(t), room, due);
        std::vector<PoolId> within;
        for (PoolId p : orders.OfType(t)) {
          if (RoundTripMs(state.site(state.pool(p).site), lat, lon) <= limit) within.push_back(p);
        }
        std::vector<PoolId> fenced;
        for (PoolId p : orders.OfType(t)) {
          if (fence->Has(state.pool(p).site)) fenced.push_back(p);
        }
        const std::pair<const PoolOrders::Reach*, const std::vector<PoolId>*> reaches[] = {
            {&orders.Ball(state, t, lat, lon, limit), &within}, {&orders.Within(state, t, fence), &fenced}};
        for (const auto& [reach, want] : reaches) {
          const bool ball = reach == reaches[0].first;
          ExpectHolds(state, reach->both, *want, room, due,
                      ball ? std::optional<std::pair<float, float>>({lat, lon}) : std::nullopt);
        }
        if (HasFailure()) return;
      }
      MoveKeys(rng, state);
      orders.Update(state, false);
    }
  }
}

// The orders by each key alone are sorted only once asked for (balls and
// allowed-site sets keep only planes), from the room and dues told before,
// and are then kept through every change of room, due and keys; without
// their dues (KeepListDues(false), as the policy keeps them) they hold no
// due tree at all.
void ExpectListsKept(bool dues) {
  Rng rng(11);
  ClusterState state = RandomNetwork(rng, 50);
  PoolOrders orders;
  orders.KeepListDues(dues);
  std::vector<int64_t> room(state.pools().size(), WakeIndex::Room(INT32_MAX, 0));
  std::vector<int64_t> due(state.pools().size(), WakeIndex::kNever);
  MoveKeys(rng, state);
  orders.Update(state, true);
  auto tell = [&] {
    for (int k = 0; k < 20; ++k) {
      const PoolId p(static_cast<uint16_t>(rng.Below(state.pools().size())));
      room[p.value()] = WakeIndex::Room(rng.Below(4), static_cast<int>(rng.Below(9)));
      orders.SetRoom(p, room[p.value()]);
      due[p.value()] = rng.Bernoulli(0.5) ? WakeIndex::kNever : static_cast<int64_t>(rng.Below(1'000'000));
      orders.SetDue(p, due[p.value()]);
    }
  };
  auto expect_kept = [&](AcceleratorType t) {
    for (bool carbon : {true, false}) {
      const PoolOrders::Sorted& order = carbon ? orders.ByCarbon(t) : orders.ByCost(t);
      ASSERT_EQ(order.pools.size(), orders.OfType(t).size());
      for (size_t i = 0; i < order.pools.size(); ++i) {
        const PoolId p = order.pools[i];
        const SiteState& site = state.site(state.pool(p).site);
        EXPECT_EQ(order.keys[i], carbon ? site.pue * JudgedIntensity(site.signals) : site.pue * site.signals.price);
        if (i > 0) {
          EXPECT_TRUE(order.keys[i - 1] < order.keys[i] ||
                      (order.keys[i - 1] == order.keys[i] && order.pools[i - 1] < p));
        }
        const size_t leaf = order.room.leaves() + order.room.PositionOf(p);
        EXPECT_EQ(order.room.tree()[leaf], room[p.value()]);
        for (int c = 0; c < PoolOrders::kDueClasses && dues; ++c) {
          EXPECT_EQ(order.due[c].tree()[leaf], due[p.value()]);
        }
      }
      for (int c = 0; c < PoolOrders::kDueClasses && !dues; ++c) EXPECT_EQ(order.due[c].size(), 0u);
    }
  };
  tell();  // before the lists exist
  for (int hour = 0; hour < 5; ++hour) {
    for (int k = 0; k < 3; ++k) {  // changes between moves of the keys
      for (AcceleratorType t : {AcceleratorType::kH100, AcceleratorType::kA100}) expect_kept(t);
      if (::testing::Test::HasFailure()) return;
      tell();
    }
    MoveKeys(rng, state);
    orders.Update(state, false);
  }
}

TEST(PoolOrders, ListsAreKeptFromTheirFirstUseOn) {
  ExpectListsKept(/*dues=*/true);
  ExpectListsKept(/*dues=*/false);
}

// Lists made, then told to keep their dues or not: made again to match,
// never with stale due trees nor with none to tell.
TEST(PoolOrders, ListsFollowKeepListDuesOnceMade) {
  Rng rng(17);
  ClusterState state = RandomNetwork(rng, 40);
  MoveKeys(rng, state);
  PoolOrders orders;
  orders.Update(state, true);
  std::vector<int64_t> due(state.pools().size(), WakeIndex::kNever);
  for (bool on : {true, false, true}) {
    orders.KeepListDues(on);
    const PoolOrders::Sorted& order = orders.ByCarbon(AcceleratorType::kH100);
    for (int k = 0; k < 10; ++k) {
      const PoolId p(static_cast<uint16_t>(rng.Below(state.pools().size())));
      due[p.value()] = static_cast<int64_t>(rng.Below(1'000'000));
      orders.SetDue(p, due[p.value()]);
    }
    ASSERT_EQ(order.due[0].size(), on ? order.pools.size() : 0u);
    for (size_t i = 0; on && i < order.pools.size(); ++i) {
      EXPECT_EQ(order.due[0].tree()[order.due[0].leaves() + i], due[order.pools[i].value()]) << "position " << i;
    }
  }
}

// The pools by their least forecast intensity ahead, made only as far
// as read: the order a stable sort by that key gives (ties in pool
// order), read in part or whole, before and after the keys move.
TEST(PoolOrders, MinAheadOrderIsTheSortedOrderAsFarAsRead) {
  Rng rng(13);
  ClusterState state = RandomNetwork(rng, 60);
  PoolOrders orders;
  for (int hour = 0; hour < 8; ++hour) {
    // Every third hour only the intensity now moves: the order read in
    // part before goes on from where it was.
    for (size_t i = 0; i < state.sites().size(); ++i) {
      SiteSignals sig = state.sites()[i].signals;
      if (hour % 3 == 2) {
        sig.carbon = 20 + 600 * rng.Uniform();
      } else {
        sig.carbon_min_ahead = rng.Bernoulli(0.3) ? 100.0 : 20 + 600 * rng.Uniform();  // some ties
      }
      state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
    }
    orders.Update(state, hour == 0);
    std::vector<std::pair<double, uint16_t>> want;
    for (const PoolState& p : state.pools()) want.emplace_back(state.site(p.site).signals.carbon_min_ahead, 0);
    for (size_t i = 0; i < want.size(); ++i) want[i].second = static_cast<uint16_t>(i);
    std::sort(want.begin(), want.end());
    const size_t read = hour % 3 == 1 ? rng.Below(want.size()) : want.size();
    for (size_t i = 0; i < read; ++i) {
      const auto [pool, key] = orders.MinAheadAt(i);
      EXPECT_EQ(pool.value(), want[i].second) << "hour " << hour << " position " << i;
      EXPECT_EQ(key, want[i].first);
    }
    EXPECT_EQ(orders.MinAheadAt(want.size()).second, std::numeric_limits<double>::infinity());  // past the end
    if (HasFailure()) return;
  }
}

// A policy that does not weigh latency has balls split by the two keys
// alone: the round trip would only loosen their cells' bounds.
TEST(PoolOrders, BallsBoundRoundTripsOnlyWhenAskedTo) {
  Rng rng(5);
  ClusterState state = RandomNetwork(rng, 40);
  MoveKeys(rng, state);
  for (bool on : {true, false}) {
    PoolOrders orders;
    orders.BoundRoundTrips(on);
    orders.Update(state, true);
    const PoolOrders::Plane& plane = orders.Ball(state, AcceleratorType::kH100, 10, 20, 1e9).both;
    EXPECT_EQ(plane.rtt_ms != nullptr, on);
    EXPECT_EQ(plane.least_rtt.empty(), !on);
  }
}

// Jobs from many places, each asking for a ball over the whole network:
// the balls together stay within their budget, one point holds at most
// kMaxBalls limits, and the ball just asked for is whole.
TEST(PoolOrders, BallsStayWithinTheirBudget) {
  Rng rng(3);
  ClusterState state = OneNodeSites(rng, 3'000);
  MoveKeys(rng, state);
  PoolOrders orders;
  orders.Update(state, true);
  const size_t budget = std::max(PoolOrders::kMinBallPools, PoolOrders::kBallPoolsPerPool * state.pools().size());
  for (int place = 0; place < 60; ++place) {
    const float lat = static_cast<float>(place), lon = static_cast<float>(-place);
    const PoolOrders::Reach& reach = orders.Ball(state, AcceleratorType::kH100, lat, lon, 1e9);
    EXPECT_EQ(reach.both.pools.size(), 3'000u);
    EXPECT_LE(orders.BallPools(), budget);
  }
  EXPECT_GT(orders.BallPools(), 3'000u);  // more than one kept: the budget is not a cache of one
  for (int limit = 0; limit < 40; ++limit) {
    const PoolOrders::Reach& reach = orders.Ball(state, AcceleratorType::kH100, 0, 0, 1'000 + limit);
    EXPECT_FALSE(reach.both.pools.empty());
    EXPECT_LE(orders.BallPools(), budget);
  }
}

// Jobs with many different allowed-site sets: the sets' orders together
// stay within the balls' budget and kMaxFences sets, and the orders just
// asked for are whole.
TEST(PoolOrders, AllowedSitesOrdersStayWithinTheirBudget) {
  Rng rng(5);
  ClusterState state = OneNodeSites(rng, 3'000);
  MoveKeys(rng, state);
  PoolOrders orders;
  orders.Update(state, true);
  const size_t budget = std::max(PoolOrders::kMinBallPools, PoolOrders::kBallPoolsPerPool * state.pools().size());
  std::vector<std::shared_ptr<const SiteSet>> sets;  // held, as jobs hold theirs
  for (int k = 0; k < 400; ++k) {
    auto set = std::make_shared<SiteSet>(state.sites().size());
    const size_t size = 10 + rng.Below(2'990);
    for (size_t i = 0; i < size; ++i) set->Add(SiteId(static_cast<uint16_t>(i)));
    sets.push_back(set);
    const PoolOrders::Reach& reach = orders.Within(state, AcceleratorType::kH100, sets.back());
    EXPECT_EQ(reach.both.pools.size(), size);
    EXPECT_LE(orders.FencedPools(), budget);
  }
  EXPECT_GT(orders.FencedPools(), 3'000u);  // more than one kept
}

}  // namespace
}  // namespace stargate::sched
