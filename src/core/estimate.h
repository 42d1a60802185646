/*
 * estimate.h - VEE estimation methods for missing intervals (pure). Linear interpolation for
 * short gaps (Itron/Oracle: up to a configured length, 3 h by default) and the reference-day
 * ("like day") method for longer ones: the same interval on the most recent like day.
 */
#ifndef MTR_ESTIMATE_H
#define MTR_ESTIMATE_H

#include <stdint.h>

/* Value of missing interval i (0-based) of n between known values a (before) and b (after). */
static inline double mtr_estimate_linear(double a, double b, int64_t n, int64_t i)
{
    return a + (b - a) * (double)(i + 1) / (double)(n + 1);
}

#define MTR_REF_CANDIDATES 3

/*
 * The reference intervals for a missing interval at ts, most preferred first: the same interval
 * one week earlier (same weekday), two weeks earlier, and the previous day when it is of the same
 * day type (weekday vs weekend; else 0). Fills out[MTR_REF_CANDIDATES]; 0 entries are unused.
 */
void mtr_estimate_reference_candidates(int64_t ts, int64_t out[MTR_REF_CANDIDATES]);

#endif
