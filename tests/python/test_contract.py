"""The TradeStore contract from Python: SQLite, Postgres, Postgres through
PgBouncer, and the phased store in each phase."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import tradestore
from conftest import sample_trade, set_phase

KINDS = ["sqlite", "postgres", "pgbouncer", "sqlite_only", "dual_write",
         "read_postgres", "postgres_only"]


@pytest.fixture(params=KINDS)
def store(request, tmp_path, stack, database):
    kind = request.param
    path = str(tmp_path / "trades.db")
    if kind == "sqlite":
        s = tradestore.SqliteTradeStore.open(path)
    elif kind == "postgres":
        s = tradestore.PgTradeStore.open(stack.dsn(database))
    elif kind == "pgbouncer":
        s = tradestore.PgTradeStore.open(request.getfixturevalue(
            "bouncer_dsn"))
    else:
        dsn = stack.dsn(database)
        tradestore.PhasedTradeStore.open(path, dsn).close()
        if kind != "sqlite_only":
            set_phase(path, dsn, kind)
        s = tradestore.PhasedTradeStore.open(path, dsn)
        assert s.phase == tradestore.Phase(kind)
    with s:
        yield s


def test_insert_then_get_returns_exactly_the_trade(store):
    trade = sample_trade()
    inserted = store.insert(trade)
    assert inserted.created
    got = store.get(inserted.trade.id)
    assert got == inserted.trade
    assert got.quantity == Decimal("100.5")
    assert got.price == Decimal("187.12345678")
    assert got.fee == Decimal("-0.01")
    assert got.timestamp == trade.timestamp
    assert got.timestamp.tzinfo is not None
    assert got.version == 1
    assert store.get_by_client_order_id("order-1") == got
    assert store.count() == 1


def test_an_insert_result_gives_the_id_and_the_trade_it_built_once(store):
    result = store.insert(sample_trade())
    assert result.id > 0
    trade = result.trade
    assert trade.id == result.id
    assert result.trade is trade
    assert trade == store.get(result.id)
    stored, created = result
    assert stored is trade and created
    assert repr(result) == f"InsertResult(trade={trade!r}, created=True)"
    again = store.insert(sample_trade())
    assert (again.id, again.created) == (result.id, False)
    assert again.trade == trade


def test_a_repeated_client_order_id_returns_the_stored_trade(store):
    first = store.insert(sample_trade())
    again = store.insert(sample_trade(price=Decimal("1")))
    assert not again.created
    assert again.trade == first.trade
    assert store.count() == 1


def test_status_changes_follow_the_state_machine(store):
    t = store.insert(sample_trade()).trade
    partial = store.update_status(t.id, tradestore.Status.PARTIALLY_FILLED)
    assert partial.version == 2
    filled = store.update_status(t.id, "FILLED")
    assert filled.status is tradestore.Status.FILLED
    assert filled.version == 3
    with pytest.raises(tradestore.FailedPrecondition) as e:
        store.update_status(t.id, "NEW")
    assert "FILLED" in str(e.value)
    assert store.get(t.id).version == 3


def test_an_expected_version_guards_the_change(store):
    t = store.insert(sample_trade()).trade
    partial = store.update_status(t.id, "PARTIALLY_FILLED",
                                  expected_version=t.version)
    with pytest.raises(tradestore.Aborted, match="version 2, not 1"):
        store.update_status(t.id, "FILLED", expected_version=t.version)
    assert store.get(t.id).status is tradestore.Status.PARTIALLY_FILLED
    assert store.update_status(t.id, "FILLED",
                               expected_version=partial.version).version == 3


def test_missing_trades_are_not_found(store):
    with pytest.raises(tradestore.NotFound):
        store.get(424242)
    with pytest.raises(tradestore.NotFound):
        store.get_by_client_order_id("nobody")
    with pytest.raises(tradestore.NotFound):
        store.update_status(424242, "FILLED")


def test_query_by_symbol_is_newest_first_within_the_range(store):
    base = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    for i in range(5):
        store.insert(sample_trade(i, timestamp=base + dt.timedelta(hours=i)))
    store.insert(sample_trade(9, symbol="MSFT", timestamp=base))
    got = store.query_by_symbol("AAPL", base + dt.timedelta(hours=1),
                                base + dt.timedelta(hours=4), limit=10)
    assert [t.client_order_id for t in got] == ["order-3", "order-2",
                                                "order-1"]
    assert len(store.query_by_symbol("AAPL", base, base + dt.timedelta(
        days=1), limit=2)) == 2
    with pytest.raises(tradestore.InvalidArgument):
        store.query_by_symbol("AAPL", base, base, limit=0)


def test_scan_by_id_walks_in_id_order(store):
    ids = [store.insert(sample_trade(i)).trade.id for i in range(7)]
    seen = []
    after = 0
    while batch := store.scan_by_id(after, 3):
        seen += [t.id for t in batch]
        after = batch[-1].id
    assert seen == sorted(ids)


def test_bad_input_names_the_field_and_changes_nothing(store):
    with pytest.raises(tradestore.InvalidArgument) as e:
        store.insert(sample_trade(quantity=Decimal("0")))
    assert "quantity" in str(e.value)
    with pytest.raises(tradestore.InvalidArgument) as e:
        store.insert(sample_trade(symbol="A" * 21))
    assert "symbol" in str(e.value)
    with pytest.raises(tradestore.InvalidArgument) as e:
        store.insert(sample_trade(price=Decimal("0.000000001")))
    assert "price" in str(e.value)
    with pytest.raises(tradestore.InvalidArgument) as e:
        store.insert(sample_trade(client_order_id="x" * 65))
    assert "client_order_id" in str(e.value)
    assert store.count() == 0


def test_a_closed_store_refuses_calls(store):
    store.close()
    with pytest.raises(tradestore.FailedPrecondition, match="closed"):
        store.count()
