// File: batch_job.h
// A batch job of `devices` running `d`, submitted at `submit`, with no
// checkpoints, and a small cluster: the plain work and place the twin's
// and the oracle's tests use.
#pragma once

#include "core/job_spec.h"
#include "twin/inputs.h"

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

// One US site with one H100 pool (`nodes` of 8), no failures, flat
// series, two days.
inline TwinInputs SmallCluster(int nodes) {
  TwinInputs in;
  in.spec.name = "small";
  in.spec.duration = Duration::Days(2);
  SiteSpec site;
  site.name = "s";
  site.jurisdiction = "US";
  site.pue = 1.5;
  site.pools.push_back(PoolSpec{AcceleratorType::kH100, nodes, 8, 4, 1});
  in.spec.sites.push_back(site);
  in.carbon.push_back(HourlySeries{{100.0}});
  in.price.push_back(HourlySeries{{50.0}});
  return in;
}

}  // namespace stargate::twin::testing
