// File: request_of.h
// The one conversion from what a user asks for (core/job_spec.h) to what
// the scheduler weighs (JobRequest), used by both drivers: the twin for a
// scenario's jobs and the server for job files, so a job asks the same of
// either. What a spec says is resolved against the cluster's names here
// (acceptable types, jurisdictions, regions, where its users are); what
// only the driver knows (ids, when the job queued, how much work is left,
// its expected utilisation) comes in JobContext. A gang repair is the
// driver's to add (JobRequest::repair).
//
// Pure functions; the spec must outlive the request when it is a training
// job (JobRequest::training points into it).
#pragma once

#include <cstdint>
#include <memory>

#include "core/ids.h"
#include "core/job_spec.h"
#include "core/units.h"
#include "sched/cluster_state.h"
#include "sched/job_request.h"

namespace stargate::sched {

// What a spec asks of placement, resolved against a cluster's names. A
// driver that converts a job many times (the twin requeues after every
// failure) keeps it per job; it depends only on the spec and on the
// cluster's sites, which do not change during a run.
struct ResolvedPlacement {
  std::shared_ptr<const SiteSet> allowed;  // JobRequest::allowed: null = any site
  float users_latitude = 0, users_longitude = 0;
  AcceleratorMask accel_mask = kAnyGpu;
  bool has_users = false;
  bool residency_unmet = false;  // JobRequest::residency_unmet
};

ResolvedPlacement ResolvePlacement(const JobSpec& spec, const ClusterState& state);

// What the driver knows of the job beyond its spec.
struct JobContext {
  JobId id;
  TenantId tenant;
  // Run time left on the reference device (the spec's first type, H100
  // when it names none): all of it before the first start.
  Duration estimate;
  // It ran before (requeued after a failure or a preemption): never
  // deferred, and its wait budget for a better pool counts from
  // `queued_at`, when it went back to the queue.
  bool resumed = false;
  Time queued_at;
  double utilisation = 0.8;  // expected mean device utilisation (power estimates): UtilisationOf(kind)
};

// Average device utilisation while a job of this kind holds it, for both
// drivers' power estimates. Training runs near its power limit (Latif et
// al. arXiv 2412.08602: intensive training averages ~76% of node max
// power); the rest are estimates.
float UtilisationOf(JobKind k);

// The type a job's duration is given on, and its work scaled from: its
// first acceptable type, H100 when it names none (JobSpec::duration).
inline AcceleratorType ReferenceOf(const JobSpec& spec) {
  return spec.accelerators.empty() ? AcceleratorType::kH100 : spec.accelerators[0];
}

// Datasets (a spec's inputs, or a resuming job's checkpoint) against the
// cluster's sites (holders it does not know are left out).
std::vector<DataNeed> ResolveData(const std::vector<DataInput>& inputs, const ClusterState& state);

// `data`: ResolveData's (a driver that keeps ResolvedPlacement per job
// resolves it for the few jobs with inputs).
JobRequest RequestOf(const JobSpec& spec, const ResolvedPlacement& placement, const JobContext& context);
inline JobRequest RequestOf(const JobSpec& spec, const ClusterState& state, const JobContext& context) {
  JobRequest r = RequestOf(spec, ResolvePlacement(spec, state), context);
  if (!spec.inputs.empty()) r.data = ResolveData(spec.inputs, state);
  return r;
}

}  // namespace stargate::sched
