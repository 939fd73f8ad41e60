// File: job_file.h
// A job as an ML engineer writes it for the orchestrator (`stargate job
// submit FILE.yaml`), in the spirit of a SkyPilot task file:
//
//   name: digits-ddp
//   tenant: ml-team
//   kind: training                  # training | finetune | batch | inference
//   resources:
//     accelerators: H100:8          # per node; a list gives acceptable types;
//                                   # H100:0.25 = a quarter of one device, shared
//     nodes: 2
//   placement: {jurisdictions: [EU], regions: [eu-west], near: eu-west, max_rtt: 40ms}
//                                   # spread: sites = one node per site
//   priority: 10
//   estimate: 2h                    # expected run time (backfill, scoring); auto: learned
//   deferrable: {deadline: 12h}     # may wait for clean power; done 12 h after submit
//   checkpoint: {dir: digits, interval: auto, replicas: {sites: 2}, keep: 2}
//   array: 0-999                    # one job per index (job_array.h)
//   run: python3 train.py --epochs 5
//   env: {OMP_NUM_THREADS: "4"}
//
// Parsed by ParseJobFile (job_file_parser.h); errors name file, line,
// column and field path. Plain data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/job_array.h"
#include "core/job_spec.h"
#include "core/units.h"

namespace stargate {

struct JobFile {
  // Name, tenant, kind, priority, accelerators (acceptable types),
  // per_node, accelerator_count (nodes x per_node), jurisdictions,
  // regions, spread, near, max_rtt, deferrable and checkpoint interval;
  // `submit` and `deadline` are set when the job is submitted
  // (SetSubmitted: the deadline `deadline_after` from then).
  JobSpec spec;
  int nodes = 1;
  // Per node, enforced by the task's cgroup: resources.memory (bytes; 0 =
  // no limit) and resources.cpus (CPU time per second; 0 = no limit).
  int64_t memory_bytes = 0;
  double cpus = 0;
  // `estimate: 2h`, or `auto` (the default): the server predicts the run
  // time from jobs like it (control/server/run_time_model.h); `estimate`
  // then holds 1 h, what the twin and the file's checks use.
  Duration estimate = Duration::Hours(1);
  bool estimate_auto = true;
  Duration deadline_after = Duration::Zero();  // deferrable: finish within this of submit
  // Relative to the tenant's checkpoint area (<server data dir>/checkpoints/
  // <tenant>/); "" = the job's id there.
  std::string checkpoint_dir;
  // How long one checkpoint stalls the job: with `interval: auto`, Daly's
  // optimum trades it against the failure rate. ESTIMATE default: a minute.
  Duration checkpoint_cost = Duration::Seconds(60);
  // `checkpoint.keep`: complete checkpoints a copy leaves in a site's
  // store (the job prunes its own, STARGATE_CHECKPOINT_KEEP).
  int checkpoint_keep = 2;
  // How often an attempt that failed (a rank exited non-zero) is restarted
  // from its checkpoint before the job fails. Lost nodes and preemptions
  // do not count: they always restart. A rank usually crashes (its peer
  // gone) before the lost node has missed its heartbeats.
  int max_restarts = 0;
  std::string run;  // shell command, run with /bin/bash -c
  // An OCI image to run `run` in (podman on the node); "" = on the host.
  std::string image;
  std::map<std::string, std::string> env;
  // `array:`: submitted as one job per index (empty: one job).
  JobArray array;
};

// The job's times once submitted at `at`: JobSpec::submit, and for a
// deferrable job its deadline, `deadline_after` from then.
inline void SetSubmitted(JobFile& f, Time at) {
  f.spec.submit = at;
  f.spec.deadline = f.spec.deferrable ? at + f.deadline_after : Time::Never();
}

}  // namespace stargate
