// File: job_request.h
// What the scheduler knows about a pending job: a compact, placement-ready
// digest of a JobSpec. The drivers (twin/, control/) build it; sched/ never
// sees strings on its hot path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/accelerator.h"
#include "core/ids.h"
#include "core/job_spec.h"
#include "core/units.h"
#include "sched/site_set.h"

namespace stargate::sched {

// Bit i set = AcceleratorType(i) acceptable.
using AcceleratorMask = uint16_t;
inline constexpr AcceleratorMask kAnyGpu =
    static_cast<AcceleratorMask>(((1u << kNumAcceleratorTypes) - 1) & ~(1u << static_cast<int>(AcceleratorType::kCpu)));
inline constexpr AcceleratorMask MaskOf(AcceleratorType t) {
  return static_cast<AcceleratorMask>(1u << static_cast<int>(t));
}

// The mask of acceptable types; an empty list means any GPU.
inline AcceleratorMask MaskOfTypes(const std::vector<AcceleratorType>& types) {
  AcceleratorMask m = 0;
  for (AcceleratorType t : types) m |= MaskOf(t);
  return m == 0 ? kAnyGpu : m;
}

// A dataset the job reads (JobSpec::inputs) and the sites holding it; or,
// for a job that resumes, its newest checkpoint and the live sites whose
// stores hold it (staged before the job starts anywhere else).
struct DataNeed {
  std::string name;
  double bytes = 0;
  std::vector<SiteId> at;  // none known: no cost is charged for it
  bool checkpoint = false;
};

struct JobRequest {
  JobId id;
  TenantId tenant;
  int accelerators = 1;  // gang size in devices
  // Devices per node the job asks for (a job file's `H100:4` x nodes: one
  // process per node with exactly that many); 0 = any layout, whole nodes
  // when the gang is bigger than one (the twin's jobs).
  int fixed_per_node = 0;
  AcceleratorMask accel_mask = kAnyGpu;
  // A share of one device in thousandths (JobSpec::share_milli): the job
  // packs with others into a slot of one device (ClusterState shares);
  // 0 = whole devices.
  int share_milli = 0;
  // Devices whose draw the job is charged: its share of one, or its gang.
  double devices_drawn() const { return share_milli > 0 ? share_milli / 1000.0 : accelerators; }
  // The sites its jurisdictions (data residency) and regions allow, of any
  // number (ClusterState::AllowedSites); null = every site.
  std::shared_ptr<const SiteSet> allowed;
  // It names jurisdictions and no site is in any of them (what a rejection
  // says).
  bool residency_unmet = false;
  // One node in each of `nodes` different sites (a geo-distributed job such
  // as DiLoCo: a worker per site), `fixed_per_node` devices each. Placed by
  // PlaceSpread; the twin's jobs never ask for it.
  bool spread_sites = false;
  // Where the job's users or data are (ClusterState::PlaceCoordinates of
  // JobSpec::near): the site score charges the WAN round trip from there,
  // and pools further than `max_rtt` are not allowed (0 = no limit).
  bool has_users = false;
  float users_latitude = 0, users_longitude = 0;
  Duration max_rtt = Duration::Zero();
  // Data gravity: a pool's site without a copy of each dataset is charged
  // the time to bring it from the best-connected holder (site_score.h).
  std::vector<DataNeed> data;
  int priority = 0;
  Time submit;        // original submit; kept across requeues
  Duration estimate;  // runtime estimate on `reference` devices (scoring, backfill)
  AcceleratorType reference = AcceleratorType::kH100;
  double utilisation = 0.8;  // expected mean device utilisation (power estimates)
  // A training job's model and batch (owned by the driver, alive while the
  // job is queued): the site score prices the span its gang would get in
  // each pool with the step-time model (placement.h SpanFactor). nullptr
  // for other work.
  const TrainingSpec* training = nullptr;
  // Carbon-aware deferral: a deferrable job may wait for a cleaner window or
  // site, but must be able to finish by `deadline`.
  bool deferrable = false;
  Time deadline = Time::Never();
  // Has run before (requeued after a failure or a preemption): never defer
  // it; `estimate` is what is left. It may still wait for a better pool,
  // with its wait budget counted from `queued_at`, when it went back to
  // the queue, rather than from `submit`.
  bool resumed = false;
  Time queued_at;

  // Gang repair: non-empty when the job still holds the rest of its gang in
  // `repair_pool` and needs one replacement node (with `per_node` free
  // devices) for each failed node listed. Such a request asks for spares,
  // not for a fresh placement.
  std::vector<NodeId> repair;
  PoolId repair_pool;
  int per_node = 0;
  bool is_repair() const { return !repair.empty(); }
};

}  // namespace stargate::sched
