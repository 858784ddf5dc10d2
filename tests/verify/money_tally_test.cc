#include "tradestore/verify/money_tally.h"

#include <string>

#include "gtest/gtest.h"

namespace tradestore::verify {
namespace {

TEST(MoneyTallyTest, KeepsKeysApartThatShareTheirFirstBytes) {
  MoneyTally tally;
  // Equal in their first 8 bytes, or in length, or only in a NUL byte.
  const std::string symbols[] = {
      "ABCDEFGHX", "ABCDEFGHY", "ABCDEFGH", "ABC", std::string("ABC\0", 4), ""};
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

TEST(MoneyTallyTest, ACopyAddsToItselfOnly) {
  MoneyTally original;
  original.Add("ETH-USD", "BUY", 5, 1);
  MoneyTally copy = original;
  copy.Add("ETH-USD", "BUY", 7, 1);
  MoneyTally assigned;
  assigned = original;
  assigned.Add("ETH-USD", "BUY", 11, 1);
  EXPECT_EQ(original.sums().at({"ETH-USD", "BUY"}).quantity, 5);
  EXPECT_EQ(copy.sums().at({"ETH-USD", "BUY"}).quantity, 12);
  EXPECT_EQ(assigned.sums().at({"ETH-USD", "BUY"}).quantity, 16);
}

TEST(MoneyTallyTest, SubtractTakesOutRowsAndDropsEmptiedKeys) {
  MoneyTally all, some;
  all.Add("AAPL", "BUY", 300, 2);
  all.Add("AAPL", "BUY", 100, 3);
  all.Add("MSFT", "SELL", 50, 1);
  some.Add("AAPL", "BUY", 100, 3);
  some.Add("MSFT", "SELL", 50, 1);
  all.Subtract(some);
  ASSERT_EQ(all.sums().size(), 1u);
  const MoneySum& left = all.sums().at({"AAPL", "BUY"});
  EXPECT_EQ(left.count, 1);
  EXPECT_EQ(left.quantity, 300);
  EXPECT_EQ(left.notional, 600);
  all.Add("MSFT", "SELL", 1, 1);  // a key that went comes back
  EXPECT_EQ(all.sums().at({"MSFT", "SELL"}).count, 1);
}

}  // namespace
}  // namespace tradestore::verify
