#!/usr/bin/env bash
# parquet_vs_duckdb.sh - our Parquet writer against DuckDB's on the same 3,000,000 readings-like
# rows (meter_id with 10,000 distinct values, ts, 6 doubles, quality int32), both ZSTD.
# Reports rows/s and file size for both, and checks that DuckDB reads back exactly our rows.
#   bench/parquet_vs_duckdb.sh [ROWS]     (needs node + npm; DuckDB comes from npm, cached)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rows=${1:-3000000}
command -v node >/dev/null && command -v npm >/dev/null || { echo "needs node and npm"; exit 77; }

cache="$root/build/js/parquet"
mkdir -p "$cache"
lock_sum=$(sha256sum tests/js/package-lock.json | cut -d' ' -f1)
if [ ! -d "$cache/node_modules/@duckdb/node-api" ] || [ "$(cat "$cache/.lock-sum" 2>/dev/null)" != "$lock_sum" ]; then
  cp tests/js/package.json tests/js/package-lock.json "$cache/"
  npm ci --prefix "$cache" --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$cache/.lock-sum"
fi
cp bench/parquet_vs_duckdb.mjs "$cache/"

make -s build/release/libmetrify.a
cc -O2 -D_GNU_SOURCE -std=c11 -Isrc bench/parquet_bench.c build/release/libmetrify.a \
  $(pkg-config --libs libzstd) -lm -o build/release/parquet_bench
out=$(mktemp -d "$root/build/pqbench.XXXXXX")
trap 'rm -rf "$out"' EXIT

read -r _ _ _ ours_bytes _ ours_s _ _ _ ours_rps < <(build/release/parquet_bench "$out/ours.parquet" "$rows")
echo "metrify : $rows rows in ${ours_s}s = ${ours_rps} rows/s, $ours_bytes bytes"
for threads in 1 "$(nproc)"; do
  read -r _ duck_s verdict < <(node "$cache/parquet_vs_duckdb.mjs" "$rows" "$out/ours.parquet" "$out/duck.parquet" "$threads")
  duck_bytes=$(stat -c %s "$out/duck.parquet")
  echo "duckdb  : $rows rows in ${duck_s}s = $(awk -v r="$rows" -v s="$duck_s" 'BEGIN{printf "%.0f", r/s}') rows/s, $duck_bytes bytes (threads=$threads; our rows read back: $verdict)"
  awk -v a="$ours_s" -v b="$duck_s" -v x="$ours_bytes" -v y="$duck_bytes" -v t="$threads" \
    'BEGIN{printf "ratio   : speed %.2fx DuckDB (threads=%s), size %.3fx DuckDB\n", b/a, t, x/y}'
  [ "$verdict" = ok ] || exit 1
done
