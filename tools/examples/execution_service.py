#!/usr/bin/env python3
"""A minimal execution-service loop on tradestore: orders come in, fills
are recorded, each order's status follows its fills.

Every write goes through the PhasedTradeStore, so the loop never stops for
a Postgres outage: in the SQLite phases a fill is acknowledged once SQLite
holds it with its outbox entry, and the relay applies it to Postgres when
Postgres is back. Errors the store says are safe to retry are retried;
an unknown commit is settled by the idempotency key (client_order_id).

    PYTHONPATH=build/python tools/examples/execution_service.py \\
        --sqlite /tmp/trades.db --pg "host=... dbname=trades" --fills 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal

import tradestore


def record_fill(store: tradestore.TradeStore,
                trade: tradestore.Trade) -> tradestore.Trade:
    """Inserts a fill exactly once, whatever the store went through."""
    for attempt in range(50):
        try:
            return store.insert(trade).trade
        except tradestore.CommitUnknown:
            # Maybe written: the key settles it (a repeat returns the
            # stored trade, never a second row).
            continue
        except tradestore.Error as e:
            if not e.retryable:
                raise
            time.sleep(min(0.5, 0.05 * 2 ** attempt))
    raise RuntimeError(f"fill {trade.client_order_id} not recorded")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", required=True)
    parser.add_argument("--pg", required=True, help="Postgres DSN")
    parser.add_argument("--fills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tradestore.PhasedTradeStore.open(args.sqlite, args.pg) as store:
        print(f"phase {store.phase.value}", flush=True)
        for n in range(args.fills):
            fill = tradestore.Trade(
                symbol=rng.choice(["BTC-USD", "ETH-USD", "AAPL"]),
                side=rng.choice(list(tradestore.Side)),
                quantity=Decimal(rng.randrange(1, 10**6)).scaleb(-4),
                price=Decimal(rng.randrange(1, 10**9)).scaleb(-2),
                timestamp=dt.datetime.now(dt.timezone.utc),
                client_order_id=f"order-{args.seed}-{n}")
            stored = record_fill(store, fill)
            if n % 4 == 0:
                store.update_status(stored.id, tradestore.Status.FILLED)
        outbox = store.outbox_status()
        print(f"recorded {args.fills} fills; {store.count()} trades; "
              f"outbox {outbox.entries}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
