// RFC 3339 timestamps: format_rfc3339 / parse_rfc3339.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "tessera/codec/time.h"

namespace {

using tessera::codec::format_rfc3339;
using tessera::codec::parse_rfc3339;
using tessera::domain::Timestamp;

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t k20261124T101530 = 1'795'515'330;  // 2026-11-24T10:15:30Z in seconds

testing::AssertionResult ParsesTo(const std::string& text, std::int64_t micros) {
  const auto t = parse_rfc3339(text);
  if (!t) return testing::AssertionFailure() << "'" << text << "' did not parse";
  if (t->micros != micros) {
    return testing::AssertionFailure() << "'" << text << "' parsed as " << t->micros << ", expected " << micros;
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult Invalid(const std::string& text) {
  const auto t = parse_rfc3339(text);
  if (t) return testing::AssertionFailure() << "'" << text << "' parsed as " << t->micros;
  return testing::AssertionSuccess();
}

TEST(FormatRfc3339, Epoch) { EXPECT_EQ(format_rfc3339(Timestamp{0}), "1970-01-01T00:00:00Z"); }

TEST(FormatRfc3339, FractionIsMicrosecondsAndLeftOutWhenZero) {
  EXPECT_EQ(format_rfc3339(Timestamp{k20261124T101530 * kSecond}), "2026-11-24T10:15:30Z");
  EXPECT_EQ(format_rfc3339(Timestamp{k20261124T101530 * kSecond + 123456}), "2026-11-24T10:15:30.123456Z");
  EXPECT_EQ(format_rfc3339(Timestamp{k20261124T101530 * kSecond + 1}), "2026-11-24T10:15:30.000001Z");
  EXPECT_EQ(format_rfc3339(Timestamp{k20261124T101530 * kSecond + 500000}), "2026-11-24T10:15:30.500000Z");
}

TEST(FormatRfc3339, BeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339(Timestamp{-1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(Timestamp{-kSecond}), "1969-12-31T23:59:59Z");
}

TEST(FormatRfc3339, LeapDayAndYearBoundaries) {
  EXPECT_EQ(format_rfc3339(Timestamp{951'782'400 * kSecond}), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_rfc3339(Timestamp{(946'684'800 - 1) * kSecond}), "1999-12-31T23:59:59Z");
}

TEST(ParseRfc3339, UtcWithAndWithoutFraction) {
  EXPECT_TRUE(ParsesTo("1970-01-01T00:00:00Z", 0));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30Z", k20261124T101530 * kSecond));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30.123456Z", k20261124T101530 * kSecond + 123456));
  EXPECT_TRUE(ParsesTo("2026-11-24t10:15:30z", k20261124T101530 * kSecond));  // RFC 3339 allows lower case
}

TEST(ParseRfc3339, FractionsOfAnyLength) {
  const std::int64_t base = k20261124T101530 * kSecond;
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30.1Z", base + 100000));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30.12Z", base + 120000));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30.000001Z", base + 1));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30.123456789Z", base + 123456));  // below a microsecond: truncated
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30.0Z", base));
}

TEST(ParseRfc3339, OffsetsAreConvertedToUtc) {
  const std::int64_t base = k20261124T101530 * kSecond;
  EXPECT_TRUE(ParsesTo("2026-11-24T12:15:30+02:00", base));
  EXPECT_TRUE(ParsesTo("2026-11-24T04:45:30-05:30", base));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30+00:00", base));
  EXPECT_TRUE(ParsesTo("2026-11-24T10:15:30-00:00", base));
  EXPECT_TRUE(ParsesTo("2026-11-25T00:15:30.25+14:00", base + 250000));  // across a day
  EXPECT_TRUE(ParsesTo("1970-01-01T00:59:59.999999+01:00", -1));
}

TEST(ParseRfc3339, CalendarIsChecked) {
  EXPECT_TRUE(ParsesTo("2024-02-29T00:00:00Z", 1'709'164'800 * kSecond));
  EXPECT_TRUE(Invalid("2023-02-29T00:00:00Z"));
  EXPECT_TRUE(Invalid("2100-02-29T00:00:00Z"));
  EXPECT_TRUE(Invalid("2026-13-01T00:00:00Z"));
  EXPECT_TRUE(Invalid("2026-00-01T00:00:00Z"));
  EXPECT_TRUE(Invalid("2026-04-31T00:00:00Z"));
  EXPECT_TRUE(Invalid("2026-01-00T00:00:00Z"));
  EXPECT_TRUE(Invalid("2026-01-32T00:00:00Z"));
  EXPECT_TRUE(Invalid("2026-01-01T24:00:00Z"));
  EXPECT_TRUE(Invalid("2026-01-01T00:60:00Z"));
  EXPECT_TRUE(Invalid("2026-01-01T00:00:61Z"));
}

TEST(ParseRfc3339, MalformedTextIsRejected) {
  EXPECT_TRUE(Invalid(""));
  EXPECT_TRUE(Invalid("2026-11-24"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30"));       // no offset
  EXPECT_TRUE(Invalid("2026-11-24 10:15:30Z"));      // space for T
  EXPECT_TRUE(Invalid("2026-11-24T10:15Z"));         // no seconds
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30.Z"));     // empty fraction
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30,5Z"));    // comma
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+0200"));  // offset without colon
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+02"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+24:00"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+02:60"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30ZZ"));  // trailing text
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30Z "));
  EXPECT_TRUE(Invalid(" 2026-11-24T10:15:30Z"));
  EXPECT_TRUE(Invalid("2026/11/24T10:15:30Z"));
  EXPECT_TRUE(Invalid("20a6-11-24T10:15:30Z"));
  EXPECT_TRUE(Invalid("2026-1a-24T10:15:30Z"));
  EXPECT_TRUE(Invalid("2026-11-24T1a:15:30Z"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+0a:00"));
  EXPECT_TRUE(Invalid("yesterday at noon, roughly"));
}

// RFC 3339's grammar has only DIGITs in the date, the time and the offset:
// a sign inside a field is not a timestamp.
// Regression (found as a bug by this test: read_int's std::from_chars took a
// leading '-', so "-1" passed as a two-digit field and the range checks,
// h > 23 and so on, let negative values through).
TEST(ParseRfc3339, NegativeNumbersInsideFieldsAreRejected) {
  EXPECT_TRUE(Invalid("2026-11-24T-1:15:30Z"));
  EXPECT_TRUE(Invalid("2026-11-24T10:-1:30Z"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:-1Z"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+-1:00"));
  EXPECT_TRUE(Invalid("2026-11-24T10:15:30+01:-1"));
  EXPECT_TRUE(Invalid("-026-11-24T10:15:30Z"));
}

TEST(Rfc3339, RoundTripsAnyInstantFromYear1To9999) {
  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z
  const std::int64_t first = -62'135'596'800 * kSecond;
  const std::int64_t last = 253'402'300'799 * kSecond + 999'999;
  std::mt19937_64 rng(3339);
  std::uniform_int_distribution<std::int64_t> any(first, last);
  for (std::int64_t micros : {first, last, std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}}) {
    EXPECT_TRUE(ParsesTo(format_rfc3339(Timestamp{micros}), micros));
  }
  for (int i = 0; i < 20000; ++i) {
    std::int64_t micros = any(rng);
    if (i % 2 == 0) micros -= micros % kSecond;  // half of them on whole seconds
    const std::string text = format_rfc3339(Timestamp{micros});
    ASSERT_TRUE(ParsesTo(text, micros));
  }
  EXPECT_EQ(format_rfc3339(Timestamp{first}), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(Timestamp{last}), "9999-12-31T23:59:59.999999Z");
}

}  // namespace
