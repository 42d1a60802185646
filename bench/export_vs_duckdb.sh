#!/usr/bin/env bash
# export_vs_duckdb.sh - `metrify export lake` of the 3,000,000-reading store (10,000 meters x 300
# intervals, bench/gen_readings.py, ingested with every rule) against DuckDB's own
# COPY ... TO '...parquet' (zstd) of the same rows, in the same run.
# What is timed: metrify = the whole CLI run (open store, scan SQLite, encode, zstd, write and
# fsync the partition files); DuckDB = only the COPY of a table already in memory (loaded untimed
# from metrify's files: the same rows and columns), at 1 thread and at nproc threads. Sizes:
# the bytes of metrify's readings files vs DuckDB's single file. Both wall time and CPU time
# (user + system, all threads) are reported: on a shared machine wall time mostly measures the
# neighbours.
#   bench/export_vs_duckdb.sh [METERS] [INTERVALS]     (node + npm for DuckDB)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
meters=${1:-10000}
intervals=${2:-300}
. tests/harness/js_deps.sh || exit $?
cp bench/export_vs_duckdb.mjs "$JS/"
make -s build/release/metrify
M=build/release/metrify
W="$root/build/bench-export"
mkdir -p "$W"
db="$W/store-$meters-$intervals.db"
if [ ! -f "$db" ]; then # the store is built once and reused
  days=$(( (intervals * 900 + 86399) / 86400 ))
  "$M" -q simulate --meters "$meters" --days "$days" --seed 3 --out "$W/all.csv"
  head -n $((meters * intervals + 1)) "$W/all.csv" >"$W/r.csv"
  rm "$W/all.csv"
  "$M" -q --db "$db.tmp" ingest readings "$W/r.csv"
  mv "$db.tmp" "$db"; rm -f "$db.tmp-wal" "$db.tmp-shm" "$W/r.csv"
fi
rm -rf "$W/lake" "$W/duck.parquet"
t0=$(date +%s.%N)
METRIFY_SQLITE_MMAP_MB=1024 /usr/bin/time -f '%U %S' -o "$W/cpu" "$M" -q --db "$db" export lake --to "$W/lake" --datasets readings --json >"$W/export.json"
t1=$(date +%s.%N)
ours_cpu=$(awk '{printf "%.3f", $1 + $2}' "$W/cpu")
rows=$(python3 -c "import json; d=json.load(open('$W/export.json')); print(d['rows'])")
ours_bytes=$(python3 -c "import json; d=json.load(open('$W/export.json')); print(d['bytes'])")
ours_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
echo "metrify export lake: $rows rows in ${ours_s}s ($(awk -v r="$rows" -v s="$ours_s" 'BEGIN{printf "%.0f", r/s}') rows/s), ${ours_cpu}s CPU, $ours_bytes bytes (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores)"
for threads in 1 "$(nproc)"; do
  read -r _ drows _ duck_s _ duck_cpu verdict < <(node "$JS/export_vs_duckdb.mjs" "$W/lake" "$W/duck.parquet" "$threads")
  duck_bytes=$(stat -c %s "$W/duck.parquet")
  echo "duckdb COPY (threads=$threads): $drows rows in ${duck_s}s, ${duck_cpu}s CPU, $duck_bytes bytes, read-back $verdict"
  awk -v a="$ours_s" -v b="$duck_s" -v ca="$ours_cpu" -v cb="$duck_cpu" -v x="$ours_bytes" -v y="$duck_bytes" -v t="$threads" \
    'BEGIN{printf "ratio (threads=%s): speed %.2fx DuckDB wall, %.2fx CPU time (target >= 1.0), size %.3fx DuckDB (target <= 1.2)\n", t, b/a, cb/ca, x/y}'
  [ "$verdict" = ok ] && [ "$drows" = "$rows" ] || exit 1
done
