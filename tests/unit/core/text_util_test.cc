#include "core/text_util.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace stargate {
namespace {

constexpr std::string_view kKeys[] = {"nodes", "nodes_per_rack", "domain_nodes", "accelerator"};

TEST(TextUtilTest, ClosestMatchFindsTypos) {
  EXPECT_EQ(ClosestMatch("nodes_per_rak", kKeys), "nodes_per_rack");
  EXPECT_EQ(ClosestMatch("acclerator", kKeys), "accelerator");
  EXPECT_EQ(ClosestMatch("Domain-Nodes", kKeys), "domain_nodes");
  EXPECT_EQ(ClosestMatch("zzz", kKeys), "");
  EXPECT_EQ(ClosestMatch("n", kKeys), "");  // too short to guess
  EXPECT_EQ(ClosestMatch(std::string(10000, 'x'), kKeys), "");
}

TEST(TextUtilTest, EditDistanceIsCapped) {
  EXPECT_EQ(EditDistance("kitten", "sitting", 5), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting", 2), 3);  // cap + 1
  EXPECT_EQ(EditDistance("", "abc", 5), 3);
}

TEST(TextUtilTest, QuotedIsShortAndPrintable) {
  EXPECT_EQ(Quoted("abc"), "'abc'");
  EXPECT_EQ(Quoted(std::string_view("a\0b\n", 4)), "'a?b?'");
  EXPECT_EQ(Quoted(std::string(100, 'y')), "'" + std::string(60, 'y') + "...'");
}

TEST(TextUtilTest, SameNameFoldsCaseAndDashes) {
  EXPECT_TRUE(SameName("Fat-Tree", "fat_tree"));
  EXPECT_FALSE(SameName("fat_tree", "fat_tre"));
}

}  // namespace
}  // namespace stargate
