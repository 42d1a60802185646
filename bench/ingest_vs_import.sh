#!/usr/bin/env bash
# Ingest benchmark: 3,000,000 readings (10,000 meters x 300 intervals of 15 min, the default CSV
# layout, time-major as a head-end exports them) through `metrify ingest` with every rule,
# scoring, detection and rollup, versus `sqlite3 .import` of the same CSV into a plain table with
# no checks, measured in the same run. Prints both times, the ratio and metrify's peak RSS, and
# the peak RSS of ingesting a file three times as long (memory must not grow with the file).
#   bench/ingest_vs_import.sh [METERS] [INTERVALS]
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-10000}
intervals=${2:-300}
make -s build/release/metrify
M=$PWD/build/release/metrify
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
days=$(( (intervals * 900 + 86399) / 86400 ))
"$M" -q simulate --meters "$meters" --days $((days * 3)) --seed 3 --out "$W/all.csv"
head -n $((meters * intervals + 1)) "$W/all.csv" > "$W/r.csv"
head -n $((3 * meters * intervals + 1)) "$W/all.csv" > "$W/r3.csv"
rm "$W/all.csv"
rows=$((meters * intervals))

t0=$(date +%s.%N)
sqlite3 "$W/raw.db" -cmd '.mode csv' ".import $W/r.csv readings" '.exit'
t1=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$W/rss" "$M" -q --db "$W/m.db" ingest readings "$W/r.csv"
t2=$(date +%s.%N)

/usr/bin/time -f '%M' -o "$W/rss3" "$M" -q --db "$W/m3.db" ingest readings "$W/r3.csv"

python3 - "$t0" "$t1" "$t2" "$rows" "$(cat "$W/rss")" "$(cat "$W/rss3")" <<'PY'
import sys
t0, t1, t2, rows, rss, rss3 = map(float, sys.argv[1:])
base, ours = t1 - t0, t2 - t1
print(f"rows                     {int(rows):,}")
print(f"sqlite3 .import (raw)    {base:6.2f} s  {rows / base:10,.0f} rows/s")
print(f"metrify ingest (full)    {ours:6.2f} s  {rows / ours:10,.0f} rows/s")
print(f"ratio metrify / import   {base / ours:6.2f}x  (target >= 1.8x, floor 1.0x)")
print(f"metrify peak RSS         {rss / 1024:6.1f} MiB (target <= 256 MiB)")
print(f"  same, 3x the rows        {rss3 / 1024:6.1f} MiB (must not grow with the file)")
PY
