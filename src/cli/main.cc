// stargate: one binary, many subcommands (see docs/architecture.md).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "runtime/real_clock.h"

int main(int argc, char** argv) {
  CLI::App app{"Stargate: orchestrator and digital twin for a decentralized AI datacenter network"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stargate 0.1.0");
  int exit_code = 0;
  // The one clock of the process: every command that waits or times goes through it.
  stargate::RealClock clock;
  stargate::cli::AddTwinCommands(app, clock, &exit_code);
  stargate::cli::AddServerCommand(app, clock, &exit_code);
  stargate::cli::AddJobCommands(app, clock, &exit_code);
  stargate::cli::AddAgentCommands(app, clock, &exit_code);
  stargate::cli::AddUpCommands(app, clock, &exit_code);
  stargate::cli::AddCertCommands(app, &exit_code);
  stargate::cli::AddPlanCommand(app, &exit_code);
  stargate::cli::AddForecastCommand(app, &exit_code);
  stargate::cli::AddServeCommand(app, clock, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
