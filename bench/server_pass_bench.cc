// The server's control-loop pass over many small sites (issue 24): SITES
// sites of 25 agents of 8 H100 each, a share of them busy with one-node
// jobs that run for hours, and a backlog of 1,000 jobs for the 10 A100
// nodes of the first site (all busy), so every pass has work to place and
// none fits. Arg 2 is
// ReconcilerOptions::keep_view: 1 keeps the scheduler's view from pass to
// pass (what a pass lays costs the running work), 0 builds it afresh
// every pass (every node of the network). Each iteration is one pass, an
// in-memory store. Run:
//   ./build/server_pass_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "control/server/control_plane.h"
#include "control/store/memory_store.h"
#include "runtime/manual_clock.h"

namespace stargate::control {
namespace {

// Node `name` of 8 `type` devices at `site`, registered and heard from
// once, so it is ready for work.
bool Join(ControlPlane& cp, const std::string& name, const std::string& site, AcceleratorType type) {
  Registration r;
  r.node.name = name;
  r.node.site = site;
  r.node.address = "10.0.0.1";
  r.node.accelerator = type;
  r.node.accelerators = 8;
  r.agent_id = "agent-" + name;
  if (!cp.Register(r).ok()) return false;
  AgentHeartbeat h;
  h.node = name;
  h.telemetry.agent_id = r.agent_id;
  return cp.Heartbeat(h).ok();
}

void BM_ServerPass(benchmark::State& state) {
  const int sites = static_cast<int>(state.range(0));
  const int busy_percent = static_cast<int>(state.range(1));
  ManualClock clock(Time::FromMillis(1'796'256'000'000));
  MemoryStore store;
  ControlPlaneOptions o;
  o.data_dir = "/data";
  o.heartbeat_timeout = Duration::Hours(24);
  o.log = [](const std::string&) {};
  o.reconciler.keep_view = state.range(2) != 0;
  o.reconciler.reject_grace = Duration::Zero();
  ControlPlane cp(&store, &clock, sched::MakeScheduler("stargate").value(), o);
  constexpr int kNodesPerSite = 25;
  const int nodes = sites * kNodesPerSite;
  bool ok = true;
  for (int n = 0; n < nodes; ++n) {
    ok = Join(cp, fmt::format("n{:06}", n), fmt::format("site{:05}", n % sites), AcceleratorType::kH100) && ok;
  }
  for (int n = 0; n < 10; ++n) ok = Join(cp, fmt::format("a{:02}", n), "site00000", AcceleratorType::kA100) && ok;
  // The running work first (it all fits), then the backlog (none does).
  std::vector<uint64_t> ran, waits;
  const auto submit = [&](const std::string& file, std::vector<uint64_t>* ids) {
    StatusOr<ControlPlane::Submitted> r = cp.Submit(file, "job.yaml", "", "bench");
    ok = ok && r.ok();
    if (r.ok()) ids->push_back(r->job.id);
  };
  for (int j = 0; j < 10; ++j) {
    submit(fmt::format("name: a{}\nresources: {{accelerators: A100:8}}\nestimate: 100h\nrun: x\n", j), &ran);
  }
  const int running = nodes * busy_percent / 100;
  for (int j = 0; j < running; ++j) {
    submit(fmt::format("name: r{}\nresources: {{accelerators: H100:8}}\nestimate: {}h\nrun: x\n", j, 10 + j % 20),
           &ran);
  }
  cp.Pass();
  for (int j = 0; j < 1000; ++j) {
    submit(fmt::format("name: w{}\nresources: {{accelerators: A100:8}}\nestimate: 1h\nrun: x\n", j), &waits);
  }
  cp.Pass();
  const auto all_in = [&](const std::vector<uint64_t>& ids, JobState want) {
    return std::all_of(ids.begin(), ids.end(), [&](uint64_t id) {
      StatusOr<JobRecord> r = cp.Job(id);
      return r.ok() && r->state == want;
    });
  };
  if (!ok || !all_in(ran, JobState::kRunning) || !all_in(waits, JobState::kPending)) {
    state.SkipWithError("setup: a node, a job or a placement is not as meant");
    return;
  }
  for (auto _ : state) {
    clock.Advance(Duration::Millis(250));
    cp.Pass();
  }
  state.counters["nodes"] = nodes;
  state.counters["running"] = running;
}
BENCHMARK(BM_ServerPass)
    ->ArgNames({"sites", "busy%", "keep"})
    ->Args({2'000, 10, 0})
    ->Args({2'000, 10, 1})
    ->Args({2'000, 80, 0})
    ->Args({2'000, 80, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(50);

}  // namespace
}  // namespace stargate::control

BENCHMARK_MAIN();
