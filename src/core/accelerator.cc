#include "core/accelerator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include <fmt/format.h>

namespace stargate {
namespace {

// Sources (see also ../shared/notes/physics-numbers.md section 2):
//  - H100/H200 SXM: NVIDIA H100 and H200 datasheets (989 TF dense BF16, 80 GB
//    3.35 TB/s / 141 GB 4.8 TB/s, 700 W, NVLink4 900 GB/s bidirectional).
//  - Node power: DGX H100 10.2 kW max; measured 8.4 kW peak (Latif et al.,
//    arXiv 2412.08602) -> host share ~(8400 - 8*700*0.85)/8 ~ 450 W/GPU.
//  - B200 (HGX) 2.25 PF dense BF16, 192 GB, 8 TB/s, 1000 W; B200 in GB200
//    2.5 PF, 1200 W (NVIDIA GB200 NVL72 page; glennklockwood.com B200 notes).
//    NVLink5 1.8 TB/s bidirectional. GB200 NVL72: 72 GPUs = 18 trays of 4.
//  - A100 SXM 80GB: 312 TF BF16, 2.039 TB/s, 400 W, NVLink3 600 GB/s (NVIDIA
//    A100 datasheet).
//  - MI250X: 383 TF BF16, 128 GB HBM2e, 3.2 TB/s, 560 W (AMD Instinct MI250X
//    datasheet); Frontier nodes have 4, 200 Gb/s Slingshot NIC each.
//  - MI300X: 1307 TF BF16 dense, 192 GB HBM3, 5.3 TB/s, 750 W, 896 GB/s peak
//    aggregate Infinity Fabric (AMD Instinct MI300X datasheet).
//  - Idle draw is ~10-15% of TDP on current parts (estimate; nvidia-smi idle
//    readings of H100 SXM are 60-100 W).
//  - CPU node: 2-socket server, ~4 TF FP32 vector (e.g. 2x64-core AVX-512),
//    ~700 W at load; stands in for CPU-only work and control nodes.
// All-reduce inside a scale-up domain (AcceleratorSpec::scale_up_allreduce):
//  - NVLink ring: "450GB/s is the line rate. With the protocol overhead
//    (~20%) NCCL can get an effective NVLink bandwidth of 370GB/s" (NCCL's
//    maintainer, NVIDIA/nccl-tests issue 212, 2024), so 0.8 of line rate;
//    A100 (NVLink3 without in-switch reduction) runs its all-reduce as that
//    ring.
//  - NVLS: on NVSwitch 3 (H100, H200) all-reduce uses NVLink SHARP by
//    default, "peak busBw of ~480GB/s" on 8 GPUs (same thread): 480/450.
//    Blackwell's NVLink5 switches keep NVLS; the H100 ratio is assumed there
//    (no public 8-GPU sweep to check it against yet).
//  - xGMI: "usable bandwidth ... approximately 48 GB/s per link", 75% of the
//    64 GB/s peak (AMD ROCm blog, "Understanding RCCL Bandwidth and xGMI
//    Performance on AMD Instinct MI300X", 2025); MI250X uses the same links.
// docs/calibration.md checks these against a separate vendor sweep.
constexpr double kRing = 0.8;
constexpr double kNvls = 480.0 / 450.0;
constexpr double kXgmi = 0.75;

constexpr std::array<AcceleratorSpec, kNumAcceleratorTypes> kCatalog = {{
    {AcceleratorType::kCpu, "CPU", Teraflops(4), Gigabytes(0), GigabytesPerSec(0), Watts(500), Watts(150), Watts(200),
     GigabytesPerSec(0), GigabitsPerSec(100), 1, 1, "2-socket server estimate", 0.0},
    {AcceleratorType::kA100, "A100", Teraflops(312), Gigabytes(80), GigabytesPerSec(2039), Watts(400), Watts(55),
     Watts(300), GigabytesPerSec(300), GigabitsPerSec(200), 8, 1, "NVIDIA A100 datasheet", kRing},
    {AcceleratorType::kH100, "H100", Teraflops(989), Gigabytes(80), GigabytesPerSec(3350), Watts(700), Watts(80),
     Watts(450), GigabytesPerSec(450), GigabitsPerSec(400), 8, 1,
     "NVIDIA H100 SXM datasheet; Latif et al. arXiv 2412.08602", kNvls},
    {AcceleratorType::kH200, "H200", Teraflops(989), Gigabytes(141), GigabytesPerSec(4800), Watts(700), Watts(80),
     Watts(450), GigabytesPerSec(450), GigabitsPerSec(400), 8, 1, "NVIDIA H200 SXM datasheet", kNvls},
    {AcceleratorType::kB200, "B200", Teraflops(2250), Gigabytes(192), GigabytesPerSec(8000), Watts(1000), Watts(120),
     Watts(550), GigabytesPerSec(900), GigabitsPerSec(400), 8, 1, "NVIDIA HGX B200 datasheet", kNvls},
    {AcceleratorType::kGB200, "GB200", Teraflops(2500), Gigabytes(192), GigabytesPerSec(8000), Watts(1200), Watts(150),
     Watts(450), GigabytesPerSec(900), GigabitsPerSec(800), 4, 18,
     "NVIDIA GB200 NVL72 page (B200 in GB200, 1.2 kW); ~120 kW/rack", kNvls},
    {AcceleratorType::kMI250X, "MI250X", Teraflops(383), Gigabytes(128), GigabytesPerSec(3200), Watts(560), Watts(90),
     Watts(250), GigabytesPerSec(200), GigabitsPerSec(200), 4, 1,
     "AMD Instinct MI250X datasheet; OLCF Frontier user guide", kXgmi},
    {AcceleratorType::kMI300X, "MI300X", Teraflops(1307), Gigabytes(192), GigabytesPerSec(5300), Watts(750), Watts(100),
     Watts(450), GigabytesPerSec(448), GigabitsPerSec(400), 8, 1, "AMD Instinct MI300X datasheet", kXgmi},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

const AcceleratorSpec& Spec(AcceleratorType type) { return kCatalog[static_cast<size_t>(type)]; }

std::span<const AcceleratorSpec> Catalog() { return kCatalog; }

StatusOr<AcceleratorType> ParseAcceleratorType(std::string_view name) {
  const std::string n = Lower(name);
  for (const auto& spec : kCatalog) {
    if (n == Lower(spec.name)) return spec.type;
  }
  struct Alias {
    std::string_view alias;
    AcceleratorType type;
  };
  static constexpr Alias kAliases[] = {
      {"cpu-only", AcceleratorType::kCpu},  {"none", AcceleratorType::kCpu},
      {"a100-sxm", AcceleratorType::kA100}, {"h100-sxm", AcceleratorType::kH100},
      {"h200-sxm", AcceleratorType::kH200}, {"gb200-nvl72", AcceleratorType::kGB200},
      {"b200-hgx", AcceleratorType::kB200}, {"mi300", AcceleratorType::kMI300X},
  };
  for (const auto& a : kAliases) {
    if (n == a.alias) return a.type;
  }
  std::string known;
  for (const auto& spec : kCatalog) {
    if (!known.empty()) known += ", ";
    known += spec.name;
  }
  return absl::InvalidArgumentError(fmt::format("unknown accelerator '{}' (known: {})", name, known));
}

}  // namespace stargate
