// stargate, the front: `stargate job ...` (the commands people and scripts
// run many times a second: submit, list, show, cancel, wait, logs), `run`
// and `config` are served here, by a binary that links only the CLI parser and a small
// HTTP client (cli/rest_client.h), so it starts in a few milliseconds.
// Every other command (server, agent, twin, up, ...) is the full binary,
// stargate-full beside this one, exec'd in place with the same arguments:
// one process, one PID, the same exit code. Loading the full binary's
// gRPC, protobuf, abseil and xgboost costs ~30 ms at every start, which
// dominated a job submit (bench/RESULTS.md).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "runtime/real_clock.h"

namespace {

// The full binary: stargate-full in this binary's own directory.
std::string FullBinary() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = ".";
  if (n > 0) {
    const std::string path(self, static_cast<size_t>(n));
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) dir = path.substr(0, slash);
  }
  return dir + "/stargate-full";
}

// The command word: the first argument that is neither a global flag
// (--server URL, --context NAME, --server=URL) nor such a flag's value.
std::string_view CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--server" || a == "--context") {
      ++i;
      continue;
    }
    if (a.rfind("--server=", 0) == 0 || a.rfind("--context=", 0) == 0) continue;
    return a;
  }
  return {};
}

// The twin holds its network's hourly figures in millions of small blocks
// (a year of 10,000 sites: each site's carbon and price series, its meter's
// hourly energy and busy device-seconds, ~4 GB in all), each first touched
// once. Where the kernel gives transparent huge pages only on request (its
// `madvise` mode), a 4 KiB page fault per first touch was ~10% of that
// year on the dev VM; glibc's malloc asks for huge pages for what it
// takes from the kernel when its tunable glibc.malloc.hugetlb=1 says so
// (glibc 2.35 on), read once at start, so it is set here, before the exec.
// The figures are the same either way (bench/RESULTS.md). A choice of the
// caller's own for that tunable stands; their other tunables are kept.
void AskForHugePages() {
  constexpr std::string_view kTunable = "glibc.malloc.hugetlb";
  const char* current = std::getenv("GLIBC_TUNABLES");
  std::string value = current != nullptr ? current : "";
  if (value.find(kTunable) != std::string::npos) return;
  if (!value.empty()) value += ':';
  value.append(kTunable).append("=1");
  setenv("GLIBC_TUNABLES", value.c_str(), 1);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view word = CommandWord(argc, argv);
  if (word == "job" || word == "run" || word == "config") {
    CLI::App app{"Stargate: orchestrator and digital twin for a decentralized AI datacenter network", "stargate"};
    app.require_subcommand(1);
    int exit_code = 0;
    stargate::RealClock clock;
    stargate::cli::AddGlobalFlags(app);
    stargate::cli::AddJobCommands(app, clock, &exit_code);
    stargate::cli::AddRunCommand(app, clock, &exit_code);
    stargate::cli::AddConfigCommands(app, &exit_code);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : stargate::cli::exit_code::kUsage;
    }
    return exit_code;
  }
  if (word == "twin") AskForHugePages();
  const std::string full = FullBinary();
  execv(full.c_str(), argv);
  std::cerr << "stargate: cannot run " << full << ": " << std::strerror(errno)
            << " (it is installed beside the stargate binary)\n";
  return 127;
}
