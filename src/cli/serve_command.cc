// `stargate serve FILE.yaml`: keeps a model server's replicas up near their
// users and routes requests to them (control/serve/serve_controller.h,
// control/serve/serve_router.h).
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "control/serve/serve_controller.h"
#include "control/serve/serve_router.h"
#include "core/clock.h"
#include "core/serve_file.h"

namespace stargate::cli {
namespace {

struct ServeOptions {
  std::string file;
  std::string server;  // "" = the resolved one (client_config.h)
  std::string listen = "127.0.0.1:8480";
  std::string region;
  std::string port_file;
  bool keep_replicas = false;
  int threads = 128;
};

// A line stamped with the local time of day.
void Log(Clock& clock, const std::string& line) {
  const Time now = clock.Now();
  const std::time_t secs = static_cast<std::time_t>(now.nanos() / 1'000'000'000);
  fmt::print("{:%H:%M:%S}.{:03d} {}\n", fmt::localtime(secs), now.millis() % 1000, line);
  std::fflush(stdout);
}

int RunServe(const ServeOptions& o, Clock& clock) {
  auto log = [&clock](const std::string& line) { Log(clock, line); };
  std::string text;
  if (!ReadWholeFile(o.file, "FILE", &text)) return 2;
  StatusOr<ServeFile> file = ParseServeFile(text, o.file);
  if (!file.ok()) {
    std::cerr << "error: " << file.status().message() << "\n";
    return 2;
  }
  std::error_code cwd_error;
  file->submit_dir = std::filesystem::current_path(cwd_error).string();
  const size_t colon = o.listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) port = std::atoi(o.listen.c_str() + colon + 1);
  if (colon == std::string::npos || port < 0 || port > 65535 ||
      o.listen.find_first_not_of("0123456789", colon + 1) != std::string::npos || colon + 1 == o.listen.size()) {
    std::cerr << "error: --listen: expected HOST:PORT, got '" << o.listen << "'\n";
    return 2;
  }
  sigset_t stop_signals = BlockStopSignals();
  control::RouterOptions ro;
  ro.region = o.region;
  ro.threads = o.threads;
  control::ServeRouter router(ro, &clock);
  StatusOr<int> bound = router.Bind(o.listen.substr(0, colon), port);
  if (!bound.ok()) {
    std::cerr << "error: --listen: " << bound.status().message() << "\n";
    return 1;
  }
  if (!o.port_file.empty()) {  // written whole, then renamed: readers never see half a line
    const std::string tmp = o.port_file + ".tmp";
    std::ofstream(tmp) << *bound << "\n";
    std::filesystem::rename(tmp, o.port_file);
  }
  std::thread serving([&router, &log] {
    if (Status st = router.Serve(); !st.ok()) log(std::string(st.message()));
  });
  // Stop() before the server runs would not stop it: wait until it does.
  for (int i = 0; i < 500 && !router.running(); ++i) clock.SleepFor(Duration::Millis(10));
  const ServeSpec& spec = file->serve;
  const std::string name = file->job.spec.name;
  const std::string server = o.server.empty() ? ServerUrl() : o.server;
  log(fmt::format("routing {} at http://{}:{} (replicas {}..{}, control plane {})", name, o.listen.substr(0, colon),
                  *bound, spec.min_replicas, spec.max_replicas, server));
  control::ServeController controller(*std::move(file), server, o.region, &router, log, &clock);
  // SIGINT/SIGTERM, taken by a thread of their own, end the loop below.
  std::mutex mu;
  std::condition_variable signalled;
  int stop_signal = 0;
  SignalWaiter waiter(stop_signals, [&](int sig) {
    std::lock_guard<std::mutex> lock(mu);
    stop_signal = sig;
    signalled.notify_all();
  });
  int rc = 0;
  if (Status st = controller.Start(); !st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    rc = 1;
  } else {
    controller.Tick();
    while (true) {
      int sig = 0;
      {
        std::unique_lock<std::mutex> lock(mu);
        const Time next = clock.Now() + spec.health_interval;
        while (stop_signal == 0 && clock.WaitUntil(signalled, lock, next)) {
        }
        sig = stop_signal;
      }
      if (sig != 0) {
        log(fmt::format("stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM"));
        break;
      }
      controller.Tick();
    }
    if (o.keep_replicas) {
      log("leaving the replica jobs running (--keep-replicas): `stargate serve` adopts them when started again");
    } else {
      controller.Shutdown();
    }
  }
  router.Stop();
  serving.join();
  return rc;  // the waiter is woken and joined as it goes out of scope
}

}  // namespace

void AddServeCommand(CLI::App& app, Clock& clock, int* exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* serve =
      app.add_subcommand("serve", "Keep a model server's replicas up near their users and route requests to them");
  serve->add_option("file", o->file, "Serve file (a job file with a `serve` block; docs/serve-reference.md)")
      ->required();
  serve->add_option("--server", o->server,
                    "Control plane URL (default $STARGATE_SERVER, the context's, http://127.0.0.1:8470)");
  serve->add_option("--listen", o->listen, "Where the router listens (HOST:PORT; port 0 = any)")->capture_default_str();
  serve->add_option("--region", o->region,
                    "The router's region: requests without an X-Stargate-Region header come from there");
  serve->add_option("--port-file", o->port_file, "Once listening, write the router's port here");
  serve->add_flag("--keep-replicas", o->keep_replicas,
                  "On SIGINT/SIGTERM leave the replica jobs running (the next `stargate serve` adopts them)");
  serve
      ->add_option("--threads", o->threads,
                   "Client connections the router serves at once (an idle one holds its thread up to 5 s)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  serve->callback([o, &clock, exit_code] { *exit_code = RunServe(*o, clock); });
}

}  // namespace stargate::cli
