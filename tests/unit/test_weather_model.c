/* test_weather_model.c - degree-day fit (fixed points against OLS, simulated fleets with a known
 * sensitivity), normalisation, normal temperatures, day of year and hourly alignment. */
#include "core/stats.h"
#include "core/weather_model.h"

#include "t.h"

/* Deterministic pseudo-random numbers (LCG) and an approximately normal draw (sum of 12). */
static uint64_t rng = 42;
static double urand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += urand();
    return s - 6;
}

/* Simulated year(s): seasonal temperature plus weather noise, E from the model plus noise. */
static size_t simulate(double *t, double *e, size_t days, double b0, double bh, double th,
                       double bc, double tc, double noise)
{
    for (size_t d = 0; d < days; d++) {
        t[d] = 11 - 8 * cos(2 * M_PI * (double)d / 365.0) + 3 * nrand();
        e[d] = b0 + bh * fmax(0, th - t[d]) + bc * fmax(0, t[d] - tc) + noise * nrand();
    }
    return days;
}

static void test_fit_at_matches_ols(void)
{
    double t[60], e[60], X[180];
    rng = 7;
    for (int i = 0; i < 60; i++) {
        t[i] = -2 + 0.5 * i + nrand();
        e[i] = 10 + 0.8 * fmax(0, 15 - t[i]) + 0.5 * fmax(0, t[i] - 18) + nrand();
        X[3 * i] = 1;
        X[3 * i + 1] = fmax(0, 14.2 - t[i]);
        X[3 * i + 2] = fmax(0, t[i] - 16.5);
    }
    struct mtr_ols o;
    struct mtr_dd_model m;
    T_EQ_INT(mtr_ols_fit(X, e, 60, 3, &o, NULL), MTR_OK);
    T_EQ_INT(mtr_dd_fit_at(t, e, 60, MTR_DD_BOTH, 14.2, 16.5, &m, NULL), MTR_OK);
    T_EQ_DBL(m.b0, o.beta[0], 1e-9);
    T_EQ_DBL(m.bh, o.beta[1], 1e-9);
    T_EQ_DBL(m.bc, o.beta[2], 1e-9);
    T_EQ_DBL(m.se_bh, o.se[1], 1e-9);
    T_EQ_DBL(m.se_bc, o.se[2], 1e-9);
    T_EQ_DBL(m.r2, o.r2, 1e-12);
    T_EQ_INT(m.n, 60);
}

static void test_simulated_heating(void)
{
    static double t[730], e[730];
    struct mtr_dd_model m;
    struct mtr_errbuf eb;
    /* three fleets with different truths; sensitivity within 5 %, balance within 1 C */
    const double truth[3][3] = {{12, 0.8, 15.5}, {30, 2.5, 13.0}, {5, 0.3, 17.0}};
    for (int f = 0; f < 3; f++) {
        rng = 100 + (uint64_t)f;
        simulate(t, e, 730, truth[f][0], truth[f][1], truth[f][2], 0, 99, 0.1 * truth[f][0]);
        T_EQ_INT(mtr_dd_fit(t, e, 730, NULL, &m, &eb), MTR_OK);
        T_EQ_INT(m.kind, MTR_DD_HEATING);
        T_CHECK(fabs(m.sensitivity - truth[f][1]) <= 0.05 * truth[f][1]);
        T_CHECK(fabs(m.th - truth[f][2]) <= 1.0);
        T_CHECK(isnan(m.tc));
        T_CHECK(m.r2 > 0.5);
    }
}

static void test_simulated_both(void)
{
    static double t[1095], e[1095];
    struct mtr_dd_model m;
    rng = 9;
    simulate(t, e, 1095, 8, 0.6, 12, 1.2, 18, 0.5);
    T_EQ_INT(mtr_dd_fit(t, e, 1095, NULL, &m, NULL), MTR_OK);
    T_EQ_INT(m.kind, MTR_DD_BOTH);
    T_CHECK(fabs(m.bh - 0.6) <= 0.05 * 0.6);
    T_CHECK(fabs(m.bc - 1.2) <= 0.05 * 1.2);
    T_CHECK(fabs(m.th - 12) <= 1 && fabs(m.tc - 18) <= 1);
    T_CHECK(m.th <= m.tc);
}

static void test_no_dependence(void)
{
    double t[100], e[100];
    struct mtr_dd_model m;
    for (int i = 0; i < 100; i++) {
        t[i] = i * 0.3;
        e[i] = 7;
    }
    T_EQ_INT(mtr_dd_fit(t, e, 100, NULL, &m, NULL), MTR_OK);
    T_EQ_INT(m.kind, MTR_DD_NONE);
    T_EQ_DBL(m.b0, 7, 1e-12);
    T_EQ_DBL(m.r2, 0, 0);
    T_EQ_DBL(m.sensitivity, 0, 0);
    rng = 3;
    for (int i = 0; i < 100; i++)
        e[i] = 7 + nrand(); /* pure noise: slopes not significant -> none */
    T_EQ_INT(mtr_dd_fit(t, e, 100, NULL, &m, NULL), MTR_OK);
    T_EQ_INT(m.kind, MTR_DD_NONE);
    T_EQ_INT(mtr_dd_fit(t, e, 2, NULL, &m, NULL), MTR_EINVAL);
    const double tn[] = {NAN, NAN, NAN, 1};
    T_EQ_INT(mtr_dd_fit(tn, e, 4, NULL, &m, NULL), MTR_EINVAL);
}

static void test_predict_normalize(void)
{
    struct mtr_dd_model m = {.kind = MTR_DD_HEATING, .b0 = 10, .bh = 1, .th = 15, .tc = NAN};
    T_EQ_DBL(mtr_dd_predict(&m, 5), 20, 1e-12);
    T_EQ_DBL(mtr_dd_predict(&m, 20), 10, 1e-12);
    T_CHECK(isnan(mtr_dd_predict(&m, NAN)));
    /* actual T 5, 10 (E 20, 15), kWh 21, 14; normal 10, 10 (E 15, 15): 30 + (35 - 35) = 30 */
    const double ta[] = {5, 10, 0}, kwh[] = {21, 14, 50}, tn[] = {10, 10, NAN};
    struct mtr_dd_normalized out;
    mtr_dd_normalize(&m, ta, kwh, tn, 3, &out);
    T_EQ_INT(out.n, 2);
    T_EQ_DBL(out.actual_kwh, 35, 1e-12);
    T_EQ_DBL(out.predicted_actual, 35, 1e-12);
    T_EQ_DBL(out.predicted_normal, 30, 1e-12);
    T_EQ_DBL(out.normalized_kwh, 30, 1e-12);
}

static void test_day_of_year(void)
{
    T_EQ_INT(mtr_day_of_year(1356998400), 0);         /* 2013-01-01 */
    T_EQ_INT(mtr_day_of_year(1356998400 + 86399), 0); /* 23:59:59 */
    T_EQ_INT(mtr_day_of_year(1388448000), 364);       /* 2013-12-31 */
    T_EQ_INT(mtr_day_of_year(1356912000), 365);       /* 2012-12-31 (leap year) */
    T_EQ_INT(mtr_day_of_year(1330560000), 60);        /* 2012-03-01 */
    T_EQ_INT(mtr_day_of_year(1362096000), 59);        /* 2013-03-01 */
    T_EQ_INT(mtr_day_of_year(0), 0);                  /* 1970-01-01 */
    T_EQ_INT(mtr_day_of_year(-86400), 364);           /* 1969-12-31 */
}

static void test_normal_temps(void)
{
    const int64_t d0 = 1356998400; /* 2013-01-01 */
    const int64_t ts[] = {d0, d0 + 2 * 86400, d0 + 365 * 86400, d0 + 2 * 86400};
    const double t[] = {2, 6, 4, 8};
    double normal[366];
    T_EQ_INT(mtr_dd_normal_temps(ts, t, 4, normal), 2);
    T_EQ_DBL(normal[0], 3, 1e-12); /* 2013-01-01 and 2014-01-01 */
    T_EQ_DBL(normal[2], 7, 1e-12);
    T_EQ_DBL(normal[1], 5, 1e-12);                                  /* interpolated */
    T_EQ_DBL(normal[200], 3 + (7 - 3) * (366 - 200) / 364.0, 1e-9); /* circular */
    T_EQ_INT(mtr_dd_normal_temps(ts, t, 0, normal), 0);
}

static void test_align_hourly(void)
{
    const int64_t s = 1356998400;
    /* hours 0, 1, [2, 3 gap: 2 h], 4, [5..8 gap: 4 h], 9 (two observations), unsorted */
    const int64_t ts[] = {s + 9 * 3600 + 1800, s + 4 * 3600, s, s + 3600, s + 9 * 3600, s - 3600,
                          s + 20 * 3600,       s + 3600 * 7};
    const double v[] = {12, 8, 1, 2, 10, 99, 99, NAN};
    double out[11];
    unsigned char fl[11];
    struct mtr_align_counts c;
    T_EQ_INT(mtr_align_hourly(ts, v, 8, s, 11, 2, out, fl, &c, NULL), MTR_OK);
    T_EQ_DBL(out[0], 1, 0);
    T_EQ_DBL(out[2], 4, 1e-12);
    T_EQ_DBL(out[3], 6, 1e-12);
    T_EQ_INT(fl[2], MTR_ALIGN_INTERPOLATED);
    T_EQ_INT(fl[4], MTR_ALIGN_OBSERVED);
    T_CHECK(isnan(out[5]) && isnan(out[8]));
    T_EQ_INT(fl[6], MTR_ALIGN_MISSING);
    T_EQ_DBL(out[9], 11, 1e-12); /* mean of 10 and 12 */
    T_CHECK(isnan(out[10]));     /* trailing edge: no right neighbour */
    T_EQ_INT(c.observations, 5);
    T_EQ_INT(c.outside, 2);
    T_EQ_INT(c.skipped, 1);
    T_EQ_INT(c.observed_hours, 4);
    T_EQ_INT(c.interpolated_hours, 2);
    T_EQ_INT(c.missing_hours, 5);
    T_EQ_INT(c.gaps_interpolated, 1);
    T_EQ_INT(c.gaps_excluded, 2);
    T_EQ_INT(mtr_align_hourly(ts, v, 8, s + 1, 11, 2, out, fl, &c, NULL), MTR_EINVAL);
}

/* The documented search done the slow way: every candidate fitted by mtr_ols_fit on its design,
 * best SSE among positive slopes, variant by BIC among significant ones. */
static enum mtr_dd_kind brute_fit(const double *t, const double *y, size_t n, double *th,
                                  double *tc)
{
    static double X[400 * 3];
    double lo = INFINITY, hi = -INFINITY, best_bic;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, t[i]);
        hi = fmax(hi, t[i]);
    }
    struct mtr_dd_model none;
    mtr_dd_fit_at(t, y, n, MTR_DD_NONE, NAN, NAN, &none, NULL);
    best_bic = none.bic;
    enum mtr_dd_kind chosen = MTR_DD_NONE;
    for (int kind = MTR_DD_HEATING; kind <= MTR_DD_BOTH; kind++) {
        int hh = kind != MTR_DD_COOLING, cc = kind != MTR_DD_HEATING, k = 1 + hh + cc;
        double best = INFINITY, bth = NAN, btc = NAN;
        for (long ih = (long)ceil(lo * 10 - 1e-9); ih <= (long)floor(hi * 10 + 1e-9); ih++) {
            double a = ih * 0.1;
            int below = 0;
            for (size_t i = 0; i < n; i++)
                below += t[i] < a;
            if (hh && (below < 10 || (long)n - below < 10))
                continue;
            for (long ic = cc ? (hh ? ih : (long)ceil(lo * 10 - 1e-9)) : 0;
                 ic <= (cc ? (long)floor(hi * 10 + 1e-9) : 0); ic++) {
                double b = ic * 0.1;
                int above = 0;
                for (size_t i = 0; i < n; i++)
                    above += t[i] > b;
                if (cc && (above < 10 || (long)n - above < 10))
                    continue;
                for (size_t i = 0; i < n; i++) {
                    int j = 0;
                    X[i * k + j++] = 1;
                    if (hh)
                        X[i * k + j++] = fmax(0, a - t[i]);
                    if (cc)
                        X[i * k + j++] = fmax(0, t[i] - b);
                }
                struct mtr_ols o;
                if (mtr_ols_fit(X, y, n, k, &o, NULL) != 0)
                    continue;
                if ((hh && !(o.beta[1] > 0)) || (cc && !(o.beta[k - 1] > 0)))
                    continue;
                if (o.sse < best) {
                    best = o.sse;
                    bth = a;
                    btc = b;
                }
                if (!hh)
                    continue;
            }
            if (!hh)
                break;
        }
        if (isinf(best))
            continue;
        struct mtr_dd_model m;
        if (mtr_dd_fit_at(t, y, n, kind, bth, btc, &m, NULL) != 0)
            continue;
        if ((hh && !(m.bh >= 2 * m.se_bh)) || (cc && !(m.bc >= 2 * m.se_bc)) || !(m.bic < best_bic))
            continue;
        best_bic = m.bic;
        chosen = kind;
        *th = hh ? bth : NAN;
        *tc = cc ? btc : NAN;
    }
    return chosen;
}

/* The fast search (grid statistics, closed-form candidates) chooses what the slow one does. */
static void test_search_matches_brute_force(void)
{
    static double t[200], y[200];
    uint64_t x = 88172645463325252ULL;
    for (int run = 0; run < 12; run++) {
        size_t n = 60 + (size_t)run * 10;
        double th0 = 12 + run % 5, tc0 = th0 + 3 + run % 3, bh = 0.3 + 0.1 * run,
               bc = run % 3 ? 0.6 : 0, noise = run % 4 == 3 ? 3.0 : 0.4;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            double u = (double)(x >> 11) / 9007199254740992.0;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            double v = (double)(x >> 11) / 9007199254740992.0;
            t[i] = -4 + 30 * u;
            y[i] = 10 + bh * fmax(0, th0 - t[i]) + bc * fmax(0, t[i] - tc0) + noise * (v - 0.5);
        }
        double th = NAN, tc = NAN;
        enum mtr_dd_kind want = brute_fit(t, y, n, &th, &tc);
        struct mtr_dd_model m;
        T_EQ_INT(mtr_dd_fit(t, y, n, NULL, &m, NULL), 0);
        T_EQ_INT(m.kind, want);
        if (want != MTR_DD_NONE && want != MTR_DD_COOLING)
            T_EQ_DBL(m.th, th, 1e-9);
        if (want == MTR_DD_COOLING || want == MTR_DD_BOTH)
            T_EQ_DBL(m.tc, tc, 1e-9);
    }
}

static void test_haversine(void)
{
    /* one degree of latitude on a 6371 km sphere: 6371 * pi / 180 = 111.19492664 km */
    T_EQ_DBL(mtr_haversine_km(51.0, 0.0, 52.0, 0.0), 111.19492664455873, 1e-9);
    /* along the equator the same */
    T_EQ_DBL(mtr_haversine_km(0.0, 10.0, 0.0, 11.0), 111.19492664455873, 1e-9);
    /* a quarter of the equator: 6371 * pi / 2 */
    T_EQ_DBL(mtr_haversine_km(0.0, 0.0, 0.0, 90.0), 10007.543398010286, 1e-6);
    /* London (51.5074, -0.1278) to Paris (48.8566, 2.3522): 343.56 km on this sphere */
    T_EQ_DBL(mtr_haversine_km(51.5074, -0.1278, 48.8566, 2.3522), 343.56, 0.01);
    T_EQ_DBL(mtr_haversine_km(10, 20, 10, 20), 0.0, 0);
    T_CHECK(isnan(mtr_haversine_km(NAN, 0, 0, 0)));
}

int main(void)
{
    T_RUN(test_haversine);
    T_RUN(test_search_matches_brute_force);
    T_RUN(test_fit_at_matches_ols);
    T_RUN(test_simulated_heating);
    T_RUN(test_simulated_both);
    T_RUN(test_no_dependence);
    T_RUN(test_predict_normalize);
    T_RUN(test_day_of_year);
    T_RUN(test_normal_temps);
    T_RUN(test_align_hourly);
    return T_END();
}
