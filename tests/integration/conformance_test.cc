// Conformance: the twin and the server run the same policy the same way.
//
// One small scenario (three sites with different hourly carbon and price
// series, one under a binding power cap; ~80 jobs of mixed kinds (a
// dozen of them shares of one device, packed),
// priorities and sizes, deferrable ones among them; a job that never fits
// and one for a jurisdiction no site is in; a scripted node failure; an
// urgent job that preempts) goes through
//   - the twin (twin::Engine), and
//   - the server's control plane (control::ControlPlane, the one object
//     that owns a `stargate server`'s state: its job and node registries
//     over a store, the audit log, the metrics and the reconciler, behind
//     its lock), with the sites file as a SiteBook, on the manual clock:
//     jobs come in through its Submit, as the REST API hands them over;
//     nodes join and heartbeat through its agent API (Register, Heartbeat),
//     as the agents' gRPC service hands them over; and the test makes the
//     control loop's passes (Pass) at the instants the twin has events
//     (arrivals, ends, wake-ups, the failure and the repair), where the
//     loop's thread would pass every 250 ms (so a gap between passes is no
//     stall here: ControlPlaneOptions::credit_stalls is off). The agents
//     are in-process model agents: each heartbeats at every event with the
//     tasks it runs, starts what the server hands it, and ends a task when
//     the twin's model says it ends (a job's estimate on the H100
//     reference; no checkpoints, no restart overhead, as the scenario sets
//     for the twin), or at the end of a preemption's warning; it reports
//     the GPU (board) power the model gives its busy and idle devices and
//     that the caps it is given hold; the failed node stops heartbeating.
//     (The listeners, REST over HTTP and the agent API over gRPC, carry
//     the same calls and are tested on their own.)
// Both get every job file through the one parser and the one conversion
// (sched::RequestOf), and the server passes at the instants the twin does
// (arrivals, ends, wake-ups, the failure and the repair). Their decision
// logs (start: site, time and device power cap; deferrals: first and last
// time and count; preemptions; rejections; repairs), to the second (the
// server keeps times in ms), must be identical: no difference is allowed.
// The same holds under the fifo policy set. The carbon figures of both
// runs are printed for bench/RESULTS.md; they differ only in the failed
// node's hour: the twin's meter counts its idle draw while it is down, the
// server counts what its live nodes report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "control/server/control_plane.h"
#include "control/server/site_book.h"
#include "control/store/memory_store.h"
#include "core/job_file_parser.h"
#include "model/power.h"
#include "model/power_cap.h"
#include "runtime/manual_clock.h"
#include "sched/request_of.h"
#include "twin/engine.h"

namespace stargate {
namespace {

using control::JobRecord;
using control::JobState;

constexpr Time kT0 = Time::FromMillis(1'796'256'000'000);  // 2026-12-03 00:00 UTC: hour 0 of both runs
constexpr int kSeriesHours = 72;
constexpr Duration kHorizon = Duration::Hours(30);
constexpr int kNodesPerSite = 4;
constexpr Duration kHeartbeatTimeout = Duration::Seconds(5);

struct SiteDef {
  std::string name, region, jurisdiction;
  double latitude, longitude, pue;
  double power_cap_w;  // 0 = none
  std::vector<double> carbon, price;
  double ramp_mw_per_min = 0;  // power choreography (sched/power_ramp.h); 0 = none
};

// Three sites in name order (the server orders its sites by name; the
// twin takes them as given).
std::vector<SiteDef> Sites() {
  std::vector<SiteDef> s = {
      {"a-north", "north", "EU", 60.0, 10.0, 1.10, 0, {}, {}},
      {"b-middle", "middle", "EU", 50.0, 8.0, 1.20, 0, {}, {}},
      {"c-south", "south", "US", 30.0, -97.0, 1.30, 0, {}, {}},
  };
  for (int h = 0; h < kSeriesHours; ++h) {
    const double day = 2 * M_PI * (h % 24) / 24.0;
    s[0].carbon.push_back(std::round(40 + 15 * std::sin(day)));               // hydro: clean, flat
    s[1].carbon.push_back(std::round(380 + 260 * std::sin(day - M_PI / 2)));  // solar dip at midday
    s[2].carbon.push_back(std::round(650 + 50 * std::sin(day)));              // coal: dirty
    s[0].price.push_back(std::round(90 + 20 * std::sin(day)));
    s[1].price.push_back(std::round(70 + 40 * std::sin(day)));
    s[2].price.push_back(std::round(30 + 5 * std::sin(day)));  // cheap
  }
  // b-middle may draw what 2.5 of its 4 nodes draw busy: a binding cap.
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  s[1].power_cap_w = s[1].pue * model::PoolPower(h100, 8 * kNodesPerSite, 20, 0.75).value();
  // c-south's grid takes a change of 4.2 kW a minute: about one node's
  // rise, so starts together there are staggered.
  s[2].ramp_mw_per_min = 0.0042;
  return s;
}

struct JobDef {
  Duration submit;  // from hour 0
  std::string text;
};

// ~80 jobs, deterministic: mostly one 8-GPU node, some 2-node gangs, a
// dozen shares of one device (a half or a quarter), mixed
// kinds and priorities, every seventh deferrable; a burst of long
// low-priority work, then an urgent 2-node job that preempts; one job too
// big for any pool and one for a jurisdiction no site is in.
std::vector<JobDef> Jobs() {
  std::vector<JobDef> jobs;
  const char* kinds[] = {"batch", "finetune", "inference", "batch", "finetune"};
  uint32_t x = 12345;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return (x >> 16) & 0x7fff;
  };
  for (int i = 0; i < 56; ++i) {
    const int minutes = 20 + static_cast<int>(next() % 160);
    const int nodes = next() % 6 == 0 ? 2 : 1;
    const int priority = next() % 5 == 0 ? 5 : 0;
    const bool deferrable = i % 7 == 3;
    std::string text =
        fmt::format("name: j{}\nkind: {}\nresources: {{accelerators: H100:8, nodes: {}}}\n", i, kinds[i % 5], nodes);
    text += fmt::format("priority: {}\nestimate: {}m\n", priority, minutes);
    if (deferrable) text += "deferrable: {deadline: 14h}\n";
    text += "run: x\n";
    jobs.push_back({Duration::Minutes(i * 11), text});
  }
  // Shares of one device (inference replicas, small fine-tunes), packed.
  for (int i = 0; i < 12; ++i) {
    jobs.push_back(
        {Duration::Minutes(30 + i * 37),
         fmt::format("name: share{}\nkind: {}\nresources: {{accelerators: 'H100:{}'}}\nestimate: {}m\n"
                     "run: x\n",
                     i, i % 2 == 0 ? "inference" : "finetune", i % 3 == 0 ? "0.5" : "0.25", 30 + (i * 13) % 90)});
  }
  // A burst of long, low-priority work fills the sites...
  for (int i = 0; i < 6; ++i) {
    jobs.push_back({Duration::Minutes(600 + i),
                    fmt::format("name: long{}\nkind: batch\nresources: {{accelerators: H100:8, nodes: 2}}\n"
                                "priority: -1\nestimate: 5h\nrun: x\n",
                                i)});
  }
  // ... then an urgent gang of a whole site's nodes cannot wait for it.
  jobs.push_back({Duration::Minutes(900),
                  "name: urgent\nkind: finetune\nresources: {accelerators: H100:8, nodes: 4}\n"
                  "priority: 10\nestimate: 1h\nrun: x\n"});
  jobs.push_back({Duration::Minutes(65), "name: huge\nresources: {accelerators: H100:8, nodes: 6}\nrun: x\n"});
  jobs.push_back({Duration::Minutes(125),
                  "name: tokyo\nresources: {accelerators: H100:8}\n"
                  "placement: {jurisdictions: [JP]}\nrun: x\n"});
  std::stable_sort(jobs.begin(), jobs.end(), [](const JobDef& a, const JobDef& b) { return a.submit < b.submit; });
  return jobs;
}

// The scripted failure: the first node of a-north (the clean site, busy
// then) fails at 3 h 07 min and is back an hour later.
const FailureSpec::Scripted kFailure{Duration::Minutes(187), "a-north", 0, Duration::Hours(1)};

// The policy set both runs use ("stargate" or "fifo").
std::string g_policy = "stargate";

SchedulerSpec Policy() {
  SchedulerSpec s;
  s.power_save.enabled = false;
  s.carbon_cap.enabled = true;  // starts on a grid above 400 g/kWh: devices at 70% of TDP
  s.carbon_cap.above_g_per_kwh = 400;
  s.carbon_cap.tdp_fraction = 0.7;
  return s;
}

// "70%" from a placement reason's "power capped at 70% of TDP" ("" = none).
// "0.004 MW: launch in 60 s, full 61 s later" from a placement reason's
// power ramp ("" = none).
std::string RampOf(const std::string& reason) {
  const size_t at = reason.find("power ramp ");
  if (at == std::string::npos) return "";
  const size_t end = std::min(reason.find(';', at), reason.find(" -> ", at));  // the server's detail adds the nodes
  return reason.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
}

std::string CapOf(const std::string& reason) {
  const size_t at = reason.find("power capped at ");
  return at == std::string::npos ? "" : reason.substr(at + 16, reason.find(' ', at + 16) - at - 16);
}

// One decision, as both logs are compared.
struct Decision {
  Duration at;  // from hour 0
  uint32_t job = 0;
  std::string action, site;
  std::string cap;   // a start's device power cap ("70%"; "" = none)
  std::string ramp;  // a start's power ramp ("" = none)
  Duration last;     // deferrals folded: the last one
  int count = 1;
  std::string Line() const {
    auto hms = [](Duration d) {
      const int64_t s = d.millis() / 1000;
      return fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    };
    std::string line = fmt::format("{} job {} {}", hms(at), job, action);
    if (!site.empty()) line += " at " + site;
    if (!cap.empty()) line += " capped at " + cap;
    if (!ramp.empty()) line += " ramp " + ramp;
    if (count > 1) line += fmt::format(" (x{}, last {})", count, hms(last));
    return line;
  }
};

std::vector<std::string> Lines(std::vector<Decision> log) {
  std::stable_sort(log.begin(), log.end(), [](const Decision& a, const Decision& b) {
    return std::tie(a.at, a.job, a.action) < std::tie(b.at, b.job, b.action);
  });
  std::vector<std::string> out;
  for (const Decision& d : log) out.push_back(d.Line());
  return out;
}

struct Figures {
  double energy_mwh = 0, tco2 = 0, workload_tco2 = 0;
  int starts = 0, deferrals = 0, preemptions = 0, rejections = 0;
};

// ---- the twin ----

struct TwinRun {
  std::vector<Decision> log;
  Figures figures;
};

TwinRun RunTwin(const std::vector<SiteDef>& sites, const std::vector<JobDef>& jobs) {
  twin::TwinInputs in;
  in.spec.name = "conformance";
  in.spec.policy = g_policy;
  in.spec.duration = kHorizon;
  in.spec.scheduler = Policy();
  in.spec.failures.enabled = false;
  in.spec.failures.restart = Duration::Zero();
  in.spec.failures.scripted = {kFailure};
  for (const SiteDef& d : sites) {
    SiteSpec s;
    s.name = d.name;
    s.region = d.region;
    s.jurisdiction = d.jurisdiction;
    s.latitude = d.latitude;
    s.longitude = d.longitude;
    s.pue = d.pue;
    s.power_cap = Watts(d.power_cap_w);
    s.power_ramp.mw_per_min = d.ramp_mw_per_min;
    PoolSpec p;  // as the server builds a pool from its nodes
    p.type = AcceleratorType::kH100;
    p.nodes = kNodesPerSite;
    p.accels_per_node = 8;
    p.nodes_per_rack = 1;
    p.domain_nodes = 1;
    s.pools.push_back(p);
    in.spec.sites.push_back(s);
    in.carbon.push_back(HourlySeries{d.carbon});
    in.price.push_back(HourlySeries{d.price});
  }
  for (const JobDef& j : jobs) {
    JobFile f = ParseJobFile(j.text, "job.yaml").value();
    SetSubmitted(f, Time::Epoch() + j.submit);
    in.jobs.push_back(f.spec);
  }
  twin::Engine engine(in, sched::MakeScheduler(g_policy, in.spec.scheduler).value());
  const twin::RunResult r = engine.Run();
  TwinRun out;
  for (const twin::AuditRecord& a : r.audit) {
    Decision d;
    d.at = a.at - Time::Epoch();
    d.job = a.job;
    d.action = std::string(twin::Name(a.action));
    if (a.action == twin::AuditAction::kStart) {
      d.site = sites[static_cast<size_t>(a.site)].name;
      d.cap = CapOf(a.detail);
      d.ramp = RampOf(a.detail);
    }
    d.count = static_cast<int>(a.count);
    d.last = a.last - Time::Epoch();
    out.log.push_back(d);
  }
  out.figures.energy_mwh = r.summary.energy_mwh;
  out.figures.tco2 = r.summary.tco2;
  out.figures.workload_tco2 = r.summary.workload_tco2;
  out.figures.deferrals = static_cast<int>(r.summary.deferrals);
  out.figures.preemptions = static_cast<int>(r.summary.preemptions);
  for (const Decision& d : out.log) {
    out.figures.starts += d.action == "start";
    out.figures.rejections += d.action == "reject";
  }
  return out;
}

// ---- the server ----

class ServerRun {
 public:
  ServerRun(const std::vector<SiteDef>& sites, const std::vector<JobDef>& jobs) : sites_(sites), jobs_defs_(jobs) {
    std::vector<SiteInfo> infos;
    for (const SiteDef& d : sites) {
      SiteInfo s;
      s.name = d.name;
      s.latitude = d.latitude;
      s.longitude = d.longitude;
      s.pue = d.pue;
      if (d.power_cap_w > 0) s.power_cap_w = d.power_cap_w;
      s.power_ramp.mw_per_min = d.ramp_mw_per_min;
      for (int h = 0; h < kSeriesHours; ++h) {
        s.carbon.points.emplace_back(kT0 + Duration::Hours(h), d.carbon[static_cast<size_t>(h)]);
        s.price.points.emplace_back(kT0 + Duration::Hours(h), d.price[static_cast<size_t>(h)]);
      }
      infos.push_back(s);
    }
    book_ = control::SiteBook::FromSites(infos).value();
    control::ControlPlaneOptions o;
    o.reconciler.check_kept_view = true;  // every pass: the kept view is one built afresh
    o.data_dir = "/data";
    o.heartbeat_timeout = kHeartbeatTimeout;
    o.sites = book_;
    o.credit_stalls = false;  // passes at events, not every 250 ms
    o.log = [](const std::string&) {};
    o.reconciler.gang_repair = false;  // the scenario's failures.gang_repair
    o.reconciler.site_partition_grace = Duration::Zero();
    o.reconciler.reject_grace = Duration::Zero();  // the twin knows its whole topology from the start
    cp_ = std::make_unique<control::ControlPlane>(&store_, &clock_, sched::MakeScheduler(g_policy, Policy()).value(),
                                                  std::move(o));
    EXPECT_TRUE(cp_->Load().ok());
    for (const SiteDef& d : sites) {
      for (int n = 0; n < kNodesPerSite; ++n) {
        control::Registration r;
        r.node.name = fmt::format("{}-{:02}", d.name, n);
        r.node.site = d.name;
        r.node.region = d.region;
        r.node.jurisdiction = d.jurisdiction;
        r.node.address = "10.0.0.1";
        r.node.accelerator = AcceleratorType::kH100;
        r.node.accelerators = 8;
        r.agent_id = "agent-" + r.node.name;
        EXPECT_TRUE(cp_->Register(r).ok());
        up_.insert(r.node.name);
        pue_[r.node.name] = d.pue;
        site_of_[r.node.name] = d.name;
      }
    }
    for (const JobDef& j : jobs) estimate_.push_back(ParseJobFile(j.text, "job.yaml").value());
  }

  void Run() {
    size_t next_job = 0;
    failed_node_ = fmt::format("{}-{:02}", kFailure.site, kFailure.node);
    const Time fail_at = kT0 + kFailure.at, back_at = fail_at + kFailure.repair;
    for (Time now = kT0; now < kT0 + kHorizon;) {
      Integrate(now);
      clock_.Set(now);
      if (now == fail_at) {  // the node dies with its tasks
        up_.erase(failed_node_);
        tasks_.erase(failed_node_);
      }
      if (now == back_at) up_.insert(failed_node_);
      for (const std::string& n : up_) Beat(n);  // what ended
      while (next_job < jobs_defs_.size() && kT0 + jobs_defs_[next_job].submit == now) {
        ASSERT_TRUE(cp_->Submit(jobs_defs_[next_job].text, "job.yaml", "", "conformance").ok());
        ++next_job;
      }
      cp_->Pass();
      for (const std::string& n : up_) Beat(n);  // what to start and stop
      // The next instant anything happens.
      Time next = next_job < jobs_defs_.size() ? kT0 + jobs_defs_[next_job].submit : Time::Never();
      for (Time t : {fail_at, back_at}) {
        if (t > now) next = std::min(next, t);
      }
      for (const auto& [node, tasks] : tasks_) {
        for (const auto& [ref, task] : tasks) {
          if (task.end > now) next = std::min(next, task.end);
        }
      }
      const std::vector<JobRecord> all = cp_->Jobs().value();
      for (const JobRecord& r : all) {
        if (r.state == JobState::kPending && r.deferred_until > now) next = std::min(next, r.deferred_until);
        if (r.state == JobState::kRunning && r.launch_at > now)
          next = std::min(next, r.launch_at);  // a staggered start
      }
      // A lost node still counted alive: look again once it is not.
      if (!up_.count(failed_node_)) {
        for (const control::ControlPlane::NodeView& v : cp_->Nodes().nodes) {
          if (v.info.name != failed_node_ || !v.alive) continue;
          next = std::min(next, v.telemetry.last_heartbeat + kHeartbeatTimeout + Duration::Millis(1));
        }
      }
      if (next == Time::Never()) break;
      now = next;
    }
    Integrate(kT0 + kHorizon);
  }

  std::vector<Decision> Log() {
    std::vector<Decision> out;
    std::map<uint32_t, size_t> last_defer;  // job -> its folded deferral, while the latest entry
    const std::vector<control::AuditEntry> entries =
        cp_->QueryAudit(control::AuditFilter{0, "scheduler", "", 100000}).value();
    for (const control::AuditEntry& e : entries) {
      static const std::map<std::string, std::string> kActions = {
          {"place", "start"}, {"defer", "defer"}, {"preempt", "preempt"}, {"reject", "reject"}, {"repair", "repair"}};
      auto action = kActions.find(e.action);
      if (action == kActions.end()) continue;
      const uint32_t job = static_cast<uint32_t>(e.job - 1);
      if (action->second == "defer") {
        if (auto f = last_defer.find(job); f != last_defer.end()) {
          ++out[f->second].count;
          out[f->second].last = e.at - kT0;
          continue;
        }
        last_defer[job] = out.size();
      } else {
        last_defer.erase(job);
      }
      Decision d;
      d.at = e.at - kT0;
      d.job = job;
      d.action = action->second;
      d.last = d.at;
      if (d.action == "start") {
        const std::string first_node = e.detail.substr(e.detail.rfind(" -> ") + 4);
        auto site = site_of_.find(first_node.substr(0, first_node.find(' ')));
        EXPECT_NE(site, site_of_.end()) << e.detail;
        if (site != site_of_.end()) d.site = site->second;
        d.cap = CapOf(e.detail);
        d.ramp = RampOf(e.detail);
      }
      out.push_back(d);
    }
    return out;
  }

  Figures figures() const { return figures_; }
  // The most shares of one device that ran at once on a node.
  int most_sharers() const { return most_sharers_; }

 private:
  struct Task {
    Time end;
    int signal = 0;
    double devices = 8;  // a share: its part of one device
    double utilisation = 0;
    double cut_w = 0;  // per device, under a power cap
    int slot = -1;     // a share: the node's shared device it is in
  };

  // One agent's heartbeat: the tasks it runs or that ended, and the GPU
  // power the model gives its devices; it starts and stops what it is told.
  void Beat(const std::string& node) {
    const Time now = clock_.Now();
    std::map<control::TaskRef, Task>& tasks = tasks_[node];
    std::vector<control::TaskReport> reports;
    for (const auto& [ref, t] : tasks) {
      const bool running = t.end > now;
      // A capped task's agent enforces its cap (nvidia-smi -pl).
      reports.push_back(
          control::TaskReport{ref, running, 0, running ? 0 : t.signal, false,
                              t.cut_w > 0 ? control::TaskReport::Cap::kEnforced : control::TaskReport::Cap::kNone});
    }
    control::AgentHeartbeat beat;
    beat.node = node;
    beat.telemetry.agent_id = "agent-" + node;
    beat.telemetry.gpu_power_w = NodePowerW(node, now, /*board=*/true);
    beat.tasks = std::move(reports);
    const control::HeartbeatResult r = cp_->Heartbeat(beat).value();
    ASSERT_FALSE(r.register_again) << node;
    for (const control::TaskRef& ref : r.forget) tasks.erase(ref);
    for (const control::TaskRef& ref : r.stop) {
      auto it = tasks.find(ref);
      if (it == tasks.end() || it->second.end <= now) continue;
      auto grace = r.stop_grace.find(ref);
      const Time stop = now + (grace == r.stop_grace.end() ? Duration::Zero() : grace->second);
      if (stop < it->second.end) {  // stopped before it would have ended
        it->second.end = stop;
        it->second.signal = 15;
      }
    }
    for (const control::TaskLaunch& l : r.run) {
      const JobFile& f = estimate_.at(l.task.job - 1);
      const double util = sched::UtilisationOf(f.spec.kind);
      // A capped device draws less and does the same work slower (the
      // twin's model of it, model/power_cap.h).
      const model::CapEffect cap = model::PowerCapEffect(Spec(AcceleratorType::kH100), util, l.power_cap);
      // Its power ramp costs what the twin counts (the launch was already
      // staggered by the server): the hold and half the rise.
      const Duration run = Duration::FromSeconds(1.0 * (f.estimate.seconds() * cap.slowdown)) + l.ramp_hold +
                           Duration::Nanos(l.ramp_up.nanos() / 2);
      const int slot = f.spec.share_milli > 0 ? std::stoi(l.env.at("STARGATE_GPU_SHARE_SLOT")) : -1;
      const double devices = slot >= 0 ? f.spec.share_milli / 1000.0 : f.spec.per_node;
      tasks[l.task] = Task{now + run, 0, devices, util, cap.saved.value(), slot};
      if (slot >= 0) {  // how many shares its device holds now
        const auto sharers = std::count_if(
            tasks.begin(), tasks.end(), [&](const auto& kv) { return kv.second.slot == slot && kv.second.end > now; });
        most_sharers_ = std::max<int>(most_sharers_, static_cast<int>(sharers));
      }
    }
  }

  // The node's power now as the model gives it for its busy and idle
  // devices: `board` = the GPUs alone (what nvidia-smi reports), else with
  // the host share (what the twin's meter counts).
  double NodePowerW(const std::string& node, Time now, bool board = false) const {
    const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
    auto power = [&](double u) {
      return board ? model::BoardPower(h100, u).value() : model::DevicePower(h100, u).value();
    };
    double w = 0, busy = 0;
    std::set<int> slots;  // a shared device is busy once, its shares draw their part above idle
    if (auto it = tasks_.find(node); it != tasks_.end()) {
      for (const auto& [ref, t] : it->second) {
        if (t.end <= now) continue;
        if (t.slot >= 0) {
          w += (power(t.utilisation) - power(0) - t.cut_w) * t.devices;
          slots.insert(t.slot);
        } else {
          w += (power(t.utilisation) - t.cut_w) * t.devices;
          busy += t.devices;
        }
      }
    }
    busy += static_cast<double>(slots.size());
    w += power(0) * static_cast<double>(slots.size());
    return w + power(0) * (8 - busy);
  }

  // Energy and emissions from the last instant to `to`: each live node's
  // draw x its site's PUE x the grid's carbon, hour by hour.
  void Integrate(Time to) {
    const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
    for (Time t = last_; t < to;) {
      const Time hour_end = kT0 + Duration::Hours((t - kT0).nanos() / Duration::Hours(1).nanos() + 1);
      const Time until = std::min(to, hour_end);
      const double hours = (until - t).seconds() / 3600.0;
      for (const auto& [node, site] : site_of_) {
        const double carbon = book_->GridAt(site, t).signals.carbon;
        // Nodes draw idle power when up (as the twin's meter counts them) and nothing when down.
        const double it_w = up_.count(node) ? NodePowerW(node, t) : 0.0;
        const double mwh = it_w * pue_.at(node) * hours / 1e6;
        figures_.energy_mwh += mwh;
        figures_.tco2 += mwh * carbon / 1e3;  // MWh x g/kWh = kg; / 1e3 = t
        if (auto it = tasks_.find(node); it != tasks_.end()) {
          for (const auto& [ref, task] : it->second) {
            if (task.end <= t) continue;
            const double busy_mwh = ((model::DevicePower(h100, task.utilisation).value() - task.cut_w) * task.devices) *
                                    pue_.at(node) * hours / 1e6;
            figures_.workload_tco2 += busy_mwh * carbon / 1e3;
          }
        }
      }
      t = until;
    }
    last_ = std::max(last_, to);
  }

  const std::vector<SiteDef>& sites_;
  const std::vector<JobDef>& jobs_defs_;
  int most_sharers_ = 0;
  ManualClock clock_{kT0};
  control::MemoryStore store_;
  std::unique_ptr<control::ControlPlane> cp_;
  std::shared_ptr<const control::SiteBook> book_;
  std::vector<JobFile> estimate_;  // by job id - 1
  std::set<std::string> up_;
  std::map<std::string, double> pue_;
  std::map<std::string, std::string> site_of_;
  std::map<std::string, std::map<control::TaskRef, Task>> tasks_;  // per node
  std::string failed_node_;
  Time last_ = kT0;
  Figures figures_;
};

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, TheTwinAndTheServerMakeTheSameDecisions) {
  g_policy = GetParam();
  const std::vector<SiteDef> sites = Sites();
  const std::vector<JobDef> jobs = Jobs();
  const TwinRun twin = RunTwin(sites, jobs);
  ServerRun server(sites, jobs);
  server.Run();
  const std::vector<Decision> server_log = server.Log();
  const std::vector<std::string> want = Lines(twin.log), got = Lines(server_log);
  std::string diff;
  std::set<std::string> a(want.begin(), want.end()), b(got.begin(), got.end());
  for (const std::string& l : want) {
    if (!b.count(l)) diff += "  twin only:   " + l + "\n";
  }
  for (const std::string& l : got) {
    if (!a.count(l)) diff += "  server only: " + l + "\n";
  }
  EXPECT_TRUE(diff.empty()) << "the decision logs differ:\n" << diff;
  EXPECT_EQ(want.size(), got.size());
  // The scenario exercises what it says it does.
  auto count = [&](const std::string& action) {
    return std::count_if(twin.log.begin(), twin.log.end(), [&](const Decision& d) { return d.action == action; });
  };
  EXPECT_GE(count("start"), 64);  // each job once, the failed and the preempted ones again
  EXPECT_EQ(count("reject"), 2);
  std::set<std::string> sites_used;
  for (const Decision& d : twin.log) {
    if (!d.site.empty()) sites_used.insert(d.site);
  }
  EXPECT_EQ(sites_used.size(), 3u);
  EXPECT_GE(server.most_sharers(), 2);  // shares of one device ran packed together
  if (g_policy == "stargate") {
    EXPECT_GE(count("defer"), 1);
    EXPECT_GE(count("preempt"), 1);
    EXPECT_GE(std::count_if(twin.log.begin(), twin.log.end(), [](const Decision& d) { return !d.cap.empty(); }), 1);
  }
  // Starts at c-south are ramped, and some staggered behind another's rise.
  EXPECT_GE(std::count_if(twin.log.begin(), twin.log.end(), [](const Decision& d) { return !d.ramp.empty(); }), 1);
  EXPECT_GE(std::count_if(
                twin.log.begin(), twin.log.end(),
                [](const Decision& d) { return d.ramp.find("launch in 0 s") == std::string::npos && !d.ramp.empty(); }),
            1);

  Figures s = server.figures();
  for (const Decision& d : server_log) {
    s.starts += d.action == "start";
    s.deferrals += d.action == "defer" ? d.count : 0;
    s.preemptions += d.action == "preempt";
    s.rejections += d.action == "reject";
  }
  const Figures& t = twin.figures;
  fmt::print(
      "| {} | twin | {} | {} | {} | {} | {:.3f} | {:.4f} | {:.4f} |\n"
      "| {} | server (manual clock) | {} | {} | {} | {} | {:.3f} | {:.4f} | {:.4f} |\n",
      g_policy, t.starts, t.deferrals, t.preemptions, t.rejections, t.energy_mwh, t.tco2, t.workload_tco2, g_policy,
      s.starts, s.deferrals, s.preemptions, s.rejections, s.energy_mwh, s.tco2, s.workload_tco2);
  if (!diff.empty()) {
    fmt::print("twin's decisions ({}):\n", want.size());
    for (const std::string& l : want) fmt::print("  {}\n", l);
  }
}

INSTANTIATE_TEST_SUITE_P(PolicySets, Conformance, ::testing::Values("stargate", "fifo"));

}  // namespace
}  // namespace stargate
