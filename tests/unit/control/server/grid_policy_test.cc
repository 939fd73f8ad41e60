// The server's scheduler on the grid signals of its --sites file, as the
// twin's: price steers placement like carbon, stale signals fall back to
// the site's mean and say so, deferrable work waits for the forecast clean
// hour of a real carbon series, a site at its power cap starts nothing
// until its draw falls, a preemption carries its warning to the agents,
// and a reload takes effect without a restart.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "control/server/control_plane.h"
#include "control/server/reconciler.h"
#include "control/server/site_book.h"
#include "control/store/memory_store.h"
#include "model/power.h"
#include "runtime/manual_clock.h"

namespace stargate::control {
namespace {

constexpr Time kT0 = Time::FromMillis(1'700'000'000'000);
constexpr Duration kTimeout = Duration::Seconds(5);

SiteInfo Site(const std::string& name, double carbon, double price = 0) {
  SiteInfo s;
  s.name = name;
  s.carbon.mean = carbon;
  if (price > 0) s.price.mean = price;
  return s;
}

class GridPolicyTest : public ::testing::Test {
 protected:
  explicit GridPolicyTest(Time start = kT0) : clock_(start) {}

  // A node of `site` with `per_node` devices of `type` joins (and reports
  // `gpu_power_w`, 0 = no reading).
  void Join(const std::string& name, const std::string& site, AcceleratorType type = AcceleratorType::kCpu,
            double gpu_power_w = 0) {
    NodeInfo n;
    n.name = name;
    n.site = site;
    n.jurisdiction = "US";
    n.address = "10.0.0." + name;
    n.accelerator = type;
    n.accelerators = 1;
    ASSERT_TRUE(nodes_.Register(n, clock_.Now()).ok());
    Beat(name, gpu_power_w);
    names_.push_back(name);
  }
  void Beat(const std::string& name, double gpu_power_w = 0) {
    NodeTelemetry t;
    t.last_heartbeat = clock_.Now();
    t.gpu_power_w = gpu_power_w;
    ASSERT_TRUE(nodes_.Heartbeat(name, t));
  }
  // Every node heartbeats, then a pass.
  void Pass() {
    for (const std::string& n : names_) Beat(n);
    ASSERT_TRUE(rec_->Tick().ok());
  }
  void Use(const std::vector<SiteInfo>& sites, SchedulerSpec spec = {}) {
    rec_ =
        std::make_unique<Reconciler>(&jobs_, &nodes_, sched::MakeScheduler("stargate", spec).value(), "/data", &clock_);
    rec_->SetAudit(&audit_);
    ReconcilerOptions o;
    o.check_kept_view = true;
    o.sites = SiteBook::FromSites(sites).value();
    rec_->Configure(o);
  }
  uint64_t Submit(const std::string& extra, const std::string& accel = "CPU:1") {
    return jobs_.Submit(fmt::format("name: j\nresources: {{accelerators: {}}}\n{}run: x\n", accel, extra), "j.yaml", "")
        .value()
        .id;
  }
  std::vector<AuditEntry> Audits(uint64_t job, const std::string& action) {
    AuditFilter f;
    f.job = job;
    f.action = action;
    return audit_.Query(f).value();
  }
  std::string SiteOf(uint64_t id) { return nodes_.Find(jobs_.Get(id).value().nodes.at(0))->site; }
  void End(uint64_t id) {
    ASSERT_TRUE(jobs_.Cancel(id, "next").ok());
    const JobRecord r = jobs_.Get(id).value();
    rec_->OnHeartbeat(r.nodes[0], NodeTelemetry{}, {TaskReport{{id, r.attempt}, false, 143, 0}}).value();
  }

  ManualClock clock_;
  MemoryStore store_;
  JobRegistry jobs_{&store_, &clock_};
  NodeRegistry nodes_{&store_, kTimeout};
  AuditLog audit_{&store_};
  std::unique_ptr<Reconciler> rec_;
  std::vector<std::string> names_;
};

// With carbon equal, one site's price 5x the other's: work lands on the
// cheaper one, swapping the prices swaps it, and the reason prints them.
TEST_F(GridPolicyTest, PriceSteersPlacementAsCarbonDoes) {
  Join("a", "s1");
  Join("b", "s2");
  for (const auto& [p1, p2, want] : {std::tuple{250.0, 50.0, "s2"}, std::tuple{50.0, 250.0, "s1"}}) {
    Use({Site("s1", 300, p1), Site("s2", 300, p2)});
    const uint64_t id = Submit("");
    Pass();
    ASSERT_EQ(jobs_.Get(id).value().state, JobState::kRunning);
    EXPECT_EQ(SiteOf(id), want) << p1 << " vs " << p2;
    const std::vector<AuditEntry> placed = Audits(id, "place");
    ASSERT_EQ(placed.size(), 1u);
    EXPECT_NE(placed[0].detail.find("grid 300 g/kWh, 50 $/MWh"), std::string::npos) << placed[0].detail;
    End(id);
  }
}

// A series whose last point is older than stale_after is stale: the
// site's mean stands in, and the reason says so.
TEST_F(GridPolicyTest, AStaleSignalFallsBackToTheMeanAndSaysSo) {
  Join("a", "s1");
  SiteInfo s1 = Site("s1", 500);
  s1.carbon.points = {{kT0 - Duration::Hours(3), 20.0}};  // clean, but 3 h old
  s1.carbon.stale_after = Duration::Hours(2);
  Use({s1});
  const SiteGridNow g = SiteBook::FromSites({s1}).value()->GridAt("s1", kT0);
  EXPECT_TRUE(g.signals.carbon_stale);
  EXPECT_EQ(g.signals.carbon, 500);
  EXPECT_EQ(g.carbon_as_of, kT0 - Duration::Hours(3));
  EXPECT_FALSE(SiteBook::FromSites({s1}).value()->GridAt("s1", kT0 - Duration::Hours(2)).signals.carbon_stale);
  const uint64_t id = Submit("");
  Pass();
  const std::vector<AuditEntry> placed = Audits(id, "place");
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_NE(placed[0].detail.find("grid 500 g/kWh (stale: the site's mean)"), std::string::npos) << placed[0].detail;
}

// The server foresees the hours ahead as the site's forecast_model says,
// through the twin's function (sched::Foreseen): the series' points ahead,
// the current reading held, or yesterday's same hours.
TEST(SiteForecastModel, TheServerForeseesAsTheTwinDoes) {
  const Time hour0 = Time::Epoch() + Duration::Hours((kT0 - Time::Epoch()).nanos() / Duration::Hours(1).nanos());
  SiteInfo s = Site("s", 300);
  s.forecast = Duration::Hours(2);
  s.carbon.stale_after = Duration::Hours(30);
  for (int h = -24; h <= 2; ++h) {  // yesterday 200 + h, now 400, the next two hours 100
    const double v = h < 0 ? 200.0 + h : h == 0 ? 400.0 : 100.0;
    s.carbon.points.push_back({hour0 + Duration::Hours(h), v});
  }
  auto ahead = [&](ForecastModel m) {
    s.forecast_model = m;
    return SiteBook::FromSites({s}).value()->GridAt("s", hour0 + Duration::Minutes(10)).signals;
  };
  EXPECT_EQ(ahead(ForecastModel::kPerfect).carbon_ahead, 100);
  const sched::SiteSignals held = ahead(ForecastModel::kPersistence);
  EXPECT_EQ(held.carbon_ahead, 400);
  EXPECT_EQ(held.carbon_min_at, hour0 + Duration::Minutes(10));
  // hours +1 and +2 as they were a day earlier: 200 - 23 and 200 - 22
  EXPECT_DOUBLE_EQ(ahead(ForecastModel::kDayAgo).carbon_ahead, (177 + 178) / 2.0);
}

// A site whose reported draw is at its cap starts no new work until the
// draw falls; the job's reason and the audit say why.
TEST_F(GridPolicyTest, ASiteAtItsPowerCapStartsNothingUntilItsDrawFalls) {
  // One H100 whose board reads 680 W (its host share adds the catalog's
  // idle figure): with a job's draw on top, past the 1 kW cap.
  Join("g", "s1", AcceleratorType::kH100, 680);
  SiteInfo s1 = Site("s1", 300);
  s1.pue = 1.0;
  s1.power_cap_w = 1000;
  Use({s1});
  const uint64_t id = Submit("", "H100:1");
  ASSERT_TRUE(rec_->Tick().ok());
  JobRecord r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kPending);
  const double host_idle = model::HostPower(Spec(AcceleratorType::kH100), 0).value();
  EXPECT_NE(r.reason.find(fmt::format("held back by power: site s1 draws {:.1f} kW (GPU power: measured, x PUE 1.00) "
                                      "of its 1.0 kW cap",
                                      (680 + host_idle) / 1e3)),
            std::string::npos)
      << r.reason;
  ASSERT_EQ(Audits(id, "power-hold").size(), 1u);
  EXPECT_EQ(rec_->site_draw().at("s1").Source(), "measured");
  Beat("g", 690);  // the draw moves a little: still held, not said again
  ASSERT_TRUE(rec_->Tick().ok());
  EXPECT_EQ(Audits(id, "power-hold").size(), 1u);
  Beat("g", 90);  // the draw falls
  ASSERT_TRUE(rec_->Tick().ok());
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kRunning);
}

// A reading that cannot be true (not a number, or past 1.5 x TDP per
// device) is no reading: the estimate stands in, and a hostile agent
// cannot block its site.
TEST_F(GridPolicyTest, ABogusReadingIsNoReading) {
  for (double bogus : {std::numeric_limits<double>::infinity(), std::nan(""), -5.0, 1e300, 1100.0}) {
    Join("g", "s1", AcceleratorType::kH100, bogus);
    Use({Site("s1", 300)});
    ASSERT_TRUE(rec_->Tick().ok());
    EXPECT_EQ(rec_->site_draw().at("s1").Source(), "estimate") << bogus;
    EXPECT_TRUE(std::isfinite(rec_->site_draw().at("s1").facility_w)) << bogus;
  }
}

// Without a reading, the catalog's estimate for the node stands in, and is
// said to be one.
TEST_F(GridPolicyTest, ANodeWithoutAReadingIsEstimated) {
  Join("g", "s1", AcceleratorType::kH100);
  Use({Site("s1", 300)});
  Submit("", "H100:1");
  ASSERT_TRUE(rec_->Tick().ok());
  const SiteDraw d = rec_->site_draw().at("s1");
  EXPECT_EQ(d.Source(), "estimate");
  EXPECT_GT(d.it_w, 50);
  EXPECT_DOUBLE_EQ(d.facility_w, d.it_w * 1.2);
}

// A preemption stops the victim with its warning: the agent is told the
// grace (SIGKILL when it ends), and the attempt ends as a preemption.
TEST_F(GridPolicyTest, APreemptionCarriesItsWarningToTheAgent) {
  Join("a", "s1");
  SchedulerSpec spec;
  spec.preempt_after = Duration::Zero();
  Use({Site("s1", 300)}, spec);
  const uint64_t low = Submit("estimate: 10h\ncheckpoint: {interval: 10m}\n");
  Pass();
  ASSERT_EQ(jobs_.Get(low).value().state, JobState::kRunning);
  const TaskRef t{low, 1};
  rec_->OnHeartbeat("a", NodeTelemetry{}, {TaskReport{t, true, 0, 0}}).value();
  const uint64_t urgent = Submit("priority: 10\nestimate: 1h\n");
  Pass();
  const JobRecord r = jobs_.Get(low).value();
  EXPECT_TRUE(r.stopping);
  EXPECT_EQ(r.stop_grace, spec.preempt_warning);
  EXPECT_EQ(r.reason.rfind("preempted (120 s warning)", 0), 0u) << r.reason;
  ASSERT_EQ(Audits(low, "preempt").size(), 1u);
  const HeartbeatResult h = rec_->OnHeartbeat("a", NodeTelemetry{}, {TaskReport{t, true, 0, 0}}).value();
  EXPECT_EQ(h.stop, (std::vector<TaskRef>{t}));
  EXPECT_EQ(h.stop_grace.at(t), spec.preempt_warning);
  // It ends (its checkpoint written): requeued, not failed; the urgent job runs.
  rec_->OnHeartbeat("a", NodeTelemetry{}, {TaskReport{t, false, 0, 15}}).value();
  EXPECT_EQ(jobs_.Get(low).value().state, JobState::kPending);
  EXPECT_EQ(jobs_.Get(low).value().failed_attempts, 0);
  Pass();
  EXPECT_EQ(jobs_.Get(urgent).value().state, JobState::kRunning);
}

// A deferrable job submitted in a dirty hour of Germany's grid (the real
// 2020 series, replayed on the manual clock) waits for the clean hours
// the series forecasts and starts in them, before its deadline.
class GermanGridTest : public GridPolicyTest {
 protected:
  static constexpr const char* kCsv = STARGATE_SOURCE_DIR "/../shared/data/carbon/ger_ci.csv";
  static Time DirtyHour() {
    SiteInfo de;
    de.name = "de";
    de.carbon.file = kCsv;
    de.carbon.stale_after = Duration::Hours(1);
    auto book = SiteBook::FromSites({de});
    if (!book.ok()) return Time::Never();
    // The first hour of 2020-01 whose forecast holds an hour 35% cleaner
    // at least 2 h ahead.
    for (Time t = Time::Epoch() + Duration::Seconds(1577836800); t < Time::Epoch() + Duration::Seconds(1580515200);
         t = t + Duration::Hours(1)) {
      const SiteGridNow g = (*book)->GridAt("de", t);
      if (g.signals.carbon > 1.35 * g.signals.carbon_min_ahead && g.signals.carbon_min_at - t >= Duration::Hours(2)) {
        return t;
      }
    }
    return Time::Never();
  }
  GermanGridTest() : GridPolicyTest(DirtyHour()) {}
};

TEST_F(GermanGridTest, ADeferrableJobStartsInTheForecastCleanWindow) {
  if (!std::filesystem::exists(kCsv)) GTEST_SKIP() << kCsv << " is absent (../shared/data)";
  const Time submit = clock_.Now();
  ASSERT_NE(submit, Time::Never()) << "no dirty hour with a clean forecast in January 2020";
  SiteInfo de;
  de.name = "de";
  de.carbon.file = kCsv;
  de.carbon.stale_after = Duration::Hours(1);
  const std::shared_ptr<const SiteBook> book = SiteBook::FromSites({de}).value();
  const SiteGridNow at_submit = book->GridAt("de", submit);
  Join("a", "de");
  rec_ = std::make_unique<Reconciler>(&jobs_, &nodes_, sched::MakeScheduler("stargate").value(), "/data", &clock_);
  rec_->SetAudit(&audit_);
  ReconcilerOptions o;
  o.check_kept_view = true;
  o.sites = book;
  rec_->Configure(o);
  const uint64_t id = Submit("estimate: 1h\ndeferrable: {deadline: 12h}\n");
  Pass();
  JobRecord r = jobs_.Get(id).value();
  ASSERT_EQ(r.state, JobState::kPending) << r.reason;
  EXPECT_EQ(r.reason.rfind("deferred: de at", 0), 0u) << r.reason;
  ASSERT_GE(Audits(id, "defer").size(), 1u);
  // Ten-minute steps until it starts.
  Time started = Time::Never();
  for (int step = 0; step < 6 * 12 && started == Time::Never(); ++step) {
    clock_.Advance(Duration::Minutes(10));
    Pass();
    if (jobs_.Get(id).value().state == JobState::kRunning) started = clock_.Now();
  }
  ASSERT_NE(started, Time::Never()) << "never started";
  EXPECT_GE(started, at_submit.signals.carbon_min_at) << "started before the clean hour";
  EXPECT_LE(started, submit + Duration::Hours(11)) << "past its deadline's latest start";
  const double carbon_at_start = book->GridAt("de", started).signals.carbon;
  EXPECT_LT(carbon_at_start, at_submit.signals.carbon / 1.2)
      << "started at " << carbon_at_start << " g/kWh, submitted at " << at_submit.signals.carbon;
  fmt::print("submitted at {:.0f} g/kWh; started {:.1f} h later at {:.0f} g/kWh (forecast min {:.0f})\n",
             at_submit.signals.carbon, (started - submit).seconds() / 3600, carbon_at_start,
             at_submit.signals.carbon_min_ahead);
}

// SIGHUP and POST /v1/sites/reload read the file again: the new figures
// are used from the next pass; a bad file changes nothing.
TEST(SiteReload, TakesEffectWithoutARestartAndABadFileChangesNothing) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("sg-reload-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "sites.yaml").string();
  std::ofstream(file) << "sites:\n  - {name: s1, carbon: 700}\n";
  ManualClock clock(kT0);
  MemoryStore store;
  ControlPlaneOptions o;
  o.reconciler.check_kept_view = true;
  o.sites = SiteBook::Load(file).value();
  o.sites_file = file;
  ControlPlane cp(&store, &clock, sched::MakeScheduler("stargate").value(), o);
  EXPECT_EQ(cp.Sites().book->GridAt("s1", kT0).signals.carbon, 700);
  std::ofstream(file) << "sites:\n  - {name: s1, carbon: 30}\n";
  ASSERT_TRUE(cp.ReloadSites("test").ok());
  EXPECT_EQ(cp.Sites().book->GridAt("s1", kT0).signals.carbon, 30);
  std::ofstream(file) << "sites:\n  - {name: s1, carbon: lots}\n";
  const Status bad = cp.ReloadSites("test");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("sites.yaml:2:"), std::string::npos) << bad.message();
  EXPECT_EQ(cp.Sites().book->GridAt("s1", kT0).signals.carbon, 30);
  ControlPlane none(&store, &clock, sched::MakeScheduler("stargate").value(), ControlPlaneOptions{});
  EXPECT_EQ(none.ReloadSites("test").code(), absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace stargate::control
