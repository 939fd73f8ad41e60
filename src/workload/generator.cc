#include "workload/generator.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace stargate {
namespace {

// How many jobs `gen` emits up to `horizon`: its count, or none where its
// window is empty.
size_t JobsOf(const GeneratorSpec& gen, Time horizon) {
  return gen.count > 0 && std::min(gen.end, horizon) > gen.start ? static_cast<size_t>(gen.count) : 0;
}

// Sorted uniform arrival times of `count` jobs in [start, end): a Poisson
// process conditioned on its count is `count` sorted uniforms; cumulative
// exponential spacings give them in order without a sort.
std::vector<int64_t> ArrivalTimes(size_t count, Time start, Time end, Rng& rng) {
  std::vector<int64_t> out;
  if (count == 0) return out;
  out.reserve(count);
  std::vector<double> cum(count + 1);
  double sum = 0;
  for (auto& c : cum) {
    sum += rng.Exponential(1.0);
    c = sum;
  }
  const double span = static_cast<double>((end - start).nanos());
  for (size_t i = 0; i < count; ++i) {
    out.push_back(start.nanos() + static_cast<int64_t>(cum[i] / sum * span));
  }
  return out;
}

const GeneratorSpec::SizeChoice& PickSize(const GeneratorSpec& gen, Rng& rng) {
  double total = 0;
  for (const auto& s : gen.sizes) total += s.weight;
  double x = rng.Uniform() * total;
  for (const auto& s : gen.sizes) {
    if (x < s.weight) return s;
    x -= s.weight;
  }
  return gen.sizes.back();
}

}  // namespace

void AppendJobs(const GeneratorSpec& gen, Time horizon, Rng& rng, std::vector<JobSpec>* out) {
  std::vector<JobSpec>& jobs = *out;
  const std::vector<int64_t> arrivals = ArrivalTimes(JobsOf(gen, horizon), gen.start, std::min(gen.end, horizon), rng);
  jobs.reserve(jobs.size() + arrivals.size());
  const std::vector<std::string> tenants = [&] {
    std::vector<std::string> t;
    for (int i = 0; i < std::max(1, gen.tenants); ++i) t.push_back("tenant-" + std::to_string(i));
    return t;
  }();
  for (size_t i = 0; i < arrivals.size(); ++i) {
    const int64_t at = arrivals[i];
    JobSpec j;
    j.name = fmt::format("{}-{}", gen.name, i);  // generator names are unique
    j.kind = gen.kind;
    j.submit = Time::FromNanos(at);
    j.tenant = tenants[rng.Below(tenants.size())];
    j.accelerators = gen.accelerators;
    j.jurisdictions = gen.jurisdictions;
    // Draw only when there is a choice, so generators without one keep
    // their random streams.
    if (!gen.near.empty()) j.near = gen.near[gen.near.size() == 1 ? 0 : rng.Below(gen.near.size())];
    j.max_rtt = gen.max_rtt;
    j.priority = gen.priority;
    j.checkpoint = gen.checkpoint;
    if (!gen.sizes.empty()) {
      const GeneratorSpec::SizeChoice& size = PickSize(gen, rng);
      j.accelerator_count = size.accelerators;
      j.share_milli = size.share_milli;
    }
    if (gen.kind == JobKind::kTraining) {
      const double lo = std::log(gen.params_min), hi = std::log(std::max(gen.params_min, gen.params_max));
      j.training.params = std::exp(rng.Uniform(lo, hi));
      j.training.tokens = gen.tokens_per_param * j.training.params;
      j.training.mfu = gen.mfu;
      // Small models do not need tensor parallelism across a whole node.
      j.training.tensor_parallel = std::min(8, std::max(1, j.accelerator_count));
    } else {
      j.duration =
          Duration::FromSeconds(std::max(60.0, rng.LogNormal(gen.duration_median.seconds(), gen.duration_sigma)));
    }
    if (gen.deferrable_fraction > 0 && rng.Bernoulli(gen.deferrable_fraction)) {
      j.deferrable = true;
      j.deadline = j.submit + gen.deadline_slack;
    }
    jobs.push_back(std::move(j));
  }
}

std::vector<JobSpec> GenerateJobs(const GeneratorSpec& gen, Time horizon, Rng& rng) {
  std::vector<JobSpec> jobs;
  AppendJobs(gen, horizon, rng, &jobs);
  return jobs;
}

std::vector<JobSpec> GenerateWorkload(const WorkloadSpec& spec, Time horizon, const Rng& rng) {
  // Made in place, in one array sized once: a million specs are ~450 MB,
  // and each array grown or copied on the way is as much fresh memory.
  size_t total = spec.jobs.size();
  for (const GeneratorSpec& gen : spec.generators) total += JobsOf(gen, horizon);
  std::vector<JobSpec> all;
  all.reserve(total);
  all.insert(all.end(), spec.jobs.begin(), spec.jobs.end());
  for (size_t g = 0; g < spec.generators.size(); ++g) {
    Rng stream = rng.Fork(g + 1);
    AppendJobs(spec.generators[g], horizon, stream, &all);
  }
  SortBySubmit(all);
  return all;
}

}  // namespace stargate
