#!/usr/bin/env python3
"""Independent numpy/pandas check of `metrify analytics weather-impact --json` on the London data
(tests/integration/weather_cli_oracle.sh).

Daily kWh per household from the raw half-hourly files: days with all 48 half-hours, minus the
days in which the store flagged (questionable) or estimated an interval (from `metrify quality
--days --json`: the pipeline's validation verdict is an input, the arithmetic is not). Fleet and
operator: the ratio estimator of docs/analytics.md (mean level x sum of the usable households'
kWh / sum of their levels). Temperature: the station's whole
hourly series on an hourly grid from its first to its last observation, gaps of <= 2 h
interpolated between neighbours, a day's mean only when all 24 hours have a value.
Usage: weather_cli_oracle.py DATA_DIR WI_JSON QUALITY_JSON
"""
import glob, json, os, sys

import numpy as np
import pandas as pd

from dd_oracle import TOL, compare

data, wij, qj = sys.argv[1:4]
wi = json.load(open(wij))
fails = []


def check(name, a, b, tol=TOL):
    if not (abs(a - b) <= tol):
        fails.append(f"{name}: C {a!r} vs numpy {b!r}")


w = pd.read_csv(os.path.join(data, "weather_hourly_darksky.csv"), parse_dates=["time"])
w = w.groupby(w.time.dt.floor("H")).temperature.mean()
grid = pd.date_range(w.index.min().floor("D"), w.index.max().floor("D") + pd.Timedelta(hours=23), freq="H")
t = w.reindex(grid)
isna = t.isna().values
runs = (isna != np.roll(isna, 1)).cumsum()
run_len = pd.Series(isna).groupby(runs).transform("sum").values
interp = t.interpolate(limit_area="inside")
t = pd.Series(np.where(isna & (run_len <= 2), interp.values, t.values), index=grid)
tday_all = t.groupby(t.index.date).agg(lambda s: s.mean() if s.notna().all() and len(s) == 24 else np.nan)
st = wi["stations"][0]
check("interpolated hours", st["interpolated_hours"], int((isna & (run_len <= 2) & ~np.isnan(interp.values)).sum()), 0)
days_idx = pd.date_range("2013-01-01", periods=365).date
tday = tday_all.reindex(days_idx).values

bad = {}
for r in json.load(open(qj))["days"]:
    if r["flagged_intervals"] or r["estimated_intervals"]:
        bad.setdefault(r["meter_id"], set()).add(r["date"])

days = {}
for f in sorted(glob.glob(os.path.join(data, "halfhourly", "*.csv"))):
    mid = os.path.basename(f)[:-4]
    h = pd.read_csv(f, parse_dates=["tstp"])
    h["kwh"] = pd.to_numeric(h.iloc[:, 2].astype(str).str.strip(), errors="coerce")
    h = h[(h.tstp >= "2013-01-01") & (h.tstp < "2014-01-01")].dropna(subset=["kwh"])
    g = h.groupby(h.tstp.dt.date).kwh.agg(["sum", "count"])
    s = g["sum"].where(g["count"] == 48).reindex(days_idx)
    for d in bad.get(mid, ()):
        s[pd.Timestamp(d).date()] = np.nan
    s[np.isnan(tday)] = np.nan
    days[mid] = s.values
# the ratio estimator of the aggregate series: level L_m = the household's mean over its usable
# days; day value = mean(L) x sum(y_m) / sum(L_m) over the households usable that day
Y = np.vstack(list(days.values()))
L = np.nanmean(Y, axis=1)
use = ~np.isnan(Y)
fleet = np.where(use.any(0), L.mean() * np.nansum(Y, 0) / np.where(use, L[:, None], 0).sum(0), np.nan)


def as_c(x):
    m = x["model"]
    return {"n": x["correlation"]["n"], "r": x["correlation"]["r"], "p": x["correlation"]["p"],
            "kind": m["kind"], "th": m["balance_heating_c"] if m["balance_heating_c"] is not None else -999,
            "tc": m["balance_cooling_c"] if m["balance_cooling_c"] is not None else -999,
            "b0": m["base_kwh_per_day"], "bh": m["heating_slope"], "bc": m["cooling_slope"],
            "se_b0": m["se_base"], "se_bh": m["se_heating"], "se_bc": m["se_cooling"], "r2": m["r2"]}


series = [(x["id"], x, days[x["id"]]) for x in wi["meters"] if x["id"] in days]
series += [("UKPN", x, fleet) for x in wi["operators"] if x["id"] == "UKPN"]
series += [("fleet", wi["fleet"], fleet)]
if len(series) != len(days) + 2:
    fails.append(f"expected {len(days)} meters + operator + fleet, got {len(series)} series")
for sid, x, y in series:
    s = as_c(x)
    ok = ~np.isnan(y) & ~np.isnan(tday)
    check(sid + " model n", x["model"]["n"], int(ok.sum()), 0)
    compare(sid, s, tday[ok], y[ok], check, fails)
    print(f"{sid:10s} n={s['n']:3d} r={s['r']:+.6f} p={s['p']:.3g} kind={s['kind']:7s} th={s['th']:6.1f} "
          f"tc={s['tc']:6.1f} b0={s['b0']:.4f} bh={s['bh']:.4f} bc={s['bc']:.4f} r2={s['r2']:.4f}")
if wi["summary"]["meters_unlinked"] != 1:
    fails.append(f"the far meter should be unlinked: {wi['summary']}")
for f in fails:
    print("MISMATCH", f)
print("oracle: %d series compared, %d mismatches" % (len(series), len(fails)))
sys.exit(1 if fails else 0)
