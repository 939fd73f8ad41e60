// File: carbon_cap.h
// Carbon-aware power capping: work started at a site whose grid is dirty
// runs with its devices limited below TDP, trading a few percent of speed
// for less energy where each kWh emits most (model/power_cap.h has the
// trade). Like Slurm's power management and DCGM power policies, but keyed
// to the grid rather than to a facility budget.
#pragma once

#include "core/scenario.h"
#include "sched/cluster_state.h"
#include "sched/job_request.h"

namespace stargate::sched {

// The device power limit, as a fraction of TDP, to start `req` with at
// `site` (0 = none): set when capping is on, the site's judged intensity is
// at or above the threshold, and the job is neither urgent (priority > 0)
// nor serving users (`near`), whose latency a slower device would cost.
double CarbonPowerCap(const SchedulerSpec& spec, const SiteState& site, const JobRequest& req);

}  // namespace stargate::sched
