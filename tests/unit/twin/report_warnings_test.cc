#include "twin/report_warnings.h"

#include <string>

#include <gtest/gtest.h>

#include "report_fixture.h"

namespace stargate::twin::report {
namespace {

using report_testing::BigRun;
using report_testing::SampleRun;

TEST(RunWarningsTest, SaysWhatToLookAtMostSeriousFirst) {
  RunResult r = SampleRun();
  r.summary.sla_misses = 1;
  r.summary.power_capped_starts = 12;
  r.sites[0].utilisation.assign(48, 0.01);
  const std::vector<std::string> w = RunWarnings(r);
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0], "1 job missed its deadline");
  EXPECT_EQ(w[1], "2 jobs were rejected: no site could ever run them (jobs.csv has the reasons)");
  EXPECT_EQ(w[2], "1 site went over its power cap: texas, east (1.12 MW on 1.00 MW)");
  EXPECT_EQ(w[3], "1 site stood idle (under 5% busy on average): north-1");
  EXPECT_EQ(w[4], "12 starts ran under a carbon-aware power cap (slower, drawing less)");
  EXPECT_EQ(w[5], "2 jobs were still pending when the run ended: completion times count finished jobs only");
}

TEST(RunWarningsTest, ManyIdleSitesAreCountedNotListed) {
  RunResult r = BigRun(7, 24, 0);
  for (SiteSeries& s : r.sites) s.utilisation.assign(24, 0.0);
  const std::vector<std::string> w = RunWarnings(r);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "7 sites stood idle (under 5% busy on average): site-0, site-1, site-2 and 4 more");
}

TEST(RunWarningsTest, ACalmRunHasNone) {
  RunResult r = BigRun(2, 24, 10);
  EXPECT_TRUE(RunWarnings(r).empty());
  // A site with no devices is not "idle", and one without a cap is never over it.
  r.sites[0].accelerators = 0;
  r.sites[0].utilisation.assign(24, 0.0);
  r.sites[1].power_cap_mw = 0;
  r.sites[1].peak_mw = 1e6;
  EXPECT_TRUE(RunWarnings(r).empty());
}

}  // namespace
}  // namespace stargate::twin::report
