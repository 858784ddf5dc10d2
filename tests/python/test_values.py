"""Values exact both ways: decimals as text (never a float), aware UTC
datetimes with microseconds, strings the store can keep."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import random
from decimal import Decimal

import pytest

import tradestore
from conftest import sample_trade

UTC = dt.timezone.utc


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path, pg_dsn):
    if request.param == "sqlite":
        s = tradestore.SqliteTradeStore.open(str(tmp_path / "t.db"))
    else:
        s = tradestore.PgTradeStore.open(pg_dsn)
    with s:
        yield s


def random_decimal(rng: random.Random) -> Decimal:
    units = rng.choice([1, rng.randrange(1, 100),
                        rng.randrange(1, 10**18)])
    return Decimal(units).scaleb(-8)


def test_random_and_extreme_decimals_round_trip_unchanged(store):
    rng = random.Random(20261203)
    values = [Decimal("0.00000001"), Decimal("9999999999.99999999"),
              Decimal("1E+9"), Decimal("123.4500000000")]
    values += [random_decimal(rng) for _ in range(200)]
    for i, v in enumerate(values):
        fee = -v if v < Decimal("1E+9") else None
        stored = store.insert(sample_trade(i, quantity=v, price=v,
                                           fee=fee)).trade
        got = store.get(stored.id)
        assert got.quantity == v and got.price == v, v
        assert got.fee == fee
        # As the column keeps it: eight places.
        assert got.quantity.as_tuple().exponent == -8


def test_out_of_range_and_inexact_decimals_are_refused(store):
    with pytest.raises(tradestore.OutOfRange, match="quantity"):
        store.insert(sample_trade(quantity=Decimal("10000000000")))
    with pytest.raises(tradestore.InvalidArgument, match="price"):
        store.insert(sample_trade(price=Decimal("1.000000001")))
    with pytest.raises(tradestore.InvalidArgument, match="quantity"):
        store.insert(sample_trade(quantity=Decimal("NaN")))
    with pytest.raises(tradestore.InvalidArgument, match="fee"):
        store.insert(sample_trade(fee=Decimal("-Infinity")))
    # Exponent forms are the same numbers.
    stored = store.insert(sample_trade(quantity=Decimal("1.2E-7"),
                                       price=Decimal("4.3E+4"))).trade
    assert stored.quantity == Decimal("0.00000012")
    assert stored.price == Decimal("43000")
    store.insert(sample_trade(client_order_id="gone"))
    assert store.count() == 2


def test_floats_are_refused_with_a_type_error():
    for field in ("quantity", "price", "fee"):
        with pytest.raises(TypeError, match=field):
            sample_trade(**{field: 1.5})
    with pytest.raises(TypeError):
        sample_trade(quantity=True)
    for field in ("quantity", "price"):
        with pytest.raises(TypeError, match=field):
            sample_trade(**{field: None})
    assert sample_trade(fee=None).fee is None
    # Text and integers are exact, and accepted.
    assert sample_trade(quantity="2.5", price=3).price == Decimal(3)


def test_times_are_aware_utc_with_microseconds(store):
    tokyo = dt.timezone(dt.timedelta(hours=9))
    local = dt.datetime(2026, 6, 1, 9, 0, 0, 1, tzinfo=tokyo)
    stored = store.insert(sample_trade(timestamp=local)).trade
    got = store.get(stored.id)
    assert got.timestamp == local
    assert got.timestamp.utcoffset() == dt.timedelta(0)
    assert got.timestamp.hour == 0 and got.timestamp.microsecond == 1
    assert got.created_at.tzinfo is not None
    with pytest.raises(tradestore.InvalidArgument, match="naive"):
        store.insert(sample_trade(timestamp=dt.datetime(2026, 1, 1)))
    with pytest.raises(TypeError, match="timestamp"):
        store.insert(sample_trade(timestamp="2026-01-01"))


def test_strings_the_store_cannot_keep_name_their_field(store):
    with pytest.raises(tradestore.InvalidArgument, match="symbol"):
        store.insert(sample_trade(symbol="AB\ud800"))
    with pytest.raises(tradestore.InvalidArgument, match="client_order_id"):
        store.insert(sample_trade(client_order_id="\udfff"))
    with pytest.raises(tradestore.InvalidArgument, match="symbol"):
        store.insert(sample_trade(symbol="A\x00B"))
    with pytest.raises(tradestore.InvalidArgument, match="client_order_id"):
        store.insert(sample_trade(client_order_id="é" * 65))
    # Twenty characters of any script fit.
    ok = store.insert(sample_trade(symbol="株" * 20)).trade
    assert store.get(ok.id).symbol == "株" * 20
    assert store.count() == 1


def test_values_changed_after_construction_are_checked_at_insert(store):
    t = sample_trade()
    t.quantity = 1.5
    with pytest.raises(TypeError, match="quantity"):
        store.insert(t)
    t = sample_trade()
    t.timestamp = dt.datetime(2026, 1, 1)
    with pytest.raises(tradestore.InvalidArgument, match="naive"):
        store.insert(t)
    t = sample_trade()
    t.side = "sell"
    with pytest.raises(tradestore.InvalidArgument, match="side"):
        store.insert(t)
    t = sample_trade()
    t.symbol = None
    with pytest.raises(TypeError, match="symbol"):
        store.insert(t)
    with pytest.raises(TypeError, match="Trade"):
        store.insert({"symbol": "AAPL"})
    assert store.count() == 0
    # Text and integers set later are exact too.
    t = sample_trade()
    t.price = "12.5"
    assert store.insert(t).trade.price == Decimal("12.5")


def test_a_trade_takes_its_fields_by_position_or_by_name():
    ts = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    by_name = tradestore.Trade(
        symbol="A", side="BUY", quantity="1", price=2, timestamp=ts,
        status="FILLED", client_order_id="k", fee="0.1", id=7, version=3,
        created_at=ts, updated_at=ts)
    by_position = tradestore.Trade("A", "BUY", "1", 2, ts, "FILLED", "k",
                                   "0.1", 7, 3, ts, ts)
    assert by_name == by_position
    assert by_name.fee == Decimal("0.1") and by_name.price == Decimal(2)
    plain = tradestore.Trade("A", tradestore.Side.SELL, Decimal(1),
                             Decimal(2), ts)
    assert (plain.status, plain.client_order_id, plain.fee, plain.id,
            plain.version, plain.created_at, plain.updated_at) == (
        tradestore.Status.NEW, None, None, 0, 1, None, None)

    class Fill(tradestore.Trade):
        __slots__ = ()

    assert Fill("A", "SELL", 1, 2, ts).side is tradestore.Side.SELL

    class Tagged(tradestore.Trade):
        __slots__ = ("tag",)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.tag = "mine"

    tagged = Tagged("A", "BUY", 1, 2, ts)
    assert type(tagged) is Tagged and tagged.tag == "mine"
    assert copy.copy(plain) == plain
    assert pickle.loads(pickle.dumps(plain)) == plain
    for args, kwargs, message in [
            (("A",), {}, "missing required argument 'side'"),
            (("A", "BUY", 1, 2, ts), {"colour": 1}, "unexpected.*'colour'"),
            (("A", "BUY", 1, 2, ts), {"symbol": "B"}, "multiple.*'symbol'"),
            (tuple(range(13)), {}, "at most 12 positional")]:
        with pytest.raises(TypeError, match=message):
            tradestore.Trade(*args, **kwargs)


def test_sides_and_statuses_take_enums_or_their_names():
    t = sample_trade(side="SELL", status="PARTIALLY_FILLED")
    assert t.side is tradestore.Side.SELL
    assert t.status is tradestore.Status.PARTIALLY_FILLED
    with pytest.raises(tradestore.InvalidArgument, match="side"):
        sample_trade(side="sell")
    with pytest.raises(tradestore.InvalidArgument, match="status"):
        sample_trade(status="DONE")


def test_errors_keep_the_status_contract():
    assert issubclass(tradestore.InvalidArgument, ValueError)
    assert issubclass(tradestore.NotFound, tradestore.Error)
    assert tradestore.Unavailable.retryable and tradestore.Aborted.retryable
    assert not tradestore.CommitUnknown.retryable
    assert tradestore.CommitUnknown("x").code == 2
