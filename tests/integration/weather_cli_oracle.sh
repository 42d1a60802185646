#!/usr/bin/env bash
# The weather-impact CLI path on the real London data against an independent numpy/pandas
# computation: master data (10 households placed in London, one far away; an active London
# station and a closer but inactive one) -> nearest-station linking at import -> ingest of the
# LCL readings and the unsorted Dark Sky weather -> `metrify analytics weather-impact --json`
# (hourly rollups + stored weather). tests/integration/weather_cli_oracle.py recomputes daily kWh
# from the raw files (complete, measured, valid days: the days the store flagged or estimated
# anything in are taken from `metrify quality --days`), the hourly temperature grid with gaps
# <= 2 h interpolated, and compares r, p, coefficients, SEs, R2 to 1e-6 and the change points
# exactly. Also: `metrify forecast --backtest` beats the seasonal-naive baseline by MAE.
# Skips (77) without the data or numpy/pandas.
. "$(dirname "$0")/../harness/lib.sh"
L="$SHARED/data/london-smart-meters-lcl-2013"
if [ ! -f "$L/weather_hourly_darksky.csv" ] || [ ! -d "$L/halfhourly" ]; then
  echo "skip: London data not found at $L"; exit 77
fi
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import numpy, pandas' 2>/dev/null; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "skip: python3 with numpy and pandas not found (scripts/deps.sh installs them)"; exit 77; }
{
  echo "meter_id,latitude,longitude,status,meter_type,operator_id"
  i=0
  for f in "$L"/halfhourly/*.csv; do
    echo "$(basename "$f" .csv),51.$((40 + i)),-0.1$i,ACTIVE,residential,UKPN"; i=$((i + 1))
  done
  echo "FAR0001,40.4168,-3.7038,ACTIVE,residential,OTHER"
} > "$T/meters.csv"
cat > "$T/stations.csv" <<'CSV'
station_id,name,station_type,latitude,longitude,status,elevation_m
LONDON,London (Dark Sky),AUTOMATIC,51.5074,-0.1278,ACTIVE,11
CLOSED,Closed site,AUTOMATIC,51.45,-0.11,INACTIVE,20
CSV
"$M" --db "$T/m.db" --json import meters "$T/meters.csv" > "$T/im.json"
expect_eq "$(json "$T/im.json" 'd["station_linking"]["none_in_range"]')" 11 "no station yet"
"$M" --db "$T/m.db" --json import stations "$T/stations.csv" > "$T/is.json"
expect_eq "$(json "$T/is.json" 'd["station_linking"]["linked"], d["station_linking"]["none_in_range"]')" \
  "10 1" "linking after the stations arrive"
"$M" --db "$T/m.db" --quiet ingest readings --format lcl "$L"/halfhourly/*.csv
"$M" --db "$T/m.db" --quiet ingest weather --format darksky "$L/weather_hourly_darksky.csv"
"$M" --db "$T/m.db" --json analytics weather-impact --from 2013-01-01 --to 2014-01-01 > "$T/wi.json"
"$M" --db "$T/m.db" --json quality --days > "$T/q.json"
"$py" "$TOP/tests/integration/weather_cli_oracle.py" "$L" "$T/wi.json" "$T/q.json" ||
  fail "weather-impact differs from the numpy/pandas oracle"
"$M" --db "$T/m.db" --json forecast --backtest --days 184 > "$T/bt.json"
python3 - "$T/bt.json" <<'PY' || fail "fleet day-ahead forecast does not beat seasonal naive"
import json, sys
b = json.load(open(sys.argv[1]))
print(f"fleet backtest over {b['days']} days ({b['hours']} h): MAE weather {b['weather']['mae']:.4f} "
      f"(MAPE {b['weather']['mape']:.2f} %), profile-only {b['profile_only']['mae']:.4f}, "
      f"seasonal naive {b['seasonal_naive']['mae']:.4f} (MAPE {b['seasonal_naive']['mape']:.2f} %)")
assert b["days"] == 184 and b["weather"]["mae"] < b["seasonal_naive"]["mae"], b
PY
"$M" --db "$T/m.db" --json forecast > "$T/f.json"
expect_eq "$(json "$T/f.json" 'd["forecast"]["method"]')" profile_only "forecast without temperatures"
echo "weather_cli_oracle: all checks passed"
