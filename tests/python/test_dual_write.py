"""Dual-write from Python through a Postgres outage: every acknowledged
trade ends in both stores exactly once, and `tradestore verify` is clean."""

from __future__ import annotations

import json

import tradestore
from conftest import run_cli, sample_trade, set_phase


def test_writes_through_a_postgres_crash_are_all_in_both_stores(
        stack, tmp_path, pg_dsn):
    path = str(tmp_path / "trades.db")
    tradestore.PhasedTradeStore.open(path, pg_dsn).close()
    set_phase(path, pg_dsn, "dual_write")
    acked = {}
    with tradestore.PhasedTradeStore.open(path, pg_dsn,
                                          pg_deadline=5) as store:
        assert store.phase is tradestore.Phase.DUAL_WRITE

        def write(n: int) -> None:
            r = store.insert(sample_trade(n))
            acked[r.trade.client_order_id] = r.trade
            if n % 3 == 0:
                t = store.update_status(r.trade.id, "FILLED")
                acked[t.client_order_id] = t

        for n in range(50):
            write(n)
        stack.stop_postgres()  # -m immediate: a crash
        try:
            # Acknowledged on SQLite with their outbox entries; the relay
            # waits for Postgres.
            for n in range(50, 150):
                write(n)
            assert store.outbox_status().entries > 0
        finally:
            stack.start_postgres()
        for n in range(150, 200):
            write(n)
        store.drain_outbox(60)
        assert store.outbox_status().entries == 0
        assert store.relay_stats().entries_applied > 0
        assert store.count() == 200
    with tradestore.PgTradeStore.open(pg_dsn) as pg:
        assert pg.count() == 200
        for key, trade in acked.items():
            got = pg.get_by_client_order_id(key)
            assert got.id == trade.id
            assert got.status == trade.status
            assert got.quantity == trade.quantity
    report_path = tmp_path / "verify.json"
    verify = run_cli("verify", "--sqlite", path, "--pg", pg_dsn, "--json",
                     str(report_path), check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = json.loads(report_path.read_text())
    assert report["summary"]["clean"] is True
    assert report["summary"]["rows_postgres"] == 200
