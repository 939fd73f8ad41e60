#include "sched/pool_orders.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numbers>
#include <utility>

#include "sched/key_sort.h"
#include "sched/site_score.h"

namespace stargate::sched {
namespace {

// Sorts `pools` by site_key[site_of[pool]], ties in pool order, into
// `out` (reusing its storage: the orders are sorted again every hour), and
// indexes when they wake.
// (`dues`: with the due trees too.)
void SortBy(const std::vector<uint32_t>& site_of, const std::vector<PoolId>& pools, const std::vector<double>& site_key,
            const PoolOrders::Wakes* wakes, PoolOrders::Sorted* out, bool dues = true) {
  // Keys beside their pools: a sort that looks each key up through its
  // pool's site misses the cache on every comparison.
  std::vector<KeyedPool> keyed;
  keyed.reserve(pools.size());
  for (PoolId p : pools) keyed.emplace_back(site_key[site_of[p.value()]], p.value());
  SortKeyed(&keyed);
  out->pools.resize(keyed.size());
  out->keys.resize(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) {
    out->keys[i] = keyed[i].first;
    out->pools[i] = PoolId(keyed[i].second);
  }
  if (wakes != nullptr) {
    out->room.Build(out->pools, wakes->room);
    // The dues go by the room index's positions.
    for (int c = 0; c < PoolOrders::kDueClasses; ++c) {
      if (dues) {
        out->due[c].BuildTree(out->pools, wakes->due[c]);
      } else if (out->due[c].size() != 0) {
        out->due[c] = WakeIndex();  // none, rather than stale
      }
    }
  }
}

struct Point {
  double x, y;  // carbon and price keys
  double z;     // round trip (ms) from a ball's point; 0 for other planes
  PoolId pool;
};

// The least and greatest of each key over some points (all 0 for none).
struct Box {
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  bool any = false;
  void Add(double x, double y) {
    x_lo = any ? std::min(x_lo, x) : x;
    x_hi = any ? std::max(x_hi, x) : x;
    y_lo = any ? std::min(y_lo, y) : y;
    y_hi = any ? std::max(y_hi, y) : y;
    any = true;
  }
};

// Orders positions [lo, hi) of `points` (a node's cell; only those below
// `n` hold pools) so that each half of the cell holds the lower and the
// higher keys along the cell's widest key (of the two, and the round trip
// when `z_span` > 0), relative to the whole plane's spread, recursively.
void SplitCells(std::vector<Point>& points, size_t lo, size_t hi, size_t n, double x_span, double y_span,
                double z_span) {
  const size_t end = std::min(hi, n);
  if (end <= lo + 1 || hi - lo < 2) return;
  Box cell;
  for (size_t i = lo; i < end; ++i) cell.Add(points[i].x, points[i].y);
  double z_lo = points[lo].z, z_hi = points[lo].z;  // (a ball's only)
  for (size_t i = lo; z_span > 0 && i < end; ++i) {
    z_lo = std::min(z_lo, points[i].z);
    z_hi = std::max(z_hi, points[i].z);
  }
  const bool by_x = (cell.x_hi - cell.x_lo) * y_span >= (cell.y_hi - cell.y_lo) * x_span;
  const bool by_z = z_span > 0 && (z_hi - z_lo) / z_span >
                                      std::max((cell.x_hi - cell.x_lo) / x_span, (cell.y_hi - cell.y_lo) / y_span);
  const int axis = by_z ? 2 : (by_x ? 0 : 1);
  const size_t mid = lo + (hi - lo) / 2;
  if (mid < end) {
    std::nth_element(points.begin() + static_cast<ptrdiff_t>(lo), points.begin() + static_cast<ptrdiff_t>(mid),
                     points.begin() + static_cast<ptrdiff_t>(end), [axis](const Point& a, const Point& b) {
                       const double ka = axis == 0 ? a.x : (axis == 1 ? a.y : a.z);
                       const double kb = axis == 0 ? b.x : (axis == 1 ? b.y : b.z);
                       return ka != kb ? ka < kb : a.pool < b.pool;
                     });
  }
  SplitCells(points, lo, mid, n, x_span, y_span, z_span);
  SplitCells(points, mid, hi, n, x_span, y_span, z_span);
}

// The keys a plane is filled from, per site, and each site's class in
// each key (PoolOrders::Classes; null: no class has two sites).
struct SiteKeys {
  const std::vector<double>& carbon;
  const std::vector<double>& cost;
  const PoolOrders::GridClasses* classes;
};

// Per node of `out`, the class in each key that every pool below shares
// (PoolOrders::Plane::uniform), bottom up.
void FillUniform(const SiteKeys& keys, PoolOrders::Plane* out) {
  constexpr uint32_t kMixed = PoolOrders::kNoGrid, kEmpty = PoolOrders::Plane::kEmptyCell;
  if (keys.classes == nullptr) {
    for (auto& u : out->uniform) u.clear();
    return;
  }
  const size_t leaves = out->room.leaves();
  for (int k = 0; k < 2; ++k) {
    std::vector<uint32_t>& u = out->uniform[k];
    u.assign(2 * leaves, kEmpty);
    for (size_t i = 0; i < out->pools.size(); ++i) u[leaves + i] = (*keys.classes)[k][out->site_at[i]];
    for (size_t i = leaves - 1; i >= 1; --i) {
      const uint32_t a = u[2 * i], b = u[2 * i + 1];
      u[i] = a == kEmpty ? b : (b == kEmpty || a == b ? a : kMixed);
    }
  }
}

// Finite, so a zero weight times it is 0, not NaN.
constexpr double kNone = std::numeric_limits<double>::max() / 8;

// Per node, the least of each direction's sum over the positions below
// with room now (`open`) and with devices due back (`due_least`), in one
// pass. Only the nodes over a pool are written: those over the padding
// past the last pool hold kNone from the split on (PlaneOf), which at
// 10,000 pools (16,384 leaves) is two fifths of the arrays, and these are
// written every hour.
void Gather(const PoolOrders::Plane& plane, std::vector<double>* open, std::vector<double>* due_least) {
  constexpr int K = PoolOrders::kDirections;
  const size_t leaves = plane.room.leaves();
  const size_t n = plane.pools.size();
  const int64_t* room = plane.room.tree() + leaves;
  const int64_t* due = plane.due[0].tree() + leaves;
  double* o = open->data();
  double* d = due_least->data();
  for (size_t i = 0; i < n; ++i) {
    double sums[K];
    for (int k = 0; k < K; ++k) sums[k] = plane.Sum(i, k);
    const size_t at = (leaves + i) * K;
    const bool is_open = PoolOrders::Plane::Open(room[i]), is_due = PoolOrders::Plane::Due(due[i]);
    for (int k = 0; k < K; ++k) {
      o[at + k] = is_open ? sums[k] : kNone;
      d[at + k] = is_due ? sums[k] : kNone;
    }
  }
  // Level by level up: of the `width` nodes of a level, each over `span`
  // positions, the first ceil(n / span) are over a pool.
  for (size_t width = leaves / 2, span = 2; width >= 1; width /= 2, span *= 2) {
    const size_t real = (n + span - 1) / span;
    for (size_t i = width; i < width + real; ++i) {
      for (int k = 0; k < K; ++k) {
        o[i * K + k] = std::min(o[2 * i * K + k], o[(2 * i + 1) * K + k]);
        d[i * K + k] = std::min(d[2 * i * K + k], d[(2 * i + 1) * K + k]);
      }
    }
  }
}

// Position `pos` of `plane` counted in `least` (`in`) or not, and the
// nodes above it brought to that.
void Relink(const PoolOrders::Plane& plane, std::vector<double>& least, size_t pos, bool in) {
  constexpr int K = PoolOrders::kDirections;
  size_t i = plane.room.leaves() + pos;
  for (int k = 0; k < K; ++k) least[i * K + k] = in ? plane.Sum(pos, k) : kNone;
  for (i /= 2; i >= 1; i /= 2) {
    bool changed = false;
    for (int k = 0; k < K; ++k) {
      const double m = std::min(least[2 * i * K + k], least[(2 * i + 1) * K + k]);
      changed = changed || least[i * K + k] != m;
      least[i * K + k] = m;
    }
    if (!changed) break;  // nothing above changes
  }
}

// Plane `out`'s directions and least sums, from its pools' keys now. The
// cells stay as they were split: any split bounds truly, a split on
// older keys only less tightly, so the hourly change of every site's keys
// refills the plane (O(n)) and splits it again only every kRefills.
void FillPlane(const SiteKeys& keys, PoolOrders::Plane* out) {
  const std::vector<double>& carbon_key = keys.carbon;
  const std::vector<double>& cost_key = keys.cost;
  const size_t n = out->pools.size();
  Box all;
  out->keys.resize(2 * n);
  for (size_t i = 0; i < n; ++i) {
    const size_t site = out->site_at[i];
    out->keys[2 * i] = carbon_key[site];
    out->keys[2 * i + 1] = cost_key[site];
    all.Add(carbon_key[site], cost_key[site]);
  }
  // Directions evenly spread in angle over the keys scaled by their least
  // (so a job weighing emissions and cost alike, each against its best,
  // falls between two of them).
  constexpr int K = PoolOrders::kDirections;
  const double x_scale = all.x_lo > 0 ? all.x_lo : std::max(all.x_hi, 1e-12);
  const double y_scale = all.y_lo > 0 ? all.y_lo : std::max(all.y_hi, 1e-12);
  for (int k = 0; k < K; ++k) {
    const double angle = std::numbers::pi / 2 * k / (K - 1);
    out->on_carbon[k] = k == K - 1 ? 0.0 : std::cos(angle) / x_scale;
    out->on_cost[k] = k == 0 ? 0.0 : std::sin(angle) / y_scale;
  }
  Gather(*out, &out->least_open, &out->least_due);
  FillUniform(keys, out);
  ++out->fills;
}

// `pools` as a k-d tree over the sites' two keys (Plane), and their round
// trips for a ball's plane (out->rtt_ms), split anew, into `out` (reusing
// its storage).
void PlaneOf(const ClusterState& state, const std::vector<PoolId>& pools, const SiteKeys& keys,
             const PoolOrders::Wakes& wakes, PoolOrders::Plane* out) {
  const std::vector<double>& carbon_key = keys.carbon;
  const std::vector<double>& cost_key = keys.cost;
  const size_t n = pools.size();
  const std::vector<double>* rtt = out->rtt_ms;
  std::vector<Point> points;
  points.reserve(n);
  Box all;
  double z_lo = 0, z_hi = 0;
  for (PoolId p : pools) {
    const size_t site = state.pool(p).site.value();
    const double z = rtt != nullptr ? (*rtt)[site] : 0.0;
    z_lo = points.empty() ? z : std::min(z_lo, z);
    z_hi = points.empty() ? z : std::max(z_hi, z);
    points.push_back(Point{carbon_key[site], cost_key[site], z, p});
    all.Add(carbon_key[site], cost_key[site]);
  }
  size_t leaves = 1;  // as WakeIndex lays its tree out
  while (leaves < n) leaves *= 2;
  SplitCells(points, 0, leaves, n, std::max(all.x_hi - all.x_lo, 1e-12), std::max(all.y_hi - all.y_lo, 1e-12),
             rtt != nullptr ? std::max(z_hi - z_lo, 1e-12) : 0.0);
  out->pools.resize(n);
  out->site_at.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out->pools[i] = points[i].pool;
    out->site_at[i] = state.pool(points[i].pool).site.value();
  }
  // Nodes over no pool stay so until the next split (Gather).
  constexpr int K = PoolOrders::kDirections;
  out->least_open.assign(2 * leaves * K, kNone);
  out->least_due.assign(2 * leaves * K, kNone);
  out->least_rtt.clear();
  if (rtt != nullptr) {
    // Static while the split stands: a round trip moves only with the layout.
    out->least_rtt.assign(2 * leaves, kNone);
    for (size_t i = 0; i < n; ++i) out->least_rtt[leaves + i] = points[i].z;
    for (size_t i = leaves - 1; i >= 1; --i) {
      out->least_rtt[i] = std::min(out->least_rtt[2 * i], out->least_rtt[2 * i + 1]);
    }
  }
  out->min_pool.assign(2 * leaves, PoolOrders::Plane::kEmptyCell);
  for (size_t i = 0; i < n; ++i) out->min_pool[leaves + i] = out->pools[i].value();
  for (size_t i = leaves - 1; i >= 1; --i) {
    out->min_pool[i] = std::min(out->min_pool[2 * i], out->min_pool[2 * i + 1]);
  }
  out->room.Build(out->pools, wakes.room);
  for (int c = 0; c < PoolOrders::kDueClasses; ++c) out->due[c].BuildTree(out->pools, wakes.due[c]);
  out->fills = 0;
  FillPlane(keys, out);
}

// Plane `out` brought to the keys now: split anew every kRefills fills.
void RefreshPlane(const ClusterState& state, const SiteKeys& keys, const PoolOrders::Wakes& wakes,
                  PoolOrders::Plane* out) {
  constexpr int kRefills = 24;
  if (out->fills < kRefills) {
    FillPlane(keys, out);
  } else {
    const std::vector<PoolId> pools = out->pools;
    PlaneOf(state, pools, keys, wakes, out);
  }
}

// `pools` in `out`'s plane, split anew; `rtt_ms`: per site, the round
// trips from a ball's point (null: not a ball).
void ReachOf(const ClusterState& state, const std::vector<PoolId>& pools, const SiteKeys& keys,
             const PoolOrders::Wakes& wakes, PoolOrders::Reach* out, const std::vector<double>* rtt_ms = nullptr) {
  out->both.rtt_ms = rtt_ms;
  PlaneOf(state, pools, keys, wakes, &out->both);
  out->stale = false;
}

// `out` brought to the keys now, if they moved since it was filled.
void Refresh(const ClusterState& state, const SiteKeys& keys, const PoolOrders::Wakes& wakes, PoolOrders::Reach* out) {
  if (!out->stale) return;
  RefreshPlane(state, keys, wakes, &out->both);
  out->stale = false;
}

}  // namespace

bool PoolOrders::SetGridClasses(const ClusterState& state) {
  const std::vector<SiteState>& sites = state.sites();
  const bool was_shared = classes_shared_;
  classes_shared_ = false;
  if (!leaders_) return was_shared;  // each site its own series: no classes kept
  bool moved = false;
  const auto bits = [](double x) { return std::bit_cast<uint64_t>(x); };
  // A site's figure in each key: pue and judged intensity, pue and price.
  // (NaN and figures below zero never share: the bounds need none below 0.)
  const auto figures = [](const SiteState& s, int k) {
    return std::make_pair(s.pue, k == 0 ? JudgedIntensity(s.signals) : s.signals.price);
  };
  for (int k = 0; k < 2; ++k) {
    site_class_.resize(sites.size());
    for (size_t i = 0; i < sites.size(); ++i) {
      const SiteState& s = sites[i];
      const SiteId lead = k == 0 ? s.carbon_leader : s.price_leader;
      const size_t leader = lead.valid() ? lead.value() : i;
      const auto [pue, figure] = figures(s, k);
      uint32_t c = pue >= 0 && figure >= 0 ? static_cast<uint32_t>(i) : kNoGrid;
      if (leader < i && site_class_[leader] != kNoGrid) {
        const auto [lead_pue, lead_figure] = figures(sites[leader], k);
        if (bits(pue) == bits(lead_pue) && bits(figure) == bits(lead_figure)) {
          c = site_class_[leader];
          classes_shared_ = true;  // a class of two or more: worth the search's look
        }
      }
      site_class_[i] = c;
    }
    // A class is named by its first site's first pool: below the pool count.
    for (uint32_t& c : site_class_) {
      if (c != kNoGrid) c = sites[c].pools.empty() ? kNoGrid : sites[c].pools.front().value();
    }
    moved = moved || site_class_ != site_classes_[k];
    site_classes_[k].swap(site_class_);
    classes_[k].resize(site_of_.size());
    for (size_t p = 0; p < site_of_.size(); ++p) classes_[k][p] = site_classes_[k][site_of_[p]];
  }
  return moved || was_shared != classes_shared_;
}

bool PoolOrders::Update(const ClusterState& state, bool check_layout) {
  bool moved = false;
  if (check_layout || layout_.empty()) {
    // The series hints are fixed with the state: looked at once a state.
    const std::vector<SiteState>& sites = state.sites();
    leaders_ = false;
    for (size_t i = 0; i < sites.size() && !leaders_; ++i) {
      for (SiteId lead : {sites[i].carbon_leader, sites[i].price_leader}) {
        leaders_ = leaders_ || (lead.valid() && lead.value() < i);
      }
    }
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
      fenced_.clear();
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
    wakes_.room.assign(state.pools().size(), WakeIndex::Room(INT32_MAX, 0));
    for (auto& due : wakes_.due) due.assign(state.pools().size(), WakeIndex::kNever);
    type_of_.clear();
    site_of_.clear();
    max_per_node_.assign(kNumAcceleratorTypes, 0);
    min_per_node_.assign(kNumAcceleratorTypes, 0);
    for (const PoolState& pool : state.pools()) {
      type_of_.push_back(pool.type);
      site_of_.push_back(pool.site.value());
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
  // (A class may move with no key: the planes' cells know their classes.)
  const bool classes_moved = SetGridClasses(state);
  const bool carbon_moved = moved || carbon != carbon_key_;
  const bool cost_moved = moved || cost != cost_key_;
  if (carbon_moved || cost_moved || classes_moved) {
    const SiteKeys keys{carbon, cost, SiteClasses()};
    for (size_t t = 0; t < of_type_.size(); ++t) {
      if (moved) {
        PlaneOf(state, of_type_[t], keys, wakes_, &both_[t]);
      } else {
        RefreshPlane(state, keys, wakes_, &both_[t]);
      }
    }
    // Refreshed on first use.
    for (auto& [at, place] : places_) {
      for (auto& [key, ball] : place.balls) ball.stale = true;
    }
    for (auto& [key, fenced] : fenced_) fenced.reach.stale = true;
  }
  if (carbon_moved) {
    for (size_t t = 0; lists_ && t < of_type_.size(); ++t)
      SortBy(site_of_, of_type_[t], carbon, &wakes_, &carbon_[t], list_dues_);
    carbon_key_.swap(carbon);
  }
  if (cost_moved) {
    for (size_t t = 0; lists_ && t < of_type_.size(); ++t)
      SortBy(site_of_, of_type_[t], cost, &wakes_, &cost_[t], list_dues_);
    cost_key_.swap(cost);
  }
  if (carbon_moved || cost_moved || classes_moved) FillRuns();
  if (moved || min_ahead != min_ahead_key_) {
    min_ahead_.clear();
    min_ahead_rest_.clear();
    for (PoolId p : all_) min_ahead_rest_.emplace_back(min_ahead[site_of_[p.value()]], p.value());
    std::make_heap(min_ahead_rest_.begin(), min_ahead_rest_.end(), std::greater<>{});
    min_ahead_key_.swap(min_ahead);
  }
  return moved;
}

std::pair<PoolId, double> PoolOrders::MinAheadAt(size_t i) const {
  if (i >= all_.size()) return {PoolId(), std::numeric_limits<double>::infinity()};
  while (min_ahead_.size() <= i) {
    std::pop_heap(min_ahead_rest_.begin(), min_ahead_rest_.end(), std::greater<>{});
    min_ahead_.push_back(min_ahead_rest_.back());
    min_ahead_rest_.pop_back();
  }
  return {PoolId(min_ahead_[i].second), min_ahead_[i].first};
}

void PoolOrders::KeepListDues(bool on) {
  if (on == list_dues_) return;
  list_dues_ = on;
  // Without this, lists made with dues would keep stale ones, and lists
  // made without would be told of dues they have no trees for.
  if (lists_) SortLists();
}

void PoolOrders::KeepLists() {
  if (lists_) return;
  lists_ = true;
  SortLists();
}

void PoolOrders::SortLists() {
  for (size_t t = 0; t < of_type_.size(); ++t) {
    SortBy(site_of_, of_type_[t], carbon_key_, &wakes_, &carbon_[t], list_dues_);
    SortBy(site_of_, of_type_[t], cost_key_, &wakes_, &cost_[t], list_dues_);
  }
  FillRuns();
}

void PoolOrders::FillRuns() {
  for (size_t t = 0; lists_ && t < of_type_.size(); ++t) {
    for (int k = 0; k < 2; ++k) {
      Sorted& order = k == 0 ? carbon_[t] : cost_[t];
      order.run_end.clear();
      if (!classes_shared_) continue;
      const std::vector<uint32_t>& cls = classes_[k];
      const size_t n = order.pools.size();
      order.run_end.resize(n);
      for (size_t i = n; i-- > 0;) {
        const bool same = i + 1 < n && cls[order.pools[i].value()] == cls[order.pools[i + 1].value()];
        order.run_end[i] = same ? order.run_end[i + 1] : static_cast<uint32_t>(i + 1);
      }
    }
  }
}

namespace {

// Pool `p`'s room and due in one order; a plane keeps its sums too.
void SetRoomIn(PoolOrders::Sorted& order, PoolId p, int64_t room) { order.room.Set(p, room); }
void SetRoomIn(PoolOrders::Plane& plane, PoolId p, int64_t room) { plane.SetRoom(p, room); }
// (`changed`: bit c set when class c's due changed.)
void SetDueIn(PoolOrders::Sorted& order, PoolId p, const PoolOrders::Dues& due, unsigned changed) {
  const size_t pos = order.room.PositionOf(p);
  if (pos == order.room.size()) return;
  for (int c = 0; c < PoolOrders::kDueClasses; ++c) {
    if ((changed >> c) & 1) order.due[c].SetAt(pos, due[c]);
  }
}
void SetDueIn(PoolOrders::Plane& plane, PoolId p, const PoolOrders::Dues& due, unsigned changed) {
  plane.SetDue(p, due, changed);
}

}  // namespace

void PoolOrders::SetRoom(PoolId p, int64_t room) {
  if (wakes_.room[p.value()] == room) return;
  wakes_.room[p.value()] = room;
  ForEachOrderOf(p, /*lists=*/true, [&](auto& order) { SetRoomIn(order, p, room); });
}

int PoolOrders::DueClassOf(int64_t devices) {
  int c = 0;
  while (c + 1 < kDueClasses && DueDevices(c + 1) <= devices) ++c;
  return c;
}

void PoolOrders::SetDue(PoolId p, const Dues& due) {
  unsigned changed = 0;
  for (int c = 0; c < kDueClasses; ++c) {
    if (wakes_.due[c][p.value()] == due[c]) continue;
    wakes_.due[c][p.value()] = due[c];
    changed |= 1u << c;
  }
  if (changed == 0) return;
  ForEachOrderOf(p, list_dues_, [&](auto& order) { SetDueIn(order, p, due, changed); });
}

void PoolOrders::SetDue(PoolId p, int64_t due) {
  Dues all;
  all.fill(due);
  SetDue(p, all);
}

namespace {

// `p`'s value in `index` of `plane`, and its sums in or out of `least` as
// in(value) says.
void SetKeeping(PoolOrders::Plane& plane, WakeIndex& index, std::vector<double>& least, size_t pos, int64_t value,
                bool (*in)(int64_t)) {
  const bool was = in(index.tree()[index.leaves() + pos]);
  index.SetAt(pos, value);
  if (was != in(value)) Relink(plane, least, pos, !was);
}

}  // namespace

void PoolOrders::Plane::SetRoom(PoolId p, int64_t value) {
  const size_t pos = room.PositionOf(p);
  if (pos != room.size()) SetKeeping(*this, room, least_open, pos, value, &Open);
}

void PoolOrders::Plane::SetDue(PoolId p, const Dues& value, unsigned changed) {
  const size_t pos = room.PositionOf(p);  // the dues go by the room index's positions
  if (pos == room.size()) return;
  if (changed & 1) SetKeeping(*this, due[0], least_due, pos, value[0], &Due);
  for (int c = 1; c < kDueClasses; ++c) {
    if ((changed >> c) & 1) due[c].SetAt(pos, value[c]);
  }
}

template <class F>
void PoolOrders::ForEachOrderOf(PoolId p, bool lists, F f) {
  const size_t t = static_cast<size_t>(type_of_[p.value()]);
  if (lists_ && lists) {
    f(carbon_[t]);
    f(cost_[t]);
  }
  f(both_[t]);
  for (auto& [at, place] : places_) {
    if (place.sorted[t]) f(place.per_type[t]);
    for (auto& [key, ball] : place.balls) {
      if (key.first != t) continue;
      f(ball.both);
    }
  }
  for (auto& [key, fenced] : fenced_) {
    if (key.second != t) continue;
    f(fenced.reach.both);
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
  Place& place = PlaceAt(state, latitude, longitude);
  const std::pair<size_t, double> key{Index(t), limit_ms};
  if (auto it = place.balls.find(key); it != place.balls.end()) {
    Refresh(state, SiteKeys{carbon_key_, cost_key_, SiteClasses()}, wakes_, &it->second);
    return it->second;
  }
  // The pools in reach, nearest first (ties in pool order): ByRoundTrip's
  // prefix, sorted here without the room and due trees that order keeps
  // through every change (a job with a limit walks only the ball).
  Sorted near;
  SortBy(site_of_, of_type_[Index(t)], place.per_site, /*wakes=*/nullptr, &near);
  const auto end = std::upper_bound(near.keys.begin(), near.keys.end(), limit_ms);
  const std::vector<PoolId> within(near.pools.begin(), near.pools.begin() + (end - near.keys.begin()));
  // Full (too many limits here, or too many pools in balls anywhere: jobs
  // from many places, each with wide balls): keep only this point's balls
  // of this limit, which a search asks for each of its types in turn.
  if (place.balls.size() >= kMaxBalls || within.size() + BallPools() > Budget(state)) {
    for (auto& entry : places_) {
      const bool here = &entry.second == &place;
      std::erase_if(entry.second.balls, [&](auto& e) { return !here || e.first.second != limit_ms; });
    }
  }
  Reach& reach = place.balls[key];
  ReachOf(state, within, SiteKeys{carbon_key_, cost_key_, SiteClasses()}, wakes_, &reach,
          bound_round_trips_ ? &place.per_site : nullptr);
  return reach;
}

const PoolOrders::Reach& PoolOrders::Within(const ClusterState& state, AcceleratorType t,
                                            const std::shared_ptr<const SiteSet>& allowed) {
  const std::pair<const SiteSet*, size_t> key{allowed.get(), Index(t)};
  if (auto it = fenced_.find(key); it != fenced_.end()) {
    Refresh(state, SiteKeys{carbon_key_, cost_key_, SiteClasses()}, wakes_, &it->second.reach);
    return it->second.reach;
  }
  std::vector<PoolId> within;
  for (PoolId p : of_type_[Index(t)]) {
    if (allowed->Has(state.pool(p).site)) within.push_back(p);
  }
  // Full: keep only this set's orders (a search asks for each of its
  // types in turn, and holds those it has).
  if (fenced_.size() >= kMaxFences || within.size() + FencedPools() > Budget(state)) {
    std::erase_if(fenced_, [&](auto& e) { return e.first.first != key.first; });
  }
  Fenced& fenced = fenced_[key];
  fenced.set = allowed;
  ReachOf(state, within, SiteKeys{carbon_key_, cost_key_, SiteClasses()}, wakes_, &fenced.reach);
  return fenced.reach;
}

size_t PoolOrders::FencedPools() const {
  size_t held = 0;
  for (const auto& [key, fenced] : fenced_) held += fenced.reach.both.pools.size();
  return held;
}

size_t PoolOrders::Budget(const ClusterState& state) {
  return std::max<size_t>(kMinBallPools, kBallPoolsPerPool * state.pools().size());
}

size_t PoolOrders::BallPools() const {
  size_t held = 0;
  for (const auto& [at, place] : places_) {
    for (const auto& [key, ball] : place.balls) held += ball.both.pools.size();
  }
  return held;
}

const std::vector<double>& PoolOrders::RoundTrips(const ClusterState& state, float latitude, float longitude) {
  return PlaceAt(state, latitude, longitude).per_site;
}

const PoolOrders::Sorted& PoolOrders::ByRoundTrip(const ClusterState& state, AcceleratorType t, float latitude,
                                                  float longitude) {
  Place& place = PlaceAt(state, latitude, longitude);
  if (!place.sorted[Index(t)]) {
    SortBy(site_of_, of_type_[Index(t)], place.per_site, &wakes_, &place.per_type[Index(t)]);
    place.sorted[Index(t)] = 1;
  }
  return place.per_type[Index(t)];
}

}  // namespace stargate::sched
