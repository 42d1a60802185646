/* test_stats.c - moments, Pearson and its p-value, incomplete beta, OLS, MAE/MAPE on cases
 * computed by hand (values in the comments). */
#include "core/stats.h"

#include "t.h"

static void test_moments(void)
{
    struct mtr_moments m;
    mtr_moments_init(&m);
    T_EQ_DBL(mtr_moments_var(&m), 0, 0);
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9, NAN};
    for (int i = 0; i < 9; i++)
        mtr_moments_add(&m, x[i]);
    T_EQ_INT(m.n, 8);
    T_EQ_DBL(m.mean, 5, 1e-12);
    T_EQ_DBL(mtr_moments_var(&m), 32.0 / 7.0, 1e-12);
}

static void test_pearson_hand(void)
{
    /* x = 1..5, y = 2 4 5 4 5: Sxy = 6, Sxx = 10, Syy = 6, r = 6/sqrt(60); t = 3/sqrt(2);
     * df = 3: p = 1 - (2/pi)(th + sin th cos th), th = atan(t/sqrt 3) -> 0.1240347 */
    const double x[] = {1, 2, 3, 4, 5, 99}, y[] = {2, 4, 5, 4, 5, NAN};
    struct mtr_corr c;
    mtr_pearson(x, y, 6, &c);
    T_EQ_INT(c.n, 5);
    T_EQ_INT(c.defined, 1);
    T_EQ_DBL(c.r, 6 / sqrt(60), 1e-12);
    T_EQ_DBL(c.t, 3 / sqrt(2), 1e-12);
    double th = atan(c.t / sqrt(3));
    T_EQ_DBL(c.p, 1 - 2 / M_PI * (th + sin(th) * cos(th)), 1e-10);
}

static void test_pearson_edges(void)
{
    struct mtr_corr c;
    const double x2[] = {1, 2}, y2[] = {3, 4};
    mtr_pearson(x2, y2, 2, &c); /* n < 3 */
    T_EQ_INT(c.defined, 0);
    T_EQ_DBL(c.r, 0, 0);
    T_EQ_DBL(c.p, 1, 0);
    const double xc[] = {1, 1, 1, 1}, yc[] = {1, 2, 3, 4};
    mtr_pearson(xc, yc, 4, &c); /* zero variance */
    T_EQ_INT(c.defined, 0);
    T_CHECK(!isnan(c.r) && !isnan(c.p));
    const double yl[] = {3, 5, 7, 9};
    mtr_pearson(yc, yl, 4, &c); /* perfect line */
    T_EQ_DBL(c.r, 1, 1e-15);
    T_EQ_DBL(c.p, 0, 0);
    const double yn[] = {9, 7, 5, 3};
    mtr_pearson(yc, yn, 4, &c);
    T_EQ_DBL(c.r, -1, 1e-15);
}

static void test_betai_and_t(void)
{
    T_EQ_DBL(mtr_betai(1, 1, 0.3), 0.3, 1e-14);    /* uniform */
    T_EQ_DBL(mtr_betai(3, 1, 0.5), 0.125, 1e-14);  /* x^a */
    T_EQ_DBL(mtr_betai(2, 2, 0.5), 0.5, 1e-14);    /* symmetric */
    T_EQ_DBL(mtr_betai(2, 3, 0.4), 0.5248, 1e-13); /* 1 - sum binomial: 0.5248 */
    T_CHECK(isnan(mtr_betai(-1, 1, 0.5)));
    T_EQ_DBL(mtr_student_t_p2(1, 1), 0.5, 1e-13); /* Cauchy: 1 - 2 atan(1)/pi */
    T_EQ_DBL(mtr_student_t_p2(2, 2), 1 - 2 / sqrt(6), 1e-13);
    T_EQ_DBL(mtr_student_t_p2(0, 10), 1, 1e-14);
    /* large df tends to the normal: P(|Z| > 1.959964) = 0.05 */
    T_EQ_DBL(mtr_student_t_p2(1.959963985, 1e7), 0.05, 1e-6);
    /* published table value: t = 2.228 at df 10 is the 0.05 two-sided point */
    T_EQ_DBL(mtr_student_t_p2(2.228138852, 10), 0.05, 1e-8);
}

static void test_ols_hand(void)
{
    /* y on [1, x] for x = 1..5, y = 2 4 5 4 5: slope 0.6, intercept 2.2, SSE 2.4, s2 = 0.8,
     * se(slope) = sqrt(0.8/10), se(intercept) = sqrt(0.8 (1/5 + 9/10)), R2 = 0.6 */
    const double X[] = {1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1, NAN};
    const double y[] = {2, 4, 5, 4, 5, 100};
    struct mtr_ols o;
    struct mtr_errbuf eb;
    T_EQ_INT(mtr_ols_fit(X, y, 6, 2, &o, &eb), MTR_OK);
    T_EQ_INT(o.n, 5);
    T_EQ_DBL(o.beta[0], 2.2, 1e-12);
    T_EQ_DBL(o.beta[1], 0.6, 1e-12);
    T_EQ_DBL(o.sse, 2.4, 1e-12);
    T_EQ_DBL(o.se[1], sqrt(0.08), 1e-12);
    T_EQ_DBL(o.se[0], sqrt(0.88), 1e-12);
    T_EQ_DBL(o.r2, 0.6, 1e-12);
}

static void test_ols_errors(void)
{
    struct mtr_ols o;
    struct mtr_errbuf eb;
    const double X[] = {1, 2, 1, 2, 1, 2, 1, 2}; /* second column constant: collinear */
    const double y[] = {1, 2, 3, 4};
    T_EQ_INT(mtr_ols_fit(X, y, 4, 2, &o, &eb), MTR_ERANGE);
    T_EQ_INT(mtr_ols_fit(X, y, 2, 2, &o, &eb), MTR_EINVAL); /* 2 rows for 2 coefficients */
    T_EQ_INT(mtr_ols_fit(X, y, 4, 0, &o, &eb), MTR_EINVAL);
    const double c[] = {1, 1, 1, 1}, yc[] = {3, 3, 3, 3};
    T_EQ_INT(mtr_ols_fit(c, yc, 4, 1, &o, &eb), MTR_OK); /* constant y: R2 0, no NAN */
    T_EQ_DBL(o.beta[0], 3, 1e-12);
    T_EQ_DBL(o.r2, 0, 0);
}

static void test_mae_mape(void)
{
    const double a[] = {1, 2, 0, 4}, p[] = {2, 2, 1, NAN};
    size_t used;
    T_EQ_DBL(mtr_mae(a, p, 4, &used), 2.0 / 3.0, 1e-12);
    T_EQ_INT(used, 3);
    T_EQ_DBL(mtr_mape(a, p, 4, &used), 50, 1e-12);
    T_EQ_INT(used, 2);
    T_CHECK(isnan(mtr_mae(a, p, 0, NULL)));
}

int main(void)
{
    T_RUN(test_moments);
    T_RUN(test_pearson_hand);
    T_RUN(test_pearson_edges);
    T_RUN(test_betai_and_t);
    T_RUN(test_ols_hand);
    T_RUN(test_ols_errors);
    T_RUN(test_mae_mape);
    return T_END();
}
