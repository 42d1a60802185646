#!/usr/bin/env bash
# Weather-impact analytics against an independent numpy/pandas computation on the London data:
# builds tests/oracle/weather_oracle.c (the C core over the raw files), then
# tests/integration/weather_oracle.py recomputes r, p, the degree-day coefficients, SEs, R^2 and
# the change-point search and compares to 1e-6; also asserts the fleet day-ahead forecast beats
# the seasonal-naive baseline by MAE. Skips (77) without the data or without numpy/pandas.
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
data="$top/../shared/data/london-smart-meters-lcl-2013"
if [ ! -f "$data/weather_hourly_darksky.csv" ] || [ ! -d "$data/halfhourly" ]; then
  echo "skip: London data not found at $data"; exit 77
fi
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import numpy, pandas' 2>/dev/null; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "skip: python3 with numpy and pandas not found (scripts/deps.sh installs them)"; exit 77; }
cd "$top"
make -s build/release/libmetrify.a
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -o "$tmp/weather_oracle" tests/oracle/weather_oracle.c \
  build/release/libmetrify.a -lm
"$tmp/weather_oracle" "$data" > "$tmp/c.json"
"$py" tests/integration/weather_oracle.py "$data" "$tmp/c.json"
