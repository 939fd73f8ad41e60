// Job files: the full format, defaults, and errors that name the file,
// line, column and field.
#include "core/job_file_parser.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace stargate {
namespace {

JobFile ParseOk(const std::string& text) {
  auto j = ParseJobFile(text, "job.yaml");
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *j : JobFile{};
}

void ExpectError(const std::string& text, const std::string& message) {
  auto j = ParseJobFile(text, "job.yaml");
  ASSERT_FALSE(j.ok()) << "parsed: " << text;
  EXPECT_EQ(j.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(j.status().message()), message);
}

TEST(JobFile, FullFormat) {
  const JobFile j = ParseOk(R"(name: digits-ddp
tenant: ml-team
kind: training
resources:
  accelerators: [H100:8, H200:8]
  nodes: 2
  memory: 64GiB
  cpus: 6
placement: {jurisdictions: [EU], regions: [eu-west], near: eu-west, max_rtt: 40ms}
priority: 10
estimate: 2h
deferrable: {deadline: 12h}
checkpoint: {dir: ckpt, interval: auto}
run: python3 train.py --epochs 5
env: {OMP_NUM_THREADS: "4", MODE: fast}
)");
  EXPECT_EQ(j.spec.name, "digits-ddp");
  EXPECT_EQ(j.spec.tenant, "ml-team");
  EXPECT_EQ(j.spec.kind, JobKind::kTraining);
  EXPECT_EQ(j.spec.accelerators, (std::vector<AcceleratorType>{AcceleratorType::kH100, AcceleratorType::kH200}));
  EXPECT_EQ(j.nodes, 2);
  EXPECT_EQ(j.spec.per_node, 8);
  EXPECT_EQ(j.spec.accelerator_count, 16);
  EXPECT_EQ(j.spec.jurisdictions, (std::vector<std::string>{"EU"}));
  EXPECT_EQ(j.spec.regions, (std::vector<std::string>{"eu-west"}));
  EXPECT_EQ(j.spec.near, "eu-west");
  EXPECT_EQ(j.spec.max_rtt, Duration::Millis(40));
  EXPECT_EQ(j.spec.priority, 10);
  EXPECT_EQ(j.estimate, Duration::Hours(2));
  EXPECT_TRUE(j.spec.deferrable);
  EXPECT_EQ(j.deadline_after, Duration::Hours(12));
  EXPECT_TRUE(j.spec.checkpoint.enabled);
  EXPECT_TRUE(j.spec.checkpoint.daly);
  EXPECT_EQ(j.checkpoint_dir, "ckpt");
  EXPECT_EQ(j.memory_bytes, int64_t{64} << 30);
  EXPECT_EQ(j.cpus, 6);
  EXPECT_EQ(j.run, "python3 train.py --epochs 5");
  EXPECT_EQ(j.env.at("OMP_NUM_THREADS"), "4");
  EXPECT_EQ(j.env.at("MODE"), "fast");
}

TEST(JobFile, DefaultsMakeACpuBatchJob) {
  const JobFile j = ParseOk("name: hello\nrun: echo hi\n");
  EXPECT_EQ(j.spec.kind, JobKind::kBatch);
  EXPECT_EQ(j.spec.tenant, "default");
  EXPECT_EQ(j.spec.accelerators, (std::vector<AcceleratorType>{AcceleratorType::kCpu}));
  EXPECT_EQ(j.spec.accelerator_count, 1);
  EXPECT_EQ(j.nodes, 1);
  EXPECT_FALSE(j.spec.checkpoint.enabled);
  EXPECT_FALSE(j.spec.deferrable);
  // A bare type takes its usual node size; a fixed interval is kept.
  const JobFile g = ParseOk("name: g\nresources: {accelerators: GB200}\ncheckpoint: {interval: 10m}\nrun: x\n");
  EXPECT_EQ(g.spec.per_node, Spec(AcceleratorType::kGB200).default_per_node);
  EXPECT_EQ(g.spec.checkpoint.interval, Duration::Minutes(10));
  EXPECT_FALSE(g.spec.checkpoint.daly);
  EXPECT_EQ(g.checkpoint_cost, Duration::Seconds(60));
  EXPECT_EQ(g.max_restarts, 0);
  EXPECT_FALSE(g.spec.spread_sites);
  EXPECT_TRUE(ParseOk("name: s\nresources: {nodes: 2}\nplacement: {spread: sites}\nrun: x\n").spec.spread_sites);
  EXPECT_EQ(ParseOk("name: m\nmax_restarts: 3\nrun: x\n").max_restarts, 3);
  EXPECT_EQ(ParseOk("name: c\ncheckpoint: {interval: auto, cost: 45s}\nrun: x\n").checkpoint_cost,
            Duration::Seconds(45));
}

// Checkpoints across sites: replicas, what a copy keeps, how long an
// interrupted job waits for the site that holds its newest checkpoint.
TEST(JobFile, CheckpointReplicasKeepAndSiteWait) {
  const JobFile j = ParseOk("name: r\ncheckpoint: {replicas: {sites: 3}, keep: 4, site_wait: 30m}\nrun: x\n");
  EXPECT_EQ(j.spec.checkpoint.replica_sites, 3);
  EXPECT_EQ(j.checkpoint_keep, 4);
  EXPECT_EQ(j.spec.checkpoint.site_wait, Duration::Minutes(30));
  const JobFile d = ParseOk("name: d\ncheckpoint: {interval: 1h}\nrun: x\n");
  EXPECT_EQ(d.spec.checkpoint.replica_sites, 1);
  EXPECT_EQ(d.checkpoint_keep, 2);
  EXPECT_LT(d.spec.checkpoint.site_wait, Duration::Zero());  // auto: the work at stake
  const JobFile r = ParseOk("name: r\ncheckpoint: {site_wait: auto}\nrun: x\n");
  EXPECT_LT(r.spec.checkpoint.site_wait, Duration::Zero());
  ExpectError("name: x\nrun: y\ncheckpoint: {replicas: {sites: 17}}\n",
              "job.yaml:3:32: checkpoint.replicas.sites: must be in [1, 16] (got 17)");
  ExpectError("name: x\nrun: y\ncheckpoint: {replicas: {site: 2}}\n",
              "job.yaml:3:25: checkpoint.replicas: unknown key 'site' (did you mean 'sites'?)");
  ExpectError("name: x\nrun: y\ncheckpoint: {site_wait: 3}\n",
              "job.yaml:3:25: checkpoint.site_wait: invalid duration '3': a number needs its unit (e.g. 90s, 10m, "
              "1.5h, 54d)");
}

// Inputs: datasets with their size and the sites that hold them.
TEST(JobFile, InputsNameTheirSizeAndSites) {
  const JobFile j = ParseOk("name: r\ninputs:\n  - {name: corpus, size: 2TB, sites: [site-b, site-c]}\nrun: x\n");
  ASSERT_EQ(j.spec.inputs.size(), 1u);
  EXPECT_EQ(j.spec.inputs[0].name, "corpus");
  EXPECT_DOUBLE_EQ(j.spec.inputs[0].bytes, 2e12);
  EXPECT_EQ(j.spec.inputs[0].sites, (std::vector<std::string>{"site-b", "site-c"}));
  ExpectError(
      "name: x\nrun: y\ninputs:\n  - {name: c, size: 2, sites: [b]}\n",
      "job.yaml:4:21: inputs[0].size: invalid size '2': a number needs its unit (B, kB, MB, GB, TB or KiB..EiB)");
  ExpectError("name: x\nrun: y\ninputs:\n  - {name: c, size: 2TB, sites: []}\n",
              "job.yaml:4:33: inputs[0].sites: at least one site that holds it");
}

// A bare name is a dataset registered with the server (`stargate data
// register`): no size and no sites until the server resolves it.
TEST(JobFile, InputsMayNameRegisteredDatasets) {
  const JobFile j = ParseOk("name: r\ninputs: [corpus, {name: logs, size: 1TB, sites: [b]}]\nrun: x\n");
  ASSERT_EQ(j.spec.inputs.size(), 2u);
  EXPECT_EQ(j.spec.inputs[0].name, "corpus");
  EXPECT_TRUE(j.spec.inputs[0].registered());
  EXPECT_EQ(j.spec.inputs[0].bytes, 0);
  EXPECT_FALSE(j.spec.inputs[1].registered());
  ExpectError("name: x\nrun: y\ninputs: [corpus, corpus]\n", "job.yaml:3:18: inputs[1]: a second input with this name");
  ExpectError("name: x\nrun: y\ninputs: ['a/b']\n",
              "job.yaml:3:10: inputs[0]: a dataset name has only letters, digits, '.', '_' and '-', not '/'");
  ExpectError("name: x\nrun: y\ninputs: ['.hidden']\n",
              "job.yaml:3:10: inputs[0]: a dataset name does not start with '.'");
}

TEST(JobFile, AShareOfOneDevice) {
  const JobFile f = ParseOk("name: x\nrun: y\nresources: {accelerators: [H100:0.25, A100:0.25]}\n");
  EXPECT_EQ(f.spec.share_milli, 250);
  EXPECT_EQ(f.spec.per_node, 1);
  EXPECT_EQ(f.spec.accelerator_count, 1);
  EXPECT_EQ(f.spec.accelerators.size(), 2u);
  EXPECT_EQ(ParseOk("name: x\nrun: y\nresources: {accelerators: 'H100:0.5'}\n").spec.share_milli, 500);
  EXPECT_EQ(ParseOk("name: x\nrun: y\nresources: {accelerators: 'H100:0.125'}\n").spec.share_milli, 125);
  EXPECT_EQ(ParseOk("name: x\nrun: y\nresources: {accelerators: H100:8}\n").spec.share_milli, 0);
  for (const char* bad : {"H100:0.0", "H100:0.1234", "H100:1.5", "H100:.5", "H100:0.x"}) {
    auto j = ParseJobFile(fmt::format("name: x\nrun: y\nresources: {{accelerators: '{}'}}\n", bad), "job.yaml");
    ASSERT_FALSE(j.ok()) << bad;
    EXPECT_NE(std::string(j.status().message()).find("a share of one device is a fraction from 0.001 to 0.999"),
              std::string::npos)
        << j.status();
  }
  ExpectError("name: x\nrun: y\nresources: {accelerators: 'CPU:0.5'}\n",
              "job.yaml:3:27: resources.accelerators: 'CPU:0.5': a share is of an accelerator");
  ExpectError("name: x\nrun: y\nresources: {accelerators: [H100:0.5, A100:0.25]}\n",
              "job.yaml:3:38: resources.accelerators[1]: every acceptable type needs the same share of a device");
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"name: x\nrun: y\nkind: training\nresources: {accelerators: 'H100:0.5'}\n", "not training"},
           {"name: x\nrun: y\nresources: {accelerators: 'H100:0.5'}\nplacement: {spread: sites}\n",
            "not one per site"}}) {
    auto j = ParseJobFile(text, "job.yaml");
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_NE(std::string(j.status().message()).find(message), std::string::npos) << j.status();
  }
  ExpectError("name: x\nrun: y\nresources: {accelerators: 'H100:0.5', nodes: 2}\n",
              "job.yaml:3:46: resources.nodes: a share of a device (like H100:0.25) is for a job of one node");
}

TEST(JobFile, ErrorsNameFileLineAndField) {
  ExpectError("name: x\nrun: y\nresource: {nodes: 2}\n",
              "job.yaml:3:1: unknown key 'resource' (did you mean 'resources'?)");
  ExpectError("name: x\nrun: y\nresources:\n  accelerators: H1000:8\n",
              "job.yaml:4:17: resources.accelerators: unknown accelerator 'H1000' (known: CPU, A100, H100, H200, "
              "B200, GB200, MI250X, MI300X)");
  ExpectError("name: x\nrun: y\nresources: {accelerators: 'H100:0'}\n",
              "job.yaml:3:27: resources.accelerators: 'H100:0': the count after ':' must be a whole number in [1, 64]");
  ExpectError(
      "name: x\nrun: y\nresources: {accelerators: [H100:8, A100:4]}\n",
      "job.yaml:3:36: resources.accelerators[1]: every acceptable type needs the same count per node (4 here, 8 "
      "first)");
  ExpectError("name: x\nrun: y\nresources: {nodes: 0}\n",
              "job.yaml:3:20: resources.nodes: must be in [1, 100000] (got 0)");
  ExpectError("name: x\n", "job.yaml:1:1: run: required key is missing");
  ExpectError("run: y\n", "job.yaml:1:1: name: required key is missing");
  ExpectError("name: 'a b'\nrun: y\n", "job.yaml:1:7: name: 1-128 characters of letters, digits, '-', '_' or '.'");
  ExpectError("name: x\nrun: y\nenv: {1X: a}\n",
              "job.yaml:3:11: env.1X: environment names are letters, digits and '_', not starting with a digit");
  ExpectError("name: x\nrun: y\nestimate: 2h\ndeferrable: {deadline: 1h}\n",
              "job.yaml:4:24: deferrable.deadline: must be longer than the estimate (7200 s)");
  ExpectError("name: x\nrun: [a\n", "job.yaml:3:1: YAML syntax error: end of sequence flow not found");
  ExpectError("- a\n- b\n", "job.yaml:1:1: expected a map of job keys (name, resources, run, ...), got a list");
  ExpectError("name: x\nrun: y\nresources: {memory: 512}\n",
              "job.yaml:3:21: resources.memory: give a unit, such as 512GiB or 512MB");
  ExpectError("name: x\nrun: y\nimage: '--privileged'\n",
              "job.yaml:3:8: image: an image name: letters, digits and . / : _ @ -, not starting with '-'");
  ExpectError("name: x\nrun: y\ntenant: a/b\n", "job.yaml:3:9: tenant: 1-32 characters of letters, digits, '-' or '_'");
  ExpectError("name: x\nrun: y\ncheckpoint: {dir: /abs}\n",
              "job.yaml:3:19: checkpoint.dir: a relative path inside the tenant's checkpoint area (no leading '/', no "
              "'..'), under 256 bytes");
}

}  // namespace
}  // namespace stargate
