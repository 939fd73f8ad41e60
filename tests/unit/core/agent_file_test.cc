#include "core/agent_file.h"

#include <gtest/gtest.h>

namespace stargate {
namespace {

TEST(AgentFile, ReadsWhatItGivesAndLeavesTheRestUnset) {
  const AgentFile a = ParseAgentFile(
                          "server: 10.0.0.1:8471\nsite: abilene\naccelerators: H100:8\n"
                          "stop_grace: 30s\ncheckpoint_root: /mnt/abilene/ckpt\n",
                          "agent.yaml")
                          .value();
  EXPECT_EQ(a.server, "10.0.0.1:8471");
  EXPECT_EQ(a.checkpoint_root, "/mnt/abilene/ckpt");
  EXPECT_EQ(a.site, "abilene");
  EXPECT_EQ(a.accelerators, "H100:8");
  EXPECT_EQ(a.stop_grace, Duration::Seconds(30));
  EXPECT_FALSE(a.name.has_value());
  EXPECT_FALSE(a.work_dir.has_value());
  EXPECT_FALSE(ParseAgentFile("", "agent.yaml").ok());  // not a map
  EXPECT_FALSE(a.slurm.has_value());
}

TEST(AgentFile, TlsFilesAndASlurmSite) {
  const AgentFile a = ParseAgentFile(
                          "tls_cert: n.crt\ntls_key: n.key\ntls_ca: ca.crt\n"
                          "slurm: {partition: gpu, nodes: [g1, g2], fence: 20s}\n",
                          "agent.yaml")
                          .value();
  EXPECT_EQ(a.tls_cert, "n.crt");
  EXPECT_EQ(a.tls_ca, "ca.crt");
  ASSERT_TRUE(a.slurm.has_value());
  EXPECT_EQ(a.slurm->partition, "gpu");
  EXPECT_EQ(a.slurm->nodes, (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(a.slurm->fence, Duration::Seconds(20));
  EXPECT_TRUE(ParseAgentFile("slurm: {}\n", "agent.yaml").value().slurm.has_value());
  auto error = [](const std::string& text) { return std::string(ParseAgentFile(text, "a.yaml").status().message()); };
  EXPECT_NE(error("slurm: {partion: gpu}\n").find("unknown key 'partion'"), std::string::npos);
  EXPECT_NE(error("slurm: yes\n").find("a.yaml:1:8"), std::string::npos) << error("slurm: yes\n");
}

TEST(AgentFile, ErrorsNameFileLineAndField) {
  auto error = [](const std::string& text) { return std::string(ParseAgentFile(text, "a.yaml").status().message()); };
  EXPECT_EQ(error("site: x\nsight: y\n").substr(0, 32), "a.yaml:2:1: unknown key 'sight' ");
  EXPECT_EQ(error("site: ''\n"), "a.yaml:1:7: site: must not be empty");
  EXPECT_EQ(error("site: [a, b]\n").substr(0, 13), "a.yaml:1:7: s");
  EXPECT_NE(error("stop_grace: 2h\n").find("a.yaml:1:13: stop_grace:"), std::string::npos) << error("stop_grace: 2h\n");
}

}  // namespace
}  // namespace stargate
