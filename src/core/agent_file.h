// File: agent_file.h
// A node's agent configuration, as an operator writes it once per node
// (`stargate agent --config /etc/stargate/agent.yaml`), like a Nomad client
// config; flags given on the command line override it:
//
//   server: control.example.net:8471   # the server's agent API
//   name: gpu-017                      # default: the host name
//   site: abilene
//   region: us-south
//   jurisdiction: US
//   address: 10.1.0.17                 # other ranks reach this node here
//   accelerators: H100:8               # or auto (nvidia-smi; else CPU:1)
//   work_dir: /var/lib/stargate
//   stop_grace: 30s                    # SIGTERM, then SIGKILL this much later
//
// Parsed by ParseAgentFile; errors name file, line, column and field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/units.h"

namespace stargate {

// Each field is set only when the file gives it.
struct AgentFile {
  std::optional<std::string> server, name, site, region, jurisdiction, address, accelerators, work_dir;
  std::optional<Duration> stop_grace;
};

StatusOr<AgentFile> ParseAgentFile(std::string_view yaml_text, const std::string& filename);

}  // namespace stargate
