#include "model/step_time.h"

#include <algorithm>
#include <cmath>

#include "model/duration_math.h"

namespace stargate::model {
namespace {

// ceil(a / b) for a >= 0, b > 0, forgiving the rounding of a division that is
// exact on paper (15.6e12 / 16e6 must be 975000 steps, not 975001).
int64_t CeilDiv(double a, double b) {
  const double q = a / b;
  const double r = std::round(q);
  if (std::fabs(q - r) <= 1e-12 * std::max(1.0, q)) return static_cast<int64_t>(r);
  return static_cast<int64_t>(std::ceil(q));
}

}  // namespace

double TrainingFlops(const TrainingSpec& training) { return kFlopsPerParamToken * training.params * training.tokens; }

Duration PureComputeTime(const TrainingSpec& training, const AcceleratorSpec& accel, int devices) {
  const double rate = accel.bf16_dense.value() * std::max(1, devices) * std::max(1e-3, training.mfu);
  if (rate <= 0) return Duration::Infinite();
  return Duration::FromSeconds(TrainingFlops(training) / rate);
}

StepEstimate TrainingStep(const TrainingSpec& training, const AcceleratorSpec& accel, const FabricSpec& fabric,
                          const PlacementShape& shape, double overlap) {
  StepEstimate est;
  const double tokens_per_step = training.tokens_per_step > 0 ? training.tokens_per_step : training.tokens;
  est.steps = training.tokens > 0 && tokens_per_step > 0 ? CeilDiv(training.tokens, tokens_per_step) : 0;

  const double rate = shape.devices * accel.bf16_dense.value() * training.mfu;
  est.compute = rate > 0 ? Duration::FromSeconds(kFlopsPerParamToken * training.params * tokens_per_step / rate)
                         : Duration::Infinite();

  const int model_parallel = std::max(training.tensor_parallel, 1) * std::max(training.pipeline_parallel, 1);
  const Bytes grads(kGradientBytesPerParam * training.params / model_parallel);
  const Duration comm = DataParallelAllReduce(grads, model_parallel, accel, fabric, shape);
  const double hidden = std::clamp(overlap, 0.0, 1.0) * est.compute.seconds();
  est.comm = comm.is_infinite() ? comm : Duration::FromSeconds(std::max(0.0, comm.seconds() - hidden));
  est.step = SaturatingAdd(est.compute, est.comm);
  est.total = SaturatingMul(est.step, est.steps);
  return est;
}

double RelativeThroughput(AcceleratorType a, AcceleratorType ref) {
  const double ref_peak = Spec(ref).bf16_dense.value();
  return ref_peak > 0 ? Spec(a).bf16_dense.value() / ref_peak : 0;
}

}  // namespace stargate::model
