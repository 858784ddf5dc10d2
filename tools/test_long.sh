#!/usr/bin/env bash
# The long suite: the big iteration counts the default suite keeps small.
# Sets up and builds like tools/test.sh, then runs
#   - the kill loop with 200 kills per phase (20 in the default suite),
#   - every crash point, and
#   - tools/bench/failover_bench --trials 10: ten failovers per fault and
#     path on a 3-node HA stack of its own (exits 1 on a lost or doubled
#     trade or a pause over the plan's 30 s),
#   - tools/fuzz.sh: a million executions of each fuzz target.
# About 90 minutes on 2 cores. The last results are in the README (Tests).
#
#   tools/test_long.sh [KILLS_PER_PHASE]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
kills=${1:-200}
echo "test_long: kill loop, $kills kills per phase"
TRADESTORE_KILL_LOOP_ITERATIONS=$kills build/tests/pg_tests \
  --gtest_filter='*KillLoop*:*CrashPoint*:*CrashTest*'
echo "test_long: failover drills, 10 per fault and path"
build/tools/bench/failover_bench --trials 10
echo "test_long: fuzzing, 1,000,000 runs per target"
tools/fuzz.sh 1000000
echo "test_long: passed"
