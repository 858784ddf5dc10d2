#!/usr/bin/env bash
# Runs the embedded store's tests under ThreadSanitizer: builds build-tsan/
# with g++ and -fsanitize=thread (no Python module: a sanitized module
# cannot load into Debian's interpreter), then runs each test binary with
# tools/sanitizers/tsan.supp. A data race or lock-order inversion fails the
# run. Extra arguments go to each binary (e.g. --gtest_filter=...).
#
#   tools/tsan.sh [unit_tests|pg_tests ...] [-- GTEST_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
binaries=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do binaries+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#binaries[@]} -eq 0 ] && binaries=(unit_tests pg_tests)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTRADESTORE_SANITIZE=thread -DTRADESTORE_PYTHON=OFF >/dev/null
cmake --build build-tsan -j2 --target "${binaries[@]}"
# die_after_fork=0: tests fork children that exec at once (psql, pg_ctl);
# history_size: the store's long-lived threads need deeper histories for
# both stacks of a report.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 \
die_after_fork=0 suppressions=$PWD/tools/sanitizers/tsan.supp"
status=0
for b in "${binaries[@]}"; do
  echo "tsan: $b"
  build-tsan/tests/"$b" "$@" || status=1
done
if [ $status -eq 0 ]; then echo "tsan: no races"; else echo "tsan: FAILED"; fi
exit $status
