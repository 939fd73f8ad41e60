// File: batch_job.h
// A batch job of `devices` running `d`, submitted at `submit`, with no
// checkpoints: the plain work the twin's and the oracle's tests place.
#pragma once

#include "core/job_spec.h"

namespace stargate::twin::testing {

inline JobSpec Batch(int devices, Duration d, Time submit = Time::Epoch()) {
  JobSpec j;
  j.kind = JobKind::kBatch;
  j.accelerator_count = devices;
  j.duration = d;
  j.submit = submit;
  j.checkpoint.enabled = false;
  return j;
}

}  // namespace stargate::twin::testing
