// File: units.h
// Strong unit types. Time is integer nanoseconds so that event ordering and
// replays are exact; physical quantities are doubles in SI base units wrapped
// in a tag type so a Watt can never be added to a Joule by mistake.
//
// Conversions between quantities (power x time = energy, ...) are spelled out
// as free functions at the bottom so every crossing of units is visible.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

namespace stargate {

// A span of time in integer nanoseconds. int64 covers +-292 years.
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t n) { return Duration(n * 1000); }
  static constexpr Duration Millis(int64_t n) { return Duration(n * 1000000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1000000000); }
  static constexpr Duration Minutes(int64_t n) { return Seconds(n * 60); }
  static constexpr Duration Hours(int64_t n) { return Seconds(n * 3600); }
  static constexpr Duration Days(int64_t n) { return Seconds(n * 86400); }
  // Rounds to the nearest nanosecond; saturates instead of overflowing.
  static Duration FromSeconds(double s) {
    const double ns = s * 1e9;
    if (!(ns < 9.2e18)) return Infinite();
    if (ns < -9.2e18) return Duration(std::numeric_limits<int64_t>::min());
    return Duration(static_cast<int64_t>(std::llround(ns)));
  }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Infinite() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  // Whole milliseconds, rounded toward zero (for ms fields of files and APIs).
  constexpr int64_t millis() const { return ns_ / 1'000'000; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr double hours() const { return seconds() / 3600.0; }
  constexpr bool is_infinite() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr int64_t operator/(Duration o) const { return ns_ / o.ns_; }
  constexpr Duration operator%(Duration o) const { return Duration(ns_ % o.ns_); }
  Duration& operator+=(Duration o) {
    ns_ += o.ns_;
    return *this;
  }
  Duration& operator-=(Duration o) {
    ns_ -= o.ns_;
    return *this;
  }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A point in time: nanoseconds since the epoch of the run (scenario start for
// the twin, the Unix epoch for the orchestrator).
class Time {
 public:
  constexpr Time() = default;
  static constexpr Time FromNanos(int64_t ns) { return Time(ns); }
  static constexpr Time FromMillis(int64_t ms) { return Time(ms * 1'000'000); }
  static constexpr Time Epoch() { return Time(0); }
  static constexpr Time Never() { return Time(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  // Whole milliseconds since the epoch, rounded toward zero.
  constexpr int64_t millis() const { return ns_ / 1'000'000; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr Duration since_epoch() const { return Duration::Nanos(ns_); }

  constexpr Time operator+(Duration d) const { return Time(ns_ + d.nanos()); }
  constexpr Time operator-(Duration d) const { return Time(ns_ - d.nanos()); }
  constexpr Duration operator-(Time o) const { return Duration::Nanos(ns_ - o.ns_); }
  Time& operator+=(Duration d) {
    ns_ += d.nanos();
    return *this;
  }
  constexpr auto operator<=>(const Time&) const = default;

 private:
  constexpr explicit Time(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A double in an SI base unit, distinguished by Tag.
template <typename Tag>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double v) : v_(v) {}
  constexpr double value() const { return v_; }

  constexpr Quantity operator+(Quantity o) const { return Quantity(v_ + o.v_); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(v_ - o.v_); }
  constexpr Quantity operator*(double k) const { return Quantity(v_ * k); }
  constexpr Quantity operator/(double k) const { return Quantity(v_ / k); }
  constexpr double operator/(Quantity o) const { return v_ / o.v_; }
  Quantity& operator+=(Quantity o) {
    v_ += o.v_;
    return *this;
  }
  Quantity& operator-=(Quantity o) {
    v_ -= o.v_;
    return *this;
  }
  constexpr auto operator<=>(const Quantity&) const = default;

 private:
  double v_ = 0;
};
template <typename Tag>
constexpr Quantity<Tag> operator*(double k, Quantity<Tag> q) {
  return q * k;
}

struct WattsTag {};
struct JoulesTag {};
struct BytesTag {};
struct BytesPerSecTag {};
struct FlopsTag {};  // a count of floating-point operations
struct FlopsPerSecTag {};
struct GramsCo2Tag {};
struct UsdTag {};
struct CarbonIntensityTag {};  // gCO2 per kWh
struct PriceTag {};            // USD per MWh

using Watts = Quantity<WattsTag>;
using Joules = Quantity<JoulesTag>;
using Bytes = Quantity<BytesTag>;
using BytesPerSec = Quantity<BytesPerSecTag>;
using Flops = Quantity<FlopsTag>;
using FlopsPerSec = Quantity<FlopsPerSecTag>;
using GramsCo2 = Quantity<GramsCo2Tag>;
using Usd = Quantity<UsdTag>;
using GramsPerKwh = Quantity<CarbonIntensityTag>;
using UsdPerMwh = Quantity<PriceTag>;

constexpr Watts Kilowatts(double kw) { return Watts(kw * 1e3); }
constexpr Watts Megawatts(double mw) { return Watts(mw * 1e6); }
constexpr Bytes Gigabytes(double gb) { return Bytes(gb * 1e9); }
constexpr BytesPerSec GigabytesPerSec(double gbs) { return BytesPerSec(gbs * 1e9); }
constexpr BytesPerSec GigabitsPerSec(double gbps) { return BytesPerSec(gbps * 1e9 / 8); }
constexpr FlopsPerSec Teraflops(double tf) { return FlopsPerSec(tf * 1e12); }

constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kJoulesPerMwh = 3.6e9;

// Crossings between units.
inline Joules operator*(Watts p, Duration d) { return Joules(p.value() * d.seconds()); }
inline Joules operator*(Duration d, Watts p) { return p * d; }
inline Watts operator/(Joules e, Duration d) { return Watts(e.value() / d.seconds()); }
inline Duration operator/(Flops f, FlopsPerSec r) { return Duration::FromSeconds(f.value() / r.value()); }
inline Duration operator/(Bytes b, BytesPerSec r) { return Duration::FromSeconds(b.value() / r.value()); }
inline double ToKwh(Joules e) { return e.value() / kJoulesPerKwh; }
inline double ToMwh(Joules e) { return e.value() / kJoulesPerMwh; }
inline GramsCo2 operator*(Joules e, GramsPerKwh ci) { return GramsCo2(ToKwh(e) * ci.value()); }
inline Usd operator*(Joules e, UsdPerMwh p) { return Usd(ToMwh(e) * p.value()); }

}  // namespace stargate
