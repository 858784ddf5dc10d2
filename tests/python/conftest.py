"""The harness of the Python tests: one local stack (Postgres 15 and
PgBouncer, started by `tradestore stack up` as the postgres user when root),
a fresh database per test, and helpers that drive the CLI.

ctest sets TRADESTORE_CLI (the binary) and PYTHONPATH (the build tree's
package)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from decimal import Decimal

import psycopg2
import pytest

import tradestore

CLI = os.environ.get("TRADESTORE_CLI", "tradestore")
_serial = itertools.count(1)


def run_cli(*args: str, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run([CLI, *args], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"tradestore {' '.join(args)} exited "
                             f"{r.returncode}: {r.stdout}{r.stderr}")
    return r


class Stack:
    def __init__(self, status: dict) -> None:
        self.status = status
        self.data_dir = status["data_dir"]

    def dsn(self, dbname: str, through_pgbouncer: bool = False) -> str:
        base = self.status["pgbouncer_dsn" if through_pgbouncer else
                           "primary_dsn"]
        return re.sub(r"dbname=\S+", f"dbname={dbname}", base)

    def admin_sql(self, sql: str, params=None) -> list:
        """Runs one statement as the superuser (autocommit); its rows."""
        conn = psycopg2.connect(self.status["admin_dsn"])
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def pg_ctl(self, *args: str) -> None:
        tool = os.path.join(_bin_dir(), "pg_ctl")
        cmd = [tool, "-D", self.data_dir, *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def stop_postgres(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")

    def start_postgres(self) -> None:
        self.pg_ctl("-l", os.path.join(os.path.dirname(self.data_dir),
                                       "postgres.log"), "-w", "start")


    def restart_pgbouncer(self) -> None:
        """Stops PgBouncer (SIGTERM, clients cut off) and starts it again
        as `stack up` does."""
        bouncer = os.path.join(self.status["dir"], "bouncer")
        pid = self.status["pgbouncer"]["pid"]
        os.kill(pid, signal.SIGTERM)
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(0.05)
        cmd = ["sh", "-c", 'ulimit -n $(ulimit -Hn) && exec pgbouncer -d "$0"',
               os.path.join(bouncer, "pgbouncer.ini")]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        # -d returns once daemonised: wait for the pid file and a login.
        pid_file = os.path.join(bouncer, "pgbouncer.pid")
        for _ in range(1200):
            try:
                with open(pid_file) as f:
                    self.status["pgbouncer"]["pid"] = int(f.read().strip())
                psycopg2.connect(self.dsn("trades", True)).close()
                return
            except (OSError, ValueError, psycopg2.OperationalError):
                time.sleep(0.05)
        raise AssertionError("pgbouncer did not come back")


def _bin_dir() -> str:
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                         text=True)
    if out.returncode == 0 and os.path.exists(
            os.path.join(out.stdout.strip(), "pg_ctl")):
        return out.stdout.strip()
    return "/usr/lib/postgresql/15/bin"


@pytest.fixture(scope="session")
def stack():
    top = tempfile.mkdtemp(prefix="tradestore-py-")
    os.chmod(top, 0o711)  # the postgres user must reach its files
    where = os.path.join(top, "stack")
    # A watchdog stops the stack should this process die without cleanup.
    subprocess.Popen(
        ["sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1;"
         f" done; '{CLI}' stack down --dir '{where}' --remove"],
        start_new_session=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up = run_cli("stack", "up", "--dir", where, "--json")
        yield Stack(json.loads(up.stdout))
    finally:
        run_cli("stack", "down", "--dir", where, "--remove", check=False)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def database(stack):
    """A fresh database owned by the application role; its name."""
    name = f"py_{next(_serial)}_{uuid.uuid4().hex[:8]}"
    stack.admin_sql(f'CREATE DATABASE "{name}" OWNER tradestore_app')
    run_cli("schema", "migrate", "--pg", stack.dsn(name))
    yield name
    stack.admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def pg_dsn(stack, database):
    return stack.dsn(database)


@pytest.fixture
def bouncer_dsn(stack):
    """PgBouncer's DSN to the stack's `trades` database (the one its ini
    names), emptied and migrated afresh."""
    conn = psycopg2.connect(stack.dsn("trades").replace(
        "user=tradestore_app", "user=postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public "
                        "AUTHORIZATION pg_database_owner")
    finally:
        conn.close()
    run_cli("schema", "migrate", "--pg", stack.dsn("trades"))
    return stack.dsn("trades", through_pgbouncer=True)


def set_phase(sqlite_path: str, dsn: str, phase: str) -> None:
    """Forces the migration forward to `phase`, one step at a time, as an
    operator would (tradestore phase set --force)."""
    order = ["dual_write", "read_postgres", "postgres_only"]
    for step in order[:order.index(phase) + 1]:
        run_cli("phase", "set", step, "--sqlite", sqlite_path, "--pg", dsn,
                "--force", "--reason", "python test")


def sample_trade(n: int = 1, **changes) -> tradestore.Trade:
    values = dict(
        symbol="AAPL", side=tradestore.Side.BUY,
        quantity=Decimal("100.5"), price=Decimal("187.12345678"),
        timestamp=dt.datetime(2026, 1, 2, 3, 4, 5, 123456,
                              tzinfo=dt.timezone.utc),
        client_order_id=f"order-{n}", fee=Decimal("-0.01"))
    values.update(changes)
    return tradestore.Trade(**values)
