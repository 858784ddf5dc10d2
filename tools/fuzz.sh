#!/usr/bin/env bash
# Fuzzes every target of tests/fuzz with libFuzzer under ASan and UBSan:
# builds them with clang into build-fuzz/, then runs each for RUNS
# executions (default 1,000,000) from a copy of its kept corpus. A finding
# stops the run with the crashing input in build-fuzz/findings/<target>/;
# keep it in tests/fuzz/corpus/<target>/ once fixed, so the default suite
# replays it (FuzzCorpusTest).
#
#   tools/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decimal_text timestamp_text legacy_row dsn binary_copy_row flags)
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTRADESTORE_FUZZ=ON -DTRADESTORE_SANITIZE=address,undefined \
  -DTRADESTORE_PYTHON=OFF >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]/#/fuzz_}"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$work" "$findings"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/
  echo "fuzz: $t, $runs runs"
  build-fuzz/tests/fuzz_"$t" -runs="$runs" -max_len=512 -timeout=10 \
    -artifact_prefix="$findings/" -print_final_stats=1 "$work" 2>&1 |
    grep -E "^(Done|#[0-9]+ +DONE|stat::number_of_executed_units|==|SUMMARY|fuzz target|.*ERROR)" || true
  if [ -n "$(ls -A "$findings")" ]; then
    echo "fuzz: $t FOUND $(ls "$findings" | head -3)"
    exit 1
  fi
done
echo "fuzz: all targets passed"
