// File: checkpoint.h
// Cost of checkpointing a training job and the interval that balances it
// against lost work. Symbols: delta = time to write one checkpoint, M = mean
// time between interruptions of the job (failure.h), R = restart time
// (re-init plus reload), tau = compute time between checkpoints.
// Pure functions; thread-safe. An Infinite M yields an Infinite interval
// (never checkpoint for failures).
#pragma once

#include "core/job_spec.h"
#include "core/units.h"

namespace stargate::model {

// params * state_bytes_per_param: 16 B/param for bf16 weights + fp32 master
// weights + two fp32 Adam moments (Rajbhandari et al., "ZeRO", SC 2020,
// which counts 16 bytes per parameter for mixed-precision Adam). Llama 3
// 405B: ~6.5 TB.
Bytes CheckpointBytes(const TrainingSpec& training);

// state / bandwidth; Infinite when bandwidth <= 0 and there is state.
Duration CheckpointWriteTime(Bytes state, BytesPerSec bandwidth);

// Training stall of an asynchronous checkpoint: each device copies its shard
// of `state` to host memory over its host link, all in parallel. 25 GB/s per
// device is what PCIe Gen4 x16 sustains (32 GB/s theoretical) and about half
// of Gen5's, so it is conservative for H100/B200 hosts. CheckFreq (Mohan et
// al., FAST 2021) and GEMINI (Wang et al., SOSP 2023) build on this
// snapshot-then-persist split. Llama 3 405B on 16,384 GPUs: ~16 ms.
inline constexpr double kHostCopyBytesPerSecPerDevice = 25e9;
Duration SnapshotStallTime(Bytes state, int devices);

// Young's first-order optimum tau = sqrt(2*delta*M) (Young, "A first order
// approximation to the optimum checkpoint interval", CACM 17(9), 1974).
// Good when delta << M; too long when they are close.
Duration YoungInterval(Duration write, Duration mtbf);

// Daly's higher-order optimum (Daly, "A higher order estimate of the optimum
// checkpoint interval for restart dumps", FGCS 22(3), 2006):
//   tau = sqrt(2*delta*M) * [1 + (1/3)*sqrt(delta/(2M)) + (1/9)*(delta/(2M))] - delta
// for delta < 2M, else tau = M. Reproduces the paper's cases (R = 10 min,
// delta = 5 min): M = 24 h -> 116.7 min, 6 h -> 56.7 min, 15 min -> 9.14 min.
// The popular sqrt(2*delta*(M+R)) - delta variant misses the last by ~18%.
Duration DalyInterval(Duration write, Duration mtbf);

// Expected fraction of wall time spent on useful work with checkpoints every
// `interval` of compute (first order):
//   tau/(tau+delta) * (1 - (R + (tau+delta)/2)/M), clamped to [0, 1].
// The first factor is the write overhead; the second the share of time not
// lost to restarts and to re-running half a segment on average. 0 for a
// non-positive interval or M; tau/(tau+delta) for an Infinite M.
double ExpectedEfficiency(Duration interval, Duration write, Duration restart, Duration mtbf);

}  // namespace stargate::model
