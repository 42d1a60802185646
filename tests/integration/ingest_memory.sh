#!/usr/bin/env bash
# Bulk ingest memory does not grow with the file: with the caches bounded (a 16 MiB block cache,
# so they fill early), the peak RSS of three units of work is within 10 % of one unit's
# (5,000 meters, time-major: 1.5 M and 4.5 M readings). A savepoint that kept every page a unit
# wrote in memory made the heap grow with each unit (92 -> 133 MiB here). Optimised build: the
# sanitizers' allocator would measure itself.
. "$(dirname "$0")/../harness/lib.sh"
M=${METRIFY_RELEASE_BIN:-$TOP/build/release/metrify}
[ -x "$M" ] || { echo "no release binary"; exit 77; }
"$M" -q simulate --meters 5000 --days 10 --seed 3 --out "$T/all.csv"
head -n 1500001 "$T/all.csv" > "$T/r1.csv"
head -n 4500001 "$T/all.csv" > "$T/r3.csv"
rm "$T/all.csv"
for n in 1 3; do
  METRIFY_SQLITE_CACHE_MB=16 /usr/bin/time -f '%M' -o "$T/rss$n" \
    "$M" -q --db "$T/m$n.db" ingest readings "$T/r$n.csv"
  rm -f "$T/r$n.csv"
done
rss1=$(cat "$T/rss1") rss3=$(cat "$T/rss3")
echo "peak RSS: 1.5 M readings $((rss1 / 1024)) MiB, 4.5 M readings $((rss3 / 1024)) MiB"
[ "$rss3" -le $((rss1 * 11 / 10)) ] || fail "peak RSS grew with the file: $rss1 -> $rss3 KiB"
[ "$("$M" --db "$T/m3.db" sql "SELECT sum(n) FROM reading_blocks")" -ge 4500000 ] ||
  fail "not every reading of the long file was stored"
