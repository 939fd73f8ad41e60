#include "core/agent_file.h"

#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::Fields;

constexpr size_t kMaxAgentFileBytes = 64 * 1024;
constexpr std::string_view kKeys[] = {
    "server",          "name",       "site",     "region",  "jurisdiction", "address", "accelerators", "work_dir",
    "checkpoint_root", "stop_grace", "tls_cert", "tls_key", "tls_ca",       "slurm"};
constexpr std::string_view kSlurmKeys[] = {"partition", "nodes", "fence"};

StatusOr<AgentFile> ParseRoot(const Cursor& root) {
  if (!root.IsMap()) return root.Error("expected a map of agent settings (server, site, accelerators, ...)");
  SG_ASSIGN_OR_RETURN(const Fields f, root.Map(kKeys));
  AgentFile a;
  for (auto [key, field] : {std::pair{"server", &a.server},
                            {"name", &a.name},
                            {"site", &a.site},
                            {"region", &a.region},
                            {"jurisdiction", &a.jurisdiction},
                            {"address", &a.address},
                            {"accelerators", &a.accelerators},
                            {"work_dir", &a.work_dir},
                            {"checkpoint_root", &a.checkpoint_root},
                            {"tls_cert", &a.tls_cert},
                            {"tls_key", &a.tls_key},
                            {"tls_ca", &a.tls_ca}}) {
    if (auto c = f.Get(key)) {
      SG_ASSIGN_OR_RETURN(std::string v, yaml_util::ReadString(*c));
      if (v.empty()) return c->Error("must not be empty");
      *field = std::move(v);
    }
  }
  if (auto c = f.Get("stop_grace")) {
    SG_ASSIGN_OR_RETURN(a.stop_grace, yaml_util::ReadDuration(*c, {Duration::Zero(), false, Duration::Minutes(10)}));
  }
  if (auto c = f.Get("slurm")) {
    if (!c->IsMap()) return c->Error("expected a map (partition, nodes, fence)");
    SG_ASSIGN_OR_RETURN(const Fields s, c->Map(kSlurmKeys));
    AgentFile::Slurm slurm;
    if (auto p = s.Get("partition")) {
      SG_ASSIGN_OR_RETURN(slurm.partition, yaml_util::ReadString(*p));
    }
    if (auto n = s.Get("nodes")) {
      SG_ASSIGN_OR_RETURN(slurm.nodes, yaml_util::ReadStringList(*n));
    }
    if (auto fence = s.Get("fence")) {
      SG_ASSIGN_OR_RETURN(slurm.fence,
                          yaml_util::ReadDuration(*fence, {Duration::Zero(), false, Duration::Minutes(60)}));
    }
    a.slurm = std::move(slurm);
  }
  return a;
}

}  // namespace

StatusOr<AgentFile> ParseAgentFile(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<AgentFile>(yaml_text, filename, "agent config", kMaxAgentFileBytes, ParseRoot);
}

}  // namespace stargate
