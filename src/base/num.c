/*
 * num.c - see num.h. The grammar is checked here, not by strtod, so that strtod's extensions
 * (hex floats, inf/nan, locale) can never leak into accepted input.
 */
#include "base/num.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "base/err.h"

#define NUM_TEXT_MAX 400

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static double slow_strtod(const char *s, size_t len, int *rc)
{
    char tmp[NUM_TEXT_MAX + 1];
    for (size_t i = 0; i < len; i++)
        tmp[i] = s[i];
    tmp[len] = 0;
    pthread_once(&c_locale_once, c_locale_init);
    errno = 0;
    char *end;
    double v = c_locale ? strtod_l(tmp, &end, c_locale) : strtod(tmp, &end);
    if (end != tmp + len)
        *rc = MTR_EPARSE;
    else if (errno == ERANGE && isinf(v))
        *rc = MTR_ERANGE;
    else
        *rc = 0; /* underflow to 0 or a subnormal is what strtod returns: keep it */
    return v;
}

int mtr_parse_double(const char *s, size_t len, double *out)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len > NUM_TEXT_MAX)
        return MTR_EPARSE;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    uint64_t mant = 0;
    int sig = 0;       /* significant digits taken into mant (leading zeros skipped) */
    int dropped = 0;   /* integer digits beyond 19 that did not fit: scale by 10 each */
    int frac_used = 0; /* fraction digits taken into mant */
    int ndig = 0;      /* all digits seen, to reject "." and "e5" */
    int nonzero_dropped = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                sig++;
        } else {
            dropped++;
            nonzero_dropped |= s[i] != '0';
        }
        ndig++;
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant)
                    sig++;
                frac_used++;
            } else {
                nonzero_dropped |= s[i] != '0';
            }
            ndig++;
            i++;
        }
    }
    if (ndig == 0)
        return MTR_EPARSE;
    long exp10 = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t e0 = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0)
            return MTR_EPARSE;
        if (eneg)
            exp10 = -exp10;
    }
    if (i != len)
        return MTR_EPARSE;
    long e = exp10 + dropped - frac_used;
    if (!nonzero_dropped && mant < ((uint64_t)1 << 53) && e >= -22 && e <= 22) {
        double v = (double)mant;
        v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
        *out = neg ? -v : v;
        return 0;
    }
    if (mant == 0 && !nonzero_dropped) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    int rc;
    double v = slow_strtod(s, len, &rc);
    if (rc == 0)
        *out = v;
    return rc;
}

int mtr_num_is_nonfinite_word(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len && (*s == '+' || *s == '-')) {
        s++;
        len--;
    }
    return (len == 3 && (strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0)) ||
           (len == 8 && strncasecmp(s, "infinity", 8) == 0);
}
