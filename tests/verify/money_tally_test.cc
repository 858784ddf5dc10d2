#include "tradestore/verify/money_tally.h"

#include <string>

#include "gtest/gtest.h"

namespace tradestore::verify {
namespace {

TEST(MoneyTallyTest, KeepsKeysApartThatShareTheirFirstBytes) {
  MoneyTally tally;
  // Equal in their first 8 bytes, or in length, or only in a NUL byte.
  const std::string symbols[] = {"ABCDEFGHX", "ABCDEFGHY", "ABCDEFGH",
                                 "ABC", std::string("ABC\0", 4), ""};
  for (int round = 0; round < 2; ++round) {
    for (const std::string& s : symbols) {
      tally.Add(s, "BUY", 100'000'000, 2 * 100'000'000);
    }
  }
  tally.Add("ABC", "SELL", 300'000'000, 100'000'000);
  ASSERT_EQ(tally.sums().size(), 7u);
  for (const std::string& s : symbols) {
    const MoneySum& sum = tally.sums().at({s, "BUY"});
    EXPECT_EQ(sum.count, 2) << s;
    EXPECT_EQ(sum.quantity, 200'000'000) << s;
    EXPECT_EQ(ScaledToString(sum.notional, 16), "4.0000000000000000") << s;
  }
  EXPECT_EQ(tally.sums().at({"ABC", "SELL"}).quantity, 300'000'000);
}

TEST(MoneyTallyTest, CountsBeyondTheRecentKeys) {
  MoneyTally tally;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) {
      tally.Add("SYMBOL_NUMBER_" + std::to_string(i), "SELL", i, 1);
    }
  }
  ASSERT_EQ(tally.sums().size(), 100u);
  EXPECT_EQ(tally.sums().at({"SYMBOL_NUMBER_99", "SELL"}).count, 3);
  EXPECT_EQ(tally.sums().at({"SYMBOL_NUMBER_99", "SELL"}).quantity, 297);
}

}  // namespace
}  // namespace tradestore::verify
