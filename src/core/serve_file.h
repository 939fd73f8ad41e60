// File: serve_file.h
// A model-serving service as `stargate serve FILE.yaml` keeps it up: a job
// file (job_file.h) for one replica, plus a `serve` block saying how many
// replicas, near which users, and how to tell one is healthy:
//
//   name: digits
//   resources: {accelerators: CPU:1}
//   run: python3 examples/workloads/serve.py --port $PORT
//   serve:
//     replicas: {min: 2, max: 4}     # or `replicas: 2` (fixed)
//     regions: [us-east, eu-west]    # where users are: replicas go near them in turn
//     port: 8600                     # replicas listen on 8600, 8601, ... ($PORT)
//     health: {path: /health, interval: 1s, timeout: 1s, failures: 3, replace_after: 60s}
//     autoscale: {target_inflight: 4, up_after: 5s, down_after: 60s}
//     max_rtt: 40ms                  # optional: a replica at most this far from its region
//
// Each replica is a job of its own, named NAME-rN, kind inference, with
// PORT, STARGATE_SERVE_PORT and STARGATE_REPLICA in its environment.
// Parsed by ParseServeFile; errors name file, line, column and field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/job_file.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate {

struct ServeSpec {
  int min_replicas = 1;
  int max_replicas = 1;
  std::vector<std::string> regions;  // empty: the job's own placement.near, if any
  int port = 8600;                   // the first replica port
  std::string health_path = "/health";
  Duration health_interval = Duration::Seconds(1);
  Duration health_timeout = Duration::Seconds(1);
  int health_failures = 3;  // failed checks in a row before a replica gets no traffic
  // A replica that passed its checks and then failed them this long is
  // cancelled and replaced (its server wedged, or its site cut off). One
  // still starting (loading weights, say) has no limit.
  Duration replace_after = Duration::Seconds(60);
  // Requests in flight per replica the autoscaler aims at (a replica's
  // useful concurrency: its batch size, or its worker count).
  double target_inflight = 4;
  Duration scale_up_after = Duration::Seconds(5);
  Duration scale_down_after = Duration::Seconds(60);
  Duration max_rtt = Duration::Zero();  // 0: near is a preference only
};

struct ServeFile {
  JobFile job;  // one replica, as parsed (its name is the service's)
  ServeSpec serve;
  std::string text;  // the file as written: replica job files derive from it
  // Where `stargate serve` ran (absolute; "" = not known): each replica
  // gets it as STARGATE_SUBMIT_DIR (Slurm's SLURM_SUBMIT_DIR), so a `run`
  // can name files beside it on nodes that see the same path, rather than
  // an install path written into the file.
  std::string submit_dir;
};

// Replica ports run from `port` to `port + kMaxReplicaPorts - 1`.
inline constexpr int kMaxReplicaPorts = 100;

StatusOr<ServeFile> ParseServeFile(std::string_view yaml_text, const std::string& filename);

// The job file of replica `n` near `region` ("" = no preference) listening
// on `port`: the serve file without its `serve` block, named NAME-rN, kind
// inference, with the replica's environment added (PORT,
// STARGATE_SERVE_PORT, STARGATE_REPLICA, and STARGATE_SUBMIT_DIR unless
// the file's env sets it).
StatusOr<std::string> ReplicaJobText(const ServeFile& file, int n, const std::string& region, int port);

// The job name of replica `n`, and the replica number of a job name (-1 when
// `job_name` is not one of this service's replicas).
std::string ReplicaJobName(const std::string& service, int n);
int ReplicaNumber(const std::string& service, const std::string& job_name);

}  // namespace stargate
