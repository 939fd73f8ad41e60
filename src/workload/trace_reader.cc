#include "workload/trace_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "core/text_fields.h"
#include "workload/trace_job.h"

namespace stargate {
namespace {

// `ns` times `scale`, rounded and saturated so a huge scale cannot wrap.
int64_t ScaleNanos(int64_t ns, double scale) {
  const double scaled = static_cast<double>(ns) * scale;
  if (!(scaled < 9.2e18)) return std::numeric_limits<int64_t>::max() - 1;
  return std::llround(scaled);
}

Status ValidateSpec(const TraceSpec& spec, const std::string& filename) {
  if (!std::isfinite(spec.time_scale) || spec.time_scale <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: time_scale: must be a positive number, got {}", filename, spec.time_scale));
  }
  if (spec.limit < 0) {
    return absl::InvalidArgumentError(fmt::format("{}: limit: must be >= 0 (0 = all), got {}", filename, spec.limit));
  }
  return absl::OkStatus();
}

Status ReadJobs(std::string_view text, const std::string& filename, TraceFormat format, const TraceText* job_table,
                std::vector<TraceJob>* jobs, TraceStats* stats) {
  if (job_table != nullptr && format != TraceFormat::kAlibabaPai) {
    return absl::InvalidArgumentError(
        fmt::format("{}: job_table: only an alibaba_pai trace has a job table", job_table->filename));
  }
  switch (format) {
    case TraceFormat::kPhilly:
      return ReadPhillyJobs(text, filename, jobs, stats);
    case TraceFormat::kAlibabaPai:
      return ReadPaiTaskJobs(text, filename, job_table, jobs, stats);
    case TraceFormat::kHelios:
    case TraceFormat::kAcme:  // Helios's schema, with zoned ISO 8601 times
      return ReadHeliosJobs(text, filename, jobs, stats);
    case TraceFormat::kOpenb:
      return ReadOpenbJobs(text, filename, jobs, stats);
    case TraceFormat::kJobList:
      return ReadJobListJobs(text, filename, jobs, stats);
  }
  return absl::InvalidArgumentError(
      fmt::format("{}: format: unknown trace format {}", filename, static_cast<int>(format)));
}

}  // namespace

void KeepIfRan(TraceJob job, std::vector<TraceJob>* jobs, TraceStats* stats) {
  if (job.gpus <= 0 || job.end_ns <= job.start_ns) {
    ++stats->skipped;
    return;
  }
  jobs->push_back(std::move(job));
}

int FindColumn(const CsvRecord& header, std::initializer_list<std::string_view> names) {
  for (size_t i = 0; i < header.fields.size(); ++i) {
    for (std::string_view name : names) {
      if (TrimBlanks(header.fields[i]) == name) return static_cast<int>(i);
    }
  }
  return kAbsentColumn;
}

Status RequireColumns(const CsvRecord& header, const std::string& filename,
                      std::initializer_list<std::pair<std::string_view, int>> required, std::string_view hint) {
  for (const auto& [name, index] : required) {
    if (index == kAbsentColumn) {
      return TraceError(filename, header.line, "header", fmt::format("missing column \"{}\" ({})", name, hint));
    }
  }
  return absl::OkStatus();
}

std::string_view FieldAt(const CsvRecord& rec, int col) {
  return col == kAbsentColumn ? std::string_view() : TrimBlanks(rec.fields[col]);
}

Status ReadTimeField(const CsvRecord& rec, int col, std::string_view name, const std::string& filename,
                     std::optional<int64_t>* out) {
  const std::string_view field = FieldAt(rec, col);
  if (IsMissing(field)) return absl::OkStatus();
  *out = ParseTimestampNanos(field);
  if (!*out) {
    return TraceError(filename, rec.line, name,
                      fmt::format("expected \"YYYY-MM-DD HH:MM:SS\" (ISO 8601, a zone such as +08:00 allowed) or "
                                  "seconds, got \"{}\"",
                                  Excerpt(field)));
  }
  return absl::OkStatus();
}

Status ReadGpuField(const CsvRecord& rec, int col, std::string_view name, const std::string& filename, int64_t* gpus) {
  const std::string_view field = FieldAt(rec, col);
  const std::optional<int64_t> n = ParseFieldCount(field);
  if (!n || *n > kMaxTraceGpus) {
    return TraceError(filename, rec.line, name, fmt::format("expected a GPU count, got \"{}\"", Excerpt(field)));
  }
  *gpus = *n;
  return absl::OkStatus();
}

Status CheckWidth(const CsvRecord& rec, size_t width, const std::string& filename) {
  if (rec.fields.size() == width) return absl::OkStatus();
  return TraceError(filename, rec.line, "row",
                    fmt::format("expected {} fields as in the header, got {}", width, rec.fields.size()));
}

Status ReadCsvTrace(std::string_view text, const std::string& filename, TraceStats* stats,
                    const std::function<Status(const CsvRecord&)>& header,
                    const std::function<Status(const CsvRecord&)>& row) {
  CsvReader reader(text, filename);
  CsvRecord rec;
  SG_ASSIGN_OR_RETURN(const bool has_header, reader.Next(&rec));
  if (!has_header) return absl::OkStatus();  // empty input: no jobs
  SG_RETURN_IF_ERROR(header(rec));
  while (true) {
    SG_ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) return absl::OkStatus();
    ++stats->rows;
    SG_RETURN_IF_ERROR(row(rec));
  }
}

std::string TenantOf(std::string_view vc, std::string_view user) {
  if (!vc.empty()) return std::string(vc);
  if (!user.empty()) return std::string(user);
  return "default";
}

std::vector<JobSpec> ToJobSpecs(std::vector<TraceJob> jobs, const TraceSpec& spec) {
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit_ns < b.submit_ns; });
  if (spec.limit > 0 && static_cast<int64_t>(jobs.size()) > spec.limit) jobs.resize(spec.limit);
  const int64_t base = jobs.empty() ? 0 : jobs.front().submit_ns;
  std::vector<JobSpec> out;
  out.reserve(jobs.size());
  for (TraceJob& job : jobs) {
    JobSpec& s = out.emplace_back();
    s.name = std::move(job.name);
    s.tenant = std::move(job.tenant);
    s.kind = JobKind::kBatch;
    s.accelerators = spec.accelerators;
    s.accelerator_count = static_cast<int>(job.gpus);
    s.share_milli = static_cast<int>(job.share_milli);
    s.submit = Time::FromNanos(ScaleNanos(job.submit_ns - base, spec.time_scale));
    s.duration = Duration::Nanos(job.end_ns - job.start_ns);
    s.recorded_wait = Duration::Nanos(std::max<int64_t>(0, job.start_ns - job.submit_ns));
  }
  return out;
}

StatusOr<std::vector<JobSpec>> ParseTrace(std::string_view text, const std::string& filename, const TraceSpec& spec,
                                          TraceStats* stats, const TraceText* job_table) {
  SG_RETURN_IF_ERROR(ValidateSpec(spec, filename));
  TraceStats local;
  std::vector<TraceJob> jobs;
  SG_RETURN_IF_ERROR(ReadJobs(text, filename, spec.format, job_table, &jobs, &local));
  std::vector<JobSpec> out = ToJobSpecs(std::move(jobs), spec);
  local.jobs = static_cast<int64_t>(out.size());
  if (stats != nullptr) *stats = local;
  return out;
}

}  // namespace stargate
