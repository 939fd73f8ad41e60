#include "sched/request_of.h"

#include <algorithm>

namespace stargate::sched {

ResolvedPlacement ResolvePlacement(const JobSpec& spec, const ClusterState& state) {
  ResolvedPlacement p;
  p.accel_mask = MaskOfTypes(spec.accelerators);
  p.allowed = state.AllowedSites(spec.jurisdictions, spec.regions);
  p.residency_unmet = !spec.jurisdictions.empty() && !state.AnySiteIn(spec.jurisdictions);
  // No site in those regions (yet): nothing fits.
  if (!spec.regions.empty() && !p.residency_unmet && p.allowed->empty()) p.accel_mask = 0;
  if (!spec.near.empty()) {
    double lat = 0, lon = 0;
    if (state.PlaceCoordinates(spec.near, &lat, &lon)) {
      p.has_users = true;
      p.users_latitude = static_cast<float>(lat);
      p.users_longitude = static_cast<float>(lon);
    } else if (spec.max_rtt > Duration::Zero()) {
      p.accel_mask = 0;  // near a place not known (yet) with a hard limit: nothing qualifies
    }
  }
  return p;
}

float UtilisationOf(JobKind k) {
  switch (k) {
    case JobKind::kTraining:
      return 0.85f;
    case JobKind::kFineTune:
      return 0.80f;
    case JobKind::kBatch:
      return 0.70f;
    case JobKind::kInference:
      return 0.50f;
  }
  return 0.7f;
}

std::vector<DataNeed> ResolveData(const std::vector<DataInput>& inputs, const ClusterState& state) {
  std::vector<DataNeed> out;
  out.reserve(inputs.size());
  for (const DataInput& in : inputs) {
    DataNeed d{in.name, in.bytes, {}};
    for (const std::string& site : in.sites) {
      if (std::optional<SiteId> id = state.FindSite(site)) d.at.push_back(*id);
    }
    out.push_back(std::move(d));
  }
  return out;
}

JobRequest RequestOf(const JobSpec& spec, const ResolvedPlacement& placement, const JobContext& context) {
  JobRequest req;
  req.id = context.id;
  req.tenant = context.tenant;
  req.accelerators = std::max(1, spec.accelerator_count);
  req.fixed_per_node = spec.per_node;
  req.share_milli = spec.share_milli;
  req.spread_sites = spec.spread_sites;
  req.accel_mask = placement.accel_mask;
  req.allowed = placement.allowed;
  req.residency_unmet = placement.residency_unmet;
  req.has_users = placement.has_users;
  req.users_latitude = placement.users_latitude;
  req.users_longitude = placement.users_longitude;
  req.max_rtt = spec.max_rtt;
  req.priority = spec.priority;
  req.submit = spec.submit;
  req.estimate = context.estimate;
  req.reference = ReferenceOf(spec);
  req.utilisation = context.utilisation;
  // The span its gang would get is priced by the step-time model, which
  // needs the model's size: a job file does not give it.
  if (spec.kind == JobKind::kTraining && spec.training.params > 0) req.training = &spec.training;
  req.deferrable = spec.deferrable;
  req.deadline = spec.deadline;
  req.resumed = context.resumed;
  req.queued_at = context.queued_at;
  return req;
}

}  // namespace stargate::sched
