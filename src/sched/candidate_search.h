// File: candidate_search.h
// A job's candidate pools, best first, without weighing every pool of a
// network of thousands of sites (issue 24).
//
// The site score (site_score.h ScoreOf) never falls when one of a pool's
// figures grows. A job's run time on a pool is its type's run time (or
// more), its emissions and cost a factor of the job and type times a key
// of the site (pue x judged intensity, pue x price) (or more), and its
// round trip is a key of the site too; PoolOrders (pool_orders.h) keeps
// each type's pools sorted by each key, and as a plane over both grid keys
// (a k-d tree whose cells bound the weighted sum of the keys below them).
// So the pools a walk down the plane (best first by the job's weighted
// sum) and the round-trip order has not met yet score at least what the
// least cell and the walk's position give, and a pool that scores below
// that bound is the best left. This is Fagin's threshold algorithm (Fagin,
// Lotem and Naor, "Optimal aggregation algorithms for middleware", PODS
// 2001) over two lists, one of them a best-first tree walk; the round-trip
// limit is met by walking only the pools in reach (PoolOrders::Ball).
// Without a plane (TypeOrders::both null) the emissions and cost orders
// are walked as two lists instead.
//
// The result is exactly a full scan's: pools come in the order of a
// stable sort by score of every candidate (ties: pools the job can start
// in now before pools worth waiting for, then pool order). A pool is
// yielded only when its score is below every unmet pool's bound by more
// than rounding could account for. The scores' references (ScoreNorms:
// the best time, least emissions and least cost among the candidates) are
// found first, each by walking one order to its first candidate.
//
// Pools that tie (sites on one zone's figures, PoolOrders::Classes) cost a
// ranking one look, not one each: once the best met so far is a plain
// member of a class, a cell of that class's later pools is set aside until
// the best is handed out (ParkRule), and tied cells are walked depth
// first, so the first of a tie met is the first in pool order.
//
// A training gang's span factor stretches its time, emissions and cost on
// a pool (never below the type's factors times the keys), so its bounds
// hold too, though its norms may take longer walks. A job with data to
// move, whose time depends on where the data is, is searched by looking
// at every pool (BeginFull), by the same code. Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/scenario.h"
#include "sched/pool_orders.h"
#include "sched/site_score.h"

namespace stargate::sched {

// What a pool is to the job being searched for, as the caller judges it
// (the policy's filters: residency, round trip, room, power, reservation).
// Each answer is asked for at most once per job.
class PoolJudge {
 public:
  enum class Verdict : uint8_t { kNo, kNow, kNotNow };
  virtual ~PoolJudge() = default;
  // kNow: the job may start in `p` now (*c: its figures, queue included);
  // kNotNow: it may run there but cannot start now; kNo: it may not.
  virtual Verdict Now(PoolId p, Candidate* c) = 0;
  // For a kNotNow pool: whether room comes soon enough to wait for it
  // (*c: its figures with wait_s).
  virtual bool Later(PoolId p, Candidate* c) = 0;
};

class CandidateSearch {
 public:
  // One accelerator type's orders for the job, and the job's factors there.
  struct TypeOrders {
    // Every pool of the type by each key alone: required without a plane
    // (`both`), and then walked instead; with one, only the norms walk
    // them (for pools worth waiting for, only when they keep their dues).
    const PoolOrders::Sorted* carbon = nullptr;
    const PoolOrders::Sorted* cost = nullptr;
    const PoolOrders::Sorted* rtt = nullptr;  // null: the round trip is neither weighed nor limited
    TypeFactors factors;
    // The least room (WakeIndex::Room) a pool of the type needs now for
    // the job: pools with less are passed over.
    int64_t room_needed = WakeIndex::DevicesOnANode(1);
    // Both keys at once: when given, the norms and a Rank walk this
    // instead of the emissions and cost orders.
    const PoolOrders::Plane* both = nullptr;
    // The class of due (PoolOrders::SetDue) the job goes by: it needs at
    // least PoolOrders::DueDevices(due_class) devices on every pool of the
    // type, so pools worth waiting for are those whose due of that class
    // comes by the horizon.
    int due_class = 0;
    // The orders hold only the pools within the round-trip limit
    // (PoolOrders::Reach), so the round-trip order need not be walked to
    // it to know every member.
    bool reach_only = false;
  };

  // Starts a bounded search over `types` (the job's acceptable types that
  // the network has); `rtt_limit_ms` ends the round-trip orders (infinity:
  // no limit). `num_pools` sizes the per-pool memory. `classes`
  // (PoolOrders::Classes; null: none) lets the norms' walks pass over
  // pools that cannot lower a norm: once a pool of the type is a member at
  // the type's least run time (no span, no data to move), every other pool
  // of the type in its carbon class has emissions at least its, and in
  // its cost class a cost at least its. So however many sites share a
  // grid, or a price, a job's norms judge one of them, not each.
  void Begin(size_t num_pools, std::span<const TypeOrders> types, double rtt_limit_ms, const SchedulerSpec& spec,
             PoolJudge* judge, const PoolOrders::GridClasses* classes = nullptr);
  // Starts a search that looks at every pool in `pools`.
  void BeginFull(size_t num_pools, std::span<const PoolId> pools, const SchedulerSpec& spec, PoolJudge* judge);

  // The norms over the pools the job can start in now; false when there
  // is none.
  bool NowNorms(ScoreNorms* norms);
  // The norms over those and the pools worth waiting for (after
  // NowNorms), as the judge finds them at `now`: pools waking after
  // `horizon` (the job's longest wait) are not looked at.
  ScoreNorms AllNorms(Time now, Time horizon);

  // Restarts the best-first order with `norms`, over the pools the job can
  // start in now and, `with_later`, those worth waiting for (by the
  // horizon AllNorms was given). The job's last Rank of the same kind and
  // norms is not walked again: its candidates so far are handed out anew,
  // then its walk goes on (a policy that looks at the best now, then at
  // the best with later pools, then places in the best now walks twice,
  // not three times).
  void Rank(bool with_later, const ScoreNorms& norms);
  // Rank(true, norms) for norms that AllNorms found equal to the norms of
  // the pools with room now, whose best by them is `best_now` (the first
  // candidate of Rank(false, norms)): those pools score as they did, so
  // only the pools worth waiting for are walked, against it (Next hands
  // out the best of them and best_now, ties to best_now, as Rank would).
  void RankAgainst(const Candidate& best_now, const ScoreNorms& norms);
  // The next candidate in that order (score set; `*later`: one worth
  // waiting for), or nullptr when none is left.
  const Candidate* Next(bool* later = nullptr);

  // Pools looked at since Begin (a measure of the search's cost).
  int64_t looked() const { return looked_; }

 private:
  struct Walk {  // one type's positions in its orders during a Rank
    size_t pos[3] = {0, 0, 0};
    int turn = 0;
    double bound = 0;  // Bound() at these positions
    // The plane's key of a cell: the least score (round trip aside) of any
    // pool below it, base + along[0] x least of direction `dir` + along[1]
    // x least of direction dir + 1, set once per Rank (for given norms,
    // ScoreOf is linear in the keys, and its weights are a sum of those two
    // directions' with these non-negative multiples).
    double base = 0;
    double along[2] = {0, 0};
    int dir = 0;
    // A pool worth waiting for scores this much more per second of wait
    // (KeyForm adds it in a walk with such pools).
    double per_wait_s = 0;
  };
  // A node of a type's Plane still to be walked below, by the least score
  // of its corner (round trip aside).
  struct Cell {
    double key;
    uint32_t node;
  };
  struct CellWorse;
  struct Seen {
    double score;
    bool later;
    PoolId pool;
    uint16_t type = kNoType;  // its index in types_ (kNoType: a full search's)
  };
  static constexpr uint16_t kNoType = UINT16_MAX;
  // A plane cell a Rank set aside (ParkRule): type `t`'s, until `against`
  // is handed out.
  struct Parked {
    PoolId against;
    uint16_t t;
    Cell cell;
  };
  // Whether a cell of type `t`'s plane holds only pools that come after
  // the best met so far (the top of Ranking::seen) in the full scan's
  // order, whatever their figures, so the walk need not meet them before
  // it hands that best out. That best must be a pool with room now at the
  // type's least figures (AtTypeLeast) with no queue (the queue term only
  // adds); every pool below the cell must be in its
  // carbon class (when emissions are weighed) and in its cost class (when
  // cost is), at least as far from the users (when latency is weighed:
  // the plane must bound the round trip), and either later in pool order
  // or, in a walk of the pools worth waiting for alone, any pool (a pool
  // with room now goes before one of its score worth waiting for). Such a
  // pool's figures are each at least the best's (the same keys through
  // the same arithmetic, a span of at least 1, a wait of at least 0), so
  // its score is too, and on a tie the best comes first. With thousands of
  // sites on one zone's figures (a server whose sites take one grid's
  // forecast), the walk otherwise met every pool that tied with the best.
  struct ParkRule {
    bool on = false;
    uint32_t carbon = 0, cost = 0;  // the best's classes (kNoGrid: not weighed)
    uint32_t after = 0;             // pools below the cell must have an index above it
    bool any_pool = false;          // or any index
    double rtt_ms = 0;
    const uint32_t* uniform[2] = {nullptr, nullptr};
    const uint32_t* min_pool = nullptr;
    const double* least_rtt = nullptr;  // null: latency not weighed
    bool Parks(size_t node) const;
  };
  ParkRule RuleFor(size_t t) const;
  // Whether `c` (a member of type `t`) is at the type's least figures: its
  // run time to the bit (Estimate with span 1; a pool worth waiting for is
  // priced at span 1), no data to move (none in a bounded search), no draw
  // below idle. Every pool of its carbon class then has emissions at least
  // its, every pool of its cost class a cost at least its (the same pue
  // and grid figure, a span of at least 1, through the same arithmetic,
  // each step monotone; a draw below idle would turn that order): what
  // marks a class for the norms and what a ParkRule's best must be.
  bool AtTypeLeast(size_t t, const Candidate& c) const;
  // Sets `cell` of type `t`'s plane aside against the best met so far
  // (out of line: the walk's loop stays small).
  [[gnu::noinline]] void SetAside(size_t t, const Cell& cell);
  // Gives the cells set aside against `handed_out` back to their walks.
  void Unpark(PoolId handed_out);
  // The pool's verdicts, asked for once per job.
  PoolJudge::Verdict NowOf(PoolId p);
  bool LaterOf(PoolId p);
  bool IsMember(PoolId p, bool with_later, bool* later);
  const Candidate& CandidateOf(PoolId p, bool later) const;
  // Adds to `norms` the members of type `t` that could lower a norm (the
  // candidates with room now, or, `later`, those worth waiting for: only
  // pools with devices due back by the horizon are walked, as after
  // NowNorms); false when the type has no such member.
  bool NormsOf(size_t t, bool later, ScoreNorms* norms);
  struct Least {
    double co2 = std::numeric_limits<double>::infinity();
    double cost = std::numeric_limits<double>::infinity();
    double time = std::numeric_limits<double>::infinity();
    bool any = false;
    bool passed_over = false;  // OrderNorms passed over a pool whose wait was not looked at
  };
  void MeetForNorms(PoolId p, bool with_later, ScoreNorms* norms, Least* least);
  // MeetForNorms for type `t`'s walk by emissions (`walk` kCarbon), cost
  // (kCost) or both (kBoth), passing over a pool whose class in that key
  // (both keys' for kBoth) holds a member met at the type's least run
  // time (Begin).
  void MeetOfType(size_t t, PoolId p, bool with_later, int walk, ScoreNorms* norms, Least* least);
  // Whether class `cls` in `key` (kCarbon, kCost) holds a member of type
  // `t` met at the type's least run time (`later`: for a walk that meets
  // pools worth waiting for too).
  bool Marked(size_t t, int key, uint32_t cls, bool later) const;
  // Meets type `t`'s members (as NormsOf's `later` says) by their
  // emissions and then their cost, each walk (down the plane by one key,
  // best first, or down that key's order) until none further on could
  // lower the norm so far (of every type met: a type whose least is above
  // another's need not be met to its least); false when every member is
  // known (or there is none).
  bool OrderNorms(size_t t, bool later, ScoreNorms* norms, Least* least);
  // The order by emissions the norms walk for `o` (`later`: for pools
  // worth waiting for), or null when they walk the plane.
  static const PoolOrders::Sorted* ListFor(const TypeOrders& o, bool later);
  // Meets type `t`'s members among the first `end` positions of `order`
  // (a Sorted order or a Plane) until none left could lower the time norm.
  // (`later`: as NormsOf's.)
  template <class Order>
  void TimeWalk(const Order& order, size_t end, size_t t, bool later, ScoreNorms* norms, Least* least);
  // The least score any pool of type `t` not yet met in this Rank can have.
  double Bound(size_t t) const;
  // The round trip at type `t`'s walk's position in its round-trip order
  // (0 when it has none): the least any pool not met yet can have.
  double RttKey(size_t t) const;
  void Step(size_t t);
  // Meets pool `p` of type `t` (kNoType: a full search's).
  void Meet(PoolId p, size_t t);
  void Start(bool with_later, const ScoreNorms& norms, const Candidate* best_now);
  // Whether type `t`'s figures weigh order `list` (candidate_search.cc
  // List), and whether its Rank walks it.
  bool Uses(size_t t, int list) const;
  bool Walks(size_t t, int list) const;
  // The plane walk: whether a node may hold a member, its key, and one
  // step (to the next pool it meets). Whether a node of type `t`'s plane
  // may hold a member in this Rank, over raw arrays.
  struct CellFilter {
    size_t end;  // leaves + pools: nodes at or past it are leaves past the last pool
    const int64_t* room;
    const int64_t* due;
    int64_t room_needed, horizon;
    bool with_later, later_only;
    bool operator()(size_t node) const;
  };
  CellFilter FilterOf(size_t t) const;
  // A cell's key (Walk) for type `t`'s plane in this Rank, over raw arrays.
  struct KeyForm {
    // The plane's least sums over pools with room now and over those with
    // devices due back, at the Rank's first direction (null: not members).
    const double* open = nullptr;
    const double* due_sums = nullptr;
    const int64_t* due = nullptr;  // the plane's due tree
    double base = 0, along0 = 0, along1 = 0;
    double per_wait_s = 0;  // > 0: adds the cell's least wait to the sums over pools due back
    int64_t now_ns = 0;
    // A ball's plane: its least round trip per node, and the latency term
    // per ms of it (ScoreOf's LatencyTerm).
    const double* least_rtt = nullptr;
    double per_rtt_ms = 0;
    double operator()(size_t node) const;
  };
  KeyForm FormOf(size_t t) const;
  void SetKeyForm(size_t t);
  void PlaneStep(size_t t);
  // PlaneStep's walk, setting cells aside as `rule` says when kParks.
  template <bool kParks>
  void PlaneWalk(size_t t, const ParkRule& rule);
  const PoolOrders::Sorted& ListOf(size_t t, int list) const;
  // The index of when devices are due back that type `t`'s job goes by.
  template <class Order>
  const WakeIndex& DueOf(const Order& order, size_t t) const {
    return order.due[types_[t].due_class];
  }
  // The first position >= from in `order` whose pool could be a member
  // for type `t`'s walk: room now for the job, or (`with_later`) devices
  // due back by the horizon.
  // (`later_only`: only pools with devices due back by the horizon.)
  size_t NextIn(const PoolOrders::Sorted& order, size_t from, size_t t, bool with_later, bool later_only) const;

  // One Rank's walk: one for the pools with room now, one with those worth
  // waiting for, each kept through the other's.
  struct Ranking {
    bool ranked = false;  // for the job being searched for
    bool with_later = false;
    bool later_only = false;  // RankAgainst's: only pools worth waiting for are met
    PoolId against;           // and the best pool with room now they are ranked against
    ScoreNorms norms;
    std::vector<Walk> walks;
    std::vector<std::vector<Cell>> cells;  // per type, a min-heap by key
    std::vector<Seen> seen;                // met, not yet handed out: a min-heap
    std::vector<Seen> yielded;             // handed out, in order
    std::vector<Parked> parked;            // cells set aside until their pool is handed out
    size_t replay = 0;                     // the next of yielded to hand out again
    uint32_t rank = 0;                     // pools met are stamped with it
    std::vector<uint32_t> stamp;
  };

  const SchedulerSpec* spec_ = nullptr;
  PoolJudge* judge_ = nullptr;
  bool bounded_ = true;
  std::vector<TypeOrders> types_;
  const PoolOrders::GridClasses* classes_ = nullptr;  // Begin's
  // Per type, per key (carbon, cost), by class: a member of the class was
  // met at the type's least run time by the last NowNorms (`now` holds
  // now_gen_; its members are in now_norms_, which AllNorms starts from)
  // or by the last AllNorms (`later` holds later_gen_). Each call takes a
  // new generation (64 bits: never wraps), so norms asked for again are
  // found afresh.
  struct ClassMarks {
    std::vector<uint64_t> now[2], later[2];
  };
  std::vector<ClassMarks> class_marks_;
  uint64_t gen_ = 0, now_gen_ = 0, later_gen_ = 0;
  std::span<const PoolId> all_;
  double rtt_limit_ms_ = 0;
  ScoreNorms now_norms_;

  // Per pool, stamped with the job.
  uint32_t job_ = 0;
  std::vector<uint32_t> stamp_;
  std::vector<uint8_t> verdict_, later_;
  std::vector<Candidate> now_c_, later_c_;
  int64_t looked_ = 0;

  int64_t horizon_ = WakeIndex::kNever;  // ns; set by AllNorms
  int64_t now_ns_ = 0;                   // likewise
  std::vector<Cell> time_cells_;         // TimeWalk's heap
  std::vector<Cell> norm_cells_;         // OrderNorms' heap, down a plane
  Ranking rankings_[2];                  // without and with later pools
  size_t current_ = 0;                   // the last Rank's (an index: the search may be copied)
  Ranking& R() { return rankings_[current_]; }
  const Ranking& R() const { return rankings_[current_]; }
};

}  // namespace stargate::sched
