// Reader for Alibaba's 2023 GPU-cluster pod traces, openb_pod_list_*.csv
// (alibaba/clusterdata, cluster-trace-gpu-v2023; Weng et al., "Beware of
// Fragmentation", USENIX ATC '23).
//
// Schema, from cluster-trace-gpu-v2023/README.md:
//   name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,
//   creation_time,deletion_time,scheduled_time
// with a header row; times are seconds on the trace's clock (creation 0 at
// its start); num_gpu is 0-8; gpu_milli is the share of one GPU a
// GPU-sharing pod (num_gpu 1) asks for, in thousandths (1000 = all of it);
// scheduled_time is empty for a pod never scheduled.
//
// A pod is a job submitted at creation_time that ran from scheduled_time to
// deletion_time on num_gpu GPUs. Skipped: num_gpu 0 (CPU pods), never
// scheduled, deletion <= scheduled. A GPU-sharing pod is a share of one
// device (JobSpec::share_milli = gpu_milli), packed with others onto a
// device as the trace's own scheduler did, and counted in
// TraceStats::shared. There is no user column: every pod is tenant
// "default".
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/text_fields.h"
#include "workload/trace_job.h"

namespace stargate {
namespace {

struct OpenbColumns {
  int name, num_gpu, gpu_milli, creation_time, scheduled_time, deletion_time;
  size_t count = 0;
};

Status ReadHeader(const CsvRecord& rec, const std::string& filename, OpenbColumns* cols) {
  *cols = OpenbColumns{FindColumn(rec, {"name"}),
                       FindColumn(rec, {"num_gpu"}),
                       FindColumn(rec, {"gpu_milli"}),
                       FindColumn(rec, {"creation_time"}),
                       FindColumn(rec, {"scheduled_time"}),
                       FindColumn(rec, {"deletion_time"}),
                       rec.fields.size()};
  return RequireColumns(
      rec, filename,
      {{"name", cols->name},
       {"num_gpu", cols->num_gpu},
       {"creation_time", cols->creation_time},
       {"scheduled_time", cols->scheduled_time},
       {"deletion_time", cols->deletion_time}},
      "openb_pod_list_*.csv starts with a header row: name,cpu_milli,memory_mib,num_gpu,gpu_milli,...");
}

Status ReadRow(const CsvRecord& rec, const OpenbColumns& cols, const std::string& filename, std::vector<TraceJob>* jobs,
               TraceStats* stats) {
  SG_RETURN_IF_ERROR(CheckWidth(rec, cols.count, filename));
  TraceJob job;
  job.name = std::string(FieldAt(rec, cols.name));
  if (job.name.empty()) return TraceError(filename, rec.line, "name", "empty");
  job.tenant = "default";
  SG_RETURN_IF_ERROR(ReadGpuField(rec, cols.num_gpu, "num_gpu", filename, &job.gpus));
  int64_t milli = 1000;
  if (const std::string_view f = FieldAt(rec, cols.gpu_milli); !IsMissing(f)) {
    const std::optional<int64_t> m = ParseFieldCount(f);
    if (!m || *m > 1000) {
      return TraceError(filename, rec.line, "gpu_milli",
                        fmt::format("expected thousandths of a GPU (0-1000), got \"{}\"", Excerpt(f)));
    }
    milli = *m;
  }
  std::optional<int64_t> created, scheduled, deleted;
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.creation_time, "creation_time", filename, &created));
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.scheduled_time, "scheduled_time", filename, &scheduled));
  SG_RETURN_IF_ERROR(ReadTimeField(rec, cols.deletion_time, "deletion_time", filename, &deleted));
  if (!scheduled || !deleted) {
    ++stats->skipped;  // never scheduled (Pending), or no end
    return absl::OkStatus();
  }
  job.submit_ns = created.value_or(*scheduled);
  job.start_ns = *scheduled;
  job.end_ns = *deleted;
  if (job.gpus == 1 && milli > 0 && milli < 1000) job.share_milli = milli;
  const size_t before = jobs->size();
  KeepIfRan(std::move(job), jobs, stats);
  if (jobs->size() > before && jobs->back().share_milli > 0) ++stats->shared;
  return absl::OkStatus();
}

}  // namespace

Status ReadOpenbJobs(std::string_view text, const std::string& filename, std::vector<TraceJob>* jobs,
                     TraceStats* stats) {
  OpenbColumns cols{};
  return ReadCsvTrace(
      text, filename, stats, [&](const CsvRecord& rec) { return ReadHeader(rec, filename, &cols); },
      [&](const CsvRecord& rec) { return ReadRow(rec, cols, filename, jobs, stats); });
}

}  // namespace stargate
