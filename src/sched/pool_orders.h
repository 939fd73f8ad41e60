// File: pool_orders.h
// The pools of each accelerator type ordered by what the site score
// weighs, for the bounded candidate search (candidate_search.h): as a
// plane over the site's pue x judged intensity (a job's emissions there
// are that times a factor of the job and the type) and pue x price (its
// energy cost), per users' location by round trip, and, on request, by
// each of the two keys alone. Also every pool by the lowest intensity in
// its forecast window (deferral.h).
//
// Kept across passes: Update() re-sorts only the orders whose keys moved
// (grid figures move hourly, passes come every few seconds), and the round
// trips, which depend only on where the sites are, are sorted once per
// users' location. Ties are broken by pool index, so a walk meets equal
// keys in pool order. Each order also knows its pools' room now and when
// their calendars next bring devices back, kept by the scheduler through
// SetRoom and SetDue, so walks skip full pools. Pure; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/accelerator.h"
#include "sched/cluster_state.h"
#include "sched/key_sort.h"
#include "sched/site_set.h"
#include "sched/wake_index.h"

namespace stargate::sched {

class PoolOrders {
 public:
  // When devices are next due back is kept for a few sizes of job, so a
  // walk for a large job skips the pools whose releases could bring room
  // for a small one only (or whose room jobs earlier in the pass chose to
  // wait for): class c is for jobs of at least DueDevices(c) devices.
  static constexpr int kDueClasses = 4;
  static constexpr int64_t DueDevices(int c) { return int64_t{1} << (2 * c); }
  // The class a job of at least `devices` devices on every pool goes by.
  static int DueClassOf(int64_t devices);
  using Dues = std::array<int64_t, kDueClasses>;

  // Pools with their keys, ascending (ties in pool order), and each
  // one's room and when devices are next due back, per class (wake_index.h;
  // not kept for ByMinAhead).
  struct Sorted {
    std::vector<PoolId> pools;
    std::vector<double> keys;
    WakeIndex room;
    std::array<WakeIndex, kDueClasses> due;  // by room's positions (WakeIndex::BuildTree)
    // For the lists by one key: per position, the end of the run of
    // positions from it whose pools share its class in that key (Classes;
    // empty when no class has two sites), so a walk passes over a class's
    // run in one step.
    std::vector<uint32_t> run_end;
  };

  // A type's pools as a k-d tree over the two site keys at once (pue x
  // judged intensity, pue x price), laid out as a WakeIndex's tree: node i
  // covers the positions below it, each node's cell is split at its middle
  // position along its wider key. Per node, the least of a few weighted
  // sums of the keys below it (directions spread from the carbon key alone
  // to the price key alone), so the least score any pool below can have is
  // bounded by the two directions either side of the job's weights; a
  // best-first walk (candidate_search.h) meets the pools with the least
  // weighted sum of both keys first, whatever the job's weights, where a
  // walk down each key alone meets every pool that is low in one and high
  // in the other. (Each key's least alone, a cell's corner, bounds a
  // diagonal cell so loosely that the walk opens most cells.) Four: at 0,
  // 30, 60 and 90 degrees over the keys scaled by their least. Eight made
  // the bounds a little tighter, but every refill and every change of a
  // pool's room or due updates each direction's least up the tree: the
  // 60-day, 10,000-site run took ~7% longer with eight (bench/RESULTS.md).
  static constexpr int kDirections = 4;
  struct Plane {
    std::vector<PoolId> pools;  // by position
    // Direction k's weights on the carbon and price keys: k = 0 the carbon
    // key alone, rising in angle to the price key alone.
    std::array<double, kDirections> on_carbon{}, on_cost{};
    // Per node i in [1, 2 * room.leaves()), least_open[i * kDirections +
    // k]: the least of direction k's sum over the pools below that have
    // room now for a job of one device (room at most
    // WakeIndex::DevicesOnANode(1)); least_due: over those with devices
    // due back (due[0] below kNever); huge where none. A pool that fills up
    // leaves the first, so late in a pass a cell's bound is that of the
    // pools a job could still start in, not of the clean ones now full.
    std::vector<double> least_open, least_due;
    // Per node (as least_open, without the directions), per key (carbon,
    // cost): the class (Classes) every pool below is in, kNoGrid if they
    // differ or one is a class of its own, kEmptyCell over no pool. Empty
    // when no class has two sites. A walk by one key drops a cell whose
    // pools it would pass over one by one.
    static constexpr uint32_t kEmptyCell = UINT32_MAX - 1;
    std::array<std::vector<uint32_t>, 2> uniform;
    // Per node (as uniform), the least pool index below it (kEmptyCell
    // over no pool): a ranking walk passes over a cell of pools that tie
    // with its best so far and come after it in pool order
    // (candidate_search.h). Set with each split.
    std::vector<uint32_t> min_pool;
    // Per position p, its pool's carbon and price keys (keys[2p], keys[2p
    // + 1]) and its site's index, as the plane was last filled.
    std::vector<double> keys;
    std::vector<uint32_t> site_at;
    // Direction k's sum of position `pos`'s keys: what least_open and
    // least_due hold at its leaf when it counts there.
    double Sum(size_t pos, int k) const { return on_carbon[k] * keys[2 * pos] + on_cost[k] * keys[2 * pos + 1]; }
    // A ball's plane (PoolOrders::Ball) also knows each site's round trip
    // (ms) from the ball's point, and per node (as least_open) the least
    // round trip below: a cell's key then bounds the latency term too, and
    // the cells are split by round trip as well as by the two keys. Without
    // it, a job near users walked the round-trip order beside the plane
    // and met hundreds of pools before its bound passed its best. Null and
    // empty for every other plane.
    const std::vector<double>* rtt_ms = nullptr;
    std::vector<double> least_rtt;
    WakeIndex room;
    std::array<WakeIndex, kDueClasses> due;  // by room's positions
    int fills = 0;                           // refills since last split (pool_orders.cc FillPlane)
    // Room and due as SetRoom and SetDue tell them, the sums above kept.
    void SetRoom(PoolId p, int64_t value);
    // (`changed`: bit c set for each class whose due changed.)
    void SetDue(PoolId p, const Dues& value, unsigned changed);
    static bool Open(int64_t room) { return room <= WakeIndex::DevicesOnANode(1); }
    static bool Due(int64_t due) { return due != WakeIndex::kNever; }
  };

  // Brings every order up to date with `state`'s grid figures, and, when
  // `check_layout` (a state the orders may not have seen), with where its
  // sites are and which pools they have. True when the layout changed (or
  // was first seen): every pool's room and due are then reset.
  bool Update(const ClusterState& state, bool check_layout);
  // Pool `p`'s room now (WakeIndex::Room, or kNever) and when
  // its calendar next hands devices back for a job that waits, per class
  // (ns after now; kNever: nothing due; each class no earlier than the
  // one before). Every pool has a whole node and nothing due until told.
  void SetRoom(PoolId p, int64_t room);
  void SetDue(PoolId p, const Dues& due);
  // The same due for every class.
  void SetDue(PoolId p, int64_t due);
  int64_t Due(PoolId p) const { return wakes_.due[0][p.value()]; }
  // Per pool, what SetRoom and SetDue told.
  struct Wakes {
    std::vector<int64_t> room;
    std::array<std::vector<int64_t>, kDueClasses> due;
  };

  // Pools of type `t` by one key alone: a search without a plane walks
  // them as two lists, and the policy's norms walk them for the pools with
  // room now. Sorted and kept only from the first call on (after the
  // first Update): balls and allowed-site sets keep no such lists, which
  // re-sorted every hour with their room and dues cost a fifth of a
  // 10,000-site year.
  const Sorted& ByCarbon(AcceleratorType t) {
    KeepLists();
    return carbon_[Index(t)];
  }
  const Sorted& ByCost(AcceleratorType t) {
    KeepLists();
    return cost_[Index(t)];
  }
  // Whether the lists keep when devices are due back (Sorted::due) too:
  // a search with a plane meets the pools worth waiting for down the plane
  // (CandidateSearch), so the policy keeps only their room, and the hourly
  // re-sort and every change of a pool's due skip four trees a list.
  // Lists already made are made again to match.
  void KeepListDues(bool on);
  const Plane& ByBoth(AcceleratorType t) const { return both_[Index(t)]; }
  // The most and the fewest devices a node of type `t` has (0: no such
  // pool).
  int MaxPerNode(AcceleratorType t) const { return max_per_node_[Index(t)]; }
  int MinPerNode(AcceleratorType t) const { return min_per_node_[Index(t)]; }
  // Every pool, in pool order.
  const std::vector<PoolId>& All() const { return all_; }
  // Pools of type `t` in pool order.
  const std::vector<PoolId>& OfType(AcceleratorType t) const { return of_type_[Index(t)]; }
  // Every pool by its site's SiteSignals::carbon_min_ahead, ascending
  // (ties in pool order): MinAheadAt(i) is the i-th, with its key, for i
  // below All().size() (past it: no pool, an infinite key). The order is
  // made only as far as it is read: a deferral reads the pools whose
  // forecast is clean enough to wait for, from the first on, and sorting
  // every pool every hour was a tenth of a 10,000-site year. (Not
  // thread-safe, as the rest.)
  std::pair<PoolId, double> MinAheadAt(size_t i) const;
  // Pools of type `t` by round trip (ms, RoundTripMs) from a point; an
  // unlocated site's round trip is 0.
  const Sorted& ByRoundTrip(const ClusterState& state, AcceleratorType t, float latitude, float longitude);
  // Pools of type `t` within `limit_ms` round trip of a point (the
  // prefix of ByRoundTrip up to it), in their own plane: a job
  // with a round-trip limit walks only the pools in reach, where the
  // orders of the whole network would meet every pool out of reach that
  // is cleaner or cheaper first. Kept per point and limit, until the keys
  // move; valid until then, or until a call for another point or limit
  // when a point holds kMaxBalls or the balls together hold more pools
  // than the budget (kBallPoolsPerPool per pool of the network, at least
  // kMinBallPools): memory stays bounded however many places jobs come from.
  struct Reach {
    Plane both;
    bool stale = false;  // the keys moved since it was filled
  };
  const Reach& Ball(const ClusterState& state, AcceleratorType t, float latitude, float longitude, double limit_ms);
  // Whether balls' planes bound the round trip too (Plane::rtt_ms): only
  // worth it when the score weighs latency; otherwise the round trip only
  // loosens the cells' bounds on the two keys. Set before the first Ball.
  void BoundRoundTrips(bool on) { bound_round_trips_ = on; }
  static constexpr size_t kMaxBalls = 32;
  static constexpr size_t kBallPoolsPerPool = 8;
  static constexpr size_t kMinBallPools = 65'536;
  // The pools the balls hold, all points and limits together.
  size_t BallPools() const;
  // Pools of type `t` at the sites of `allowed` (a job's jurisdictions or
  // regions), in their own plane: a job that may use only some
  // sites walks only their pools, where the network's orders would meet
  // every other site's cleaner or cheaper pools first (and every pool of a
  // type with no allowed site at all). Kept per (set, type), each holding
  // its set (so the address is not reused while it is a key), refreshed on
  // first use after the keys move, dropped when the layout changes; valid
  // until then, or until a call for another set when kMaxFences entries
  // are held or the pools they hold pass the balls' budget.
  const Reach& Within(const ClusterState& state, AcceleratorType t, const std::shared_ptr<const SiteSet>& allowed);
  static constexpr size_t kMaxFences = 256;
  // The pools the sets' orders hold, all sets together.
  size_t FencedPools() const;
  // The round trip from a point to each site, by site index. Valid until
  // places_cleared() changes (the cache of locations is bounded).
  const std::vector<double>& RoundTrips(const ClusterState& state, float latitude, float longitude);
  uint64_t places_cleared() const { return places_cleared_; }
  // Some site's pue x price or pue x intensity is below zero (negative
  // power prices happen): a training gang's span then makes a figure
  // lower than its type's factor times the key, and the bounds do not
  // hold.
  bool negative_keys() const { return negative_keys_; }
  // Per pool, its class in each grid key: pools whose sites have the very
  // same pue and judged intensity (bit for bit, neither below zero) share a
  // carbon class, the same pue and price a cost class. A job's emissions
  // on two pools of one type and carbon class differ only by what
  // stretches them (a span), and so do its costs in one cost class. A site
  // joins its leader's class (SiteState::carbon_leader, price_leader) when
  // its figures match the leader's: one comparison a site at each update.
  // A class is named by a pool of it (below the pool count); kNoGrid: a
  // class of its own. Null when every class has one site.
  static constexpr uint32_t kNoGrid = UINT32_MAX;
  using GridClasses = std::array<std::vector<uint32_t>, 2>;  // per key (0 carbon, 1 cost), per pool
  const GridClasses* Classes() const { return classes_shared_ ? &classes_ : nullptr; }
  // Per key (carbon, cost), per site, its class, as Classes (null with it).
  const GridClasses* SiteClasses() const { return classes_shared_ ? &site_classes_ : nullptr; }

 private:
  static size_t Index(AcceleratorType t) { return static_cast<size_t>(t); }
  // Sorts the lists by the keys now, once; Update then keeps them.
  void KeepLists();
  // Sorts both lists of every type by the keys now.
  void SortLists();
  // The lists' runs of one class (Sorted::run_end), after a sort or a
  // move of the classes.
  void FillRuns();
  // The most pools the balls hold together, and apart the sets' orders.
  static size_t Budget(const ClusterState& state);
  // Sets Classes from the sites' figures now; true when they moved.
  bool SetGridClasses(const ClusterState& state);
  struct Place {
    std::vector<double> per_site;
    std::vector<Sorted> per_type;  // sorted on first use: empty pools = not yet
    std::vector<uint8_t> sorted;
    std::map<std::pair<size_t, double>, Reach> balls;  // by (type, limit)
  };
  Place& PlaceAt(const ClusterState& state, float latitude, float longitude);
  // Calls f on every indexed order that holds pool `p` (the lists by each
  // key alone only when `lists`).
  template <class F>
  void ForEachOrderOf(PoolId p, bool lists, F f);

  // What the orders were built from: where the sites are and which pools
  // they have (a change drops everything), and each site's keys.
  std::vector<double> layout_;
  std::vector<std::vector<PoolId>> of_type_;  // per type, in pool order
  std::vector<PoolId> all_;
  Wakes wakes_;
  std::vector<AcceleratorType> type_of_;  // per pool
  std::vector<uint32_t> site_of_;         // per pool, its site's index
  std::vector<int> max_per_node_ = std::vector<int>(kNumAcceleratorTypes, 0);
  std::vector<int> min_per_node_ = std::vector<int>(kNumAcceleratorTypes, 0);
  std::vector<double> carbon_key_, cost_key_, min_ahead_key_;  // per site
  GridClasses classes_;                                        // per pool (Classes)
  bool classes_shared_ = false;
  bool leaders_ = false;              // a site of the state leads another (SiteState hints)
  GridClasses site_classes_;          // per key, per site (SiteClasses)
  std::vector<uint32_t> site_class_;  // SetGridClasses' scratch
  std::vector<double> scratch_[3];
  uint64_t grid_version_ = 0;  // ClusterState::grid_version at the last look
  uint64_t places_cleared_ = 0;
  bool negative_keys_ = false;
  std::vector<Sorted> carbon_ = std::vector<Sorted>(kNumAcceleratorTypes);
  std::vector<Sorted> cost_ = std::vector<Sorted>(kNumAcceleratorTypes);
  // The min-ahead order: its prefix made so far, and the rest as a heap
  // whose top is the next (by key, then pool).
  mutable std::vector<KeyedPool> min_ahead_, min_ahead_rest_;
  std::vector<Plane> both_ = std::vector<Plane>(kNumAcceleratorTypes);
  std::map<std::pair<float, float>, Place> places_;
  bool bound_round_trips_ = true;
  bool lists_ = false;     // carbon_ and cost_ are kept (ByCarbon, ByCost)
  bool list_dues_ = true;  // and their due trees
  struct Fenced {
    std::shared_ptr<const SiteSet> set;
    Reach reach;
  };
  std::map<std::pair<const SiteSet*, size_t>, Fenced> fenced_;  // by (set, type)
};

}  // namespace stargate::sched
