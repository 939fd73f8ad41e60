#include "control/server/metrics.h"

#include <map>

#include <fmt/format.h>

#include "control/server/job_registry.h"
#include "control/server/node_registry.h"

namespace stargate::control {
namespace {

// Label values: backslash, double quote and newline escaped.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void Histogram::Observe(double v) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  }
  ++count_;
  sum_ += v;
}

std::string Histogram::Render(const std::string& name) const {
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
  return out;
}

std::string RenderMetrics(JobRegistry& jobs, const NodeRegistry& nodes, const SiteBook* book,
                          const std::map<std::string, SiteDraw>& draw, const Metrics& m, Time now) {
  std::string out;
  // Jobs by state (every state, zeros included, so rates and alerts work).
  std::map<std::string, int64_t> by_state;
  for (JobState s :
       {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) {
    by_state[std::string(Name(s))] = 0;
  }
  struct Site {
    int64_t up = 0, down = 0, free = 0, used = 0;
    double power_w = 0;
  };
  std::map<std::string, Site> sites;
  std::map<std::string, int64_t> used_on;  // devices held by running ranks, per node
  if (StatusOr<JobRegistry::Census> census = jobs.TakeCensus(); census.ok()) {
    for (const auto& [state, n] : census->by_state) by_state[std::string(Name(state))] = n;
    used_on = std::move(census->busy_on);
  }
  Header(out, "stargate_jobs", "gauge", "Jobs by state.");
  for (const auto& [state, n] : by_state) out += fmt::format("stargate_jobs{{state=\"{}\"}} {}\n", state, n);

  Header(out, "stargate_node_up", "gauge", "1 while the node's agent heartbeats, else 0.");
  std::string ages;
  for (const auto& [name, n] : nodes.nodes()) {
    const bool up = nodes.Alive(name, now);
    const NodeTelemetry& t = nodes.telemetry(name);
    Site& s = sites[n.site];
    (up ? s.up : s.down) += 1;
    const int64_t used = std::min<int64_t>(used_on[name], n.accelerators);
    if (up) {
      s.used += used;
      s.free += n.accelerators - used;
      s.power_w += t.gpu_power_w;
    }
    out += fmt::format("stargate_node_up{{node=\"{}\",site=\"{}\"}} {}\n", Label(name), Label(n.site), up ? 1 : 0);
    if (t.last_heartbeat <= Time::Epoch()) continue;  // left cleanly: no heartbeat to age
    ages += fmt::format("stargate_node_heartbeat_age_seconds{{node=\"{}\",site=\"{}\"}} {:.3f}\n", Label(name),
                        Label(n.site), (now - t.last_heartbeat).seconds());
  }
  Header(out, "stargate_node_heartbeat_age_seconds", "gauge", "Seconds since the node's last heartbeat.");
  out += ages;
  Header(out, "stargate_site_nodes", "gauge", "Nodes per site, up or down.");
  for (const auto& [site, s] : sites) {
    out += fmt::format(
        "stargate_site_nodes{{site=\"{0}\",state=\"up\"}} {1}\nstargate_site_nodes{{site=\"{0}\","
        "state=\"down\"}} {2}\n",
        Label(site), s.up, s.down);
  }
  Header(out, "stargate_site_accelerators", "gauge",
         "Accelerators on live nodes per site, free or used by running ranks.");
  for (const auto& [site, s] : sites) {
    out += fmt::format(
        "stargate_site_accelerators{{site=\"{0}\",state=\"free\"}} {1}\nstargate_site_accelerators{{"
        "site=\"{0}\",state=\"used\"}} {2}\n",
        Label(site), s.free, s.used);
  }
  Header(out, "stargate_site_gpu_power_watts", "gauge",
         "GPU power draw per site, as its agents report it (nvidia-smi).");
  for (const auto& [site, s] : sites) {
    out += fmt::format("stargate_site_gpu_power_watts{{site=\"{}\"}} {}\n", Label(site), s.power_w);
  }
  Header(out, "stargate_site_facility_power_watts", "gauge",
         "Facility draw per site as the scheduler reckons it: GPU power reported (or the catalog's estimate for "
         "nodes without a reading) x PUE; source says which.");
  for (const auto& [site, d] : draw) {
    out += fmt::format("stargate_site_facility_power_watts{{site=\"{}\",source=\"{}\"}} {}\n", Label(site), d.Source(),
                       d.facility_w);
  }
  std::string caps, carbon, price, stale;
  for (const auto& [site, s] : sites) {
    const SiteInfo* i = book != nullptr ? book->Find(site) : nullptr;
    if (i == nullptr) continue;
    if (i->power_cap_w)
      caps += fmt::format("stargate_site_power_cap_watts{{site=\"{}\"}} {}\n", Label(site), *i->power_cap_w);
    const SiteGridNow g = book->GridAt(site, now);
    if (g.carbon_given) {
      carbon += fmt::format("stargate_site_carbon_intensity_grams_per_kwh{{site=\"{}\"}} {}\n", Label(site),
                            g.signals.carbon);
      stale += fmt::format("stargate_site_signal_stale{{site=\"{}\",signal=\"carbon\"}} {}\n", Label(site),
                           g.signals.carbon_stale ? 1 : 0);
    }
    if (g.price_given) {
      price += fmt::format("stargate_site_price_usd_per_mwh{{site=\"{}\"}} {}\n", Label(site), g.signals.price);
      stale += fmt::format("stargate_site_signal_stale{{site=\"{}\",signal=\"price\"}} {}\n", Label(site),
                           g.signals.price_stale ? 1 : 0);
    }
  }
  Header(out, "stargate_site_power_cap_watts", "gauge", "Facility power a site may draw (--sites).");
  out += caps;
  Header(out, "stargate_site_carbon_intensity_grams_per_kwh", "gauge",
         "Grid carbon intensity of a site now (--sites; its mean when stale).");
  out += carbon;
  Header(out, "stargate_site_price_usd_per_mwh", "gauge",
         "Electricity price of a site now (--sites; its mean when stale).");
  out += price;
  Header(out, "stargate_site_signal_stale", "gauge",
         "1 while a site's grid signal has no value newer than its stale_after (the site's mean stands in).");
  out += stale;
  Header(out, "stargate_agent_heartbeats_total", "counter", "Agent heartbeats handled.");
  out += fmt::format("stargate_agent_heartbeats_total {}\n", m.heartbeats);
  Header(out, "stargate_agent_long_polls", "gauge", "Agent heartbeats waiting in a long poll now.");
  out += fmt::format("stargate_agent_long_polls {}\n", m.long_polls);
  Header(
      out, "stargate_agent_polls_turned_away_total", "counter",
      "Heartbeats answered at once, with a later next beat, because the most long polls the server holds were held.");
  out += fmt::format("stargate_agent_polls_turned_away_total {}\n", m.polls_turned_away);
  Header(out, "stargate_agent_registrations_total", "counter", "Agent registrations accepted.");
  out += fmt::format("stargate_agent_registrations_total {}\n", m.registrations);
  Header(out, "stargate_agent_calls_refused_total", "counter",
         "Agent calls refused: no proof of the node's identity, or not the node's holder.");
  out += fmt::format("stargate_agent_calls_refused_total {}\n", m.refused);
  Header(out, "stargate_server_stalls_total", "counter",
         "Control-loop stalls long enough that nodes' heartbeat deadlines were moved by them.");
  out += fmt::format("stargate_server_stalls_total {}\n", m.stalls);
  Header(out, "stargate_job_queue_wait_seconds", "histogram", "From submit to a job's first start.");
  out += m.queue_wait.Render("stargate_job_queue_wait_seconds");
  Header(out, "stargate_scheduler_pass_seconds", "histogram", "Wall time of one control-loop pass.");
  out += m.scheduler_pass.Render("stargate_scheduler_pass_seconds");
  return out;
}

std::string RenderCheckpointMetrics(const ReplicatorCounters& c, int in_flight) {
  std::string out;
  Header(out, "stargate_checkpoint_copies_total", "counter",
         "Checkpoint copies between sites' stores, by how they ended (refused: outside the job's jurisdictions).");
  out += fmt::format("stargate_checkpoint_copies_total{{result=\"done\"}} {}\n", c.copies_done);
  out += fmt::format("stargate_checkpoint_copies_total{{result=\"failed\"}} {}\n", c.copies_failed);
  out += fmt::format("stargate_checkpoint_copies_total{{result=\"refused\"}} {}\n", c.copies_refused);
  Header(out, "stargate_checkpoint_copy_bytes_total", "counter", "Bytes of checkpoints copied between sites.");
  out += fmt::format("stargate_checkpoint_copy_bytes_total {}\n", c.bytes_copied);
  Header(out, "stargate_checkpoint_copies_in_flight", "gauge", "Checkpoint copies asked for and not done yet.");
  out += fmt::format("stargate_checkpoint_copies_in_flight {}\n", in_flight);
  Header(out, "stargate_checkpoint_stagings_total", "counter",
         "Attempts whose ranks waited for a checkpoint to be copied to their site first.");
  out += fmt::format("stargate_checkpoint_stagings_total {}\n", c.stagings);
  return out;
}

}  // namespace stargate::control
