#!/usr/bin/env bash
# Weather-impact benchmark: a simulated fleet (default 10,000 meters x 90 days of 15-minute data,
# 86.4 M readings, 20 weather stations) is streamed from `metrify simulate` into `metrify ingest`
# (no CSV on disk), the meters are linked to their nearest station at import, and then
#   metrify analytics weather-impact --no-meters   (operators + fleet)
#   metrify analytics weather-impact               (every meter + operators + fleet, JSON)
#   metrify forecast --backtest --days 14          (fleet, from the hourly rollups)
# are timed. They read the rollups, never the raw readings. Named baselines, measured in the same
# run: a plain `sqlite3` scan of rollup_daily (count, sum of kWh) and of the hourly rollup blocks
# (count, sum of blob lengths), and the ingest that built the rollups. Target: weather impact <= 5 s.
#   bench/weather_impact.sh [METERS] [DAYS] [WORKDIR]
# The ingest of 86.4 M readings takes a long while (tens of minutes on 2 cores) and ~8 GB of
# disk in WORKDIR (default: a temp dir, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-10000}
days=${2:-90}
make -s build/release/metrify
M=$PWD/build/release/metrify
if [ -n "${3:-}" ]; then W=$3; mkdir -p "$W"; else W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; fi
now() { date +%s.%N; }

if [ ! -s "$W/done" ]; then
  rm -f "$W"/m.db*
  "$M" -q simulate --meters "$meters" --days "$days" --seed 11 --out /dev/null \
    --weather "$W/w.csv" --master "$W/master"
  "$M" -q --db "$W/m.db" import operators "$W/master/operators.csv"
  "$M" -q --db "$W/m.db" import stations "$W/master/stations.csv"
  "$M" --db "$W/m.db" --json import meters "$W/master/meters.csv" > "$W/link.json"
  "$M" -q --db "$W/m.db" ingest weather "$W/w.csv"
  t0=$(now)
  "$M" -q simulate --meters "$meters" --days "$days" --seed 11 --out - |
    "$M" -q --db "$W/m.db" --json ingest readings - > "$W/ingest.json" || true
  t1=$(now)
  echo "$t0 $t1" > "$W/done"
fi
read -r t0 t1 < "$W/done"

t2=$(now); sqlite3 "$W/m.db" 'SELECT count(*), sum(kwh) FROM rollup_daily' > /dev/null
t3=$(now); sqlite3 "$W/m.db" 'SELECT count(*), sum(length(data)) FROM rollup_hour_blocks' > /dev/null
t4=$(now); "$M" --db "$W/m.db" --json analytics weather-impact --no-meters > "$W/fleet.json"
t5=$(now); "$M" --db "$W/m.db" --json analytics weather-impact > "$W/all.json"
t6=$(now); "$M" --db "$W/m.db" --json forecast --backtest --days 14 > "$W/bt.json"
t7=$(now)

python3 - "$W" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" "$t7" <<'PY'
import json, sys
w = sys.argv[1]
t0, t1, t2, t3, t4, t5, t6, t7 = map(float, sys.argv[2:])
ing = json.load(open(f"{w}/ingest.json"))
link = json.load(open(f"{w}/link.json"))["station_linking"]
fleet = json.load(open(f"{w}/fleet.json"))
allm = json.load(open(f"{w}/all.json"))
bt = json.load(open(f"{w}/bt.json"))
f = fleet["fleet"]
print(f"fleet                       {fleet['summary']['meters']:,} meters, {ing['read']:,} readings read, "
      f"{link['linked']:,} meters linked to {link['active_stations']} stations")
print(f"ingest (baseline)           {t1 - t0:8.2f} s")
print(f"sqlite3 scan rollup_daily   {t3 - t2:8.2f} s  ({fleet['summary']['day_rows']:,} rows)")
print(f"sqlite3 scan hour blocks    {t4 - t3:8.2f} s")
print(f"weather-impact fleet+ops    {t5 - t4:8.2f} s  (target <= 5 s)  ingest / this = {(t1 - t0) / (t5 - t4):,.0f}x; "
      f"ratio to the rollup_daily scan {(t5 - t4) / (t3 - t2):.2f}x")
print(f"weather-impact every meter  {t6 - t5:8.2f} s  (target <= 5 s)  {len(allm['meters']):,} meter models; "
      f"ratio to the rollup_daily scan {(t6 - t5) / (t3 - t2):.2f}x")
print(f"forecast backtest (hourly)  {t7 - t6:8.2f} s  MAE {bt['weather']['mae']:.4f} vs naive {bt['seasonal_naive']['mae']:.4f}")
s = allm["summary"]
print(f"meters: {s['meters']:,}, without a complete day {s['meters_no_data']:,}, unlinked {s['meters_unlinked']:,}")
m = f["model"]
print(f"fleet model: {m['kind']}, Th {m['balance_heating_c']}, sensitivity {m['sensitivity_kwh_per_c_day']:.3f} kWh/C/day, r {f['correlation']['r']:.3f}, R2 {m['r2']:.3f}")
PY
