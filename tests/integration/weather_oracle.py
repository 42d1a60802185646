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

TOL = 1e-6
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

def t_p2(tv, df):
    """Two-sided p of Student t by integrating the density (Simpson) - independent of betai."""
    tv = abs(tv)
    lc = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    x = np.linspace(0, tv, 200001)
    pdf = np.exp(lc - (df + 1) / 2 * np.log1p(x * x / df))
    inner = (x[1] - x[0]) / 3 * (pdf[0] + pdf[-1] + 4 * pdf[1:-1:2].sum() + 2 * pdf[2:-1:2].sum())
    return max(0.0, 1 - 2 * inner)

def design(T, kind, th, tc):
    cols = [np.ones_like(T)]
    if kind in ("heating", "both"): cols.append(np.maximum(0, th - T))
    if kind in ("cooling", "both"): cols.append(np.maximum(0, T - tc))
    return np.column_stack(cols)

def ols(T, y, kind, th, tc):
    X = design(T, kind, th, tc)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    res = y - X @ beta
    sse = float(res @ res)
    n, k = X.shape
    se = np.sqrt(sse / (n - k) * np.diag(np.linalg.inv(X.T @ X)))
    r2 = 1 - sse / float(((y - y.mean()) ** 2).sum())
    p = k + (kind in ("heating", "both")) + (kind in ("cooling", "both"))
    bic = n * math.log(sse / n) + p * math.log(n)
    return beta, se, r2, sse, bic

def sse_many(T, y, cols_list):
    """SSE of many candidate designs at once: (P, n, k) stacked normal equations."""
    X = np.stack(cols_list)                      # P x n x k
    A = np.einsum("pni,pnj->pij", X, X)
    v = np.einsum("pni,n->pi", X, y)
    beta = np.linalg.solve(A, v[..., None])[..., 0]
    res = y[None, :] - np.einsum("pnk,pk->pn", X, beta)
    return (res ** 2).sum(1), beta

def search(T, y, kind, step=0.1, min_days=10):
    lo, hi = math.ceil(T.min() / step - 1e-9), math.floor(T.max() / step + 1e-9)
    m = len(T)
    cands = []
    for ih in (range(lo, hi + 1) if kind in ("heating", "both") else [0]):
        th = ih * step
        if kind in ("heating", "both"):
            b = int((T < th).sum())
            if b < min_days or m - b < min_days: continue
        for ic in (range(ih if kind == "both" else lo, hi + 1) if kind in ("cooling", "both") else [0]):
            tc = ic * step
            if kind in ("cooling", "both"):
                a = int((T > tc).sum())
                if a < min_days or m - a < min_days: continue
            cands.append((th, tc))
    if not cands: return None
    best = None
    for i in range(0, len(cands), 2000):
        chunk = cands[i:i + 2000]
        sse, beta = sse_many(T, y, [design(T, kind, th, tc) for th, tc in chunk])
        ok = (beta[:, 1:] > 0).all(1)
        sse = np.where(ok, sse, np.inf)
        j = int(np.argmin(sse))
        if np.isfinite(sse[j]) and (best is None or sse[j] < best[0]):
            best = (sse[j], chunk[j])
    return best

for s in c["series"]:
    y = days[s["id"]]
    ok = ~np.isnan(y) & ~np.isnan(tday)
    T, Y = tday[ok], y[ok]
    check(s["id"] + " n", s["n"], int(ok.sum()), 0)
    r = float(np.corrcoef(T, Y)[0, 1])
    check(s["id"] + " r", s["r"], r)
    tv = r * math.sqrt((len(T) - 2) / (1 - r * r))
    pv = t_p2(tv, len(T) - 2)
    check(s["id"] + " p", s["p"], pv, max(1e-9, 1e-4 * pv))
    kind, th, tc = s["kind"], s["th"], s["tc"]
    beta, se, r2, sse, bic = ols(T, Y, kind, th, tc)
    names = ["b0"] + (["bh"] if kind in ("heating", "both") else []) + (["bc"] if kind in ("cooling", "both") else [])
    for i, nm in enumerate(names):
        check(f"{s['id']} {nm}", s[nm], float(beta[i]))
        check(f"{s['id']} se_{nm}", s["se_" + nm], float(se[i]))
    check(s["id"] + " r2", s["r2"], r2)
    # independent selection: best change points per variant, slopes significant (t >= 2), min BIC
    chosen, cbic = "none", ols(T, Y, "none", 0, 0)[4]
    pts = {"none": (-999, -999)}
    for k in ("heating", "cooling", "both"):
        b = search(T, Y, k)
        if b is None: continue
        kth, ktc = b[1]
        kb, kse, _, _, kbic = ols(T, Y, k, kth, ktc)
        if (kb[1:] < 2 * kse[1:]).any() or not kbic < cbic: continue
        chosen, cbic = k, kbic
        pts[k] = (kth if k != "cooling" else -999, ktc if k != "heating" else -999)
    if chosen != kind:
        fails.append(f"{s['id']}: C chose {kind}, numpy chose {chosen}")
    else:
        check(s["id"] + " th", th, pts[kind][0], 1e-9)
        check(s["id"] + " tc", tc, pts[kind][1], 1e-9)
    print(f"{s['id']:10s} n={s['n']:3d} r={s['r']:+.6f} p={s['p']:.3g} kind={kind:7s} "
          f"th={th:6.1f} tc={tc:6.1f} b0={s['b0']:.4f} bh={s['bh']:.4f} bc={s['bc']:.4f} r2={s['r2']:.4f}")

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
