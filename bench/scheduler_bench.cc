// Scheduler speed (issue 3): one pass over 100,000 pending jobs on
// 1,000,000 accelerators, and placements per second; and (issue 24) the
// same pass with the accelerators spread over 10,000 small sites. Run:
//   ./build/scheduler_bench --benchmark_counters_tabular=true
// Targets: a pass <= 50 ms (10 sites and 10,000); >= 50,000 placements/s
// sustained.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/rng.h"
#include "sched/replica_choice.h"
#include "sched/scheduler.h"

namespace stargate::sched {
namespace {

constexpr int kSites = 10;
constexpr int kNodes = 125'000;  // x 8 devices = 1,000,000, however many sites hold them

// `num_sites` sites sharing kNodes nodes as evenly as they divide.
std::vector<SiteSpec> Sites(int num_sites = kSites) {
  const char* jurisdictions[] = {"US", "US", "US", "EU", "EU", "NO", "UK", "AE", "CA", "IN"};
  const AcceleratorType types[] = {AcceleratorType::kH100, AcceleratorType::kH200, AcceleratorType::kB200,
                                   AcceleratorType::kA100, AcceleratorType::kMI300X};
  std::vector<SiteSpec> sites;
  for (int i = 0; i < num_sites; ++i) {
    SiteSpec s;
    s.name = "site" + std::to_string(i);
    s.jurisdiction = jurisdictions[i % 10];
    const int nodes = kNodes / num_sites + (i < kNodes % num_sites ? 1 : 0);
    s.pools.push_back(PoolSpec{types[i % 5], nodes, 8, 4, 1});
    sites.push_back(s);
  }
  return sites;
}

void SetSignals(ClusterState& s, Rng& rng) {
  for (size_t i = 0; i < s.sites().size(); ++i) {
    SiteSignals sig;
    sig.carbon = 30 + 600 * rng.Uniform();
    sig.carbon_ahead = sig.carbon;
    sig.price = 30 + 90 * rng.Uniform();
    s.SetSignals(SiteId(static_cast<uint16_t>(i)), sig);
  }
}

// `n` jobs: mostly 1-8 devices, some gangs of 16-512, 10% EU-resident.
Queue Jobs(int n, const ClusterState& s, Rng& rng) {
  const int sizes[] = {1, 1, 2, 4, 8, 8, 8, 16, 64, 512};
  Queue q;
  for (int i = 0; i < n; ++i) {
    JobRequest r;
    r.id = JobId(static_cast<uint32_t>(i));
    r.accelerators = sizes[rng.Below(10)];
    r.submit = Time::Epoch() + Duration::Seconds(i);
    r.estimate = Duration::Minutes(10 + static_cast<int64_t>(rng.Below(6000)));
    if (rng.Bernoulli(0.1)) r.allowed = s.AllowedSites({"EU"}, {});
    q.Push(r);
  }
  return q;
}

// A pass over 100k pending jobs on a cluster with `busy_pct`% of nodes full.
// At 100% nothing fits and the pass must still look at every job
// (backfill_depth covers the whole queue); at 0% it places until full.
// `warm`: a pass before the timed ones, as every pass but a scheduler's
// first is (its indexes built, its scratch sized). The same state each
// time, so each pass does the same work.
void Pass(benchmark::State& st, const char* policy, bool warm) {
  const int busy_pct = static_cast<int>(st.range(0));
  const int num_sites = st.range(1) > 0 ? static_cast<int>(st.range(1)) : kSites;
  Rng rng(1);
  ClusterState base(Sites(num_sites));
  SetSignals(base, rng);
  for (uint32_t n = 0; n < base.num_nodes(); ++n) {
    if (static_cast<int>(n % 100) < busy_pct) base.Allocate(NodeId(n), 8);
  }
  // Every 97th node's gang ends in the next 208 hours, spread alike
  // however many sites hold the nodes (with 10 sites, about pool k's node
  // i at minute i; small pools get one now and then, not all at minute 0,
  // which is now: nothing to wait for).
  for (uint32_t n = 0; n < base.num_nodes(); n += 97) {
    const PoolId pool = base.PoolOf(NodeId(n));
    base.AddRunning(RunningGang::Ending(JobId(1'000'000 + n), pool, 8, Time::Epoch() + Duration::Minutes(n % 12'500)));
  }
  const Queue queue = Jobs(100'000, base, rng);
  SchedulerSpec spec;
  // "stargate-full-scan": the stargate policy weighing every pool for every
  // job (bounded_search off), the same placements, for comparison.
  const std::string name = policy;
  spec.bounded_search = name != "stargate-full-scan";
  if (!spec.bounded_search) policy = "stargate";
  spec.backfill_depth = 100'000;
  spec.backfill_interval = Duration::Zero();  // every pass deep, as the first one of an interval
  auto scheduler = MakeScheduler(policy, spec).value();
  if (warm) benchmark::DoNotOptimize(scheduler->Schedule(base, queue, Time::Epoch()));
  int64_t placed = 0, rejected = 0;
  for (auto _ : st) {
    Decisions d = scheduler->Schedule(base, queue, Time::Epoch());
    for (const auto& item : d.items) {
      placed += std::holds_alternative<Start>(item);
      rejected += std::holds_alternative<Reject>(item);
    }
    benchmark::DoNotOptimize(d);
  }
  const double passes = static_cast<double>(st.iterations());
  st.counters["placements/s"] = benchmark::Counter(static_cast<double>(placed), benchmark::Counter::kIsRate);
  st.counters["per_pass"] = static_cast<double>(placed) / passes;
  // Gangs no site can ever hold (512 devices on 10,000 sites of ~12 nodes).
  st.counters["rejected"] = static_cast<double>(rejected) / passes;
}

void BM_Pass(benchmark::State& st, const char* policy) { Pass(st, policy, false); }
void BM_PassWarm(benchmark::State& st, const char* policy) { Pass(st, policy, true); }

// Sustained placement: passes that each start what fits, applied to the
// state, with finished jobs released, over a stream of arrivals.
void BM_Sustained(benchmark::State& st, const char* policy) {
  Rng rng(2);
  ClusterState state(Sites());
  SetSignals(state, rng);
  auto scheduler = MakeScheduler(policy, {}).value();
  Queue queue = Jobs(0, state, rng);
  std::vector<Start> running;
  uint32_t next_id = 0;
  int64_t placed = 0;
  const int sizes[] = {1, 2, 4, 8, 8, 16, 64};
  for (auto _ : st) {
    st.PauseTiming();
    for (int i = 0; i < 5'000; ++i, ++next_id) {  // arrivals between passes
      JobRequest r;
      r.id = JobId(next_id);
      r.accelerators = sizes[rng.Below(7)];
      r.submit = Time::Epoch() + Duration::Seconds(next_id);
      r.estimate = Duration::Minutes(30);
      queue.Push(r);
    }
    for (size_t k = 0; k < running.size();) {  // ~a third finish
      if (rng.Bernoulli(0.3)) {
        for (NodeId n : running[k].nodes) state.Release(n, running[k].per_node);
        running[k] = std::move(running.back());
        running.pop_back();
      } else {
        ++k;
      }
    }
    st.ResumeTiming();
    Decisions d = scheduler->Schedule(state, queue, Time::Epoch());
    for (auto& item : d.items) {
      if (auto* s = std::get_if<Start>(&item)) {
        for (NodeId n : s->nodes) state.Allocate(n, s->per_node);
        queue.Erase(s->job);
        running.push_back(std::move(*s));
        ++placed;
      }
    }
  }
  st.counters["placements/s"] = benchmark::Counter(static_cast<double>(placed), benchmark::Counter::kIsRate);
  st.counters["queue"] = static_cast<double>(queue.size());
}

// Args: busy %, sites.
BENCHMARK_CAPTURE(BM_Pass, fifo, "fifo")->Args({0, 10})->Args({100, 10})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Pass, stargate, "stargate")
    ->Args({0, 10})
    ->Args({90, 10})
    ->Args({100, 10})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Pass, stargate_full_scan, "stargate-full-scan")
    ->Args({0, 10})
    ->Args({90, 10})
    ->Args({100, 10})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Pass, fifo_sites, "fifo")->Args({100, 10'000})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Pass, stargate_sites, "stargate")
    ->Args({0, 10'000})
    ->Args({90, 10'000})
    ->Args({100, 10'000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
// The same, warm: the first pass (building the indexes) untimed.
BENCHMARK_CAPTURE(BM_PassWarm, stargate_sites, "stargate")
    ->Args({0, 10'000})
    ->Args({90, 10'000})
    ->Args({100, 10'000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Pass, stargate_full_scan_sites, "stargate-full-scan")
    ->Args({90, 10'000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Sustained, fifo, "fifo")->Unit(benchmark::kMillisecond)->Iterations(200);
BENCHMARK_CAPTURE(BM_Sustained, stargate, "stargate")->Unit(benchmark::kMillisecond)->Iterations(200);

// The serving router's choice (issue 24): one request's pick and the two
// load changes it makes (in flight up, then down with a new service time),
// over n replicas, by the full scan and by the index.
std::vector<ReplicaLoad> RandomReplicas(size_t n) {
  Rng rng(5);
  std::vector<ReplicaLoad> loads(n);
  for (auto& r : loads) {
    r.routable = true;
    r.network = Duration::Micros(static_cast<int64_t>(rng.Below(80'000)));
    r.inflight = static_cast<int>(rng.Below(8));
    r.service = Duration::Micros(2'000 + static_cast<int64_t>(rng.Below(20'000)));
  }
  return loads;
}

void BM_PickReplica(benchmark::State& st, bool indexed) {
  std::vector<ReplicaLoad> loads = RandomReplicas(static_cast<size_t>(st.range(0)));
  ReplicaIndex index;
  for (size_t i = 0; i < loads.size(); ++i) index.Set(i, loads[i]);
  int64_t tick = 0;
  for (auto _ : st) {
    const std::optional<size_t> best =
        indexed ? index.Pick({}, Duration::Millis(5)) : PickReplica(loads, {}, Duration::Millis(5));
    benchmark::DoNotOptimize(best);
    ReplicaLoad& r = loads[*best];
    ++r.inflight;
    if (indexed) index.Set(*best, r);
    --r.inflight;
    r.service = Duration::Micros(2'000 + (++tick * 7919) % 20'000);
    if (indexed) index.Set(*best, r);
  }
}
BENCHMARK_CAPTURE(BM_PickReplica, full_scan, false)->Arg(10)->Arg(100)->Arg(1'000)->Arg(10'000);
BENCHMARK_CAPTURE(BM_PickReplica, index, true)->Arg(10)->Arg(100)->Arg(1'000)->Arg(10'000);

}  // namespace
}  // namespace stargate::sched

BENCHMARK_MAIN();
