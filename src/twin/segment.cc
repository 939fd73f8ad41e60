#include "twin/segment.h"

#include <algorithm>

namespace stargate::twin {

Segment Segment::Whole() const {
  Segment s = *this;
  s.useful = useful + head;
  s.head = Duration::Zero();
  return s;
}

Duration Segment::Wall() const {
  if (head > Duration::Zero()) return Whole().Wall() - head;
  if (interval <= Duration::Zero()) return restart + useful;
  // Checkpoints after each full interval, except one that would land exactly at the end.
  int64_t checkpoints = useful / interval;
  if (checkpoints > 0 && useful % interval == Duration::Zero()) --checkpoints;
  return restart + useful + write * checkpoints;
}

Duration Segment::DoneBy(Duration elapsed) const {
  if (head > Duration::Zero()) return Whole().DoneBy(elapsed + head) - head;
  const Duration run = elapsed - restart;
  if (run <= Duration::Zero()) return Duration::Zero();
  if (interval <= Duration::Zero()) return std::min(run, useful);
  const Duration period = interval + write;
  const int64_t k = run / period;
  const Duration partial = std::min(run - period * k, interval);
  return std::min(interval * k + partial, useful);
}

Duration Segment::SavedBy(Duration elapsed) const {
  if (head > Duration::Zero()) return Whole().SavedBy(elapsed + head) - head;
  if (interval <= Duration::Zero()) return Duration::Zero();
  // A checkpoint whose stall ends at t is durable at t + lag.
  const Duration run = elapsed - lag - restart;
  if (run <= Duration::Zero()) return Duration::Zero();
  const int64_t k = run / (interval + write);
  return std::min(interval * k, useful);
}

Duration Segment::SavedOnStop(Duration warned, Duration warning) const {
  const Duration regular = SavedBy(warned + warning);
  if (interval <= Duration::Zero() || write + lag > warning) return regular;
  return std::max(regular, DoneBy(warned));
}

}  // namespace stargate::twin
