#!/usr/bin/env bash
# Sets everything up (tools/setup.sh) and runs every test. The Postgres tests
# start their own throwaway PostgreSQL 15 and PgBouncer on free loopback
# ports (as the postgres user when run as root) and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# What the README promises after setup, without PYTHONPATH.
if [[ -f build/python/tradestore/__init__.py ]]; then
  (cd / && env -u PYTHONPATH python3 -c 'import tradestore; print("test: python3 imports tradestore", tradestore.__version__, "from", tradestore.__file__)')
fi
ctest --test-dir build --output-on-failure --timeout 900
