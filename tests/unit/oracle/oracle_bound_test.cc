#include "oracle/oracle_bound.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../twin/batch_job.h"
#include "core/rng.h"
#include "model/power.h"
#include "model/step_time.h"
#include "sched/request_of.h"
#include "twin/engine.h"

namespace stargate::oracle {
namespace {

using twin::RunResult;
using twin::TwinInputs;

SiteSpec Site(const std::string& name, const std::string& jurisdiction, int nodes,
              AcceleratorType type = AcceleratorType::kH100) {
  SiteSpec s;
  s.name = name;
  s.jurisdiction = jurisdiction;
  s.pue = 1.5;
  s.pools.push_back(PoolSpec{type, nodes, 8, 4, 1});
  return s;
}

using twin::testing::Batch;

// One day; sites added by the test with their carbon (g/kWh) and a flat price.
TwinInputs Day(std::string policy = "fifo") {
  TwinInputs in;
  in.spec.name = "bound";
  in.spec.policy = std::move(policy);
  in.spec.duration = Duration::Days(1);
  return in;
}

void AddSite(TwinInputs& in, SiteSpec site, std::vector<double> carbon, double price = 50) {
  in.spec.sites.push_back(std::move(site));
  in.carbon.push_back(HourlySeries{std::move(carbon)});
  in.price.push_back(HourlySeries{{price}});
}

struct Solved {
  RunResult run;
  twin::BoundFigures bound;
};

Solved RunAndBound(const TwinInputs& in) {
  StatusOr<RunResult> run = twin::RunTwin(in);
  EXPECT_TRUE(run.ok()) << run.status();
  StatusOr<twin::BoundFigures> b = OracleBound(in, *run);
  EXPECT_TRUE(b.ok()) << b.status();
  return Solved{*std::move(run), b.ok() ? *b : twin::BoundFigures{}};
}

// tCO2 of `device_h` H100 device-hours of batch work beyond idle draw, at
// PUE 1.5 and `carbon` g/kWh.
double BusyTco2(double device_h, double carbon) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const double u = sched::UtilisationOf(JobKind::kBatch);
  const double w = model::DevicePower(h100, u).value() - model::DevicePower(h100, 0).value();
  return w * 1.5 * device_h / 1e3 * carbon / 1e6;
}

// A bound is never above what the run spent, rounding aside.
void ExpectNotAboveTheRun(const twin::BoundFigures& b, const RunResult& run) {
  EXPECT_LE(b.tco2, run.summary.tco2 * (1 + 1e-9));
  EXPECT_LE(b.cost_usd, run.summary.cost_usd * (1 + 1e-9));
}

// The duality bound is within a relative 1e-4 of the optimum; these
// figures are tonnes below 1.
constexpr double kTol = 1e-4;

double IdleTco2(double devices, double hours, double carbon) {
  return model::DevicePower(Spec(AcceleratorType::kH100), 0).value() * 1.5 * devices * hours / 1e3 * carbon / 1e6;
}

TEST(OracleBound, EqualsTheRunWhenNothingCouldBeDoneBetter) {
  // Flat carbon, one pool, no overheads: every schedule of the work costs
  // the same, so the bound is the run's own figure, idle draw included.
  TwinInputs in = Day();
  AddSite(in, Site("only", "US", 2), {100});
  in.jobs = {Batch(8, Duration::Hours(2))};
  const Solved s = RunAndBound(in);
  ASSERT_TRUE(s.bound.computed);
  EXPECT_NEAR(s.bound.tco2, s.run.summary.tco2, 1e-4 * s.run.summary.tco2);
  EXPECT_NEAR(s.bound.cost_usd, s.run.summary.cost_usd, 1e-4 * s.run.summary.cost_usd);
  EXPECT_NEAR(s.bound.fixed_tco2, IdleTco2(16, 24, 100), kTol);
  EXPECT_NEAR(s.bound.tco2, IdleTco2(16, 24, 100) + BusyTco2(16, 100), kTol);
}

TEST(OracleBound, PutsTheWorkAtTheCleanestSiteItMayUse) {
  TwinInputs in = Day();
  AddSite(in, Site("dirty", "EU", 1), {500});  // first: FIFO fills it first
  AddSite(in, Site("clean", "US", 1), {100});
  in.jobs = {Batch(8, Duration::Hours(4))};
  const double idle = IdleTco2(8, 24, 500) + IdleTco2(8, 24, 100);
  Solved s = RunAndBound(in);
  EXPECT_EQ(s.run.jobs[0].site, 0);
  EXPECT_NEAR(s.bound.tco2, idle + BusyTco2(32, 100), kTol);
  EXPECT_GT(s.run.summary.tco2, s.bound.tco2 * 1.1);
  // By site: the run's work at the dirty site, the bound's at the clean one.
  ASSERT_EQ(s.bound.sites.size(), 2u);
  EXPECT_NEAR(s.run.sites[0].busy_device_h, 32, 1e-6);
  EXPECT_EQ(s.run.sites[1].busy_device_h, 0);
  EXPECT_NEAR(s.bound.sites[0].busy_device_h, 0, 1e-6);
  EXPECT_NEAR(s.bound.sites[1].busy_device_h, 32, 1e-6);
  EXPECT_NEAR(s.bound.sites[0].tco2, IdleTco2(8, 24, 500), kTol);
  EXPECT_NEAR(s.bound.sites[1].tco2, IdleTco2(8, 24, 100) + BusyTco2(32, 100), kTol);

  // Kept in the EU, it can only run at the dirty site: the run is the bound.
  in.jobs[0].jurisdictions = {"EU"};
  s = RunAndBound(in);
  EXPECT_NEAR(s.bound.tco2, idle + BusyTco2(32, 500), kTol);
  EXPECT_NEAR(s.bound.tco2, s.run.summary.tco2, 1e-4 * s.run.summary.tco2);
}

// On a slower type the same work holds more device-hours: the bound's
// split by site counts the site's own devices.
TEST(OracleBound, SplitsBySiteInTheSitesOwnDeviceHours) {
  TwinInputs in = Day();
  AddSite(in, Site("h100", "US", 1), {500});
  AddSite(in, Site("a100", "US", 8, AcceleratorType::kA100), {20});
  in.jobs = {Batch(8, Duration::Hours(4))};
  const Solved s = RunAndBound(in);
  ASSERT_EQ(s.run.jobs[0].site, 0);
  EXPECT_NEAR(s.run.sites[0].busy_device_h, 32, 1e-6);
  ASSERT_EQ(s.bound.sites.size(), 2u);
  EXPECT_NEAR(s.bound.sites[0].busy_device_h, 0, 1e-6);
  EXPECT_NEAR(s.bound.sites[1].busy_device_h, 32 / model::RelativeThroughput(AcceleratorType::kA100), 1e-6);
}

TEST(OracleBound, KeepsDeadlinesTheRunMet) {
  TwinInputs in = Day();
  std::vector<double> carbon(24, 100.0);
  for (int h = 0; h < 6; ++h) carbon[h] = 500;  // a dirty morning
  AddSite(in, Site("only", "US", 1), carbon);
  in.jobs = {Batch(8, Duration::Hours(2))};
  const double idle = IdleTco2(8, 18, 100) + IdleTco2(8, 6, 500);
  // With no deadline the work could wait for the clean hours.
  Solved s = RunAndBound(in);
  EXPECT_NEAR(s.bound.tco2, idle + BusyTco2(16, 100), kTol);
  // Due within 4 h, it must run in the dirty ones, as the run did.
  in.jobs[0].deadline = Time::Epoch() + Duration::Hours(4);
  s = RunAndBound(in);
  EXPECT_FALSE(s.run.jobs[0].sla_missed);
  EXPECT_NEAR(s.bound.tco2, idle + BusyTco2(16, 500), kTol);
}

// At the run's own finish times, a job the run finished in the dirty
// morning must be done by then: the bound is the run's figure, while the
// plain bound lets it wait for the clean hours.
TEST(OracleBound, AtTheRunsEndsAJobIsDueWhenTheRunFinishedIt) {
  TwinInputs in = Day();
  std::vector<double> carbon(24, 100.0);
  for (int h = 0; h < 6; ++h) carbon[h] = 500;
  AddSite(in, Site("only", "US", 1), carbon);
  in.jobs = {Batch(8, Duration::Hours(2))};
  const double idle = IdleTco2(8, 18, 100) + IdleTco2(8, 6, 500);
  const Solved s = RunAndBound(in);
  ASSERT_LT(s.run.jobs[0].end, Time::Epoch() + Duration::Hours(6));
  BoundOptions at_ends;
  at_ends.by_run_ends = true;
  const twin::BoundFigures ends = OracleBound(in, s.run, at_ends).value();
  EXPECT_NEAR(s.bound.tco2, idle + BusyTco2(16, 100), kTol);
  EXPECT_NEAR(ends.tco2, idle + BusyTco2(16, 500), kTol);
  EXPECT_NEAR(ends.tco2, s.run.summary.tco2, 1e-4 * s.run.summary.tco2);
  EXPECT_TRUE(ends.proven);
}

TEST(OracleBound, RunsAJobOnNoMoreDevicesThanItsOwn) {
  // 8 devices for 2 h cannot become 16 devices for 1 h in the clean hour.
  TwinInputs in = Day();
  std::vector<double> carbon(24, 500.0);
  carbon[1] = 100;
  AddSite(in, Site("only", "US", 2), carbon);
  in.jobs = {Batch(8, Duration::Hours(2), Time::Epoch() + Duration::Hours(1))};
  in.jobs[0].deadline = Time::Epoch() + Duration::Hours(3);
  const Solved s = RunAndBound(in);
  const double idle = IdleTco2(16, 23, 500) + IdleTco2(16, 1, 100);
  EXPECT_NEAR(s.bound.tco2, idle + BusyTco2(8, 100) + BusyTco2(8, 500), kTol);
}

TEST(OracleBound, WithPowerSavingIdleDevicesMayDrawNothing) {
  TwinInputs in = Day();
  AddSite(in, Site("only", "US", 2), {100});
  in.spec.scheduler.power_save.enabled = true;
  in.spec.scheduler.power_save.warm = 0;  // no node kept on
  in.jobs = {Batch(8, Duration::Hours(2))};
  const Solved s = RunAndBound(in);
  EXPECT_EQ(s.bound.fixed_tco2, 0);
  const double busy = model::DevicePower(Spec(AcceleratorType::kH100), sched::UtilisationOf(JobKind::kBatch)).value();
  EXPECT_NEAR(s.bound.tco2, busy * 1.5 * 16 / 1e3 * 100 / 1e6, kTol);
  EXPECT_LE(s.bound.tco2, s.run.summary.tco2 * (1 + 1e-9));
}

// The warm reserve (5% of the nodes, rounded up: one node of eight
// devices) stays on all day, busy or not: its idle draw is in every
// schedule, and work on it adds only its busy draw beyond idle.
TEST(OracleBound, WithPowerSavingTheWarmReserveStillDraws) {
  TwinInputs in = Day();
  AddSite(in, Site("only", "US", 2), {100});
  in.spec.scheduler.power_save.enabled = true;
  in.jobs = {Batch(8, Duration::Hours(2))};
  const Solved s = RunAndBound(in);
  EXPECT_NEAR(s.bound.fixed_tco2, IdleTco2(8, 24, 100), kTol);
  EXPECT_NEAR(s.bound.tco2, IdleTco2(8, 24, 100) + BusyTco2(16, 100), kTol);
  // The run used the warm node: nothing better was possible.
  EXPECT_NEAR(s.bound.tco2, s.run.summary.tco2, 1e-4 * s.run.summary.tco2);
  EXPECT_LE(s.bound.tco2, s.run.summary.tco2 * (1 + 1e-9));
  // Twice the work, both due in 3 h: the warm node's 24 device-hours by
  // then hold most of it; the other 8 device-hours boot devices from off,
  // which draw in full.
  in.jobs.push_back(Batch(8, Duration::Hours(2)));
  for (JobSpec& j : in.jobs) j.deadline = Time::Epoch() + Duration::Hours(3);
  const Solved two = RunAndBound(in);
  ASSERT_FALSE(two.run.jobs[0].sla_missed || two.run.jobs[1].sla_missed);
  const double busy = model::DevicePower(Spec(AcceleratorType::kH100), sched::UtilisationOf(JobKind::kBatch)).value();
  EXPECT_NEAR(two.bound.tco2, IdleTco2(8, 24, 100) + BusyTco2(24, 100) + busy * 1.5 * 8 / 1e3 * 100 / 1e6, kTol);
  EXPECT_LE(two.bound.tco2, two.run.summary.tco2 * (1 + 1e-9));
}

// Capped work holds its devices longer, so it may give back more of the
// warm reserve's idle draw: the bound must allow for it.
TEST(OracleBound, WithPowerSavingAndACapStillNeverAboveTheRun) {
  TwinInputs in = Day("stargate");
  AddSite(in, Site("only", "US", 2), {500});
  in.spec.scheduler.power_save.enabled = true;
  in.spec.scheduler.carbon_cap.enabled = true;
  in.jobs = {Batch(8, Duration::Hours(2))};
  const Solved s = RunAndBound(in);
  ASSERT_EQ(s.run.summary.power_capped_starts, 1);
  ExpectNotAboveTheRun(s.bound, s.run);
}

// A gang repaired in place gives up its failed node: those devices idle
// (powered, then switched off down to the warm reserve), so the whole
// pool, kept warm, stays on, and the bound, which counts its idle draw,
// stays below the run. (Were the failed node's devices dropped from the
// count, the pool would draw a node's idle power less for the rest of the
// day than any schedule must.)
TEST(OracleBound, GangRepairKeepsTheWarmReserveOn) {
  TwinInputs in = Day();
  AddSite(in, Site("only", "US", 4), {300});
  in.spec.scheduler.power_save.enabled = true;
  in.spec.scheduler.power_save.warm = 1;  // every node
  in.spec.failures.gang_repair = true;
  in.failures = {FailureComponent{"node", FailureScope::kNode, 300, Duration::Hours(2)}};
  JobSpec gang = Batch(16, Duration::Hours(20));
  gang.checkpoint.enabled = true;
  gang.checkpoint.interval = Duration::Minutes(5);
  in.jobs = {gang};
  const Solved s = RunAndBound(in);
  ASSERT_GT(s.run.summary.gang_repairs, 0);
  ExpectNotAboveTheRun(s.bound, s.run);
}

// Slots coarser than an hour with power saving: still below the run, and
// below the hourly program's figure.
TEST(OracleBound, WithPowerSavingCoarserSlotsStayBelow) {
  TwinInputs in = Day();
  std::vector<double> carbon(24);
  for (int h = 0; h < 24; ++h) carbon[h] = 100 + 40 * h % 300;
  AddSite(in, Site("only", "US", 2), carbon);
  in.spec.scheduler.power_save.enabled = true;
  for (int i = 0; i < 6; ++i) in.jobs.push_back(Batch(8, Duration::Hours(1), Time::Epoch() + Duration::Hours(3 * i)));
  StatusOr<RunResult> run = twin::RunTwin(in);
  ASSERT_TRUE(run.ok());
  StatusOr<twin::BoundFigures> fine = OracleBound(in, *run);
  StatusOr<twin::BoundFigures> coarse = OracleBound(in, *run, BoundOptions{.max_columns = 60});
  ASSERT_TRUE(fine.ok() && coarse.ok());
  EXPECT_EQ(fine->slot_h, 1);
  EXPECT_GT(coarse->slot_h, 1);
  EXPECT_LE(fine->tco2, run->summary.tco2 * (1 + 1e-9));
  EXPECT_LE(coarse->tco2, fine->tco2 + kTol);
  for (const twin::BoundFigures::Site& at : coarse->sites) EXPECT_GE(at.tco2, 0);
}

// Random small networks, both policies, failures and outages included: the
// bound never exceeds what the run spent (it would not be a bound).
TEST(OracleBound, NeverAboveTheRunOnRandomNetworks) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    Rng rng(seed);
    for (const char* policy : {"fifo", "stargate"}) {
      Rng r = rng;  // the same network and work for both policies
      TwinInputs in = Day(policy);
      in.spec.duration = Duration::Hours(36);
      in.spec.seed = seed;
      const char* places[] = {"EU", "US", "JP"};
      const int sites = 2 + static_cast<int>(r.Uniform() * 2);
      for (int i = 0; i < sites; ++i) {
        std::vector<double> carbon(24);
        for (double& c : carbon) c = 50 + 650 * r.Uniform();
        SiteSpec site = Site(fmt::format("s{}", i), places[i % 3], 1 + static_cast<int>(r.Uniform() * 3),
                             r.Uniform() < 0.3 ? AcceleratorType::kA100 : AcceleratorType::kH100);
        site.pue = 1.1 + 0.5 * r.Uniform();
        AddSite(in, site, carbon, 20 + 130 * r.Uniform());
      }
      in.spec.scheduler.power_save.enabled = r.Uniform() < 0.3;
      in.spec.scheduler.carbon_cap.enabled = r.Uniform() < 0.3;
      if (r.Uniform() < 0.5) {
        in.failures = {FailureComponent{"node", FailureScope::kNode, 40, Duration::Hours(3)},
                       FailureComponent{"site", FailureScope::kSite, 60, Duration::Hours(2)}};
      }
      const int jobs = 5 + static_cast<int>(r.Uniform() * 15);
      for (int j = 0; j < jobs; ++j) {
        JobSpec spec = Batch(1 << static_cast<int>(r.Uniform() * 4), Duration::FromSeconds(1800 + r.Uniform() * 30000),
                             Time::Epoch() + Duration::FromSeconds(r.Uniform() * 30 * 3600));
        spec.name = fmt::format("j{}", j);
        const double kind = r.Uniform();
        spec.kind = kind < 0.25 ? JobKind::kInference : kind < 0.5 ? JobKind::kFineTune : JobKind::kBatch;
        spec.checkpoint.enabled = r.Uniform() < 0.5;
        spec.priority = r.Uniform() < 0.1 ? 10 : 0;
        if (r.Uniform() < 0.3) spec.deadline = spec.submit + Duration::FromSeconds(3 * spec.duration.seconds());
        if (r.Uniform() < 0.3) spec.jurisdictions = {places[static_cast<int>(r.Uniform() * 3)]};
        if (r.Uniform() < 0.2) {
          spec.kind = JobKind::kTraining;
          // One node, or a gang over two (its all-reduce leaves the node).
          spec.accelerator_count = r.Uniform() < 0.5 ? 8 : 16;
          spec.training.params = 1e9;
          spec.training.tokens = 2e9 + r.Uniform() * 2e10;
        }
        in.jobs.push_back(spec);
      }
      SortBySubmit(in.jobs);
      const Solved s = RunAndBound(in);
      SCOPED_TRACE(fmt::format("seed {} policy {}", seed, policy));
      ASSERT_TRUE(s.bound.computed);
      EXPECT_TRUE(s.bound.proven);
      EXPECT_GT(s.bound.tco2, 0);
      ExpectNotAboveTheRun(s.bound, s.run);
      // Its split by site adds up to it, and never puts more busy
      // device-hours at a site than it has.
      ASSERT_EQ(s.bound.sites.size(), s.run.sites.size());
      double tco2 = 0, cost = 0, busy = 0, run_busy = 0;
      for (size_t i = 0; i < s.bound.sites.size(); ++i) {
        const twin::BoundFigures::Site& at = s.bound.sites[i];
        EXPECT_GE(at.busy_device_h, 0);
        EXPECT_LE(at.busy_device_h, s.run.sites[i].accelerators * 36.0 * (1 + 1e-9));
        tco2 += at.tco2;
        cost += at.cost_usd;
        busy += at.busy_device_h;
        run_busy += s.run.sites[i].busy_device_h;
      }
      EXPECT_NEAR(tco2, s.bound.tco2, 1e-4 * s.bound.tco2);
      EXPECT_NEAR(cost, s.bound.cost_usd, 1e-4 * s.bound.cost_usd);
      EXPECT_NEAR(run_busy, s.run.summary.utilisation * s.run.summary.accelerators * 36.0, 1e-6 * run_busy);
      EXPECT_GT(busy, 0);
      // At the run's finish times: tighter, and still never above the run.
      BoundOptions at_ends;
      at_ends.by_run_ends = true;
      const twin::BoundFigures ends = OracleBound(in, s.run, at_ends).value();
      EXPECT_TRUE(ends.proven);
      EXPECT_GE(ends.tco2, s.bound.tco2 * (1 - 1e-4));
      ExpectNotAboveTheRun(ends, s.run);
    }
  }
}

TEST(OracleBound, CoarserSlotsWhenTheProgramWouldBeTooBig) {
  TwinInputs in = Day();
  AddSite(in, Site("only", "US", 2), {100, 300});
  for (int i = 0; i < 6; ++i) in.jobs.push_back(Batch(8, Duration::Hours(1), Time::Epoch() + Duration::Hours(i)));
  StatusOr<RunResult> run = twin::RunTwin(in);
  ASSERT_TRUE(run.ok());
  StatusOr<twin::BoundFigures> fine = OracleBound(in, *run);
  StatusOr<twin::BoundFigures> coarse = OracleBound(in, *run, BoundOptions{.max_columns = 20});
  ASSERT_TRUE(fine.ok() && coarse.ok());
  EXPECT_EQ(fine->slot_h, 1);
  EXPECT_GT(coarse->slot_h, 1);
  EXPECT_LE(coarse->columns, 20);
  // A coarser slot takes each slot's cleanest hour: looser, still a bound.
  EXPECT_LE(coarse->tco2, fine->tco2 + kTol);
  EXPECT_FALSE(OracleBound(in, *run, BoundOptions{.max_columns = 1}).ok());
}

}  // namespace
}  // namespace stargate::oracle
