// File: trace_job.h
// Internal to the trace readers: the record each format reader produces and
// the steps they share. Not for use outside src/workload/trace_*.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/job_spec.h"
#include "core/scenario.h"
#include "core/status.h"
#include "workload/csv_reader.h"
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
  // A share of one GPU in thousandths (gpus 1; JobSpec::share_milli); 0 =
  // whole GPUs.
  int64_t share_milli = 0;
};

// Appends `job` to *jobs when it ran (gpus > 0 and end > start); otherwise
// counts it in stats->skipped.
void KeepIfRan(TraceJob job, std::vector<TraceJob>* jobs, TraceStats* stats);

// The first non-empty of `vc` and `user`, else "default".
std::string TenantOf(std::string_view vc, std::string_view user);

// ---- CSV traces, whose columns are found by header name.
inline constexpr int kAbsentColumn = -1;
// The index of the first header field (blanks trimmed) that is one of
// `names`, else kAbsentColumn.
int FindColumn(const CsvRecord& header, std::initializer_list<std::string_view> names);
// InvalidArgument "FILE:LINE: header: missing column "NAME" (HINT)" for
// the first of `required` (a name and the index FindColumn gave it) that
// the header lacks.
Status RequireColumns(const CsvRecord& header, const std::string& filename,
                      std::initializer_list<std::pair<std::string_view, int>> required, std::string_view hint);
// The field at `col`, blanks trimmed ("" for kAbsentColumn).
std::string_view FieldAt(const CsvRecord& rec, int col);
// A time column (ParseTimestampNanos: ISO 8601 with or without a zone, or
// seconds); *out stays nullopt when the field is missing (IsMissing).
Status ReadTimeField(const CsvRecord& rec, int col, std::string_view name, const std::string& filename,
                     std::optional<int64_t>* out);
// A GPU count column (a whole number up to kMaxTraceGpus).
Status ReadGpuField(const CsvRecord& rec, int col, std::string_view name, const std::string& filename, int64_t* gpus);
// A row with as many fields as the header.
Status CheckWidth(const CsvRecord& rec, size_t width, const std::string& filename);
// Reads a CSV trace: `header` with its first row (none: no jobs), then
// `row` with each data row, counted in stats->rows.
Status ReadCsvTrace(std::string_view text, const std::string& filename, TraceStats* stats,
                    const std::function<Status(const CsvRecord&)>& header,
                    const std::function<Status(const CsvRecord&)>& row);

// Per-format readers. Each appends the jobs that ran to *jobs and counts
// stats->rows and stats->skipped.
Status ReadPhillyJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                      TraceStats* stats);
// `job_table` may be null (no pai_job_table).
Status ReadPaiTaskJobs(std::string_view text, const std::string& filename, const TraceText* job_table,
                       std::vector<TraceJob>* jobs, TraceStats* stats);
Status ReadHeliosJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                      TraceStats* stats);
Status ReadOpenbJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                     TraceStats* stats);
Status ReadJobListJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                       TraceStats* stats);

// Sorts by submit, applies spec.limit, makes submits relative to the
// earliest and scaled by spec.time_scale, and fills the JobSpecs.
std::vector<JobSpec> ToJobSpecs(std::vector<TraceJob> jobs, const TraceSpec& spec);

}  // namespace stargate
