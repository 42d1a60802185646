"""Independent numpy checks of the degree-day analytics, shared by weather_oracle.py (the C core
over the raw London files) and weather_cli_oracle.py (the `metrify analytics weather-impact`
output over a store): the Student-t p-value by numerical integration, OLS by numpy.linalg.lstsq
at given change points, and an independent vectorised change-point search with the documented
selection rule (positive slopes, minimum SSE; variant with the lowest BIC among those whose
slopes have t >= 2).
"""
import math
import numpy as np

TOL = 1e-6


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


def compare(sid, s, T, Y, check, fails):
    """Compares one series' C results s (dict: n, r, p, kind, th, tc, b0, bh, bc, se_*, r2) with
    numpy on the usable days T, Y; check(name, a, b, tol) records mismatches into fails."""
    check(sid + " n", s["n"], len(T), 0)
    r = float(np.corrcoef(T, Y)[0, 1])
    check(sid + " r", s["r"], r, TOL)
    tv = r * math.sqrt((len(T) - 2) / (1 - r * r))
    pv = t_p2(tv, len(T) - 2)
    check(sid + " p", s["p"], pv, max(1e-9, 1e-4 * pv))
    kind, th, tc = s["kind"], s["th"], s["tc"]
    beta, se, r2, sse, bic = ols(T, Y, kind, th, tc)
    names = ["b0"] + (["bh"] if kind in ("heating", "both") else []) + (["bc"] if kind in ("cooling", "both") else [])
    for i, nm in enumerate(names):
        check(f"{sid} {nm}", s[nm], float(beta[i]), TOL)
        check(f"{sid} se_{nm}", s["se_" + nm], float(se[i]), TOL)
    check(sid + " r2", s["r2"], r2, TOL)
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
        fails.append(f"{sid}: C chose {kind}, numpy chose {chosen}")
    else:
        check(sid + " th", th, pts[kind][0], 1e-9)
        check(sid + " tc", tc, pts[kind][1], 1e-9)
