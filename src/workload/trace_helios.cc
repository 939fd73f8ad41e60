// Reader for SenseTime's Helios traces, file cluster_log.csv (one per
// cluster: Earth, Saturn, Uranus, Venus).
//
// Schema, from S-Lab-System-Group/HeliosData README.md ("cluster_log.csv"):
//   job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,
//   end_time,duration,queue
// with a header row; times are "YYYY-MM-DD HH:MM:SS"; state is COMPLETED,
// CANCELLED, FAILED, TIMEOUT or NODE_FAIL; duration = end - start and queue =
// start - submit, in seconds. Copies of the trace prepared for simulators
// store the times as Unix seconds, so each time field may be either.
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

constexpr int kAbsent = -1;

// Index of each column the reader uses in the header, or kAbsent.
struct HeliosColumns {
  int job_id = kAbsent;
  int user = kAbsent;
  int vc = kAbsent;
  int gpu_num = kAbsent;
  int submit_time = kAbsent;
  int start_time = kAbsent;
  int end_time = kAbsent;
  size_t count = 0;  // fields per row
};

Status ReadHeader(const CsvRecord& rec, const std::string& filename, HeliosColumns* cols) {
  const std::pair<std::string_view, int*> known[] = {{"job_id", &cols->job_id},
                                                     {"user", &cols->user},
                                                     {"vc", &cols->vc},
                                                     {"gpu_num", &cols->gpu_num},
                                                     {"submit_time", &cols->submit_time},
                                                     {"start_time", &cols->start_time},
                                                     {"end_time", &cols->end_time}};
  for (size_t i = 0; i < rec.fields.size(); ++i) {
    for (const auto& [name, index] : known) {
      if (TrimBlanks(rec.fields[i]) == name && *index == kAbsent) *index = static_cast<int>(i);
    }
  }
  cols->count = rec.fields.size();
  for (const auto& [name, index] : known) {
    const bool optional = name == "user" || name == "vc";
    if (*index == kAbsent && !optional) {
      return TraceError(filename, rec.line, "header",
                        fmt::format("missing column \"{}\" (cluster_log.csv starts with a header "
                                    "row: job_id,user,vc,gpu_num,...)",
                                    name));
    }
  }
  return absl::OkStatus();
}

std::string_view Field(const CsvRecord& rec, int col) {
  return col == kAbsent ? std::string_view() : TrimBlanks(rec.fields[col]);
}

// A time column: nullopt when missing ("", None, NaN...).
Status ReadTime(const CsvRecord& rec, int col, const char* name, const std::string& filename,
                std::optional<int64_t>* out) {
  const std::string_view field = Field(rec, col);
  if (IsMissing(field)) return absl::OkStatus();
  *out = ParseTimestampNanos(field);
  if (!*out) {
    return TraceError(filename, rec.line, name,
                      fmt::format("expected \"YYYY-MM-DD HH:MM:SS\" or seconds, got \"{}\"", Excerpt(field)));
  }
  return absl::OkStatus();
}

Status ReadGpuNum(const CsvRecord& rec, int col, const std::string& filename, int64_t* gpus) {
  const std::string_view field = Field(rec, col);
  const std::optional<int64_t> n = ParseFieldCount(field);
  if (!n || *n > kMaxTraceGpus) {
    return TraceError(filename, rec.line, "gpu_num", fmt::format("expected a GPU count, got \"{}\"", Excerpt(field)));
  }
  *gpus = *n;
  return absl::OkStatus();
}

Status ReadRow(const CsvRecord& rec, const HeliosColumns& cols, const std::string& filename,
               std::vector<TraceJob>* jobs, TraceStats* stats) {
  if (rec.fields.size() != cols.count) {
    return TraceError(filename, rec.line, "row",
                      fmt::format("expected {} fields as in the header, got {}", cols.count, rec.fields.size()));
  }
  TraceJob job;
  job.name = std::string(Field(rec, cols.job_id));
  if (job.name.empty()) return TraceError(filename, rec.line, "job_id", "empty");
  job.tenant = TenantOf(Field(rec, cols.vc), Field(rec, cols.user));
  std::optional<int64_t> submit, start, end;
  SG_RETURN_IF_ERROR(ReadGpuNum(rec, cols.gpu_num, filename, &job.gpus));
  SG_RETURN_IF_ERROR(ReadTime(rec, cols.submit_time, "submit_time", filename, &submit));
  SG_RETURN_IF_ERROR(ReadTime(rec, cols.start_time, "start_time", filename, &start));
  SG_RETURN_IF_ERROR(ReadTime(rec, cols.end_time, "end_time", filename, &end));
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
  CsvReader reader(text, filename);
  CsvRecord rec;
  SG_ASSIGN_OR_RETURN(const bool has_header, reader.Next(&rec));
  if (!has_header) return absl::OkStatus();  // empty input: no jobs
  HeliosColumns cols;
  SG_RETURN_IF_ERROR(ReadHeader(rec, filename, &cols));
  while (true) {
    SG_ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) break;
    ++stats->rows;
    SG_RETURN_IF_ERROR(ReadRow(rec, cols, filename, jobs, stats));
  }
  return absl::OkStatus();
}

}  // namespace stargate
