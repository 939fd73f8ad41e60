// File: report_csv.h
// Per-job and per-site-hour tables as CSV (RFC 4180: comma separated, "\n"
// line ends, a field containing a comma, quote, CR or LF is wrapped in double
// quotes with inner quotes doubled).
//
// Both writers stream row by row into `out` through one reusable buffer, so
// a million jobs never become one giant string. The caller owns the stream
// (file, string stream, pipe) and checks its state afterwards. Pure
// functions of their input; thread-safe for distinct streams.
#pragma once

#include <ostream>

#include "twin/run_result.h"

namespace stargate::twin {

// One row per job, in RunResult::jobs order, under the header
//   id,name,tenant,kind,accelerator,accelerators,nodes,site,submit_h,
//   first_start_h,end_h,wait_h,jct_h,restarts,useful_device_h,
//   allocated_device_h,checkpoint_interval_min,outcome,reason
// Times are hours since the run's start with 4 decimals; device-hours have 4
// decimals, the checkpoint interval 2. A cell is empty when it does not
// apply: first_start_h / end_h when Never, jct_h unless the job finished,
// site and accelerator when the job never ran (site -1 or out of range),
// checkpoint_interval_min when the job does not checkpoint (interval 0).
void WriteJobsCsv(const RunResult& result, std::ostream& out);

// One row per (hour, site), hour-major, under the header
//   hour,site,utilisation,facility_mw,carbon_g_per_kwh,price_usd_per_mwh
// Sites are named as in RunResult::sites. Rows run to the longest series;
// a series shorter than that leaves its cells empty, as does a NaN.
void WriteSiteSeriesCsv(const RunResult& result, std::ostream& out);

// The audit trail, one row per applied scheduling decision in the order
// applied, under the header
//   time_h,job,name,tenant,action,count,last_h,site,detail
// (action: start, defer, preempt, reject, repair; count > 1 for repeated
// deferrals of one job, from time_h to last_h; site empty when none).
// `stargate twin audit` reads it back.
void WriteAuditCsv(const RunResult& result, std::ostream& out);

}  // namespace stargate::twin
