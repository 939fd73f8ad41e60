// Reader for Alibaba PAI's cluster-trace-gpu-v2020, file pai_task_table.csv.
//
// Schema, from alibaba/clusterdata cluster-trace-gpu-v2020/README.md
// ("pai_task_table"), data/pai_task_table.header and analysis/utils.py:
//   job_name,task_name,inst_num,status,start_time,end_time,
//   plan_cpu,plan_mem,plan_gpu,gpu_type
// The .csv ships without a header (the column names are a separate .header
// file); a header line is accepted anyway. Numbers are written as floats
// ("1.0", "1739162.0"); empty fields are NaN (plan_gpu of CPU-only tasks).
// start_time / end_time are seconds, shifted by a constant; utils.py reads a
// start_time of 0 as "not started". plan_gpu is percent of one GPU (50.0 =
// half a GPU, 800.0 = eight). status is Running, Terminated, Failed or
// Waiting.
//
// Mapping: a job is all rows with its job_name (they need not be adjacent).
// Tasks that never launched are ignored; a task that launched but has no end
// (still running when the trace ends) or ends before it starts makes the job
// skipped. GPUs = sum over launched tasks of ceil(inst_num * plan_gpu / 100).
// PAI shares GPUs fractionally: a job asking less than one GPU in all (sum
// of inst_num * plan_gpu under 100) is a share of one device in
// thousandths (JobSpec::share_milli), packed with others onto a device, and
// counted in TraceStats::shared. Run = earliest task start to latest task
// end.
// The task table has no submit time and no user. With the job table
// (pai_job_table.csv: job_name,inst_id,user,status,start_time,end_time,
// data/pai_job_table.header; its start_time is "timestamp of job submission
// time", README.md), a job's submit is its start_time there and its tenant
// its user, so the replay (Summary::replay) compares against the queueing
// PAI recorded ("the gap between job.start_time and the earliest
// task.start_time ... implies its wait time", README.md). A submit later
// than the first launch (clock skew) is taken as the launch. A job the job
// table lacks, or whose start_time there is 0 or empty, is submitted at its
// first task launch with tenant "default", as with no job table (counted in
// TraceStats::unjoined). A job_name on several job-table rows keeps the
// earliest submit and the first non-empty user.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/text_fields.h"
#include "workload/csv_reader.h"
#include "workload/trace_job.h"

namespace stargate {
namespace {

enum PaiColumn : size_t {
  kJobName = 0,
  kTaskName,
  kInstNum,
  kStatus,
  kStartTime,
  kEndTime,
  kPlanCpu,
  kPlanMem,
  kPlanGpu,
  kGpuType,
  kNumPaiColumns,
};

// Largest plausible amount in a numeric column (inst_num, plan_gpu).
constexpr double kMaxAmount = 1e9;

struct PaiTask {
  int64_t gpus = 0;
  double percent = 0;               // inst_num x plan_gpu: percent of one GPU in all
  std::optional<int64_t> start_ns;  // nullopt: never launched
  std::optional<int64_t> end_ns;
};

struct PaiJob {
  std::string name;
  int64_t first_line = 0;
  int64_t gpus = 0;
  double percent = 0;               // of one GPU, over its launched tasks
  std::optional<int64_t> start_ns;  // earliest launch
  int64_t end_ns = 0;               // latest end
  bool unfinished = false;
};

// A time column: nullopt when missing or 0 ("not started" in utils.py).
Status ReadPaiTime(const CsvRecord& rec, size_t col, const char* name, const std::string& filename,
                   std::optional<int64_t>* out) {
  const std::string& field = rec.fields[col];
  if (IsMissing(field)) return absl::OkStatus();
  const std::optional<int64_t> ns = ParseTimestampNanos(field);
  if (!ns) {
    return TraceError(filename, rec.line, name, fmt::format("expected seconds >= 0, got \"{}\"", Excerpt(field)));
  }
  if (*ns > 0) *out = ns;
  return absl::OkStatus();
}

// A non-negative number; a missing one reads as `if_missing`.
Status ReadAmount(const CsvRecord& rec, PaiColumn col, const char* name, const std::string& filename, double if_missing,
                  double* out) {
  const std::string& field = rec.fields[col];
  if (IsMissing(field)) {
    *out = if_missing;
    return absl::OkStatus();
  }
  const std::optional<double> v = ParseFieldNumber(field);
  if (!v || *v < 0 || *v > kMaxAmount) {
    return TraceError(filename, rec.line, name,
                      fmt::format("expected a number in [0, 1e9], got \"{}\"", Excerpt(field)));
  }
  *out = *v;
  return absl::OkStatus();
}

Status ReadTask(const CsvRecord& rec, const std::string& filename, PaiTask* task) {
  double inst_num = 0;
  double plan_gpu = 0;
  // A task runs at least one instance; no plan_gpu means a CPU-only task.
  SG_RETURN_IF_ERROR(ReadAmount(rec, kInstNum, "inst_num", filename, 1, &inst_num));
  SG_RETURN_IF_ERROR(ReadAmount(rec, kPlanGpu, "plan_gpu", filename, 0, &plan_gpu));
  SG_RETURN_IF_ERROR(ReadPaiTime(rec, kStartTime, "start_time", filename, &task->start_ns));
  SG_RETURN_IF_ERROR(ReadPaiTime(rec, kEndTime, "end_time", filename, &task->end_ns));
  // The epsilon keeps 3 x 33.333...% from rounding up to 2 GPUs.
  const double gpus = std::ceil(inst_num * plan_gpu / 100 - 1e-6);
  if (gpus > static_cast<double>(kMaxTraceGpus)) {
    return TraceError(filename, rec.line, "plan_gpu", fmt::format("inst_num x plan_gpu asks for {:.0f} GPUs", gpus));
  }
  task->gpus = gpus > 0 ? static_cast<int64_t>(gpus) : 0;
  task->percent = inst_num * plan_gpu;
  return absl::OkStatus();
}

void AddTask(const PaiTask& task, PaiJob* job) {
  if (!task.start_ns) return;  // never launched, so it held no GPUs
  if (!task.end_ns || *task.end_ns < *task.start_ns) {
    job->unfinished = true;
    return;
  }
  job->gpus += task.gpus;
  job->percent += task.percent;
  if (!job->start_ns || *task.start_ns < *job->start_ns) job->start_ns = task.start_ns;
  if (*task.end_ns > job->end_ns) job->end_ns = *task.end_ns;
}

// Groups rows by job_name, in order of first appearance.
class PaiJobTable {
 public:
  PaiJob* Find(const std::string& name, int64_t line) {
    const auto [it, inserted] = index_.try_emplace(name, jobs_.size());
    if (inserted) {
      PaiJob& job = jobs_.emplace_back();
      job.name = name;
      job.first_line = line;
    }
    return &jobs_[it->second];
  }
  std::vector<PaiJob>& jobs() { return jobs_; }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<PaiJob> jobs_;
};

// Calls `row` with each data row of a PAI table: the .csv files ship
// without a header (the names are a separate .header file), but a first
// line naming the columns is skipped.
template <class Row>
Status ForEachPaiRow(std::string_view text, const std::string& filename, Row row) {
  CsvReader reader(text, filename);
  CsvRecord rec;
  for (bool first = true;; first = false) {
    SG_ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) return absl::OkStatus();
    if (first && TrimBlanks(rec.fields[0]) == "job_name") continue;
    SG_RETURN_IF_ERROR(row(rec));
  }
}

// pai_job_table.csv's columns.
enum PaiJobColumn : size_t {
  kJobTableName = 0,
  kJobTableInstId,
  kJobTableUser,
  kJobTableStatus,
  kJobTableStart,
  kJobTableEnd,
  kNumJobTableColumns,
};

struct PaiSubmit {
  std::optional<int64_t> submit_ns;
  std::string user;
};

Status ReadJobTableRow(const CsvRecord& rec, const std::string& filename,
                       std::unordered_map<std::string, PaiSubmit>* submits) {
  if (rec.fields.size() != kNumJobTableColumns) {
    return TraceError(filename, rec.line, "row",
                      fmt::format("expected {} fields (job_name,inst_id,user,status,start_time,end_time), got {}",
                                  static_cast<size_t>(kNumJobTableColumns), rec.fields.size()));
  }
  const std::string& name = rec.fields[kJobTableName];
  if (IsMissing(name)) return TraceError(filename, rec.line, "job_name", "empty");
  std::optional<int64_t> submit;
  SG_RETURN_IF_ERROR(ReadPaiTime(rec, kJobTableStart, "start_time", filename, &submit));
  PaiSubmit& s = (*submits)[name];
  if (submit && (!s.submit_ns || *submit < *s.submit_ns)) s.submit_ns = submit;
  const std::string_view user = TrimBlanks(rec.fields[kJobTableUser]);
  if (s.user.empty() && !IsMissing(user)) s.user = std::string(user);
  return absl::OkStatus();
}

StatusOr<std::unordered_map<std::string, PaiSubmit>> ReadJobTable(const TraceText& table) {
  std::unordered_map<std::string, PaiSubmit> submits;
  SG_RETURN_IF_ERROR(ForEachPaiRow(table.text, table.filename, [&](const CsvRecord& rec) {
    return ReadJobTableRow(rec, table.filename, &submits);
  }));
  return submits;
}

Status ReadRow(const CsvRecord& rec, const std::string& filename, PaiJobTable* table) {
  if (rec.fields.size() != kNumPaiColumns) {
    return TraceError(filename, rec.line, "row",
                      fmt::format("expected {} fields (job_name,task_name,inst_num,status,"
                                  "start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type), "
                                  "got {}",
                                  static_cast<size_t>(kNumPaiColumns), rec.fields.size()));
  }
  const std::string& name = rec.fields[kJobName];
  if (IsMissing(name)) return TraceError(filename, rec.line, "job_name", "empty");
  PaiTask task;
  SG_RETURN_IF_ERROR(ReadTask(rec, filename, &task));
  AddTask(task, table->Find(name, rec.line));
  return absl::OkStatus();
}

Status EmitJob(PaiJob& job, const std::string& filename, const std::unordered_map<std::string, PaiSubmit>* submits,
               std::vector<TraceJob>* jobs, TraceStats* stats) {
  if (job.unfinished || !job.start_ns) {
    ++stats->skipped;
    return absl::OkStatus();
  }
  if (job.gpus > kMaxTraceGpus) {
    return TraceError(filename, job.first_line, "plan_gpu",
                      fmt::format("job {} asks for {} GPUs in all", Excerpt(job.name), job.gpus));
  }
  int64_t submit_ns = *job.start_ns;
  std::string tenant = "default";
  bool joined = false;
  if (submits != nullptr) {
    const auto it = submits->find(job.name);
    if (it != submits->end() && it->second.submit_ns) {
      submit_ns = std::min(*it->second.submit_ns, submit_ns);
      if (!it->second.user.empty()) tenant = it->second.user;
      joined = true;
    }
  }
  const size_t kept = jobs->size();
  KeepIfRan(TraceJob{.name = std::move(job.name),
                     .tenant = std::move(tenant),
                     .gpus = job.gpus,
                     .submit_ns = submit_ns,
                     .start_ns = *job.start_ns,
                     .end_ns = job.end_ns,
                     .share_milli = job.gpus == 1 && job.percent < 100 - 1e-6
                                        ? std::clamp<int64_t>(std::llround(job.percent * 10), 1, 999)
                                        : 0},
            jobs, stats);
  if (jobs->size() > kept && jobs->back().share_milli > 0) ++stats->shared;
  if (submits != nullptr && jobs->size() > kept) ++(joined ? stats->joined : stats->unjoined);
  return absl::OkStatus();
}

}  // namespace

Status ReadPaiTaskJobs(std::string_view text, const std::string& filename, const TraceText* job_table,
                       std::vector<TraceJob>* jobs, TraceStats* stats) {
  std::optional<std::unordered_map<std::string, PaiSubmit>> submits;
  if (job_table != nullptr) {
    SG_ASSIGN_OR_RETURN(submits, ReadJobTable(*job_table));
  }
  PaiJobTable table;
  SG_RETURN_IF_ERROR(ForEachPaiRow(text, filename, [&](const CsvRecord& rec) {
    ++stats->rows;
    return ReadRow(rec, filename, &table);
  }));
  for (PaiJob& job : table.jobs()) {
    SG_RETURN_IF_ERROR(EmitJob(job, filename, submits ? &*submits : nullptr, jobs, stats));
  }
  return absl::OkStatus();
}

}  // namespace stargate
