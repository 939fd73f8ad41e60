// File: serve_controller.h
// Keeps a served model's replicas up (`stargate serve FILE`): each replica
// is a job of its own on the control plane (submitted through its REST
// API, so tokens, quotas, placement and the audit trail apply as to any
// job), placed near the region it is for. Each Tick it reads where the
// replicas run, health-checks them, replaces replicas whose job ended,
// drains and cancels ones the autoscaler no longer wants, and hands the
// router its new table. The control plane restarts a replica whose node
// died (as any job); the controller only follows it to its new address.
//
// The router keeps serving from its last table while the control plane is
// unreachable. Replica jobs outlive the controller unless Shutdown() is
// called; a controller started again adopts them (by name, NAME-rN).
// Not thread-safe: one thread calls Start, Tick and Shutdown.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "control/serve/serve_router.h"
#include "core/clock.h"
#include "core/serve_file.h"
#include "core/status.h"
#include "sched/replica_autoscaler.h"

namespace stargate::control {

class ServeController {
 public:
  using Log = std::function<void(const std::string&)>;

  // `router` and `clock` must outlive the controller. `server` is the
  // control plane's URL; `router_region` is where the router is (the
  // default users' region).
  ServeController(ServeFile file, std::string server, std::string router_region, ServeRouter* router, Log log,
                  Clock* clock);

  // Adopts this service's live replica jobs and sets the wanted count to at
  // least `min` (the first Tick submits what is missing). Unavailable when
  // the control plane cannot be reached.
  Status Start();
  // One pass (call every health interval). Problems are logged, not fatal.
  void Tick();
  // Cancels every replica job (on a clean stop of `stargate serve`).
  void Shutdown();

  struct Replica {
    int n = 0;
    uint64_t job = 0;
    int port = 0;
    std::string region;  // the users it is near ("" = anywhere)
    std::string state;   // its job's state
    int attempt = -1;
    std::string node, host, site;
    bool healthy = false;
    int failed_checks = 0;
    Time healthy_at;     // its last passed check (the epoch: none yet)
    Time failing_since;  // placed and failing its checks since (the epoch: not failing)
    Duration probe_rtt;
    bool draining = false;
    Time drain_started;
  };
  const std::vector<Replica>& replicas() const { return replicas_; }
  int wanted() const { return wanted_; }

 private:
  Status Adopt();
  Status Submit(const std::string& region);
  void Follow();       // job states and placements, node addresses
  void CheckHealth();  // probes every placed replica, in parallel
  void Scale(Time now);
  void Publish();  // the router's table
  std::string RegionForNewReplica() const;
  int FreePort() const;
  std::map<std::string, Duration> NetworkFrom(const std::string& site) const;

  ServeFile file_;
  std::string server_, router_region_;
  ServeRouter* router_;
  Log log_;
  Clock* clock_;
  std::string instance_;  // idempotency keys of this controller's submissions
  sched::ReplicaAutoscaler autoscaler_;
  std::vector<Replica> replicas_;
  int wanted_ = 0;
  int next_n_ = 0;
  bool server_down_logged_ = false;
  int failures_in_row_ = 0;  // replicas that ended badly since one was last healthy
  Time no_submit_before_;    // backoff after such failures
  bool backoff_logged_ = false;
  int ticks_ = 0;
  // From GET /v1/sites: region and coordinates of each site.
  struct Site {
    std::string region;
    bool located = false;
    double latitude = 0, longitude = 0;
  };
  std::map<std::string, Site> sites_;
};

}  // namespace stargate::control
