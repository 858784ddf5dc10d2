#include "tradestore/sqlite/legacy_row.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace tradestore {
namespace {

StoredRow GoodRow() {
  StoredRow r;
  r.id = 7;
  r.symbol = SqlValue::Text("ETH-USD");
  r.side = SqlValue::Text("SELL");
  r.quantity = SqlValue::Real(0.1);
  r.price = SqlValue::Text("2500.25");
  r.timestamp = SqlValue::Text("2023-11-14 22:13:21.471325");
  r.status = SqlValue::Text("FILLED");
  return r;
}

std::string ReasonFor(const StoredRow& r) {
  auto t = ConvertStoredRow(r, nullptr);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

TEST(LegacyRowTest, ConvertsAGoodLegacyRow) {
  ConversionNotes notes;
  auto t = ConvertStoredRow(GoodRow(), &notes);
  TS_ASSERT_OK(t);
  EXPECT_EQ(t->id, 7);
  EXPECT_EQ(t->quantity.ToString(), "0.10000000");
  EXPECT_EQ(t->price.ToString(), "2500.25000000");
  EXPECT_EQ(t->timestamp.ToIso8601(), "2023-11-14T22:13:21.471325Z");
  EXPECT_EQ(t->version, 1);
  EXPECT_EQ(t->created_at, t->timestamp);  // legacy rows have none
  EXPECT_EQ(notes.converted_from_float, 1);
  EXPECT_TRUE(notes.possibly_lossy.empty());
}

TEST(LegacyRowTest, RealRoundsLikePrintfAndFlagsLongValues) {
  ConversionNotes notes;
  // 0.1 + 0.2 = 0.30000000000000004: 17 significant digits.
  auto d = DecimalFromStored("price", SqlValue::Real(0.1 + 0.2), &notes);
  TS_ASSERT_OK(d);
  EXPECT_EQ(d->ToString(), "0.30000000");
  ASSERT_EQ(notes.possibly_lossy.size(), 1u);
  EXPECT_EQ(notes.possibly_lossy[0], "price");
  EXPECT_EQ(DecimalFromStored("q", SqlValue::Real(123456.78901234), nullptr)
                ->ToString(),
            "123456.78901234");
  // Past 2^53 units the 8-place value is checked by its digits.
  EXPECT_EQ(DecimalFromStored("q", SqlValue::Real(123456789.12345678), nullptr)
                ->ToString(),
            "123456789.12345678");
}

TEST(LegacyRowTest, RealWithMoreThanEightDecimalsIsRefusedNotRounded) {
  // A REAL that stands for a value of 9 places did not come from a
  // DECIMAL(18,8): rounding it would change what was written.
  for (double v : {1.123456789, 0.000000005, 1e-9, 1.000000005, -1.123456789,
                   1.1234567890000001}) {
    auto d = DecimalFromStored("q", SqlValue::Real(v), nullptr);
    TS_EXPECT_CODE(d, absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(
        std::string(d.status().message()),
        ::testing::HasSubstr("more than 8 decimal places (would round)"))
        << v;
  }
  // Float noise on a value of at most 8 places is the value.
  for (double v :
       {0.1 + 0.2, 0.1 * 3, 1.1 + 2.2, 99999999.99999999, 0.00000001, 1e9}) {
    auto d = DecimalFromStored("q", SqlValue::Real(v), nullptr);
    EXPECT_TRUE(d.ok()) << v << ": " << d.status();
  }
}

TEST(LegacyRowTest, IntegerAndTextDecimalsAreExact) {
  EXPECT_EQ(DecimalFromStored("q", SqlValue::Integer(42), nullptr)->ToString(),
            "42.00000000");
  EXPECT_EQ(
      DecimalFromStored("q", SqlValue::Text("0.12345678"), nullptr)->ToString(),
      "0.12345678");
  auto too_big =
      DecimalFromStored("q", SqlValue::Integer(10000000000), nullptr);
  TS_EXPECT_CODE(too_big, absl::StatusCode::kInvalidArgument);
}

TEST(LegacyRowTest, BadRowsNameTheColumnAndProblem) {
  StoredRow r = GoodRow();
  r.price = SqlValue::Null();
  EXPECT_EQ(ReasonFor(r), "price: is NULL");
  r = GoodRow();
  r.quantity = SqlValue::Real(std::nan(""));
  EXPECT_EQ(ReasonFor(r), "quantity: REAL NaN is not a number");
  r = GoodRow();
  r.quantity = SqlValue::Real(std::numeric_limits<double>::infinity());
  EXPECT_EQ(ReasonFor(r), "quantity: REAL Inf is not a number");
  r = GoodRow();
  r.quantity = SqlValue::Real(-2.0);
  EXPECT_EQ(ReasonFor(r), "quantity: -2 must be > 0");
  r = GoodRow();
  r.price = SqlValue::Text("12abc");
  EXPECT_EQ(ReasonFor(r), "price: \"12abc\" is not a decimal number");
  r = GoodRow();
  r.symbol = SqlValue::Text(std::string(21, 'X'));
  EXPECT_NE(ReasonFor(r).find("symbol: "), std::string::npos);
  r = GoodRow();
  r.side = SqlValue::Text("HOLD");
  EXPECT_EQ(ReasonFor(r), "side: \"HOLD\" is not BUY or SELL");
  r = GoodRow();
  r.timestamp = SqlValue::Text("2023-02-30 10:00:00");
  EXPECT_NE(ReasonFor(r).find("timestamp: "), std::string::npos);
  r = GoodRow();
  r.status = SqlValue::Text("PARTIALLY_FILLED_AND_MORE");
  EXPECT_NE(
      ReasonFor(r).find("status: \"PARTIALLY_FILLED_AND_MORE\" is too long"),
      std::string::npos);
}

TEST(LegacyRowTest, LowerCaseSideIsNormalised) {
  StoredRow r = GoodRow();
  r.side = SqlValue::Text("buy");
  auto t = ConvertStoredRow(r, nullptr);
  TS_ASSERT_OK(t);
  EXPECT_EQ(t->side, Side::kBuy);
}

TEST(LegacyRowTest, EpochSecondsMillisecondsAndReal) {
  ConversionNotes notes;
  EXPECT_EQ(TimestampFromStored("ts", SqlValue::Integer(1700000001), &notes)
                ->ToIso8601(),
            "2023-11-14T22:13:21.000000Z");
  EXPECT_EQ(TimestampFromStored("ts", SqlValue::Integer(1700000001471), &notes)
                ->ToIso8601(),
            "2023-11-14T22:13:21.471000Z");
  EXPECT_EQ(TimestampFromStored("ts", SqlValue::Real(1700000001.471325), &notes)
                ->ToIso8601(),
            "2023-11-14T22:13:21.471325Z");
  EXPECT_EQ(notes.converted_from_float, 1);
  // The boundary: just below is seconds (year 5138), at it milliseconds.
  EXPECT_EQ(TimestampFromStored("ts", SqlValue::Integer(kEpochMillisThreshold),
                                nullptr)
                ->ToIso8601(),
            "1973-03-03T09:46:40.000000Z");
  auto blob = TimestampFromStored("ts", SqlValue::Blob("x"), nullptr);
  TS_EXPECT_CODE(blob, absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tradestore

namespace tradestore {
namespace {

int64_t PrintfUnits(double v, int scale) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", scale, v);
  std::string digits;
  for (const char* p = buf; *p != 0; ++p) {
    if (*p != '.') digits += *p;
  }
  return std::stoll(digits);
}

// RoundToScale stands in for printf("%.8f"); it must give the same digits
// for every double a legacy file can hold, ties and tiny values included.
TEST(RoundToScaleTest, AgreesWithPrintf) {
  std::mt19937_64 rng(7);
  std::vector<double> values = {0.001953125,  // x * 1e8 is an exact tie
                                0.005859375,
                                1.5e-8,
                                0.5e-8,
                                2.5e-8,
                                1e-300,
                                5e-324,
                                0.1,
                                0.3,
                                9999999999.99999999,
                                123456789.12345678,
                                1.0,
                                0.0};
  for (int i = 0; i < 200000; ++i) {
    const int64_t units =
        static_cast<int64_t>(rng() % 1'000'000'000'000'000'000);
    values.push_back(static_cast<double>(units) / 1e8);
    values.push_back(std::ldexp(static_cast<double>(rng() >> 11),
                                -static_cast<int>(rng() % 90)));
  }
  for (double v : values) {
    for (int scale : {6, 8}) {
      if (std::fabs(v) * std::pow(10.0, scale) >= 4e18) continue;
      for (double signed_v : {v, -v}) {
        ASSERT_EQ(RoundToScale(signed_v, scale), PrintfUnits(signed_v, scale))
            << "v=" << signed_v << " scale=" << scale;
      }
    }
  }
}

// The "possibly lossy" note must fall exactly where the shortest text that
// reads back as the REAL has more than 15 significant digits, though the
// conversion skips to_chars where the 8-place value's digits settle it.
TEST(LegacyRowTest, FlagsExactlyTheRealsPast15Digits) {
  std::mt19937_64 rng(11);
  std::vector<double> values = {
      0.1 + 0.2,           1e-8, 123456.78901234, 1234567.12345678,
      9999999999.99999999, 0.0,  100.0,           1e9};
  for (int i = 0; i < 300000; ++i) {
    // 8-place values of every length, and arbitrary doubles below 1e10.
    const int64_t units = static_cast<int64_t>(
        rng() % 1'000'000'000'000'000'000 / (uint64_t{1} << (rng() % 60)));
    values.push_back(static_cast<double>(units) / 1e8);
    values.push_back(std::ldexp(static_cast<double>(rng() >> 11),
                                -static_cast<int>(rng() % 90)));
  }
  int flagged = 0;
  int unflagged = 0;
  for (double v : values) {
    for (double signed_v : {v, -v}) {
      ConversionNotes notes;
      if (!DecimalFromStored("q", SqlValue::Real(signed_v), &notes).ok()) {
        continue;  // more than 8 places: refused, nothing to note
      }
      const bool lossy = RoundTripDigits(signed_v) > 15;
      ASSERT_EQ(notes.possibly_lossy.size(), lossy ? 1u : 0u)
          << "v=" << signed_v;
      ++(lossy ? flagged : unflagged);
    }
  }
  // Both kinds seen, so the check above compared something.
  EXPECT_GT(flagged, 1000);
  EXPECT_GT(unflagged, 100000);
}

}  // namespace
}  // namespace tradestore
