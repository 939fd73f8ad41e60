// File: trace_reader.h
// Readers for public GPU-cluster traces: text already in memory (the caller
// reads the file) becomes the twin's JobSpecs. Pure: no I/O, clock or globals.
//
// Formats and the schema each reader follows (details in its .cc):
//  - kPhilly: Microsoft Philly `cluster_job_log`, a JSON array of jobs
//    (msr-fiddle/philly-traces README.md and analysis notebook).
//  - kAlibabaPai: Alibaba PAI `pai_task_table.csv` of cluster-trace-gpu-v2020
//    (alibaba/clusterdata: cluster-trace-gpu-v2020/README.md and
//    data/pai_task_table.header), joined with `pai_job_table.csv` when given
//    (its submit times and users).
//  - kHelios: SenseTime Helios `cluster_log.csv` (S-Lab-System-Group/HeliosData
//    README.md).
//  - kAcme: Shanghai AI Lab's Acme `trace_seren.csv` / `trace_kalos.csv`
//    (InternLM/AcmeTrace README.md): Helios's schema, times with a zone.
//  - kOpenb: Alibaba's 2023 GPU pod traces, `openb_pod_list_*.csv`
//    (alibaba/clusterdata: cluster-trace-gpu-v2023/README.md).
//  - kJobList: a plain CSV job list, submission_time,duration,num_gpu
//    (trace_job_list.cc).
//
// Every reader keeps only jobs that ran: at least one GPU and a run with a
// start, an end and a positive length. The rest are skipped and counted.
// Trace jobs are JobKind::kBatch: none of these traces says which jobs are
// training or fine-tuning in a way the twin could size (kTraining takes its
// length from TrainingSpec, so it would drop the measured runtime).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_spec.h"
#include "core/scenario.h"
#include "core/status.h"

namespace stargate {

struct TraceStats {
  int64_t rows = 0;     // data records read (Philly: jobs; PAI: task rows)
  int64_t jobs = 0;     // jobs returned (after spec.limit)
  int64_t skipped = 0;  // trace jobs dropped: never ran, unfinished, 0 GPUs
  // GPU-sharing jobs (openb: one GPU with gpu_milli under 1000; PAI: less
  // than one GPU in all), each a share of one device (JobSpec::share_milli)
  // that the scheduler packs with others onto a device.
  int64_t shared = 0;
  // PAI with a job table, of the jobs that ran (before spec.limit): those
  // the job table gives a submit time (and user), and those it does not
  // (submitted at their first launch, as with no job table).
  int64_t joined = 0;
  int64_t unjoined = 0;
};

// A second file a trace's jobs are joined with (PAI's pai_job_table.csv).
struct TraceText {
  std::string_view text;
  std::string filename;  // labels errors only
};

// Parses one trace. Submit times are made relative to the earliest submit
// among the jobs kept and multiplied by spec.time_scale (> 0); durations are
// not scaled. The result is stably sorted by submit time and holds the first
// spec.limit jobs (0 = all). Each job: name = trace job id, tenant = virtual
// cluster (else user, else "default"), accelerator_count = GPUs the trace
// gave it, duration = end - start of its (last) run on the trace's GPU (the
// twin scales by device speed), accelerators = spec.accelerators.
//
// `job_table`, for kAlibabaPai only (InvalidArgument otherwise), is the
// pai_job_table the task table is joined with.
//
// Errors are InvalidArgument "FILE:LINE: field: message" for malformed
// input; `filename` only labels them. `stats`, when given, is overwritten.
StatusOr<std::vector<JobSpec>> ParseTrace(std::string_view text, const std::string& filename, const TraceSpec& spec,
                                          TraceStats* stats = nullptr, const TraceText* job_table = nullptr);

}  // namespace stargate
