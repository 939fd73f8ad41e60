#include "control/agent/gpu_probe.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace stargate::control {
namespace {

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// A number, or 0 for "[N/A]" / "[Not Supported]".
bool Number(const std::string& field, double* out) {
  if (!field.empty() && field[0] == '[') {
    *out = 0;
    return true;
  }
  char* end = nullptr;
  *out = std::strtod(field.c_str(), &end);
  return end != field.c_str() && *end == '\0';
}

// Runs a vendor tool's `command` and parses what it prints (at most
// 1 MiB); NotFound when the tool is missing, fails or finds no GPU.
StatusOr<std::vector<GpuSample>> Probe(std::string_view tool, const char* command,
                                       StatusOr<std::vector<GpuSample>> (*parse)(std::string_view)) {
  FILE* p = popen(command, "r");
  if (p == nullptr) return absl::NotFoundError(fmt::format("cannot run {}", tool));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0 && out.size() < (1 << 20)) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) return absl::NotFoundError(fmt::format("{} is not installed or found no GPU", tool));
  SG_ASSIGN_OR_RETURN(std::vector<GpuSample> gpus, parse(out));
  if (gpus.empty()) return absl::NotFoundError(fmt::format("{} found no GPU", tool));
  return gpus;
}

}  // namespace

StatusOr<std::vector<GpuSample>> ParseNvidiaSmi(std::string_view csv) {
  std::vector<GpuSample> out;
  std::istringstream in{std::string(csv)};
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (Trim(line).empty()) continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(Trim(x));
    double power = 0, util = 0, mem = 0;
    if (f.size() != 4 || f[0].empty() || !Number(f[1], &power) || !Number(f[2], &util) || !Number(f[3], &mem)) {
      return absl::InvalidArgumentError(fmt::format(
          "nvidia-smi line {}: expected name, power.draw, utilization.gpu, memory.total: '{}'", line_no, line));
    }
    out.push_back(GpuSample{f[0], power, util / 100.0, static_cast<int64_t>(mem)});
  }
  return out;
}

StatusOr<std::vector<GpuSample>> ParseRocmSmi(std::string_view json) {
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("rocm-smi: not a JSON object");
  std::vector<GpuSample> out;
  for (const auto& [card, fields] : j.items()) {
    if (!card.starts_with("card")) continue;  // "system" and the like
    if (!fields.is_object()) return absl::InvalidArgumentError(fmt::format("rocm-smi: {}: not an object", card));
    GpuSample g;
    for (const auto& [key, value] : fields.items()) {
      if (!value.is_string()) continue;
      double v = 0;
      const std::string text = Trim(value.get<std::string>());
      if (!Number(text, &v)) v = 0;  // "N/A (Secondary die)"
      if (key.find("Graphics Package Power (W)") != std::string::npos) g.power_w = std::max(0.0, v);
      if (key == "GPU use (%)") g.utilisation = std::clamp(v / 100.0, 0.0, 1.0);
    }
    out.push_back(g);
  }
  return out;
}

StatusOr<std::vector<GpuSample>> ProbeRocmSmi() {
  return Probe("rocm-smi", "rocm-smi --showpower --showuse --json 2>/dev/null", ParseRocmSmi);
}

StatusOr<AcceleratorType> TypeFromGpuName(std::string_view name) {
  // Most specific first: "GB200" contains "B200", "H200" is not "H100".
  constexpr std::pair<std::string_view, AcceleratorType> kNames[] = {
      {"GB200", AcceleratorType::kGB200},  {"B200", AcceleratorType::kB200}, {"H200", AcceleratorType::kH200},
      {"H100", AcceleratorType::kH100},    {"A100", AcceleratorType::kA100}, {"MI300X", AcceleratorType::kMI300X},
      {"MI250X", AcceleratorType::kMI250X}};
  for (const auto& [key, type] : kNames) {
    if (name.find(key) != std::string_view::npos) return type;
  }
  return absl::InvalidArgumentError(
      fmt::format("GPU '{}' is not in the accelerator catalog; pass --accelerators TYPE:N", name));
}

StatusOr<std::vector<GpuSample>> ProbeNvidiaSmi() {
  return Probe("nvidia-smi",
               "nvidia-smi --query-gpu=name,power.draw,utilization.gpu,memory.total --format=csv,noheader,nounits "
               "2>/dev/null",
               ParseNvidiaSmi);
}

}  // namespace stargate::control
