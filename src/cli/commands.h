// File: commands.h
// Each command group registers its subcommands on the root CLI11 app; the
// callback runs the command and stores the process exit code in *exit_code.
// Commands that wait, time or stamp anything use `clock` (main's
// RealClock), never the system clock directly.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

namespace CLI {
class App;
}
namespace stargate {
class Clock;
}

namespace stargate::cli {

void AddTwinCommands(CLI::App& app, Clock& clock, int* exit_code);
// `twin audit`, registered by AddTwinCommands on its `twin` group.
void AddTwinAuditCommand(CLI::App* twin, int* exit_code);
// `stargate server` and `stargate job ...` (the orchestrator).
void AddServerCommand(CLI::App& app, Clock& clock, int* exit_code);
void AddJobCommands(CLI::App& app, Clock& clock, int* exit_code);
// `stargate run [--nodes N --gpus TYPE:N] -- CMD...`.
void AddRunCommand(CLI::App& app, Clock& clock, int* exit_code);
// `stargate completion bash|zsh`, from the whole command tree of `app`.
void AddCompletionCommand(CLI::App& app, int* exit_code);
// `stargate agent`, `stargate node list`, `stargate site list`.
void AddAgentCommands(CLI::App& app, Clock& clock, int* exit_code);
// `stargate node join-token create|list|revoke`, `stargate node revoke`,
// on AddAgentCommands' `node` group.
void AddNodeIdentityCommands(CLI::App* node, int* exit_code);
// `stargate cert ca|issue`.
void AddCertCommands(CLI::App& app, int* exit_code);

// --tls-cert, --tls-key, --tls-ca: the files of stargate cert (all three,
// or none).
struct TlsFlags {
  std::string cert, key, ca;
  bool given() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};
// `whose` starts the certificate's help ("this server's"), `ca_role` ends
// the CA's ("whose agents may connect").
void AddTlsFlags(CLI::App* cmd, TlsFlags* flags, const std::string& whose, const std::string& ca_role);
// Reads the three files; false (after saying why) when one is missing or
// unreadable.
bool ReadTlsFlags(const TlsFlags& flags, std::string* cert, std::string* key, std::string* ca);
// Reads the whole file at `path` into *out; false (after saying why, naming
// `flag`) when it cannot.
bool ReadWholeFile(const std::string& path, const std::string& flag, std::string* out);
// `stargate plan`.
void AddPlanCommand(CLI::App& app, int* exit_code);
// `stargate checkpoint seal|verify|latest` (checkpoint_command.cc).
void AddCheckpointCommands(CLI::App& app, Clock& clock, int* exit_code);
// `stargate data register|list|show|unregister` (data_command.cc).
void AddDataCommands(CLI::App& app, int* exit_code);
// `stargate forecast`.
void AddForecastCommand(CLI::App& app, int* exit_code);
// `stargate serve FILE`.
void AddServeCommand(CLI::App& app, Clock& clock, int* exit_code);
// `stargate up` and `stargate demo`.
void AddUpCommands(CLI::App& app, Clock& clock, int* exit_code);

}  // namespace stargate::cli
