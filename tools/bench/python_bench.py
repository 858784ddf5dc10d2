#!/usr/bin/env python3
"""What the Python binding adds to an insert: one writer, the same trades at
the same rate and in the same phase (dual_write, fresh SQLite files, a
local stack's Postgres), through the C++ store (insert_bench) and through
tradestore from Python, in alternating blocks of --block writes, round
after round (fresh stores each round). Prints every
round, then the median and the spread of the p50 difference and the p99
ratio. Timed: building tradestore.Trade from the fill's values, insert
and reading the new id (the C++ half: Insert alone). Target (issue 26):
p50 + 20 us and p99 x 1.2 at most.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/python_bench.py \\
        [--rounds 5] [--writes 3000] [--rate 500] [--block 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

import tradestore

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "build")


def percentile(values: list, q: float) -> float:
    """Nearest-rank percentile, the same for both halves."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class PythonHalf:
    """The Python writer: the same trades as insert_bench, paced the same."""

    def __init__(self, path: str, dsn: str, rate: int, prefix: str) -> None:
        self.units_q = [Decimal(12345678 + n % 1000).scaleb(-8)
                        for n in range(1000)]
        self.units_p = [Decimal(4300012345678 + n).scaleb(-8)
                        for n in range(1000)]
        self.sides = [tradestore.Side.BUY, tradestore.Side.SELL]
        self.store = tradestore.PhasedTradeStore.open(path, dsn)
        self.interval = 1.0 / rate
        self.prefix = prefix
        self.n = 0

    def block(self, count: int) -> list:
        us = []
        store, sides = self.store, self.sides
        next_at = time.perf_counter()
        for n in range(self.n, self.n + count):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += self.interval
            # The fill's own values, as the C++ half: outside the timing.
            side, quantity, price = (sides[n % 2], self.units_q[n % 1000],
                                     self.units_p[n % 1000])
            timestamp = dt.datetime.now(dt.timezone.utc)
            key = f"{self.prefix}-{n}"
            t0 = time.perf_counter_ns()
            stored = store.insert(tradestore.Trade(
                symbol="BTC-USD", side=side, quantity=quantity, price=price,
                timestamp=timestamp, client_order_id=key)).id
            us.append((time.perf_counter_ns() - t0) // 1000)
            if not stored:
                raise RuntimeError(f"insert of {key} returned no id")
        self.n += count
        return us

    def close(self) -> None:
        self.store.close()


class CppHalf:
    """insert_bench --serve: the C++ writer, one block per request."""

    def __init__(self, path: str, dsn: str, rate: int, prefix: str) -> None:
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "tools", "bench", "insert_bench"),
             "--sqlite", path, "--pg", dsn, "--rate", str(rate),
             "--key-prefix", prefix, "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def block(self, count: int) -> list:
        self.proc.stdin.write(f"{count}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("insert_bench stopped")
        return [int(v) for v in line.split()]

    def close(self) -> None:
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError(f"insert_bench exited {self.proc.returncode}")


def fresh(cli: str, status: dict, top: str, name: str) -> tuple:
    """A new database and SQLite file, migrated, in dual_write: each half
    of each round starts equal."""
    import psycopg2
    admin = psycopg2.connect(status["admin_dsn"])
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}" OWNER tradestore_app')
    admin.close()
    dsn = status["primary_dsn"].replace("dbname=trades", f"dbname={name}")
    path = os.path.join(top, f"{name}.db")
    subprocess.run([cli, "schema", "migrate", "--pg", dsn], check=True,
                   capture_output=True)
    tradestore.PhasedTradeStore.open(path, dsn).close()
    subprocess.run([cli, "phase", "set", "dual_write", "--sqlite", path,
                    "--pg", dsn, "--force", "--reason", "bench"], check=True,
                   capture_output=True)
    return path, dsn


def main(argv: list) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    cli = os.path.join(BUILD, "tools", "tradestore")
    top = tempfile.mkdtemp(prefix="python-bench-")
    os.chmod(top, 0o711)
    stack = os.path.join(top, "stack")
    rows = []
    try:
        up = subprocess.run([cli, "stack", "up", "--dir", stack, "--json"],
                            check=True, capture_output=True, text=True)
        status = json.loads(up.stdout)
        for r in range(args.rounds):
            halves = {}
            for name, kind in (("cpp", CppHalf), ("python", PythonHalf)):
                path, dsn = fresh(cli, status, top, f"{name}_{r}")
                halves[name] = kind(path, dsn, args.rate, f"{name}-{r}")
            us = {"cpp": [], "python": []}
            try:
                # Short blocks, alternating which half goes first.
                for b in range((args.writes + args.block - 1) // args.block):
                    count = min(args.block, args.writes - b * args.block)
                    order = ["cpp", "python"] if b % 2 == 0 else \
                        ["python", "cpp"]
                    for half in order:
                        us[half] += halves[half].block(count)
            finally:
                for half in halves.values():
                    half.close()
            result = {half: {q: percentile(us[half], v) for q, v in
                             (("p50", 0.5), ("p99", 0.99), ("p999", 0.999))}
                      for half in us}
            row = {"round": r + 1, **result,
                   "p50_added_us": result["python"]["p50"] -
                   result["cpp"]["p50"],
                   "p99_ratio": result["python"]["p99"] /
                   result["cpp"]["p99"]}
            rows.append(row)
            print(f"round {r + 1}: C++ p50 {result['cpp']['p50']} us, p99 "
                  f"{result['cpp']['p99']} us, p99.9 "
                  f"{result['cpp']['p999']} us | Python p50 "
                  f"{result['python']['p50']} us, p99 "
                  f"{result['python']['p99']} us, p99.9 "
                  f"{result['python']['p999']} us | {row['p50_added_us']:+d}"
                  f" us at p50, {row['p99_ratio']:.2f}x at p99", flush=True)
    finally:
        subprocess.run([cli, "stack", "down", "--dir", stack, "--remove"],
                       capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
    added = [r["p50_added_us"] for r in rows]
    ratio = [r["p99_ratio"] for r in rows]
    print(f"p50 added: median {statistics.median(added)} us "
          f"(min {min(added)}, max {max(added)}); p99 ratio: median "
          f"{statistics.median(ratio):.2f}x (min {min(ratio):.2f}, max "
          f"{max(ratio):.2f}); target <= 20 us and <= 1.20x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
