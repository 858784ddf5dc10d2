"""Threads share a store and run side by side (the GIL is released while a
call waits on the database); a store is refused in a child of fork()."""

from __future__ import annotations

import faulthandler
import os
import threading

import pytest

import tradestore
from conftest import sample_trade, set_phase


def test_eight_threads_insert_without_duplicate_or_loss(tmp_path, pg_dsn):
    tradestore.PhasedTradeStore.open(str(tmp_path / "t.db"), pg_dsn).close()
    set_phase(str(tmp_path / "t.db"), pg_dsn, "dual_write")
    with tradestore.PhasedTradeStore.open(str(tmp_path / "t.db"),
                                          pg_dsn) as store:
        acked = [[] for _ in range(8)]
        failures = []

        def writer(w: int) -> None:
            try:
                for i in range(100):
                    key = f"w{w}-{i}"
                    acked[w].append(
                        store.insert(sample_trade(client_order_id=key)))
                    # A repeat of the same key is the same trade.
                    again = store.insert(sample_trade(client_order_id=key))
                    assert not again.created
                    assert again.trade.id == acked[w][-1].trade.id
            except Exception as e:  # reported by the main thread
                failures.append(e)

        threads = [threading.Thread(target=writer, args=(w,))
                   for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        ids = [r.trade.id for rs in acked for r in rs]
        assert len(ids) == 800 and len(set(ids)) == 800
        assert store.count() == 800
        store.drain_outbox(30)
    with tradestore.PgTradeStore.open(pg_dsn) as pg:
        assert pg.count() == 800
        assert {pg.get(i).client_order_id for i in ids} == {
            r.trade.client_order_id for rs in acked for r in rs}


def test_a_call_waiting_on_postgres_lets_other_threads_run(stack, pg_dsn,
                                                           database):
    """An insert blocked on a table lock held elsewhere must not hold the
    GIL: this thread runs Python meanwhile (it could not otherwise even see
    the insert waiting), then lets it finish."""
    import psycopg2

    # Should the GIL be held, nothing below could run: fail in bounded
    # time instead of hanging.
    faulthandler.dump_traceback_later(120, exit=True)
    try:
        with tradestore.PgTradeStore.open(pg_dsn) as store:
            locker = psycopg2.connect(stack.dsn(database))
            cur = locker.cursor()
            cur.execute("LOCK TABLE trades IN ACCESS EXCLUSIVE MODE")
            result = []
            t = threading.Thread(
                target=lambda: result.append(store.insert(sample_trade())))
            t.start()
            waiting = []
            while not waiting:
                waiting = stack.admin_sql(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock'", (database,))
            assert t.is_alive() and result == []
            locker.rollback()  # releases the lock
            locker.close()
            t.join()
            assert result[0].created
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "phased"])
def test_a_store_opened_before_fork_is_refused_in_the_child(
        kind, tmp_path, pg_dsn):
    path = str(tmp_path / "t.db")
    if kind == "sqlite":
        store = tradestore.SqliteTradeStore.open(path)
    elif kind == "postgres":
        store = tradestore.PgTradeStore.open(pg_dsn)
    else:
        store = tradestore.PhasedTradeStore.open(path, pg_dsn)
    store.insert(sample_trade())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, drop the store, exit
        os.close(read)
        try:
            store.count()
            message = "no error"
        except tradestore.FailedPrecondition as e:
            message = str(e)
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            message = f"{type(e).__name__}: {e}"
        os.write(write, message.encode())
        del store  # must not close the parent's connections
        os._exit(0)
    os.close(write)
    message = b""
    while chunk := os.read(read, 4096):
        message += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert "after fork()" in message.decode(), message
    # The parent's store still works, its connections untouched.
    assert store.insert(sample_trade(2)).created
    assert store.count() == 2
    store.close()
