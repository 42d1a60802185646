/* weather_model.c - change-point degree-day regression, normalisation, hourly alignment. */
#include "core/weather_model.h"

#include <math.h>
#include <string.h>

#include "core/stats.h"

static const char *const dd_kind_names[] = {"none", "heating", "cooling", "both"};

const char *mtr_dd_kind_name(enum mtr_dd_kind k)
{
    return (unsigned)k <= MTR_DD_BOTH ? dd_kind_names[k] : "unknown";
}

void mtr_dd_opts_default(struct mtr_dd_opts *o)
{
    o->step_c = 0.1;
    o->min_days = 10;
    o->min_t = 2.0;
    o->force_kind = -1;
}

static int has_h(enum mtr_dd_kind k)
{
    return k == MTR_DD_HEATING || k == MTR_DD_BOTH;
}
static int has_c(enum mtr_dd_kind k)
{
    return k == MTR_DD_COOLING || k == MTR_DD_BOTH;
}

/* Design row of one day: [1, hdd?, cdd?]; returns the number of columns. */
static int design_row(enum mtr_dd_kind kind, double th, double tc, double t, double *row)
{
    int k = 0;
    row[k++] = 1;
    if (has_h(kind))
        row[k++] = t < th ? th - t : 0;
    if (has_c(kind))
        row[k++] = t > tc ? t - tc : 0;
    return k;
}

int mtr_dd_fit_at(const double *temp_c, const double *kwh, size_t n, enum mtr_dd_kind kind,
                  double th, double tc, struct mtr_dd_model *out, struct mtr_errbuf *eb)
{
    double A[9] = {0}, v[3] = {0}, inv[9], beta[3], row[3], ysum = 0;
    int k = 1;
    int64_t m = 0;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->th = has_h(kind) ? th : NAN;
    out->tc = has_c(kind) ? tc : NAN;
    out->t_min = INFINITY;
    out->t_max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isnan(temp_c[i]) || isnan(kwh[i]))
            continue;
        k = design_row(kind, th, tc, temp_c[i], row);
        for (int a = 0; a < k; a++) {
            v[a] += row[a] * kwh[i];
            for (int b = 0; b < k; b++)
                A[a * k + b] += row[a] * row[b];
        }
        ysum += kwh[i];
        if (temp_c[i] < out->t_min)
            out->t_min = temp_c[i];
        if (temp_c[i] > out->t_max)
            out->t_max = temp_c[i];
        m++;
    }
    k = 1 + has_h(kind) + has_c(kind);
    out->n = m;
    if (m < k + 1)
        return mtr_err(eb, MTR_EINVAL, "degree-day fit: %lld usable days for %d coefficients",
                       (long long)m, k);
    if (mtr_ols_solve(A, v, k, beta, inv) != MTR_OK)
        return mtr_err(eb, MTR_ERANGE,
                       "degree-day fit: singular design (no days beyond a change point?)");
    double ymean = ysum / (double)m, sse = 0, sst = 0, eh = 0, ec = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(temp_c[i]) || isnan(kwh[i]))
            continue;
        design_row(kind, th, tc, temp_c[i], row);
        double f = 0;
        for (int a = 0; a < k; a++)
            f += row[a] * beta[a];
        sse += (kwh[i] - f) * (kwh[i] - f);
        sst += (kwh[i] - ymean) * (kwh[i] - ymean);
        if (has_h(kind))
            eh += row[1];
        if (has_c(kind))
            ec += row[k - 1];
    }
    double sigma2 = sse / (double)(m - k);
    int j = 0;
    out->b0 = beta[j];
    out->se_b0 = sqrt(sigma2 * fmax(inv[0], 0));
    if (has_h(kind)) {
        j++;
        out->bh = beta[j];
        out->se_bh = sqrt(sigma2 * fmax(inv[j * k + j], 0));
    }
    if (has_c(kind)) {
        j++;
        out->bc = beta[j];
        out->se_bc = sqrt(sigma2 * fmax(inv[j * k + j], 0));
    }
    out->sse = sse;
    out->r2 = sst > 0 ? 1 - sse / sst : 0;
    int p = k + has_h(kind) + has_c(kind); /* change points are fitted parameters too */
    out->bic = (double)m * log(fmax(sse, 1e-300) / (double)m) + p * log((double)m);
    eh *= out->bh;
    ec *= out->bc;
    out->sensitivity = kind == MTR_DD_NONE ? 0 : (eh >= ec ? out->bh : out->bc);
    return MTR_OK;
}

/*
 * Candidate grid of the search: change points c_i = i * step for i in lo..hi. For each one, the
 * number of days strictly below / above it and the sufficient statistics of the heating term
 * h = max(0, c_i - T) and the cooling term c = max(0, T - c_i): their sums, sums of squares and
 * sums of products with kWh. With these, every candidate's normal equations are O(1): the
 * search costs O(days + grid + candidates) instead of O(days x candidates). Temperatures are
 * shifted by t0 and kWh centred (neither changes slopes or SSE; both keep the sums small, so the
 * differences in them lose fewer digits). Bounded on the stack, no allocation.
 */
#define DD_GRID_MAX 2048 /* 204.8 degC at 0.1 C: far beyond the plausible -60..60 C */
struct dd_grid {
    long lo, hi;
    int64_t m;
    double t0, yy; /* temperature shift; sum of squared centred kWh (= SST) */
    int below[DD_GRID_MAX], above[DD_GRID_MAX];
    double sh[DD_GRID_MAX], shh[DD_GRID_MAX], syh[DD_GRID_MAX];
    double sc[DD_GRID_MAX], scc[DD_GRID_MAX], syc[DD_GRID_MAX];
};

/* Fills the grid's statistics from the usable days (lo, hi, m set by the caller). */
static void grid_fill(struct dd_grid *g, const double *temp, const double *kwh, size_t n,
                      double step, double ymean)
{
    long G = g->hi - g->lo + 1;
    /* bucket sums: a day counts as below c_i for i >= jb and above c_i for i <= ja */
    double bs[4][DD_GRID_MAX + 1], as[4][DD_GRID_MAX + 1];
    memset(bs, 0, sizeof bs);
    memset(as, 0, sizeof as);
    int bn[DD_GRID_MAX + 1] = {0}, an[DD_GRID_MAX + 1] = {0};
    g->yy = 0;
    for (size_t d = 0; d < n; d++) {
        if (isnan(temp[d]) || isnan(kwh[d]))
            continue;
        double t = temp[d], tt = t - g->t0, y = kwh[d] - ymean;
        g->yy += y * y;
        /* the same comparisons as a direct count: T < c_i and T > c_i */
        long jb = (long)floor(t / step) - 1;
        while (jb < g->lo || (jb <= g->hi && !(t < (double)jb * step)))
            jb++; /* first i with t < c_i (hi + 1: none) */
        while (jb - 1 >= g->lo && t < (double)(jb - 1) * step)
            jb--;
        long ja = (long)ceil(t / step) + 1;
        while (ja > g->hi || (ja >= g->lo && !(t > (double)ja * step)))
            ja--; /* last i with t > c_i (lo - 1: none) */
        while (ja + 1 <= g->hi && t > (double)(ja + 1) * step)
            ja++;
        double v[4] = {tt, tt * tt, y, tt * y};
        long kb = jb - g->lo, ka = ja - g->lo; /* kb in 0..G, ka in -1..G-1 */
        bn[kb]++;
        for (int q = 0; q < 4; q++)
            bs[q][kb] += v[q];
        if (ka >= 0) {
            an[ka]++;
            for (int q = 0; q < 4; q++)
                as[q][ka] += v[q];
        }
    }
    /* below: prefix over buckets 0..i; above: suffix over buckets i..G-1 */
    double pb[4] = {0}, pa[4] = {0};
    int cb = 0, ca = 0;
    for (long i = 0; i < G; i++) {
        cb += bn[i];
        for (int q = 0; q < 4; q++)
            pb[q] += bs[q][i];
        double c = (double)(g->lo + i) * step - g->t0;
        g->below[i] = cb;
        g->sh[i] = c * cb - pb[0];
        g->shh[i] = c * c * cb - 2 * c * pb[0] + pb[1];
        g->syh[i] = c * pb[2] - pb[3];
    }
    for (long i = G - 1; i >= 0; i--) {
        ca += an[i];
        for (int q = 0; q < 4; q++)
            pa[q] += as[q][i];
        double c = (double)(g->lo + i) * step - g->t0;
        g->above[i] = ca;
        g->sc[i] = pa[0] - c * ca;
        g->scc[i] = pa[1] - 2 * c * pa[0] + c * c * ca;
        g->syc[i] = pa[3] - c * pa[2];
    }
}

/*
 * Grid search of one variant; returns 0 with the best change points, -1 when no candidate.
 * Candidates and their order are those of the documented search; each is solved in closed form
 * from the grid statistics (kWh centred, so sum(y) = 0): heating-only / cooling-only are 2x2
 * systems, both is the arrow-shaped 3x3 system (sum(h c) = 0 because th <= tc).
 */
static int search(const struct dd_grid *g, enum mtr_dd_kind kind, const struct mtr_dd_opts *o,
                  double *best_th, double *best_tc)
{
    double best = INFINITY, m = (double)g->m;
    long hlo = has_h(kind) ? g->lo : 0, hhi = has_h(kind) ? g->hi : 0;
    for (long ih = hlo; ih <= hhi; ih++) {
        long a = ih - g->lo;
        double ph = 0, qh = 0;
        if (has_h(kind)) {
            int below = g->below[a];
            if (below < o->min_days || g->m - below < o->min_days)
                continue;
            if (!(g->shh[a] > 0))
                continue;
            ph = g->sh[a] * g->sh[a] / g->shh[a];
            qh = g->sh[a] * g->syh[a] / g->shh[a];
        }
        long clo = has_c(kind) ? (has_h(kind) ? ih : g->lo) : 0, chi = has_c(kind) ? g->hi : 0;
        for (long ic = clo; ic <= chi; ic++) {
            long b = ic - g->lo;
            double pc = 0, qc = 0;
            if (has_c(kind)) {
                int above = g->above[b];
                if (above < o->min_days)
                    break; /* fewer days above as tc rises: no later tc qualifies */
                if (g->m - above < o->min_days)
                    continue;
                if (!(g->scc[b] > 0))
                    continue;
                pc = g->sc[b] * g->sc[b] / g->scc[b];
                qc = g->sc[b] * g->syc[b] / g->scc[b];
            }
            /* b0 = (sum y - qh - qc) / (m - ph - pc) with sum y = 0 */
            double den = m - ph - pc;
            if (!(den > 1e-12 * m))
                continue; /* singular: a term collinear with the intercept */
            double b0 = -(qh + qc) / den, sse = g->yy, bh = 0, bc = 0;
            if (has_h(kind)) {
                bh = (g->syh[a] - g->sh[a] * b0) / g->shh[a];
                if (!(bh > 0))
                    continue;
                sse -= bh * g->syh[a];
            }
            if (has_c(kind)) {
                bc = (g->syc[b] - g->sc[b] * b0) / g->scc[b];
                if (!(bc > 0))
                    continue;
                sse -= bc * g->syc[b];
            }
            if (sse < best) {
                best = sse;
                *best_th = (double)ih * o->step_c;
                *best_tc = (double)ic * o->step_c;
            }
        }
    }
    return isinf(best) ? -1 : 0;
}

int mtr_dd_fit(const double *temp_c, const double *kwh, size_t n, const struct mtr_dd_opts *o,
               struct mtr_dd_model *out, struct mtr_errbuf *eb)
{
    struct mtr_dd_opts def;
    if (!o) {
        mtr_dd_opts_default(&def);
        o = &def;
    }
    if (!(o->step_c > 0))
        return mtr_err(eb, MTR_EINVAL, "degree-day fit: step must be positive");
    double tmin = INFINITY, tmax = -INFINITY;
    int64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(temp_c[i]) || isnan(kwh[i]))
            continue;
        tmin = fmin(tmin, temp_c[i]);
        tmax = fmax(tmax, temp_c[i]);
        m++;
    }
    if (m < 3)
        return mtr_err(eb, MTR_EINVAL, "degree-day fit: %lld usable days, need at least 3",
                       (long long)m);
    int rc = mtr_dd_fit_at(temp_c, kwh, n, MTR_DD_NONE, NAN, NAN, out, eb);
    if (rc != MTR_OK)
        return rc;
    static const struct dd_grid zero;
    struct dd_grid grid = zero, *g = &grid; /* ~130 KiB: bounded, no allocation */
    g->m = m;
    g->lo = (long)ceil(tmin / o->step_c - 1e-9);
    g->hi = (long)floor(tmax / o->step_c + 1e-9);
    if (g->hi - g->lo + 1 > DD_GRID_MAX)
        return mtr_err(eb, MTR_EINVAL, "degree-day fit: temperature range too wide for step %g",
                       o->step_c);
    g->t0 = round((tmin + tmax) / 2);
    grid_fill(g, temp_c, kwh, n, o->step_c, out->b0); /* b0 of the "none" fit = mean kWh */
    for (int kind = MTR_DD_HEATING; kind <= MTR_DD_BOTH; kind++) {
        if (o->force_kind >= 0 && kind != o->force_kind)
            continue;
        double th = NAN, tc = NAN;
        struct mtr_dd_model cand;
        if (search(g, kind, o, &th, &tc) != 0)
            continue;
        if (mtr_dd_fit_at(temp_c, kwh, n, kind, th, tc, &cand, NULL) != MTR_OK)
            continue;
        if (o->force_kind < 0) {
            if (has_h(kind) && !(cand.bh >= o->min_t * cand.se_bh))
                continue;
            if (has_c(kind) && !(cand.bc >= o->min_t * cand.se_bc))
                continue;
            if (!(cand.bic < out->bic))
                continue;
        }
        *out = cand;
    }
    return MTR_OK;
}

double mtr_dd_predict(const struct mtr_dd_model *m, double t)
{
    if (isnan(t))
        return NAN;
    double e = m->b0;
    if (has_h(m->kind) && t < m->th)
        e += m->bh * (m->th - t);
    if (has_c(m->kind) && t > m->tc)
        e += m->bc * (t - m->tc);
    return e;
}

void mtr_dd_normalize(const struct mtr_dd_model *m, const double *t_actual, const double *kwh,
                      const double *t_normal, size_t n, struct mtr_dd_normalized *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (isnan(t_actual[i]) || isnan(kwh[i]) || isnan(t_normal[i]))
            continue;
        out->n++;
        out->actual_kwh += kwh[i];
        out->predicted_actual += mtr_dd_predict(m, t_actual[i]);
        out->predicted_normal += mtr_dd_predict(m, t_normal[i]);
    }
    out->normalized_kwh = out->predicted_normal + (out->actual_kwh - out->predicted_actual);
}

int mtr_day_of_year(int64_t ts)
{
    /* Civil-from-days (proleptic Gregorian), avoiding gmtime's global state and time_t range. */
    int64_t days = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy_mar = doe - (365 * yoe + yoe / 4 - yoe / 100); /* 0 = 1 March */
    int64_t y = yoe + era * 400;
    int64_t mp = (5 * doy_mar + 2) / 153;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    if (month <= 2)
        y++;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    /* Days of March..December before 1 March are 59 (+1 in leap years) days into the year. */
    int64_t doy = month <= 2 ? doy_mar - 306 : doy_mar + 59 + leap;
    return (int)doy;
}

int mtr_dd_normal_temps(const int64_t *day_ts, const double *temp_c, size_t n, double normal[366])
{
    double sum[366] = {0};
    int cnt[366] = {0}, filled = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(temp_c[i]))
            continue;
        int d = mtr_day_of_year(day_ts[i]);
        sum[d] += temp_c[i];
        cnt[d]++;
    }
    for (int d = 0; d < 366; d++) {
        normal[d] = cnt[d] ? sum[d] / cnt[d] : NAN;
        filled += cnt[d] > 0;
    }
    if (filled == 0)
        return 0;
    for (int d = 0; d < 366; d++) {
        if (cnt[d])
            continue;
        int back = 1, fwd = 1;
        while (!cnt[(d - back + 366) % 366])
            back++;
        while (!cnt[(d + fwd) % 366])
            fwd++;
        double a = sum[(d - back + 366) % 366] / cnt[(d - back + 366) % 366];
        double b = sum[(d + fwd) % 366] / cnt[(d + fwd) % 366];
        normal[d] = a + (b - a) * back / (double)(back + fwd);
    }
    return filled;
}

int mtr_align_hourly(const int64_t *ts, const double *value, size_t n, int64_t start, size_t hours,
                     int max_gap_h, double *out_value, unsigned char *out_flag,
                     struct mtr_align_counts *counts, struct mtr_errbuf *eb)
{
    struct mtr_align_counts c;
    memset(&c, 0, sizeof c);
    if (start % 3600 != 0 || max_gap_h < 0)
        return mtr_err(eb, MTR_EINVAL, "align: start must be on the hour and max gap >= 0");
    /* out_value accumulates the sum of the hour's observations; the count lives in a scratch
     * use of the flag byte (saturating), so no allocation is needed. */
    for (size_t h = 0; h < hours; h++) {
        out_value[h] = 0;
        out_flag[h] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(value[i])) {
            c.skipped++;
            continue;
        }
        if (ts[i] < start || (uint64_t)((ts[i] - start) / 3600) >= hours) {
            c.outside++;
            continue;
        }
        size_t h = (size_t)((ts[i] - start) / 3600);
        if (out_flag[h] == 255) {
            c.skipped++;
            continue;
        }
        out_value[h] += value[i];
        out_flag[h]++;
        c.observations++;
    }
    for (size_t h = 0; h < hours; h++) {
        if (out_flag[h]) {
            out_value[h] /= out_flag[h];
            out_flag[h] = MTR_ALIGN_OBSERVED;
            c.observed_hours++;
        } else {
            out_value[h] = NAN;
            out_flag[h] = MTR_ALIGN_MISSING;
        }
    }
    for (size_t h = 0; h < hours;) {
        if (out_flag[h] != MTR_ALIGN_MISSING) {
            h++;
            continue;
        }
        size_t e = h;
        while (e < hours && out_flag[e] == MTR_ALIGN_MISSING)
            e++;
        size_t len = e - h;
        if (h > 0 && e < hours && len <= (size_t)max_gap_h) {
            double a = out_value[h - 1], b = out_value[e];
            for (size_t j = h; j < e; j++) {
                out_value[j] = a + (b - a) * (double)(j - h + 1) / (double)(len + 1);
                out_flag[j] = MTR_ALIGN_INTERPOLATED;
            }
            c.interpolated_hours += (int64_t)len;
            c.gaps_interpolated++;
        } else {
            c.missing_hours += (int64_t)len;
            c.gaps_excluded++;
        }
        h = e;
    }
    if (counts)
        *counts = c;
    return MTR_OK;
}

double mtr_haversine_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = 3.14159265358979323846 / 180.0;
    if (isnan(lat1) || isnan(lon1) || isnan(lat2) || isnan(lon2))
        return NAN;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * 6371.0 * asin(fmin(1.0, sqrt(a)));
}
