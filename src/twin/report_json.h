// File: report_json.h
// The run's summary as pretty-printed JSON, for scripts and sweep tooling.
//
// Keys appear in a fixed order (the order below), every double is rounded to
// 6 significant digits and non-finite doubles are written as null, so equal
// runs give byte-identical text. Shape:
//
//   {"scenario", "seed", "policy", "simulated_days", "accelerators", "nodes",
//    "jobs": {"total", "finished", "running", "pending", "rejected"},
//    "jct_hours": {"mean", "p50", "p90", "p99"}, "wait_hours": {...},
//    "utilisation", "goodput", "useful_device_hours", "effective_training_time_ratio",
//    "interruptions", "gang_repairs", "failures", "energy_mwh", "peak_mw", "tco2",
//    "cost_usd", "workload": {"energy_mwh", "tco2", "cost_usd"},
//    "sla_misses", "deferrals", "preemptions", "power_capped_starts",
//    "by_kind": {KIND: {"jobs", "started", "finished", "jct_mean_h",
//                       "wait_mean_h", "workload_tco2"}},
//    "events", "scheduler_passes",
//    "sites": [{"name", "jurisdiction", "accelerators", "power_cap_mw",
//               "peak_mw", "energy_mwh", "tco2", "cost_usd", "failures",
//               "mean_utilisation"}]}
//
// Doubles always carry a decimal point or an exponent ("5.0", "1e+16") so a
// field's JSON type does not flip between integer and float across runs.
// mean_utilisation is the plain mean of the site's hourly utilisation
// (0 when the series is empty). Pure function; thread-safe.
#pragma once

#include <string>

#include "twin/run_result.h"

namespace stargate::twin {

// The summary as JSON, 2-space indented, ending in a newline.
std::string SummaryJson(const RunResult& result);

}  // namespace stargate::twin
