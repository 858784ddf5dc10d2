#include "tradestore/timestamp.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace tradestore {
namespace {

int64_t Micros(const char* text) {
  auto t = Timestamp::Parse(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  return t.ok() ? t->unix_micros() : -1;
}

TEST(TimestampTest, ParsesLegacyAndIsoForms) {
  const int64_t expected = 1700000001471325;  // 2023-11-14T22:13:21.471325Z
  EXPECT_EQ(Micros("2023-11-14 22:13:21.471325"), expected);
  EXPECT_EQ(Micros("2023-11-14T22:13:21.471325Z"), expected);
  EXPECT_EQ(Micros("2023-11-14T22:13:21.471325+00:00"), expected);
  EXPECT_EQ(Micros("2023-11-15T00:13:21.471325+02:00"), expected);
  EXPECT_EQ(Micros("2023-11-14T17:13:21.471325-0500"), expected);
  EXPECT_EQ(Micros("2023-11-14 22:13:21"), 1700000001000000);
  EXPECT_EQ(Micros("2023-11-14 22:13:21.5"), 1700000001500000);
}

TEST(TimestampTest, LeapDays) {
  TS_EXPECT_OK(Timestamp::Parse("2024-02-29 00:00:00"));
  TS_EXPECT_OK(Timestamp::Parse("2000-02-29 00:00:00"));
  auto not_leap = Timestamp::Parse("2023-02-29 00:00:00");
  TS_EXPECT_CODE(not_leap, absl::StatusCode::kInvalidArgument);
  auto century = Timestamp::Parse("1900-02-29 00:00:00");
  TS_EXPECT_CODE(century, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Timestamp::Parse("2024-02-29T12:00:00Z")->ToIso8601(),
            "2024-02-29T12:00:00.000000Z");
}

TEST(TimestampTest, RefusesImpossibleAndRoundedValues) {
  for (const char* bad :
       {"2023-13-01 00:00:00", "2023-04-31 00:00:00", "2023-01-01 24:00:00",
        "2023-01-01 23:60:00", "2023-01-01 23:59:60", "2023-01-01",
        "2023-01-01 1:00:00", "2023-01-01 00:00:00.1234567",
        "2023-01-01 00:00:00.", "2023-01-01 00:00:00+25:00",
        "2023-01-01 00:00:00 UTC", "yesterday", ""}) {
    auto t = Timestamp::Parse(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // Seventh and later digits are fine when they are zeros: nothing rounds.
  EXPECT_EQ(Micros("2023-01-01 00:00:00.1234560"), 1672531200123456);
}

TEST(TimestampTest, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(Timestamp::FromUnixMicros(0)->ToIso8601(),
            "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(Timestamp::FromUnixMicros(-1)->ToIso8601(),
            "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(Timestamp::FromUnixMicros(1700000001471325)->ToIso8601(),
            "2023-11-14T22:13:21.471325Z");
}

TEST(TimestampTest, RoundTripsAcrossTheRange) {
  for (const char* text :
       {"0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z",
        "1969-07-20T20:17:40.000001Z", "2038-01-19T03:14:08.000000Z"}) {
    auto t = Timestamp::Parse(text);
    TS_ASSERT_OK(t);
    EXPECT_EQ(t->ToIso8601(), text);
  }
  auto before = Timestamp::Parse("0001-01-01T00:00:00+00:01");
  TS_EXPECT_CODE(before, absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace tradestore
