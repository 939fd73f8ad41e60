// Hand-built RunResults shared by the report_*_test.cc files (declared in
// report_fixture.h), plus checks of run_result.cc.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "report_fixture.h"
#include "twin/run_result.h"

namespace stargate::twin::report_testing {
namespace {

constexpr double kPi = 3.14159265358979323846;

Time AtHours(double h) { return Time::Epoch() + Duration::FromSeconds(h * 3600.0); }
Duration Hours(double h) { return Duration::FromSeconds(h * 3600.0); }

// 48 hourly values with a daily cycle; `phase` shifts the peak.
SiteSeries MakeSite(std::string name, std::string jurisdiction, int64_t accelerators, double cap_mw, double base_carbon,
                    double carbon_swing, double phase) {
  SiteSeries s;
  s.name = std::move(name);
  s.jurisdiction = std::move(jurisdiction);
  s.accelerators = accelerators;
  s.power_cap_mw = cap_mw;
  std::vector<double> carbon, price;
  for (int h = 0; h < 48; ++h) {
    const double day = std::sin(2 * kPi * (h + phase) / 24.0);
    const double util = 0.55 - 0.35 * day;  // busier when the grid is cleaner
    s.utilisation.push_back(util);
    s.facility_mw.push_back(cap_mw * (0.3 + 0.65 * util));
    carbon.push_back(base_carbon + carbon_swing * day);
    price.push_back(45 + 20 * day);
    s.energy_mwh += s.facility_mw.back();
    s.tco2 += s.facility_mw.back() * carbon.back() / 1000.0;
    s.cost_usd += s.facility_mw.back() * price.back();
    s.peak_mw = std::max(s.peak_mw, s.facility_mw.back() * 1.02);
  }
  s.carbon = std::move(carbon);
  s.price = std::move(price);
  return s;
}

JobRecord Job(uint32_t id, std::string name, JobKind kind, int accelerators, int site, double submit_h,
              JobOutcome outcome) {
  JobRecord j;
  j.id = id;
  j.name = std::move(name);
  j.tenant = id % 2 == 0 ? "lab-b" : "lab-a";
  j.kind = kind;
  j.accelerators = accelerators;
  j.nodes = std::max(1, accelerators / 8);
  j.accelerator = AcceleratorType::kH100;
  j.site = site;
  j.submit = AtHours(submit_h);
  j.outcome = outcome;
  return j;
}

// A job that ran from `start_h` to `end_h` (end < 0: still holding devices).
void Ran(JobRecord* j, double start_h, double end_h, double useful_share) {
  j->first_start = AtHours(start_h);
  if (end_h >= 0) j->end = AtHours(end_h);
  j->wait = Hours(start_h - j->submit.since_epoch().hours());
  const double held_h = (end_h >= 0 ? end_h : 48.0) - start_h;
  j->allocated_device_s = j->accelerators * held_h * 3600.0;
  j->useful_device_s = j->allocated_device_s * useful_share;
}

}  // namespace

RunResult SampleRun() {
  RunResult r;
  r.sites.push_back(MakeSite("north-1", "NO", 1024, 2.0, 30, 10, 0));
  r.sites.push_back(MakeSite("texas, east", "US", 512, 1.0, 420, 150, 3));
  r.sites[1].peak_mw = 1.12;  // over its 1.0 MW cap
  r.sites[0].failures = 3;
  r.sites[1].failures = 2;

  JobRecord j1 = Job(1, "pretrain, phase 1", JobKind::kTraining, 256, 0, 0, JobOutcome::kFinished);
  Ran(&j1, 0.5, 30.25, 0.94);
  j1.restarts = 1;
  j1.checkpoint_interval = Duration::Minutes(30);
  JobRecord j2 = Job(2, "eval \"quick\"", JobKind::kBatch, 8, 1, 1.5, JobOutcome::kFinished);
  Ran(&j2, 2, 3, 1.0);
  JobRecord j3 = Job(3, "finetune-x", JobKind::kFineTune, 64, 1, 2, JobOutcome::kFinished);
  Ran(&j3, 4, 10, 0.9);
  j3.restarts = 2;
  j3.checkpoint_interval = Duration::Minutes(20);
  JobRecord j4 = Job(4, "serve", JobKind::kInference, 16, 0, 0, JobOutcome::kRunning);
  Ran(&j4, 0.1, -1, 1.0);
  JobRecord j5 = Job(5, "queued", JobKind::kBatch, 4096, -1, 40, JobOutcome::kPending);
  j5.wait = Hours(8);
  JobRecord j6 = Job(6, "sovereign", JobKind::kTraining, 512, -1, 3, JobOutcome::kRejected);
  j6.reason = "no site in jurisdiction, EU";
  JobRecord j7 = Job(7, "interrupted", JobKind::kTraining, 128, 0, 4, JobOutcome::kPending);
  Ran(&j7, 5, -1, 0.7);
  j7.restarts = 1;
  JobRecord j8 = Job(8, "late-batch", JobKind::kBatch, 32, 0, 40, JobOutcome::kFinished);
  Ran(&j8, 40.5, 44, 1.0);
  JobRecord j9 = Job(9, "deadline", JobKind::kBatch, 8, -1, 10, JobOutcome::kRejected);
  j9.reason = "deadline";
  JobRecord j10 = Job(10, "multi\nline", JobKind::kInference, 8, 1, 12, JobOutcome::kFinished);
  Ran(&j10, 12.05, 12.2, 1.0);
  r.jobs = {j1, j2, j3, j4, j5, j6, j7, j8, j9, j10};

  Summary& s = r.summary;
  s.scenario = "sample <two-site>";
  s.seed = 42;
  s.policy = "carbon-aware";
  s.simulated_days = 2;
  s.accelerators = 1536;
  s.nodes = 192;
  s.jobs_total = 10;
  s.jobs_finished = 5;
  s.jobs_running = 1;
  s.jobs_pending = 2;
  s.jobs_rejected = 2;
  s.jct_h = {7.84, 6.0, 30.25, 30.25};
  s.wait_h = {0.62, 0.5, 1.0, 2.0};
  s.utilisation = 0.1 + 0.2;  // 0.30000000000000004: must print as 0.3
  s.goodput = 0.93;
  s.ettr = 0.88;
  s.interruptions = 3;
  s.failures = 5;
  s.energy_mwh = r.sites[0].energy_mwh + r.sites[1].energy_mwh;
  s.peak_mw = 1.9;
  s.tco2 = r.sites[0].tco2 + r.sites[1].tco2;
  s.cost_usd = r.sites[0].cost_usd + r.sites[1].cost_usd;
  s.events = 1234;
  s.scheduler_passes = 96;
  return r;
}

RunResult BigRun(int sites, int hours, int jobs) {
  RunResult r;
  for (int i = 0; i < sites; ++i) {
    SiteSeries s;
    s.name = "site-" + std::to_string(i);
    s.jurisdiction = i % 2 ? "EU" : "US";
    s.accelerators = 100000;
    s.power_cap_mw = 150;
    std::vector<double> carbon, price;
    for (int h = 0; h < hours; ++h) {
      const double day = std::sin(2 * kPi * (h + i) / 24.0);
      s.utilisation.push_back(0.6 + 0.3 * day);
      s.facility_mw.push_back(80 + 50 * day);
      carbon.push_back(200 + 10 * i + 80 * day);
      price.push_back(50 + 30 * day);
    }
    s.carbon = std::move(carbon);
    s.price = std::move(price);
    r.sites.push_back(std::move(s));
  }
  for (int k = 0; k < jobs; ++k) {
    JobRecord j = Job(static_cast<uint32_t>(k), "job-" + std::to_string(k), static_cast<JobKind>(k % 4), 8,
                      k % std::max(sites, 1), k % 1000, JobOutcome::kFinished);
    Ran(&j, k % 1000 + 0.5, k % 1000 + 1.0 + (k % 97) * 0.37, 0.9);
    r.jobs.push_back(std::move(j));
  }
  r.summary.scenario = "big";
  r.summary.simulated_days = hours / 24.0;
  r.summary.jobs_total = r.summary.jobs_finished = jobs;
  return r;
}

namespace {

TEST(RunResultTest, NamesEveryOutcome) {
  EXPECT_EQ(Name(JobOutcome::kFinished), "finished");
  EXPECT_EQ(Name(JobOutcome::kRunning), "running");
  EXPECT_EQ(Name(JobOutcome::kPending), "pending");
  EXPECT_EQ(Name(JobOutcome::kRejected), "rejected");
}

TEST(ReportFixtureTest, SampleHasTwoSitesOfTwoDaysAndTenJobs) {
  const RunResult r = SampleRun();
  ASSERT_EQ(r.sites.size(), 2u);
  EXPECT_EQ(r.sites[0].utilisation.size(), 48u);
  EXPECT_EQ(r.jobs.size(), 10u);
}

}  // namespace
}  // namespace stargate::twin::report_testing
