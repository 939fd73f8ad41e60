#include "core/serve_file.h"

#include <gtest/gtest.h>

#include "core/job_file_parser.h"

namespace stargate {
namespace {

constexpr char kFile[] =
    "name: digits\n"
    "resources: {accelerators: CPU:1}\n"
    "env: {MODEL: small}\n"
    "run: python3 serve.py --port $PORT\n"
    "serve:\n"
    "  replicas: {min: 2, max: 5}\n"
    "  regions: [us-east, eu-west]\n"
    "  port: 9000\n"
    "  health: {path: /healthz, interval: 2s, timeout: 500ms, failures: 2, replace_after: 20s}\n"
    "  autoscale: {target_inflight: 8, up_after: 3s, down_after: 30s}\n"
    "  max_rtt: 40ms\n";

TEST(ServeFile, ReadsTheServeBlockAndTheJob) {
  const ServeFile f = ParseServeFile(kFile, "svc.yaml").value();
  EXPECT_EQ(f.job.spec.name, "digits");
  EXPECT_EQ(f.job.run, "python3 serve.py --port $PORT");
  EXPECT_EQ(f.serve.min_replicas, 2);
  EXPECT_EQ(f.serve.max_replicas, 5);
  EXPECT_EQ(f.serve.regions, (std::vector<std::string>{"us-east", "eu-west"}));
  EXPECT_EQ(f.serve.port, 9000);
  EXPECT_EQ(f.serve.health_path, "/healthz");
  EXPECT_EQ(f.serve.health_interval, Duration::Seconds(2));
  EXPECT_EQ(f.serve.health_timeout, Duration::Millis(500));
  EXPECT_EQ(f.serve.health_failures, 2);
  EXPECT_EQ(f.serve.replace_after, Duration::Seconds(20));
  EXPECT_DOUBLE_EQ(f.serve.target_inflight, 8);
  EXPECT_EQ(f.serve.scale_up_after, Duration::Seconds(3));
  EXPECT_EQ(f.serve.scale_down_after, Duration::Seconds(30));
  EXPECT_EQ(f.serve.max_rtt, Duration::Millis(40));
}

TEST(ServeFile, DefaultsAndShortForms) {
  const ServeFile f = ParseServeFile("name: s\nrun: x\nserve: {replicas: 3, health: /ok}\n", "s.yaml").value();
  EXPECT_EQ(f.serve.min_replicas, 3);
  EXPECT_EQ(f.serve.max_replicas, 3);
  EXPECT_EQ(f.serve.health_path, "/ok");
  EXPECT_EQ(f.serve.port, 8600);
  EXPECT_TRUE(f.serve.regions.empty());
}

TEST(ServeFile, ErrorsNameFileLineAndField) {
  auto error = [](const std::string& text) {
    const auto f = ParseServeFile(text, "s.yaml");
    return f.ok() ? std::string("ok") : std::string(f.status().message());
  };
  EXPECT_NE(error("name: s\nrun: x\n").find("serve: required"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve:\n  replicas: {min: 3, max: 2}\n").find("s.yaml:4:"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve:\n  replicas: {min: 3, max: 2}\n").find("must be at least min"),
            std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve: {replicas: 0}\n").find("serve.replicas"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve: {health: health}\n").find("must start with '/'"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve: {replicaz: 2}\n").find("unknown key 'replicaz'"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve: {port: 80}\n").find("serve.port"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve: {max_rtt: 10ms}\n").find("a round trip from where"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nresources: {nodes: 2}\nserve: {}\n").find("resources.nodes: a replica is one node"),
            std::string::npos);
  EXPECT_NE(error("name: " + std::string(101, 'n') + "\nrun: x\nserve: {}\n").find("at most 100 characters"),
            std::string::npos);
  EXPECT_NE(error("name: s\nrn: x\nserve: {}\n").find("unknown key 'rn'"), std::string::npos);
  EXPECT_NE(error("name: s\nrun: x\nserve: [1]\n").find("expected a map"), std::string::npos);
}

TEST(ServeFile, ReplicaJobFilesParseAsJobsWithTheirPortAndRegion) {
  const ServeFile f = ParseServeFile(kFile, "svc.yaml").value();
  const std::string text = ReplicaJobText(f, 7, "eu-west", 9007).value();
  const JobFile job = ParseJobFile(text, "replica.yaml").value();
  EXPECT_EQ(job.spec.name, "digits-r7");
  EXPECT_EQ(job.spec.kind, JobKind::kInference);
  EXPECT_EQ(job.spec.near, "eu-west");
  EXPECT_EQ(job.spec.max_rtt, Duration::Millis(40));
  EXPECT_EQ(job.env.at("PORT"), "9007");
  EXPECT_EQ(job.env.at("STARGATE_SERVE_PORT"), "9007");
  EXPECT_EQ(job.env.at("STARGATE_REPLICA"), "digits-r7");
  EXPECT_EQ(job.env.at("MODEL"), "small");  // the user's own environment stays
  EXPECT_EQ(job.run, f.job.run);
  // No region: no placement added.
  const JobFile anywhere = ParseJobFile(ReplicaJobText(f, 0, "", 9000).value(), "r.yaml").value();
  EXPECT_TRUE(anywhere.spec.near.empty());
}

TEST(ServeFile, ReplicasKnowWhereServeRan) {
  ServeFile f = ParseServeFile(kFile, "svc.yaml").value();
  EXPECT_EQ(ParseJobFile(ReplicaJobText(f, 0, "", 9000).value(), "r.yaml").value().env.count("STARGATE_SUBMIT_DIR"),
            0u);
  f.submit_dir = "/home/ana/models";
  EXPECT_EQ(ParseJobFile(ReplicaJobText(f, 0, "", 9000).value(), "r.yaml").value().env.at("STARGATE_SUBMIT_DIR"),
            "/home/ana/models");
  // The file's own value wins.
  ServeFile own =
      ParseServeFile("name: s\nrun: x\nenv: {STARGATE_SUBMIT_DIR: /srv/app}\nserve: {}\n", "svc.yaml").value();
  own.submit_dir = "/home/ana";
  EXPECT_EQ(ParseJobFile(ReplicaJobText(own, 0, "", 9000).value(), "r.yaml").value().env.at("STARGATE_SUBMIT_DIR"),
            "/srv/app");
}

TEST(ServeFile, ReplicaNamesRoundTrip) {
  EXPECT_EQ(ReplicaJobName("digits", 12), "digits-r12");
  EXPECT_EQ(ReplicaNumber("digits", "digits-r12"), 12);
  EXPECT_EQ(ReplicaNumber("digits", "digits-r0"), 0);
  EXPECT_EQ(ReplicaNumber("digits", "digits-r"), -1);
  EXPECT_EQ(ReplicaNumber("digits", "digits-r01"), -1);
  EXPECT_EQ(ReplicaNumber("digits", "digits-rx"), -1);
  EXPECT_EQ(ReplicaNumber("digits", "other-r1"), -1);
  EXPECT_EQ(ReplicaNumber("digits", "digits-r1-r2"), -1);
}

}  // namespace
}  // namespace stargate
