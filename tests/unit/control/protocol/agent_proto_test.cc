// The agent API's messages as plain values and back: every field survives
// the round trip, and a registration the server cannot use is refused
// with the reason.
#include "control/protocol/agent_proto.h"

#include <gtest/gtest.h>

namespace stargate::control {
namespace {

TEST(AgentProto, RegistrationsRoundTripAndBadOnesAreRefused) {
  Registration r;
  r.node.name = "n1";
  r.node.site = "abilene";
  r.node.region = "us-central";
  r.node.jurisdiction = "US";
  r.node.address = "10.0.0.7";
  r.node.accelerator = AcceleratorType::kH100;
  r.node.accelerators = 8;
  r.node.cpus = 96;
  r.node.memory_bytes = int64_t{2} << 40;
  r.node.log_port = 4242;
  r.node.log_address = "10.0.0.1";
  r.node.log_token = "secret";
  r.node.checkpoint_root = "/mnt/abilene/ckpt";
  r.agent_id = "a1b2";
  const Registration back = FromProto(ToProto(r)).value();
  EXPECT_EQ(back.node.checkpoint_root, "/mnt/abilene/ckpt");
  EXPECT_EQ(back.node.name, "n1");
  EXPECT_EQ(back.node.site, "abilene");
  EXPECT_EQ(back.node.region, "us-central");
  EXPECT_EQ(back.node.jurisdiction, "US");
  EXPECT_EQ(back.node.address, "10.0.0.7");
  EXPECT_EQ(back.node.accelerator, AcceleratorType::kH100);
  EXPECT_EQ(back.node.accelerators, 8);
  EXPECT_EQ(back.node.cpus, 96);
  EXPECT_EQ(back.node.memory_bytes, int64_t{2} << 40);
  EXPECT_EQ(back.node.log_port, 4242);
  EXPECT_EQ(back.node.log_address, "10.0.0.1");
  EXPECT_EQ(back.node.log_token, "secret");
  EXPECT_EQ(back.agent_id, "a1b2");

  pb::RegisterRequest bad = ToProto(r);
  bad.set_accelerators(65);
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ToProto(r);
  bad.set_node_name("");
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = ToProto(r);
  bad.set_accelerator("Z9000");
  EXPECT_EQ(FromProto(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AgentProto, HeartbeatsAndRepliesRoundTrip) {
  AgentHeartbeat h;
  h.node = "n1";
  h.telemetry.agent_id = "a1";
  h.telemetry.cpu_utilisation = 0.25;
  h.telemetry.memory_used_bytes = 12345;
  h.telemetry.gpu_utilisation = 0.5;
  h.telemetry.gpu_power_w = 700;
  h.tasks = {TaskReport{{7, 2}, true, 0, 0}, TaskReport{{8, 1}, false, 3, 0}, TaskReport{{9, 1}, false, 0, 15}};
  h.wait = Duration::Millis(1000);
  h.leaving = true;
  h.holding = {{8, 1}};
  const AgentHeartbeat back = FromProto(ToProto(h));
  EXPECT_EQ(back.node, "n1");
  EXPECT_EQ(back.telemetry.agent_id, "a1");
  EXPECT_EQ(back.telemetry.cpu_utilisation, 0.25);
  EXPECT_EQ(back.telemetry.memory_used_bytes, 12345);
  EXPECT_EQ(back.telemetry.gpu_utilisation, 0.5);
  EXPECT_EQ(back.telemetry.gpu_power_w, 700);
  ASSERT_EQ(back.tasks.size(), 3u);
  EXPECT_EQ(back.tasks[1].task, (TaskRef{8, 1}));
  EXPECT_FALSE(back.tasks[1].running);
  EXPECT_EQ(back.tasks[1].exit_code, 3);
  EXPECT_EQ(back.tasks[2].signal, 15);
  EXPECT_EQ(back.wait, Duration::Millis(1000));
  EXPECT_TRUE(back.leaving);
  EXPECT_EQ(back.holding, (std::vector<TaskRef>{{8, 1}}));

  HeartbeatResult r;
  r.run = {TaskLaunch{{7, 3}, "python3 train.py", {{"RANK", "1"}, {"WORLD_SIZE", "2"}}}};
  r.stop = {{8, 1}};
  r.forget = {{9, 1}, {10, 2}};
  r.register_again = true;
  r.next_beat = Duration::Millis(1500);
  r.fall = {{{8, 1}, Duration::Millis(4000)}, {{11, 1}, Duration::Zero()}};
  const HeartbeatResult rb = FromProto(ToProto(r));
  ASSERT_EQ(rb.run.size(), 1u);
  EXPECT_EQ(rb.run[0].task, (TaskRef{7, 3}));
  EXPECT_EQ(rb.run[0].command, "python3 train.py");
  EXPECT_EQ(rb.run[0].env, (std::map<std::string, std::string>{{"RANK", "1"}, {"WORLD_SIZE", "2"}}));
  EXPECT_EQ(rb.stop, (std::vector<TaskRef>{{8, 1}}));
  EXPECT_EQ(rb.forget, (std::vector<TaskRef>{{9, 1}, {10, 2}}));
  EXPECT_TRUE(rb.register_again);
  EXPECT_EQ(rb.next_beat, Duration::Millis(1500));
  pb::HeartbeatReply far;
  far.set_next_beat_ms(int64_t{1} << 40);  // a server's word, within reason
  EXPECT_EQ(FromProto(far).next_beat, Duration::Seconds(60));
  EXPECT_EQ(rb.fall, r.fall);
  // A fall's turn more than an hour off, or before now, is at once.
  pb::FallTurn* bad = far.add_fall();
  bad->mutable_task()->set_job_id(3);
  bad->set_in_ms(int64_t{1} << 40);
  far.add_fall()->set_in_ms(-5);
  EXPECT_EQ(FromProto(far).fall, (std::map<TaskRef, Duration>{{{3, 0}, Duration::Zero()}, {{0, 0}, Duration::Zero()}}));
  EXPECT_EQ(TaskLogName({7, 3}), "job-7-attempt-3.log");
}

// What the agent that speaks for a site's store says and hears (issue 22).
TEST(AgentProto, CheckpointListsAndReportsRoundTrip) {
  AgentHeartbeat h;
  h.held = {{7, 150, 53211}};
  h.copies = {{7, 150, CheckpointCopyReport::State::kCopying, 1000, 53211, ""},
              {8, 40, CheckpointCopyReport::State::kRefused, 0, 0, "outside [EU]"}};
  const AgentHeartbeat back = FromProto(ToProto(h));
  EXPECT_EQ(back.held, h.held);
  EXPECT_EQ(back.copies, h.copies);
  // A state this server does not know, or a negative step, is dropped.
  pb::HeartbeatRequest odd = ToProto(h);
  odd.mutable_copies(0)->set_state(9);
  odd.mutable_held(0)->set_step(-1);
  EXPECT_EQ(FromProto(odd).copies.size(), 1u);
  EXPECT_TRUE(FromProto(odd).held.empty());

  HeartbeatResult r;
  r.watch = {{7, "/ckpt/a/ml/7"}};
  r.pull = {{7,
             150,
             "/ckpt/b/ml/7",
             "http://10.0.0.1:9000",
             "/ckpt/a/ml/7/step-000000000150",
             "ticket",
             2'000'000,
             3,
             {"EU", "UK"}}};
  const HeartbeatResult rb = FromProto(ToProto(r));
  EXPECT_EQ(rb.watch, r.watch);
  EXPECT_EQ(rb.pull, r.pull);
  EXPECT_EQ(CheckpointDirName(150), "step-000000000150");
  EXPECT_EQ(StepOfDirName("step-000000000150"), 150);
  EXPECT_FALSE(StepOfDirName("step-150").has_value());
  NodeInfo n;
  n.name = "a1";
  n.site = "s";
  n.address = "10.0.0.1";
  n.checkpoint_root = "/ckpt/a";
  n.moves_checkpoints = true;
  EXPECT_TRUE(FromProto(ToProto(Registration{n, "x", "", ""})).value().node.moves_checkpoints);
  n.checkpoint_root = "";  // nothing to move without a store
  EXPECT_FALSE(FromProto(ToProto(Registration{n, "x", "", ""})).value().node.moves_checkpoints);
}

// A node's checkpoint root becomes the prefix of its tasks' checkpoint
// dirs: only an absolute path in normal form gets in.
TEST(AgentProto, OnlyANormalAbsoluteCheckpointRootIsTaken) {
  for (const char* good : {"", "/mnt/ckpt", "/a", "/srv/site b/ckpt"}) {
    EXPECT_TRUE(CheckCheckpointRoot(good).ok()) << good;
  }
  for (const char* bad : {"/", "relative/ckpt", "/mnt/../etc", "/mnt/./ckpt", "/mnt//ckpt", "/mnt/ckpt/", "/mnt/\nx"}) {
    EXPECT_EQ(CheckCheckpointRoot(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(CheckCheckpointRoot("/" + std::string(1024, 'x')).ok());
  Registration r;
  r.node.name = "n1";
  r.node.site = "s";
  r.node.address = "10.0.0.1";
  r.node.accelerators = 1;
  r.node.checkpoint_root = "/mnt/../etc";
  const Status st = FromProto(ToProto(r)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("checkpoint_root"), std::string::npos);
}

}  // namespace
}  // namespace stargate::control
