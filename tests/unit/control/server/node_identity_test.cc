// Who may speak for a node: join tokens and node credentials, certificate
// names, the holder rule, and that refused calls change nothing and are
// audited.
#include "control/server/node_identity.h"

#include <gtest/gtest.h>

#include "control/server/control_plane.h"
#include "control/store/memory_store.h"
#include "runtime/manual_clock.h"

namespace stargate::control {
namespace {

class NodeIdentityTest : public ::testing::Test {
 protected:
  ControlPlane& cp(NodeAuth auth) {
    if (!cp_) {
      ControlPlaneOptions o;
      o.data_dir = "/data";
      o.node_auth = auth;
      cp_ = std::make_unique<ControlPlane>(&store_, &clock_, sched::MakeScheduler("fifo").value(), o);
    }
    return *cp_;
  }
  static Registration Reg(const std::string& node, const std::string& agent, const std::string& token = "",
                          const std::string& credential = "") {
    Registration r;
    r.node.name = node;
    r.node.site = "s";
    r.node.address = "10.0.0.1";
    r.agent_id = agent;
    r.join_token = token;
    r.credential = credential;
    return r;
  }
  static AgentHeartbeat Beat(const std::string& node, const std::string& agent, const std::string& credential) {
    AgentHeartbeat h;
    h.node = node;
    h.telemetry.agent_id = agent;
    h.credential = credential;
    return h;
  }
  size_t Refusals() {
    AuditFilter f;
    f.action = "refuse";
    return cp_->QueryAudit(f).value().size();
  }

  ManualClock clock_;
  MemoryStore store_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_F(NodeIdentityTest, JoinTokenThenNodeCredential) {
  ControlPlane& c = cp(NodeAuth::kToken);
  EXPECT_EQ(c.Register(Reg("a", "x1")).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c.Register(Reg("a", "x1", "sgj_nope_nope")).status().code(), absl::StatusCode::kPermissionDenied);
  const auto [token, record] = c.CreateJoinToken(Duration::Hours(1), "", "ops").value();
  EXPECT_EQ(token.find(record.id), 4u);
  // The store holds a hash, never the token.
  const std::vector<KeyValue> stored = store_.List("").value();  // a named copy: value() of a temporary dangles
  for (const KeyValue& kv : stored) EXPECT_EQ(kv.value.find(token.substr(5 + record.id.size())), std::string::npos);
  StatusOr<std::string> cred = c.Register(Reg("a", "x1", token));
  ASSERT_TRUE(cred.ok()) << cred.status();
  ASSERT_TRUE(cred->starts_with("sgn_"));
  EXPECT_TRUE(c.Heartbeat(Beat("a", "x1", *cred)).ok());
  // Without it, or with another node's, nothing is recorded.
  EXPECT_EQ(c.Heartbeat(Beat("a", "x1", "")).status().code(), absl::StatusCode::kPermissionDenied);
  const std::string b_cred = c.Register(Reg("b", "y1", token)).value();
  EXPECT_EQ(c.Heartbeat(Beat("a", "x1", b_cred)).status().code(), absl::StatusCode::kPermissionDenied);
  // A restarted agent shows its credential (no token needed), once the old one is gone.
  clock_.Advance(Duration::Seconds(10));
  EXPECT_TRUE(c.Register(Reg("a", "x2", "", *cred)).ok());
  // A token makes a node; it never takes over one that joined (nor does a
  // refused registration change its credential).
  clock_.Advance(Duration::Seconds(10));
  Status st = c.Register(Reg("a", "thief", token)).status();
  EXPECT_NE(std::string(st.message()).find("has joined already"), std::string::npos) << st;
  ASSERT_TRUE(c.Register(Reg("a", "x3", "", *cred)).ok());
  ASSERT_TRUE(c.Heartbeat(Beat("a", "x3", *cred)).ok());
  EXPECT_FALSE(c.Register(Reg("a", "thief2", token)).ok());  // held by x3, which keeps its credential
  EXPECT_TRUE(c.Heartbeat(Beat("a", "x3", *cred)).ok());
  // Withdrawn: refused, also with the token it joined with; a token made
  // after the revocation joins it again.
  clock_.Advance(Duration::Seconds(1));
  ASSERT_TRUE(c.RevokeNode("a", "ops").ok());
  EXPECT_EQ(c.Heartbeat(Beat("a", "x3", *cred)).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c.Register(Reg("a", "x3", "", *cred)).status().code(), absl::StatusCode::kPermissionDenied);
  clock_.Advance(Duration::Seconds(10));
  st = c.Register(Reg("a", "x4", token)).status();
  EXPECT_NE(std::string(st.message()).find("was revoked"), std::string::npos) << st;
  clock_.Advance(Duration::Seconds(1));
  const std::string fresh = c.CreateJoinToken(Duration::Hours(1), "a", "ops").value().first;
  EXPECT_TRUE(c.Register(Reg("a", "x4", fresh)).ok());
  EXPECT_GE(Refusals(), 6u);
}

TEST_F(NodeIdentityTest, TokensExpireAreRevokedAndMayNameOneNode) {
  ControlPlane& c = cp(NodeAuth::kToken);
  const auto [short_lived, s] = c.CreateJoinToken(Duration::Seconds(5), "", "ops").value();
  const auto [for_b, fb] = c.CreateJoinToken(Duration::Hours(1), "b", "ops").value();
  const auto [revoked, r] = c.CreateJoinToken(Duration::Hours(1), "", "ops").value();
  ASSERT_TRUE(c.RevokeJoinToken(r.id, "ops").ok());
  EXPECT_EQ(c.RevokeJoinToken("nope", "ops").code(), absl::StatusCode::kNotFound);
  clock_.Advance(Duration::Seconds(6));
  Status st = c.Register(Reg("a", "x", short_lived)).status();
  EXPECT_NE(std::string(st.message()).find("expired"), std::string::npos) << st;
  st = c.Register(Reg("a", "x", for_b)).status();
  EXPECT_NE(std::string(st.message()).find("is for node b only"), std::string::npos) << st;
  st = c.Register(Reg("a", "x", revoked)).status();
  EXPECT_NE(std::string(st.message()).find("was revoked"), std::string::npos) << st;
  EXPECT_TRUE(c.Register(Reg("b", "x", for_b)).ok());
  const std::vector<JoinToken> all = c.JoinTokens().value();
  EXPECT_EQ(all.size(), 3u);
}

// The attack of the issue: an empty agent id took over a live node and a
// forged heartbeat marked its job succeeded.
TEST_F(NodeIdentityTest, AnEmptyOrWrongAgentIdNeverTakesALiveNode) {
  ControlPlane& c = cp(NodeAuth::kNone);
  ASSERT_TRUE(c.Register(Reg("a", "x1")).ok());
  ASSERT_TRUE(c.Heartbeat(Beat("a", "x1", "")).ok());
  ASSERT_TRUE(c.Submit("name: j\nrun: sleep 100\n", "j.yaml", "", "t").ok());
  c.Pass();
  ASSERT_EQ(c.Job(1)->state, JobState::kRunning);
  EXPECT_EQ(c.Register(Reg("a", "")).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c.Register(Reg("a", "evil")).status().code(), absl::StatusCode::kFailedPrecondition);
  AgentHeartbeat forged = Beat("a", "", "");
  forged.tasks = {TaskReport{TaskRef{1, 1}, false, 0, 0}};
  EXPECT_EQ(c.Heartbeat(forged).status().code(), absl::StatusCode::kPermissionDenied);
  forged.telemetry.agent_id = "evil";
  EXPECT_EQ(c.Heartbeat(forged).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c.Leave(Beat("a", "evil", "")).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c.Job(1)->state, JobState::kRunning);
  EXPECT_GE(Refusals(), 3u);
}

TEST_F(NodeIdentityTest, CertificatesNameTheirNodes) {
  ControlPlane& c = cp(NodeAuth::kCert);
  AgentProof plain;
  EXPECT_EQ(c.Register(Reg("a", "x"), plain).status().code(), absl::StatusCode::kPermissionDenied);
  AgentProof a{true, {"a", "a.lab.example"}, "", ""};
  Status st = c.Register(Reg("b", "x"), a).status();
  EXPECT_NE(std::string(st.message()).find("names a, a.lab.example, not this node"), std::string::npos) << st;
  EXPECT_TRUE(c.Register(Reg("a", "x"), a).ok());
  EXPECT_TRUE(c.Heartbeat(Beat("a", "x", ""), nullptr, a).ok());
  AgentProof b{true, {"b"}, "", ""};
  EXPECT_EQ(c.Heartbeat(Beat("a", "x", ""), nullptr, b).status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace stargate::control
