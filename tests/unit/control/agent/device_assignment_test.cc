#include "control/agent/device_assignment.h"

#include <gtest/gtest.h>

namespace stargate::control {
namespace {

TEST(PickDevices, LowestFreeIndicesNotHeld) {
  EXPECT_EQ(PickDevices(8, {}, 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(PickDevices(8, {0, 1, 3}, 3), (std::vector<int>{2, 4, 5}));
  EXPECT_EQ(PickDevices(4, {0, 1, 2}, 2), (std::vector<int>{3}));  // over-placed: what is there
  EXPECT_TRUE(PickDevices(2, {}, 0).empty());
}

TEST(DeviceEnv, VendorVariablesForTheIndices) {
  const auto nv = DeviceEnv(AcceleratorType::kH100, {2, 3});
  EXPECT_EQ(nv.at("CUDA_VISIBLE_DEVICES"), "2,3");
  EXPECT_EQ(nv.at("CUDA_DEVICE_ORDER"), "PCI_BUS_ID");  // nvidia-smi's numbering
  EXPECT_EQ(nv.at("STARGATE_DEVICES"), "2,3");
  const auto amd = DeviceEnv(AcceleratorType::kMI300X, {0});
  EXPECT_EQ(amd.at("ROCR_VISIBLE_DEVICES"), "0");
  EXPECT_FALSE(amd.count("CUDA_VISIBLE_DEVICES"));
  // An agent confined to GPUs 4-7 hands out names from its share.
  const auto share = DeviceEnv(AcceleratorType::kH100, {0, 2}, "4,5,6,7");
  EXPECT_EQ(share.at("CUDA_VISIBLE_DEVICES"), "4,6");
  EXPECT_EQ(share.at("STARGATE_DEVICES"), "0,2");
  EXPECT_EQ(DeviceEnv(AcceleratorType::kH100, {0}, "GPU-1a2b").at("CUDA_VISIBLE_DEVICES"), "GPU-1a2b");  // UUIDs too
  const auto cpu = DeviceEnv(AcceleratorType::kCpu, {0});
  EXPECT_EQ(cpu.at("CUDA_VISIBLE_DEVICES"), "");  // no GPU for CPU work
  EXPECT_EQ(cpu.at("STARGATE_DEVICES"), "0");
}

TEST(ShareSlotOf, OnlyAWholeNumberTheServerSetNamesASlot) {
  EXPECT_EQ(ShareSlotOf({}), -1);
  EXPECT_EQ(ShareSlotOf({{"STARGATE_GPU_SHARE_SLOT", ""}}), -1);  // whole devices
  EXPECT_EQ(ShareSlotOf({{"STARGATE_GPU_SHARE_SLOT", "0"}}), 0);
  EXPECT_EQ(ShareSlotOf({{"STARGATE_GPU_SHARE_SLOT", "7"}}), 7);
  EXPECT_EQ(ShareSlotOf({{"STARGATE_GPU_SHARE_SLOT", "-1"}}), -1);
  EXPECT_EQ(ShareSlotOf({{"STARGATE_GPU_SHARE_SLOT", "256"}}), -1);
  EXPECT_EQ(ShareSlotOf({{"STARGATE_GPU_SHARE_SLOT", "1x"}}), -1);
}

}  // namespace
}  // namespace stargate::control
