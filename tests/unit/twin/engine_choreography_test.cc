// Power choreography in the twin (sched/power_ramp.h, twin/site_ramp.h):
// with a site ramp limit, starts are staggered and ramped, stops held and
// lowered at the rate, a gang held for repair keeps its draw; without one,
// each moves the site at once.
#include <gtest/gtest.h>

#include "batch_job.h"
#include "sched/power_ramp.h"
#include "sched/request_of.h"
#include "twin/engine.h"

namespace stargate::twin {
namespace {

using testing::Batch;

// testing::SmallCluster with a PUE of 1.25, for a day.
TwinInputs Site(int nodes) {
  TwinInputs in = testing::SmallCluster(nodes);
  in.spec.name = "ramp";
  in.spec.duration = Duration::Days(1);
  in.spec.sites[0].pue = 1.25;
  return in;
}

// One 16-device batch gang's facility rise at the site.
double GangRiseMw() {
  return sched::GangRiseWatts(AcceleratorType::kH100, 16, sched::UtilisationOf(JobKind::kBatch), 0, 1.25) / 1e6;
}

TEST(EngineChoreography, StartsAreStaggeredAndStopsHeldWithinTheSiteLimits) {
  TwinInputs in = Site(8);
  // Four gangs start together and end a minute apart two hours later;
  // four more start an hour after that.
  for (int i = 0; i < 4; ++i) in.jobs.push_back(Batch(16, Duration::Hours(2) + Duration::Minutes(i)));
  for (int i = 0; i < 4; ++i) in.jobs.push_back(Batch(16, Duration::Hours(1), Time::Epoch() + Duration::Hours(3)));
  const RunResult sudden = RunTwin(in).value();
  EXPECT_NEAR(sudden.summary.largest_step_mw, 4 * GangRiseMw(), 1e-9);
  EXPECT_EQ(sudden.summary.ramped_starts, 0);

  // A minute may move the site by a gang and a half.
  const double per_minute = 1.5 * GangRiseMw();
  in.spec.sites[0].power_ramp.mw_per_min = per_minute;
  const RunResult choreographed = RunTwin(in).value();
  const double rate_mw = per_minute / 60;
  const sched::Rise one = sched::GangRise(AcceleratorType::kH100, 16, sched::UtilisationOf(JobKind::kBatch), 0, 1.25);
  EXPECT_LE(choreographed.summary.largest_ramp_mw_per_min, per_minute + 1e-9);
  // The one step left: a gang's floor, at its launch or its release.
  EXPECT_NEAR(choreographed.summary.largest_step_mw, std::max(one.step_w / 1e6, rate_mw), 1e-9);
  EXPECT_LT(choreographed.summary.largest_step_mw, sudden.summary.largest_step_mw / 3);
  EXPECT_EQ(choreographed.summary.ramped_starts, 8);
  EXPECT_GT(choreographed.summary.ramp_wait_h, 0);
  EXPECT_GT(choreographed.summary.holding_mwh, 0);
  // The same work, each gang a little later (the last of four waits for
  // three ramps), and the holding loads cost energy.
  for (size_t j = 0; j < in.jobs.size(); ++j) {
    ASSERT_EQ(choreographed.jobs[j].outcome, JobOutcome::kFinished);
    EXPECT_GT(choreographed.jobs[j].end, sudden.jobs[j].end) << j;
    EXPECT_LT(choreographed.jobs[j].end, sudden.jobs[j].end + Duration::Minutes(5)) << j;
  }
  EXPECT_GT(choreographed.summary.energy_mwh, sudden.summary.energy_mwh);
  // Deterministic.
  const RunResult again = RunTwin(in).value();
  EXPECT_EQ(again.summary.largest_ramp_mw_per_min, choreographed.summary.largest_ramp_mw_per_min);
  EXPECT_EQ(again.summary.holding_mwh, choreographed.summary.holding_mwh);
}

// Gangs that end at one instant fall in turn (sched::RampChannels::Fall),
// each held at its draw until the one before has fallen: the site's
// minute stays within its limit, and the waits cost holding energy.
TEST(EngineChoreography, GangsEndingTogetherFallInTurn) {
  TwinInputs in = Site(8);
  // Started ten minutes apart (each rise alone on the channel, so each
  // loses the same time to it), all end at one instant.
  for (int i = 0; i < 4; ++i) {
    in.jobs.push_back(
        Batch(16, Duration::Hours(3) - Duration::Minutes(10 * i), Time::Epoch() + Duration::Minutes(10 * i)));
  }
  const double per_minute = 1.5 * GangRiseMw();
  in.spec.sites[0].power_ramp.mw_per_min = per_minute;
  const RunResult r = RunTwin(in).value();
  for (size_t j = 1; j < in.jobs.size(); ++j) ASSERT_EQ(r.jobs[j].end, r.jobs[0].end) << j;
  // Side by side, four falls would move it by four times the rate.
  EXPECT_LE(r.summary.largest_ramp_mw_per_min, per_minute + 1e-9);
  // The last waits for three falls of about a gang's rise each at the
  // rate (a minute and a half here), held at its draw.
  const sched::Rise one = sched::GangRise(AcceleratorType::kH100, 16, sched::UtilisationOf(JobKind::kBatch), 0, 1.25);
  const double fall_s = (one.total() / (per_minute * 1e6 / 60));
  EXPECT_GT(r.summary.holding_mwh, 6 * one.total() / 1e6 * fall_s / 3600);
}

// A gang held for repair: its survivors idle (the site drops, then surges
// on the restart) on a plain site; on a choreographed one their agents'
// holding load takes them down the ramp instead.
TEST(EngineChoreography, AGangHeldForRepairFallsAtTheRateWhereChoreographed) {
  TwinInputs in = Site(4);
  in.spec.failures.gang_repair = true;
  in.spec.failures.scripted = {{Duration::Minutes(30), "s", 0, Duration::Hours(2)}};
  JobSpec j = Batch(32, Duration::Hours(4));
  j.checkpoint = CheckpointPolicy{true, false, Duration::Hours(1)};
  in.jobs = {j};
  const RunResult plain = RunTwin(in).value();
  ASSERT_EQ(plain.jobs[0].outcome, JobOutcome::kFinished);
  const double rise_mw =
      sched::GangRiseWatts(AcceleratorType::kH100, 32, sched::UtilisationOf(JobKind::kBatch), 0, 1.25) / 1e6;
  EXPECT_NEAR(plain.sites[0].largest_step_mw, rise_mw, 1e-9);  // its start, and the restart of all four nodes
  // Half a megawatt a minute: the survivors' fall takes tens of seconds.
  in.spec.sites[0].power_ramp.mw_per_min = 0.5;
  const RunResult held = RunTwin(in).value();
  ASSERT_EQ(held.jobs[0].outcome, JobOutcome::kFinished);
  const sched::Rise gang = sched::GangRise(AcceleratorType::kH100, 32, sched::UtilisationOf(JobKind::kBatch), 0, 1.25);
  // What is left: the floor of the whole gang when the repaired gang
  // launches again (ramped like a start); the failure moves the site by
  // the failed node's share and the survivors' fall.
  EXPECT_NEAR(held.sites[0].largest_step_mw, gang.step_w / 1e6, 1e-9);
  EXPECT_LT(held.sites[0].largest_step_mw, rise_mw);
  EXPECT_EQ(held.summary.ramped_starts, 2);  // the start and the repaired restart
  EXPECT_GT(held.summary.holding_mwh, 0);
}

// A gang's checkpoint stall drops its site by its draw and restores it:
// noted as a swing where nothing holds the load.
TEST(EngineChoreography, CheckpointStallsSwingAPlainSite) {
  TwinInputs in = Site(4);
  JobSpec j = Batch(16, Duration::Hours(2), Time::Epoch() + Duration::Hours(1));
  j.checkpoint = CheckpointPolicy{true, false, Duration::Minutes(20)};
  j.checkpoint.write = Duration::Seconds(20);
  in.jobs = {j, Batch(8, Duration::Minutes(10))};
  const RunResult r = RunTwin(in).value();
  EXPECT_NEAR(r.summary.largest_step_mw, GangRiseMw(), 1e-9);
  EXPECT_NEAR(r.summary.largest_ramp_mw_per_min, GangRiseMw(), 1e-9);
}

}  // namespace
}  // namespace stargate::twin
