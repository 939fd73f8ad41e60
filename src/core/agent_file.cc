#include "core/agent_file.h"

#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::Fields;

constexpr size_t kMaxAgentFileBytes = 64 * 1024;
constexpr std::string_view kKeys[] = {"server",  "name",         "site",     "region",    "jurisdiction",
                                      "address", "accelerators", "work_dir", "stop_grace"};

StatusOr<AgentFile> ParseRoot(const Cursor& root) {
  if (!root.IsMap()) return root.Error("expected a map of agent settings (server, site, accelerators, ...)");
  SG_ASSIGN_OR_RETURN(const Fields f, root.Map(kKeys));
  AgentFile a;
  for (auto [key, field] : {std::pair{"server", &a.server}, {"name", &a.name}, {"site", &a.site},
                            {"region", &a.region}, {"jurisdiction", &a.jurisdiction}, {"address", &a.address},
                            {"accelerators", &a.accelerators}, {"work_dir", &a.work_dir}}) {
    if (auto c = f.Get(key)) {
      SG_ASSIGN_OR_RETURN(std::string v, yaml_util::ReadString(*c));
      if (v.empty()) return c->Error("must not be empty");
      *field = std::move(v);
    }
  }
  if (auto c = f.Get("stop_grace")) {
    SG_ASSIGN_OR_RETURN(a.stop_grace, yaml_util::ReadDuration(*c, {Duration::Zero(), false, Duration::Minutes(10)}));
  }
  return a;
}

}  // namespace

StatusOr<AgentFile> ParseAgentFile(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<AgentFile>(yaml_text, filename, "agent config", kMaxAgentFileBytes, ParseRoot);
}

}  // namespace stargate
