// Opens a SQLite store through the installed package, writes and reads one
// trade, and prints it: proof that the public headers and the exported
// target are enough.
#include <iostream>

#include "tradestore/sqlite/sqlite_trade_store.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto store = tradestore::SqliteTradeStore::Open({.path = argv[1]});
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  tradestore::Trade t;
  t.symbol = "BTC-USD";
  t.quantity = *tradestore::Decimal::Parse("0.25");
  t.price = *tradestore::Decimal::Parse("43000.12345678");
  t.timestamp = *tradestore::Timestamp::Parse("2024-01-01T00:00:00Z");
  auto inserted = (*store)->Insert(t);
  if (!inserted.ok()) {
    std::cerr << inserted.status() << "\n";
    return 1;
  }
  auto got = (*store)->Get(inserted->trade.id);
  if (!got.ok()) return 1;
  std::cout << got->quantity.ToString() << "@" << got->price.ToString() << "\n";
  return 0;
}
