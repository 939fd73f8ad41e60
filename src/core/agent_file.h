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
//   checkpoint_root: /mnt/ckpt         # the site's checkpoint store (its shared filesystem)
//   stop_grace: 30s                    # SIGTERM, then SIGKILL this much later
//   tls_cert: /etc/stargate/node.crt   # mutual TLS to the servers (PEM files)
//   tls_key: /etc/stargate/node.key
//   tls_ca: /etc/stargate/ca.crt
//   slurm: {partition: gpu, nodes: [gpu01, gpu02], fence: 15s}
//                                      # drive a Slurm cluster as the site
//
// Parsed by ParseAgentFile; errors name file, line, column and field.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/units.h"

namespace stargate {

// Each field is set only when the file gives it.
struct AgentFile {
  std::optional<std::string> server, name, site, region, jurisdiction, address, accelerators, work_dir, checkpoint_root;
  std::optional<Duration> stop_grace;
  std::optional<std::string> tls_cert, tls_key, tls_ca;
  // Present: the agent is a Slurm site driver (`--slurm`).
  struct Slurm {
    std::string partition;
    std::vector<std::string> nodes;
    std::optional<Duration> fence;
  };
  std::optional<Slurm> slurm;
};

StatusOr<AgentFile> ParseAgentFile(std::string_view yaml_text, const std::string& filename);

}  // namespace stargate
