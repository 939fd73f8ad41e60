// Reader for Microsoft's Philly trace, file `cluster_job_log`.
//
// Schema, from msr-fiddle/philly-traces README.md ("cluster_job_log") and the
// parse_date / Job code of its analysis notebook: a JSON array of jobs
//   {"status": "Pass" | "Killed" | "Failed", "vc": "<hash>",
//    "jobid": "application_1506638472019_14199", "user": "<hash>",
//    "submitted_time": "2017-10-07 01:11:39",
//    "attempts": [{"start_time": "...", "end_time": "...",
//                  "detail": [{"ip": "m47", "gpus": ["gpu0", ...]}]}]}
// Times are "%Y-%m-%d %H:%M:%S" or missing, written as null, "None" or ""
// (the notebook's parse_date accepts all three). The README notes that a job
// may have no attempts, an attempt may lack start and/or end time (a logging
// error), and a last attempt without end_time was still running when the
// snapshot was taken.
//
// Mapping: GPUs and duration come from the last attempt, the run that ended
// the job; earlier attempts were failed or preempted runs that the twin's own
// failure model stands in for. (The notebook instead takes GPUs from the first
// attempt and run time from first start to last end, which counts requeue
// gaps as run time.) A job whose last attempt lacks a start or an end is
// skipped. `status` is not needed: killed and failed jobs that ran still held
// their GPUs. A missing submitted_time falls back to the first attempt start.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/text_fields.h"
#include "workload/trace_job.h"

namespace stargate {
namespace {

using Json = nlohmann::json;

// Where the job being read starts, for error messages.
struct JobContext {
  const std::string& filename;
  int64_t line;
};

struct PhillyAttempt {
  std::optional<int64_t> start_ns;
  std::optional<int64_t> end_ns;
  int64_t gpus = 0;
};

Status JobError(const JobContext& ctx, std::string_view field, std::string_view message) {
  return TraceError(ctx.filename, ctx.line, field, message);
}

bool IsJsonBlank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

int64_t LineAtByte(std::string_view text, size_t byte) {
  const std::string_view before = text.substr(0, std::min(byte, text.size()));
  return 1 + static_cast<int64_t>(std::count(before.begin(), before.end(), '\n'));
}

// The line on which each element of the top-level array starts. nlohmann
// keeps no positions, so this rescans the text; it has already parsed, so a
// string-aware bracket counter is enough.
std::vector<int64_t> TopLevelElementLines(std::string_view text) {
  std::vector<int64_t> lines;
  int64_t line = 1;
  int64_t depth = 0;
  bool in_string = false;
  bool expect_element = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\')
        ++i;  // an escaped character never ends the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (depth == 1 && expect_element && c != ']') lines.push_back(line);
    expect_element = false;
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') expect_element = ++depth == 1;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 1) expect_element = true;
  }
  return lines;
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string_view JsonMessage(const Json::exception& e) {
  const std::string_view what = e.what();
  const size_t tag_end = what.find("] ");
  return tag_end == std::string_view::npos ? what : what.substr(tag_end + 2);
}

// nlohmann reports errors only by exception; they stop here.
StatusOr<Json> ParseJson(std::string_view text, const std::string& filename) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return TraceError(filename, LineAtByte(text, e.byte > 0 ? e.byte - 1 : 0), "json", JsonMessage(e));
  } catch (const Json::exception& e) {  // a number overflowing a double: no position
    return TraceError(filename, 1, "json", JsonMessage(e));
  }
}

// *out = obj[key] as a string; "" when absent or null unless `required`.
Status ReadString(const Json& obj, const char* key, bool required, const JobContext& ctx, std::string* out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? JobError(ctx, key, "missing") : absl::OkStatus();
  }
  if (!it->is_string()) {
    return JobError(ctx, key, fmt::format("expected a string, got {}", it->type_name()));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

// *out = obj[key] as a date-time, nullopt when absent, null, "None" or "".
Status ReadTime(const Json& obj, const char* key, const std::string& field, const JobContext& ctx,
                std::optional<int64_t>* out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return JobError(ctx, field, fmt::format("expected a date-time string, got {}", it->type_name()));
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (IsMissing(s)) return absl::OkStatus();
  const std::optional<int64_t> secs = ParseDateTime(s);
  if (!secs) {
    return JobError(ctx, field, fmt::format("expected \"YYYY-MM-DD HH:MM:SS\", got \"{}\"", Excerpt(s)));
  }
  *out = *secs * 1000000000;
  return absl::OkStatus();
}

// The GPUs an attempt held: the sum of its per-server `gpus` lists.
Status ReadAttemptGpus(const Json& attempt, const std::string& field, const JobContext& ctx, int64_t* gpus) {
  const auto details = attempt.find("detail");
  if (details == attempt.end() || details->is_null()) return absl::OkStatus();
  if (!details->is_array()) return JobError(ctx, field + ".detail", "expected an array");
  for (size_t d = 0; d < details->size(); ++d) {
    const Json& detail = (*details)[d];
    const std::string where = fmt::format("{}.detail[{}]", field, d);
    if (!detail.is_object()) return JobError(ctx, where, "expected an object");
    const auto list = detail.find("gpus");
    if (list == detail.end() || list->is_null()) continue;
    if (!list->is_array()) return JobError(ctx, where + ".gpus", "expected an array");
    *gpus += static_cast<int64_t>(list->size());
  }
  return absl::OkStatus();
}

Status ReadAttempt(const Json& attempt, size_t index, const JobContext& ctx, PhillyAttempt* out) {
  const std::string field = fmt::format("attempts[{}]", index);
  if (!attempt.is_object()) return JobError(ctx, field, "expected an object");
  SG_RETURN_IF_ERROR(ReadTime(attempt, "start_time", field + ".start_time", ctx, &out->start_ns));
  SG_RETURN_IF_ERROR(ReadTime(attempt, "end_time", field + ".end_time", ctx, &out->end_ns));
  return ReadAttemptGpus(attempt, field, ctx, &out->gpus);
}

Status ReadAttempts(const Json& job, const JobContext& ctx, std::vector<PhillyAttempt>* out) {
  const auto attempts = job.find("attempts");
  if (attempts == job.end() || attempts->is_null()) return absl::OkStatus();
  if (!attempts->is_array()) return JobError(ctx, "attempts", "expected an array");
  out->resize(attempts->size());
  for (size_t i = 0; i < attempts->size(); ++i) {
    SG_RETURN_IF_ERROR(ReadAttempt((*attempts)[i], i, ctx, &(*out)[i]));
  }
  return absl::OkStatus();
}

Status ReadJob(const Json& job, const JobContext& ctx, std::vector<TraceJob>* jobs, TraceStats* stats) {
  if (!job.is_object()) return JobError(ctx, "job", "expected an object");
  TraceJob out;
  std::string user, vc;
  std::optional<int64_t> submit_ns;
  std::vector<PhillyAttempt> attempts;
  SG_RETURN_IF_ERROR(ReadString(job, "jobid", /*required=*/true, ctx, &out.name));
  SG_RETURN_IF_ERROR(ReadString(job, "user", /*required=*/false, ctx, &user));
  SG_RETURN_IF_ERROR(ReadString(job, "vc", /*required=*/false, ctx, &vc));
  SG_RETURN_IF_ERROR(ReadTime(job, "submitted_time", "submitted_time", ctx, &submit_ns));
  SG_RETURN_IF_ERROR(ReadAttempts(job, ctx, &attempts));
  if (attempts.empty() || !attempts.back().start_ns || !attempts.back().end_ns) {
    ++stats->skipped;  // never started, or still running at the snapshot
    return absl::OkStatus();
  }
  const PhillyAttempt& last = attempts.back();
  out.tenant = TenantOf(vc, user);
  out.gpus = last.gpus;
  out.start_ns = *last.start_ns;
  out.end_ns = *last.end_ns;
  if (!submit_ns) {
    for (const PhillyAttempt& a : attempts) {
      if (a.start_ns) {
        submit_ns = a.start_ns;
        break;
      }
    }
  }
  out.submit_ns = *submit_ns;  // set: the last attempt at least has a start
  KeepIfRan(std::move(out), jobs, stats);
  return absl::OkStatus();
}

}  // namespace

Status ReadPhillyJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                      TraceStats* stats) {
  if (IsJsonBlank(text)) return absl::OkStatus();
  SG_ASSIGN_OR_RETURN(const Json doc, ParseJson(text, filename));
  if (!doc.is_array()) {
    return TraceError(filename, 1, "json", fmt::format("expected an array of jobs, got {}", doc.type_name()));
  }
  const std::vector<int64_t> lines = TopLevelElementLines(text);
  for (size_t i = 0; i < doc.size(); ++i) {
    ++stats->rows;
    const JobContext ctx{filename, i < lines.size() ? lines[i] : 1};
    SG_RETURN_IF_ERROR(ReadJob(doc[i], ctx, jobs, stats));
  }
  return absl::OkStatus();
}

}  // namespace stargate
