// Trades for tests: valid by default, exact values that catch rounding.
#ifndef TRADESTORE_TESTS_TESTING_TRADES_H_
#define TRADESTORE_TESTS_TESTING_TRADES_H_

#include <string>

#include "tradestore/trade.h"

namespace tradestore::testing {

inline Trade MakeTrade(const std::string& symbol, const char* quantity,
                       const char* price, const char* when) {
  Trade t;
  t.symbol = symbol;
  t.side = Side::kBuy;
  t.quantity = *Decimal::Parse(quantity);
  t.price = *Decimal::Parse(price);
  t.timestamp = *Timestamp::Parse(when);
  return t;
}

// Eight decimals and a leap-day microsecond: anything lossy shows.
inline Trade SampleTrade() {
  return MakeTrade("BTC-USD", "0.12345678", "43000.5",
                   "2024-02-29T23:59:59.999999Z");
}

// SampleTrade with a client_order_id, to find it again by key.
inline Trade KeyedTrade(const std::string& key) {
  Trade t = SampleTrade();
  t.client_order_id = key;
  return t;
}

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_TRADES_H_
