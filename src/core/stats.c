/* stats.c - moments, Pearson with p-value, incomplete beta, small OLS, MAE/MAPE (see stats.h). */
#include "core/stats.h"

#include <math.h>
#include <string.h>

void mtr_moments_init(struct mtr_moments *m)
{
    m->n = 0;
    m->mean = 0;
    m->m2 = 0;
}

void mtr_moments_add(struct mtr_moments *m, double x)
{
    if (isnan(x))
        return;
    m->n++;
    double d = x - m->mean;
    m->mean += d / (double)m->n;
    m->m2 += d * (x - m->mean);
}

double mtr_moments_var(const struct mtr_moments *m)
{
    return m->n < 2 ? 0.0 : m->m2 / (double)(m->n - 1);
}

void mtr_pearson(const double *x, const double *y, size_t n, struct mtr_corr *out)
{
    /* Two passes (means, then centred sums): the classical one-pass sum formula loses digits
     * when the means are large against the spread, and the oracle compares to 1e-6. */
    double sx = 0, sy = 0;
    int64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        sx += x[i];
        sy += y[i];
        m++;
    }
    out->n = m;
    out->defined = 0;
    out->r = 0;
    out->t = 0;
    out->p = 1;
    if (m < 3)
        return;
    double mx = sx / (double)m, my = sy / (double)m, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if (!(sxx > 0) || !(syy > 0))
        return;
    double r = sxy / sqrt(sxx * syy);
    if (r > 1)
        r = 1;
    if (r < -1)
        r = -1;
    out->defined = 1;
    out->r = r;
    double df = (double)(m - 2);
    if (1 - r * r <= 0) {
        out->t = r > 0 ? INFINITY : -INFINITY;
        out->p = 0;
        return;
    }
    out->t = r * sqrt(df / (1 - r * r));
    out->p = mtr_student_t_p2(out->t, df);
}

/* Continued fraction of the incomplete beta, evaluated with the modified Lentz method: the
 * even and odd partial numerators are m(b-m)x / ((a+2m-1)(a+2m)) and
 * -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)); it converges fast for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double f = d;
    for (int m = 1; m <= 1000; m++) {
        double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        for (int half = 0; half < 2; half++) {
            d = 1 + num * d;
            if (fabs(d) < tiny)
                d = tiny;
            c = 1 + num / c;
            if (fabs(c) < tiny)
                c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (half == 1 && fabs(delta - 1) < eps)
                return f;
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        }
    }
    return f;
}

double mtr_betai(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1))
        return NAN;
    if (x == 0 || x == 1)
        return x;
    double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lfront) * beta_cf(a, b, x) / a;
    return 1 - exp(lfront) * beta_cf(b, a, 1 - x) / b;
}

double mtr_student_t_p2(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return 0;
    return mtr_betai(df / 2, 0.5, df / (df + t * t));
}

int mtr_ols_solve(const double *A, const double *v, int k, double *beta, double *inv)
{
    double L[MTR_OLS_KMAX][MTR_OLS_KMAX], z[MTR_OLS_KMAX], col[MTR_OLS_KMAX];
    if (k < 1 || k > MTR_OLS_KMAX)
        return MTR_EINVAL;
    /* Cholesky A = L L'; a pivot that vanishes relative to its diagonal means collinearity. */
    for (int a = 0; a < k; a++) {
        for (int b = 0; b <= a; b++) {
            double s = A[a * k + b];
            for (int c = 0; c < b; c++)
                s -= L[a][c] * L[b][c];
            if (a == b) {
                double diag = A[a * k + a];
                if (!(s > 1e-12 * (diag > 0 ? diag : 1)))
                    return MTR_ERANGE;
                L[a][a] = sqrt(s);
            } else {
                L[a][b] = s / L[b][b];
            }
        }
    }
    /* Forward then back substitution for L L' x = rhs; rhs = v, then the unit vectors. */
    for (int j = -1; j < k; j++) {
        if (j >= 0 && !inv)
            break;
        for (int a = 0; a < k; a++) {
            double s = j < 0 ? v[a] : (a == j ? 1 : 0);
            for (int c = 0; c < a; c++)
                s -= L[a][c] * z[c];
            z[a] = s / L[a][a];
        }
        for (int a = k - 1; a >= 0; a--) {
            double s = z[a];
            for (int c = a + 1; c < k; c++)
                s -= L[c][a] * col[c];
            col[a] = s / L[a][a];
        }
        for (int a = 0; a < k; a++) {
            if (j < 0)
                beta[a] = col[a];
            else
                inv[a * k + j] = col[a];
        }
    }
    return MTR_OK;
}

int mtr_ols_fit(const double *X, const double *y, size_t n, int k, struct mtr_ols *out,
                struct mtr_errbuf *eb)
{
    double A[MTR_OLS_KMAX][MTR_OLS_KMAX] = {{0}}, v[MTR_OLS_KMAX] = {0};
    memset(out, 0, sizeof *out);
    if (k < 1 || k > MTR_OLS_KMAX)
        return mtr_err(eb, MTR_EINVAL, "ols: %d regressors, allowed 1..%d", k, MTR_OLS_KMAX);
    out->k = k;
    int64_t m = 0;
    double ysum = 0;
    for (size_t i = 0; i < n; i++) {
        const double *row = X + i * (size_t)k;
        int bad = isnan(y[i]);
        for (int j = 0; j < k && !bad; j++)
            bad = isnan(row[j]);
        if (bad)
            continue;
        m++;
        ysum += y[i];
        for (int a = 0; a < k; a++) {
            v[a] += row[a] * y[i];
            for (int b = 0; b <= a; b++)
                A[a][b] += row[a] * row[b];
        }
    }
    out->n = m;
    if (m < k + 1)
        return mtr_err(eb, MTR_EINVAL, "ols: %lld usable rows for %d regressors", (long long)m, k);
    double Af[MTR_OLS_KMAX * MTR_OLS_KMAX], inv[MTR_OLS_KMAX * MTR_OLS_KMAX];
    for (int a = 0; a < k; a++)
        for (int b = 0; b <= a; b++)
            Af[a * k + b] = Af[b * k + a] = A[a][b];
    if (mtr_ols_solve(Af, v, k, out->beta, inv) != MTR_OK)
        return mtr_err(eb, MTR_ERANGE, "ols: a regressor is constant or collinear with others");
    /* Residuals recomputed from the data, not from y'y - b'X'y, to keep SSE exact. */
    double ymean = ysum / (double)m, sse = 0, sst = 0;
    for (size_t i = 0; i < n; i++) {
        const double *row = X + i * (size_t)k;
        int bad = isnan(y[i]);
        for (int j = 0; j < k && !bad; j++)
            bad = isnan(row[j]);
        if (bad)
            continue;
        double f = 0;
        for (int j = 0; j < k; j++)
            f += row[j] * out->beta[j];
        sse += (y[i] - f) * (y[i] - f);
        sst += (y[i] - ymean) * (y[i] - ymean);
    }
    out->sse = sse;
    out->sst = sst;
    out->sigma2 = sse / (double)(m - k);
    out->r2 = sst > 0 ? 1 - sse / sst : 0;
    for (int a = 0; a < k; a++)
        out->se[a] = sqrt(out->sigma2 * (inv[a * k + a] > 0 ? inv[a * k + a] : 0));
    return MTR_OK;
}

double mtr_mae(const double *actual, const double *pred, size_t n, size_t *used)
{
    double s = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(actual[i]) || isnan(pred[i]))
            continue;
        s += fabs(actual[i] - pred[i]);
        m++;
    }
    if (used)
        *used = m;
    return m ? s / (double)m : NAN;
}

double mtr_mape(const double *actual, const double *pred, size_t n, size_t *used)
{
    double s = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(actual[i]) || isnan(pred[i]) || actual[i] == 0)
            continue;
        s += fabs(actual[i] - pred[i]) / fabs(actual[i]);
        m++;
    }
    if (used)
        *used = m;
    return m ? 100.0 * s / (double)m : NAN;
}
