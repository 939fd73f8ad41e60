// File: site_meter.h
// Integrates a site's piecewise-constant facility power and busy-device count
// into hourly buckets, exactly: each constant stretch is split at hour
// boundaries. Carbon and cost are then hourly energy times hourly intensity
// and price. O(1) amortised per change.
#pragma once

#include <cstdint>
#include <vector>

#include "core/units.h"
#include "twin/power_swings.h"

namespace stargate::twin {

class SiteMeter {
 public:
  explicit SiteMeter(int64_t hours)
      : energy_j_(static_cast<size_t>(hours), 0.0), busy_device_s_(static_cast<size_t>(hours), 0.0) {}

  // Accounts the current level from the last change up to `t`; then the
  // caller may Set() a new level. `t` never goes backwards.
  void AdvanceTo(Time t);
  // `up` false: the site is out (an outage), which the oracle bound
  // (oracle/) must know to charge no idle draw for those hours.
  void Set(double facility_w, int64_t busy_devices, bool up = true);

  double facility_w() const { return facility_w_; }
  double peak_w() const { return peak_w_; }
  const std::vector<double>& energy_j() const { return energy_j_; }
  const std::vector<double>& busy_device_s() const { return busy_device_s_; }
  // Empty when the site was never out (most never are: a year of 10,000
  // sites would hold 700 MB of zeros).
  const std::vector<double>& down_s() const { return down_s_; }
  const PowerSwings& swings() const { return swings_; }
  // Frees the hourly buckets once they have been read (a year of 10,000
  // sites holds 2 GB of them); the meter reads as having no hours after.
  void DropHours() {
    std::vector<double>().swap(energy_j_);
    std::vector<double>().swap(busy_device_s_);
    std::vector<double>().swap(down_s_);
  }
  void NoteSwing(double step_w, double ramp_w) { swings_.Note(step_w, ramp_w); }

 private:
  std::vector<double> energy_j_;
  std::vector<double> busy_device_s_;
  std::vector<double> down_s_;  // seconds of each hour the site was out; sized at the first outage
  int64_t last_ns_ = 0;
  double facility_w_ = 0;
  int64_t busy_ = 0;
  bool up_ = true;
  double peak_w_ = 0;
  PowerSwings swings_;  // at the second the changes happen, not hourly
};

}  // namespace stargate::twin
