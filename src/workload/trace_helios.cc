// Reader for SenseTime's Helios traces, file cluster_log.csv (one per
// cluster: Earth, Saturn, Uranus, Venus), and for the Acme traces of
// Shanghai AI Lab's LLM clusters (trace_seren.csv, trace_kalos.csv), which
// follow the same schema.
//
// Schema, from S-Lab-System-Group/HeliosData README.md ("cluster_log.csv"):
//   job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,
//   end_time,duration,queue
// with a header row; times are "YYYY-MM-DD HH:MM:SS"; state is COMPLETED,
// CANCELLED, FAILED, TIMEOUT or NODE_FAIL; duration = end - start and queue =
// start - submit, in seconds. Copies of the trace prepared for simulators
// store the times as Unix seconds, so each time field may be either.
// Acme (InternLM/AcmeTrace README.md; Hu et al., NSDI '24) has no vc, adds
// columns (type, gpu_time; Kalos: fail_time, stop_time, ...) and writes
// times with their zone, "2023-03-01 00:18:22+08:00": read as UTC instants.
//
// Columns are found by header name, so reordered or extra columns are fine;
// job_id, gpu_num, submit_time, start_time and end_time are required.
// Skipped: gpu_num 0 (CPU jobs, about half of Helios), a missing start or end
// (cancelled while queued, or still running), end <= start. The run length
// is end - start; the `duration` column is not needed.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/text_fields.h"
#include "workload/csv_reader.h"
#include "workload/trace_job.h"

namespace stargate {
namespace {

// Index of each column the reader uses in the header, or kAbsentColumn.
struct HeliosColumns {
  int job_id, user, vc, gpu_num, submit_time, start_time, end_time;
  size_t count = 0;  // fields per row
};

Status ReadHeader(const CsvRecord& rec, const std::string& filename, HeliosColumns* cols) {
  *cols = HeliosColumns{FindColumn(rec, {"job_id"}),      FindColumn(rec, {"user"}),
                        FindColumn(rec, {"vc"}),          FindColumn(rec, {"gpu_num"}),
                        FindColumn(rec, {"submit_time"}), FindColumn(rec, {"start_time"}),
                        FindColumn(rec, {"end_time"}),    rec.fields.size()};
  return RequireColumns(rec, filename,
                        {{"job_id", cols->job_id},
                         {"gpu_num", cols->gpu_num},
                         {"submit_time", cols->submit_time},
                         {"start_time", cols->start_time},
                         {"end_time", cols->end_time}},
                        "cluster_log.csv starts with a header row: job_id,user,vc,gpu_num,...");
}

Status ReadRow(const CsvRecord& rec, const HeliosColumns& cols, const std::string& filename,
               std::vector<TraceJob>* jobs, TraceStats* stats) {
  SG_RETURN_IF_ERROR(CheckWidth(rec, cols.count, filename));
  TraceJob job;
  job.name = std::string(FieldAt(rec, cols.job_id));
  if (job.name.empty()) return TraceError(filename, rec.line, "job_id", "empty");
  job.tenant = TenantOf(FieldAt(rec, cols.vc), FieldAt(rec, cols.user));
  std::optional<int64_t> submit, start, end;
  SG_RETURN_IF_ERROR(ReadGpuField(rec, cols.gpu_num, "gpu_num", filename, &job.gpus));
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.submit_time, "submit_time", filename, &submit));
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.start_time, "start_time", filename, &start));
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.end_time, "end_time", filename, &end));
  if (!start || !end) {
    ++stats->skipped;  // cancelled while queued, or still running
    return absl::OkStatus();
  }
  job.submit_ns = submit.value_or(*start);
  job.start_ns = *start;
  job.end_ns = *end;
  KeepIfRan(std::move(job), jobs, stats);
  return absl::OkStatus();
}

}  // namespace

Status ReadHeliosJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                      TraceStats* stats) {
  HeliosColumns cols{};
  return ReadCsvTrace(
      text, filename, stats, [&](const CsvRecord& rec) { return ReadHeader(rec, filename, &cols); },
      [&](const CsvRecord& rec) { return ReadRow(rec, cols, filename, jobs, stats); });
}

}  // namespace stargate
