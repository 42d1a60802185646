#!/usr/bin/env bash
# The PostgreSQL store on a real server (initdb into a temporary directory, a free loopback
# port, stopped on exit): the store contract suite and the PostgreSQL-only unit tests
# (build/asan/tests/test_pg_store), then end to end through the CLI: master data, a simulated
# fleet with faults, grid status and weather ingested into a SQLite store and a PostgreSQL store
# with the same clock; quality, analytics daily, anomalies and quarantine (all --json) must be
# identical, delivering the last file again must change no report on either store, the lake
# export must give the same rows per dataset, maintenance check must pass, and a backup restored
# with pg_restore must report the same.
. "$(dirname "$0")/../harness/lib.sh"
. "$TOP/tests/harness/pg_server.sh"
UNIT=${METRIFY_PG_UNIT:-$TOP/build/asan/tests/test_pg_store}
[ -x "$UNIT" ] || { echo "no $UNIT (make build/asan/tests/test_pg_store)"; exit 77; }
pg_start_for_test fsync=off

echo "== unit: contract suite + PostgreSQL-only tests"
METRIFY_TEST_PG_URL=$PG_URL "$UNIT" | tee "$T/unit.out"
tail -1 "$T/unit.out" | grep -Eq '^[1-9][0-9]* passed, 0 failed$' || fail "test_pg_store failed"

echo "== end to end: SQLite and PostgreSQL give the same reports"
"$PG_BIN/psql" -q "$PG_URL" -c "CREATE DATABASE e2e" >/dev/null
PGDB="${PG_URL%/postgres}/e2e"
now=2026-01-20T00:00:00Z
"$M" -q simulate --meters 40 --days 12 --seed 7 --fault-rate 3 --out "$T/r.csv" \
  --grid "$T/grid.csv" --weather "$T/weather.csv" --master "$T/master"
# a second delivery: some rows revised, one malformed row
python3 - "$T/r.csv" "$T/r2.csv" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
out = [rows[0]]
for i, line in enumerate(rows[1:2001]):
    if i % 97 == 0:
        f = line.split(',')
        f[2] = '%.3f' % (float(f[2]) + 0.5)
        line = ','.join(f)
    out.append(line)
out.append('SM000001,2026-01-03T00:00:00Z,abc,230,1,0.9,50')
out.append('SM000001,2026-13-01T00:00:00Z,0.5,230,1,0.9,50')
out.append('SM000002,2026-01-03T00:00:00Z,0.5')
out.append('SM000003,2099-01-01T00:00:00Z,0.5,230,1,0.9,50')
data = ('\n'.join(out) + '\n').encode()
data += b'SM000004,2026-01-03T00:00:00Z,0.5\xff,230,1,0.9,50\n'  # not UTF-8
open(sys.argv[2], 'wb').write(data)
PY
load() {
  local db=$1
  "$M" -q --db "$db" import operators "$T/master/operators.csv"
  "$M" -q --db "$db" import stations "$T/master/stations.csv"
  "$M" -q --db "$db" import meters "$T/master/meters.csv"
  "$M" -q --db "$db" ingest readings --now $now --commit-every 5000 "$T/r.csv"
  "$M" -q --db "$db" ingest grid --now $now "$T/grid.csv" || [ $? -eq 1 ]
  "$M" -q --db "$db" ingest weather --now $now "$T/weather.csv" || [ $? -eq 1 ]
  "$M" -q --db "$db" ingest readings --now $now "$T/r2.csv" || [ $? -eq 1 ]
}
report() {
  local db=$1 out=$2
  "$M" --db "$db" --json quality > "$out.quality"
  "$M" --db "$db" --json quality --days > "$out.quality_days"
  "$M" --db "$db" --json analytics daily > "$out.daily"
  "$M" --db "$db" --json anomalies > "$out.anomalies"
  "$M" --db "$db" --json quarantine > "$out.quarantine" || [ $? -eq 1 ]
}
load "$T/s.db"
load "$PGDB"
report "$T/s.db" "$T/sq"
report "$PGDB" "$T/pg"
for k in quality quality_days daily anomalies quarantine; do
  [ -s "$T/sq.$k" ] || fail "empty $k report"
  cmp -s "$T/sq.$k" "$T/pg.$k" || { diff "$T/sq.$k" "$T/pg.$k" | head -20; fail "$k differs"; }
done
nq=$(json "$T/pg.quarantine" 'len(d)')
[ "$nq" -ge 5 ] || fail "only $nq quarantined records"
json "$T/pg.quarantine" '"\n".join(r["raw"] for r in d)' | grep -q '^SM000004,2026-01-03T00:00:00Z,0.5?,' ||
  fail "the non-UTF-8 record is not in the PostgreSQL quarantine"
days=$(json "$T/pg.daily" 'len(d) if isinstance(d, list) else len(d.get("days", d.get("rows", [])))')
[ "$days" -gt 100 ] || fail "analytics daily has only $days rows"
grep -q '"spike"\|"frozen"\|"gap"' "$T/pg.anomalies" || fail "no anomalies found in the fleet"

# delivering the last file again changes no rollup on either store
"$M" -q --db "$T/s.db" ingest readings --now $now "$T/r2.csv" || [ $? -eq 1 ]
"$M" -q --db "$PGDB" ingest readings --now $now "$T/r2.csv" || [ $? -eq 1 ]
report "$T/s.db" "$T/sq2"
report "$PGDB" "$T/pg2"
for k in quality quality_days daily anomalies; do
  cmp -s "$T/pg.$k" "$T/pg2.$k" || fail "re-delivery changed the PostgreSQL $k report"
done
for k in quality quality_days daily anomalies quarantine; do
  cmp -s "$T/sq2.$k" "$T/pg2.$k" || fail "$k differs after the re-delivery"
done

# the lake export reads the meter-days of both stores: the same rows per dataset
"$M" --db "$T/s.db" --json export lake --to "$T/lake_sq" > "$T/lake_sq.json"
"$M" --db "$PGDB" --json export lake --to "$T/lake_pg" > "$T/lake_pg.json"
rows_of() { json "$1" '" ".join(str(d["datasets"][k]["rows"]) for k in ("readings", "grid", "weather", "daily"))'; }
[ "$(rows_of "$T/lake_sq.json")" = "$(rows_of "$T/lake_pg.json")" ] ||
  fail "lake export rows differ: SQLite $(rows_of "$T/lake_sq.json"), PostgreSQL $(rows_of "$T/lake_pg.json")"
[ "$(json "$T/lake_pg.json" 'd["datasets"]["readings"]["rows"]')" -gt 40000 ] || fail "few readings exported"
"$M" --db "$PGDB" --json export lake --to "$T/lake_pg" > "$T/lake_pg2.json"
expect_eq "$(json "$T/lake_pg2.json" 'd["rows"]')" 0 "a second export of the PostgreSQL store"

"$M" --db "$PGDB" maintenance check > "$T/check.out" || { cat "$T/check.out"; fail "check"; }
"$M" --db "$PGDB" maintenance vacuum > /dev/null
# backup is a pg_dump archive: restored into another database it holds the same data
"$M" -q --db "$PGDB" maintenance backup "$T/backup.dump"
"$PG_BIN/psql" -q "$PG_URL" -c "CREATE DATABASE restored" >/dev/null
"$PG_BIN/pg_restore" --no-owner -d "${PG_URL%/postgres}/restored" "$T/backup.dump"
"$M" --db "${PG_URL%/postgres}/restored" --json analytics daily > "$T/restored.daily"
cmp -s "$T/pg2.daily" "$T/restored.daily" || fail "the restored backup reports differently"
n=$("$PG_BIN/psql" -Atq "$PGDB" -c "SELECT sum(n) FROM reading_days_2026_01")
[ "$n" -gt 40000 ] || fail "reading_days_2026_01 holds $n readings"
v=$("$PG_BIN/psql" -Atq "$PGDB" -c "SELECT count(*) FROM readings WHERE ts >= 1767225600
  AND ts < 1769904000")
[ "$v" = "$n" ] || fail "the readings view shows $v January readings, the blocks hold $n"
echo "ok: $n readings in the January partition; reports identical on both stores"
