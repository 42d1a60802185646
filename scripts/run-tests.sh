#!/usr/bin/env bash
# Runs the test suite: unit test binaries, then integration scripts.
#   scripts/run-tests.sh unit|integration|all BUILD_DIR
# Each unit binary ends with "N passed, N failed"; each tests/integration/*.sh is one test
# (exit 0 pass, 77 skipped with a reason on stderr, anything else fail). Prints one closing line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
set -uo pipefail
mode=${1:-all}
build=${2:-build/asan}
cd "$(dirname "$0")/.."
export METRIFY_BIN="$PWD/$build/metrify"
export METRIFY_RELEASE_BIN="$PWD/build/release/metrify"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 skipped=0 failures=()
log=$(mktemp -d)

if [ "$mode" = unit ] || [ "$mode" = all ]; then
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if "$t" >"$log/$name.out" 2>&1; then rc=0; else rc=$?; fi
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log/$name.out" | tail -1)
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed}
    [ -n "$line" ] || { p=0; f=1; }
    [ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then failures+=("$name"); echo "FAIL unit $name"; cat "$log/$name.out"; else echo "ok   unit $name ($p)"; fi
  done
fi

if [ "$mode" = integration ] || [ "$mode" = all ]; then
  for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    start=$(date +%s)
    if bash "$t" >"$log/$name.out" 2>&1; then rc=0; else rc=$?; fi
    secs=$(( $(date +%s) - start ))
    case $rc in
      0) passed=$((passed + 1)); echo "ok   integration $name (${secs}s)";;
      77) skipped=$((skipped + 1)); echo "skip integration $name: $(tail -1 "$log/$name.out")";;
      *) failed=$((failed + 1)); failures+=("$name"); echo "FAIL integration $name (exit $rc)"; tail -40 "$log/$name.out";;
    esac
  done
fi

rm -rf "$log"
[ ${#failures[@]} -eq 0 ] || echo "failures: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
