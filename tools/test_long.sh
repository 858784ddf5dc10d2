#!/usr/bin/env bash
# The long suite: the big iteration counts the default suite keeps small.
# Sets up and builds like tools/test.sh, then runs its parts:
#   kill      the kill loop with KILLS kills per phase (20 in the default
#             suite) and every crash point;
#   failover  tools/bench/failover_bench --trials 10: ten failovers per
#             fault and path on a 3-node HA stack of its own (exits 1 on a
#             lost or doubled trade, or a pause over the plan's 30 s unless
#             TRADESTORE_MAX_FAILOVER_PAUSE says otherwise; 0 is no limit);
#   fuzz      tools/fuzz.sh: a million executions of each fuzz target.
# All three take about 90 minutes on 2 cores; failover alone about 10, and
# .ci/run runs it. The last results are in the README (Tests).
#
#   tools/test_long.sh [KILLS_PER_PHASE] [kill] [failover] [fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
kills=200
parts=()
for arg in "$@"; do
  case "$arg" in
    kill | failover | fuzz) parts+=("$arg") ;;
    *[!0-9]* | '')
      echo "usage: tools/test_long.sh [KILLS_PER_PHASE] [kill] [failover] [fuzz]" >&2
      exit 2
      ;;
    *) kills=$arg ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=(kill failover fuzz)
tools/setup.sh
for part in "${parts[@]}"; do
  case "$part" in
    kill)
      echo "test_long: kill loop, $kills kills per phase"
      TRADESTORE_KILL_LOOP_ITERATIONS=$kills build/tests/pg_tests \
        --gtest_filter='*KillLoop*:*CrashPoint*:*CrashTest*'
      ;;
    failover)
      echo "test_long: failover drills, 10 per fault and path"
      build/tools/bench/failover_bench --trials 10 \
        --max-pause "${TRADESTORE_MAX_FAILOVER_PAUSE:-30}"
      ;;
    fuzz)
      echo "test_long: fuzzing, 1,000,000 runs per target"
      tools/fuzz.sh 1000000
      ;;
  esac
done
echo "test_long: passed (${parts[*]})"
