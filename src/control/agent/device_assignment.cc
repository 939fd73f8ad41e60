#include "control/agent/device_assignment.h"

#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace stargate::control {

int ShareSlotOf(const std::map<std::string, std::string>& env) {
  auto it = env.find("STARGATE_GPU_SHARE_SLOT");
  int slot = -1;
  if (it == env.end() || !absl::SimpleAtoi(it->second, &slot) || slot < 0 || slot > 255) return -1;
  return slot;
}

std::vector<int> PickDevices(int total, const std::set<int>& held, int want) {
  std::vector<int> out;
  for (int i = 0; i < total && static_cast<int>(out.size()) < want; ++i) {
    if (!held.count(i)) out.push_back(i);
  }
  return out;
}

std::map<std::string, std::string> DeviceEnv(AcceleratorType type, const std::vector<int>& devices,
                                             const std::string& inherited) {
  std::vector<std::string> names;  // the agent's share, in order
  if (!inherited.empty()) names = absl::StrSplit(inherited, ',');
  std::vector<std::string> mapped;
  for (int d : devices) {
    mapped.push_back(static_cast<size_t>(d) < names.size() ? names[static_cast<size_t>(d)] : std::to_string(d));
  }
  const std::string list = fmt::format("{}", fmt::join(mapped, ","));
  std::map<std::string, std::string> env;
  switch (type) {
    case AcceleratorType::kCpu:
      env["CUDA_VISIBLE_DEVICES"] = "";  // a CPU node's tasks get no GPU
      break;
    case AcceleratorType::kMI250X:
    case AcceleratorType::kMI300X:
      env["ROCR_VISIBLE_DEVICES"] = list;
      break;
    default:
      env["CUDA_VISIBLE_DEVICES"] = list;
      env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
      break;
  }
  env["STARGATE_DEVICES"] = fmt::format("{}", fmt::join(devices, ","));  // the node's own indices
  return env;
}

}  // namespace stargate::control
