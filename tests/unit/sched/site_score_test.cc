// Site score terms that are not relative to the best candidate (WAN round
// trip to the job's users, pool queue) and the max_rtt filter, alone and
// through the stargate policy and the FIFO baseline.
#include "sched/site_score.h"

#include <gtest/gtest.h>

#include "model/geo.h"
#include "sched/fifo_first_fit.h"
#include "sched/placement.h"
#include "sched/stargate_policy.h"

namespace stargate::sched {
namespace {

SiteSpec Site(std::string name, std::string region, double lat, double lon, int nodes = 2) {
  SiteSpec s;
  s.name = std::move(name);
  s.region = std::move(region);
  s.jurisdiction = "X";
  s.latitude = lat;
  s.longitude = lon;
  s.pools.push_back(PoolSpec{AcceleratorType::kH100, nodes, 8, 1, 1});
  return s;
}

// Tokyo and Ashburn (Virginia); two sites in region "us".
ClusterState World() {
  return ClusterState(
      {Site("tokyo", "jp", 35.68, 139.69), Site("ashburn", "us", 39.04, -77.49), Site("dallas", "us", 32.78, -96.80)});
}

void Grid(ClusterState& s, uint16_t site, double carbon) {
  SiteSignals sig = s.site(SiteId(site)).signals;
  sig.carbon = sig.carbon_ahead = carbon;
  sig.price = 50;
  s.SetSignals(SiteId(site), sig);
}

JobRequest NearTokyo(const ClusterState& s, Duration max_rtt = Duration::Zero()) {
  JobRequest r;
  r.id = JobId(1);
  r.accelerators = 8;
  r.estimate = Duration::Hours(1);
  double lat = 0, lon = 0;
  EXPECT_TRUE(s.PlaceCoordinates("tokyo", &lat, &lon));
  r.has_users = true;
  r.users_latitude = static_cast<float>(lat);
  r.users_longitude = static_cast<float>(lon);
  r.max_rtt = max_rtt;
  return r;
}

TEST(SiteScore, RoundTripIsFibreOverTheRoutedGreatCircle) {
  const ClusterState s = World();
  const JobRequest r = NearTokyo(s);
  EXPECT_NEAR(RoundTripMs(s.site(SiteId(0)), r), 0.0, 1e-3);
  const double km = model::HaversineKm(35.68, 139.69, 39.04, -77.49);
  EXPECT_NEAR(km, 10'900, 200);  // Tokyo-Washington great circle
  EXPECT_NEAR(RoundTripMs(s.site(SiteId(1)), r), 2 * km * 1.5 * 4.9e-3, 0.5);
  JobRequest nobody = r;
  nobody.has_users = false;
  EXPECT_EQ(RoundTripMs(s.site(SiteId(1)), nobody), 0.0);
}

TEST(SiteScore, RegionsAreTheMeanOfTheirSites) {
  const ClusterState s = World();
  double lat = 0, lon = 0;
  ASSERT_TRUE(s.PlaceCoordinates("us", &lat, &lon));
  EXPECT_NEAR(lat, (39.04 + 32.78) / 2, 1e-9);
  EXPECT_NEAR(lon, (-77.49 - 96.80) / 2, 1e-9);
  EXPECT_FALSE(s.PlaceCoordinates("mars", &lat, &lon));
}

// A region across the antimeridian is centred on it, not on the far side
// of the world; one across the prime meridian stays the plain mean.
TEST(SiteScore, ARegionAcrossTheAntimeridianIsCentredOnIt) {
  const ClusterState s({Site("fiji", "pacific", -18.0, 178.0), Site("samoa", "pacific", -14.0, -172.0),
                        Site("tonga", "pacific", -21.0, -175.0), Site("lisbon", "iberia-uk", 38.7, -9.1),
                        Site("london", "iberia-uk", 51.5, -0.1), Site("paris", "iberia-uk", 48.9, 2.35)});
  double lat = 0, lon = 0;
  ASSERT_TRUE(s.PlaceCoordinates("pacific", &lat, &lon));
  EXPECT_NEAR(lat, (-18.0 - 14.0 - 21.0) / 3, 1e-9);
  EXPECT_NEAR(lon, (178.0 + 188.0 + 185.0) / 3 - 360, 1e-9);  // -176.33: between them
  ASSERT_TRUE(s.PlaceCoordinates("iberia-uk", &lat, &lon));
  EXPECT_NEAR(lon, (-9.1 - 0.1 + 2.35) / 3, 1e-9);
}

TEST(SiteScore, ASiteWithoutCoordinatesIsNoDistanceAwayAndFailsMaxRtt) {
  SiteSpec unknown = Site("lab", "us", 0, 0);
  unknown.located = false;
  const ClusterState s({Site("tokyo", "jp", 35.68, 139.69), Site("ashburn", "us", 39.04, -77.49), unknown});
  double lat = 0, lon = 0;
  ASSERT_TRUE(s.PlaceCoordinates("us", &lat, &lon));  // the region's centre: its located sites only
  EXPECT_NEAR(lat, 39.04, 1e-9);
  EXPECT_FALSE(s.PlaceCoordinates("lab", &lat, &lon));
  JobRequest r = NearTokyo(s, Duration::Seconds(1));
  EXPECT_EQ(RoundTripMs(s.site(SiteId(2)), r), 0.0);           // no preference when scoring
  EXPECT_FALSE(PoolAllows(s, s.site(SiteId(2)).pools[0], r));  // but a hard limit cannot hold
  EXPECT_TRUE(PoolAllows(s, s.site(SiteId(1)).pools[0], r));
}

TEST(SiteScore, LatencyAndQueueTermsAddToTheScore) {
  Candidate near, far, queued;
  near.runtime_s = far.runtime_s = queued.runtime_s = 3600;
  near.co2_g = far.co2_g = queued.co2_g = 100;
  near.cost_usd = far.cost_usd = queued.cost_usd = 1;
  far.rtt_ms = 150;
  queued.queue = 0.5;
  Candidate all[] = {near, far, queued};
  SchedulerSpec spec;
  spec.weight_queue = 2;
  ScoreCandidates(all, spec);
  EXPECT_NEAR(all[1].score - all[0].score, 1.5, 1e-9);  // 150 ms at the default 100 ms scale
  EXPECT_NEAR(all[2].score - all[0].score, 1.0, 1e-9);  // half the pool queued, weight 2
}

TEST(SiteScore, UsersPullJobsCloseUnlessTheGridSaysOtherwise) {
  ClusterState s = World();
  for (uint16_t i = 0; i < 3; ++i) Grid(s, i, 300);
  Queue q;
  q.Push(NearTokyo(s));
  StargatePolicy policy({});
  auto site_of = [&](const Decisions& d) { return std::get<Start>(d.items.at(0)).site; };
  EXPECT_EQ(site_of(policy.Schedule(s, q, Time::Epoch())), SiteId(0));
  // A much cleaner grid across the Pacific outweighs ~160 ms...
  Grid(s, 1, 20);
  EXPECT_EQ(site_of(policy.Schedule(s, q, Time::Epoch())), SiteId(1));
  // ...unless the job's round-trip limit rules it out.
  Queue limited;
  limited.Push(NearTokyo(s, Duration::Millis(50)));
  EXPECT_EQ(site_of(policy.Schedule(s, limited, Time::Epoch())), SiteId(0));
}

TEST(SiteScore, MaxRttIsAHardFilterForEveryPolicy) {
  ClusterState s = World();
  s.Allocate(NodeId(0), 8);  // Tokyo full
  s.Allocate(NodeId(1), 8);
  Queue q;
  q.Push(NearTokyo(s, Duration::Millis(50)));
  EXPECT_FALSE(PoolAllows(s, PoolId(1), NearTokyo(s, Duration::Millis(50))));
  EXPECT_TRUE(PoolAllows(s, PoolId(1), NearTokyo(s)));
  FifoFirstFit fifo;
  EXPECT_TRUE(fifo.Schedule(s, q, Time::Epoch()).empty());  // waits for Tokyo
  StargatePolicy policy({});
  for (const Decision& d : policy.Schedule(s, q, Time::Epoch()).items) {
    EXPECT_FALSE(std::holds_alternative<Start>(d)) << "started beyond its max_rtt";
  }
}

// Data gravity: a site without the job's input is charged the time to
// bring it over the WAN, so the job goes where its data is unless that site
// is much worse; when it cannot, the reason says what moves.
TEST(SiteScore, InputDataPullsTheJobToWhereItIs) {
  ClusterState s = World();
  for (uint16_t i = 0; i < 3; ++i) Grid(s, i, 300);
  s.SetWanLink(SiteId(1), SiteId(2), 1e9);  // ashburn-dallas: 8 Gb/s
  s.SetWanLink(SiteId(0), SiteId(2), 1e8);  // tokyo-dallas: 0.8 Gb/s
  JobRequest req;
  req.id = JobId(1);
  req.accelerators = 8;
  req.estimate = Duration::Hours(1);
  req.data = {DataNeed{"corpus", 2e12, {SiteId(2)}}};  // 2 TB at dallas
  EXPECT_DOUBLE_EQ(MoveSeconds(s, SiteId(2), req), 0);
  // Over the link, after its latency (fibre over the distance: tens of ms).
  EXPECT_DOUBLE_EQ(MoveSeconds(s, SiteId(1), req), s.WanLatency(SiteId(2), SiteId(1)) + 2000);
  EXPECT_DOUBLE_EQ(MoveSeconds(s, SiteId(0), req), s.WanLatency(SiteId(2), SiteId(0)) + 20000);
  EXPECT_GT(s.WanLatency(SiteId(2), SiteId(0)), s.WanLatency(SiteId(2), SiteId(1)));  // Tokyo is farther
  EXPECT_LT(s.WanLatency(SiteId(2), SiteId(0)), 0.2);
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(SiteId(0), SiteId(1)), ClusterState::kDefaultWan);  // no link, no uplinks
  EXPECT_EQ(MoveReason(s, SiteId(1), req), "; data corpus at dallas, 2.0 TB, 0.6 h to move");
  EXPECT_EQ(MoveReason(s, SiteId(2), req), "");
  StargatePolicy policy({});
  Queue q;
  q.Push(req);
  const Start start = std::get<Start>(policy.Schedule(s, q, Time::Epoch()).items.at(0));
  EXPECT_EQ(start.site, SiteId(2));
  // Dallas full: Ashburn, the best connected, with the move in its reason.
  s.Allocate(NodeId(4), 8);
  s.Allocate(NodeId(5), 8);
  const Start moved = std::get<Start>(policy.Schedule(s, q, Time::Epoch()).items.at(0));
  EXPECT_EQ(moved.site, SiteId(1));
  EXPECT_NE(moved.reason.find("; data corpus at dallas, 2.0 TB, 0.6 h to move"), std::string::npos) << moved.reason;
}

// A resuming job's newest checkpoint weighs as its data does, and a site
// that must stage it says so (in minutes when under an hour).
TEST(SiteScore, AResumingJobsCheckpointIsStagedTimeInTheScore) {
  ClusterState s = World();
  for (uint16_t i = 0; i < 3; ++i) Grid(s, i, 300);
  s.SetWanLink(SiteId(1), SiteId(2), 1e9);
  JobRequest req;
  req.accelerators = 8;
  req.estimate = Duration::Hours(1);
  req.data = {DataNeed{"checkpoint step 120", 8e10, {SiteId(2)}, /*checkpoint=*/true}};  // 80 GB at dallas
  EXPECT_DOUBLE_EQ(MoveSeconds(s, SiteId(1), req), s.WanLatency(SiteId(2), SiteId(1)) + 80);
  EXPECT_EQ(MoveReason(s, SiteId(1), req), "; checkpoint at dallas, 80 GB, 1 min to stage");
  req.data[0].bytes = 8e12;
  EXPECT_EQ(MoveReason(s, SiteId(1), req), "; checkpoint at dallas, 8.0 TB, 2.2 h to stage");
  StargatePolicy policy({});
  Queue q;
  q.Push(req);
  EXPECT_EQ(std::get<Start>(policy.Schedule(s, q, Time::Epoch()).items.at(0)).site, SiteId(2));
}

}  // namespace
}  // namespace stargate::sched
