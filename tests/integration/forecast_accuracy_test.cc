// The live forecast's accuracy (issue 19): a workload replayed through the
// server's ControlPlane on the manual clock, with in-process model agents
// (as in conformance_test.cc), and every 2 h a forecast of the pending
// jobs' starts, scored against when they then started. The anchor is a
// plain backfill estimate, the `squeue --start` analogue: the same
// scheduler run ahead on the same snapshot, but knowing no failures, no
// grid (so no deferral to clean hours, no power caps) and running one
// seed. The forecast must beat it.
//
// The scenario: three sites of four 8 x H100 nodes (a clean flat grid, a
// solar day, a dirty one; the solar site under a binding power cap),
// 300 jobs over 40 h (1- and 2-node gangs, 20 min to 4 h estimated; each
// runs 60-100% of its estimate, as users over-estimate; every fifth
// deferrable within 12 h; a few urgent ones), and a node of the clean
// site failing every 6 h for an hour. Forecasts: 24 h ahead, 4 seeds, at
// hours 4, 6, ..., 38; each pending job that then started within the
// horizon is one sample (a prediction past the horizon counts as its end).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "control/server/control_plane.h"
#include "control/server/forecast.h"
#include "control/server/site_book.h"
#include "control/store/memory_store.h"
#include "core/job_file_parser.h"
#include "core/rng.h"
#include "model/power_cap.h"
#include "runtime/manual_clock.h"
#include "sched/request_of.h"
#include "sched/scheduler.h"

namespace stargate {
namespace {

using control::JobRecord;
using control::JobState;

constexpr Time kT0 = Time::FromMillis(1'796'256'000'000);  // 2026-12-03 00:00 UTC
constexpr int kNodesPerSite = 4;
constexpr Duration kTimeout = Duration::Seconds(5);
constexpr Duration kHorizon = Duration::Hours(24);

struct Replay {
  ManualClock clock{kT0};
  control::MemoryStore store;
  std::unique_ptr<control::ControlPlane> cp;
  std::set<std::string> up;
  std::map<std::string, std::map<control::TaskRef, Time>> tasks;  // per node: task -> its end
  std::map<uint64_t, Duration> run_time;                          // per job: how long it really runs
};

std::vector<SiteInfo> Sites() {
  std::vector<SiteInfo> sites(3);
  const char* names[] = {"a-clean", "b-solar", "c-dirty"};
  for (int s = 0; s < 3; ++s) {
    sites[s].name = names[s];
    sites[s].pue = 1.2;
    for (int h = 0; h < 96; ++h) {
      const double day = 2 * M_PI * (h % 24) / 24.0;
      const double carbon = s == 0 ? 60 : s == 1 ? std::round(380 + 260 * std::sin(day - M_PI / 2)) : 680;
      sites[s].carbon.points.emplace_back(kT0 + Duration::Hours(h), carbon);
      sites[s].price.points.emplace_back(kT0 + Duration::Hours(h), 50 + 10 * s);
    }
  }
  // b-solar may draw what three of its four nodes draw busy.
  sites[1].power_cap_w = 1.2 * 3 * 8 * 1000.0;
  return sites;
}

struct Submission {
  Duration at;
  std::string text;
  Duration runs;  // what it really takes
};

// `exact`: each job runs its estimate; else 60-100% of it.
std::vector<Submission> Workload(bool exact) {
  Rng rng(2026);
  std::vector<Submission> out;
  for (int i = 0; i < 300; ++i) {
    const int minutes = 20 + static_cast<int>(rng.Below(221));
    const int nodes = rng.Below(5) == 0 ? 2 : 1;
    std::string text =
        fmt::format("name: j{}\nresources: {{accelerators: H100:8, nodes: {}}}\nestimate: {}m\n", i, nodes, minutes);
    if (i % 5 == 2) text += "deferrable: {deadline: 12h}\n";
    if (rng.Below(20) == 0) text += "priority: 5\n";
    text += "run: x\n";
    const double share = 0.6 + 0.4 * rng.Uniform();
    const Duration runs = Duration::FromSeconds(minutes * 60.0 * (exact ? 1.0 : share));
    out.push_back({Duration::Seconds(i * 480 + static_cast<int64_t>(rng.Below(300))), text, runs});
  }
  return out;
}

// One agent's heartbeat: ended tasks reported, new ones started.
void Beat(Replay& r, const std::string& node) {
  const Time now = r.clock.Now();
  control::AgentHeartbeat beat;
  beat.node = node;
  beat.telemetry.agent_id = "agent-" + node;
  for (const auto& [ref, end] : r.tasks[node]) beat.tasks.push_back({ref, end > now, 0, 0});
  const control::HeartbeatResult out = r.cp->Heartbeat(beat).value();
  for (const control::TaskRef& ref : out.forget) r.tasks[node].erase(ref);
  for (const control::TaskRef& ref : out.stop) {
    auto it = r.tasks[node].find(ref);
    if (it != r.tasks[node].end() && it->second > now) it->second = now;
  }
  for (const control::TaskLaunch& l : out.run) {
    // A device under a power cap does the same work slower (model/power_cap.h).
    const double slowdown =
        model::PowerCapEffect(Spec(AcceleratorType::kH100), sched::UtilisationOf(JobKind::kBatch), l.power_cap)
            .slowdown;
    r.tasks[node][l.task] = now + Duration::FromSeconds(r.run_time.at(l.task.job).seconds() * slowdown);
  }
}

// Absolute errors (hours) of each estimator over the samples.
struct Errors {
  std::vector<double> forecast, unlearned, anchor;
  // Run times: what the history predicted for a job pending at a forecast
  // (its first time only) and what its file said, against what it took.
  std::vector<double> learned_run, file_run;
};

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}
double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// The pending jobs' predicted p50 starts in `f`, a prediction past the
// horizon counted as its end.
std::map<uint64_t, Time> Starts(const control::Forecast& f) {
  std::map<uint64_t, Time> out;
  for (const control::JobForecast& j : f.jobs) {
    if (j.state == JobState::kPending) out[j.id] = j.start[1] == Time::Never() ? f.now + f.horizon : j.start[1];
  }
  return out;
}

Errors Replayed(bool exact) {
  Replay r;
  std::shared_ptr<const control::SiteBook> book = control::SiteBook::FromSites(Sites()).value();
  control::ControlPlaneOptions o;
  o.data_dir = "/data";
  o.heartbeat_timeout = kTimeout;
  o.sites = book;
  o.credit_stalls = false;  // passes at events (conformance_test.cc)
  o.log = [](const std::string&) {};
  o.reconciler.reject_grace = Duration::Zero();
  r.cp = std::make_unique<control::ControlPlane>(&r.store, &r.clock, sched::MakeScheduler("stargate").value(), o);
  EXPECT_TRUE(r.cp->Load().ok());
  for (const SiteInfo& s : Sites()) {
    for (int n = 0; n < kNodesPerSite; ++n) {
      control::Registration reg;
      reg.node.name = fmt::format("{}-{}", s.name, n);
      reg.node.site = s.name;
      reg.node.address = "10.0.0.1";
      reg.node.accelerator = AcceleratorType::kH100;
      reg.node.accelerators = 8;
      reg.agent_id = "agent-" + reg.node.name;
      EXPECT_TRUE(r.cp->Register(reg).ok());
      r.up.insert(reg.node.name);
    }
  }
  const std::vector<Submission> work = Workload(exact);
  // Scripted failures: a-clean's nodes in turn, every 6 h, for an hour.
  std::map<Time, std::string> fail, repair;
  for (int k = 0; k < 7; ++k) {
    const std::string node = fmt::format("a-clean-{}", k % kNodesPerSite);
    fail[kT0 + Duration::Hours(3 + 6 * k)] = node;
    repair[kT0 + Duration::Hours(4 + 6 * k)] = node;
  }
  std::set<Time> forecast_at;
  for (int h = 4; h <= 38; h += 2) forecast_at.insert(kT0 + Duration::Hours(h));
  // Per forecast instant, per pending job: its predicted starts.
  struct Predicted {
    Time forecast, unlearned, anchor;
  };
  std::vector<std::pair<Time, std::map<uint64_t, Predicted>>> predictions;
  std::set<Time> detect;  // when a failed node is seen lost
  Errors learned;         // run-time samples, gathered as the replay goes
  std::set<uint64_t> scored;
  size_t next = 0;
  const Time end = kT0 + Duration::Hours(64);
  for (Time now = kT0; now < end;) {
    r.clock.Set(now);
    if (auto f = fail.find(now); f != fail.end()) {
      r.up.erase(f->second);
      r.tasks.erase(f->second);
      detect.insert(now + kTimeout + Duration::Millis(1));
    }
    if (auto b = repair.find(now); b != repair.end()) r.up.insert(b->second);
    for (const std::string& n : r.up) Beat(r, n);
    while (next < work.size() && kT0 + work[next].at == now) {
      const control::ControlPlane::Submitted s = r.cp->Submit(work[next].text, "job.yaml", "", "replay").value();
      r.run_time[s.job.id] = work[next].runs;
      ++next;
    }
    r.cp->Pass();
    EXPECT_TRUE(r.cp->TrainRunTimes().ok());  // as the server's trainer does every few seconds
    for (const std::string& n : r.up) Beat(r, n);
    if (forecast_at.count(now)) {
      const control::ForecastSnapshot snap = r.cp->ForecastState().value();
      control::ForecastOptions fo;
      fo.horizon = kHorizon;
      fo.seeds = 4;
      const control::Forecast f = control::RunForecast(snap, fo).value();
      control::ForecastSnapshot unlearned = snap;  // the files' estimates, not what jobs like them took
      unlearned.run_times.clear();
      const control::Forecast u = control::RunForecast(unlearned, fo).value();
      control::ForecastSnapshot plain = unlearned;  // what squeue --start knows: no grid, no failures
      plain.sites = nullptr;
      plain.health.clear();
      fo.seeds = 1;
      const control::Forecast a = control::RunForecast(plain, fo).value();
      std::map<uint64_t, Predicted> both;
      const std::map<uint64_t, Time> fs = Starts(f), us = Starts(u), as = Starts(a);
      for (const auto& [id, t] : fs) both[id] = {t, us.at(id), as.at(id)};
      for (const JobRecord& j : snap.jobs) {
        if (j.state != JobState::kPending || !scored.insert(j.id).second) continue;
        const double took_h = r.run_time.at(j.id).hours(), file_h = j.spec.estimate.hours();
        learned.learned_run.push_back(std::abs(snap.run_times.at(j.id).run_time.hours() - took_h));
        learned.file_run.push_back(std::abs(file_h - took_h));
      }
      predictions.emplace_back(now, std::move(both));
    }
    // The next instant anything happens.
    Time t = next < work.size() ? kT0 + work[next].at : Time::Never();
    for (const auto* m : {&fail, &repair}) {
      if (auto it = m->upper_bound(now); it != m->end()) t = std::min(t, it->first);
    }
    for (const auto* s : {&forecast_at, &detect}) {
      if (auto it = s->upper_bound(now); it != s->end()) t = std::min(t, *it);
    }
    for (const auto& [node, on] : r.tasks) {
      for (const auto& [ref, e] : on) {
        if (e > now) t = std::min(t, e);
      }
    }
    const std::vector<JobRecord> all = r.cp->Jobs().value();
    for (const JobRecord& j : all) {
      if (j.state == JobState::kPending && j.deferred_until > now) t = std::min(t, j.deferred_until);
    }
    if (t == Time::Never()) break;
    now = t;
  }
  // When each job first started after each forecast: the placements.
  std::map<uint64_t, std::vector<Time>> placed;
  const std::vector<control::AuditEntry> places =
      r.cp->QueryAudit(control::AuditFilter{0, "scheduler", "place", 100000}).value();
  for (const control::AuditEntry& e : places) placed[e.job].push_back(e.at);
  Errors e = std::move(learned);
  for (const auto& [at, jobs] : predictions) {
    for (const auto& [id, p] : jobs) {
      auto times = placed.find(id);
      if (times == placed.end()) continue;
      auto first = std::lower_bound(times->second.begin(), times->second.end(), at);
      if (first == times->second.end() || *first > at + kHorizon) continue;  // not within the horizon
      e.forecast.push_back(std::abs((p.forecast - *first).hours()));
      e.unlearned.push_back(std::abs((p.unlearned - *first).hours()));
      e.anchor.push_back(std::abs((p.anchor - *first).hours()));
    }
  }
  return e;
}

void Report(const char* users, const Errors& e) {
  auto row = [&](const char* what, const std::vector<double>& v) {
    fmt::print("| {} | {} | {} | {:.2f} | {:.2f} | {:.2f} |\n", users, what, v.size(), Quantile(v, 0.5),
               Quantile(v, 0.9), Mean(v));
  };
  row("forecast (4 seeds; failures, grid, caps; learned run times)", e.forecast);
  row("forecast, the files' estimates", e.unlearned);
  row("plain backfill (squeue --start analogue)", e.anchor);
  fmt::print("| {} | run time: learned (run_time_model.h) | {} | {:.2f} | {:.2f} | {:.2f} |\n", users,
             e.learned_run.size(), Quantile(e.learned_run, 0.5), Quantile(e.learned_run, 0.9), Mean(e.learned_run));
  fmt::print("| {} | run time: the job file's estimate | {} | {:.2f} | {:.2f} | {:.2f} |\n", users, e.file_run.size(),
             Quantile(e.file_run, 0.5), Quantile(e.file_run, 0.9), Mean(e.file_run));
}

TEST(ForecastAccuracy, TheForecastBeatsAPlainBackfillEstimate) {
  fmt::print(
      "| users' estimates | estimate | samples | median abs. error h | p90 abs. error h | mean abs. error h |\n");
  for (bool exact : {false, true}) {
    const Errors e = Replayed(exact);
    ASSERT_GE(e.forecast.size(), 100u);
    Report(exact ? "exact" : "60-100% used", e);
    EXPECT_LT(Quantile(e.forecast, 0.5), Quantile(e.anchor, 0.5)) << exact;
    EXPECT_LT(Mean(e.forecast), Mean(e.anchor)) << exact;
    if (!exact) EXPECT_LT(Mean(e.learned_run), Mean(e.file_run));  // learning pays where users over-estimate
  }
}

}  // namespace
}  // namespace stargate
