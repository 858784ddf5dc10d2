#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 20) on the current
# build and counts the runs with a failure: a test that fails by chance
# blocks every later submission, so this must print "0 of N failed".
#
#   tools/test_repeat.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
failed=0
for ((i = 1; i <= runs; i++)); do
  log=$(mktemp)
  if ctest --test-dir build --output-on-failure --timeout 900 >"$log" 2>&1; then
    echo "run $i/$runs: passed"
  else
    failed=$((failed + 1))
    echo "run $i/$runs: FAILED (log kept in $log)"
    grep -E "^\[  FAILED  \]|Failure" "$log" | head -20
    continue
  fi
  rm -f "$log"
done
echo "test_repeat: $failed of $runs failed"
((failed == 0))
