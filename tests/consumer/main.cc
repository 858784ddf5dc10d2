// Opens the phased store the way execution-service does, through the
// installed package, writes and reads one trade, and prints it: proof that
// the public headers and the exported target are enough. No Postgres is
// running here, which is also the case of a service started during an
// outage: the store starts in the phase the SQLite file knows.
#include <iostream>

#include "tradestore/migration/phased_trade_store.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  tradestore::PhasedStoreOptions options;
  options.sqlite_path = argv[1];
  options.pg.dsn = "host=127.0.0.1 port=9 dbname=trades connect_timeout=1";
  options.phase_read_timeout = std::chrono::milliseconds(200);
  auto store = tradestore::PhasedTradeStore::Open(options);
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
