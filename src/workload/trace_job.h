// File: trace_job.h
// Internal to the trace readers: the record each format reader produces and
// the steps they share. Not for use outside src/workload/trace_*.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_spec.h"
#include "core/scenario.h"
#include "core/status.h"
#include "workload/trace_reader.h"

namespace stargate {

// Larger gangs than this are taken as corrupt input rather than a job.
inline constexpr int64_t kMaxTraceGpus = int64_t{1} << 24;

// One job as a trace describes it, times on the trace's own clock.
struct TraceJob {
  std::string name;
  std::string tenant;
  int64_t gpus = 0;
  int64_t submit_ns = 0;
  int64_t start_ns = 0;  // of the run whose length becomes the duration
  int64_t end_ns = 0;
};

// Appends `job` to *jobs when it ran (gpus > 0 and end > start); otherwise
// counts it in stats->skipped.
void KeepIfRan(TraceJob job, std::vector<TraceJob>* jobs, TraceStats* stats);

// The first non-empty of `vc` and `user`, else "default".
std::string TenantOf(std::string_view vc, std::string_view user);

// Per-format readers. Each appends the jobs that ran to *jobs and counts
// stats->rows and stats->skipped.
Status ReadPhillyJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                      TraceStats* stats);
Status ReadPaiTaskJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                       TraceStats* stats);
Status ReadHeliosJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                      TraceStats* stats);

// Sorts by submit, applies spec.limit, makes submits relative to the
// earliest and scaled by spec.time_scale, and fills the JobSpecs.
std::vector<JobSpec> ToJobSpecs(std::vector<TraceJob> jobs, const TraceSpec& spec);

}  // namespace stargate
