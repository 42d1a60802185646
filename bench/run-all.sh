#!/usr/bin/env bash
# Runs the benchmarks one after the other (what `make bench` calls). Each script measures its own
# baseline in the same run and prints its ratio; docs/performance.md records the figures.
#   bench/run-all.sh            the quick set (a few minutes each)
#   BENCH_ALL=1 bench/run-all.sh  also the long ones (weather impact ingests 86 M readings)
set -uo pipefail
cd "$(dirname "$0")/.."
quick=(ingest_vs_import parquet_vs_duckdb export_vs_duckdb transform_vs_sqlite3 kafka_consume
       pg_ingest_vs_copy)
long=(weather_impact)
[ -x bench/api_bench.sh ] && quick+=(api_bench)
run=("${quick[@]}")
[ "${BENCH_ALL:-0}" = 1 ] && run+=("${long[@]}")
failed=0
for b in "${run[@]}"; do
  echo "== bench/$b.sh ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
  bash "bench/$b.sh" || { echo "bench/$b.sh failed" >&2; failed=1; }
done
exit $failed
