#!/usr/bin/env bash
# transform.sh - `metrify transform` end to end on the dbt project in dbt/: a simulated fleet
# (plus the reference master data when ../shared is present) is ingested, every model builds and
# every schema test passes; the daily metrics equal Metrify's own rollups; --select follows the
# graph; then the data is corrupted three ways (invalid meter type, duplicated seed row, score
# out of range) and the tests that guard each must FAIL with exit 1. A construct outside the Jinja
# subset is rejected with its position. The same on PostgreSQL, with outputs identical to
# SQLite's, when the build has the PostgreSQL store (else reported pending).
source "$(dirname "$0")/../harness/lib.sh"
P="$TOP/dbt"
db="$T/store.db"
run() { "$M" --quiet --db "$1" transform "${@:2}" --project "$P"; }
py() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); $2; c.commit()" "$1"; }

"$M" --quiet simulate --meters 12 --days 3 --seed 4 --fault-rate 2 --out "$T/r.csv" \
  --grid "$T/g.csv" --weather "$T/w.csv" --master "$T/m" || fail "simulate"
for k in meters operators stations; do
  "$M" --quiet --db "$db" import "$k" "$T/m/$k.csv" || fail "import $k"
done
ref="$SHARED/data/metrify-reference"
if [ -f "$ref/smart_meters.csv" ]; then
  # the reference master data: 1000 meters (SM000000.. as the simulator's), 4 TSOs, 20 stations
  "$M" --quiet --db "$db" import meters "$ref/smart_meters.csv" || fail "import reference meters"
  "$M" --quiet --db "$db" import operators "$ref/grid_operators.csv" || fail "import reference operators"
  "$M" --quiet --db "$db" import stations "$ref/weather_stations.csv" || fail "import reference stations"
else
  echo "note: $ref absent; simulated master data only"
fi
rc=0; "$M" --quiet --db "$db" ingest readings "$T/r.csv" >/dev/null || rc=$?
[ "$rc" -le 1 ] || fail "ingest readings exited $rc"
"$M" --quiet --db "$db" ingest grid "$T/g.csv" >/dev/null || fail "ingest grid"
"$M" --quiet --db "$db" ingest weather "$T/w.csv" >/dev/null || fail "ingest weather"

# build everything, then test everything
rc=0; run "$db" run >"$T/run.out" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/run.out"; fail "transform run exited $rc"; }
grep -q "^Done. PASS=13 WARN=0 ERROR=0 SKIP=0 TOTAL=13$" "$T/run.out" ||
  { cat "$T/run.out"; fail "run summary"; }
grep -q "OK created sql table model dim_meters" "$T/run.out" || fail "dim_meters not reported"
rc=0; run "$db" test >"$T/test.out" || rc=$?
[ "$rc" -eq 0 ] || { grep -E "FAIL|ERROR" "$T/test.out"; fail "transform test exited $rc"; }
grep -Eq "^Done. PASS=[0-9]+ WARN=[0-9]+ ERROR=0 SKIP=0 TOTAL=[0-9]+$" "$T/test.out" ||
  fail "test summary: $(tail -1 "$T/test.out")"
"$M" --quiet --db "$db" --json transform test --project "$P" >"$T/test.json" || fail "test --json"
expect_eq "$(json "$T/test.json" "d['totals']['error']")" 0 "json errors"
expect_eq "$(json "$T/test.json" "len(d['results']) == d['totals']['total'] > 120")" True "json results"
expect_eq "$(json "$T/test.json" "sorted(set(r['status'] for r in d['results']) - {'pass', 'warn'})")" "[]" "json statuses"

# the number of stored readings, read through metrify's connection: `readings` is a virtual
# table over the store's reading blocks, which plain SQLite clients do not have
mkdir -p "$T/probe/models"
printf 'name: probe\n' >"$T/probe/dbt_project.yml"
printf 'version: 2\nsources:\n  - name: metrify\n    tables:\n      - name: readings\n' \
  >"$T/probe/models/sources.yml"
printf "{{ config(materialized='table') }}select count(*) as n from {{ source('metrify', 'readings') }}\n" \
  >"$T/probe/models/probe_readings.sql"
"$M" --quiet --db "$db" transform run --project "$T/probe" >/dev/null || fail "probe project"

# the models compute what Metrify computes: daily totals equal rollup_daily, one row per meter
checks=$(python3 - "$db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n, bad = c.execute("""select count(*), sum(abs(d.daily_consumption_kwh - r.kwh) > 1e-6)
    from daily_consumption_metrics d join meters m on m.meter_id = d.meter_id
    join rollup_daily r on r.meter_key = m.meter_key and r.day = d.day_start""").fetchone()
days = c.execute("select count(*) from rollup_daily").fetchone()[0]
meters = c.execute("select count(*) from meters").fetchone()[0]
dims = c.execute("select count(*) from dim_meters").fetchone()[0]
fct = c.execute("select sum(reading_count) from fct_smart_meter_analytics").fetchone()[0]
rd = c.execute("select n from probe_readings").fetchone()[0]
# r squared of daily kWh on temperature, recomputed here from the joined rows
import collections
pts = collections.defaultdict(list)
for m, x, y in c.execute("""select meter_id, avg_temperature_c, daily_consumption_kwh
        from weather_correlation_metrics where avg_temperature_c is not null"""):
    pts[m].append((x, y))
worst = 0.0
for m, r2 in c.execute("select meter_id, r_squared from weather_sensitivity_metrics where r_squared is not null"):
    xs, ys = zip(*pts[m])
    k = len(xs); mx = sum(xs) / k; my = sum(ys) / k
    sxy = sum((a - mx) * (b - my) for a, b in zip(xs, ys))
    sxx = sum((a - mx) ** 2 for a in xs); syy = sum((b - my) ** 2 for b in ys)
    worst = max(worst, abs(sxy * sxy / (sxx * syy) - r2))
n_r2 = c.execute("select count(r_squared) from weather_sensitivity_metrics").fetchone()[0]
print(n == days and n > 0, bad, meters == dims, fct == rd and rd > 0, n_r2 > 0 and worst < 1e-6)
EOF
)
expect_eq "$checks" "True 0 True True True" "daily=rollup_daily, no mismatch, dim_meters=meters, fct=readings, r2"

# --vars reaches the models: a zero-day lookback keeps only the newest day in the fact table
cp "$db" "$T/v.db"
"$M" --quiet --db "$T/v.db" transform run --project "$P" --select fct_smart_meter_analytics \
  --vars '{fact_lookback_days: 0}' >/dev/null || fail "run --vars"
expect_eq "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(distinct day_start) from fct_smart_meter_analytics').fetchone()[0])" "$T/v.db")" 1 "days kept with fact_lookback_days 0"
rc=0; "$M" --quiet --db "$T/v.db" transform run --project "$P" --vars '{a: [1]}' 2>/dev/null || rc=$?
expect_eq "$rc" 2 "exit for a non-scalar --vars value"

# --select with graph operators
run "$db" run --select +dim_meters >"$T/sel.out" || fail "run --select +dim_meters"
grep -q "TOTAL=3$" "$T/sel.out" || fail "+dim_meters should build 3 nodes: $(tail -1 "$T/sel.out")"
"$M" --quiet --db "$db" transform list --project "$P" --select stg_grid_status+ >"$T/ls.out"
expect_eq "$(grep -c '^metrify\.[a-z]*\.[a-z_]*$' "$T/ls.out")" 3 "stg_grid_status+ = itself, dim_grid_operators, grid_performance_metrics"
grep -q "^metrify.metrics.grid_performance_metrics$" "$T/ls.out" || fail "list misses a descendant"
"$M" --quiet --db "$db" transform compile --project "$P" --select fct_smart_meter_analytics >"$T/c.sql"
grep -q "{{\|{#" "$T/c.sql" && fail "compiled SQL still has Jinja"
grep -q "from stg_smart_meter_readings" "$T/c.sql" || fail "ref not compiled to the relation"
rc=0; "$M" --quiet --db "$db" transform run --project "$P" --select no_such_model 2>"$T/e.out" || rc=$?
expect_eq "$rc" 2 "unknown selector exit"

# corruption 1: a meter type outside the vocabulary (the store's CHECK bypassed on purpose)
cp "$db" "$T/c1.db"
py "$T/c1.db" "c.execute('pragma ignore_check_constraints = on'); c.execute(\"update meters set type = 'hydraulic' where meter_id = 'SM000003'\")"
run "$T/c1.db" run >/dev/null || fail "run on c1"
rc=0; run "$T/c1.db" test >"$T/c1.out" || rc=$?
expect_eq "$rc" 1 "test exit with an invalid meter type"
grep -q "FAIL 1 accepted_values_dim_meters_meter_type__residential_commercial_industrial" "$T/c1.out" ||
  fail "accepted_values on dim_meters.meter_type did not fail"
grep -q "FAIL 1 relationships_dim_meters_meter_type__meter_type__ref_meter_types_" "$T/c1.out" ||
  fail "relationships dim_meters -> meter_types did not fail"
rc=0; run "$T/c1.db" test --select dim_meters >/dev/null || rc=$?
expect_eq "$rc" 1 "test --select dim_meters on c1"
run "$T/c1.db" test --select dim_grid_operators >/dev/null || fail "dim_grid_operators tests should pass on c1"

# corruption 2: a duplicated row in the meter_types seed (in a copy of the project): the seed's
# unique key fails, and every meter of that type appears twice in dim_meters
cp -r "$P" "$T/dup"
tail -1 "$P/seeds/meter_types.csv" >>"$T/dup/seeds/meter_types.csv"
cp "$db" "$T/c2.db"
"$M" --quiet --db "$T/c2.db" transform run --project "$T/dup" >/dev/null || fail "run on c2"
rc=0; "$M" --quiet --db "$T/c2.db" transform test --project "$T/dup" >"$T/c2.out" || rc=$?
expect_eq "$rc" 1 "test exit with a duplicated seed row"
grep -q "FAIL 1 unique_meter_types_meter_type" "$T/c2.out" || fail "unique meter_types.meter_type did not fail"
grep -Eq "FAIL [1-9][0-9]* unique_dim_meters_meter_id" "$T/c2.out" || fail "unique dim_meters.meter_id did not fail"

# corruption 3: a quality score outside 0..1
cp "$db" "$T/c3.db"
py "$T/c3.db" "c.execute(\"update weather_observations set score = 1.5 where station_id = 'WS000' and ts = (select max(ts) from weather_observations where station_id = 'WS000')\")"
run "$T/c3.db" run >/dev/null || fail "run on c3"
rc=0; run "$T/c3.db" test --select stg_weather_data >"$T/c3.out" || rc=$?
expect_eq "$rc" 1 "test exit with a score of 1.5"
grep -q "FAIL 1 dbt_utils_accepted_range_stg_weather_data_quality_score__0_1" "$T/c3.out" ||
  fail "quality_score range did not fail"

# a model that fails to build: ERROR, and its descendants SKIP
cp -r "$P" "$T/proj"
printf 'select no_such_column from {{ ref(%s) }}\n' "'stg_weather_data'" >"$T/proj/models/marts/dim_weather_stations.sql"
rc=0; "$M" --quiet --db "$db" transform run --project "$T/proj" >"$T/err.out" || rc=$?
expect_eq "$rc" 1 "run exit with a broken model"
grep -q "ERROR sql table model dim_weather_stations" "$T/err.out" || fail "broken model not ERROR"
grep -q "SKIP relation weather_correlation_metrics" "$T/err.out" || fail "descendant not skipped"

# outside the Jinja subset: rejected with file:line:col, exit 2
cp -r "$P" "$T/proj2"
printf 'select 1 as x\n{%% if true %%}where 1 = 1{%% endif %%}\n' >"$T/proj2/models/staging/stg_bad.sql"
rc=0; "$M" --quiet --db "$db" transform compile --project "$T/proj2" 2>"$T/j.out" >/dev/null || rc=$?
expect_eq "$rc" 2 "compile exit for {% if %}"
grep -q "models/staging/stg_bad.sql:2:1: statement '{% if %}' is not in the Jinja subset" "$T/j.out" ||
  fail "subset error message: $(cat "$T/j.out")"

# the same project on PostgreSQL: same store contents, same model outputs (when this build has
# the PostgreSQL store and a server can be started; else the PostgreSQL run is reported pending)
fingerprint() { # $1 = a command that runs SQL from stdin and prints rows as a|b|c
  for q in "select meter_id, operational_status, overall_quality_tier, consumption_tier, total_readings, anomaly_count from dim_meters" \
    "select fact_id, reading_count, anomaly_count, time_period_classification, year_number, month_of_year, day_of_month, day_name from fct_smart_meter_analytics" \
    "select metric_id, consumption_category, data_completeness, total_readings, overall_quality_tier from daily_consumption_metrics" \
    "select operator_id, stability_classification, risk_classification, operator_status, grid_health_status from grid_performance_metrics" \
    "select metric_id, station_id, temperature_impact from weather_correlation_metrics" \
    "select meter_id, n_days, correlation_strength, weather_dependency from weather_sensitivity_metrics"; do
    echo "$q" | $1 | LC_ALL=C sort
  done
}
sqlite_rows() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print('|'.join('' if v is None else str(v) for v in r)) for r in c.execute(sys.stdin.read())]" "$db"; }
pgsh="$TOP/tests/harness/pg_server.sh"
pg_note="pending: this build has no PostgreSQL store"
if [ -f "$pgsh" ]; then
  # shellcheck source=/dev/null
  . "$pgsh"
  if pg_start >"$T/pg.log" 2>&1; then
    trap 'pg_stop; rm -rf "$T"' EXIT
    if "$M" --quiet --db "$PG_URL" import meters "$T/m/meters.csv" >/dev/null 2>"$T/pgi.err"; then
      "$M" --quiet --db "$PG_URL" import operators "$T/m/operators.csv" || fail "pg import operators"
      "$M" --quiet --db "$PG_URL" import stations "$T/m/stations.csv" || fail "pg import stations"
      if [ -f "$ref/smart_meters.csv" ]; then
        "$M" --quiet --db "$PG_URL" import meters "$ref/smart_meters.csv" || fail "pg import reference meters"
        "$M" --quiet --db "$PG_URL" import operators "$ref/grid_operators.csv" || fail "pg import reference operators"
        "$M" --quiet --db "$PG_URL" import stations "$ref/weather_stations.csv" || fail "pg import reference stations"
      fi
      rc=0; "$M" --quiet --db "$PG_URL" ingest readings "$T/r.csv" >/dev/null || rc=$?
      [ "$rc" -le 1 ] || fail "pg ingest readings exited $rc"
      "$M" --quiet --db "$PG_URL" ingest grid "$T/g.csv" >/dev/null || fail "pg ingest grid"
      "$M" --quiet --db "$PG_URL" ingest weather "$T/w.csv" >/dev/null || fail "pg ingest weather"
      run "$PG_URL" run >"$T/pgrun.out" || { cat "$T/pgrun.out"; fail "pg transform run"; }
      grep -q "^Done. PASS=13 WARN=0 ERROR=0 SKIP=0 TOTAL=13$" "$T/pgrun.out" || fail "pg run summary"
      run "$PG_URL" run >/dev/null || fail "pg transform run, second time (rebuild over existing relations)"
      run "$PG_URL" test >"$T/pgtest.out" || { grep -E "FAIL|ERROR" "$T/pgtest.out"; fail "pg transform test"; }
      fingerprint sqlite_rows >"$T/fp.sqlite"
      fingerprint "$PG_BIN/psql -X -q -At -F| $PG_URL" >"$T/fp.pg"
      [ "$(wc -l <"$T/fp.sqlite")" -gt 100 ] || fail "fingerprint too small"
      diff "$T/fp.sqlite" "$T/fp.pg" >"$T/fp.diff" || { head -20 "$T/fp.diff"; fail "SQLite and PostgreSQL models differ"; }
      "$PG_BIN/psql" -X -q "$PG_URL" -c "update reading_days set score = array_to_string((coalesce(string_to_array(score, ',')::float8[], array_fill(score_all, array[n])))[1:n - 1] || 1.5::float8, ','), score_all = null where n > 0 and (day, meter_key) in (select ts - ts % 86400, meter_key from readings where ts = (select max(ts) from readings))" || fail "pg corrupt"
      run "$PG_URL" run --select stg_smart_meter_readings >/dev/null || fail "pg rebuild staging"
      rc=0; run "$PG_URL" test --select stg_smart_meter_readings >"$T/pgc.out" || rc=$?
      expect_eq "$rc" 1 "pg test exit with a score of 1.5"
      grep -q "FAIL [0-9]* dbt_utils_accepted_range_stg_smart_meter_readings_quality_score__0_1" "$T/pgc.out" ||
        fail "pg quality_score range did not fail"
      pg_note="ok, model outputs identical to SQLite's"
    else
      pg_note="pending: $(head -1 "$T/pgi.err")"
    fi
  else
    pg_note="skipped: $(tail -1 "$T/pg.log")"
  fi
fi
echo "transform: SQLite run ok; PostgreSQL run $pg_note"
