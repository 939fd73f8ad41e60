// Properties every policy set must keep, over random clusters, workloads and
// pass sequences (jobs start, some finish, passes repeat):
//  - no node is ever given more devices than it has free;
//  - a gang is placed whole (enough devices, no spare node) in one pool;
//  - residency: a job runs only in a jurisdiction it allows;
//  - the stargate set never admits work past a site's power cap and never
//    hands out a site's hot spares to new work;
//  - no job runs beyond its max_rtt from its users;
//  - preemption (stargate) stops only running gangs of lower priority than
//    a job waiting in the queue, and each only once.
#include <gtest/gtest.h>

#include <map>

#include "core/rng.h"
#include "sched/scheduler.h"
#include "sched/site_score.h"

namespace stargate::sched {
namespace {

std::vector<SiteSpec> RandomSites(Rng& rng) {
  const char* jurisdictions[] = {"US", "EU", "NO"};
  const AcceleratorType types[] = {AcceleratorType::kH100, AcceleratorType::kA100, AcceleratorType::kB200};
  std::vector<SiteSpec> sites;
  const int n = 2 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < n; ++i) {
    SiteSpec s;
    s.name = "site" + std::to_string(i);
    s.jurisdiction = jurisdictions[rng.Below(3)];
    s.pue = 1.1 + 0.1 * static_cast<double>(rng.Below(4));
    const int nodes = 2 + static_cast<int>(rng.Below(6));
    s.pools.push_back(PoolSpec{types[rng.Below(3)], nodes, 8, 2, 1});
    s.hot_spares = static_cast<int>(rng.Below(2));
    // Caps from "none" to tighter than a full site at load.
    s.power_cap = rng.Bernoulli(0.5) ? Watts(0) : Watts(2'000.0 + 4'000.0 * nodes * rng.Uniform());
    s.latitude = -60 + 120 * rng.Uniform();
    s.longitude = -180 + 360 * rng.Uniform();
    sites.push_back(s);
  }
  return sites;
}

class PolicyProperties : public ::testing::TestWithParam<const char*> {};

TEST_P(PolicyProperties, HoldUnderRandomWorkloads) {
  Rng rng(11);
  const std::string name = GetParam();
  const bool stargate = name != "fifo";
  SchedulerSpec spec;
  spec.fair_share = name == "stargate-fair";
  spec.preempt_after = Duration::Zero();
  int starts = 0;
  int preemptions = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<SiteSpec> specs = RandomSites(rng);
    ClusterState s(specs);
    for (size_t i = 0; i < specs.size(); ++i) {
      SiteSignals sig;
      sig.carbon = 20 + 600 * rng.Uniform();
      sig.carbon_ahead = sig.carbon;
      sig.price = 30 + 100 * rng.Uniform();
      sig.facility_w = 1'000 * rng.Uniform();
      s.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
    }
    auto policy = MakeScheduler(stargate ? "stargate" : "fifo", spec).value();
    Queue q;
    if (policy->UsesTenantOrder()) q.KeepTenantOrder();
    std::map<uint32_t, JobRequest> reqs;
    const int sizes[] = {1, 2, 4, 8, 16, 24, 40};
    for (uint32_t i = 0; i < 40; ++i) {
      JobRequest r;
      r.id = JobId(i);
      r.accelerators = sizes[rng.Below(7)];
      r.submit = Time::Epoch() + Duration::Seconds(static_cast<int64_t>(rng.Below(100)));
      r.estimate = Duration::Minutes(1 + static_cast<int64_t>(rng.Below(600)));
      if (rng.Bernoulli(0.3)) r.allowed = s.AllowedSites({rng.Bernoulli(0.5) ? "EU" : "US"}, {});
      if (r.allowed == nullptr && rng.Bernoulli(0.1)) {  // residency no site meets: rejected as such
        r.allowed = s.AllowedSites({"nowhere"}, {});
        r.residency_unmet = true;
      }
      r.tenant = TenantId(static_cast<uint16_t>(rng.Below(4)));
      r.priority = rng.Bernoulli(0.2) ? 5 : 0;
      if (rng.Bernoulli(0.3)) {
        r.has_users = true;
        r.users_latitude = static_cast<float>(-60 + 120 * rng.Uniform());
        r.users_longitude = static_cast<float>(-180 + 360 * rng.Uniform());
        if (rng.Bernoulli(0.5)) r.max_rtt = Duration::Millis(20 + static_cast<int64_t>(rng.Below(200)));
      }
      q.Push(r);
      reqs[i] = r;
    }
    std::vector<Start> running;
    std::map<uint32_t, bool> preempted;
    for (int pass = 0; pass < 8; ++pass) {
      const Time now = Time::Epoch() + Duration::Minutes(10 * pass);
      Decisions d = policy->Schedule(s, q, now);
      std::map<uint32_t, int> used;
      std::vector<double> added_w(specs.size(), 0.0);
      int waiting_priority = INT32_MIN;
      for (const JobRequest& r : q) waiting_priority = std::max(waiting_priority, r.priority);
      for (const auto& item : d.items) {
        if (const auto* p = std::get_if<Preempt>(&item)) {
          const RunningGang* g = s.Running(p->job);
          ASSERT_NE(g, nullptr) << "preempted a job that is not running";
          EXPECT_LT(g->priority, waiting_priority);
          EXPECT_FALSE(preempted[p->job.value()]) << "preempted twice";
          preempted[p->job.value()] = true;
          ++preemptions;
        }
        const auto* st = std::get_if<Start>(&item);
        if (st == nullptr) continue;
        ++starts;
        const JobRequest& r = reqs.at(st->job.value());
        const PoolState& pool = s.pool(st->pool);
        ASSERT_EQ(pool.site, st->site);
        EXPECT_GE(static_cast<int>(st->nodes.size()) * st->per_node, r.accelerators);
        EXPECT_LT((static_cast<int>(st->nodes.size()) - 1) * st->per_node, r.accelerators);
        const SiteState& site = s.site(st->site);
        if (r.allowed != nullptr) {
          EXPECT_TRUE(r.allowed->Has(st->site));
        }
        if (r.max_rtt > Duration::Zero()) EXPECT_LE(RoundTripMs(site, r), r.max_rtt.seconds() * 1e3);
        for (NodeId n : st->nodes) {
          EXPECT_EQ(s.PoolOf(n), st->pool);
          EXPECT_TRUE(s.IsUp(n));
          used[n.value()] += st->per_node;
          EXPECT_LE(used[n.value()], s.FreeOn(n));
        }
        added_w[st->site.value()] += Estimate(s, st->pool, r).extra_w;
      }
      for (size_t i = 0; stargate && i < specs.size(); ++i) {
        const SiteState& site = s.site(SiteId(static_cast<uint16_t>(i)));
        if (site.power_cap_w > 0) EXPECT_LE(site.signals.facility_w + added_w[i], site.power_cap_w + 1e-6);
      }
      // Apply: allocate, dequeue, and account the new draw in the signals.
      for (const auto& item : d.items) {
        if (const auto* st = std::get_if<Start>(&item)) {
          for (NodeId n : st->nodes) s.Allocate(n, st->per_node);
          q.Erase(st->job);
          running.push_back(*st);
          const JobRequest& r = reqs.at(st->job.value());
          RunningGang g = RunningGang::Ending(st->job, st->pool, static_cast<int64_t>(st->nodes.size()) * st->per_node,
                                              now + r.estimate);
          g.tenant = r.tenant;
          g.priority = r.priority;
          g.checkpoint_origin = now;
          g.checkpoint_period = Duration::Minutes(30);
          s.AddRunning(g);
        } else if (const auto* p = std::get_if<Preempt>(&item)) {
          RunningGang g = *s.Running(p->job);
          g.draining = true;
          g.expected_end = now + p->warning;
          s.AddRunning(g);
        } else if (const auto* rj = std::get_if<Reject>(&item)) {
          q.Erase(rj->job);
        }
      }
      for (size_t i = 0; i < specs.size(); ++i) {
        SiteSignals sig = s.site(SiteId(static_cast<uint16_t>(i))).signals;
        sig.facility_w += added_w[i];
        s.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
      }
      if (stargate) {
        for (const PoolState& pool : s.pools()) {
          EXPECT_GE(pool.free_devices, static_cast<int64_t>(pool.hot_spares) * pool.per_node);
        }
      }
      // Some running jobs finish, and preempted ones stop and requeue
      // (their power stays booked: conservative).
      for (size_t k = 0; k < running.size();) {
        const bool stopped = preempted[running[k].job.value()];
        if (stopped || rng.Bernoulli(0.3)) {
          for (NodeId n : running[k].nodes) s.Release(n, running[k].per_node);
          s.RemoveRunning(running[k].job);
          if (stopped) {
            preempted[running[k].job.value()] = false;
            q.Push(reqs.at(running[k].job.value()));
          }
          running[k] = running.back();
          running.pop_back();
        } else {
          ++k;
        }
      }
    }
  }
  EXPECT_GT(starts, 200);  // the properties were exercised
  if (stargate) EXPECT_GT(preemptions, 5);
}

INSTANTIATE_TEST_SUITE_P(Policies, PolicyProperties, ::testing::Values("fifo", "stargate", "stargate-fair"));

}  // namespace
}  // namespace stargate::sched
