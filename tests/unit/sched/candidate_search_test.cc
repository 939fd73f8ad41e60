// The bounded candidate search (candidate_search.h) against a full scan:
//  - on random networks, queues and weights, a stargate pass with the
//    bounded search decides exactly what it decides weighing every pool
//    (starts, nodes, reasons, waits, deferrals, rejections), pass after
//    pass, ties and unlocated sites included;
//  - on a network of many sites it looks at a few pools, not all;
//  - a job with a round-trip limit looks only within reach.
#include "sched/candidate_search.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <functional>
#include <map>

#include "core/rng.h"
#include "sched/placement.h"
#include "sched/stargate_policy.h"

namespace stargate::sched {
namespace {

// One line per decision, every field that a driver acts on.
std::string Render(const Decisions& d) {
  std::string out;
  for (const Decision& item : d.items) {
    if (const auto* s = std::get_if<Start>(&item)) {
      out += fmt::format("start {} site {} pool {} x{} cap {} share {}/{} [", s->job.value(), s->site.value(),
                         s->pool.value(), s->per_node, s->power_cap, s->share_milli, s->share_slot);
      for (NodeId n : s->nodes) out += fmt::format("{} ", n.value());
      out += "] " + s->reason + "\n";
    } else if (const auto* p = std::get_if<Preempt>(&item)) {
      out += fmt::format("preempt {} {} {}\n", p->job.value(), p->warning.nanos(), p->reason);
    } else if (const auto* f = std::get_if<Defer>(&item)) {
      out += fmt::format("defer {} {} {}\n", f->job.value(), f->until.nanos(), f->reason);
    } else if (const auto* r = std::get_if<Reject>(&item)) {
      out += fmt::format("reject {} {}\n", r->job.value(), r->reason);
    } else if (const auto* r = std::get_if<Repair>(&item)) {
      out += fmt::format("repair {} {} {}\n", r->job.value(), r->failed.value(), r->spare.value());
    }
  }
  return out;
}

std::vector<SiteSpec> RandomSites(Rng& rng, int n) {
  const char* jurisdictions[] = {"US", "EU", "NO", "IN"};
  const AcceleratorType types[] = {AcceleratorType::kH100, AcceleratorType::kA100, AcceleratorType::kB200};
  std::vector<SiteSpec> sites;
  for (int i = 0; i < n; ++i) {
    SiteSpec s;
    s.name = "site" + std::to_string(i);
    s.region = "r" + std::to_string(rng.Below(4));
    s.jurisdiction = jurisdictions[rng.Below(4)];
    s.pue = 1.1 + 0.1 * static_cast<double>(rng.Below(3));  // few values: ties in the keys
    const int nodes = 1 + static_cast<int>(rng.Below(5));
    s.pools.push_back(PoolSpec{types[rng.Below(3)], nodes, 8, 2, 1});
    if (rng.Bernoulli(0.2))
      s.pools.push_back(PoolSpec{types[rng.Below(3)], 1 + static_cast<int>(rng.Below(3)), 4, 1, 1});
    s.hot_spares = rng.Bernoulli(0.2) ? 1 : 0;
    s.fabric.nodes_per_leaf = 2;  // gangs of 3+ nodes span leaves
    s.fabric.oversubscription = 4;
    s.power_cap = rng.Bernoulli(0.3) ? Watts(2'000.0 + 4'000.0 * nodes * rng.Uniform()) : Watts(0);
    s.located = !rng.Bernoulli(0.1);
    s.latitude = -60 + 120 * rng.Uniform();
    s.longitude = -180 + 360 * rng.Uniform();
    sites.push_back(s);
  }
  return sites;
}

void RandomSignals(Rng& rng, ClusterState& s, Time now) {
  for (size_t i = 0; i < s.sites().size(); ++i) {
    SiteSignals sig;
    // Whole numbers from a short range: many sites tie.
    sig.carbon = static_cast<double>(20 * (1 + rng.Below(12)));
    sig.carbon_ahead = rng.Bernoulli(0.5) ? sig.carbon : static_cast<double>(20 * (1 + rng.Below(12)));
    sig.carbon_min_ahead = std::min(sig.carbon, static_cast<double>(20 * (1 + rng.Below(12))));
    sig.carbon_min_at = now + Duration::Hours(static_cast<int64_t>(rng.Below(6)));
    sig.price = rng.Bernoulli(0.1) ? 0.0 : static_cast<double>(10 * (1 + rng.Below(8)));
    if (rng.Bernoulli(0.01)) sig.price = -20;  // negative power prices happen: the search falls back
    sig.facility_w = 1'000 * rng.Uniform();
    // Sites of one grid or one price (the same pue and series: SiteState::
    // carbon_leader, price_leader) often see their leader's figures, as a
    // driver reading one series gives them: the norms then judge one pool
    // of such a class, not each.
    const SiteState& site = s.sites()[i];
    if (site.carbon_leader.value() < i && rng.Bernoulli(0.6)) {
      const SiteSignals& lead = s.site(site.carbon_leader).signals;
      sig.carbon = lead.carbon;
      sig.carbon_ahead = lead.carbon_ahead;
    }
    if (site.price_leader.value() < i && rng.Bernoulli(0.6)) sig.price = s.site(site.price_leader).signals.price;
    s.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
}

// A model whose gradient all-reduce a wide span slows (the policy prices
// it with SpanFactor).
const TrainingSpec* Model() {
  static const TrainingSpec model = [] {
    TrainingSpec t;
    t.params = 70e9;
    t.tokens = 1e12;
    t.tokens_per_step = 5e3;  // small steps: the gradient sync is exposed
    return t;
  }();
  return &model;
}

JobRequest RandomJob(Rng& rng, ClusterState& s, uint32_t id) {
  JobRequest r;
  r.id = JobId(id);
  const int sizes[] = {1, 2, 4, 8, 16, 24, 64};  // each class of due (PoolOrders::DueDevices)
  r.accelerators = sizes[rng.Below(7)];
  r.submit = Time::Epoch() + Duration::Seconds(static_cast<int64_t>(rng.Below(100)));
  r.estimate = Duration::Minutes(1 + static_cast<int64_t>(rng.Below(600)));
  if (rng.Bernoulli(0.3)) r.accel_mask = MaskOf(rng.Bernoulli(0.5) ? AcceleratorType::kH100 : AcceleratorType::kA100);
  if (rng.Bernoulli(0.3)) r.allowed = s.AllowedSites({rng.Bernoulli(0.5) ? "EU" : "US"}, {});
  if (r.allowed == nullptr && rng.Bernoulli(0.1)) r.allowed = s.AllowedSites({}, {"r1", "r2"});
  r.tenant = TenantId(static_cast<uint16_t>(rng.Below(4)));
  r.priority = rng.Bernoulli(0.15) ? 5 : 0;
  r.utilisation = rng.Bernoulli(0.05) ? 0.0 : 0.8;  // no extra draw: every pool ties on carbon and cost
  if (rng.Bernoulli(0.4)) {
    r.has_users = true;
    r.users_latitude = static_cast<float>(-60 + 120 * rng.Uniform());
    r.users_longitude = static_cast<float>(-180 + 360 * rng.Uniform());
    if (rng.Bernoulli(0.6)) r.max_rtt = Duration::Millis(20 + static_cast<int64_t>(rng.Below(200)));
  }
  if (rng.Bernoulli(0.2)) r.training = Model();  // gangs of 16 or 24 span nodes
  if (rng.Bernoulli(0.1)) {                      // a job file's H100:4 x nodes
    r.fixed_per_node = 4;
    r.accelerators = 4 * (1 + static_cast<int>(rng.Below(4)));
  }
  if (rng.Bernoulli(0.3)) {
    r.deferrable = true;
    r.deadline = r.submit + Duration::Hours(static_cast<int64_t>(2 + rng.Below(48)));
  }
  if (r.fixed_per_node == 0 && r.training == nullptr && rng.Bernoulli(0.1)) {  // a share of one device
    r.accelerators = 1;
    r.share_milli = 100 * (1 + static_cast<int>(rng.Below(9)));
  }
  return r;
}

SchedulerSpec RandomSpec(Rng& rng) {
  SchedulerSpec spec;
  const double weights[] = {0, 0.5, 1, 3};
  spec.weight_time = weights[rng.Below(4)];
  spec.weight_carbon = weights[rng.Below(4)];
  spec.weight_cost = weights[rng.Below(4)];
  spec.weight_latency = weights[rng.Below(4)];
  spec.weight_queue = weights[rng.Below(4)];
  if (spec.weight_time + spec.weight_carbon + spec.weight_cost + spec.weight_latency + spec.weight_queue == 0) {
    spec.weight_time = 1;
  }
  const double budgets[] = {0, 0.5, 2};
  spec.wait_budget = budgets[rng.Below(3)];
  spec.resume_wait_budget = budgets[rng.Below(3)];
  spec.preempt_after = Duration::Minutes(static_cast<int64_t>(rng.Below(3) * 30));
  spec.fair_share = rng.Bernoulli(0.3);
  return spec;
}

TEST(CandidateSearch, DecidesExactlyAsAFullScanOnRandomNetworks) {
  Rng rng(24);
  int starts = 0, waits_or_defers = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    std::vector<SiteSpec> specs = RandomSites(rng, 3 + static_cast<int>(rng.Below(40)));
    // Each policy keeps its own state, changed alike pass by pass, so the
    // bounded one keeps its indexes from pass to pass as in a driver.
    ClusterState s(specs), f(specs);
    auto both = [&](auto change) {
      change(s);
      change(f);
    };
    SchedulerSpec spec = RandomSpec(rng);
    spec.bounded_search = true;
    spec.bounded_search_min_pools = 0;  // bounded on every network, however small
    StargatePolicy bounded(spec);
    spec.bounded_search = false;
    StargatePolicy full(spec);
    Queue q;
    if (spec.fair_share) q.KeepTenantOrder();
    std::map<uint32_t, JobRequest> reqs;
    for (uint32_t i = 0; i < 100; ++i) {
      reqs[i] = RandomJob(rng, s, i);
      q.Push(reqs[i]);
    }
    std::vector<Start> running;
    for (int pass = 0; pass < 6; ++pass) {
      const Time now = Time::Epoch() + Duration::Minutes(20 * pass);
      RandomSignals(rng, s, now);
      for (size_t i = 0; i < specs.size(); ++i) {
        const SiteId site(static_cast<uint16_t>(i));
        f.SetSignals(site, s.site(site).signals);
      }
      const Decisions d = bounded.Schedule(s, q, now);
      const std::string want = Render(full.Schedule(f, q, now));
      ASSERT_EQ(Render(d), want) << "trial " << trial << " pass " << pass;
      for (const Decision& item : d.items) {
        if (const auto* st = std::get_if<Start>(&item)) {
          ++starts;
          if (rng.Bernoulli(0.1)) continue;  // the driver could not start it: it stays queued
          both([&](ClusterState& c) {
            if (st->share_milli > 0) {
              c.AddShare(st->nodes[0], st->share_slot, st->share_milli);
            } else {
              for (NodeId n : st->nodes) c.Allocate(n, st->per_node);
            }
          });
          q.Erase(st->job);
          running.push_back(*st);
          RunningGang g = RunningGang::Ending(
              st->job, st->pool, st->share_milli > 0 ? 0 : static_cast<int64_t>(st->nodes.size()) * st->per_node,
              now + reqs.at(st->job.value()).estimate);
          g.share = st->share_milli / 1000.0;
          if (st->share_milli > 0) {
            g.share_node = st->nodes[0];
            g.share_slot = st->share_slot;
          }
          g.tenant = reqs.at(st->job.value()).tenant;
          both([&](ClusterState& c) { c.AddRunning(g); });
        } else if (const auto* r = std::get_if<Reject>(&item)) {
          q.Erase(r->job);
        } else if (std::holds_alternative<Defer>(item)) {
          ++waits_or_defers;
        }
      }
      // A node goes down (an idle one: the driver stops its jobs first)
      // or comes back.
      if (rng.Bernoulli(0.3)) {
        const NodeId n(static_cast<uint32_t>(rng.Below(s.num_nodes())));
        const bool idle = s.FreeOn(n) == s.pool(s.PoolOf(n)).per_node;
        if (!s.IsUp(n) || idle) {
          const bool up = !s.IsUp(n);
          both([&](ClusterState& c) { c.SetNodeUp(n, up); });
        }
      }
      // Some gangs end; some end late (their calendar entries overdue).
      for (size_t k = 0; k < running.size();) {
        if (rng.Bernoulli(0.3)) {
          const Start& st = running[k];
          both([&](ClusterState& c) {
            if (st.share_milli > 0) {
              c.RemoveShare(st.nodes[0], st.share_slot, st.share_milli);
            } else {
              for (NodeId n : st.nodes) c.Release(n, st.per_node);
            }
            c.RemoveRunning(st.job);
          });
          running[k] = running.back();
          running.pop_back();
        } else {
          ++k;
        }
      }
    }
  }
  EXPECT_GT(starts, 5000);  // the comparison was exercised
  EXPECT_GT(waits_or_defers, 50);
}

// A judge that finds every allowed pool open, for looking at the search
// alone.
struct OpenJudge final : PoolJudge {
  OpenJudge(const ClusterState& s, const JobRequest& r) : state(s), req(r) {}
  Verdict Now(PoolId p, Candidate* c) override {
    if (!PoolAllows(state, p, req)) return Verdict::kNo;
    *c = Estimate(state, p, req);
    return Verdict::kNow;
  }
  bool Later(PoolId, Candidate*) override { return false; }
  const ClusterState& state;
  const JobRequest& req;
};

ClusterState ManySites(int n) {
  std::vector<SiteSpec> specs;
  for (int i = 0; i < n; ++i) {
    SiteSpec s;
    s.name = "s" + std::to_string(i);
    s.jurisdiction = "EU";
    s.pue = 1.2;
    s.latitude = 40 + 20.0 * (i % 97) / 97;
    s.longitude = -5 + 30.0 * (i % 89) / 89;
    s.pools.push_back(PoolSpec{AcceleratorType::kH100, 2, 8, 2, 1});
    specs.push_back(s);
  }
  ClusterState state(specs);
  for (int i = 0; i < n; ++i) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = 50 + (i * 7919) % 500;
    sig.price = 30 + (i * 104729) % 70;
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
  return state;
}

// A one-node job of an hour.
JobRequest NodeForAnHour() {
  JobRequest req;
  req.accelerators = 8;
  req.estimate = Duration::Hours(1);
  return req;
}

// The job's one type's orders as two lists (no plane, no round trip).
CandidateSearch::TypeOrders H100Lists(PoolOrders& orders, const JobRequest& req) {
  return CandidateSearch::TypeOrders{&orders.ByCarbon(AcceleratorType::kH100), &orders.ByCost(AcceleratorType::kH100),
                                     nullptr, FactorsFor(AcceleratorType::kH100, req)};
}

TEST(CandidateSearch, LooksAtAFewOfManyPools) {
  const ClusterState state = ManySites(2'000);
  PoolOrders orders;
  orders.Update(state, true);
  const JobRequest req = NodeForAnHour();
  OpenJudge judge(state, req);
  SchedulerSpec spec;
  CandidateSearch search;
  const CandidateSearch::TypeOrders o = H100Lists(orders, req);
  search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
  ScoreNorms norms;
  ASSERT_TRUE(search.NowNorms(&norms));
  search.Rank(false, norms);
  const Candidate* best = search.Next();
  ASSERT_NE(best, nullptr);
  const double found = best->score;
  const PoolId pool = best->pool;
  EXPECT_LT(search.looked(), 100) << "a bounded search should not look at most of 2,000 pools";

  // The full scan agrees.
  search.BeginFull(state.pools().size(), orders.All(), spec, &judge);
  ASSERT_TRUE(search.NowNorms(&norms));
  search.Rank(false, norms);
  EXPECT_EQ(search.Next()->pool, pool);
  EXPECT_EQ(search.looked(), 2'000);
  EXPECT_GT(found, 0);
}

// Half of 2,000 sites draw from one grid (the same pue and series, so the
// same figures) and are the cleanest and cheapest: the norms judge one of
// them, not the thousand, and come out as a full scan's.
// ManySites(2,000) with every other site on one grid (the same pue and
// series spec, so the same figures), the cleanest and cheapest.
ClusterState HalfOnOneGrid() {
  ClusterState state = ManySites(2'000);
  for (int i = 0; i < 2'000; i += 2) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = 40;
    sig.price = 20;
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
  return state;
}

TEST(CandidateSearch, TheNormsJudgeOneOfManySitesOnOneGrid) {
  const ClusterState state = HalfOnOneGrid();
  for (int i = 0; i < 2'000; i += 2) {
    const SiteState& site = state.site(SiteId(static_cast<uint16_t>(i)));
    ASSERT_EQ(site.carbon_leader, SiteId(0));  // one series spec for all
    ASSERT_EQ(site.price_leader, SiteId(0));
  }
  PoolOrders orders;
  orders.Update(state, true);
  const JobRequest req = NodeForAnHour();
  OpenJudge judge(state, req);
  SchedulerSpec spec;
  CandidateSearch search;
  const CandidateSearch::TypeOrders o = H100Lists(orders, req);
  ScoreNorms unclassed;
  search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
  ASSERT_TRUE(search.NowNorms(&unclassed));
  EXPECT_GE(search.looked(), 1'000) << "without the classes every pool of the grid is judged";
  ScoreNorms norms;
  search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge,
               orders.Classes());
  ASSERT_TRUE(search.NowNorms(&norms));
  EXPECT_LT(search.looked(), 20);
  EXPECT_EQ(norms, unclassed);
  // Asked for again, the norms are found afresh, not passed over by the
  // marks of the first time.
  ScoreNorms again;
  ASSERT_TRUE(search.NowNorms(&again));
  EXPECT_EQ(again, norms);
  const Time now = Time::Epoch();
  const ScoreNorms with_later = search.AllNorms(now, now + Duration::Hours(1));
  EXPECT_EQ(search.AllNorms(now, now + Duration::Hours(1)), with_later);
  EXPECT_EQ(with_later, norms);  // (no pool is worth waiting for)
  // Each list's runs of one class end where the class does.
  ASSERT_NE(orders.Classes(), nullptr);
  for (int k = 0; k < 2; ++k) {
    const PoolOrders::Sorted& list =
        k == 0 ? orders.ByCarbon(AcceleratorType::kH100) : orders.ByCost(AcceleratorType::kH100);
    const std::vector<uint32_t>& cls = (*orders.Classes())[k];
    ASSERT_EQ(list.run_end.size(), list.pools.size());
    EXPECT_EQ(list.run_end[0], 1'000u) << "the grid's thousand pools lead both lists";
    for (size_t i = 0; i < list.pools.size(); ++i) {
      const size_t end = list.run_end[i];
      ASSERT_GT(end, i);
      for (size_t j = i; j < end; ++j) ASSERT_EQ(cls[list.pools[j].value()], cls[list.pools[i].value()]);
      if (end < list.pools.size()) EXPECT_NE(cls[list.pools[end].value()], cls[list.pools[i].value()]) << i;
    }
  }

  search.BeginFull(state.pools().size(), orders.All(), spec, &judge);
  ScoreNorms full;
  ASSERT_TRUE(search.NowNorms(&full));
  EXPECT_EQ(norms, full);
  EXPECT_DOUBLE_EQ(norms.co2, FactorsFor(AcceleratorType::kH100, req).co2_per_key * 1.2 * 40);
}

// Late in a busy pass the pools left are clean and dear or cheap and
// dirty: here every pool but one lies on the line carbon + price = const,
// and the one below it, fair in both, is the best. Walking each key alone
// meets most pools before either bound passes it; the plane of both keys
// goes to it.
TEST(CandidateSearch, ThePlaneFindsAPoolFairInBothKeys) {
  ClusterState state = ManySites(2'000);
  for (int i = 0; i < 2'000; ++i) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = i == 1'000 ? 1'000 : 100 + i;
    sig.price = i == 1'000 ? 1'000 : 100 + (1'999 - i);
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
  PoolOrders orders;
  orders.Update(state, true);
  const JobRequest req = NodeForAnHour();
  OpenJudge judge(state, req);
  SchedulerSpec spec;
  spec.weight_time = 0;
  spec.weight_carbon = spec.weight_cost = 1;
  auto best = [&](bool plane, int64_t* looked) {
    CandidateSearch search;
    CandidateSearch::TypeOrders o{&orders.ByCarbon(AcceleratorType::kH100), &orders.ByCost(AcceleratorType::kH100),
                                  nullptr, FactorsFor(AcceleratorType::kH100, req)};
    if (plane) o.both = &orders.ByBoth(AcceleratorType::kH100);
    search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
    ScoreNorms norms;
    EXPECT_TRUE(search.NowNorms(&norms));
    search.Rank(false, norms);
    const Candidate* c = search.Next();
    *looked = search.looked();
    return c == nullptr ? -1 : static_cast<int>(c->pool.value());
  };
  int64_t by_plane = 0, by_keys = 0;
  EXPECT_EQ(best(true, &by_plane), 1'000);
  EXPECT_EQ(best(false, &by_keys), 1'000);
  EXPECT_LT(by_plane, 60);
  EXPECT_GT(by_keys, 1'000);
}

// The H100 pools' plane for a one-node job `req` (without the orders by
// each key, as the policy searches: the plane finds the norms too).
CandidateSearch::TypeOrders PlaneOfH100(const PoolOrders& orders, const JobRequest& req) {
  return CandidateSearch::TypeOrders{nullptr,
                                     nullptr,
                                     nullptr,
                                     FactorsFor(AcceleratorType::kH100, req),
                                     WakeIndex::DevicesOnANode(8),
                                     &orders.ByBoth(AcceleratorType::kH100)};
}

// Every third pool is full now and worth waiting for (10 min), and those
// are the cleanest: the pools with later ones weigh emissions by other norms.
struct SomeLaterJudge final : PoolJudge {
  SomeLaterJudge(const ClusterState& s, const JobRequest& r) : state(s), req(r) {}
  Verdict Now(PoolId p, Candidate* c) override {
    *c = Estimate(state, p, req);
    return p.value() % 3 == 0 ? Verdict::kNotNow : Verdict::kNow;
  }
  bool Later(PoolId p, Candidate* c) override {
    *c = Estimate(state, p, req);
    c->wait_s = 600;
    return true;
  }
  const ClusterState& state;
  const JobRequest& req;
};

// A policy ranks the pools with room now, then those with later ones too,
// then those with room now again: the third Rank hands out the first one's
// candidates (scored by its own norms, though the second scored some of
// them by its own) and goes on as a fresh search would.
TEST(CandidateSearch, ARankAskedAgainGoesOnWhereItStood) {
  ClusterState state = ManySites(300);
  for (int i = 0; i < 300; ++i) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = (i % 3 == 0 ? 20 : 200) + (i * 7919) % 300;
    sig.price = 30 + (i * 104729) % 70;
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
  PoolOrders orders;
  orders.Update(state, true);
  // As a policy keeps them: the full pools have no room, and devices due
  // back when the judge says.
  for (size_t i = 0; i < state.pools().size(); i += 3) {
    orders.SetRoom(PoolId(static_cast<uint16_t>(i)), WakeIndex::kNever);
    orders.SetDue(PoolId(static_cast<uint16_t>(i)), (Time::Epoch() + Duration::Minutes(10)).nanos());
  }
  const JobRequest req = NodeForAnHour();
  SomeLaterJudge judge(state, req);
  SchedulerSpec spec;
  const CandidateSearch::TypeOrders o = PlaneOfH100(orders, req);
  struct Got {
    PoolId pool;
    double score;
    bool operator==(const Got&) const = default;
  };
  auto take = [](CandidateSearch& search, int n) {
    std::vector<Got> got;
    for (int i = 0; i < n; ++i) {
      const Candidate* c = search.Next();
      if (c == nullptr) break;
      got.push_back(Got{c->pool, c->score});
    }
    return got;
  };
  // Fresh: the first 40 candidates with room now.
  CandidateSearch fresh;
  fresh.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
  ScoreNorms norms;
  ASSERT_TRUE(fresh.NowNorms(&norms));
  fresh.Rank(false, norms);
  const std::vector<Got> want = take(fresh, 40);
  ASSERT_EQ(want.size(), 40u);

  CandidateSearch search;
  search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
  ASSERT_TRUE(search.NowNorms(&norms));
  search.Rank(false, norms);
  EXPECT_EQ(take(search, 5), std::vector<Got>(want.begin(), want.begin() + 5));
  const ScoreNorms all = search.AllNorms(Time::Epoch(), Time::Epoch() + Duration::Hours(1));
  ASSERT_LT(all.co2, norms.co2);  // the later pools are weighed by other norms
  search.Rank(true, all);
  bool later = false;
  const Candidate* best = search.Next(&later);
  ASSERT_NE(best, nullptr);
  EXPECT_TRUE(later);  // a clean pool worth waiting for is the best of all
  take(search, 200);   // scores pools with room now by the other norms
  const int64_t looked = search.looked();
  search.Rank(false, norms);
  EXPECT_EQ(take(search, 5), std::vector<Got>(want.begin(), want.begin() + 5));
  EXPECT_EQ(search.looked(), looked);  // handed out again, not looked for
  EXPECT_EQ(take(search, 35), std::vector<Got>(want.begin() + 5, want.end()));
}

// Pool 7 is full now and worth waiting for, as clean as the cleanest pool
// with room (1) and as cheap as the cheapest (2), so it moves no norm: the
// walk of the pools worth waiting for alone, against the best with room
// now, must pick as the walk of all of them does: pool 7 after a short
// wait, pool 1 after a long one.
// Half of 2,000 sites draw from one grid and are the cleanest and
// cheapest: their thousand pools tie for the best. A ranking down the
// plane hands them out in pool order, as a full scan does, having judged a
// few of them: the cells of the rest wait aside until the pool before
// them is handed out (CandidateSearch::ParkRule). Without that, each
// ranking judged all thousand.
TEST(CandidateSearch, ARankHandsOutPoolsThatTieInPoolOrderJudgingAFew) {
  const ClusterState state = HalfOnOneGrid();
  PoolOrders orders;
  orders.Update(state, true);
  ASSERT_NE(orders.Classes(), nullptr);
  const JobRequest req = NodeForAnHour();
  OpenJudge judge(state, req);
  SchedulerSpec spec;
  const CandidateSearch::TypeOrders o = PlaneOfH100(orders, req);
  CandidateSearch search;
  search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge,
               orders.Classes());
  ScoreNorms norms;
  ASSERT_TRUE(search.NowNorms(&norms));
  search.Rank(false, norms);
  std::vector<PoolId> bounded;
  for (int i = 0; i < 6; ++i) bounded.push_back(search.Next()->pool);
  EXPECT_LT(search.looked(), 60) << "a ranking judges a few of the thousand pools that tie";
  const std::vector<PoolId> in_pool_order = {PoolId(0), PoolId(2), PoolId(4), PoolId(6), PoolId(8), PoolId(10)};
  EXPECT_EQ(bounded, in_pool_order);
  // Asked again with the same norms, the same, handed out anew.
  search.Rank(false, norms);
  for (PoolId p : in_pool_order) EXPECT_EQ(search.Next()->pool, p);

  CandidateSearch full;
  full.BeginFull(state.pools().size(), orders.All(), spec, &judge);
  ScoreNorms full_norms;
  ASSERT_TRUE(full.NowNorms(&full_norms));
  EXPECT_EQ(full_norms, norms);
  full.Rank(false, full_norms);
  for (PoolId p : in_pool_order) EXPECT_EQ(full.Next()->pool, p);
}

// A judge whose verdicts are drawn per pool (the search's own view of a
// pass: room now, worth waiting for, or no), with a span, a queue and a
// wait, so ties in the keys need not be ties in the score.
struct DrawnJudge final : PoolJudge {
  struct Drawn {
    Verdict now = Verdict::kNo;
    bool later = false;
    double span = 1, queue = 0, wait_s = 0;
  };
  DrawnJudge(const ClusterState& s, const JobRequest& r, const std::vector<double>* rtt) : state(s), req(r), rtt(rtt) {}
  double RoundTrip(PoolId p) const { return rtt != nullptr ? (*rtt)[state.pool(p).site.value()] : 0.0; }
  Verdict Now(PoolId p, Candidate* c) override {
    const Drawn& d = drawn[p.value()];
    if (d.now == Verdict::kNow) {
      *c = Estimate(state, p, req, d.span, RoundTrip(p));
      c->queue = d.queue;
    }
    return d.now;
  }
  bool Later(PoolId p, Candidate* c) override {
    const Drawn& d = drawn[p.value()];
    if (!d.later) return false;
    *c = Estimate(state, p, req, 1.0, RoundTrip(p));
    c->wait_s = d.wait_s;
    c->queue = d.queue;
    return true;
  }
  const ClusterState& state;
  const JobRequest& req;
  const std::vector<double>* rtt;
  std::vector<Drawn> drawn;
};

// Networks of up to 320 sites, most of them in a few groups that share a
// pue and, most hours, their group's grid figures (the classes a ranking
// sets tied cells aside by), some at one place (ties in the round trip);
// one to three types; the pools' verdicts, spans, queues and waits drawn.
// For each job, every way the policy asks (the best now, the best with
// the pools worth waiting for, against the best now, each asked again),
// the bounded search hands out exactly the full scan's candidates, in its
// order, with its scores: over lists and the plane, the plane alone, and
// a ball's plane.
TEST(CandidateSearch, RanksTiedClassesExactlyAsAFullScan) {
  Rng rng(24);
  const AcceleratorType types[] = {AcceleratorType::kH100, AcceleratorType::kA100, AcceleratorType::kB200};
  int64_t compared = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int n = 20 + static_cast<int>(rng.Below(300));
    const int groups = 1 + static_cast<int>(rng.Below(5));
    std::vector<int> group(n);
    std::vector<SiteSpec> specs;
    for (int i = 0; i < n; ++i) {
      SiteSpec s;
      s.name = "s" + std::to_string(i);
      s.jurisdiction = "EU";
      group[i] = rng.Bernoulli(0.8) ? static_cast<int>(rng.Below(groups)) : -1;
      s.pue = group[i] >= 0 ? 1.1 + 0.01 * group[i] : 1.5 + 0.0001 * i;
      s.located = !rng.Bernoulli(0.05);
      s.latitude = 40 + 10 * rng.Uniform();
      s.longitude = -5 + 20 * rng.Uniform();
      if (group[i] >= 0 && rng.Bernoulli(0.5)) s.latitude = 45, s.longitude = 5;
      s.pools.push_back(
          PoolSpec{types[rng.Bernoulli(0.7) ? 0 : rng.Below(3)], 1 + static_cast<int>(rng.Below(3)), 8, 2, 1});
      if (rng.Bernoulli(0.1)) s.pools.push_back(PoolSpec{types[rng.Below(3)], 1, 8, 2, 1});
      specs.push_back(s);
    }
    ClusterState state(specs);
    PoolOrders orders;
    const int hours = 1 + static_cast<int>(rng.Below(4));
    for (int hour = 0; hour < hours; ++hour) {
      std::vector<double> carbon(groups), price(groups);
      for (int g = 0; g < groups; ++g) {
        carbon[g] = 20.0 * static_cast<double>(1 + rng.Below(5));
        price[g] = rng.Bernoulli(0.2) ? 0.0 : 10.0 * static_cast<double>(1 + rng.Below(4));
      }
      for (int i = 0; i < n; ++i) {
        SiteSignals sig;
        const bool own = group[i] < 0;
        sig.carbon = sig.carbon_ahead =
            !own && rng.Bernoulli(0.85) ? carbon[group[i]] : 20.0 * static_cast<double>(1 + rng.Below(5));
        sig.price = !own && rng.Bernoulli(0.85) ? price[group[i]] : 10.0 * static_cast<double>(1 + rng.Below(4));
        state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
      }
      orders.Update(state, hour == 0);
      const size_t num_pools = state.pools().size();
      const Time now = Time::Epoch() + Duration::Hours(1);
      for (int job = 0; job < 6; ++job) {
        SchedulerSpec spec = RandomSpec(rng);
        JobRequest req;
        req.accelerators = 8;
        req.estimate = Duration::Minutes(1 + static_cast<int64_t>(rng.Below(600)));
        req.utilisation = rng.Bernoulli(0.05) ? 0.0 : 0.8;
        double limit = std::numeric_limits<double>::infinity();
        if (rng.Bernoulli(0.5)) {
          req.has_users = true;
          req.users_latitude = 45;
          req.users_longitude = 5;
          if (rng.Bernoulli(0.6)) {
            req.max_rtt = Duration::Millis(5 + static_cast<int64_t>(rng.Below(40)));
            limit = req.max_rtt.seconds() * 1e3;
          }
        }
        const std::vector<double>* rtt =
            req.has_users ? &orders.RoundTrips(state, req.users_latitude, req.users_longitude) : nullptr;
        DrawnJudge judge(state, req, rtt);
        judge.drawn.resize(num_pools);
        for (size_t p = 0; p < num_pools; ++p) {
          DrawnJudge::Drawn& d = judge.drawn[p];
          const double r = rng.Uniform();
          d.now =
              r < 0.1 ? PoolJudge::Verdict::kNo : (r < 0.65 ? PoolJudge::Verdict::kNow : PoolJudge::Verdict::kNotNow);
          d.span = rng.Bernoulli(0.7) ? 1.0 : 1.0 + 0.5 * rng.Uniform();
          d.queue = rng.Bernoulli(0.7) ? 0.0 : 0.25 * static_cast<double>(1 + rng.Below(4));
          d.later = d.now == PoolJudge::Verdict::kNotNow && rng.Bernoulli(0.7);
          const int64_t due_s = 1 + static_cast<int64_t>(rng.Below(7200));
          d.wait_s = static_cast<double>(due_s) + (rng.Bernoulli(0.5) ? 0.0 : 600 * rng.Uniform());
          if (req.max_rtt > Duration::Zero() &&
              (*rtt)[state.pool(PoolId(static_cast<uint16_t>(p))).site.value()] > limit) {
            d.now = PoolJudge::Verdict::kNo;  // out of reach, as the policy's judge says
            d.later = false;
          }
          // The orders' room and dues as the policy keeps them: a pool
          // worth waiting for has devices due back no later than its wait.
          const PoolId pool(static_cast<uint16_t>(p));
          const int64_t due = (now + Duration::Seconds(due_s)).nanos();
          if (d.now == PoolJudge::Verdict::kNotNow) {
            orders.SetRoom(pool, WakeIndex::kNever);
            orders.SetDue(pool, d.later ? due : (rng.Bernoulli(0.5) ? WakeIndex::kNever : due));
          } else {
            orders.SetRoom(pool, WakeIndex::Room(2, 8));
            orders.SetDue(pool, rng.Bernoulli(0.5) ? WakeIndex::kNever : due);
          }
        }
        const int layout = static_cast<int>(rng.Below(2));  // lists and the plane, or the plane alone
        std::vector<CandidateSearch::TypeOrders> by_type;
        for (AcceleratorType type : types) {
          if (orders.OfType(type).empty()) continue;
          CandidateSearch::TypeOrders o;
          if (req.max_rtt > Duration::Zero()) {
            o.both = &orders.Ball(state, type, req.users_latitude, req.users_longitude, limit).both;
            o.reach_only = true;
          } else if (layout == 0) {
            o.carbon = &orders.ByCarbon(type);
            o.cost = &orders.ByCost(type);
            o.both = &orders.ByBoth(type);
          } else {
            o.both = &orders.ByBoth(type);
          }
          if (req.has_users && spec.weight_latency > 0 &&
              (req.max_rtt == Duration::Zero() || o.both->least_rtt.empty())) {
            o.rtt = &orders.ByRoundTrip(state, type, req.users_latitude, req.users_longitude);
          }
          o.factors = FactorsFor(type, req);
          o.room_needed = WakeIndex::DevicesOnANode(8);
          by_type.push_back(o);
        }
        CandidateSearch bounded, full;
        bounded.Begin(num_pools, by_type, limit, spec, &judge, orders.Classes());
        full.BeginFull(num_pools, orders.All(), spec, &judge);
        ScoreNorms bounded_norms, full_norms;
        const bool any = bounded.NowNorms(&bounded_norms);
        ASSERT_EQ(any, full.NowNorms(&full_norms));
        ASSERT_TRUE(SameScores(bounded_norms, full_norms, spec));
        if (!any) continue;
        // Up to `k` candidates of each, as (pool, score, later).
        const auto same = [&](int k, const char* asked) {
          for (int i = 0; i < k; ++i) {
            bool later_b = false, later_f = false;
            const Candidate* b = bounded.Next(&later_b);
            const Candidate* f = full.Next(&later_f);
            ASSERT_EQ(b == nullptr, f == nullptr) << asked << " #" << i << " trial " << trial;
            if (b == nullptr) return;
            ASSERT_EQ(b->pool, f->pool) << asked << " #" << i << " trial " << trial;
            ASSERT_EQ(b->score, f->score) << asked << " #" << i;
            ASSERT_EQ(later_b, later_f) << asked << " #" << i;
          }
          ++compared;
        };
        const auto some = [&] { return rng.Bernoulli(0.3) ? 1'000'000 : static_cast<int>(rng.Below(30)); };
        bounded.Rank(false, bounded_norms);
        full.Rank(false, full_norms);
        const Candidate best_bounded = *bounded.Next();
        const Candidate best_full = *full.Next();
        ASSERT_EQ(best_bounded.pool, best_full.pool);
        same(some(), "rank now");
        const ScoreNorms all_bounded = bounded.AllNorms(now, now + Duration::Hours(3));
        const ScoreNorms all_full = full.AllNorms(now, now + Duration::Hours(3));
        ASSERT_TRUE(SameScores(all_bounded, all_full, spec));
        const bool against = SameScores(all_bounded, bounded_norms, spec) && rng.Bernoulli(0.8);
        if (against) {
          bounded.RankAgainst(best_bounded, all_bounded);
          full.RankAgainst(best_full, all_full);
        } else {
          bounded.Rank(true, all_bounded);
          full.Rank(true, all_full);
        }
        same(some(), against ? "against the best now" : "rank with later");
        bounded.Rank(false, bounded_norms);  // asked again: handed out anew, then on
        full.Rank(false, full_norms);
        same(some(), "rank now again");
        bounded.Rank(true, all_bounded);
        full.Rank(true, all_full);
        same(1'000'000, "rank with later, all");
      }
    }
  }
  EXPECT_GT(compared, 1'000);
}

TEST(CandidateSearch, RankingAgainstTheBestNowPicksAsRankingAll) {
  ClusterState state = ManySites(300);
  for (int i = 0; i < 300; ++i) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = i == 1 || i == 7 ? 100 : (i == 2 ? 300 : 400 + i);
    sig.price = i == 2 || i == 7 ? 50 : (i == 1 ? 100 : 90);
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
  PoolOrders orders;
  orders.Update(state, true);
  const Time now = Time::Epoch();
  const JobRequest req = NodeForAnHour();
  for (const Duration wait : {Duration::Minutes(10), Duration::Hours(3)}) {
    orders.SetRoom(PoolId(7), WakeIndex::kNever);
    orders.SetDue(PoolId(7), (now + wait).nanos());
    struct OneLaterJudge final : PoolJudge {
      OneLaterJudge(const ClusterState& s, const JobRequest& r, Duration w) : state(s), req(r), wait(w) {}
      Verdict Now(PoolId p, Candidate* c) override {
        *c = Estimate(state, p, req);
        return p.value() == 7 ? Verdict::kNotNow : Verdict::kNow;
      }
      bool Later(PoolId p, Candidate* c) override {
        *c = Estimate(state, p, req);
        c->wait_s = wait.seconds();
        return p.value() == 7;
      }
      const ClusterState& state;
      const JobRequest& req;
      Duration wait;
    } judge(state, req, wait);
    SchedulerSpec spec;
    const CandidateSearch::TypeOrders o = PlaneOfH100(orders, req);
    auto best = [&](bool against, bool* later) {
      CandidateSearch search;
      search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
      ScoreNorms norms;
      EXPECT_TRUE(search.NowNorms(&norms));
      search.Rank(false, norms);
      const Candidate* now_best = search.Next();
      EXPECT_EQ(now_best->pool, PoolId(1));
      const ScoreNorms all = search.AllNorms(now, now + Duration::Hours(20));
      EXPECT_TRUE(SameScores(all, norms, spec));  // pool 7 moves no norm
      if (against) {
        search.RankAgainst(*now_best, all);
      } else {
        search.Rank(true, all);
      }
      const Candidate* c = search.Next(later);
      return std::make_pair(c->pool, c->score);
    };
    bool later_all = false, later_against = false;
    const auto by_all = best(false, &later_all);
    EXPECT_EQ(best(true, &later_against), by_all) << "wait " << wait.seconds();
    EXPECT_EQ(later_against, later_all);
    EXPECT_EQ(by_all.first, PoolId(wait < Duration::Hours(1) ? 7 : 1)) << "wait " << wait.seconds();
  }
}

// No pool has room now; each is worth waiting for until its calendar's
// next release (pool p at minute p + 1) plus some more. The cleanest
// (pool 0) takes 2 h with its wait; the dirtiest (pool 50) is the fastest,
// 1 h 51 min, though the release bound of many pools before it is below
// 2 h: the least time of all must still be found.
TEST(CandidateSearch, TheLeastTimeOfPoolsWorthWaitingForIsFound) {
  ClusterState state = ManySites(300);
  for (int i = 0; i < 300; ++i) {
    SiteSignals sig;
    sig.carbon = sig.carbon_ahead = i == 50 ? 1'000 : 100 + i;
    sig.price = 50;
    state.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
  PoolOrders orders;
  orders.Update(state, true);
  const Time now = Time::Epoch() + Duration::Hours(3);
  auto release = [&](PoolId p) { return now + Duration::Minutes(1 + p.value()); };
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    orders.SetRoom(p, WakeIndex::kNever);
    orders.SetDue(p, release(p).nanos());
  }
  struct WaitJudge final : PoolJudge {
    WaitJudge(const ClusterState& s, const JobRequest& r, std::function<Time(PoolId)> f, Time t)
        : state(s), req(r), release(std::move(f)), now(t) {}
    Verdict Now(PoolId p, Candidate* c) override {
      *c = Estimate(state, p, req);
      return Verdict::kNotNow;
    }
    bool Later(PoolId p, Candidate* c) override {
      *c = Estimate(state, p, req);
      const Duration more = p.value() == 0 ? Duration::Minutes(59) : Duration::Hours(p.value() == 50 ? 0 : 10);
      c->wait_s = (release(p) - now + more).seconds();
      return true;
    }
    const ClusterState& state;
    const JobRequest& req;
    std::function<Time(PoolId)> release;
    Time now;
  };
  const JobRequest req = NodeForAnHour();
  WaitJudge judge(state, req, release, now);
  SchedulerSpec spec;
  spec.weight_cost = 0;  // the norms walk the emissions order alone: it meets pool 0 and stops
  const CandidateSearch::TypeOrders o = PlaneOfH100(orders, req);
  CandidateSearch search;
  search.Begin(state.pools().size(), std::span(&o, 1), std::numeric_limits<double>::infinity(), spec, &judge);
  ScoreNorms norms;
  EXPECT_FALSE(search.NowNorms(&norms));
  const ScoreNorms all = search.AllNorms(now, now + Duration::Hours(20));
  EXPECT_DOUBLE_EQ(all.time, Duration::Minutes(111).seconds());
  EXPECT_LT(search.looked(), 100);  // not every pool
}

TEST(CandidateSearch, ARoundTripLimitLooksOnlyWithinReach) {
  const ClusterState state = ManySites(2'000);
  PoolOrders orders;
  orders.Update(state, true);
  JobRequest req = NodeForAnHour();
  req.has_users = true;
  req.users_latitude = 41;
  req.users_longitude = -4;
  req.max_rtt = Duration::Millis(3);
  OpenJudge judge(state, req);
  SchedulerSpec spec;
  spec.weight_carbon = spec.weight_cost = 0;  // only the round trip orders the pools
  int within = 0;
  for (const SiteState& site : state.sites()) within += RoundTripMs(site, req) <= 3.0 ? 1 : 0;
  ASSERT_GT(within, 0);
  ASSERT_LT(within, 200);
  CandidateSearch search;
  CandidateSearch::TypeOrders o{&orders.ByCarbon(AcceleratorType::kH100), &orders.ByCost(AcceleratorType::kH100),
                                &orders.ByRoundTrip(state, AcceleratorType::kH100, 41, -4),
                                FactorsFor(AcceleratorType::kH100, req)};
  search.Begin(state.pools().size(), std::span(&o, 1), 3.0, spec, &judge);
  ScoreNorms norms;
  ASSERT_TRUE(search.NowNorms(&norms));
  search.Rank(false, norms);
  int yielded = 0;
  double last = -1;
  while (const Candidate* c = search.Next()) {
    EXPECT_LE(c->rtt_ms, 3.0);
    EXPECT_GE(c->score, last);  // best first
    last = c->score;
    ++yielded;
  }
  EXPECT_EQ(yielded, within);
  EXPECT_LT(search.looked(), 2 * within + 50);  // the emissions order walks a little too
}

// More users' locations in one pass than the round-trip cache keeps (it
// starts over past 256): the policy must not hold on to a dropped row.
TEST(CandidateSearch, ManyUsersLocationsInOnePass) {
  ClusterState s = ManySites(300), f = ManySites(300);
  SchedulerSpec spec;
  spec.bounded_search_min_pools = 0;
  StargatePolicy bounded(spec);
  spec.bounded_search = false;
  StargatePolicy full(spec);
  Queue q;
  for (uint32_t i = 0; i < 600; ++i) {
    JobRequest r = NodeForAnHour();
    r.id = JobId(i);
    r.submit = Time::Epoch() + Duration::Seconds(i);
    r.has_users = true;
    r.users_latitude = static_cast<float>(40 + 0.03 * i);
    r.users_longitude = static_cast<float>(-5 + 0.05 * (i % 7));
    if (i % 3 == 0) r.max_rtt = Duration::Millis(4);
    q.Push(r);
  }
  const std::string want = Render(full.Schedule(f, q, Time::Epoch()));
  EXPECT_EQ(Render(bounded.Schedule(s, q, Time::Epoch())), want);
  EXPECT_NE(want.find("start"), std::string::npos);
}

// One policy scheduling two states in turn (two drivers' views) keeps
// no index of one for the other: every pass decides as a full scan does.
TEST(CandidateSearch, OnePolicyOnTwoStatesInTurn) {
  SchedulerSpec spec;
  spec.bounded_search_min_pools = 0;
  StargatePolicy bounded(spec);
  spec.bounded_search = false;
  StargatePolicy full(spec);
  // The full scan gets its own copies, changed alike (a state read by
  // two policies is looked at whole by each).
  ClusterState a = ManySites(100), b = ManySites(100), fa = ManySites(100), fb = ManySites(100);
  // b is full but for its last 10 sites; a is empty.
  for (uint32_t n = 0; n < 180; ++n) {
    b.Allocate(NodeId(n), 8);
    fb.Allocate(NodeId(n), 8);
  }
  for (int pass = 0; pass < 4; ++pass) {
    ClusterState& s = pass % 2 == 0 ? a : b;
    ClusterState& f = pass % 2 == 0 ? fa : fb;
    Queue q;
    for (uint32_t i = 0; i < 5; ++i) {
      JobRequest r = NodeForAnHour();
      r.id = JobId(100 * pass + i);
      r.accelerators = 16;  // a whole site: each pass fills the best five
      q.Push(r);
    }
    const Time now = Time::Epoch() + Duration::Minutes(pass);
    const Decisions d = bounded.Schedule(s, q, now);
    EXPECT_EQ(Render(d), Render(full.Schedule(f, q, now))) << "pass " << pass;
    for (const Decision& item : d.items) {
      if (const auto* st = std::get_if<Start>(&item)) {
        for (NodeId n : st->nodes) {
          s.Allocate(n, st->per_node);
          f.Allocate(n, st->per_node);
        }
      }
    }
  }
}

}  // namespace
}  // namespace stargate::sched
