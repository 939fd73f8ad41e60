// File: job_spec.h
// What a user asks for: one job. Shared by the twin's workload sources and
// the orchestrator's job files (core/job_file.h); sched/request_of.h turns
// it into the scheduler's request for both. Plain data; validation lives
// with the parsers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"
#include "core/units.h"

namespace stargate {

enum class JobKind : uint8_t { kTraining, kFineTune, kBatch, kInference };

std::string_view Name(JobKind k);

// A training run's size; the step-time model turns it into wall time.
struct TrainingSpec {
  double params = 0;                  // model parameters N
  double tokens = 0;                  // training tokens D (total work 6*N*D)
  double tokens_per_step = 4e6;       // global batch in tokens
  double mfu = 0.40;                  // achieved model FLOPs utilisation (Llama 3: 38-43%)
  double state_bytes_per_param = 16;  // bf16 weights + fp32 master + Adam moments
  int tensor_parallel = 8;            // TP x PP ranks form one model replica
  int pipeline_parallel = 1;
};

struct CheckpointPolicy {
  bool enabled = true;
  bool daly = false;  // interval = Daly optimum for the placement's MTBF
  Duration interval = Duration::Hours(1);
  // Asynchronous checkpoints (PyTorch DCP async_save, Megatron async
  // checkpointing, CheckFreq, GEMINI): training stalls only for the copy of
  // the state to host memory and persists it in the background, so a
  // checkpoint is durable the storage write time after its stall ends.
  bool async = false;
  // How long one checkpoint stalls the job, when known (measured on real
  // machines): overrides the model's figure (training) or the 30 s default
  // (other kinds). Zero = not given.
  Duration write = Duration::Zero();
  // Complete checkpoints kept in this many sites' stores (`replicas:
  // {sites: 2}`), inside the job's jurisdictions; 1 = where it runs only.
  int replica_sites = 1;
  // At most one copy to each replica site this often (`replicas: {every:
  // 30m}`): a copy takes the newest complete checkpoint; 0 = as often as
  // the checkpoints come and the link allows.
  Duration replica_every = Duration::Zero();
  // After an interruption, how long the job waits for a site that is down
  // when only that site's store holds its newest checkpoint, before it
  // restarts from the newest one a live site holds (or from its start).
  // Negative: `auto`, as long as the work at stake (what restarting from
  // the older checkpoint would do again): then the wait and the redone
  // work together cost at most twice what the best choice, made knowing
  // how long the outage lasts, would (the ski-rental bound).
  Duration site_wait = Duration::Nanos(-1);
};
inline constexpr int kMaxReplicaSites = 16;

// A dataset a job reads (`inputs:`), and which sites hold a copy of it:
// the scheduler charges a site without one the time to bring it there
// (data gravity), and the twin spends that time before the job computes.
// A job file may instead name a dataset registered with the server
// (`inputs: [corpus]`, `stargate data register`): it comes with no size
// and no sites, and the server fills both in from its registry.
struct DataInput {
  std::string name;
  double bytes = 0;
  std::vector<std::string> sites;
  bool registered() const { return sites.empty(); }
};

// Whether a job that allows `allowed` (JobSpec::jurisdictions; empty =
// anywhere) may have its work or data in `jurisdiction`.
inline bool JurisdictionAllowed(const std::vector<std::string>& allowed, std::string_view jurisdiction) {
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), jurisdiction) != allowed.end();
}

struct JobSpec {
  std::string name;
  std::string tenant = "default";
  JobKind kind = JobKind::kBatch;
  // (Beside `kind`, in what would be padding: the twin holds a million specs.)
  // One node in each of several sites (`placement.spread: sites`: one
  // worker per site, as geo-distributed training such as DiLoCo wants).
  bool spread_sites = false;
  // Exactly this many devices on each node, one process per node (a job
  // file's `H100:4` x nodes); 0 = any layout, whole nodes when the gang is
  // bigger than one (the twin's jobs).
  int per_node = 0;
  // Acceptable accelerator types; empty means any non-CPU type.
  std::vector<AcceleratorType> accelerators;
  int accelerator_count = 1;  // total devices in the gang
  // A share of one device, in thousandths (1-999), for a one-device job
  // that packs with others on a device (a job file's `H100:0.25`, openb's
  // gpu_milli, PAI's plan_gpu under 100); 0 = whole devices.
  int share_milli = 0;
  int priority = 0;
  Time submit;
  // Batch / fine-tune / inference: wall time on the reference device (the
  // first entry of `accelerators`, H100 when that is empty), scaled by
  // relative throughput on others. Ignored for training, whose
  // length comes from TrainingSpec.
  Duration duration = Duration::Hours(1);
  // What the scheduler is told it takes (its backfill and scores), where
  // that differs from `duration` (a live forecast runs a job for what jobs
  // like it took, and schedules it on its file's estimate); zero = the
  // duration. Not for training.
  Duration estimate = Duration::Zero();
  // A trace job's queueing as the trace recorded it (its start less its
  // submit, on the trace's own clock); negative: none recorded. The twin
  // reports its own waits beside these (Summary::replay).
  Duration recorded_wait = Duration::Nanos(-1);
  TrainingSpec training;
  CheckpointPolicy checkpoint;
  std::vector<std::string> jurisdictions;  // allowed; empty = anywhere
  std::vector<std::string> regions;        // allowed; empty = anywhere
  // Where the job's users or data are: a site or region name ("" = no
  // preference). The scheduler scores the WAN round trip from there.
  std::string near;
  Duration max_rtt = Duration::Zero();  // hard limit on that round trip; 0 = none
  std::vector<DataInput> inputs;        // datasets it reads (none for most jobs)
  bool deferrable = false;
  Time deadline = Time::Never();
};

// Orders `jobs` by submit time, keeping the order of equal times (a stable
// sort). Sorts indices and moves each spec along its cycle, in place: the
// twin sorts a million specs of ~450 bytes.
void SortBySubmit(std::vector<JobSpec>& jobs);

}  // namespace stargate
