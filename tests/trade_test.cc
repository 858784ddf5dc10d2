#include "tradestore/trade.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"
#include "testing/trades.h"

namespace tradestore {
namespace {

Trade ValidTrade() { return testing::SampleTrade(); }

void ExpectInvalid(const Trade& t, const std::string& field,
                   const std::string& value) {
  absl::Status s = ValidateTrade(t);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, field.size() + 1), field + ":") << s;
  EXPECT_NE(s.message().find(value), std::string::npos) << s;
}

TEST(TradeTest, ValidTradePasses) { TS_EXPECT_OK(ValidateTrade(ValidTrade())); }

TEST(TradeTest, SymbolMustBe1To20CharactersOfUtf8) {
  Trade t = ValidTrade();
  t.symbol = "";
  ExpectInvalid(t, "symbol", "must be 1 to 20");
  t.symbol = std::string(21, 'A');
  ExpectInvalid(t, "symbol", std::string(21, 'A'));
  t.symbol = "\xC3\xA9" + std::string(19, 'A');  // 20 characters, 21 bytes
  TS_EXPECT_OK(ValidateTrade(t));
  t.symbol = "AB\xFF";
  ExpectInvalid(t, "symbol", "not valid UTF-8");
  t.symbol = "AB\tC";
  ExpectInvalid(t, "symbol", "control character");
}

TEST(TradeTest, QuantityAndPriceMustBePositive) {
  Trade t = ValidTrade();
  t.quantity = Decimal();
  ExpectInvalid(t, "quantity", "0 must be > 0");
  t = ValidTrade();
  t.price = *Decimal::Parse("-1.5");
  ExpectInvalid(t, "price", "-1.5");
  t = ValidTrade();
  t.fee = *Decimal::Parse("-0.01");  // a rebate is fine
  TS_EXPECT_OK(ValidateTrade(t));
}

TEST(TradeTest, ClientOrderIdBounds) {
  Trade t = ValidTrade();
  t.client_order_id = "";
  ExpectInvalid(t, "client_order_id", "must be 1 to 64");
  t.client_order_id = std::string(64, 'k');
  TS_EXPECT_OK(ValidateTrade(t));
  t.client_order_id = std::string(65, 'k');
  ExpectInvalid(t, "client_order_id", "has 65");
}

TEST(TradeTest, Utf8Validation) {
  size_t chars = 0;
  EXPECT_TRUE(
      IsValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", &chars));
  EXPECT_EQ(chars, 9u);
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  // Long ASCII runs are checked eight bytes at a time: what follows them,
  // and characters across an eight-byte boundary, still count.
  EXPECT_TRUE(IsValidUtf8("abcdefghijklmno\xC3\xA9xyz0123456789", &chars));
  EXPECT_EQ(chars, 29u);
  EXPECT_TRUE(
      IsValidUtf8("abcdefg\xE2\x82\xAC"
                  "abcdefgh",
                  &chars));
  EXPECT_EQ(chars, 16u);
  EXPECT_FALSE(IsValidUtf8("abcdefghijklmnop\xC0\xAF"));
  EXPECT_FALSE(IsValidUtf8("abcdefghijklmnopqrstuvw\x80"));
  EXPECT_FALSE(IsValidUtf8("abcdefg\xE2\x82"));
}

TEST(TradeTest, SideAndStatusParseExactly) {
  EXPECT_EQ(*ParseSide("SELL"), Side::kSell);
  auto lower = ParseSide("buy");
  TS_EXPECT_CODE(lower, absl::StatusCode::kInvalidArgument);
  EXPECT_NE(lower.status().message().find("side: \"buy\""), std::string::npos);
  for (auto s : {TradeStatus::kNew, TradeStatus::kPartiallyFilled,
                 TradeStatus::kFilled, TradeStatus::kCancelled,
                 TradeStatus::kRejected, TradeStatus::kExpired}) {
    EXPECT_EQ(*ParseStatus(StatusName(s)), s);
  }
  auto unknown = ParseStatus("DONE");
  TS_EXPECT_CODE(unknown, absl::StatusCode::kInvalidArgument);
}

TEST(TradeTest, StatusTransitions) {
  using S = TradeStatus;
  TS_EXPECT_OK(CheckTransition(S::kNew, S::kPartiallyFilled));
  TS_EXPECT_OK(CheckTransition(S::kNew, S::kFilled));
  TS_EXPECT_OK(CheckTransition(S::kNew, S::kRejected));
  TS_EXPECT_OK(CheckTransition(S::kPartiallyFilled, S::kFilled));
  TS_EXPECT_OK(CheckTransition(S::kPartiallyFilled, S::kCancelled));
  TS_EXPECT_OK(CheckTransition(S::kFilled, S::kFilled));  // idempotent repeat
  for (auto [from, to] : {std::pair{S::kFilled, S::kNew},
                          {S::kCancelled, S::kFilled},
                          {S::kPartiallyFilled, S::kNew},
                          {S::kPartiallyFilled, S::kRejected},
                          {S::kExpired, S::kPartiallyFilled}}) {
    absl::Status s = CheckTransition(from, to);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find(std::string(StatusName(from)) + " -> " +
                               std::string(StatusName(to))),
              std::string::npos);
  }
}

}  // namespace
}  // namespace tradestore
