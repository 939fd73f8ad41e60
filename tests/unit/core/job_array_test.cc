// Job array indices: counts, ranges with steps, lists; what is refused.
#include "core/job_array.h"

#include <gtest/gtest.h>

#include "core/job_file_parser.h"

namespace stargate {
namespace {

std::vector<uint32_t> Indices(std::string_view text) { return JobArray::Parse(text).value().Indices(); }

TEST(JobArray, CountsRangesStepsAndLists) {
  EXPECT_EQ(Indices("3"), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(Indices("5-7"), (std::vector<uint32_t>{5, 6, 7}));
  EXPECT_EQ(Indices("5-5"), (std::vector<uint32_t>{5}));
  EXPECT_EQ(Indices("0-10:4"), (std::vector<uint32_t>{0, 4, 8}));
  EXPECT_EQ(Indices(" 1-3, 7 ,9-13:2"), (std::vector<uint32_t>{1, 2, 3, 7, 9, 11, 13}));
  const JobArray a = JobArray::Parse("1-99:2,200").value();
  EXPECT_EQ(a.size(), 51u);
  EXPECT_EQ(a.min(), 1u);
  EXPECT_EQ(a.max(), 200u);
  EXPECT_EQ(a.text(), "1-99:2,200");
  EXPECT_EQ(JobArray::Parse("0-97:2").value().max(), 96u);  // the last index the step reaches
  EXPECT_EQ(JobArray::Parse("100000").value().size(), 100000u);
}

TEST(JobArray, RefusesWhatIsNotAnArray) {
  for (const char* bad : {"", "0", "100001", "-1", "a", "1-", "-5", "5-1", "0-9:0", "7:2", "0-5,3", "3,2", "0-100000",
                          "1,,2", "10000000-10000001", "0-9999999"}) {
    EXPECT_FALSE(JobArray::Parse(bad).ok()) << bad;
  }
  EXPECT_EQ(std::string(JobArray::Parse("5-1").status().message()), "'5-1': a range goes up");
}

TEST(JobArray, InAJobFileTheErrorNamesTheLine) {
  const auto f = ParseJobFile("name: x\narray: 0-3\nrun: y\n", "a.yaml").value();
  EXPECT_EQ(f.array.size(), 4u);
  EXPECT_TRUE(ParseJobFile("name: x\nrun: y\n", "a.yaml").value().array.empty());
  const auto bad = ParseJobFile("name: x\narray: 9-3\nrun: y\n", "a.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()), "a.yaml:2:8: array: '9-3': a range goes up");
}

}  // namespace
}  // namespace stargate
