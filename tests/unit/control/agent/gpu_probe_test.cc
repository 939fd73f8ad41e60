// nvidia-smi output as the agent reads it (the CSV nvidia-smi prints for
// the query in gpu_probe.h, written by hand here), and product names to
// catalog types.
#include "control/agent/gpu_probe.h"

#include <gtest/gtest.h>

namespace stargate::control {
namespace {

TEST(GpuProbe, ParsesNvidiaSmiCsv) {
  const auto gpus = ParseNvidiaSmi(
      "NVIDIA H100 80GB HBM3, 71.54, 0, 81559\n"
      "NVIDIA H100 80GB HBM3, 512.02, 97, 81559\n");
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_DOUBLE_EQ((*gpus)[1].power_w, 512.02);
  EXPECT_DOUBLE_EQ((*gpus)[1].utilisation, 0.97);
  EXPECT_EQ((*gpus)[0].memory_mib, 81559);
  // Boards that do not report power say [N/A].
  const auto na = ParseNvidiaSmi("NVIDIA A100-SXM4-40GB, [N/A], 3, 40960\n\n");
  ASSERT_TRUE(na.ok());
  EXPECT_EQ((*na)[0].power_w, 0);
  EXPECT_FALSE(ParseNvidiaSmi("garbage\n").ok());
  EXPECT_EQ(std::string(ParseNvidiaSmi("a, b, c, d\n").status().message()).rfind("nvidia-smi line 1:", 0), 0u);
}

TEST(GpuProbe, ProductNamesMapToCatalogTypes) {
  EXPECT_EQ(TypeFromGpuName("NVIDIA H100 80GB HBM3").value(), AcceleratorType::kH100);
  EXPECT_EQ(TypeFromGpuName("NVIDIA H200").value(), AcceleratorType::kH200);
  EXPECT_EQ(TypeFromGpuName("NVIDIA GB200").value(), AcceleratorType::kGB200);
  EXPECT_EQ(TypeFromGpuName("NVIDIA B200").value(), AcceleratorType::kB200);
  EXPECT_EQ(TypeFromGpuName("NVIDIA A100-SXM4-80GB").value(), AcceleratorType::kA100);
  EXPECT_FALSE(TypeFromGpuName("Tesla T4").ok());
}

// rocm-smi's JSON, as ROCm 5 and 6 write it: an MI250X's secondary die
// counts 0 (its primary's figure holds both).
TEST(GpuProbe, ParsesRocmSmiJson) {
  // ("(%)" and "(W)" end raw strings: a delimiter keeps them in.)
  const auto gpus = ParseRocmSmi(R"json({"card0": {"Average Graphics Package Power (W)": "237.0", "GPU use (%)": "98"},
                           "card1": {"Average Graphics Package Power (W)": "N/A (Secondary die)", "GPU use (%)": "97"},
                           "card2": {"Current Socket Graphics Package Power (W)": "4.0", "GPU use (%)": "0"},
                           "system": {"Driver version": "6.7.0"}})json")
                        .value();
  ASSERT_EQ(gpus.size(), 3u);
  EXPECT_DOUBLE_EQ(gpus[0].power_w, 237);
  EXPECT_DOUBLE_EQ(gpus[0].utilisation, 0.98);
  EXPECT_DOUBLE_EQ(gpus[1].power_w, 0);
  EXPECT_DOUBLE_EQ(gpus[2].power_w, 4);
  EXPECT_FALSE(ParseRocmSmi("[1]").ok());
  EXPECT_FALSE(ParseRocmSmi(R"({"card0": 3})").ok());
  EXPECT_FALSE(ParseRocmSmi("garbage").ok());
}

}  // namespace
}  // namespace stargate::control
