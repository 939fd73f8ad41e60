// What a batch saves a control-loop pass (issue 20, group commit): COMMITS
// commits of one job record each (a condition on the key's revision and
// a put), as a pass that restarts or places that many jobs makes them,
// one by one and in one Store batch, on SQLite (group commit, as the
// server opens it) and on etcd 3.4 (a throwaway single member on
// loopback, /usr/bin/etcd). Prints a markdown table for bench/RESULTS.md.
// Usage: store_batch_bench [COMMITS] [ROUNDS]   (defaults: 300 5)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "../tests/unit/control/store/etcd_process.h"
#include "control/store/etcd_store.h"
#include "control/store/sqlite_store.h"
#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

// Wall seconds for one round: COMMITS conditional puts of ~1 KB records,
// each on the revision the last round left, in a batch or not, then the
// wait for durability a reply would make.
double Round(Store& s, int commits, bool batch, std::map<std::string, int64_t>& revisions, int round) {
  const std::string record(1000, static_cast<char>('a' + round % 26));
  const auto start = std::chrono::steady_clock::now();
  if (batch && !s.BeginBatch().ok()) std::abort();
  for (int i = 0; i < commits; ++i) {
    const std::string key = fmt::format("jobs/{}/{:06}", batch ? "b" : "s", i);
    Txn t;
    t.IfRevision(key, revisions[key]).Put(key, record);
    StatusOr<int64_t> rev = s.Commit(t);
    if (!rev.ok()) {
      fmt::print(stderr, "commit {}: {}\n", i, rev.status().ToString());
      std::exit(1);
    }
    revisions[key] = *rev;
  }
  if (batch && !s.EndBatch().ok()) std::abort();
  if (!s.WaitDurable(s.LastCommitted()).ok()) std::abort();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Measure(const char* name, Store& s, int commits, int rounds) {
  for (bool batch : {false, true}) {
    std::map<std::string, int64_t> revisions;
    Round(s, commits, batch, revisions, 0);  // creates the keys
    double best = 1e9, sum = 0;
    for (int r = 1; r <= rounds; ++r) {
      const double t = Round(s, commits, batch, revisions, r);
      best = std::min(best, t);
      sum += t;
    }
    fmt::print("| {} | {} | {} | {:.1f} ms | {:.1f} ms | {:.0f} |\n", name, batch ? "one batch" : "one by one", commits,
               best * 1e3, sum / rounds * 1e3, commits / (sum / rounds));
  }
}

}  // namespace
}  // namespace stargate::control

int main(int argc, char** argv) {
  using namespace stargate;
  using namespace stargate::control;
  const int commits = argc > 1 ? std::atoi(argv[1]) : 300;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  char tmpl[] = "/tmp/store-batch-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  fmt::print("| store | a pass's commits | commits | best | mean | commits/s |\n|---|---|---|---|---|---|\n");
  {
    auto sqlite = SqliteStore::Open(dir + "/state.db", {.group_commit = true}).value();
    Measure("SQLite, group commit", *sqlite, commits, rounds);
  }
  if (testing::EtcdProcess::Available()) {
    std::fflush(stdout);  // etcd's child would print the buffer again
    testing::EtcdProcess etcd(dir);
    RealClock clock;
    if (!etcd.healthy()) {
      fmt::print(stderr, "etcd did not become healthy\n");
      return 1;
    }
    auto store = EtcdStore::Open({etcd.endpoint()}, &clock, "bench/").value();
    Measure("etcd 3.4", *store, commits, rounds);
  } else {
    fmt::print(stderr, "no /usr/bin/etcd: etcd skipped\n");
  }
  std::filesystem::remove_all(dir);
  return 0;
}
