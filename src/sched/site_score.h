// File: site_score.h
// How good a pool is for a job, in the units a planner cares about: the
// job's estimated run time on that pool's accelerators (so a job that runs
// 2.3x faster on H200 than on A100 is weighed so), the facility energy it
// adds, the emissions and the cost of that energy at the site's current and
// forecast grid figures, and whether the site's power cap admits it.
#pragma once

#include <limits>
#include <span>
#include <string>

#include "core/scenario.h"
#include "sched/cluster_state.h"
#include "sched/job_request.h"

namespace stargate::sched {

struct Candidate {
  PoolId pool;
  double runtime_s = 0;  // on this pool's accelerator type
  double wait_s = 0;     // until the pool has room (0 = room now)
  double extra_w = 0;    // facility draw the job adds above idle while it runs
  double energy_j = 0;   // extra_w x runtime
  double co2_g = 0;      // energy x grid intensity (mean of now and ahead)
  double cost_usd = 0;   // energy x price now
  double rtt_ms = 0;     // WAN round trip from the job's users or data (0 = none given)
  double move_s = 0;     // bringing its input data to this site (0 = all here, or none)
  double queue = 0;      // devices waiting for this pool this pass / pool devices
  double score = 0;      // lower is better; set by ScoreCandidates
};

// Grid intensity as the scheduler judges it: the mean of now and the mean
// over the forecast window (SchedulerSpec::carbon_forecast), g/kWh.
double JudgedIntensity(const SiteSignals& s);

// The job's figures on pool `p` (capacity is not checked here); its run
// time is stretched by `span_factor` (placement.h SpanFactor).
Candidate Estimate(const ClusterState& state, PoolId p, const JobRequest& req, double span_factor = 1.0);
// The same with the round trip from the job's users to the pool's site
// given (RoundTripMs, which a caller may have cached per site).
Candidate Estimate(const ClusterState& state, PoolId p, const JobRequest& req, double span_factor, double rtt_ms);

// Seconds to bring `req`'s input data (and a resuming job's newest
// checkpoint) to `site`: each the site lacks, from the holder with the
// fastest link, in turn (its bytes at the link's rate after the link's
// latency, ClusterState::WanLatency).
double MoveSeconds(const ClusterState& state, SiteId site, const JobRequest& req);
// Where the time goes, for a placement's reason: "; data corpus at
// site-b, 2.0 TB, 4.4 h to move", "; checkpoint at site-a, 80 GB, 11 min
// to stage" ("" when nothing moves).
std::string MoveReason(const ClusterState& state, SiteId site, const JobRequest& req);

// The relative terms' references: the best time (wait + move + runtime),
// the least emissions and the least cost among the candidates weighed
// together.
struct ScoreNorms {
  double time = std::numeric_limits<double>::infinity();
  double co2 = std::numeric_limits<double>::infinity();
  double cost = std::numeric_limits<double>::infinity();
  double runtime = std::numeric_limits<double>::infinity();  // the shortest run time alone (wait budgets)
  void Include(const Candidate& c);
  bool operator==(const ScoreNorms&) const = default;
};

// score = w_time * (wait + move + runtime) / norms.time + w_carbon * co2 / norms.co2
//       + w_cost * cost / norms.cost + w_latency * rtt / latency_scale + w_queue * queue.
// Non-decreasing in each of the candidate's figures (the weights are not
// negative), which is what lets the bounded search (candidate_search.h)
// stop early.
double ScoreOf(const Candidate& c, const ScoreNorms& norms, const SchedulerSpec& spec);
// Whether ScoreOf scores every candidate alike by `a` and by `b`: the
// references of the terms it weighs are the same.
bool SameScores(const ScoreNorms& a, const ScoreNorms& b, const SchedulerSpec& spec);
// ScoreOf's round-trip term alone.
double LatencyTerm(double rtt_ms, const SchedulerSpec& spec);
// Sets each candidate's score, with the norms of the candidates given.
void ScoreCandidates(std::span<Candidate> candidates, const SchedulerSpec& spec);

// A job's figures on any pool of one accelerator type, up to the site:
// its run time there (span factor 1), and the emissions and cost per unit
// of the site's pue x judged intensity and pue x price (Estimate's co2_g
// and cost_usd, which the bounded search's sorted keys multiply).
struct TypeFactors {
  double runtime_s = 0;
  double co2_per_key = 0;
  double cost_per_key = 0;
};
TypeFactors FactorsFor(AcceleratorType type, const JobRequest& req);

// Round trip in ms over fibre from `req`'s users to `site` (0 without users).
double RoundTripMs(const SiteState& site, const JobRequest& req);
// The same from a point (0 for a site that is not located).
double RoundTripMs(const SiteState& site, double latitude, double longitude);

// True if the site's draw now, plus what this pass already admitted there
// (`claimed_w`), plus `extra_w` stays within its power cap (0 = no cap).
bool PowerAdmits(const ClusterState& state, SiteId site, double claimed_w, double extra_w);

}  // namespace stargate::sched
