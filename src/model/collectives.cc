#include "model/collectives.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace stargate::model {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Seconds to push `n` bytes through `b`; infinite when there is no bandwidth.
double TransferSeconds(double n, BytesPerSec b) {
  if (n <= 0) return 0;
  return b.value() > 0 ? n / b.value() : kInf;
}

int CeilLog2(int p) {
  int k = 0;
  while ((int64_t{1} << k) < p) ++k;
  return k;
}

// Half a ring all-reduce: reduce-scatter alone (all-gather costs the same).
double RingHalfSeconds(double n, int p, Link link) {
  if (p <= 1) return 0;
  const double steps = p - 1;
  return steps * link.alpha.seconds() + steps / p * TransferSeconds(n, link.bandwidth);
}

double TreeSeconds(double n, int p, Link link) {
  if (p <= 1) return 0;
  return 2.0 * CeilLog2(p) * (link.alpha.seconds() + TransferSeconds(n, link.bandwidth));
}

double BestSeconds(double n, int p, Link link) {
  return std::min(2 * RingHalfSeconds(n, p, link), TreeSeconds(n, p, link));
}

}  // namespace

Duration RingAllReduce(Bytes n, int p, Link link) {
  return Duration::FromSeconds(2 * RingHalfSeconds(n.value(), p, link));
}

Duration TreeAllReduce(Bytes n, int p, Link link) { return Duration::FromSeconds(TreeSeconds(n.value(), p, link)); }

Duration BestAllReduce(Bytes n, int p, Link link) { return Duration::FromSeconds(BestSeconds(n.value(), p, link)); }

Duration HierarchicalAllReduce(Bytes n, int p_inner, Link inner, int p_outer, Link outer) {
  const int pi = std::max(p_inner, 1);
  const double inner_s = 2 * RingHalfSeconds(n.value(), pi, inner);
  const double outer_s = BestSeconds(n.value() / pi, p_outer, outer);
  return Duration::FromSeconds(inner_s + outer_s);
}

}  // namespace stargate::model
