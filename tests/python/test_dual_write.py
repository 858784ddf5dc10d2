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
            metrics = store.metrics()
            assert 'tradestore_store_phase{phase="dual_write"} 1\n' in metrics
            waiting = store.outbox_status().entries
            assert f"tradestore_store_outbox_entries {waiting}\n" in metrics
        finally:
            stack.start_postgres()
        for n in range(150, 200):
            write(n)
        store.drain_outbox(60)
        assert store.outbox_status().entries == 0
        stats = store.relay_stats()
        assert stats.entries_applied > 0
        metrics = store.metrics()
        assert (f"tradestore_store_relay_failures_total {stats.failures}\n"
                in metrics)
        assert (f"tradestore_store_relay_replays_total {stats.replays}\n"
                in metrics)
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


def test_the_example_service_records_its_fills_while_postgres_is_down(
        stack, tmp_path, pg_dsn):
    import os
    import subprocess
    import sys

    path = str(tmp_path / "trades.db")
    tradestore.PhasedTradeStore.open(path, pg_dsn).close()
    set_phase(path, pg_dsn, "dual_write")
    example = os.path.join(os.path.dirname(__file__), "..", "..", "tools",
                           "examples", "execution_service.py")
    stack.stop_postgres()
    try:
        # The phase comes from the SQLite mirror; fills wait in the outbox.
        r = subprocess.run([sys.executable, example, "--sqlite", path,
                            "--pg", pg_dsn, "--fills", "40"],
                           capture_output=True, text=True, timeout=300)
    finally:
        stack.start_postgres()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "phase dual_write" in r.stdout
    assert "recorded 40 fills; 40 trades; outbox 50" in r.stdout
    with tradestore.PhasedTradeStore.open(path, pg_dsn) as store:
        store.drain_outbox(60)
    with tradestore.PgTradeStore.open(pg_dsn) as pg:
        assert pg.count() == 40


def test_closing_during_an_outage_does_not_wait_for_postgres(
        stack, tmp_path, pg_dsn):
    """The relay retries against the stopped Postgres with an hour's
    deadline; closing ends its retries instead of waiting them out (a
    regression would hang here, ended by faulthandler)."""
    import faulthandler

    path = str(tmp_path / "trades.db")
    tradestore.PhasedTradeStore.open(path, pg_dsn).close()
    set_phase(path, pg_dsn, "dual_write")
    faulthandler.dump_traceback_later(300, exit=True)
    stack.stop_postgres()
    try:
        store = tradestore.PhasedTradeStore.open(path, pg_dsn,
                                                 pg_deadline=3600)
        assert store.phase is tradestore.Phase.DUAL_WRITE
        assert store.insert(sample_trade()).created
        store.close()
    finally:
        faulthandler.cancel_dump_traceback_later()
        stack.start_postgres()
    with tradestore.PhasedTradeStore.open(path, pg_dsn) as store:
        assert store.outbox_status().entries == 1
        store.drain_outbox(60)
    with tradestore.PgTradeStore.open(pg_dsn) as pg:
        assert pg.count() == 1
