// File: rng.h
// Deterministic random numbers. std::*_distribution output differs between
// standard libraries, so every distribution here is written out explicitly
// and a run with the same seed is byte-identical on any platform.
//
// Not thread-safe; give each stream its own Rng (see Fork).
#pragma once

#include <cmath>
#include <cstdint>

namespace stargate {

// xoshiro256** seeded through splitmix64 (Blackman & Vigna, 2018).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) s = SplitMix(x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // An independent stream derived from this one and a label, so adding a new
  // consumer of randomness does not shift the draws of existing ones.
  Rng Fork(uint64_t label) const {
    uint64_t x = s_[0] ^ (label * 0x9E3779B97F4A7C15ULL);
    return Rng(SplitMix(x));
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n); n > 0. Lemire's multiply-shift, bias < 2^-64*n.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Exponential with the given mean, by inversion.
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  // Standard normal by Box-Muller (one value per call; simple beats fast here).
  double Normal() {
    double u1 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal parameterised by its median and the sigma of the log.
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  // Poisson by inversion for small means, normal approximation above 500.
  uint64_t Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 500) {
      const double v = std::round(mean + std::sqrt(mean) * Normal());
      return v < 0 ? 0 : static_cast<uint64_t>(v);
    }
    const double l = std::exp(-mean);
    uint64_t k = 0;
    double p = Uniform();
    while (p > l) {
      ++k;
      p *= Uniform();
    }
    return k;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace stargate
