/*
 * t.h - the tiny unit-test harness every tests/unit/test_*.c uses.
 *
 * A test is a `static void test_name(void)`; main() runs each with T_RUN() and returns T_END().
 * A check that fails prints file:line and the values, marks the running test failed and carries on,
 * so one run shows every failure. T_END() prints "N passed, N failed" (tests, not checks), the
 * closing line scripts/run-tests.sh adds up, and returns non-zero when anything failed.
 */
#ifndef MTR_T_H
#define MTR_T_H

#include <math.h>
#include <stdio.h>
#include <string.h>

extern int t_failed_checks; /* failures inside the running test */
extern int t_passed, t_failed;
extern const char *t_current;

void t_fail(const char *file, int line, const char *fmt, ...);

#define T_CHECK(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            t_fail(__FILE__, __LINE__, "check failed: %s", #cond);                                 \
    } while (0)
#define T_EQ_INT(a, b)                                                                             \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        if (t_a_ != t_b_)                                                                          \
            t_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, t_a_, t_b_);              \
    } while (0)
#define T_EQ_DBL(a, b, eps)                                                                        \
    do {                                                                                           \
        double t_a_ = (a), t_b_ = (b);                                                             \
        if (!(fabs(t_a_ - t_b_) <= (eps)))                                                         \
            t_fail(__FILE__, __LINE__, "%s == %s: %.9g != %.9g (eps %g)", #a, #b, t_a_, t_b_,      \
                   (double)(eps));                                                                 \
    } while (0)
#define T_EQ_STR(a, b)                                                                             \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0)                                             \
            t_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                       \
                   t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                                \
    } while (0)
#define T_RUN(fn)                                                                                  \
    do {                                                                                           \
        t_current = #fn;                                                                           \
        t_failed_checks = 0;                                                                       \
        fn();                                                                                      \
        if (t_failed_checks) {                                                                     \
            t_failed++;                                                                            \
            printf("FAIL %s\n", #fn);                                                              \
        } else {                                                                                   \
            t_passed++;                                                                            \
        }                                                                                          \
    } while (0)
#define T_END() (printf("%d passed, %d failed\n", t_passed, t_failed), t_failed ? 1 : 0)

#endif
