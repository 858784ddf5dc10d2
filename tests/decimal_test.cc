#include "tradestore/decimal.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace tradestore {
namespace {

int64_t Units(const char* text) {
  auto d = Decimal::Parse(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status();
  return d.ok() ? d->units() : -1;
}

TEST(DecimalTest, ParsesPlainForms) {
  EXPECT_EQ(Units("1"), 100000000);
  EXPECT_EQ(Units("1.5"), 150000000);
  EXPECT_EQ(Units(".5"), 50000000);
  EXPECT_EQ(Units("5."), 500000000);
  EXPECT_EQ(Units("+12.34"), 1234000000);
  EXPECT_EQ(Units("-0.00000001"), -1);
  EXPECT_EQ(Units("000123.45"), 12345000000);
}

TEST(DecimalTest, EightDecimalsExactNinthRefusedNotRounded) {
  EXPECT_EQ(Units("0.12345678"), 12345678);
  auto nine = Decimal::Parse("0.123456789");
  TS_EXPECT_CODE(nine, absl::StatusCode::kInvalidArgument);
  EXPECT_NE(nine.status().message().find("more than 8 decimal places"),
            std::string::npos);
  // Extra zeros change nothing, so they are exact.
  EXPECT_EQ(Units("0.1234567800000"), 12345678);
  auto half = Decimal::Parse("0.000000005");
  TS_EXPECT_CODE(half, absl::StatusCode::kInvalidArgument);
}

TEST(DecimalTest, NegativeZeroIsZero) {
  auto d = Decimal::Parse("-0.00");
  TS_ASSERT_OK(d);
  EXPECT_TRUE(d->IsZero());
  EXPECT_EQ(d->ToString(), "0.00000000");
  EXPECT_EQ(*d, *Decimal::Parse("0"));
}

TEST(DecimalTest, RangeIsDecimal18_8) {
  EXPECT_EQ(Units("9999999999.99999999"), Decimal::kMaxUnits);
  EXPECT_EQ(Units("-9999999999.99999999"), -Decimal::kMaxUnits);
  auto over = Decimal::Parse("10000000000");
  TS_EXPECT_CODE(over, absl::StatusCode::kOutOfRange);
  auto way_over = Decimal::Parse("123456789012345678901234567890");
  TS_EXPECT_CODE(way_over, absl::StatusCode::kOutOfRange);
  auto units = Decimal::FromUnits(Decimal::kMaxUnits + 1);
  TS_EXPECT_CODE(units, absl::StatusCode::kOutOfRange);
}

TEST(DecimalTest, RefusesWhatIsNotADecimal) {
  for (const char* bad : {"", "-", ".", "abc", "1.2.3", "1e5", " 1", "1 ",
                          "0x10", "1,5", "NaN", "inf", "--1", "1-"}) {
    auto d = Decimal::Parse(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(DecimalTest, FormatsCanonicalAndShort) {
  auto d = *Decimal::Parse("-1234.5");
  EXPECT_EQ(d.ToString(), "-1234.50000000");
  EXPECT_EQ(d.ToShortString(), "-1234.5");
  EXPECT_EQ(Decimal().ToShortString(), "0");
  EXPECT_EQ(Decimal::Parse("0.00000001")->ToString(), "0.00000001");
  // Text -> Decimal -> text round-trips for every canonical value.
  for (const char* text :
       {"0.00000001", "9999999999.99999999", "42.00000000", "-0.50000000"}) {
    EXPECT_EQ(Decimal::Parse(text)->ToString(), text);
  }
}

TEST(DecimalTest, ArithmeticChecksOverflow) {
  auto max = *Decimal::FromUnits(Decimal::kMaxUnits);
  auto one = *Decimal::Parse("0.00000001");
  auto sum = max.Add(one);
  TS_EXPECT_CODE(sum, absl::StatusCode::kOutOfRange);
  auto diff = max.Subtract(one);
  TS_ASSERT_OK(diff);
  EXPECT_EQ(diff->units(), Decimal::kMaxUnits - 1);
  EXPECT_LT(one, max);
}

}  // namespace
}  // namespace tradestore
