// File: power_limit.h
// Applies a task's device power limit (sched Start.power_cap: a fraction
// of each device's TDP, chosen by the carbon-aware cap policy) with the
// vendor's tool, and restores the default when the task ends:
//   NVIDIA: nvidia-smi -i IDX --query-gpu=power.default_limit (the default
//           limit, W), then nvidia-smi -i IDX -pl WATTS; restored to the
//           default with -pl;
//   AMD:    rocm-smi -d IDX --setpoweroverdrive WATTS (of the catalog's
//           TDP), restored with --resetpoweroverdrive.
// Setting a limit needs root (as nvidia-smi -pl does). A node without a
// controllable device (a CPU node, no tool, the tool refuses) reports the
// cap "not enforced", and the server counts its draw uncapped: nothing
// pretends. Not thread-safe (LocalRunner's).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/accelerator.h"

namespace stargate::control {

class PowerLimiter {
 public:
  // `state_file` ("" = none) records the devices limited and their
  // defaults, so an agent that follows a dead one restores them
  // (RestoreLeftovers) before it runs anything.
  explicit PowerLimiter(AcceleratorType type, std::string state_file = "")
      : type_(type), state_file_(std::move(state_file)) {}

  // Restores what the state file says an earlier agent left limited.
  void RestoreLeftovers();

  // Limits each of `devices` to `fraction` (0, 1] of its default; true when
  // every one took it, else false with `why` (those that did are restored).
  // `devices` are the driver's ids (CUDA_VISIBLE_DEVICES' or
  // ROCR_VISIBLE_DEVICES' entries: indices or UUIDs).
  bool Apply(const std::vector<std::string>& devices, double fraction, std::string* why);
  // Back to the default limit (a no-op for devices Apply did not limit).
  void Restore(const std::vector<std::string>& devices);

 private:
  bool Nvidia() const;
  bool Amd() const;
  void Save() const;  // limited_ to the state file
  AcceleratorType type_;
  std::string state_file_;
  std::map<std::string, double> limited_;  // device -> its default limit (W)
};

}  // namespace stargate::control
