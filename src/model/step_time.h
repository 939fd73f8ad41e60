// File: step_time.h
// How long a training run takes on a placement, failure-free: compute from the
// 6*N*D rule at an achieved MFU plus the part of the gradient all-reduce that
// does not hide behind the backward pass. Also the relative speed of device
// types for non-training work. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "core/accelerator.h"
#include "core/job_spec.h"
#include "core/topology.h"
#include "core/units.h"
#include "model/placement_shape.h"

namespace stargate::model {

// Training FLOPs per token per parameter: 2 forward + 4 backward (Kaplan et
// al., "Scaling Laws for Neural Language Models", arXiv 2001.08361, 2020).
inline constexpr double kFlopsPerParamToken = 6.0;

// Bytes per gradient element: bf16 gradients, as in Llama 3 and Megatron-LM
// mixed-precision training (Micikevicius et al., arXiv 1710.03740).
inline constexpr double kGradientBytesPerParam = 2.0;

// Share of the gradient all-reduce that overlaps backward compute. PyTorch DDP
// launches each ~25 MB gradient bucket's all-reduce as soon as its gradients
// are ready (Li et al., "PyTorch Distributed", VLDB 2020, which measures most
// of the communication hidden); 0.7 is an estimate, not a measurement.
inline constexpr double kDefaultOverlap = 0.7;

struct StepEstimate {
  Duration compute;   // 6*N*tokens_per_step / (devices * peak * mfu)
  Duration comm;      // exposed (non-overlapped) gradient sync per step
  Duration step;      // compute + comm
  int64_t steps = 0;  // ceil(tokens / tokens_per_step)
  Duration total;     // steps * step (no failures, no checkpoints)
};

// Gradient bytes per data-parallel rank = 2*N / (tensor_parallel *
// pipeline_parallel), all-reduced across the devices / (tp*pp) replicas
// (DataParallelAllReduce); exposed comm = max(0, comm - overlap*compute).
// Devices, peak (bf16_dense) or mfu <= 0 give Infinite durations. A
// tokens_per_step <= 0 means one step of all tokens. Durations saturate at
// Infinite instead of overflowing.
StepEstimate TrainingStep(const TrainingSpec& training, const AcceleratorSpec& accel, const FabricSpec& fabric,
                          const PlacementShape& shape, double overlap = kDefaultOverlap);

// 6*N*D (Kaplan 2020). Llama 3 405B: 6 * 405e9 * 15.6e12 = 3.79e25, as Meta
// reports 3.8e25 (Dubey et al., arXiv 2407.21783).
double TrainingFlops(const TrainingSpec& training);

// A training run's pure compute time on `devices` of `accel`: 6ND / (devices
// x peak x MFU), MFU at least 1e-3, one device at least. What the scheduler
// is told a training job takes before placement (communication comes on
// placement, TrainingStep), and the least device time the oracle bound
// (oracle/) charges it. Infinite when `accel` has no peak.
Duration PureComputeTime(const TrainingSpec& training, const AcceleratorSpec& accel, int devices);

// Throughput of `a` relative to `ref` for non-training work: the ratio of
// their dense BF16 peaks (core/accelerator.cc). Used to scale batch
// durations given on the reference device. 0 when ref has no peak.
double RelativeThroughput(AcceleratorType a, AcceleratorType ref = AcceleratorType::kH100);

}  // namespace stargate::model
