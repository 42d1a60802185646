#!/usr/bin/env python3
"""Independent numpy/pandas check of the weather-impact analytics (tests/integration/weather_oracle.sh).

Reads the same London files with pandas, builds daily kWh (complete days only) and daily mean
temperature (hourly grid, gaps <= 2 h interpolated), and compares with the C driver's JSON:
Pearson r (numpy.corrcoef), p-value (numerical integration of the Student-t density), OLS at the
C-chosen change points (numpy.linalg.lstsq), and an independent vectorised grid search with the
same documented selection rule. Exit 0 when everything agrees, 1 otherwise.
Usage: weather_oracle.py DATA_DIR C_JSON
"""
import json, math, sys, glob, os
import numpy as np
import pandas as pd

from dd_oracle import TOL, compare
data, cjson = sys.argv[1], sys.argv[2]
c = json.load(open(cjson))
fails = []

def check(name, a, b, tol=TOL):
    if not (abs(a - b) <= tol):
        fails.append(f"{name}: C {a!r} vs numpy {b!r}")

# weather: hourly grid of 2013, gaps <= 2 h interpolated between neighbours
w = pd.read_csv(os.path.join(data, "weather_hourly_darksky.csv"), parse_dates=["time"])
w = w[(w.time >= "2013-01-01") & (w.time < "2014-01-01")].groupby("time").temperature.mean()
grid = pd.date_range("2013-01-01", periods=8760, freq="H")
t = w.reindex(grid)
isna = t.isna().values
runs = (isna != np.roll(isna, 1)).cumsum()
run_len = pd.Series(isna).groupby(runs).transform("sum").values
interp = t.interpolate(limit_area="inside")
t = pd.Series(np.where(isna & (run_len <= 2), interp.values, t.values), index=grid)
check("interpolated hours", c["weather"]["interpolated_hours"], int((isna & (run_len <= 2)).sum()), 0)
tday = t.groupby(t.index.date).agg(lambda s: s.mean() if s.notna().all() else np.nan).values

# households: complete days (48 half-hours) only; fleet = mean over the complete households
days = {}
for f in sorted(glob.glob(os.path.join(data, "halfhourly", "*.csv"))):
    h = pd.read_csv(f, parse_dates=["tstp"])
    h["kwh"] = pd.to_numeric(h.iloc[:, 2].astype(str).str.strip(), errors="coerce")
    h = h[(h.tstp >= "2013-01-01") & (h.tstp < "2014-01-01")].dropna(subset=["kwh"])
    g = h.groupby(h.tstp.dt.date).kwh.agg(["sum", "count"])
    s = g["sum"].where(g["count"] == 48).reindex(pd.date_range("2013-01-01", periods=365).date)
    days[os.path.basename(f)[:-4]] = s.values
days["fleet"] = np.nanmean(np.vstack(list(days.values())), axis=0)

for s in c["series"]:
    y = days[s["id"]]
    ok = ~np.isnan(y) & ~np.isnan(tday)
    compare(s["id"], s, tday[ok], y[ok], check, fails)
    print(f"{s['id']:10s} n={s['n']:3d} r={s['r']:+.6f} p={s['p']:.3g} kind={s['kind']:7s} "
          f"th={s['th']:6.1f} tc={s['tc']:6.1f} b0={s['b0']:.4f} bh={s['bh']:.4f} bc={s['bc']:.4f} r2={s['r2']:.4f}")

bt = c["backtest"]
print(f"backtest fleet day-ahead over {bt['days']} days: MAE model {bt['mae_model']:.4f} "
      f"(MAPE {bt['mape_model']:.2f} %), profile-only {bt['mae_profile_only']:.4f}, "
      f"seasonal naive {bt['mae_naive']:.4f} (MAPE {bt['mape_naive']:.2f} %) kWh/h per household")
if not bt["mae_model"] < bt["mae_naive"]:
    fails.append("the day-ahead forecast does not beat the seasonal-naive baseline by MAE")
for f in fails:
    print("MISMATCH", f)
print("oracle: %d series compared, %d mismatches" % (len(c["series"]), len(fails)))
sys.exit(1 if fails else 0)
