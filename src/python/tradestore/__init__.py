"""tradestore: the trade store of execution-service, from Python.

    import tradestore
    with tradestore.PhasedTradeStore.open(sqlite_path="trades.db",
                                          pg_dsn="host=... dbname=trades") as store:
        stored = store.insert(tradestore.Trade(
            symbol="AAPL", side="BUY", quantity=Decimal("10"),
            price=Decimal("187.25"), timestamp=datetime.now(timezone.utc),
            client_order_id="order-1")).trade

Money is decimal.Decimal, times are aware UTC datetimes, failures are
tradestore.Error subclasses (see tradestore.errors).
"""

from ._native import __version__
from .errors import (Aborted, AlreadyExists, CommitUnknown, DataLoss,
                     DeadlineExceeded, Error, FailedPrecondition, Internal,
                     InvalidArgument, NotFound, OutOfRange, PermissionDenied,
                     Unavailable)
from .stores import (PgTradeStore, PhasedTradeStore, SqliteTradeStore,
                     TradeStore)
from .values import (InsertResult, OutboxStatus, Phase, RelayStats, Side,
                     Status, Trade)

__all__ = [
    "Aborted", "AlreadyExists", "CommitUnknown", "DataLoss",
    "DeadlineExceeded", "Error", "FailedPrecondition", "InsertResult",
    "Internal", "InvalidArgument", "NotFound", "OutOfRange", "OutboxStatus",
    "PermissionDenied", "Phase", "PgTradeStore", "PhasedTradeStore",
    "RelayStats", "Side", "SqliteTradeStore", "Status", "Trade",
    "TradeStore", "Unavailable", "__version__",
]
