"""The Python half of the consumer test: the tradestore package installed
under the prefix (argv[1]) imports from there and stores a trade exactly."""

import sys
from datetime import datetime, timezone
from decimal import Decimal

import tradestore

assert tradestore.__file__.startswith(sys.argv[1]), tradestore.__file__
with tradestore.SqliteTradeStore.open(sys.argv[2]) as store:
    stored = store.insert(tradestore.Trade(
        symbol="BTC-USD", side="BUY", quantity=Decimal("0.25"),
        price=Decimal("43000.12345678"),
        timestamp=datetime.now(timezone.utc))).trade
    print(f"{store.get(stored.id).quantity}@{store.get(stored.id).price}")
