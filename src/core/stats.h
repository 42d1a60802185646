/*
 * stats.h - small, dependency-free statistics for the analytics core: running moments (Welford),
 * Pearson correlation with its two-sided p-value (Student t through the regularized incomplete
 * beta function), ordinary least squares for a handful of regressors with standard errors and
 * R^2, and forecast error measures (MAE, MAPE). Pure functions over caller-owned arrays; NAN
 * entries mean "not delivered" and are skipped pairwise. No allocation.
 */
#ifndef MTR_STATS_H
#define MTR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Running count, mean and sum of squared deviations (Welford's update: stable in one pass). */
struct mtr_moments {
    int64_t n;
    double mean, m2;
};
void mtr_moments_init(struct mtr_moments *m);
void mtr_moments_add(struct mtr_moments *m, double x); /* NAN is ignored */
/* Sample variance (divisor n-1); 0 when n < 2, so an undefined spread never propagates NAN. */
double mtr_moments_var(const struct mtr_moments *m);

/*
 * Pearson correlation of the pairs (x[i], y[i]) where both are present.
 * n = pairs used; r in -1..1; t = r * sqrt((n-2)/(1-r^2)); p = two-sided p-value of t with n-2
 * degrees of freedom. `defined` is 0 when n < 3 or either variable has zero variance: then r = 0,
 * t = 0, p = 1 (no evidence of correlation) so no NAN reaches reports. |r| = 1 gives p = 0.
 */
struct mtr_corr {
    int64_t n;
    int defined;
    double r, t, p;
};
/* Borrows x and y (n entries each). Never fails. */
void mtr_pearson(const double *x, const double *y, size_t n, struct mtr_corr *out);

/* Regularized incomplete beta I_x(a, b), a, b > 0, x in 0..1 (continued fraction, |err| ~1e-14).
 * Returns NAN for arguments outside the domain. */
double mtr_betai(double a, double b, double x);
/* Two-sided p-value P(|T| >= |t|) of Student's t with df > 0 degrees of freedom. */
double mtr_student_t_p2(double t, double df);

/* OLS for y = X beta + e with at most MTR_OLS_KMAX regressors (X includes the intercept column
 * if wanted). se from sigma^2 (X'X)^-1 with sigma^2 = SSE / (n - k); r2 = 1 - SSE / SST
 * (SST about the mean of y; r2 = 0 when SST = 0). */
#define MTR_OLS_KMAX 8
struct mtr_ols {
    int k;
    int64_t n;
    double beta[MTR_OLS_KMAX], se[MTR_OLS_KMAX];
    double sse, sst, sigma2, r2;
};
/*
 * Fits by Cholesky on the normal equations. X is row-major n x k (borrowed), y has n entries;
 * rows with any NAN are skipped. Errors: MTR_EINVAL (k outside 1..MTR_OLS_KMAX, or fewer than
 * k + 1 usable rows), MTR_ERANGE (X'X singular: a constant or collinear regressor).
 */
int mtr_ols_fit(const double *X, const double *y, size_t n, int k, struct mtr_ols *out,
                struct mtr_errbuf *eb);

/*
 * Solves the k x k normal equations A beta = v (A symmetric positive definite, row-major,
 * borrowed) by Cholesky; writes beta (k entries) and, if inv is non-NULL, A^-1 (k x k).
 * Errors: MTR_EINVAL (k outside 1..MTR_OLS_KMAX), MTR_ERANGE (A singular to working precision).
 */
int mtr_ols_solve(const double *A, const double *v, int k, double *beta, double *inv);

/* Mean absolute error over pairs where both are present; *used (may be NULL) gets the count.
 * 0 pairs -> NAN (there is no error to report, and the caller must say so). */
double mtr_mae(const double *actual, const double *pred, size_t n, size_t *used);
/* Mean absolute percentage error in percent, over pairs with actual != 0 (|a - p| / |a|).
 * 0 usable pairs -> NAN. */
double mtr_mape(const double *actual, const double *pred, size_t n, size_t *used);

#endif
