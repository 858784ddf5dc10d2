"""A Postgres connection pool for every Python service, over psycopg2.

The platform plan's ``postgres_helper.py`` retried a checkout three times
with ``2 ** attempt`` sleeps, no jitter, no cap and no deadline, and would
retry anything. This is its correct version, with the rules of the C++
store's pool:

- Reconnects wait with exponential backoff and equal jitter (50 ms doubling,
  capped at 0.5 s) up to an overall deadline per call (30 s), then raise
  ``Unavailable``.
- A connection idle longer than ``health_check_after_idle`` is checked with
  a round trip before it is lent out.
- ``run(body)`` retries only where that is safe: the connection was lost
  before COMMIT was sent, a serialization failure (40001), a deadlock
  (40P01), a server that has just become read-only (25006, a demoted
  leader). A connection lost during COMMIT raises ``CommitUnknown``: the
  write may have happened (``idempotent=True`` repeats instead). So does a
  commit whose wait for the synchronous standby was cancelled.
- A wrong password, a missing database or a bad DSN fail at once.
- No session state is kept (PgBouncer's transaction mode is safe), and no
  message carries a password.

    pool = tradestore.pg.Pool("host=pgbouncer port=6432 dbname=trades")
    rows = pool.run(lambda cur: (cur.execute("SELECT 1"), cur.fetchall())[1])
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from typing import Callable, Iterator, List, Optional, TypeVar

import psycopg2
import psycopg2.extensions

from .errors import (Aborted, AlreadyExists, CommitUnknown, Error,
                     FailedPrecondition, InvalidArgument, PermissionDenied,
                     Unavailable)

T = TypeVar("T")

# libpq has no SQLSTATE before a connection exists; its text tells. These
# fail the same way every time, so they are not retried.
_PERMANENT = [
    ("password authentication failed", PermissionDenied,
     "check the user and password (PGPASSFILE or ~/.pgpass)"),
    ("authentication failed", PermissionDenied,
     "check the user and how pg_hba.conf authenticates it"),
    ("no pg_hba.conf entry", PermissionDenied,
     "pg_hba.conf has no entry for this host, user and database"),
    ("no password supplied", PermissionDenied,
     "give a password (PGPASSFILE or ~/.pgpass)"),
    ("does not exist", FailedPrecondition,
     "create the role or database, or fix the DSN"),
    ("Name or service not known", FailedPrecondition,
     "the host name is unknown"),
    ("invalid sslmode value", InvalidArgument, "fix the DSN"),
    ("invalid integer value", InvalidArgument, "fix the DSN"),
    ("invalid port number", InvalidArgument, "fix the DSN"),
    ("invalid target_session_attrs value", InvalidArgument, "fix the DSN"),
    ("server does not support SSL", FailedPrecondition,
     "the server has TLS off: lower sslmode or turn ssl on"),
    ("certificate", FailedPrecondition,
     "check sslrootcert and the server's certificate"),
]
_RETRY_STATES = {"40001", "40P01"}
_UNREPLICATED = "canceling wait for synchronous replication"


def mask_dsn(dsn: str) -> str:
    """The DSN with any password replaced, parsed as libpq parses it."""
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        return "<a DSN libpq cannot parse>"
    if "password" in params:
        params["password"] = "***"
    return " ".join(f"{k}={v}" for k, v in params.items())


def _lost(e: BaseException, conn) -> bool:
    code = getattr(e, "pgcode", None) or ""
    return (isinstance(e, (psycopg2.OperationalError,
                           psycopg2.InterfaceError)) and conn.closed != 0) \
        or code.startswith("08") or code.startswith("57P0")


def _mapped(e: psycopg2.Error, text: str) -> Error:
    code = e.pgcode or ""
    if code == "23505":
        return AlreadyExists(text)
    if code[:2] in ("22", "23"):
        return InvalidArgument(text)
    if code == "42501":
        return PermissionDenied(text)
    if code in _RETRY_STATES:
        return Aborted(text)
    return Error(text, 13)


class Pool:
    """A thread-safe pool of at most ``max_size`` connections."""

    def __init__(self, dsn: str, *, max_size: int = 4,
                 connect_timeout: int = 5, deadline: float = 30.0,
                 initial_delay: float = 0.05, max_delay: float = 0.5,
                 health_check_after_idle: float = 1.0,
                 application_name: str = "tradestore-py") -> None:
        self._dsn = dsn
        self.masked_dsn = mask_dsn(dsn)
        self._params = dict(connect_timeout=connect_timeout,
                            application_name=application_name)
        self.max_size = max_size
        self.deadline = deadline
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.health_check_after_idle = health_check_after_idle
        self._idle: List[tuple] = []  # (connection, idle since)
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()
        self.retries = 0  # attempts made again, for metrics and tests

    # -- connections ---------------------------------------------------

    def _connect(self):
        try:
            conn = psycopg2.connect(self._dsn, **self._params)
        except psycopg2.OperationalError as e:
            text = f"cannot connect to postgres {self.masked_dsn}: {e}"
            for needle, cls, hint in _PERMANENT:
                if needle in str(e):
                    raise cls(f"{text.strip()} (not retried: {hint})") \
                        from None
            raise Unavailable(text.strip()) from None
        except psycopg2.ProgrammingError as e:  # a DSN libpq cannot parse
            raise InvalidArgument(f"bad DSN {self.masked_dsn}: {e}") from None
        conn.autocommit = False
        return conn

    def _checkout(self, until: float):
        with self._cond:
            while True:
                if self._closed:
                    raise FailedPrecondition("the pool is closed")
                if self._idle:
                    conn, since = self._idle.pop()
                    break
                if self._open < self.max_size:
                    self._open += 1
                    conn = None
                    break
                if not self._cond.wait(max(0.0, until - time.monotonic())):
                    raise Unavailable(
                        f"no connection to {self.masked_dsn} came free "
                        f"within the deadline ({self.max_size} in use)")
        if conn is None:
            try:
                return self._connect()
            except BaseException:
                self._discard(None)
                raise
        if (conn.closed == 0 and time.monotonic() - since
                > self.health_check_after_idle):
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                conn.rollback()
            except psycopg2.Error:
                conn.close()
        if conn.closed != 0:
            self._discard(conn)
            return self._checkout(until)
        return conn

    def _return(self, conn) -> None:
        if conn.closed != 0 or self._closed:
            self._discard(conn)
            return
        with self._cond:
            self._idle.append((conn, time.monotonic()))
            self._cond.notify()

    def _discard(self, conn) -> None:
        if conn is not None and conn.closed == 0:
            conn.close()
        with self._cond:
            self._open -= 1
            self._cond.notify()

    @contextlib.contextmanager
    def connection(self) -> Iterator["psycopg2.extensions.connection"]:
        """A connection, health-checked, returned afterwards (rolled back
        if the block left a transaction open). Nothing is retried."""
        conn = self._checkout(time.monotonic() + self.deadline)
        try:
            yield conn
        finally:
            if conn.closed == 0:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    conn.close()
            self._return(conn)

    # -- transactions --------------------------------------------------

    def _wait(self, attempt: int, until: float) -> bool:
        delay = min(self.max_delay, self.initial_delay * 2 ** attempt)
        delay = delay / 2 + random.uniform(0, delay / 2)  # equal jitter
        if time.monotonic() + delay > until:
            return False
        time.sleep(delay)
        self.retries += 1
        return True

    def run(self, body: Callable[["psycopg2.extensions.cursor"], T], *,
            idempotent: bool = False) -> T:
        """Runs ``body(cursor)`` in one transaction and commits; retries
        where safe (see the module's doc). ``idempotent``: repeating the
        body is harmless, so an unknown commit is settled by repeating."""
        until = time.monotonic() + self.deadline
        attempt = 0
        while True:
            try:
                return self._attempt(body, until, idempotent)
            except (Unavailable, Aborted) as e:
                if not self._wait(attempt, until):
                    raise type(e)(f"{e} (retried until the deadline)") \
                        from None
                attempt += 1

    def _attempt(self, body, until: float, idempotent: bool):
        conn = self._checkout(until)
        committing = False
        try:
            del conn.notices[:]
            with conn.cursor() as cur:
                result = body(cur)
            committing = True
            conn.commit()
            if any(_UNREPLICATED in n for n in conn.notices):
                conn.close()  # not trusted again
                raise CommitUnknown(
                    "commit outcome unknown: committed on the primary, but "
                    "its wait for the synchronous standby was cancelled, "
                    "so a failover may lose it")
            return result
        except psycopg2.Error as e:
            text = f"postgres {self.masked_dsn}: {str(e).strip()}"
            lost = _lost(e, conn)
            if lost or e.pgcode == "25006":
                conn.close()
            elif conn.closed == 0:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    conn.close()
            if lost and committing and not idempotent:
                raise CommitUnknown(
                    f"commit outcome unknown: {text} (look the write up "
                    f"before repeating it)") from None
            if lost or e.pgcode == "25006":
                raise Unavailable(text) from None
            raise _mapped(e, text) from None
        except BaseException:
            # The body's own error: nothing is committed, nothing retried.
            if conn.closed == 0:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    conn.close()
            raise
        finally:
            self._return(conn)

    def close(self) -> None:
        """Closes the idle connections; those lent out close on return."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn, _ in idle:
            conn.close()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# The plan's name for it (infra/postgres/postgres_helper.py).
PostgresConnectionPool = Pool
