// File: device_assignment.h
// Which of a node's devices a task gets. The server never places more
// devices on a node than it has (exact per-node counts), but it does not
// say which: the agent picks the lowest free indices among those its live
// tasks do not hold (a task that was told to stop keeps its devices until
// it has exited), and tells the task through the vendor's visibility
// variables, as Slurm's GRES plugin does with CUDA_VISIBLE_DEVICES.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/accelerator.h"

namespace stargate::control {

// The slot of a node's shared device a task's share is in
// (STARGATE_GPU_SHARE_SLOT, set by the server: sched::Start::share_slot),
// or -1 for a task of whole devices (unset, empty or malformed).
int ShareSlotOf(const std::map<std::string, std::string>& env);

// The `want` lowest indices in [0, total) not in `held`; fewer when fewer
// are free (the caller says so in the log: the server over-placed).
std::vector<int> PickDevices(int total, const std::set<int>& held, int want);

// The env that confines a task to `devices` of a node of `type`:
// CUDA_VISIBLE_DEVICES in PCI bus order (CUDA_DEVICE_ORDER, so the
// indices are nvidia-smi's) for NVIDIA types, ROCR_VISIBLE_DEVICES for
// AMD, and STARGATE_DEVICES (the indices) for any. On a CPU node (whose
// "devices" are slots of the host) every GPU is hidden.
// `inherited` is the agent's own visibility list for the vendor (its
// CUDA_VISIBLE_DEVICES, say "4,5,6,7"; empty = all): index i names its
// i-th entry, so a task never sees a GPU outside the agent's share.
std::map<std::string, std::string> DeviceEnv(AcceleratorType type, const std::vector<int>& devices,
                                             const std::string& inherited = "");

}  // namespace stargate::control
