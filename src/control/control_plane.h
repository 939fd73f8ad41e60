// File: control_plane.h
// What one `stargate server` holds: the store, the job and node registries
// and the reconciler, behind one mutex that the REST API, the agent API
// and the control loop all take, so the store sees one writer at a time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "control/access.h"
#include "control/audit_log.h"
#include "control/job_registry.h"
#include "control/metrics.h"
#include "control/node_registry.h"
#include "control/reconciler.h"
#include "control/store.h"
#include "core/site_file.h"

namespace stargate::control {

struct ControlPlane {
  // `store` must outlive the control plane.
  ControlPlane(Store* store_in, JobRegistry::Clock clock_in, std::unique_ptr<sched::Scheduler> scheduler,
               const std::string& data_dir, int64_t heartbeat_timeout_ms)
      : store(store_in),
        clock(std::move(clock_in)),
        jobs(store_in, clock),
        nodes(store_in, heartbeat_timeout_ms),
        audit(store_in),
        reconciler(&jobs, &nodes, std::move(scheduler), data_dir) {
    reconciler.SetAudit(&audit);
    reconciler.SetMetrics(&metrics);
  }

  std::mutex mu;
  // Signalled (with or without `mu`) when jobs or placements change: wakes
  // the control loop and long-polling heartbeats.
  std::condition_variable changed;
  Store* store;
  JobRegistry::Clock clock;
  JobRegistry jobs;
  NodeRegistry nodes;
  AuditLog audit;
  Metrics metrics;                 // declared before the reconciler, which updates it
  Reconciler reconciler;
  // Bearer tokens for the REST API (access.h); nullptr = open.
  const AccessList* access = nullptr;
  // What `--sites FILE` says about sites (location, power cap, PUE, grid
  // carbon), by name; sites it does not list have none of it.
  std::map<std::string, SiteInfo> site_info;
};

}  // namespace stargate::control
