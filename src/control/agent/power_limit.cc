#include "control/agent/power_limit.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "core/text_fields.h"
#include "runtime/subprocess.h"

namespace stargate::control {
namespace {

constexpr Duration kToolTimeout = Duration::Seconds(20);

// Runs `argv`; true on exit 0, else false with what it said.
bool Run(const std::vector<std::string>& argv, std::string* out, std::string* why) {
  StatusOr<CommandResult> r = RunCommand(argv, "", kToolTimeout);
  if (!r.ok()) {
    *why = fmt::format("{}: {}", argv[0], std::string(r.status().message()));
    return false;
  }
  if (r->exit_code != 0) {
    *why = fmt::format("{} exited {}: {}", argv[0], r->exit_code, Excerpt(r->err.empty() ? r->out : r->err));
    return false;
  }
  if (out != nullptr) *out = r->out;
  return true;
}

}  // namespace

bool PowerLimiter::Nvidia() const {
  return type_ != AcceleratorType::kCpu && type_ != AcceleratorType::kMI250X && type_ != AcceleratorType::kMI300X;
}
bool PowerLimiter::Amd() const { return type_ == AcceleratorType::kMI250X || type_ == AcceleratorType::kMI300X; }

void PowerLimiter::Save() const {
  if (state_file_.empty()) return;
  const std::string tmp = state_file_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    for (const auto& [id, w] : limited_) f << id << " " << w << "\n";
  }
  std::rename(tmp.c_str(), state_file_.c_str());
}

void PowerLimiter::RestoreLeftovers() {
  if (state_file_.empty()) return;
  std::ifstream f(state_file_);
  std::vector<std::string> ids;
  std::string id;
  double w = 0;
  while (f >> id >> w) {
    if (w > 0 && w < 1e5 && id.size() < 128) {
      limited_[id] = w;
      ids.push_back(id);
    }
  }
  Restore(ids);
}

bool PowerLimiter::Apply(const std::vector<std::string>& devices, double fraction, std::string* why) {
  if (!(fraction > 0 && fraction <= 1)) {
    *why = fmt::format("a power cap of {} of TDP is out of range", fraction);
    return false;
  }
  if (devices.empty() || !(Nvidia() || Amd())) {
    *why = "no controllable device on this node";
    return false;
  }
  for (const std::string& idx : devices) {
    double default_w = Spec(type_).tdp.value();
    if (Nvidia()) {
      std::string out;
      if (!Run({"nvidia-smi", "-i", idx, "--query-gpu=power.default_limit", "--format=csv,noheader,nounits"}, &out,
               why)) {
        Restore(devices);
        return false;
      }
      const std::optional<double> w = ParseFieldNumber(out.substr(0, out.find('\n')));
      if (!w || *w <= 0) {
        *why = fmt::format("nvidia-smi gave no default power limit for GPU {}: '{}'", idx, Excerpt(out));
        Restore(devices);
        return false;
      }
      default_w = *w;
    }
    const std::string watts = fmt::format("{:.0f}", default_w * fraction);
    const bool ok =
        Nvidia() ? Run({"nvidia-smi", "-i", idx, "-pl", watts}, nullptr, why)
                 : Run({"rocm-smi", "-d", idx, "--setpoweroverdrive", watts, "--autorespond", "yes"}, nullptr, why);
    if (!ok) {
      Restore(devices);
      return false;
    }
    limited_[idx] = default_w;
    Save();  // before the next device: a death midway still leaves a record
  }
  return true;
}

void PowerLimiter::Restore(const std::vector<std::string>& devices) {
  for (const std::string& idx : devices) {
    auto it = limited_.find(idx);
    if (it == limited_.end()) continue;
    std::string why;
    // Best effort: a device left limited is the tool's to report.
    if (Nvidia()) {
      Run({"nvidia-smi", "-i", idx, "-pl", fmt::format("{:.0f}", it->second)}, nullptr, &why);
    } else {
      Run({"rocm-smi", "-d", idx, "--resetpoweroverdrive", "--autorespond", "yes"}, nullptr, &why);
    }
    limited_.erase(it);
  }
  Save();
}

}  // namespace stargate::control
