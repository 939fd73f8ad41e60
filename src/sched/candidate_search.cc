#include "sched/candidate_search.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

namespace stargate::sched {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// How far two figures computed in different orders of the same products
// can differ by rounding, with a wide margin (they differ in the last
// few bits).
double Slack(double a, double b) { return 1e-9 * (std::abs(a) + std::abs(b)) + 1e-12; }

// The orders a Rank walks: emissions, cost, round trip, and the plane of
// both keys (which stands for the first two).
enum List { kCarbon = 0, kCost = 1, kRtt = 2, kBoth = 3 };

// Heap order: the best (least score, then now before later, then pool
// order) on top.
struct Worse {
  template <class S>
  bool operator()(const S& a, const S& b) const {
    if (a.score != b.score) return a.score > b.score;
    if (a.later != b.later) return a.later;
    return a.pool.value() > b.pool.value();
  }
};

}  // namespace

// Min-heap order of the plane walks' cells: by key, and among cells of one
// key, the one whose pools begin first in the plane's order (a node's
// bits, its path from the root, left-aligned). So a walk over cells that
// tie (thousands of sites on one zone's figures) goes depth first, left to
// right, to its first pool, where shallowest first (by node number) opened
// every tied cell of each level before it met one: the norms' walk then
// met a pool of a class only after every cell of the class was open, and
// passed the rest over one by one, and a ranking's first pool of a tie was
// not the first in pool order, so it could not set the rest aside
// (ParkRule). Any order gives the same norms and candidates (each walk
// stops on bounds alone); this one gets there in fewer steps.
struct CandidateSearch::CellWorse {
  // (Node 0 is no cell: the tree's root is 1.)
  static uint64_t Aligned(uint32_t node) {
    assert(node != 0);
    return uint64_t{node} << std::countl_zero(uint64_t{node});
  }
  bool operator()(const Cell& a, const Cell& b) const {
    if (a.key != b.key) [[likely]]
      return a.key > b.key;
    return Aligned(a.node) > Aligned(b.node);
  }
};

namespace {

// How DownBest ended: at a leaf (*cell), with the walk to go on from the
// heap's least cell, or stopped as asked.
enum class Descent { kLeaf, kOnFromHeap, kStopped };

// Goes down from *cell (popped off `heap`, a min-heap by `worse`) to the
// better child while it is still the least cell, leaving the other child
// in the heap: every cell not walked stays there, so the heap's top still
// bounds every pool not met, and the heap is touched once a level instead
// of three times. Children that `may_hold` says hold no member are
// dropped; stop(key) ends the descent before a child of that key (pushed
// back).
template <class C, class Worse, class Filter, class KeyOf, class Stop>
Descent DownBest(std::vector<C>& heap, C* cell, size_t leaves, Worse worse, const Filter& may_hold, const KeyOf& key_of,
                 const Stop& stop) {
  auto push = [&](const C& c) {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end(), worse);
  };
  while (cell->node < leaves) {
    C best{kInf, 0}, other{kInf, 0};
    for (size_t child : {2 * cell->node, 2 * cell->node + 1}) {
      if (!may_hold(child)) continue;
      const C c{key_of(child), static_cast<uint32_t>(child)};
      if (best.node == 0 || worse(best, c)) {
        other = best;
        best = c;
      } else {
        other = c;
      }
    }
    if (other.node != 0) push(other);
    if (best.node == 0) return Descent::kOnFromHeap;  // nothing below can be a member
    if (!heap.empty() && worse(best, heap.front())) {
      push(best);  // another cell is less: walk from there
      return Descent::kOnFromHeap;
    }
    if (stop(best.key)) {
      push(best);
      return Descent::kStopped;
    }
    *cell = best;
  }
  return Descent::kLeaf;
}

// The time walk's heap order: among cells of one key, the deepest first
// (a node's index is above every shallower node's). Every cell with room
// now has the same key, the type's run time: taken shallowest first, the
// walk would open every such cell of each level before it met a pool.
struct DeeperFirst {
  template <class C>
  bool operator()(const C& a, const C& b) const {
    return a.key != b.key ? a.key > b.key : a.node < b.node;
  }
};

}  // namespace

void CandidateSearch::Begin(size_t num_pools, std::span<const TypeOrders> types, double rtt_limit_ms,
                            const SchedulerSpec& spec, PoolJudge* judge, const PoolOrders::GridClasses* classes) {
  BeginFull(num_pools, {}, spec, judge);
  bounded_ = true;
  types_.assign(types.begin(), types.end());
  classes_ = classes != nullptr && (*classes)[kCarbon].size() == num_pools ? classes : nullptr;
  if (classes_ != nullptr) {
    if (class_marks_.size() < types_.size()) class_marks_.resize(types_.size());
    for (size_t t = 0; t < types_.size(); ++t) {
      for (int k = 0; k < 2; ++k) {
        for (std::vector<uint64_t>* v : {&class_marks_[t].now[k], &class_marks_[t].later[k]}) {
          if (v->size() != num_pools) v->assign(num_pools, 0);
        }
      }
    }
    now_gen_ = ++gen_;  // a new job: no mark holds these yet
    later_gen_ = ++gen_;
  }
  for (TypeOrders& o : types_) {
    // A ball's plane bounds each cell's round trip itself: walking the
    // round-trip order too would count the latency term twice.
    if (o.both != nullptr && !o.both->least_rtt.empty()) o.rtt = nullptr;
  }
  rtt_limit_ms_ = rtt_limit_ms;
}

void CandidateSearch::BeginFull(size_t num_pools, std::span<const PoolId> pools, const SchedulerSpec& spec,
                                PoolJudge* judge) {
  spec_ = &spec;
  judge_ = judge;
  bounded_ = false;
  types_.clear();
  all_ = pools;
  looked_ = 0;
  horizon_ = WakeIndex::kNever;
  now_ns_ = WakeIndex::kNever;  // no wait is counted before AllNorms says when now is
  for (Ranking& r : rankings_) {
    r.ranked = false;
    r.yielded.clear();  // nothing to hand out again before the job's first Rank
    r.replay = 0;
  }
  if (stamp_.size() != num_pools || ++job_ == 0) {
    stamp_.assign(num_pools, 0);
    for (Ranking& r : rankings_) r.stamp.assign(num_pools, 0);
    verdict_.resize(num_pools);
    later_.resize(num_pools);
    now_c_.resize(num_pools);
    later_c_.resize(num_pools);
    job_ = 1;
  }
}

PoolJudge::Verdict CandidateSearch::NowOf(PoolId p) {
  const size_t i = p.value();
  if (stamp_[i] != job_) {
    stamp_[i] = job_;
    verdict_[i] = static_cast<uint8_t>(judge_->Now(p, &now_c_[i]));
    later_[i] = 0;
    ++looked_;
  }
  return static_cast<PoolJudge::Verdict>(verdict_[i]);
}

bool CandidateSearch::LaterOf(PoolId p) {
  const size_t i = p.value();
  if (later_[i] == 0) later_[i] = judge_->Later(p, &later_c_[i]) ? 1 : 2;
  return later_[i] == 1;
}

bool CandidateSearch::IsMember(PoolId p, bool with_later, bool* later) {
  const PoolJudge::Verdict v = NowOf(p);
  *later = false;
  if (v == PoolJudge::Verdict::kNow) return true;
  if (!with_later || v != PoolJudge::Verdict::kNotNow || !LaterOf(p)) return false;
  *later = true;
  return true;
}

const Candidate& CandidateSearch::CandidateOf(PoolId p, bool later) const {
  return later ? later_c_[p.value()] : now_c_[p.value()];
}

void CandidateSearch::MeetForNorms(PoolId p, bool with_later, ScoreNorms* norms, Least* least) {
  bool later = false;
  if (!IsMember(p, with_later, &later)) return;
  const Candidate& c = CandidateOf(p, later);
  norms->Include(c);
  least->co2 = std::min(least->co2, c.co2_g);
  least->cost = std::min(least->cost, c.cost_usd);
  least->time = std::min(least->time, c.wait_s + c.move_s + c.runtime_s);
  least->any = true;
}

bool CandidateSearch::Marked(size_t t, int key, uint32_t cls, bool later) const {
  // A walk for the pools with room now goes only by the members with room
  // now of the same NowNorms; a walk with the pools worth waiting for, by
  // those too and by the members its own AllNorms met.
  if (cls == PoolOrders::kNoGrid) return false;
  const ClassMarks& marks = class_marks_[t];
  return marks.now[key][cls] == now_gen_ || (later && marks.later[key][cls] == later_gen_);
}

void CandidateSearch::MeetOfType(size_t t, PoolId p, bool later, int walk, ScoreNorms* norms, Least* least) {
  if (classes_ == nullptr) {
    MeetForNorms(p, later, norms, least);
    return;
  }
  const uint32_t cls[2] = {(*classes_)[kCarbon][p.value()], (*classes_)[kCost][p.value()]};
  ClassMarks& marks = class_marks_[t];
  const auto marked = [&](int k) { return Marked(t, k, cls[k], later); };
  if (walk == kCost ? marked(kCost) : marked(kCarbon) && (walk == kCarbon || marked(kCost))) {
    least->passed_over = true;  // its wait may be the least yet
    return;
  }
  MeetForNorms(p, later, norms, least);
  bool is_later = false;
  if (!IsMember(p, later, &is_later)) return;
  if (!AtTypeLeast(t, CandidateOf(p, is_later))) return;
  for (int k : {kCarbon, kCost}) {
    if (cls[k] == PoolOrders::kNoGrid) continue;
    if (later) {
      marks.later[k][cls[k]] = later_gen_;
    } else {
      marks.now[k][cls[k]] = now_gen_;
    }
  }
}

bool CandidateSearch::AtTypeLeast(size_t t, const Candidate& c) const {
  return !(c.move_s != 0 || c.extra_w < 0 || c.runtime_s != types_[t].factors.runtime_s);
}

bool CandidateSearch::NormsOf(size_t t, bool later, ScoreNorms* norms) {
  const TypeOrders& o = types_[t];
  Least least;  // this type's least figures among the members met so far
  if (!OrderNorms(t, later, norms, &least)) return least.any;
  // The least time is the type's run time when a member runs at it (no
  // wait, no span to price); otherwise, if the type could still hold the
  // least time of all, the members are met by a bound on their time until
  // none left could have less.
  const double runtime = o.factors.runtime_s;
  if (least.time > runtime && runtime < norms->time) {
    const bool ball = o.rtt != nullptr && rtt_limit_ms_ < kInf && !o.reach_only;
    if (ball) {
      const PoolOrders::Sorted& order = *o.rtt;
      const auto end = std::upper_bound(order.keys.begin(), order.keys.end(), rtt_limit_ms_);
      TimeWalk(order, static_cast<size_t>(end - order.keys.begin()), t, later, norms, &least);
    } else if (const PoolOrders::Sorted* list = ListFor(o, later)) {
      TimeWalk(*list, list->pools.size(), t, later, norms, &least);
    } else {
      TimeWalk(*o.both, o.both->pools.size(), t, later, norms, &least);
    }
  }
  return least.any;
}

template <class Order>
void CandidateSearch::TimeWalk(const Order& order, size_t end, size_t t, bool later, ScoreNorms* norms, Least* least) {
  // A member's time is at least the type's run time, and for one without
  // room now, the wait until its calendar next hands devices back: a
  // best-first walk down the order's trees by that bound (the pool that
  // frees up first is usually the one with the least wait).
  const size_t leaves = order.room.leaves();
  const double runtime = types_[t].factors.runtime_s;
  auto first = [leaves](size_t node) {  // the first position below a node
    while (node < leaves) node *= 2;
    return node - leaves;
  };
  // (Past the order's last pool the trees hold kNever: only a shorter end
  // needs the look.)
  const bool prefix = end < order.pools.size();
  auto key = [&](size_t node) {
    if (prefix && first(node) >= end) return kInf;
    if (!later) return order.room.Least(node) <= types_[t].room_needed ? runtime : kInf;
    // (Nothing due below, the padding past the last pool included: never a
    // member, whatever the horizon.)
    const int64_t due = DueOf(order, t).Least(node);
    if (due > horizon_ || due == WakeIndex::kNever) return kInf;
    return runtime + static_cast<double>(due - now_ns_) / 1e9;
  };
  std::vector<Cell>& heap = time_cells_;
  heap.clear();
  if (const double k = key(1); k < kInf) heap.push_back(Cell{k, 1});
  while (!heap.empty()) {
    // A member of the type at its run time: none has less (Estimate's run
    // time is the type's times a span factor of at least 1, and a member
    // with room now has no wait), so pools that tie with it need not be
    // met.
    if (least->time <= runtime) break;
    std::pop_heap(heap.begin(), heap.end(), DeeperFirst{});
    const Cell cell = heap.back();
    heap.pop_back();
    // No pool left could lower the norm, ties and rounding apart.
    const double beat = norms->time;
    if (beat < kInf && cell.key > beat + Slack(cell.key, beat)) break;
    if (cell.node >= leaves) {
      MeetForNorms(order.pools[cell.node - leaves], later, norms, least);
      continue;
    }
    for (size_t child : {2 * cell.node, 2 * cell.node + 1}) {
      if (const double k = key(child); k < kInf) {
        heap.push_back(Cell{k, static_cast<uint32_t>(child)});
        std::push_heap(heap.begin(), heap.end(), DeeperFirst{});
      }
    }
  }
}

const PoolOrders::Sorted* CandidateSearch::ListFor(const TypeOrders& o, bool later) {
  if (o.carbon == nullptr) return nullptr;
  // Lists kept without their dues (PoolOrders::KeepListDues) serve only
  // the pools with room now; the pools worth waiting for are then met
  // down the plane, which such lists come with (Begin's caller's part).
  const bool dues = o.carbon->due[0].size() == o.carbon->pools.size();
  assert(dues || o.both != nullptr);
  return later && !dues ? nullptr : o.carbon;
}

bool CandidateSearch::OrderNorms(size_t t, bool later, ScoreNorms* norms, Least* least) {
  const TypeOrders& o = types_[t];
  // The emissions walk, then the cost walk, each until no pool further on
  // can have a lower figure than the norm so far (of every type met): a
  // member's figure is at least the type's factor times its key (the span
  // factor and waits only add). Each walks down its key's order, or, for
  // balls and allowed-site sets, which keep only a plane, best first down
  // the plane's cells by that key alone (the plane's first direction is
  // the carbon key alone, its last the price key alone, each scaled by
  // `on`), taking only cells that may hold a member.
  constexpr int K = PoolOrders::kDirections;
  const PoolOrders::Plane* plane = ListFor(o, later) != nullptr ? nullptr : o.both;
  struct Walk {
    const PoolOrders::Sorted* order;  // null: down the plane
    double factor;
    const double* norm;
    bool active;
    size_t i = 0;
    bool done = false;
    int dir = 0;         // the plane's direction
    double per_sum = 0;  // factor / the direction's weight on its key
  };
  Walk walks[2] = {{plane != nullptr ? nullptr : o.carbon, o.factors.co2_per_key, &norms->co2, true},
                   {plane != nullptr ? nullptr : o.cost, o.factors.cost_per_key, &norms->cost, Uses(t, kCost)}};
  std::vector<Cell>& heap = norm_cells_;
  int heap_of = -1;  // the walk whose cells the heap holds
  CellFilter may_hold{};
  const std::vector<double>* sums = nullptr;
  if (plane != nullptr) {
    walks[0].dir = 0;
    walks[0].per_sum = walks[0].factor / plane->on_carbon[0];
    walks[1].dir = K - 1;
    walks[1].per_sum = walks[1].factor / plane->on_cost[K - 1];
    // As NextIn with later_only = later: room now for the job, or devices
    // due back by the horizon; a pool counts in the sums it is bounded by.
    may_hold = CellFilter{plane->room.leaves() + plane->pools.size(),
                          plane->room.tree(),
                          DueOf(*plane, t).tree(),
                          o.room_needed,
                          horizon_,
                          later,
                          later};
    sums = later ? &plane->least_due : &plane->least_open;
  }
  auto cell_key = [&](const Walk& w, size_t node) { return w.per_sum * (*sums)[node * K + w.dir]; };
  // A cell whose pools are all of one class in the walk's key, a member of
  // which was met at the type's least run time, is passed over whole.
  const uint32_t* uniform = nullptr;  // the plane's classes per node in the walk's key
  int uniform_key = kCarbon;
  auto hold = [&](size_t node) {
    if (!may_hold(node)) return false;
    if (uniform == nullptr || uniform[node] >= PoolOrders::Plane::kEmptyCell ||
        !Marked(t, uniform_key, uniform[node], later)) {
      return true;
    }
    least->passed_over = true;
    return false;
  };
  auto past_norm = [](double bound, double norm) { return norm < kInf && bound > norm + Slack(bound, norm); };
  if (plane == nullptr && o.both != nullptr) {
    // The plane's root holds the least of each key over the pools that
    // could be members (with room for a device, or with devices due
    // back): when the norm is below even that, the order need not be
    // walked at all.
    const std::vector<double>& root = later ? o.both->least_due : o.both->least_open;
    const double on[2] = {o.both->on_carbon[0], o.both->on_cost[K - 1]};
    const int dir[2] = {0, K - 1};
    for (int k = 0; k < 2 && root.size() >= 2 * K; ++k) {
      Walk& w = walks[k];
      if (w.active && on[k] > 0 && past_norm(w.factor * (root[K + dir[k]] / on[k]), *w.norm)) w.done = true;
    }
  }
  // With a round-trip limit, the pools within reach, all of them: when
  // they are few this ends first, and then every member is known (unless
  // the orders hold only those already).
  const bool ball = o.rtt != nullptr && rtt_limit_ms_ < kInf && !o.reach_only;
  size_t b = 0;
  for (;;) {
    if (ball) {
      b = NextIn(*o.rtt, b, t, later, later);
      // Pools of a class met at the type's least figures may be passed
      // over (MeetOfType): this walk passes over a pool only when both its
      // figures are matched, so when it has met every pool, only the waits
      // of those passed over are unknown, left to the time walk. A walk by
      // one key below that has met every pool knows every member's other
      // figure only if it passed over none: else the next walk goes on.
      if (b >= o.rtt->pools.size() || o.rtt->keys[b] > rtt_limit_ms_) return least->passed_over;
      MeetOfType(t, o.rtt->pools[b++], later, kBoth, norms, least);
    }
    Walk* w = !walks[0].done ? &walks[0] : (walks[1].active && !walks[1].done ? &walks[1] : nullptr);
    if (w == nullptr) break;
    if (w->order == nullptr) {
      const int at = static_cast<int>(w - walks);
      if (heap_of != at) {
        heap_of = at;
        heap.clear();
        uniform = classes_ != nullptr && !plane->uniform[at].empty() ? plane->uniform[at].data() : nullptr;
        uniform_key = at;
        if (hold(1)) heap.push_back(Cell{cell_key(*w, 1), 1});
      }
      // Every pool that could be a member was met.
      if (heap.empty()) {
        if (!least->passed_over) return false;
        w->done = true;
        continue;
      }
      std::pop_heap(heap.begin(), heap.end(), CellWorse{});
      Cell cell = heap.back();
      heap.pop_back();
      if (past_norm(cell.key, *w->norm)) {
        w->done = true;
        continue;
      }
      const size_t leaves = plane->room.leaves();
      auto key_of = [&](size_t node) { return cell_key(*w, node); };
      if (DownBest(heap, &cell, leaves, CellWorse{}, hold, key_of, [](double) { return false; }) == Descent::kLeaf) {
        MeetOfType(t, plane->pools[cell.node - leaves], later, static_cast<int>(w - walks), norms, least);
      }
      continue;
    }
    w->i = NextIn(*w->order, w->i, t, later, later);
    // Every pool that could be a member was met.
    if (w->i >= w->order->pools.size()) {
      if (!least->passed_over) return false;
      w->done = true;
      continue;
    }
    const double bound = w->factor * w->order->keys[w->i];
    if (past_norm(bound, *w->norm)) {
      w->done = true;
      continue;
    }
    const int key = static_cast<int>(w - walks);
    if (classes_ != nullptr && !w->order->run_end.empty() &&
        Marked(t, key, (*classes_)[key][w->order->pools[w->i].value()], later)) {
      least->passed_over = true;  // its class's run, passed over whole
      w->i = w->order->run_end[w->i];
      continue;
    }
    MeetOfType(t, w->order->pools[w->i++], later, key, norms, least);
  }
  return true;
}

bool CandidateSearch::NowNorms(ScoreNorms* norms) {
  *norms = ScoreNorms{};
  now_gen_ = ++gen_;
  bool any = false;
  if (!bounded_) {
    for (PoolId p : all_) {
      if (NowOf(p) != PoolJudge::Verdict::kNow) continue;
      norms->Include(now_c_[p.value()]);
      any = true;
    }
    now_norms_ = *norms;
    return any;
  }
  for (size_t t = 0; t < types_.size(); ++t) {
    any = NormsOf(t, false, norms) || any;
  }
  now_norms_ = *norms;
  return any;
}

ScoreNorms CandidateSearch::AllNorms(Time now, Time horizon) {
  later_gen_ = ++gen_;
  now_ns_ = now.nanos();
  horizon_ = horizon.nanos();
  ScoreNorms norms = now_norms_;
  bool later = false;
  if (!bounded_) {
    for (PoolId p : all_) {
      if (IsMember(p, true, &later) && later) norms.Include(later_c_[p.value()]);
    }
    return norms;
  }
  // The pools with room now are in the norms already: only those worth
  // waiting for are met.
  for (size_t t = 0; t < types_.size(); ++t) NormsOf(t, true, &norms);
  return norms;
}

size_t CandidateSearch::NextIn(const PoolOrders::Sorted& order, size_t from, size_t t, bool with_later,
                               bool later_only) const {
  if (later_only) return DueOf(order, t).NextAwake(from, horizon_);
  const size_t now = order.room.NextAwake(from, types_[t].room_needed);
  if (!with_later || now == from) return now;
  // A pool worth waiting for needs devices back after now, by the horizon.
  return std::min(now, DueOf(order, t).NextAwake(from, horizon_));
}

bool CandidateSearch::Uses(size_t t, int list) const {
  switch (list) {
    case kCarbon:
      return true;  // every pool of the type: the walk's backbone
    case kCost:
      return spec_->weight_cost > 0;
    default:
      return types_[t].rtt != nullptr;
  }
}

bool CandidateSearch::Walks(size_t t, int list) const {
  const bool plane = types_[t].both != nullptr;
  switch (list) {
    case kBoth:
      return plane;
    case kCarbon:
    case kCost:
      return !plane && Uses(t, list);
    default:
      return Uses(t, list);
  }
}

CandidateSearch::CellFilter CandidateSearch::FilterOf(size_t t) const {
  const PoolOrders::Plane& plane = *types_[t].both;
  return CellFilter{plane.room.leaves() + plane.pools.size(),
                    plane.room.tree(),
                    DueOf(plane, t).tree(),
                    types_[t].room_needed,
                    horizon_,
                    R().with_later,
                    R().later_only};
}

bool CandidateSearch::CellFilter::operator()(size_t node) const {
  if (node >= end) return false;  // a leaf past the last pool
  if (later_only) return due[node] <= horizon;
  // As NextIn: room now for the job, or devices due back by the horizon.
  return room[node] <= room_needed || (with_later && due[node] <= horizon);
}

CandidateSearch::KeyForm CandidateSearch::FormOf(size_t t) const {
  const Walk& w = R().walks[t];
  const PoolOrders::Plane& plane = *types_[t].both;
  KeyForm f;
  // Pools that can be members: with room now, or (with later ones) with
  // devices due back; only the latter when walked alone.
  f.open = R().later_only ? nullptr : plane.least_open.data() + w.dir;
  f.due_sums = R().with_later ? plane.least_due.data() + w.dir : nullptr;
  f.due = DueOf(plane, t).tree();
  f.base = w.base;
  f.along0 = w.along[0];
  f.along1 = w.along[1];
  f.per_wait_s = R().with_later ? w.per_wait_s : 0;
  f.now_ns = now_ns_;
  if (!plane.least_rtt.empty()) {
    f.least_rtt = plane.least_rtt.data();
    f.per_rtt_ms = LatencyTerm(1.0, *spec_);  // the term is linear in the round trip
  }
  return f;
}

// (Inlined: the hottest loop of a busy pass calls it once a cell.)
[[gnu::always_inline]] inline double CandidateSearch::KeyForm::operator()(size_t node) const {
  // Rounding apart from ScoreOf's own (Bound adds the round trip to the
  // top cell's key) is far inside the Slack that Next allows.
  constexpr int K = PoolOrders::kDirections;
  auto sum = [&](const double* least) { return along0 * least[node * K] + along1 * least[node * K + 1]; };
  double key = open != nullptr ? sum(open) : kInf;
  // A pool worth waiting for waits at least until the cell's first
  // release.
  if (due_sums != nullptr) {
    key = std::min(key, sum(due_sums) + per_wait_s * std::max(0.0, static_cast<double>(due[node] - now_ns) / 1e9));
  }
  // Every pool below is at least this far from the users (a ball's plane).
  if (least_rtt != nullptr) key += per_rtt_ms * least_rtt[node];
  return base + key;
}

void CandidateSearch::SetKeyForm(size_t t) {
  const TypeOrders& o = types_[t];
  Walk& w = R().walks[t];
  Candidate least;
  least.runtime_s = o.factors.runtime_s;
  w.base = ScoreOf(least, R().norms, *spec_);
  // ScoreOf's time term grows by this much per second of wait.
  w.per_wait_s = spec_->weight_time / (R().norms.time > 0 ? R().norms.time : 1.0);
  // ScoreOf's relative terms: x / best, or 1 + x when the best is 0 (in
  // base already).
  auto per = [](double weight, double factor, double best) { return weight * factor / (best > 0 ? best : 1.0); };
  const double cx = per(spec_->weight_carbon, o.factors.co2_per_key, R().norms.co2);
  const double cy = per(spec_->weight_cost, o.factors.cost_per_key, R().norms.cost);
  // The two directions either side of (cx, cy), and (cx, cy) as their sum
  // with multiples of at least 0 (Cramer's rule).
  const PoolOrders::Plane& plane = *o.both;
  constexpr int K = PoolOrders::kDirections;
  int i = 0;
  while (i < K - 2 && cy * plane.on_carbon[i + 1] > cx * plane.on_cost[i + 1]) ++i;
  const double a0 = plane.on_carbon[i], b0 = plane.on_cost[i];
  const double a1 = plane.on_carbon[i + 1], b1 = plane.on_cost[i + 1];
  const double det = a0 * b1 - b0 * a1;
  w.dir = i;
  w.along[0] = std::max(0.0, (cx * b1 - cy * a1) / det);
  w.along[1] = std::max(0.0, (a0 * cy - b0 * cx) / det);
}

void CandidateSearch::PlaneStep(size_t t) {
  // Cells that cannot come before the best met so far are set aside until
  // it is handed out (ParkRule). The best changes only by a Meet, which
  // ends this step. (Two copies of the walk: the one without a rule, in
  // every network whose sites each have their own figures, is the loop as
  // it was, with nothing more to check a cell.)
  const ParkRule rule = RuleFor(t);
  if (rule.on) {
    PlaneWalk<true>(t, rule);
  } else {
    PlaneWalk<false>(t, rule);
  }
}

template <bool kParks>
void CandidateSearch::PlaneWalk(size_t t, const ParkRule& rule) {
  const PoolOrders::Plane& plane = *types_[t].both;
  std::vector<Cell>& heap = R().cells[t];
  const size_t leaves = plane.room.leaves();
  // The filter and the keys over raw arrays: the heap's pushes would
  // otherwise make the compiler reload every vector's data at each step
  // (they may alias), on the hottest loop of a busy pass.
  const CellFilter may_hold = FilterOf(t);
  const KeyForm key_of = FormOf(t);
  // Once the least cell's key is past the best pool met, Next hands that
  // pool out: the walk stops there instead of stepping into the cell to
  // meet a pool that could not come first.
  const double latency = LatencyTerm(RttKey(t), *spec_);
  auto hands_out_first = [&](double key) {
    if (R().seen.empty()) return false;
    const double best = R().seen.front().score;
    const double bound = key + latency;
    return best + Slack(best, bound) < bound;
  };
  auto hold = [&](size_t node) {
    if constexpr (kParks) {
      if (!may_hold(node)) return false;
      if (!rule.Parks(node)) return true;
      SetAside(t, Cell{key_of(node), static_cast<uint32_t>(node)});
      return false;
    } else {
      return may_hold(node);
    }
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), CellWorse{});
    Cell cell = heap.back();
    heap.pop_back();
    if (hands_out_first(cell.key)) {
      heap.push_back(cell);
      std::push_heap(heap.begin(), heap.end(), CellWorse{});
      return;
    }
    if constexpr (kParks) {
      if (rule.Parks(cell.node)) {
        SetAside(t, cell);
        continue;
      }
    }
    switch (DownBest(heap, &cell, leaves, CellWorse{}, hold, key_of, hands_out_first)) {
      case Descent::kLeaf:
        Meet(plane.pools[cell.node - leaves], t);
        return;
      case Descent::kStopped:
        return;
      case Descent::kOnFromHeap:
        break;
    }
  }
}

CandidateSearch::ParkRule CandidateSearch::RuleFor(size_t t) const {
  ParkRule r;
  const Ranking& rk = R();
  if (classes_ == nullptr || rk.seen.empty()) return r;
  const Seen& best = rk.seen.front();
  const TypeOrders& o = types_[t];
  const PoolOrders::Plane& plane = *o.both;
  if (best.later || best.type != t || plane.uniform[kCarbon].empty() || plane.min_pool.empty()) return r;
  // Latency weighed with no bound on the round trip in the plane.
  if (o.rtt != nullptr) return r;
  const size_t i = best.pool.value();
  const Candidate& c = now_c_[i];
  if (!AtTypeLeast(t, c) || (spec_->weight_queue != 0 && c.queue != 0)) return r;
  // Each weighed key's class (kNoGrid: a class of its own, no other pool
  // shares the figure); a key not weighed does not split the pools.
  const uint32_t carbon = (*classes_)[kCarbon][i], cost = (*classes_)[kCost][i];
  if ((spec_->weight_carbon != 0 && carbon == PoolOrders::kNoGrid) ||
      (spec_->weight_cost != 0 && cost == PoolOrders::kNoGrid)) {
    return r;
  }
  r.carbon = spec_->weight_carbon != 0 ? carbon : PoolOrders::kNoGrid;
  r.cost = spec_->weight_cost != 0 ? cost : PoolOrders::kNoGrid;
  r.uniform[kCarbon] = plane.uniform[kCarbon].data();
  r.uniform[kCost] = plane.uniform[kCost].data();
  r.min_pool = plane.min_pool.data();
  // In a walk of the pools worth waiting for alone, the best is the one
  // with room now they are ranked against: any pool of its score goes
  // after it.
  r.any_pool = rk.later_only && best.pool == rk.against;
  r.after = best.pool.value();
  if (!plane.least_rtt.empty()) {
    r.least_rtt = plane.least_rtt.data();
    r.rtt_ms = c.rtt_ms;
  }
  r.on = true;
  return r;
}

void CandidateSearch::SetAside(size_t t, const Cell& cell) {
  R().parked.push_back(Parked{R().seen.front().pool, static_cast<uint16_t>(t), cell});
}

bool CandidateSearch::ParkRule::Parks(size_t node) const {
  if (carbon != PoolOrders::kNoGrid && uniform[kCarbon][node] != carbon) return false;
  if (cost != PoolOrders::kNoGrid && uniform[kCost][node] != cost) return false;
  if (!any_pool && min_pool[node] <= after) return false;
  return least_rtt == nullptr || least_rtt[node] >= rtt_ms;
}

void CandidateSearch::Unpark(PoolId handed_out) {
  // The cells set aside against a pool are the list's last: the best met
  // so far changes only to a better pool, handed out before it, so the
  // list is a stack of runs by the pool they wait for, and the pool handed
  // out is the one whose run is on top (when it has one). A hand-out
  // costs the cells it gives back, not the list (the placement loop asks
  // for the next candidate while a pool's nodes do not fit).
  std::vector<Parked>& parked = R().parked;
  uint64_t types = 0;  // bit t: type t's walk took cells back
  while (!parked.empty() && parked.back().against == handed_out) {
    const Parked& back = parked.back();
    std::vector<Cell>& heap = R().cells[back.t];
    heap.push_back(back.cell);
    std::push_heap(heap.begin(), heap.end(), CellWorse{});
    types |= uint64_t{1} << back.t;
    parked.pop_back();
  }
  assert(std::none_of(parked.begin(), parked.end(), [&](const Parked& p) { return p.against == handed_out; }));
  for (size_t t = 0; t < types_.size(); ++t) {
    if ((types >> t & 1) != 0) R().walks[t].bound = Bound(t);
  }
}

void CandidateSearch::Rank(bool with_later, const ScoreNorms& norms) { Start(with_later, norms, nullptr); }

void CandidateSearch::RankAgainst(const Candidate& best_now, const ScoreNorms& norms) { Start(true, norms, &best_now); }

void CandidateSearch::Start(bool with_later, const ScoreNorms& norms, const Candidate* best_now) {
  current_ = with_later ? 1 : 0;
  const bool later_only = best_now != nullptr;
  if (R().ranked && R().norms == norms && R().later_only == later_only &&
      (!later_only || R().against == best_now->pool)) {
    R().replay = 0;
    return;
  }
  R().ranked = true;
  R().with_later = with_later;
  R().later_only = later_only;
  R().norms = norms;
  if (++R().rank == 0) {
    std::fill(R().stamp.begin(), R().stamp.end(), 0);
    R().rank = 1;
  }
  R().seen.clear();
  R().yielded.clear();
  R().replay = 0;
  if (later_only) {
    // The pools with room now stand for themselves by their best: it was
    // the best of them by these norms, and ranks before a later pool of
    // its score.
    R().against = best_now->pool;
    // Its type, for ParkRule: as the Rank over the pools with room now
    // that handed it out met it.
    uint16_t type = kNoType;
    for (const Seen& s : rankings_[0].yielded) {
      if (s.pool == best_now->pool && !s.later) type = s.type;
    }
    R().seen.push_back(Seen{ScoreOf(*best_now, norms, *spec_), false, best_now->pool, type});
  }
  R().walks.assign(types_.size(), Walk{});
  R().parked.clear();
  if (!bounded_) {
    for (PoolId p : all_) Meet(p, kNoType);
    return;
  }
  if (R().cells.size() < types_.size()) R().cells.resize(types_.size());
  for (size_t t = 0; t < types_.size(); ++t) {
    for (int l = 0; l < 3; ++l) {
      if (Walks(t, l)) R().walks[t].pos[l] = NextIn(ListOf(t, l), 0, t, R().with_later, R().later_only);
    }
    R().cells[t].clear();
    if (Walks(t, kBoth)) {
      SetKeyForm(t);
      if (FilterOf(t)(1)) {
        R().cells[t].push_back(Cell{FormOf(t)(1), 1});
      }
    }
    R().walks[t].bound = Bound(t);
  }
}

const PoolOrders::Sorted& CandidateSearch::ListOf(size_t t, int list) const {
  const TypeOrders& o = types_[t];
  return list == kCarbon ? *o.carbon : (list == kCost ? *o.cost : *o.rtt);
}

void CandidateSearch::Meet(PoolId p, size_t t) {
  const size_t i = p.value();
  if (R().stamp[i] == R().rank) return;
  R().stamp[i] = R().rank;
  bool later = false;
  if (!IsMember(p, R().with_later, &later) || (R().later_only && !later)) return;
  R().seen.push_back(Seen{ScoreOf(CandidateOf(p, later), R().norms, *spec_), later, p, static_cast<uint16_t>(t)});
  std::push_heap(R().seen.begin(), R().seen.end(), Worse{});
}

double CandidateSearch::RttKey(size_t t) const {
  if (!Uses(t, kRtt)) return 0.0;
  const size_t pos = R().walks[t].pos[kRtt];
  const std::vector<double>& keys = types_[t].rtt->keys;
  return pos < keys.size() ? keys[pos] : kInf;  // past the last: none left to meet
}

double CandidateSearch::Bound(size_t t) const {
  const Walk& w = R().walks[t];
  const TypeOrders& o = types_[t];
  for (int l = 0; l < 3; ++l) {
    // One order walked to its end has met every pool of the type that
    // could be a member (or, for round trips, every one within reach).
    if (!Walks(t, l)) continue;
    const PoolOrders::Sorted& list = ListOf(t, l);
    if (w.pos[l] >= list.pools.size()) return kInf;
    if (l == kRtt && list.keys[w.pos[l]] > rtt_limit_ms_) return kInf;
  }
  const double rtt_ms = RttKey(t);
  if (Walks(t, kBoth)) {
    // Every pool not met lies below a cell still to be walked, and the
    // cell on top has the least key.
    if (R().cells[t].empty()) return kInf;
    return R().cells[t].front().key + LatencyTerm(rtt_ms, *spec_);
  }
  Candidate least;
  least.runtime_s = o.factors.runtime_s;
  least.co2_g = o.factors.co2_per_key * o.carbon->keys[w.pos[kCarbon]];
  if (Uses(t, kCost)) least.cost_usd = o.factors.cost_per_key * o.cost->keys[w.pos[kCost]];
  least.rtt_ms = rtt_ms;
  return ScoreOf(least, R().norms, *spec_);
}

void CandidateSearch::Step(size_t t) {
  Walk& w = R().walks[t];
  int l = w.turn;
  while (!Walks(t, l)) l = (l + 1) % 4;
  w.turn = (l + 1) % 4;
  if (l == kBoth) {
    PlaneStep(t);
    w.bound = Bound(t);
    return;
  }
  const PoolOrders::Sorted& list = ListOf(t, l);
  Meet(list.pools[w.pos[l]], t);
  w.pos[l] = NextIn(list, w.pos[l] + 1, t, R().with_later, R().later_only);
  w.bound = Bound(t);
}

const Candidate* CandidateSearch::Next(bool* later) {
  if (R().replay < R().yielded.size()) {
    // The other Rank may have scored the pool by its own norms since.
    const Seen& again = R().yielded[R().replay++];
    Candidate& c = again.later ? later_c_[again.pool.value()] : now_c_[again.pool.value()];
    c.score = again.score;
    if (later != nullptr) *later = again.later;
    return &c;
  }
  for (;;) {
    double bound = kInf;
    size_t walk = 0;
    for (size_t t = 0; t < R().walks.size(); ++t) {
      if (R().walks[t].bound < bound) {
        bound = R().walks[t].bound;
        walk = t;
      }
    }
    if (!R().seen.empty()) {
      const Seen best = R().seen.front();
      if (bound == kInf || best.score + Slack(best.score, bound) < bound) {
        std::pop_heap(R().seen.begin(), R().seen.end(), Worse{});
        R().seen.pop_back();
        Candidate& c = best.later ? later_c_[best.pool.value()] : now_c_[best.pool.value()];
        c.score = best.score;
        if (later != nullptr) *later = best.later;
        R().yielded.push_back(best);
        R().replay = R().yielded.size();
        if (!R().parked.empty()) Unpark(best.pool);
        return &c;
      }
    }
    if (bound == kInf) return nullptr;
    Step(walk);
  }
}

}  // namespace stargate::sched
