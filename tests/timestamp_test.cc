#include "tradestore/timestamp.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

// ToIso8601's own form is read by a shortcut; the same instant written
// another way goes through the general parser. Both must give the same
// instant, or both refuse, for every text of that shape.
TEST(TimestampTest, ItsOwnFormParsesAsTheGeneralParserReadsIt) {
  // ' ' for 'T' and "+00:00" for 'Z': the general parser's path.
  const auto general = [](std::string text) {
    text[10] = ' ';
    text.pop_back();
    return Timestamp::Parse(text + "+00:00");
  };
  std::mt19937_64 rng(5);
  const int64_t lo = Timestamp::Parse("0001-01-01 00:00:00")->unix_micros();
  const int64_t hi =
      Timestamp::Parse("9999-12-31 23:59:59.999999")->unix_micros();
  std::vector<std::string> texts;
  for (int i = 0; i < 200000; ++i) {
    const int64_t micros =
        lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
    texts.push_back(Timestamp::FromUnixMicros(micros)->ToIso8601());
  }
  // The same shape with a field out of range or a character that is no
  // digit: each position of a valid text given every byte in turn.
  const std::string valid = "2024-02-29T23:59:59.999999Z";
  for (size_t at = 0; at < valid.size() - 1; ++at) {
    if (at == 4 || at == 7 || at == 10 || at == 13 || at == 16 || at == 19) {
      continue;  // separators: another byte changes the shape
    }
    for (int c = 1; c < 256; ++c) {
      std::string t = valid;
      t[at] = static_cast<char>(c);
      texts.push_back(t);
    }
  }
  for (const char* t :
       {"2023-02-29T00:00:00.000000Z", "2023-04-31T00:00:00.000000Z",
        "0000-01-01T00:00:00.000000Z"}) {
    texts.emplace_back(t);
  }
  int refused = 0;
  for (const std::string& text : texts) {
    const auto own = Timestamp::Parse(text);
    const auto other = general(text);
    ASSERT_EQ(own.ok(), other.ok()) << text;
    if (own.ok()) {
      ASSERT_EQ(own->unix_micros(), other->unix_micros()) << text;
    } else {
      ++refused;
    }
  }
  EXPECT_GT(refused, 4000);  // the refusals were tried, not only valid texts
}

}  // namespace
}  // namespace tradestore
