"""The trade stores: SQLite, Postgres, and the phased store that
execution-service embeds during the migration.

Every call that reaches a database releases the GIL, so threads write side
by side; a store is safe to share between threads. A store opened before
``os.fork()`` is refused in the child (FailedPrecondition): open a new one
there. Use a store as a context manager, or call ``close()``.
"""

from __future__ import annotations

import datetime as _dt
from typing import List, Optional, Union

from . import _native, values
from .values import (InsertResult, OutboxStatus, Phase, RelayStats, Status,
                     Trade, from_micros, to_status)

# The C++ module builds and reads Trade, Decimal and datetime itself.
_native.bind_values(values)


class TradeStore:
    """The calls every store answers (the C++ TradeStore contract)."""

    def __init__(self, native: "_native.Store") -> None:
        self._native = native
        # A plain C function: the fill's path has no Python frame and no
        # pybind11 dispatch (tools/bench/python_bench.py measures it).
        self._insert = native.insert_function()

    def insert(self, trade: Trade) -> InsertResult:
        """Stores a new trade; returns its ``id``, ``created`` and the
        ``trade`` as stored. A repeat with the same client_order_id returns
        the stored trade with created False."""
        return self._insert(trade)

    def update_status(self, trade_id: int, status: Union[Status, str], *,
                      expected_version: Optional[int] = None) -> Trade:
        """Moves a trade to ``status`` (bumping its version). With
        ``expected_version``, only while the trade is at that version:
        ``Aborted`` otherwise (another writer changed it; read it again)."""
        return self._native.update_status(trade_id, to_status(status).value,
                                          expected_version)

    def get(self, trade_id: int) -> Trade:
        """The trade with this id; NotFound when absent."""
        return self._native.get(trade_id)

    def get_by_client_order_id(self, key: str) -> Trade:
        return self._native.get_by_client_order_id(key)

    def query_by_symbol(self, symbol: str, start: _dt.datetime,
                        end: _dt.datetime, limit: int = 100) -> List[Trade]:
        """Trades of ``symbol`` with start <= timestamp < end, newest first,
        at most ``limit`` (1..10000)."""
        return self._native.query_by_symbol(symbol, start, end, limit)

    def count(self) -> int:
        return self._native.count()

    def scan_by_id(self, after_id: int, limit: int) -> List[Trade]:
        """Up to ``limit`` trades with id > after_id, in id order."""
        return self._native.scan_by_id(after_id, limit)

    def close(self) -> None:
        """Closes the store (waits for calls in flight); later calls fail."""
        self._native.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SqliteTradeStore(TradeStore):
    @classmethod
    def open(cls, path: str, *, create_if_missing: bool = True,
             sync_full: bool = True,
             busy_timeout: float = 5.0) -> "SqliteTradeStore":
        """Opens (or creates) a SQLite store. ``sync_full``: an acknowledged
        trade survives power loss, not only a crash."""
        return cls(_native.open_sqlite(str(path), create_if_missing,
                                       sync_full, int(busy_timeout * 1000)))


class PgTradeStore(TradeStore):
    @classmethod
    def open(cls, dsn: str, *, deadline: float = 30.0, pool_size: int = 4,
             replica_dsn: str = "",
             max_replica_lag_bytes: int = 1 << 20) -> "PgTradeStore":
        """Opens a Postgres store (migrating the schema). Calls retry a lost
        connection with backoff for up to ``deadline`` seconds."""
        return cls(_native.open_pg(dsn, deadline, pool_size, replica_dsn,
                                   max_replica_lag_bytes))


class PhasedTradeStore(TradeStore):
    """The store of the migration: reads and writes follow the phase kept
    in Postgres (sqlite_only, dual_write, read_postgres, postgres_only,
    archived). In the SQLite phases a write is acknowledged once SQLite
    holds it with its outbox entry; the relay thread applies it to
    Postgres, so a Postgres outage never fails such a write."""

    @classmethod
    def open(cls, sqlite_path: str, pg_dsn: str, *,
             synchronous: bool = False, sync_timeout: float = 1.0,
             phase_poll: float = 2.0, run_relay: bool = True,
             sqlite_sync_full: bool = True, pg_deadline: float = 30.0,
             pool_size: int = 4, replica_dsn: str = "",
             max_replica_lag_bytes: int = 1 << 20) -> "PhasedTradeStore":
        return cls(_native.open_phased(
            str(sqlite_path), pg_dsn, synchronous, sync_timeout, phase_poll,
            run_relay, sqlite_sync_full, pg_deadline, pool_size, replica_dsn,
            max_replica_lag_bytes))

    @property
    def phase(self) -> Phase:
        return Phase(self._native.phase())

    def check_phase(self) -> None:
        """Reads the phase now and switches if it changed."""
        self._native.check_phase()

    def drain_outbox(self, timeout: float = 10.0) -> None:
        """Applies the whole outbox to Postgres, within ``timeout`` s."""
        self._native.drain_outbox(timeout)

    def outbox_status(self) -> OutboxStatus:
        entries, oldest, oldest_seq, last_seq = self._native.outbox_status()
        return OutboxStatus(entries,
                            None if oldest is None else from_micros(oldest),
                            oldest_seq, last_seq)

    def relay_stats(self) -> RelayStats:
        return RelayStats(*self._native.relay_stats())

    def metrics(self) -> str:
        """The store's figures as Prometheus text (phase, outbox depth and
        age, relay counts, sync fallbacks, Postgres reconnects and retries),
        for the service's own /metrics."""
        return self._native.metrics()

    def sync_fallbacks(self) -> int:
        """Synchronous writes acknowledged on SQLite alone."""
        return self._native.sync_fallbacks()
