#include "core/serve_file.h"

#include <charconv>

#include "core/job_file_root.h"
#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::DurationRange;
using yaml_util::Fields;
using yaml_util::Range;

constexpr size_t kMaxServeFileBytes = size_t{1} << 20;
constexpr std::string_view kExtraKeys[] = {"serve"};
constexpr std::string_view kServeKeys[] = {"replicas", "regions", "port", "health", "autoscale", "max_rtt"};
constexpr std::string_view kReplicaKeys[] = {"min", "max"};
constexpr std::string_view kHealthKeys[] = {"path", "interval", "timeout", "failures", "replace_after"};
constexpr std::string_view kAutoscaleKeys[] = {"target_inflight", "up_after", "down_after"};
constexpr int kMaxReplicas = 1000;
constexpr size_t kMaxServiceName = 100;
constexpr DurationRange kPositive{Duration::Zero(), /*min_open=*/true, Duration::Days(1)};

Status ParseReplicas(const Cursor& c, ServeSpec* s) {
  if (c.IsScalar()) {
    SG_ASSIGN_OR_RETURN(const int64_t n, yaml_util::ReadInt(c, Range{1, kMaxReplicas}));
    s->min_replicas = s->max_replicas = static_cast<int>(n);
    return Status();
  }
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kReplicaKeys));
  SG_ASSIGN_OR_RETURN(s->min_replicas, f.Int("min", 1, Range{1, kMaxReplicas}));
  SG_ASSIGN_OR_RETURN(s->max_replicas, f.Int("max", s->min_replicas, Range{1, kMaxReplicas}));
  if (s->max_replicas < s->min_replicas) {
    return f.Get("max")->Error(fmt::format("must be at least min ({})", s->min_replicas));
  }
  return Status();
}

Status ParseHealth(const Cursor& c, ServeSpec* s) {
  if (c.IsScalar()) {
    SG_ASSIGN_OR_RETURN(s->health_path, yaml_util::ReadString(c));
  } else {
    SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kHealthKeys));
    SG_ASSIGN_OR_RETURN(s->health_path, f.String("path", s->health_path));
    SG_ASSIGN_OR_RETURN(s->health_interval, f.Dur("interval", s->health_interval, kPositive));
    SG_ASSIGN_OR_RETURN(s->health_timeout, f.Dur("timeout", s->health_timeout, kPositive));
    SG_ASSIGN_OR_RETURN(s->health_failures, f.Int("failures", s->health_failures, Range{1, 100}));
    SG_ASSIGN_OR_RETURN(s->replace_after, f.Dur("replace_after", s->replace_after, kPositive));
  }
  if (s->health_path.empty() || s->health_path[0] != '/') {
    return c.Error(fmt::format("the health path must start with '/', got '{}'", s->health_path));
  }
  return Status();
}

StatusOr<ServeFile> ParseRoot(const Cursor& root, std::string_view text) {
  ServeFile out;
  SG_ASSIGN_OR_RETURN(out.job, ParseJobRoot(root, kExtraKeys));
  if (!out.job.array.empty()) {  // replicas are the serve block's to count
    return root.Child("array", root.node()["array"]).Error("a service has replicas (serve.replicas), not an array");
  }
  const YAML::Node serve_node = root.node()["serve"];
  if (!serve_node.IsDefined()) return root.Error("serve: required key is missing (replicas, regions, port, health)");
  const Cursor block = root.Child("serve", serve_node);
  if (!block.IsMap())
    return block.Error(fmt::format("expected a map (replicas, regions, port, ...), got {}", block.Describe()));
  SG_ASSIGN_OR_RETURN(const Fields f, block.Map(kServeKeys));
  ServeSpec& s = out.serve;
  if (auto r = f.Get("replicas")) SG_RETURN_IF_ERROR(ParseReplicas(*r, &s));
  SG_ASSIGN_OR_RETURN(s.regions, f.StringList("regions", {}));
  SG_ASSIGN_OR_RETURN(s.port, f.Int("port", s.port, Range{1024, 65535 - kMaxReplicaPorts + 1}));
  if (auto h = f.Get("health")) SG_RETURN_IF_ERROR(ParseHealth(*h, &s));
  if (auto a = f.Get("autoscale")) {
    SG_ASSIGN_OR_RETURN(const Fields af, a->Map(kAutoscaleKeys));
    SG_ASSIGN_OR_RETURN(s.target_inflight, af.Number("target_inflight", s.target_inflight, Range{0, 1e6, true}));
    SG_ASSIGN_OR_RETURN(s.scale_up_after, af.Dur("up_after", s.scale_up_after, kPositive));
    SG_ASSIGN_OR_RETURN(s.scale_down_after, af.Dur("down_after", s.scale_down_after, kPositive));
  }
  SG_ASSIGN_OR_RETURN(
      s.max_rtt, f.Dur("max_rtt", Duration::Zero(), DurationRange{Duration::Zero(), false, Duration::Seconds(10)}));
  if (s.max_rtt > Duration::Zero() && s.regions.empty() && out.job.spec.near.empty()) {
    return f.Get("max_rtt")->Error("needs `regions` (or the job's placement.near): a round trip from where?");
  }
  if (s.max_replicas > kMaxReplicaPorts) {
    return block.Error(fmt::format("at most {} replicas (one port each from `port`)", kMaxReplicaPorts));
  }
  // Replica jobs are NAME-rN, and job names stop at 128 characters.
  if (out.job.spec.name.size() > kMaxServiceName) {
    return root.Child("name", root.node()["name"])
        .Error(fmt::format("a service name is at most {} characters (replicas are NAME-rN)", kMaxServiceName));
  }
  if (out.job.nodes != 1) {
    const Cursor resources = root.Child("resources", root.node()["resources"]);
    return resources.Child("nodes", resources.node()["nodes"])
        .Error(fmt::format("a replica is one node (one server process), not {}", out.job.nodes));
  }
  out.text = std::string(text);
  return out;
}

}  // namespace

StatusOr<ServeFile> ParseServeFile(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<ServeFile>(yaml_text, filename, "serve file", kMaxServeFileBytes,
                                             [&](const Cursor& root) { return ParseRoot(root, yaml_text); });
}

std::string ReplicaJobName(const std::string& service, int n) { return fmt::format("{}-r{}", service, n); }

int ReplicaNumber(const std::string& service, const std::string& job_name) {
  const std::string prefix = service + "-r";
  if (job_name.size() <= prefix.size() || job_name.compare(0, prefix.size(), prefix) != 0) return -1;
  int n = -1;
  const char* begin = job_name.data() + prefix.size();
  const char* end = job_name.data() + job_name.size();
  const auto [at, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || at != end || n < 0 || (*begin == '0' && end - begin > 1)) return -1;
  return n;
}

StatusOr<std::string> ReplicaJobText(const ServeFile& file, int n, const std::string& region, int port) {
  try {
    YAML::Node root = YAML::Load(file.text);
    root.remove("serve");
    const std::string name = ReplicaJobName(file.job.spec.name, n);
    root["name"] = name;
    root["kind"] = "inference";
    YAML::Node env = root["env"];
    env["PORT"] = std::to_string(port);
    env["STARGATE_SERVE_PORT"] = std::to_string(port);
    env["STARGATE_REPLICA"] = name;
    const YAML::Node& given = env;  // a const lookup adds no key
    if (!file.submit_dir.empty() && !given["STARGATE_SUBMIT_DIR"]) env["STARGATE_SUBMIT_DIR"] = file.submit_dir;
    if (!region.empty()) {
      root["placement"]["near"] = region;
      if (file.serve.max_rtt > Duration::Zero()) {
        root["placement"]["max_rtt"] = fmt::format("{}us", file.serve.max_rtt.nanos() / 1000);
      }
    }
    YAML::Emitter emit;
    emit << root;
    if (!emit.good()) return absl::InternalError("replica job file: " + emit.GetLastError());
    return std::string(emit.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(fmt::format("replica job file: {}", e.what()));
  }
}

}  // namespace stargate
