// stargate: one binary, many subcommands (see docs/architecture.md).
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Stargate: orchestrator and digital twin for a decentralized AI datacenter network"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stargate 0.1.0");
  int exit_code = 0;
  stargate::cli::AddTwinCommands(app, &exit_code);
  stargate::cli::AddServerCommand(app, &exit_code);
  stargate::cli::AddJobCommands(app, &exit_code);
  stargate::cli::AddAgentCommands(app, &exit_code);
  stargate::cli::AddUpCommands(app, &exit_code);
  stargate::cli::AddCertCommands(app, &exit_code);
  stargate::cli::AddPlanCommand(app, &exit_code);
  stargate::cli::AddServeCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
