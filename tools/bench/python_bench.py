#!/usr/bin/env python3
"""What the Python binding adds to an insert: one writer, the same trades at
the same rate and in the same phase (dual_write, fresh SQLite files, a
local stack's Postgres), through the C++ store (insert_bench) and through
tradestore from Python, alternating, round after round. Prints every
round, then the median and the spread of the p50 difference and the p99
ratio. Target (issue 26): p50 + 20 us and p99 x 1.2 at most.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/python_bench.py \\
        [--rounds 5] [--writes 3000] [--rate 500]
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


def python_round(path: str, dsn: str, writes: int, rate: int,
                 prefix: str) -> list:
    units_q = [Decimal(12345678 + n % 1000).scaleb(-8) for n in range(1000)]
    units_p = [Decimal(4300012345678 + n).scaleb(-8) for n in range(1000)]
    sides = [tradestore.Side.BUY, tradestore.Side.SELL]
    us = []
    with tradestore.PhasedTradeStore.open(path, dsn) as store:
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for n in range(writes):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            t0 = time.perf_counter_ns()
            store.insert(tradestore.Trade(
                symbol="BTC-USD", side=sides[n % 2],
                quantity=units_q[n % 1000], price=units_p[n % 1000],
                timestamp=dt.datetime.now(dt.timezone.utc),
                client_order_id=f"{prefix}-{n}"))
            us.append((time.perf_counter_ns() - t0) // 1000)
    return us


def cpp_round(path: str, dsn: str, writes: int, rate: int,
              prefix: str) -> list:
    out = subprocess.run(
        [os.path.join(BUILD, "tools", "bench", "insert_bench"), "--sqlite",
         path, "--pg", dsn, "--writes", str(writes), "--rate", str(rate),
         "--key-prefix", prefix], check=True, capture_output=True, text=True)
    return [int(v) for v in out.stdout.split()]


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
            result = {}
            # Alternate which half goes first.
            order = ["cpp", "python"] if r % 2 == 0 else ["python", "cpp"]
            for half in order:
                path, dsn = fresh(cli, status, top, f"{half}_{r}")
                run = cpp_round if half == "cpp" else python_round
                us = run(path, dsn, args.writes, args.rate, f"{half}-{r}")
                result[half] = {q: percentile(us, v) for q, v in
                                (("p50", 0.5), ("p99", 0.99),
                                 ("p999", 0.999))}
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
                  f"{result['python']['p999']} us | +{row['p50_added_us']}"
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
