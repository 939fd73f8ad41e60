// stargate: one binary, many subcommands (see docs/architecture.md).
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "runtime/real_clock.h"

int main(int argc, char** argv) {
  CLI::App app{"Stargate: orchestrator and digital twin for a decentralized AI datacenter network", "stargate"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stargate 0.1.0");
  app.footer(
      "Exit codes: 0 ok, 1 error, 2 usage, 3 timeout, 4 not found, 5 conflict, 6 denied, 7 server "
      "unreachable, 8 job failed, 9 job cancelled, 10 server busy (docs/cli.md)");
  int exit_code = 0;
  // The one clock of the process: every command that waits or times goes through it.
  stargate::RealClock clock;
  stargate::cli::AddGlobalFlags(app);
  stargate::cli::AddTwinCommands(app, clock, &exit_code);
  stargate::cli::AddServerCommand(app, clock, &exit_code);
  stargate::cli::AddJobCommands(app, clock, &exit_code);
  stargate::cli::AddRunCommand(app, clock, &exit_code);
  stargate::cli::AddAgentCommands(app, clock, &exit_code);
  stargate::cli::AddUpCommands(app, clock, &exit_code);
  stargate::cli::AddCertCommands(app, &exit_code);
  stargate::cli::AddPlanCommand(app, &exit_code);
  stargate::cli::AddCheckpointCommands(app, clock, &exit_code);
  stargate::cli::AddDataCommands(app, &exit_code);
  stargate::cli::AddForecastCommand(app, &exit_code);
  stargate::cli::AddServeCommand(app, clock, &exit_code);
  stargate::cli::AddConfigCommands(app, &exit_code);
  stargate::cli::AddCompletionCommand(app, &exit_code);
  if (argc <= 1) {  // bare `stargate`: what it can do, and no error
    std::cout << app.help();
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and --version are successes; every other parse error is usage.
    return app.exit(e) == 0 ? 0 : stargate::cli::exit_code::kUsage;
  }
  return exit_code;
}
