// Reader for a plain CSV job list, the least any scheduler log can be
// turned into:
//   submission_time,duration,num_gpu[,job_id][,user]
// with a header row naming the columns (in any order; also submit_time,
// gpu_num or num_gpus, name, tenant). submission_time is ISO 8601 (a zone
// allowed) or seconds; duration is the run's length in seconds. Each row
// is a job that ran `duration` on `num_gpu` GPUs; rows with 0 GPUs or a
// duration of 0 are skipped. Unnamed jobs are "job-<line>".
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/text_fields.h"
#include "workload/trace_job.h"

namespace stargate {
namespace {

constexpr double kMaxDurationSeconds = 9e9;  // as a timestamp: nanoseconds fit int64

struct ListColumns {
  int submit, duration, gpus, name, user;
  size_t count = 0;
};

Status ReadHeader(const CsvRecord& rec, const std::string& filename, ListColumns* cols) {
  *cols = ListColumns{FindColumn(rec, {"submission_time", "submit_time"}),
                      FindColumn(rec, {"duration"}),
                      FindColumn(rec, {"num_gpu", "gpu_num", "num_gpus"}),
                      FindColumn(rec, {"job_id", "name"}),
                      FindColumn(rec, {"user", "tenant"}),
                      rec.fields.size()};
  return RequireColumns(rec, filename,
                        {{"submission_time", cols->submit}, {"duration", cols->duration}, {"num_gpu", cols->gpus}},
                        "a job list starts with a header row: submission_time,duration,num_gpu");
}

Status ReadRow(const CsvRecord& rec, const ListColumns& cols, const std::string& filename, std::vector<TraceJob>* jobs,
               TraceStats* stats) {
  SG_RETURN_IF_ERROR(CheckWidth(rec, cols.count, filename));
  TraceJob job;
  job.name = std::string(FieldAt(rec, cols.name));
  if (job.name.empty()) job.name = fmt::format("job-{}", rec.line);
  job.tenant = TenantOf("", FieldAt(rec, cols.user));
  SG_RETURN_IF_ERROR(ReadGpuField(rec, cols.gpus, "num_gpu", filename, &job.gpus));
  std::optional<int64_t> submit;
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.submit, "submission_time", filename, &submit));
  if (!submit) return TraceError(filename, rec.line, "submission_time", "missing");
  const std::string_view d = FieldAt(rec, cols.duration);
  const std::optional<double> seconds = ParseFieldNumber(d);
  if (!seconds || *seconds < 0 || *seconds >= kMaxDurationSeconds) {
    return TraceError(filename, rec.line, "duration",
                      fmt::format("expected seconds (0 to 9e9), got \"{}\"", Excerpt(d)));
  }
  job.submit_ns = *submit;
  job.start_ns = *submit;
  job.end_ns = *submit + std::llround(*seconds * 1e9);
  KeepIfRan(std::move(job), jobs, stats);
  return absl::OkStatus();
}

}  // namespace

Status ReadJobListJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                       TraceStats* stats) {
  ListColumns cols{};
  return ReadCsvTrace(
      text, filename, stats, [&](const CsvRecord& rec) { return ReadHeader(rec, filename, &cols); },
      [&](const CsvRecord& rec) { return ReadRow(rec, cols, filename, jobs, stats); });
}

}  // namespace stargate
