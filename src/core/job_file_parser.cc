#include "core/job_file_parser.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "core/data_input_parser.h"
#include "core/job_file_root.h"
#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::DurationRange;
using yaml_util::EnumName;
using yaml_util::Fields;
using yaml_util::Range;

constexpr size_t kMaxJobFileBytes = size_t{1} << 20;
constexpr std::string_view kTopKeys[] = {"name",     "tenant",       "kind",       "resources",  "placement",
                                         "priority", "estimate",     "deferrable", "checkpoint", "run",
                                         "env",      "max_restarts", "image",      "array",      "inputs"};
constexpr std::string_view kResourceKeys[] = {"accelerators", "nodes", "memory", "cpus"};
constexpr std::string_view kPlacementKeys[] = {"jurisdictions", "regions", "near", "max_rtt", "spread"};
constexpr std::string_view kDeferrableKeys[] = {"deadline"};
constexpr std::string_view kCheckpointKeys[] = {"dir",  "interval", "enabled", "async",
                                                "cost", "replicas", "keep",    "site_wait"};
constexpr std::string_view kReplicaKeys[] = {"sites", "every"};
constexpr EnumName<JobKind> kKinds[] = {{"training", JobKind::kTraining},
                                        {"finetune", JobKind::kFineTune},
                                        {"batch", JobKind::kBatch},
                                        {"inference", JobKind::kInference}};
// Run times and deadlines are added to wall-clock times in nanoseconds;
// ten years keeps every sum far from overflow.
constexpr Duration kMaxJobDuration = Duration::Days(3653);
constexpr DurationRange kPositive{Duration::Zero(), /*min_open=*/true, kMaxJobDuration};
constexpr DurationRange kNonNegative{Duration::Zero(), false, kMaxJobDuration};

struct Accel {
  AcceleratorType type;
  int per_node;
  int share_milli = 0;  // "H100:0.25": a share of one device, in thousandths
};

// A share of one device written as a fraction, "0.25": thousandths in
// [1, 999], at most three decimals; nullopt for anything else.
std::optional<int> ReadShare(const std::string& count) {
  if (count.size() < 3 || count.size() > 5 || count.compare(0, 2, "0.") != 0) return std::nullopt;
  int milli = 0;
  for (size_t i = 2; i < 5; ++i) {
    const char ch = i < count.size() ? count[i] : '0';
    if (ch < '0' || ch > '9') return std::nullopt;
    milli = milli * 10 + (ch - '0');
  }
  if (milli == 0) return std::nullopt;
  return milli;
}

// "H100:8" (8 per node), "H100:0.25" (a quarter of one device, shared
// with other jobs) or "H100" (the type's usual node).
StatusOr<Accel> ReadAccel(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar("an accelerator like H100:8"));
  const size_t colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const auto type = ParseAcceleratorType(name);
  if (!type.ok()) return c.Error(std::string(type.status().message()));
  Accel a{*type, Spec(*type).default_per_node};
  if (colon != std::string::npos) {
    const std::string count = text.substr(colon + 1);
    if (count.find('.') != std::string::npos) {
      const std::optional<int> share = ReadShare(count);
      if (!share) {
        return c.Error(
            fmt::format("'{}': a share of one device is a fraction from 0.001 to 0.999, like {}:0.25", text, name));
      }
      if (*type == AcceleratorType::kCpu) return c.Error(fmt::format("'{}': a share is of an accelerator", text));
      a.per_node = 1;
      a.share_milli = *share;
      return a;
    }
    int n = 0;
    const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec != std::errc() || end != count.data() + count.size() || n < 1 || n > 64) {
      return c.Error(fmt::format("'{}': the count after ':' must be a whole number in [1, 64]", text));
    }
    a.per_node = n;
  }
  return a;
}

Status ParseResources(const Cursor& c, JobFile* job) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kResourceKeys));
  SG_ASSIGN_OR_RETURN(job->nodes, f.Int("nodes", job->nodes, Range{1, 100000}));
  if (auto memory = f.Get("memory")) {  // a size with its unit: a bare number is refused
    SG_ASSIGN_OR_RETURN(const std::string text, memory->Scalar("a size such as 8GiB"));
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.back()))) {
      return memory->Error(fmt::format("give a unit, such as {}GiB or {}MB", text, text));
    }
    SG_ASSIGN_OR_RETURN(const double bytes, yaml_util::ReadBytes(*memory, Range{4 << 20, 1e15}));
    job->memory_bytes = static_cast<int64_t>(bytes);
  }
  if (f.Has("cpus")) {
    SG_ASSIGN_OR_RETURN(job->cpus, f.Number("cpus", 0, Range{0.01, 4096}));
  }
  if (auto acc = f.Get("accelerators")) {
    std::vector<Cursor> items;
    if (acc->IsSequence()) {
      SG_ASSIGN_OR_RETURN(items, acc->Items());
    } else {
      items.push_back(*acc);
    }
    if (items.empty()) return acc->Error("give at least one accelerator, like H100:8");
    for (size_t i = 0; i < items.size(); ++i) {
      SG_ASSIGN_OR_RETURN(const Accel a, ReadAccel(items[i]));
      if (i == 0) {
        job->spec.per_node = a.per_node;
        job->spec.share_milli = a.share_milli;
      }
      if (a.share_milli != job->spec.share_milli) {
        return items[i].Error("every acceptable type needs the same share of a device");
      }
      if (a.per_node != job->spec.per_node) {
        return items[i].Error(fmt::format("every acceptable type needs the same count per node ({} here, {} first)",
                                          a.per_node, job->spec.per_node));
      }
      if (std::find(job->spec.accelerators.begin(), job->spec.accelerators.end(), a.type) ==
          job->spec.accelerators.end()) {
        job->spec.accelerators.push_back(a.type);
      }
    }
  } else {
    job->spec.accelerators = {AcceleratorType::kCpu};  // no accelerators asked for: a CPU job
  }
  if (job->spec.share_milli > 0 && job->nodes != 1) {
    return f.Get("nodes")->Error("a share of a device (like H100:0.25) is for a job of one node");
  }
  if (job->spec.share_milli > 0 && job->spec.kind == JobKind::kTraining) {
    return f.Get("accelerators")->Error("a share of a device is for batch, fine-tune and inference work, not training");
  }
  job->spec.accelerator_count = job->nodes * job->spec.per_node;
  return Status();
}

Status ParsePlacement(const Cursor& c, JobFile* job) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kPlacementKeys));
  SG_ASSIGN_OR_RETURN(job->spec.jurisdictions, f.StringList("jurisdictions", {}));
  SG_ASSIGN_OR_RETURN(job->spec.regions, f.StringList("regions", {}));
  SG_ASSIGN_OR_RETURN(job->spec.near, f.String("near", ""));
  SG_ASSIGN_OR_RETURN(job->spec.max_rtt, f.Dur("max_rtt", Duration::Zero(), kNonNegative));
  if (job->spec.max_rtt > Duration::Zero() && job->spec.near.empty()) {
    return f.Get("max_rtt")->Error("needs `near`: a round trip from where?");
  }
  if (auto spread = f.Get("spread")) {
    SG_ASSIGN_OR_RETURN(const std::string how, yaml_util::ReadString(*spread));
    if (how == "sites") {
      if (job->spec.share_milli > 0) return spread->Error("a share of one device runs on one node, not one per site");
      job->spec.spread_sites = true;
    } else if (how != "none") {
      return spread->Error(fmt::format("expected sites or none, got '{}'", how));
    }
  }
  return Status();
}

// NUL, escape and other C0/DEL bytes other than `allowed`: they end up in
// process arguments, environments, logs and terminals.
bool HasControl(std::string_view s, std::string_view allowed) {
  return std::any_of(s.begin(), s.end(), [&](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 || c == 0x7f) && allowed.find(ch) == std::string_view::npos;
  });
}

Status ParseCheckpointBlock(const Cursor& c, JobFile* job) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kCheckpointKeys));
  CheckpointPolicy& cp = job->spec.checkpoint;
  SG_ASSIGN_OR_RETURN(cp.enabled, f.Bool("enabled", true));
  SG_ASSIGN_OR_RETURN(cp.async, f.Bool("async", cp.async));
  SG_ASSIGN_OR_RETURN(job->checkpoint_dir, f.String("dir", ""));
  if (!job->checkpoint_dir.empty()) {
    // A path inside the tenant's checkpoint area, never beside it.
    const std::string& d = job->checkpoint_dir;
    const bool escapes = d.front() == '/' || d == ".." || d.starts_with("../") || d.ends_with("/..") ||
                         d.find("/../") != std::string::npos;
    if (escapes || HasControl(d, "") || d.size() > 256) {
      return f.Get("dir")->Error(
          "a relative path inside the tenant's checkpoint area (no leading '/', no '..'), under 256 bytes");
    }
  }
  if (auto cost = f.Get("cost")) {
    SG_ASSIGN_OR_RETURN(job->checkpoint_cost, yaml_util::ReadDuration(*cost, kPositive));
  }
  if (auto replicas = f.Get("replicas")) {
    // Copies in this many sites' stores (the one it runs at among them).
    SG_ASSIGN_OR_RETURN(const Fields r, replicas->Map(kReplicaKeys));
    SG_ASSIGN_OR_RETURN(cp.replica_sites, r.Int("sites", 1, Range{1, kMaxReplicaSites}));
    SG_ASSIGN_OR_RETURN(cp.replica_every, r.Dur("every", cp.replica_every, kNonNegative));
  }
  SG_ASSIGN_OR_RETURN(job->checkpoint_keep, f.Int("keep", job->checkpoint_keep, Range{1, 1000}));
  if (auto wait = f.Get("site_wait"); wait.has_value() && !(wait->IsScalar() && wait->node().Scalar() == "auto")) {
    SG_ASSIGN_OR_RETURN(cp.site_wait, yaml_util::ReadDuration(*wait, kNonNegative));
  }
  if (auto interval = f.Get("interval")) {
    SG_ASSIGN_OR_RETURN(const std::string text, interval->Scalar("a duration or auto"));
    if (text == "auto") {
      cp.daly = true;  // Daly's optimum for the placement's measured failure rate
    } else {
      SG_ASSIGN_OR_RETURN(cp.interval, yaml_util::ReadDuration(*interval, kPositive));
    }
  }
  return Status();
}

}  // namespace

StatusOr<JobFile> ParseJobRoot(const Cursor& root, std::span<const std::string_view> extra_keys) {
  if (!root.IsMap()) {
    return root.Error(fmt::format("expected a map of job keys (name, resources, run, ...), got {}", root.Describe()));
  }
  std::vector<std::string_view> keys(std::begin(kTopKeys), std::end(kTopKeys));
  keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
  SG_ASSIGN_OR_RETURN(const Fields f, root.Map(keys));
  JobFile job;
  JobSpec& spec = job.spec;
  spec.per_node = 1;                // one device (a CPU slot) per node unless `resources` says otherwise
  spec.checkpoint.enabled = false;  // only with a checkpoint block
  SG_ASSIGN_OR_RETURN(spec.name, f.String("name", ""));
  if (spec.name.empty() || spec.name.size() > 128 || !std::all_of(spec.name.begin(), spec.name.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
      })) {
    return f.Has("name") ? f.Get("name")->Error("1-128 characters of letters, digits, '-', '_' or '.'")
                         : f.Missing("name");
  }
  SG_ASSIGN_OR_RETURN(spec.tenant, f.String("tenant", spec.tenant));
  // A tenant names a Unix user, directories and store keys on the nodes.
  if (spec.tenant.empty() || spec.tenant.size() > 32 ||
      !std::all_of(spec.tenant.begin(), spec.tenant.end(),
                   [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'; })) {
    return f.Get("tenant")->Error("1-32 characters of letters, digits, '-' or '_'");
  }
  SG_ASSIGN_OR_RETURN(spec.kind, f.Enum<JobKind>("kind", JobKind::kBatch, kKinds, "job kind"));
  if (auto r = f.Get("resources")) {
    SG_RETURN_IF_ERROR(ParseResources(*r, &job));
  } else {
    spec.accelerators = {AcceleratorType::kCpu};
    spec.accelerator_count = 1;
  }
  if (auto p = f.Get("placement")) SG_RETURN_IF_ERROR(ParsePlacement(*p, &job));
  SG_ASSIGN_OR_RETURN(spec.priority, f.Int("priority", 0, Range{-1e9, 1e9}));
  SG_ASSIGN_OR_RETURN(job.max_restarts, f.Int("max_restarts", job.max_restarts, Range{0, 1000}));
  if (auto e = f.Get("estimate")) {  // a duration, or auto (learned by the server)
    SG_ASSIGN_OR_RETURN(const std::string text, e->Scalar("a duration or auto"));
    if (text != "auto") {
      SG_ASSIGN_OR_RETURN(job.estimate, yaml_util::ReadDuration(*e, kPositive));
      job.estimate_auto = false;
    }
  }
  spec.duration = job.estimate;
  if (auto d = f.Get("deferrable")) {
    SG_ASSIGN_OR_RETURN(const Fields df, d->Map(kDeferrableKeys));
    SG_ASSIGN_OR_RETURN(const Cursor deadline, df.Require("deadline"));
    SG_ASSIGN_OR_RETURN(job.deadline_after, yaml_util::ReadDuration(deadline, kPositive));
    if (!job.estimate_auto && job.deadline_after <= job.estimate) {
      return deadline.Error(fmt::format("must be longer than the estimate ({:.0f} s)", job.estimate.seconds()));
    }
    spec.deferrable = true;
  }
  if (auto cp = f.Get("checkpoint")) SG_RETURN_IF_ERROR(ParseCheckpointBlock(*cp, &job));
  if (auto inputs = f.Get("inputs")) {
    SG_ASSIGN_OR_RETURN(spec.inputs, ParseDataInputs(*inputs, /*names=*/true));
  }
  SG_ASSIGN_OR_RETURN(const Cursor run, f.Require("run"));
  SG_ASSIGN_OR_RETURN(job.run, run.Scalar("a shell command"));
  if (job.run.empty()) return run.Error("must not be empty");
  if (HasControl(job.run, "\t\n")) return run.Error("has a control character (only tabs and line breaks may appear)");
  if (auto image = f.Get("image")) {  // an OCI image the node already has (podman)
    SG_ASSIGN_OR_RETURN(job.image, image->Scalar("an image name such as localhost/trainer:1"));
    const bool ok = !job.image.empty() && job.image.size() <= 255 && job.image.front() != '-' &&
                    std::all_of(job.image.begin(), job.image.end(), [](char ch) {
                      return std::isalnum(static_cast<unsigned char>(ch)) ||
                             std::string_view("./:_@-").find(ch) != std::string_view::npos;
                    });
    if (!ok) return image->Error("an image name: letters, digits and . / : _ @ -, not starting with '-'");
  }
  if (auto a = f.Get("array")) {  // a count, or ranges of indices
    SG_ASSIGN_OR_RETURN(const std::string text, a->Scalar("a count (100) or ranges of indices (0-99,200)"));
    StatusOr<JobArray> array = JobArray::Parse(text);
    if (!array.ok()) return a->Error(std::string(array.status().message()));
    job.array = *std::move(array);
  }
  if (auto env = f.Get("env")) {
    if (!env->IsMap()) return env->Error(fmt::format("expected a map of NAME: value, got {}", env->Describe()));
    for (auto it = env->node().begin(); it != env->node().end(); ++it) {
      const std::string name = it->first.as<std::string>();
      const Cursor value = env->Child(name, it->second);
      const bool valid_name = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                              std::all_of(name.begin(), name.end(), [](char ch) {
                                return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
                              });
      if (!valid_name) return value.Error("environment names are letters, digits and '_', not starting with a digit");
      SG_ASSIGN_OR_RETURN(std::string v, value.Scalar("a string"));
      if (HasControl(v, "\t")) return value.Error("has a control character (only tabs may appear)");
      job.env[name] = std::move(v);
    }
  }
  return job;
}

StatusOr<JobFile> ParseJobFile(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<JobFile>(yaml_text, filename, "job file", kMaxJobFileBytes,
                                           [](const Cursor& root) { return ParseJobRoot(root, {}); });
}

}  // namespace stargate
