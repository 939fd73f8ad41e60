#include "core/text_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stargate {
namespace {

using ::testing::HasSubstr;

TEST(DaysFromCivilTest, MatchesKnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2000, 2, 29) + 1, DaysFromCivil(2000, 3, 1));
  EXPECT_EQ(DaysFromCivil(2018, 1, 1) - DaysFromCivil(2017, 12, 31), 1);
  static_assert(DaysFromCivil(1970, 1, 2) == 1);
}

TEST(DaysInMonthTest, HandlesLeapYears) {
  EXPECT_EQ(DaysInMonth(2020, 2), 29);
  EXPECT_EQ(DaysInMonth(2019, 2), 28);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(DaysInMonth(2017, 11), 30);
  EXPECT_EQ(DaysInMonth(2017, 13), 0);
}

TEST(ParseDateTimeTest, ReadsTraceTimestamps) {
  // Reference values from Python's calendar.timegm.
  EXPECT_EQ(ParseDateTime("2017-10-07 01:11:39"), 1507338699);
  EXPECT_EQ(ParseDateTime("2020-06-09 18:40:00"), 1591728000);
  EXPECT_EQ(ParseDateTime("2020-06-09T18:40:00"), 1591728000);
  EXPECT_EQ(ParseDateTime(" 1970-01-01 00:00:00 "), 0);
  EXPECT_EQ(ParseDateTime("2200-12-31 23:59:59"), 7289654399);
  EXPECT_EQ(ParseDateTime("2020-02-29 00:00:00"), *ParseDateTime("2020-02-28 00:00:00") + 86400);
}

TEST(ParseDateTimeTest, RejectsMalformedAndOutOfRange) {
  for (const char* bad : {"",
                          "None",
                          "2017-10-07",
                          "2017-10-07 01:11",
                          "2017-10-07 01:11:39 PDT",
                          "2017/10/07 01:11:39",
                          "2017-1-07 01:11:39",
                          "2017-13-01 00:00:00",
                          "2017-00-01 00:00:00",
                          "2019-02-29 00:00:00",
                          "2017-04-31 00:00:00",
                          "2017-10-07 24:00:00",
                          "2017-10-07 23:60:00",
                          "2017-10-07 23:59:61",
                          "1969-12-31 23:59:59",
                          "2201-01-01 00:00:00",
                          "2017-10-07  01:11:39",
                          "+017-10-07 01:11:39",
                          "2017-10-07 01:11:39.",
                          "2017-10-07 01:11:39+8",
                          "2017-10-07 01:11:39+08:",
                          "2017-10-07 01:11:39+24:00",
                          "2017-10-07 01:11:39+08:60",
                          "2017-10-07 01:11:39Z+01",
                          "2017-10-07 01:11:39 +08:00"}) {
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << bad;
  }
}

// ISO 8601 as the Acme traces (InternLM, NSDI '24) and grid feeds write it:
// a fraction of a second, and a zone that moves the time to UTC.
TEST(ParseDateTimeTest, ReadsFractionsAndZones) {
  // 2023-03-01 00:18:22+08:00 is 2023-02-28 16:18:22 UTC (calendar.timegm: 1677601102).
  EXPECT_EQ(ParseDateTime("2023-03-01 00:18:22+08:00"), 1677601102);
  EXPECT_EQ(ParseDateTime("2023-03-01 00:18:22+0800"), 1677601102);
  EXPECT_EQ(ParseDateTime("2023-03-01 00:18:22+08"), 1677601102);
  EXPECT_EQ(ParseDateTime("2023-02-28T16:18:22Z"), 1677601102);
  EXPECT_EQ(ParseDateTime("2023-02-28T11:18:22-05:00"), 1677601102);
  EXPECT_EQ(ParseDateTime("2023-02-28T16:18:22.999Z"), 1677601102);  // whole seconds, rounded down
  EXPECT_EQ(ParseDateTimeNanos("2023-02-28T16:18:22.25+00:00"), 1677601102250000000);
  EXPECT_EQ(ParseDateTimeNanos("2023-02-28 16:18:22.1234567891"), 1677601102123456789);  // past ns: dropped
  EXPECT_EQ(ParseDateTime("1970-01-01 00:00:00+01:00"), -3600);                          // before 1970 only by its zone
  EXPECT_EQ(ParseTimestampNanos("2023-03-01 00:18:22+08:00"), int64_t{1677601102} * 1000000000);
  // Differences across zones are true durations: 00:18 in Shanghai is 16:18 UTC.
  EXPECT_EQ(*ParseDateTime("2023-03-01 00:20:51+08:00") - *ParseDateTime("2023-02-28 16:18:22+00:00"), 149);
}

TEST(ParseNumberTest, AcceptsDecimalsOnly) {
  EXPECT_EQ(ParseFieldNumber("1739162.0"), 1739162.0);
  EXPECT_EQ(ParseFieldNumber(" 50 "), 50.0);
  EXPECT_EQ(ParseFieldNumber("+3"), 3.0);
  EXPECT_EQ(ParseFieldNumber("-2.5e1"), -25.0);
  EXPECT_EQ(ParseFieldNumber(".5"), 0.5);
  for (const char* bad : {"", " ", "abc", "1.0x", "inf", "-inf", "nan", "NaN", "0x10", "1e400", "1,0", "--1", "+"}) {
    EXPECT_FALSE(ParseFieldNumber(bad).has_value()) << bad;
  }
}

TEST(ParseCountTest, TakesWholeNonNegativeNumbers) {
  EXPECT_EQ(ParseFieldCount("8"), 8);
  EXPECT_EQ(ParseFieldCount("8.0"), 8);
  EXPECT_EQ(ParseFieldCount("0"), 0);
  EXPECT_FALSE(ParseFieldCount("8.5").has_value());
  EXPECT_FALSE(ParseFieldCount("-1").has_value());
  EXPECT_FALSE(ParseFieldCount("1e30").has_value());
}

TEST(ParseTimestampNanosTest, TakesDateTimesOrSeconds) {
  EXPECT_EQ(ParseTimestampNanos("2020-06-09 18:40:00"), int64_t{1591728000} * 1000000000);
  EXPECT_EQ(ParseTimestampNanos("1591728000"), int64_t{1591728000} * 1000000000);
  EXPECT_EQ(ParseTimestampNanos("1739162.5"), int64_t{1739162500000000});
  EXPECT_FALSE(ParseTimestampNanos("-1").has_value());
  EXPECT_FALSE(ParseTimestampNanos("9e9").has_value());
  EXPECT_FALSE(ParseTimestampNanos("yesterday").has_value());
}

TEST(IsMissingTest, KnowsTraceSpellingsOfNothing) {
  for (const char* s : {"", "  ", "None", "null", "NULL", "NaN", "nan", "Unknown", "\\N"}) {
    EXPECT_TRUE(IsMissing(s)) << s;
  }
  EXPECT_FALSE(IsMissing("0"));
  EXPECT_FALSE(IsMissing("none of it"));
}

TEST(ExcerptTest, ShortensAndMasksControlBytes) {
  EXPECT_EQ(Excerpt("a\nb"), "a?b");
  EXPECT_EQ(Excerpt(std::string(50, 'x')), std::string(40, 'x') + "...");
}

TEST(TraceErrorTest, SpellsFileLineField) {
  const Status s = TraceError("t.csv", 7, "gpu_num", "expected a GPU count");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("t.csv:7: gpu_num: expected a GPU count"));
}

}  // namespace
}  // namespace stargate
