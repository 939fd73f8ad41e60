#include "core/unit_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace stargate {
namespace {

using ::testing::HasSubstr;

// Asserts `s` failed with InvalidArgument whose message contains `part`.
template <typename T>
void ExpectError(const StatusOr<T>& s, const std::string& part) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr(part));
}

TEST(ParseDurationTest, AcceptsEveryUnit) {
  EXPECT_EQ(*ParseDuration("90s"), Duration::Seconds(90));
  EXPECT_EQ(*ParseDuration("10m"), Duration::Minutes(10));
  EXPECT_EQ(*ParseDuration("1.5h"), Duration::Minutes(90));
  EXPECT_EQ(*ParseDuration("54d"), Duration::Days(54));
  EXPECT_EQ(*ParseDuration("2w"), Duration::Days(14));
  EXPECT_EQ(*ParseDuration("365d"), Duration::Days(365));
  EXPECT_EQ(*ParseDuration("1y"), Duration::Days(365));
  EXPECT_EQ(*ParseDuration("500ms"), Duration::Millis(500));
  EXPECT_EQ(*ParseDuration("5us"), Duration::Micros(5));
  EXPECT_EQ(*ParseDuration("7ns"), Duration::Nanos(7));
  EXPECT_EQ(*ParseDuration("15min"), Duration::Minutes(15));
  EXPECT_EQ(*ParseDuration("2hr"), Duration::Hours(2));
}

// A plain number is refused (the reader cannot tell 60 W from 60 MW),
// naming the units; zero is zero in any unit.
TEST(ParseDurationTest, PlainNumberNeedsAUnit) {
  EXPECT_EQ(*ParseDuration("0"), Duration::Zero());
  EXPECT_EQ(*ParseDuration(" 3 h "), Duration::Hours(3));
  EXPECT_EQ(*ParseDuration("86_400s"), Duration::Days(1));
  for (const char* bare : {"42", "0.25", "1e3", "86_400"}) {
    const auto d = ParseDuration(bare);
    ASSERT_FALSE(d.ok()) << bare;
    EXPECT_NE(std::string(d.status().message()).find("needs its unit"), std::string::npos) << d.status();
  }
  for (auto parse : {+[](std::string_view t) { return ParsePower(t).status(); },
                     +[](std::string_view t) { return ParseBandwidth(t).status(); },
                     +[](std::string_view t) { return ParseBytes(t).status(); }}) {
    EXPECT_NE(std::string(parse("60").message()).find("needs its unit"), std::string::npos);
    EXPECT_TRUE(parse("0").ok());
  }
  EXPECT_DOUBLE_EQ(*ParseCount("405"), 405);  // a count is ones
}

TEST(ParseDurationTest, IntegersConvertExactly) {
  // 290 years in ns is 9.15e18: past 2^53, so only the integer path is exact.
  EXPECT_EQ(ParseDuration("290y")->nanos(), int64_t{290} * 365 * 86400 * 1000000000);
  EXPECT_EQ(ParseDuration("9223372036854775806ns")->nanos(), 9223372036854775806);
}

TEST(ParseDurationTest, RejectsBadInput) {
  ExpectError(ParseDuration(""), "empty value");
  ExpectError(ParseDuration("h"), "expected a number");
  ExpectError(ParseDuration("10x"), "unknown unit 'x'");
  ExpectError(ParseDuration("10M"), "unknown unit 'M'");  // minutes are lower case
  ExpectError(ParseDuration("-5s"), "must not be negative");
  ExpectError(ParseDuration("nan"), "expected a number");
  ExpectError(ParseDuration("inf"), "expected a number");
  ExpectError(ParseDuration("1..5h"), "unknown unit");
  ExpectError(ParseDuration("293y"), "too large");
  ExpectError(ParseDuration("9223372036854775807ns"), "too large");
  ExpectError(ParseDuration("99999999999999999999999d"), "too large");
  ExpectError(ParseDuration("1e300s"), "too large");
  ExpectError(ParseDuration("1e999s"), "out of range");
}

TEST(ParsePowerTest, Units) {
  EXPECT_DOUBLE_EQ(*ParsePower("700W"), 700);
  EXPECT_DOUBLE_EQ(*ParsePower("10.2kW"), 10200);
  EXPECT_DOUBLE_EQ(*ParsePower("1200MW"), 1.2e9);
  EXPECT_DOUBLE_EQ(*ParsePower("10GW"), 1e10);
  EXPECT_DOUBLE_EQ(*ParsePower("5 KW"), 5000);
  EXPECT_DOUBLE_EQ(*ParsePower("350W"), 350);
  ExpectError(ParsePower("10kV"), "unknown unit 'kV'");
  ExpectError(ParsePower("-1W"), "must not be negative");
  ExpectError(ParsePower("1e300TW"), "too large");
}

TEST(ParseBandwidthTest, BitsAndBytes) {
  EXPECT_DOUBLE_EQ(*ParseBandwidth("400Gbps"), 50e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("25Gb/s"), 3.125e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("100GB/s"), 100e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("1.8TB/s"), 1.8e12);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("100GBps"), 100e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("800Mbps"), 1e8);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("1GiB/s"), 1073741824.0);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("1e9B/s"), 1e9);
  ExpectError(ParseBandwidth("400G"), "unknown unit 'G'");
  ExpectError(ParseBandwidth("1Gibps"), "unknown unit");
  ExpectError(ParseBandwidth("5GB"), "unknown unit 'GB'");
}

TEST(ParseBytesTest, DecimalAndBinary) {
  EXPECT_DOUBLE_EQ(*ParseBytes("80GB"), 80e9);
  EXPECT_DOUBLE_EQ(*ParseBytes("5TB"), 5e12);
  EXPECT_DOUBLE_EQ(*ParseBytes("141GiB"), 141.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(*ParseBytes("2EB"), 2e18);  // 'E' then 'B' is not an exponent
  EXPECT_DOUBLE_EQ(*ParseBytes("16B"), 16);
  EXPECT_DOUBLE_EQ(*ParseBytes("4096B"), 4096);
  ExpectError(ParseBytes("80Gb"), "'b' is bits");
  ExpectError(ParseBytes("80GB/s"), "unknown unit");
}

TEST(ParseCountTest, Suffixes) {
  EXPECT_DOUBLE_EQ(*ParseCount("405e9"), 405e9);
  EXPECT_DOUBLE_EQ(*ParseCount("405B"), 405e9);
  EXPECT_DOUBLE_EQ(*ParseCount("15.6T"), 15.6e12);
  EXPECT_DOUBLE_EQ(*ParseCount("7M"), 7e6);
  EXPECT_DOUBLE_EQ(*ParseCount("1.5k"), 1500);
  EXPECT_DOUBLE_EQ(*ParseCount("2K"), 2000);
  EXPECT_DOUBLE_EQ(*ParseCount("1_000_000"), 1e6);
  EXPECT_DOUBLE_EQ(*ParseCount("+3"), 3);
  ExpectError(ParseCount("7 billion"), "unknown suffix 'billion'");
  ExpectError(ParseCount("-1"), "must not be negative");
  ExpectError(ParseCount("1__0"), "unknown suffix");
  ExpectError(ParseCount("0x10"), "unknown suffix 'x10'");
}

TEST(ParseNumberTest, SignedPlainNumbers) {
  EXPECT_DOUBLE_EQ(*ParseNumber("-99.73"), -99.73);
  EXPECT_DOUBLE_EQ(*ParseNumber("1.5e3"), 1500);
  EXPECT_DOUBLE_EQ(*ParseNumber(".5"), 0.5);
  ExpectError(ParseNumber("1k"), "unexpected suffix 'k'");
  ExpectError(ParseNumber("--1"), "expected a number");
}

TEST(UnitParsersTest, MessagesQuoteUntrustedTextSafely) {
  const std::string garbage = "1" + std::string(500, 'x') + "\x01";
  StatusOr<Duration> d = ParseDuration(garbage);
  ASSERT_FALSE(d.ok());
  EXPECT_LT(d.status().message().size(), 300u);
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("..."));
}

}  // namespace
}  // namespace stargate
