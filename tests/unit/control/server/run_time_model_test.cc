// Learned run-time estimates (run_time_model.h): the fallbacks while
// history is short, a boosted model that beats the users' own estimates
// once it is not, the chance of failing early, incremental and bounded
// training, and the control plane that schedules `estimate: auto` jobs on
// the prediction and refills the model from the store at start.
#include "control/server/run_time_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "control/server/control_plane.h"
#include "control/store/memory_store.h"
#include "core/job_file_parser.h"
#include "core/rng.h"
#include "runtime/manual_clock.h"
#include "sched/scheduler.h"

namespace stargate::control {
namespace {

RunFeatures Job(const std::string& tenant, const std::string& name, Duration given = Duration::Zero()) {
  RunFeatures f;
  f.tenant = tenant;
  f.name = name;
  f.command = std::hash<std::string>{}(name);
  f.devices = 8;
  f.accelerator = AcceleratorType::kH100;
  f.given = given;
  return f;
}

// Trains `m` as the server does: whenever a batch is due.
void TrainIfDue(RunTimeModel& m, RunTimeModel::Trainer& t) {
  if (std::optional<RunTimeModel::Batch> b = m.TakeBatch()) m.Publish(t.Train(*b).value());
}

TEST(RunTimeModel, FeaturesComeFromTheJobFile) {
  JobFile f =
      ParseJobFile("name: a\ntenant: ml\nresources: {accelerators: H100:8, nodes: 2}\nrun: x\n", "j.yaml").value();
  EXPECT_TRUE(f.estimate_auto);
  EXPECT_EQ(FeaturesOf(f).given, Duration::Zero());
  EXPECT_EQ(FeaturesOf(f).devices, 16);
  f = ParseJobFile("name: a\nestimate: auto\nrun: x\n", "j.yaml").value();
  EXPECT_TRUE(f.estimate_auto);
  f = ParseJobFile("name: a\nestimate: 2h\nrun: y\n", "j.yaml").value();
  EXPECT_FALSE(f.estimate_auto);
  EXPECT_EQ(FeaturesOf(f).given, Duration::Hours(2));
  EXPECT_NE(FeaturesOf(f).command, FeaturesOf(ParseJobFile("name: a\nrun: x\n", "j.yaml").value()).command);
  EXPECT_FALSE(ParseJobFile("name: a\nestimate: soon\nrun: x\n", "j.yaml").ok());
  // With `auto` a deferrable deadline is not checked against the 1 h default.
  EXPECT_TRUE(ParseJobFile("name: a\ndeferrable: {deadline: 30m}\nrun: x\n", "j.yaml").ok());
  EXPECT_FALSE(ParseJobFile("name: a\nestimate: 1h\ndeferrable: {deadline: 30m}\nrun: x\n", "j.yaml").ok());
}

TEST(RunTimeModel, WhileHistoryIsShortTheGroupsMedianThenTheFileThenTheDefault) {
  RunTimeModel m;
  EXPECT_EQ(m.Predict(Job("ml", "train")).run_time, Duration::Hours(1));
  EXPECT_EQ(m.Predict(Job("ml", "train")).source, EstimateSource::kDefault);
  EXPECT_EQ(m.Predict(Job("ml", "train", Duration::Hours(3))).run_time, Duration::Hours(3));
  EXPECT_EQ(m.Predict(Job("ml", "train", Duration::Hours(3))).source, EstimateSource::kFile);
  const uint64_t v = m.version();
  for (int minutes : {20, 40, 30}) m.Observe(Job("ml", "train", Duration::Hours(3)), Duration::Minutes(minutes), true);
  EXPECT_NE(m.version(), v);  // the fallback moved: cached predictions are stale
  const RunPrediction p = m.Predict(Job("ml", "train", Duration::Hours(3)));
  EXPECT_EQ(p.source, EstimateSource::kGroup);
  EXPECT_NEAR(p.run_time.seconds(), 30 * 60, 1);  // the median, not the file's 3 h
  EXPECT_EQ(p.from, "median of 3 runs of ml/train");
  EXPECT_EQ(m.Predict(Job("cv", "train")).source, EstimateSource::kDefault);  // another tenant's group
  // Failing early: two of four ends in the first ten minutes.
  m.Observe(Job("ml", "train"), Duration::Minutes(2), false);
  m.Observe(Job("ml", "train"), Duration::Minutes(3), false);
  m.Observe(Job("ml", "train"), Duration::Hours(2), false);  // late: not early
  EXPECT_NEAR(m.Predict(Job("ml", "train")).fail_early, 2.0 / 6, 1e-9);
  EXPECT_FALSE(m.TakeBatch().has_value());  // 3 runs: too few to train on
}

// A workload where users over-estimate by 1.5-4x, run times differ by
// group (lognormal around the group's own), and some jobs give no
// estimate: the model, trained as jobs end, must beat the files.
TEST(RunTimeModel, TheLearnedModelBeatsTheUsersEstimates) {
  RunTimeModel m;
  RunTimeModel::Trainer trainer;
  Rng rng(19);
  struct Group {
    std::string tenant, name;
    double minutes;
    double over;  // its users' over-estimate
    bool gives;
  };
  std::vector<Group> groups;
  for (int g = 0; g < 24; ++g) {
    groups.push_back({fmt::format("t{}", g % 4), fmt::format("job{}", g), 10 + rng.Uniform() * 600,
                      1.5 + 2.5 * rng.Uniform(), g % 3 != 0});
  }
  auto draw = [&](const Group& g, Duration* given) {
    const double took = g.minutes * std::exp(0.15 * (rng.Uniform() * 2 - 1));
    *given =
        g.gives ? Duration::Minutes(static_cast<int64_t>(std::ceil(g.minutes * g.over / 10) * 10)) : Duration::Zero();
    return Duration::FromSeconds(took * 60);
  };
  for (int i = 0; i < 800; ++i) {
    const Group& g = groups[rng.Below(groups.size())];
    Duration given;
    const Duration took = draw(g, &given);
    m.Observe(Job(g.tenant, g.name, given), took, true);
    TrainIfDue(m, trainer);
  }
  ASSERT_GT(m.trained_on(), 700u);
  std::vector<double> model_err, file_err;
  for (int i = 0; i < 400; ++i) {
    const Group& g = groups[rng.Below(groups.size())];
    Duration given;
    const Duration took = draw(g, &given);
    const RunPrediction p = m.Predict(Job(g.tenant, g.name, given));
    ASSERT_EQ(p.source, EstimateSource::kModel);
    model_err.push_back(std::abs(std::log(p.run_time.seconds() / took.seconds())));
    if (given > Duration::Zero()) file_err.push_back(std::abs(std::log(given.seconds() / took.seconds())));
  }
  std::sort(model_err.begin(), model_err.end());
  std::sort(file_err.begin(), file_err.end());
  const double model_median = model_err[model_err.size() / 2], file_median = file_err[file_err.size() / 2];
  EXPECT_LT(model_median, 0.25);  // within ~28% of the real run time
  EXPECT_LT(model_median, file_median / 3);
  // A new job of a known tenant gets the model's word too.
  EXPECT_EQ(m.Predict(Job("t1", "never-seen")).source, EstimateSource::kModel);
}

TEST(RunTimeModel, LearnsWhichJobsFailEarly) {
  RunTimeModel m;
  RunTimeModel::Trainer trainer;
  Rng rng(7);
  for (int i = 0; i < 300; ++i) {
    m.Observe(Job("a", "flaky"), Duration::Minutes(2), rng.Uniform() < 0.2);  // 4 in 5 crash at start
    m.Observe(Job("a", "solid"), Duration::Minutes(50), true);
    TrainIfDue(m, trainer);
  }
  EXPECT_GT(m.Predict(Job("a", "flaky")).fail_early, 0.6);
  EXPECT_LT(m.Predict(Job("a", "solid")).fail_early, 0.1);
  EXPECT_EQ(m.Predict(Job("a", "flaky")).source, EstimateSource::kModel);
}

TEST(RunTimeModel, TrainsIncrementallyInBoundedBatchesAndTheSameRowsGiveTheSameModel) {
  RunTimeModelOptions o;
  o.min_train = 10;
  o.batch = 5;
  o.rounds = 4;
  o.max_rounds = 20;
  o.refit_rounds = 8;
  RunTimeModel a(o), b(o);
  RunTimeModel::Trainer ta(o), tb(o);
  std::vector<int> rounds;
  for (int i = 0; i < 40; ++i) {
    for (RunTimeModel* m : {&a, &b})
      m->Observe(Job("t", fmt::format("j{}", i % 4)), Duration::Minutes(5 + i % 4), true);
    if (std::optional<RunTimeModel::Batch> batch = a.TakeBatch()) {
      RunTimeModel::Trained t = ta.Train(*batch).value();
      rounds.push_back(t.run->rounds());
      a.Publish(std::move(t));
    }
    TrainIfDue(b, tb);
  }
  // First at 10 runs (8 trees), then every 5 (+4), refitted past 20.
  EXPECT_EQ(rounds, (std::vector<int>{8, 12, 16, 20, 8, 12, 16}));
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(a.Predict(Job("t", fmt::format("j{}", j))).run_time, b.Predict(Job("t", fmt::format("j{}", j))).run_time);
  }
  const uint64_t v = a.version();
  a.Observe(Job("t", "j0"), Duration::Minutes(5), true);
  EXPECT_EQ(a.version(), v);  // with a model, predictions move when a new one is published
}

// The control plane: an `estimate: auto` job is scheduled on the
// prediction (it fits a backfill hole the default hour would not), the
// model is fed as first attempts end, and a restarted server refills it
// from the jobs it stored.
TEST(RunTimeModel, TheControlPlaneSchedulesAutoJobsOnThePredictionAndRefillsAtStart) {
  ManualClock clock(Time::FromMillis(1'796'256'000'000));
  MemoryStore store;
  ControlPlaneOptions o;
  o.data_dir = "/data";
  o.log = [](const std::string&) {};
  o.credit_stalls = false;
  o.heartbeat_timeout = Duration::Hours(1);  // the nodes beat only at the ends of runs
  auto make = [&] {
    auto cp = std::make_unique<ControlPlane>(&store, &clock, sched::MakeScheduler("stargate").value(), o);
    EXPECT_TRUE(cp->Load().ok());
    return cp;
  };
  std::unique_ptr<ControlPlane> cp = make();
  const std::vector<std::string> nodes = {"n0", "n1"};
  for (const std::string& n : nodes) {
    Registration reg;
    reg.node.name = n;
    reg.node.site = "s";
    reg.node.address = "10.0.0.1";
    reg.node.accelerator = AcceleratorType::kH100;
    reg.node.accelerators = 8;
    reg.agent_id = "agent-" + n;
    ASSERT_TRUE(cp->Register(reg).ok());
  }
  std::map<std::string, std::map<TaskRef, Time>> tasks;  // per node: its tasks and when each ends
  auto beat = [&] {
    for (const std::string& n : nodes) {
      AgentHeartbeat hb;
      hb.node = n;
      hb.telemetry.agent_id = "agent-" + n;
      for (const auto& [ref, end] : tasks[n]) hb.tasks.push_back({ref, end > clock.Now(), 0, 0});
      const HeartbeatResult out = cp->Heartbeat(hb).value();
      for (const TaskRef& ref : out.forget) tasks[n].erase(ref);
      for (const TaskLaunch& l : out.run) tasks[n][l.task] = clock.Now() + Duration::Minutes(20);
    }
  };
  const std::string etl = "name: etl\nresources: {accelerators: H100:8}\nrun: ./etl\n";
  for (int i = 0; i < 3; ++i) {  // three 20-minute runs, one after another
    const uint64_t id = cp->Submit(etl, "j.yaml", "", "t").value().job.id;
    beat();  // a node is placed on once it has beaten
    cp->Pass();
    beat();
    clock.Advance(Duration::Minutes(20));
    beat();
    cp->Pass();
    EXPECT_EQ(cp->Job(id).value().state, JobState::kSucceeded);
  }
  // n0 busy for 30 min by its file; a 2-node gang waits for it (the
  // head's reservation); two auto jobs could use n1 meanwhile.
  const uint64_t busy =
      cp->Submit("name: busy\nresources: {accelerators: H100:8}\nestimate: 30m\nrun: x\n", "j.yaml", "", "t")
          .value()
          .job.id;
  cp->Pass();
  beat();
  ASSERT_EQ(cp->Job(busy).value().state, JobState::kRunning);
  const uint64_t gang =
      cp->Submit("name: gang\nresources: {accelerators: H100:8, nodes: 2}\nestimate: 1h\nrun: x\n", "j.yaml", "", "t")
          .value()
          .job.id;
  const JobRecord known = cp->Submit(etl, "j.yaml", "", "t").value().job;
  const JobRecord fresh =
      cp->Submit("name: fresh\nresources: {accelerators: H100:8}\nrun: ./new\n", "j.yaml", "", "t").value().job;
  const std::map<uint64_t, RunPrediction> p = cp->Predictions({known, fresh});
  EXPECT_EQ(p.at(known.id).source, EstimateSource::kGroup);
  EXPECT_NEAR(p.at(known.id).run_time.seconds(), 20 * 60, 1);
  EXPECT_EQ(p.at(fresh.id).source, EstimateSource::kDefault);
  cp->Pass();
  EXPECT_EQ(cp->Job(gang).value().state, JobState::kPending);
  EXPECT_EQ(cp->Job(known.id).value().state, JobState::kRunning);  // 20 min: ends before the gang's turn
  EXPECT_EQ(cp->Job(fresh.id).value().state, JobState::kPending);  // 1 h: would delay the gang
  // Restarted: the stored jobs refill it.
  cp = make();
  const RunPrediction again = cp->Predictions({fresh, known}).at(known.id);
  EXPECT_NEAR(again.run_time.seconds(), 20 * 60, 1);
  EXPECT_EQ(again.from, "median of 3 runs of default/etl");
}

}  // namespace
}  // namespace stargate::control
