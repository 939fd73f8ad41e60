// The live forecast's speed (issue 19): one seed of 24 h for a snapshot
// of N nodes (8 x H100 each, over 10 sites) and J jobs, half running on
// the nodes and half queued (1- and 2-node gangs, 10 min to 20 h, some
// EU-only, some deferrable), under the stargate policy. Run:
//   ./build/forecast_bench --benchmark_counters_tabular=true
// Targets: 1,000 nodes and 10,000 jobs under 1 s of CPU per seed;
// 100,000 nodes under 10 s.
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <atomic>
#include <thread>

#include "control/server/control_plane.h"
#include "control/server/forecast.h"
#include "control/store/memory_store.h"
#include "core/job_file_parser.h"
#include "core/rng.h"
#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

constexpr Time kNow = Time::FromMillis(1'796'256'000'000);

ForecastSnapshot Snapshot(int nodes, int jobs) {
  ForecastSnapshot s;
  s.now = kNow;
  s.policy = "stargate";
  std::vector<SiteInfo> sites;
  for (int i = 0; i < 10; ++i) {
    SiteInfo info;
    info.name = fmt::format("site{}", i);
    info.carbon.mean = 50 + 60 * i;
    info.price.mean = 40 + 5 * i;
    sites.push_back(info);
  }
  s.sites = SiteBook::FromSites(sites).value();
  std::vector<std::string> names;
  for (int n = 0; n < nodes; ++n) {
    NodeInfo info;
    info.name = fmt::format("n{:06}", n);
    info.site = fmt::format("site{}", n % 10);
    info.region = info.site;
    info.jurisdiction = n % 10 < 4 ? "EU" : "US";
    info.address = "10.0.0.1";
    info.accelerator = AcceleratorType::kH100;
    info.accelerators = 8;
    s.nodes[info.name] = info;
    s.alive.insert(info.name);
    names.push_back(info.name);
  }
  Rng rng(7);
  size_t next_node = 0;  // nodes are taken in order; a gang's are 10 apart (one site)
  std::vector<bool> taken(names.size(), false);
  for (int j = 0; j < jobs; ++j) {
    const int size = rng.Below(5) == 0 ? 2 : 1;
    const int minutes = 10 + static_cast<int>(rng.Below(1190));
    std::string text =
        fmt::format("name: j{}\nresources: {{accelerators: H100:8, nodes: {}}}\nestimate: {}m\n", j, size, minutes);
    if (rng.Below(10) == 0) text += "placement: {jurisdictions: [EU]}\n";
    if (rng.Below(7) == 0) text += "deferrable: {deadline: 24h}\n";
    text += "run: x\n";
    JobRecord r;
    r.id = static_cast<uint64_t>(j + 1);
    r.spec_text = text;
    r.spec = ParseJobFile(text, "job.yaml").value();
    SetSubmitted(r.spec, kNow - Duration::Minutes(30));
    r.submitted = kNow - Duration::Minutes(30);
    // The first half runs where there is room (same site for a gang).
    while (next_node < names.size() && taken[next_node]) ++next_node;
    const size_t last = next_node + static_cast<size_t>(size - 1) * 10;
    if (j < jobs / 2 && last < names.size() && !taken[last]) {
      r.state = JobState::kRunning;
      r.attempt = 1;
      for (int k = 0; k < size; ++k) {
        r.nodes.push_back(names[next_node + static_cast<size_t>(k) * 10]);
        taken[next_node + static_cast<size_t>(k) * 10] = true;
      }
      r.exits.assign(r.nodes.size(), JobRecord::kRunningExit);
      r.started = kNow - Duration::Minutes(static_cast<int64_t>(rng.Below(static_cast<uint64_t>(minutes))));
    }
    s.jobs.push_back(std::move(r));
  }
  return s;
}

void BM_Forecast(benchmark::State& state) {
  const ForecastSnapshot s = Snapshot(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  int64_t running = 0;
  for (const JobRecord& r : s.jobs) running += r.state == JobState::kRunning;
  ForecastOptions o;
  o.horizon = Duration::Hours(24);
  o.seeds = 1;
  for (auto _ : state) {
    StatusOr<Forecast> f = RunForecast(s, o);
    if (!f.ok()) state.SkipWithError(std::string(f.status().message()).c_str());
    benchmark::DoNotOptimize(f);
  }
  state.counters["nodes"] = static_cast<double>(state.range(0));
  state.counters["jobs"] = static_cast<double>(state.range(1));
  state.counters["running"] = static_cast<double>(running);
}
BENCHMARK(BM_Forecast)
    ->Args({1'000, 10'000})
    ->Args({100'000, 10'000})
    ->Args({100'000, 100'000})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Iterations(1);

// The control loop's pass with and without forecasts running beside it
// (arg 1: a thread asks for one forecast after another, as GET
// /v1/forecast does: the state copied under the lock, the runs outside
// it): 1,000 nodes, 10,000 jobs (~1,000 running), the stargate policy,
// an in-memory store. Each iteration is one pass, 50 ms after the last.
// snapshot_ms: how long a forecast's copy of the state took (the lock
// held, or waited for while a pass held it).
void BM_PassWhileForecasting(benchmark::State& state) {
  RealClock clock;
  MemoryStore store;
  ControlPlaneOptions o;
  o.data_dir = "/data";
  o.heartbeat_timeout = Duration::Hours(1);
  o.log = [](const std::string&) {};
  ControlPlane cp(&store, &clock, sched::MakeScheduler("stargate").value(), o);
  for (int n = 0; n < 1000; ++n) {
    Registration r;
    r.node.name = fmt::format("n{:04}", n);
    r.node.site = fmt::format("site{}", n % 10);
    r.node.address = "10.0.0.1";
    r.node.accelerator = AcceleratorType::kH100;
    r.node.accelerators = 8;
    r.agent_id = "a" + r.node.name;
    (void)cp.Register(r);
  }
  for (int j = 0; j < 10'000; ++j) {
    (void)cp.Submit(
        fmt::format("name: j{}\nresources: {{accelerators: H100:8}}\nestimate: {}m\nrun: x\n", j, 10 + j % 600),
        "job.yaml", "", "bench");
  }
  cp.Pass();  // places what fits
  std::atomic<bool> stop{false};
  std::atomic<int64_t> forecasts{0}, snapshot_us{0};
  std::thread forecaster;
  if (state.range(0) == 1) {
    forecaster = std::thread([&] {
      ForecastOptions fo;
      fo.seeds = 1;
      while (!stop) {
        const Time t0 = clock.Now();
        StatusOr<ForecastSnapshot> s = cp.ForecastState();
        snapshot_us += (clock.Now() - t0).nanos() / 1000;
        if (s.ok() && RunForecast(*s, fo).ok()) ++forecasts;
      }
    });
  }
  for (auto _ : state) {
    state.PauseTiming();  // passes 50 ms apart, as the loop's are 250 ms apart
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    state.ResumeTiming();
    cp.Pass();
  }
  stop = true;
  if (forecaster.joinable()) forecaster.join();
  state.counters["forecasts"] = static_cast<double>(forecasts.load());
  state.counters["snapshot_ms"] = forecasts > 0 ? snapshot_us.load() / 1e3 / static_cast<double>(forecasts) : 0;
}
BENCHMARK(BM_PassWhileForecasting)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(100);

}  // namespace
}  // namespace stargate::control

BENCHMARK_MAIN();
