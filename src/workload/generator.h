// File: generator.h
// Synthetic job streams for the twin: Poisson arrivals over a window, gang
// sizes from a weighted table, log-normal lengths for batch-like work and
// log-uniform model sizes for training. Pure and deterministic for an Rng.
#pragma once

#include <vector>

#include "core/job_spec.h"
#include "core/rng.h"
#include "core/scenario.h"

namespace stargate {

// Emits `gen.count` jobs with submit times in [gen.start, min(gen.end,
// horizon)), sorted by submit, named after the generator and their index.
std::vector<JobSpec> GenerateJobs(const GeneratorSpec& gen, Time horizon, Rng& rng);
// The same jobs appended to `out`.
void AppendJobs(const GeneratorSpec& gen, Time horizon, Rng& rng, std::vector<JobSpec>* out);

// The explicit and generated jobs of a workload, stably sorted by submit time.
// (Traces are files: the twin's loader reads and merges them.)
// Generator g draws from rng.Fork(g) so adding a generator does not change the
// jobs of the others.
std::vector<JobSpec> GenerateWorkload(const WorkloadSpec& spec, Time horizon, const Rng& rng);

}  // namespace stargate
