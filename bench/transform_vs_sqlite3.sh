#!/usr/bin/env bash
# Transform benchmark: `metrify transform run` (every seed and model of dbt/, in dependency order,
# table swaps in transactions, readings decoded from the store's blocks through its virtual table)
# versus the sqlite3 shell running the same compiled SELECTs as plain CREATE VIEW / CREATE TABLE
# AS statements on a copy of the store whose readings are a plain table, in the same run. The
# ratio is the runner's and the block storage's cost over the SQL itself.
#   bench/transform_vs_sqlite3.sh [METERS] [DAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-200}
days=${2:-30}
make -s build/release/metrify
M=$PWD/build/release/metrify
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$M" -q simulate --meters "$meters" --days "$days" --seed 5 --out "$W/r.csv" --grid "$W/g.csv" \
  --weather "$W/w.csv" --master "$W/m"
for k in meters operators stations; do "$M" -q --db "$W/s.db" import "$k" "$W/m/$k.csv"; done
"$M" -q --db "$W/s.db" ingest readings "$W/r.csv" >/dev/null || true
"$M" -q --db "$W/s.db" ingest grid "$W/g.csv" >/dev/null
"$M" -q --db "$W/s.db" ingest weather "$W/w.csv" >/dev/null
cp "$W/s.db" "$W/base.db"
# `readings` is a virtual table over the store's reading blocks that only metrify's connections
# have; the shell baseline gets the same rows as a plain table, copied by metrify
mkdir -p "$W/copy/models"
printf 'name: copy\n' >"$W/copy/dbt_project.yml"
printf 'version: 2\nsources:\n  - name: metrify\n    tables:\n      - name: readings\n' \
  >"$W/copy/models/sources.yml"
printf "{{ config(materialized='table') }}select * from {{ source('metrify', 'readings') }}\n" \
  >"$W/copy/models/readings_rows.sql"
"$M" -q --db "$W/base.db" transform run --project "$W/copy" >/dev/null
sqlite3 "$W/base.db" "alter table readings_rows rename to readings"
rows=$(sqlite3 "$W/base.db" "select count(*) from readings")

# the baseline script: the seed by .import, then each compiled model as one CREATE statement
"$M" -q --db "$W/s.db" --json transform compile >"$W/nodes.json"
python3 - "$W/nodes.json" "$PWD/dbt/seeds" >"$W/base.sql" <<'PY'
import json, sys
print(".mode csv")
for n in json.load(open(sys.argv[1])):
    if n["resource_type"] == "seed":
        print(f".import {sys.argv[2]}/{n['name']}.csv {n['name']}")
    else:
        kind = "view" if n["materialized"] == "view" else "table"
        print(f"create {kind} {n['name']} as\n{n['compiled_sql']};")
PY

t0=$(date +%s.%N)
sqlite3 "$W/base.db" <"$W/base.sql"
t1=$(date +%s.%N)
"$M" -q --db "$W/s.db" transform run >/dev/null
t2=$(date +%s.%N)
"$M" -q --db "$W/s.db" transform test >/dev/null
t3=$(date +%s.%N)

python3 - "$t0" "$t1" "$t2" "$t3" "$rows" <<'PY'
import sys
t0, t1, t2, t3, rows = map(float, sys.argv[1:])
base, ours, tests = t1 - t0, t2 - t1, t3 - t2
print(f"readings                          {int(rows)}")
print(f"sqlite3 shell, same SQL (baseline) {base:.2f} s")
print(f"metrify transform run             {ours:.2f} s  ({rows / ours:,.0f} readings/s)")
print(f"ratio baseline/ours               {base / ours:.2f}x")
print(f"metrify transform test (all tests) {tests:.2f} s")
PY
