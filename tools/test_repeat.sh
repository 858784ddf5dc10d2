#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 20) on the current
# build and counts the runs with a failure: a test that fails by chance
# blocks every later submission, so this must print "0 of N failed".
# -j K runs K test binaries at once (as `ctest -j K`): each binary still runs
# its own tests one by one, but beside another one, on a busier machine.
#
#   tools/test_repeat.sh [N] [-j K]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=20
jobs=1
while (($#)); do
  case "$1" in
    -j) jobs=${2:?-j needs a number}; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) runs=$1; shift ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ && "$jobs" =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: tools/test_repeat.sh [N] [-j K]" >&2; exit 2; }
failed=0
start=$SECONDS
for ((i = 1; i <= runs; i++)); do
  log=$(mktemp)
  began=$SECONDS
  if ctest --test-dir build -j "$jobs" --output-on-failure --timeout 900 >"$log" 2>&1; then
    echo "$(date -u +%FT%TZ) run $i/$runs: passed in $((SECONDS - began)) s"
  else
    failed=$((failed + 1))
    echo "$(date -u +%FT%TZ) run $i/$runs: FAILED in $((SECONDS - began)) s (log kept in $log)"
    grep -E "^\[  FAILED  \]|Failure|\*\*\*Failed|Timeout" "$log" | head -20
    continue
  fi
  rm -f "$log"
done
echo "test_repeat: $failed of $runs failed (-j $jobs, $((SECONDS - start)) s)"
((failed == 0))
