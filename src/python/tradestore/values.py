"""The values a trade is made of, exact both ways.

Quantities, prices and fees are :class:`decimal.Decimal` (DECIMAL(18,8)):
they cross to the store as their text, never as a float, and a float is
refused. Times are timezone-aware :class:`datetime.datetime` in UTC with
microseconds; a naive datetime is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from decimal import Decimal
from typing import Optional, Union

from .errors import InvalidArgument

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MICROSECOND = _dt.timedelta(microseconds=1)

DecimalLike = Union[Decimal, int, str]


class Side(str, enum.Enum):
    BUY = "BUY"
    SELL = "SELL"


class Status(str, enum.Enum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Phase(str, enum.Enum):
    SQLITE_ONLY = "sqlite_only"
    DUAL_WRITE = "dual_write"
    READ_POSTGRES = "read_postgres"
    POSTGRES_ONLY = "postgres_only"
    ARCHIVED = "archived"


def to_decimal(field: str, value: DecimalLike) -> Decimal:
    """``value`` as a Decimal; a float (inexact) is a TypeError."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(
            f"{field}: {value!r} is a {type(value).__name__}; give a "
            f"decimal.Decimal (or its text) so that no binary rounding "
            f"reaches the store")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)):
        try:
            return Decimal(value)
        except ArithmeticError:
            raise InvalidArgument(f"{field}: {value!r} is not a decimal") from None
    raise TypeError(f"{field}: expected decimal.Decimal, got "
                    f"{type(value).__name__}")


def decimal_text(field: str, value: Decimal) -> str:
    """Plain text of a finite Decimal, as the store parses it."""
    if not value.is_finite():
        raise InvalidArgument(f"{field}: {value} is not a finite decimal")
    return format(value, "f")


def text(field: str, value: Optional[str]) -> Optional[str]:
    """A str the store can keep as UTF-8 (a lone surrogate cannot be)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{field}: expected str, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgument(f"{field}: {value!r} is not valid UTF-8 ({e.reason} "
                         f"at {e.start})") from None
    return value


def to_micros(field: str, value: _dt.datetime) -> int:
    """UTC microseconds since the epoch of an aware datetime (exact)."""
    if not isinstance(value, _dt.datetime):
        raise TypeError(f"{field}: expected datetime.datetime, got "
                        f"{type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(
            f"{field}: {value.isoformat()} is a naive datetime; give one "
            f"with a timezone (datetime.timezone.utc)")
    return (value - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(microseconds=micros)


def to_side(value: Union[Side, str]) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise InvalidArgument(f"side: {value!r} is not BUY or SELL") from None


def to_status(value: Union[Status, str]) -> Status:
    try:
        return Status(value)
    except ValueError:
        names = ", ".join(s.value for s in Status)
        raise InvalidArgument(f"status: {value!r} is not one of {names}") from None


@dataclasses.dataclass(slots=True, init=False)
class Trade:
    """One execution record. ``id`` 0 lets the store assign one; ``version``
    and the times are set by the store."""

    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    timestamp: _dt.datetime
    status: Status
    client_order_id: Optional[str]
    fee: Optional[Decimal]
    id: int
    version: int
    created_at: Optional[_dt.datetime]
    updated_at: Optional[_dt.datetime]

    # The rules, which the native module runs in C instead (TradeInit in
    # native_convert.cc): this runs on every fill.
    def __init__(self, symbol: str, side: Union[Side, str],
                 quantity: DecimalLike, price: DecimalLike,
                 timestamp: _dt.datetime,
                 status: Union[Status, str] = Status.NEW,
                 client_order_id: Optional[str] = None,
                 fee: Optional[DecimalLike] = None, id: int = 0,
                 version: int = 1,
                 created_at: Optional[_dt.datetime] = None,
                 updated_at: Optional[_dt.datetime] = None) -> None:
        self.symbol = symbol
        self.side = side if side.__class__ is Side else to_side(side)
        self.quantity = (quantity if quantity.__class__ is Decimal
                         else to_decimal("quantity", quantity))
        self.price = (price if price.__class__ is Decimal
                      else to_decimal("price", price))
        self.timestamp = timestamp
        self.status = status if status.__class__ is Status else \
            to_status(status)
        self.client_order_id = client_order_id
        self.fee = (fee if fee is None or fee.__class__ is Decimal
                    else to_decimal("fee", fee))
        self.id = id
        self.version = version
        self.created_at = created_at
        self.updated_at = updated_at


class InsertResult:
    """What insert returns: the trade as stored, its id, and whether this
    call created it (False: the same client_order_id or id was already
    there). The store builds it without calling __init__ and builds
    ``trade`` only when it is first read: a fill handler that needs the id
    does not pay for the whole trade."""

    __slots__ = ("id", "created", "_trade", "_stored")

    def __init__(self, trade: Trade, created: bool) -> None:
        self.id = trade.id
        self.created = created
        self._trade = trade

    @property
    def trade(self) -> Trade:
        try:
            return self._trade
        except AttributeError:
            self._trade = _stored_trade(self._stored)
            return self._trade

    def __iter__(self):
        return iter((self.trade, self.created))

    def __repr__(self) -> str:
        return f"InsertResult(trade={self.trade!r}, created={self.created})"


def _stored_trade(stored: object) -> Trade:
    """Builds the trade an insert kept in C++ (replaced by the native
    module when it binds these values)."""
    raise TypeError("tradestore._native is not bound")


@dataclasses.dataclass(frozen=True)
class OutboxStatus:
    """The dual-write outbox: entries waiting for the relay."""

    entries: int
    oldest: Optional[_dt.datetime]
    oldest_seq: int
    last_seq: int


@dataclasses.dataclass(frozen=True)
class RelayStats:
    """What the relay thread of this store has applied to Postgres."""

    entries_applied: int
    rows_written: int
    rows_skipped: int
    rows_quarantined: int
    rounds: int
    failures: int
    # Times Postgres had lost asynchronous commits (a crash or failover
    # before their flush) and the relay applied the entries again.
    replays: int
    last_error: str
