#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (build-fuzz/) and runs one of them.
#   scripts/fuzz.sh [seconds] [target]     defaults: 300 seconds, query_fuzz
# The seed corpus (tests/fuzz/corpus/<name>/) is read, never written: what the fuzzer finds goes
# to build-fuzz/corpus/<name>/ and is kept across runs; crash inputs land in build-fuzz/crashes/.
# Exits non-zero when the fuzzer finds a crash, a leak or a broken invariant.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
target=${2:-query_fuzz}
case "$target" in
  query_fuzz) seeds=tests/fuzz/corpus/query ;;
  zonefile_fuzz) seeds=tests/fuzz/corpus/zonefile ;;
  xfr_fuzz) seeds=tests/fuzz/corpus/xfr ;;
  config_fuzz) seeds=tests/fuzz/corpus/config ;;
  *) echo "usage: $0 [seconds] [query_fuzz|zonefile_fuzz|xfr_fuzz|config_fuzz]" >&2; exit 2 ;;
esac

bash scripts/setup.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHOLDFAST_FUZZ=ON -DHOLDFAST_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "$target"

corpus=build-fuzz/corpus/${target%_fuzz}
crashes=build-fuzz/crashes/${target%_fuzz}
mkdir -p "$corpus" "$crashes"
log=build-fuzz/$target.log
echo "fuzz: $target for ${seconds}s; corpus $corpus, crashes $crashes, log $log"
# -print_final_stats gives the execution count; any sanitizer report aborts the run.
dict=()
[ -f "tests/fuzz/${target%_fuzz}.dict" ] && dict=(-dict="tests/fuzz/${target%_fuzz}.dict")
set +e
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "build-fuzz/$target" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix="$crashes/" "$corpus" "$seeds" 2>&1 | tee "$log" \
  | grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|^stat::|ERROR|SUMMARY|invariant|Test unit written'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "fuzz: $target FAILED (exit $status); see $log and $crashes/" >&2
  exit "$status"
fi
echo "fuzz: $target ran ${seconds}s without finding anything"
