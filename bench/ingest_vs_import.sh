#!/usr/bin/env bash
# Ingest benchmark: 3,000,000 readings (10,000 meters x 300 intervals of 15 min, the default CSV
# layout, time-major as a head-end exports them) through `metrify ingest` with every rule,
# scoring, detection and rollup, versus `sqlite3 .import` of the same CSV into a plain table with
# no checks, measured in the same run. Prints both times, the ratio and metrify's peak RSS, and
# the peak RSS of ingesting a file three times as long (memory must not grow with the file).
# The pair runs ROUNDS times (default 3), baseline and metrify alternating, each into a new
# database: every round's ratio is printed, and the median is the figure (one neighbour's burst
# on this shared machine moves a single run by 30 % either way).
#   [ROUNDS=3] bench/ingest_vs_import.sh [METERS] [INTERVALS]
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

rounds=${ROUNDS:-3}
: > "$W/times"
for r in $(seq "$rounds"); do
  rm -f "$W"/raw.db* "$W"/m.db*
  t0=$(date +%s.%N)
  sqlite3 "$W/raw.db" -cmd '.mode csv' ".import $W/r.csv readings" '.exit'
  t1=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$W/rss" "$M" -q --db "$W/m.db" ingest readings "$W/r.csv"
  t2=$(date +%s.%N)
  echo "$t0 $t1 $t2 $(cat "$W/rss")" >> "$W/times"
done

/usr/bin/time -f '%M' -o "$W/rss3" "$M" -q --db "$W/m3.db" ingest readings "$W/r3.csv"

python3 - "$rows" "$(cat "$W/rss3")" "$W/times" <<'PY'
import statistics, sys
rows, rss3 = int(sys.argv[1]), float(sys.argv[2])
runs = [list(map(float, l.split())) for l in open(sys.argv[3])]
base = [t1 - t0 for t0, t1, t2, _ in runs]
ours = [t2 - t1 for t0, t1, t2, _ in runs]
ratios = [b / o for b, o in zip(base, ours)]
rss = max(r[3] for r in runs)
print(f"rows                     {rows:,}")
for i, (b, o, q) in enumerate(zip(base, ours, ratios), 1):
    print(f"round {i}: sqlite3 .import {b:6.2f} s, metrify ingest {o:6.2f} s, ratio {q:5.2f}x")
b, o = statistics.median(base), statistics.median(ours)
print(f"sqlite3 .import (raw)    {b:6.2f} s  {rows / b:10,.0f} rows/s  (median)")
print(f"metrify ingest (full)    {o:6.2f} s  {rows / o:10,.0f} rows/s  (median)")
print(f"ratio metrify / import   {statistics.median(ratios):6.2f}x  median of {len(ratios)}, "
      f"range {min(ratios):.2f}-{max(ratios):.2f}x  (target >= 1.8x, floor 1.0x)")
print(f"metrify peak RSS         {rss / 1024:6.1f} MiB (target <= 256 MiB)")
print(f"  same, 3x the rows        {rss3 / 1024:6.1f} MiB (must not grow with the file)")
PY
