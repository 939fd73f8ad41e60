// The one conversion from a job spec to the scheduler's request, as both
// drivers use it: what the spec says, resolved against the cluster's
// names, and what only the driver knows, from the context.
#include "sched/request_of.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/job_file_parser.h"
#include "sched/placement.h"

namespace stargate::sched {
namespace {

ClusterState ThreeSites() {
  auto site = [](const char* name, const char* region, const char* jurisdiction, double lat, double lon) {
    SiteSpec s;
    s.name = name;
    s.region = region;
    s.jurisdiction = jurisdiction;
    s.located = true;
    s.latitude = lat;
    s.longitude = lon;
    PoolSpec p;
    p.type = AcceleratorType::kH100;
    p.nodes = 4;
    p.accels_per_node = 8;
    s.pools.push_back(p);
    return s;
  };
  SiteSpec unlocated = site("dark", "eu-north", "NO", 0, 0);
  unlocated.located = false;
  return ClusterState({site("paris", "eu-west", "EU", 48.86, 2.35), site("dublin", "eu-west", "EU", 53.35, -6.26),
                       site("abilene", "us-central", "US", 32.45, -99.73), unlocated});
}

TEST(RequestOf, WhatTheSpecSaysIsResolvedAgainstTheCluster) {
  const ClusterState state = ThreeSites();
  JobSpec s;
  s.accelerators = {AcceleratorType::kH100, AcceleratorType::kA100};
  s.accelerator_count = 16;
  s.per_node = 8;
  s.spread_sites = true;
  s.jurisdictions = {"EU"};
  s.regions = {"eu-west"};
  s.near = "paris";
  s.max_rtt = Duration::Millis(20);
  s.priority = 5;
  s.submit = Time::FromMillis(1000);
  s.deferrable = true;
  s.deadline = Time::FromMillis(9000);
  JobContext c;
  c.id = JobId(7);
  c.tenant = TenantId(3);
  c.estimate = Duration::Hours(2);
  c.resumed = true;
  c.queued_at = Time::FromMillis(5000);
  c.utilisation = 0.6;
  const JobRequest r = RequestOf(s, state, c);
  EXPECT_EQ(r.id, JobId(7));
  EXPECT_EQ(r.tenant, TenantId(3));
  EXPECT_EQ(r.accelerators, 16);
  EXPECT_EQ(r.fixed_per_node, 8);
  EXPECT_TRUE(r.spread_sites);
  EXPECT_EQ(r.accel_mask, MaskOf(AcceleratorType::kH100) | MaskOf(AcceleratorType::kA100));
  // In the EU and in eu-west: paris and dublin.
  ASSERT_NE(r.allowed, nullptr);
  EXPECT_EQ(r.allowed->Count(), 2u);
  EXPECT_TRUE(r.allowed->Has(SiteId(0)) && r.allowed->Has(SiteId(1)));
  EXPECT_FALSE(r.residency_unmet);
  EXPECT_TRUE(r.has_users);
  EXPECT_FLOAT_EQ(r.users_latitude, 48.86f);
  EXPECT_EQ(r.max_rtt, Duration::Millis(20));
  EXPECT_EQ(r.priority, 5);
  EXPECT_EQ(r.submit, Time::FromMillis(1000));
  EXPECT_TRUE(r.deferrable);
  EXPECT_EQ(r.deadline, Time::FromMillis(9000));
  EXPECT_EQ(r.estimate, Duration::Hours(2));
  EXPECT_EQ(r.reference, AcceleratorType::kH100);
  EXPECT_TRUE(r.resumed);
  EXPECT_EQ(r.queued_at, Time::FromMillis(5000));
  EXPECT_DOUBLE_EQ(r.utilisation, 0.6);
  EXPECT_EQ(r.training, nullptr);  // not a training job
  EXPECT_FALSE(r.is_repair());
}

TEST(RequestOf, NothingFitsWhenTheSpecNamesWhatTheClusterLacks) {
  const ClusterState state = ThreeSites();
  JobSpec s;
  s.regions = {"mars"};
  EXPECT_EQ(RequestOf(s, state, {}).accel_mask, 0);  // no site in that region (yet)
  JobSpec near;
  near.near = "dark";  // known, but where it is is not
  EXPECT_FALSE(RequestOf(near, state, {}).has_users);
  EXPECT_EQ(RequestOf(near, state, {}).accel_mask, kAnyGpu);  // no limit: anywhere
  near.max_rtt = Duration::Millis(10);
  EXPECT_EQ(RequestOf(near, state, {}).accel_mask, 0);  // a hard limit from nowhere known
  JobSpec region;
  region.near = "eu-west";  // a region: the mean of its sites
  const JobRequest r = RequestOf(region, state, {});
  EXPECT_TRUE(r.has_users);
  EXPECT_NEAR(r.users_latitude, (48.86 + 53.35) / 2, 1e-4);
}

// Residency that no site meets is rejected as residency, naming where the
// sites are; a region with no site is rejected as "nothing offers it".
TEST(RequestOf, ResidencyNoSiteMeetsIsSaidSo) {
  const ClusterState state = ThreeSites();
  JobSpec s;
  s.jurisdictions = {"CN"};
  const JobRequest r = RequestOf(s, state, {});
  EXPECT_TRUE(r.residency_unmet);
  ASSERT_NE(r.allowed, nullptr);
  EXPECT_TRUE(r.allowed->empty());
  const std::optional<Reject> never = NeverFits(state, r);
  ASSERT_TRUE(never.has_value());
  EXPECT_NE(never->reason.find("data residency: no site is in a jurisdiction the job allows (sites are in: "),
            std::string::npos)
      << never->reason;
  // A jurisdiction that has sites, in a region that has none of them.
  JobSpec both;
  both.jurisdictions = {"EU"};
  both.regions = {"us-central"};
  const JobRequest b = RequestOf(both, state, {});
  EXPECT_FALSE(b.residency_unmet);
  EXPECT_TRUE(b.allowed->empty());
  EXPECT_EQ(b.accel_mask, 0);
}

// A rejection names at most 20 jurisdictions of a network of many.
TEST(RequestOf, AResidencyRejectionNamesTwentyJurisdictions) {
  std::vector<SiteSpec> sites;
  for (int i = 0; i < 30; ++i) {
    SiteSpec site;
    site.name = "s" + std::to_string(i);
    site.jurisdiction = "J" + std::to_string(i);
    site.pools.push_back(PoolSpec{AcceleratorType::kH100, 1, 8, 1, 1});
    sites.push_back(site);
  }
  const ClusterState state(sites);
  JobSpec s;
  s.jurisdictions = {"CN"};
  const std::optional<Reject> never = NeverFits(state, RequestOf(s, state, {}));
  ASSERT_TRUE(never.has_value());
  EXPECT_NE(never->reason.find("J19 and 10 more)"), std::string::npos) << never->reason;
  EXPECT_EQ(never->reason.find("J20"), std::string::npos) << never->reason;
}

TEST(RequestOf, TrainingJobsArePricedByTheStepModelOnlyWithAModelSize) {
  const ClusterState state = ThreeSites();
  JobSpec s;
  s.kind = JobKind::kTraining;
  s.training.params = 0;  // a job file: no model size given
  EXPECT_EQ(RequestOf(s, state, {}).training, nullptr);
  s.training.params = 70e9;
  EXPECT_EQ(RequestOf(s, state, {}).training, &s.training);
}

// A job file gets the same request the twin's job would: the submit time
// and a deferrable job's deadline are set when the server takes it.
TEST(RequestOf, AJobFileAsTheServerSubmitsIt) {
  const ClusterState state = ThreeSites();
  JobFile f = ParseJobFile(
                  "name: j\nresources: {accelerators: H100:4, nodes: 2}\n"
                  "placement: {regions: [us-central]}\nestimate: 1h\ndeferrable: {deadline: 12h}\nrun: x\n",
                  "j.yaml")
                  .value();
  SetSubmitted(f, Time::FromMillis(1'000'000));
  const JobRequest r = RequestOf(f.spec, state, JobContext{.estimate = f.estimate});
  EXPECT_EQ(r.accelerators, 8);
  EXPECT_EQ(r.fixed_per_node, 4);
  ASSERT_NE(r.allowed, nullptr);
  EXPECT_EQ(r.allowed->Count(), 1u);
  EXPECT_TRUE(r.allowed->Has(SiteId(2)));
  EXPECT_EQ(r.submit, Time::FromMillis(1'000'000));
  EXPECT_TRUE(r.deferrable);
  EXPECT_EQ(r.deadline, Time::FromMillis(1'000'000) + Duration::Hours(12));
  EXPECT_EQ(r.estimate, Duration::Hours(1));
}

}  // namespace
}  // namespace stargate::sched
