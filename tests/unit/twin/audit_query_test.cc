// The audit trail: the engine records every applied decision, the CSV
// writer and QueryAudit round-trip it, and filters select by job, tenant,
// site, action and time.
#include "twin/audit_query.h"

#include <gtest/gtest.h>

#include <sstream>

#include "twin/engine.h"
#include "twin/report_csv.h"

namespace stargate::twin {
namespace {

// One day on one site of two H100 nodes under the stargate policy, with
// the grid's hourly intensity `carbon`.
TwinInputs OneSiteDay(std::string site_name, std::vector<double> carbon) {
  TwinInputs in;
  in.spec.name = "audit";
  in.spec.duration = Duration::Days(1);
  in.spec.policy = "stargate";
  SiteSpec site;
  site.name = std::move(site_name);
  site.jurisdiction = "NO";
  site.pools.push_back(PoolSpec{AcceleratorType::kH100, 2, 8, 4, 1});
  in.spec.sites.push_back(site);
  in.carbon.push_back(HourlySeries{std::move(carbon)});
  in.price.push_back(HourlySeries{{40.0}});
  return in;
}

// Job 0 (tenant "low") fills the one site; job 1 (tenant "high", priority
// 5) arrives later and preempts it.
RunResult PreemptionRun() {
  TwinInputs in = OneSiteDay("oslo", {30.0});
  JobSpec low;
  low.tenant = "low";
  low.accelerator_count = 16;
  low.duration = Duration::Hours(5);
  JobSpec high = low;
  high.tenant = "high, with a comma";
  high.accelerator_count = 8;
  high.priority = 5;
  high.duration = Duration::Hours(1);
  high.submit = Time::Epoch() + Duration::Hours(1);
  in.jobs = {low, high};
  return RunTwin(in).value();
}

std::string Csv(const RunResult& r) {
  std::ostringstream out;
  WriteAuditCsv(r, out);
  return out.str();
}

TEST(Audit, EngineRecordsStartsAndPreemptionsInOrder) {
  const RunResult r = PreemptionRun();
  ASSERT_EQ(r.audit.size(), 4u);
  EXPECT_EQ(r.audit[0].action, AuditAction::kStart);
  EXPECT_EQ(r.audit[0].job, 0u);
  EXPECT_EQ(r.audit[1].action, AuditAction::kPreempt);
  EXPECT_EQ(r.audit[1].job, 0u);
  EXPECT_EQ(r.audit[1].at, Time::Epoch() + Duration::Hours(1));
  EXPECT_EQ(r.audit[1].site, 0);
  EXPECT_NE(r.audit[1].detail.find("preempted for job 1"), std::string::npos) << r.audit[1].detail;
  EXPECT_EQ(r.audit[2].action, AuditAction::kStart);
  EXPECT_EQ(r.audit[2].job, 1u);
  EXPECT_EQ(r.audit[3].action, AuditAction::kStart);  // job 0 again, after job 1
  EXPECT_EQ(r.audit[3].job, 0u);
  EXPECT_NE(r.audit[3].detail.find("oslo H100"), std::string::npos) << r.audit[3].detail;
}

TEST(Audit, CsvRoundTripsThroughTheQuery) {
  const RunResult r = PreemptionRun();
  const std::string csv = Csv(r);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "time_h,job,name,tenant,action,count,last_h,site,detail");
  int64_t total = 0;
  auto all = QueryAudit(csv, "d.csv", {}, &total);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(total, 4);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[1].action, "preempt");
  EXPECT_EQ((*all)[1].site, "oslo");
  EXPECT_DOUBLE_EQ((*all)[1].time_h, 1.0);
  EXPECT_EQ((*all)[2].tenant, "high, with a comma");  // quoted on the way out, unquoted back

  AuditFilter only_job0;
  only_job0.job = 0;
  EXPECT_EQ(QueryAudit(csv, "d.csv", only_job0)->size(), 3u);
  AuditFilter preempts;
  preempts.action = "preempt";
  EXPECT_EQ(QueryAudit(csv, "d.csv", preempts)->size(), 1u);
  AuditFilter tenant;
  tenant.tenant = "high, with a comma";
  EXPECT_EQ(QueryAudit(csv, "d.csv", tenant)->size(), 1u);
  AuditFilter window;
  window.from_h = 0.5;
  window.to_h = 1.1;                                        // job 1 starts when the 2 min warning is over
  EXPECT_EQ(QueryAudit(csv, "d.csv", window)->size(), 2u);  // the preemption and job 1's start
  AuditFilter elsewhere;
  elsewhere.site = "paris";
  EXPECT_TRUE(QueryAudit(csv, "d.csv", elsewhere)->empty());
}

TEST(Audit, RepeatedDeferralsFoldIntoOneRow) {
  // A deferrable job at a site whose grid gets much cleaner in a few hours:
  // it is deferred on every wake-up until then, and the trail keeps one row.
  std::vector<double> carbon(24, 500.0);
  for (int h = 6; h < 24; ++h) carbon[h] = 50.0;
  TwinInputs in = OneSiteDay("s", carbon);
  JobSpec j;
  j.accelerator_count = 8;
  j.duration = Duration::Hours(1);
  j.deferrable = true;
  j.deadline = Time::Epoch() + Duration::Hours(20);
  in.jobs = {j};
  const RunResult r = RunTwin(in).value();
  ASSERT_EQ(r.audit.size(), 2u);
  EXPECT_EQ(r.audit[0].action, AuditAction::kDefer);
  EXPECT_GE(r.audit[0].count, 1u);
  EXPECT_LE(r.audit[0].last, Time::Epoch() + Duration::Hours(6));
  EXPECT_EQ(r.audit[1].action, AuditAction::kStart);
  EXPECT_GE(r.audit[1].at, Time::Epoch() + Duration::Hours(5));
}

TEST(Audit, RejectsAFileThatIsNotATrail) {
  auto bad = QueryAudit("id,name\n1,x\n", "jobs.csv", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "jobs.csv:1: not an audit trail (expected the header "
            "time_h,job,name,tenant,action,count,last_h,site,detail)");
  auto short_row = QueryAudit("time_h,job,name,tenant,action,count,last_h,site,detail\n1.0,2,x\n", "d.csv", {});
  ASSERT_FALSE(short_row.ok());
  EXPECT_NE(std::string(short_row.status().message()).find("d.csv:2:"), std::string::npos);
  EXPECT_TRUE(CheckAuditAction("preempt").ok());
  EXPECT_FALSE(CheckAuditAction("kill").ok());
}

}  // namespace
}  // namespace stargate::twin
