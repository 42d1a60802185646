#!/usr/bin/env bash
# lake_export.sh - `metrify export lake` to a directory, proven with an independent reader.
# A small simulated fleet (readings, grid status, weather, master data) is ingested and exported;
# DuckDB (tests/js/check_lake.mjs) reads every part file back and compares schema, types,
# statistics and partitioning with what the exporter declares, and the rows with the store's own
# rows (dumped with plain SQL by tests/tools/lake_expected.py). Then: a re-run is a no-op; new
# data and revisions add only new part files (earlier files untouched) and the lake still equals
# the store after taking the latest version per key; a run killed (SIGKILL) in the middle of a
# file leaves no visible partial file, and the next run completes the lake; a deleted and
# recreated lake directory gets everything again.
set -uo pipefail
if [ -z "${METRIFY_BIN:-}" ] || [ ! -x "${METRIFY_BIN:-}" ]; then
  echo "METRIFY_BIN is not set or not executable; build metrify first"
  exit 77
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/harness/js_deps.sh" || exit $?
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
m() { "$METRIFY_BIN" --quiet --db "$tmp/s.db" "$@"; }
check() { # check LAKE: DuckDB against the store
  python3 "$root/tests/tools/lake_expected.py" "$tmp/s.db" "$tmp/exp" "$tmp/rules.json" >/dev/null || fail "lake_expected.py"
  node "$JS/check_lake.mjs" "$1" "$tmp/exp" "$tmp/schema.json" || fail "DuckDB check of $1"
}
files() { (cd "$1" && find . -name '*.parquet' | sort); }
jfield() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# a fleet of 40 meters over 4 days; days 1-3 first, day 4 and some revisions later
"$METRIFY_BIN" --quiet simulate --meters 40 --days 4 --seed 3 --out "$tmp/r.csv" \
  --grid "$tmp/g.csv" --weather "$tmp/w.csv" --master "$tmp/m" || fail "simulate"
head -1 "$tmp/r.csv" >"$tmp/r13.csv"; head -1 "$tmp/r.csv" >"$tmp/r4.csv"
awk -F, 'NR > 1 && $2 <  "2026-01-04" { print > "'"$tmp/r13.csv"'.body" }
         NR > 1 && $2 >= "2026-01-04" { print > "'"$tmp/r4.csv"'.body" }' "$tmp/r.csv"
cat "$tmp/r13.csv.body" >>"$tmp/r13.csv"; cat "$tmp/r4.csv.body" >>"$tmp/r4.csv"
m import meters "$tmp/m/meters.csv" && m import operators "$tmp/m/operators.csv" &&
  m import stations "$tmp/m/stations.csv" || fail "import master data"
m ingest readings "$tmp/r13.csv"; m ingest grid "$tmp/g.csv"; m ingest weather "$tmp/w.csv"
m export schema --json >"$tmp/schema.json" || fail "export schema"
m rules --json >"$tmp/rules.json" || fail "rules"

# 1. first export: every dataset, every file read back by DuckDB
m export lake --to "$tmp/lake" --json >"$tmp/e1.json" || fail "first export exited $?"
stored=$(sqlite3 "$tmp/s.db" "SELECT sum(n) FROM reading_blocks")
[ "$stored" -gt $((40 * 96 * 3 - 200)) ] || fail "only $stored readings stored"
[ "$(jfield "$tmp/e1.json" "d['datasets']['readings']['rows']")" = "$stored" ] ||
  fail "first export: readings rows $(jfield "$tmp/e1.json" "d['datasets']['readings']['rows']") != $stored"
[ "$(jfield "$tmp/e1.json" "d['datasets']['readings']['files']")" = 3 ] || fail "3 readings partitions expected"
[ -f "$tmp/lake/dataset=readings/date=2026-01-02/part-0000.parquet" ] || fail "Hive layout"
check "$tmp/lake"
files "$tmp/lake" >"$tmp/files1"
(cd "$tmp/lake" && find . -name '*.parquet' -exec sha256sum {} + | sort) >"$tmp/sums1"

# 2. a re-run without changes writes nothing
m export lake --to "$tmp/lake" --json >"$tmp/e2.json" || fail "re-run exited $?"
[ "$(jfield "$tmp/e2.json" "d['files']")" = 0 ] || fail "re-run wrote $(jfield "$tmp/e2.json" "d['files']") files"
files "$tmp/lake" | cmp -s - "$tmp/files1" || fail "re-run changed the file list"

# 3. new day + revised readings of day 2: only new parts, old files untouched, lake = store
python3 - "$tmp/r13.csv" "$tmp/rev.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
out = [lines[0]] + [l.replace(l.split(',')[2], '%.4f' % (float(l.split(',')[2]) + 0.5), 1)
                    for l in lines[1:] if 'T2026-01-02' in l or ',2026-01-02T10:' in l][:5]
open(sys.argv[2], 'w').write('\n'.join(out) + '\n')
PY
[ "$(wc -l <"$tmp/rev.csv")" -ge 2 ] || fail "no revision lines generated"
m ingest readings "$tmp/r4.csv"; m ingest readings "$tmp/rev.csv"
m export lake --to "$tmp/lake" --json >"$tmp/e3.json" || fail "incremental export exited $?"
[ -f "$tmp/lake/dataset=readings/date=2026-01-04/part-0000.parquet" ] || fail "no day-4 partition"
[ -f "$tmp/lake/dataset=readings/date=2026-01-02/part-0001.parquet" ] || fail "revisions of day 2 not in a new part"
[ ! -e "$tmp/lake/dataset=readings/date=2026-01-01/part-0001.parquet" ] || fail "day 1 re-exported without changes"
(cd "$tmp/lake" && sha256sum -c --quiet "$tmp/sums1") || fail "an earlier part file was modified"
n3=$(jfield "$tmp/e3.json" "d['datasets']['readings']['rows']")
# day 4 plus the revised meter-days of day 2 (the store tracks changes per meter-day block)
[ "$n3" -ge $((40 * 96 - 200)) ] && [ "$n3" -le $((40 * 96 + 5 * 96)) ] || fail "incremental readings rows $n3"
check "$tmp/lake"

# 4. killed in the middle of the 3rd file: nothing partial is visible; the next run completes
METRIFY_TEST_KILL_AFTER_FILES=2 "$METRIFY_BIN" --quiet --db "$tmp/s.db" export lake --to "$tmp/lake2" \
  >/dev/null 2>&1
rc=$?
[ $rc -eq 137 ] || fail "the killed export exited $rc, expected 137 (SIGKILL)"
[ "$(files "$tmp/lake2" | wc -l)" = 2 ] || fail "after the kill: $(files "$tmp/lake2" | wc -l) visible files, expected 2"
[ "$(find "$tmp/lake2" -name '.tmp-*' | wc -l)" = 1 ] || fail "the partial file should be a hidden temporary"
m export lake --to "$tmp/lake2" --json >"$tmp/e4.json" || fail "export after the kill exited $?"
[ "$(find "$tmp/lake2" -name '.tmp-*' | wc -l)" = 0 ] || fail "temporaries left after recovery"
check "$tmp/lake2"
m export lake --to "$tmp/lake2" --json >"$tmp/e5.json" || fail "re-run after recovery"
[ "$(jfield "$tmp/e5.json" "d['files']")" = 0 ] || fail "re-run after recovery wrote files"

# a lake directory that was deleted is a new lake: the next run exports everything again
rm -rf "$tmp/lake2"
m export lake --to "$tmp/lake2" --json >"$tmp/e6.json" || fail "export to a recreated directory"
[ "$(jfield "$tmp/e6.json" "d['datasets']['readings']['rows']")" = "$(sqlite3 "$tmp/s.db" "SELECT sum(n) FROM reading_blocks")" ] ||
  fail "a recreated lake directory did not get every reading"
check "$tmp/lake2"

# usage errors
m export lake >/dev/null 2>&1; [ $? -eq 2 ] || fail "export lake without --to must exit 2"
m export lake --to "$tmp/x" --datasets nope >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown dataset must exit 2"
m export lake --to "$tmp/x" --compression snappy >/dev/null 2>&1; [ $? -eq 2 ] || fail "snappy must exit 2"
echo "lake_export: ok"
