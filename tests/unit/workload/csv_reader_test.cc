#include "workload/csv_reader.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stargate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// All records of `text`, or the error.
StatusOr<std::vector<CsvRecord>> ReadAll(std::string_view text) {
  CsvReader reader(text, "t.csv");
  std::vector<CsvRecord> out;
  CsvRecord rec;
  while (true) {
    SG_ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) return out;
    out.push_back(rec);
  }
}

TEST(CsvReaderTest, SplitsPlainRecords) {
  const auto recs = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_THAT((*recs)[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT((*recs)[1].fields, ElementsAre("1", "2", "3"));
  EXPECT_EQ((*recs)[0].line, 1);
  EXPECT_EQ((*recs)[1].line, 2);
}

TEST(CsvReaderTest, KeepsEmptyFields) {
  const auto recs = ReadAll(",a,,\n");
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_THAT((*recs)[0].fields, ElementsAre("", "a", "", ""));
}

TEST(CsvReaderTest, HandlesQuotedFields) {
  const auto recs = ReadAll("\"a,b\",\"say \"\"hi\"\"\",\"\"\nx,\"two\nlines\",y\nlast,row,here");
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_THAT((*recs)[0].fields, ElementsAre("a,b", "say \"hi\"", ""));
  EXPECT_THAT((*recs)[1].fields, ElementsAre("x", "two\nlines", "y"));
  EXPECT_EQ((*recs)[1].line, 2);
  EXPECT_EQ((*recs)[2].line, 4);  // the quoted line break counts
  EXPECT_THAT((*recs)[2].fields, ElementsAre("last", "row", "here"));
}

TEST(CsvReaderTest, AcceptsCrLfLoneCrBlankLinesAndBom) {
  const auto recs = ReadAll(
      "\xEF\xBB\xBF"
      "a,b\r\n\r\nc,d\re,f\n\n");
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_THAT((*recs)[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT((*recs)[1].fields, ElementsAre("c", "d"));
  EXPECT_EQ((*recs)[1].line, 3);
  EXPECT_THAT((*recs)[2].fields, ElementsAre("e", "f"));
  EXPECT_EQ((*recs)[2].line, 4);
}

TEST(CsvReaderTest, KeepsQuoteInsideUnquotedFieldLiterally) {
  const auto recs = ReadAll("ab\"c,d\n");
  ASSERT_TRUE(recs.ok());
  EXPECT_THAT((*recs)[0].fields, ElementsAre("ab\"c", "d"));
}

TEST(CsvReaderTest, EmptyInputHasNoRecords) {
  for (const char* text : {"", "\n", "\r\n\r\n"}) {
    const auto recs = ReadAll(text);
    ASSERT_TRUE(recs.ok());
    EXPECT_TRUE(recs->empty());
  }
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnErrorAtItsRecord) {
  const auto recs = ReadAll("a,b\nc,\"open\nmore\n");
  ASSERT_FALSE(recs.ok());
  EXPECT_THAT(std::string(recs.status().message()), HasSubstr("t.csv:2: csv: unterminated quoted field"));
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnError) {
  const auto recs = ReadAll("a,b\n\"x\"y,z\n");
  ASSERT_FALSE(recs.ok());
  EXPECT_THAT(std::string(recs.status().message()), HasSubstr("t.csv:2: csv: unexpected"));
}

}  // namespace
}  // namespace stargate
