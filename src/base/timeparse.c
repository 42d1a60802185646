/*
 * timeparse.c - fixed-position ISO-8601 parser and formatter (see timeparse.h). The civil-date
 * conversions follow Howard Hinnant's era-based algorithm (400-year eras of 146097 days), which
 * is exact for every proleptic Gregorian date without tables or loops.
 */
#include "base/timeparse.h"

#include <stdio.h>

#include "base/err.h"

int64_t mtr_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                                 /* 0..399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365, March-based */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void mtr_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = dd;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int mtr_days_in_month(int y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

size_t mtr_time_format(int64_t t, char buf[24])
{
    int64_t days = t / 86400, sod = t % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int y, m, d;
    mtr_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, 24, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(sod / 3600),
                     (int)(sod / 60 % 60), (int)(sod % 60));
    return n < 0 ? 0 : (n > 23 ? 23 : (size_t)n);
}

static int dig(char c)
{
    return c >= '0' && c <= '9';
}

/* Two digits at s (caller checked bounds); -1 when not digits. */
static int two(const char *s)
{
    if (!dig(s[0]) || !dig(s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static const char *const month_names[12] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};

/* Writes `not an ISO-8601 date-time: "<excerpt>"` with control bytes replaced. */
static int syntax_error(const char *s, size_t len, char *msg, size_t cap)
{
    if (msg && cap) {
        char ex[44];
        size_t n = len < 40 ? len : 40, k = 0;
        for (size_t i = 0; i < n; i++)
            ex[k++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"') ? '?' : s[i];
        ex[k] = 0;
        snprintf(msg, cap, "%s: \"%s%s\"", len ? "not an ISO-8601 date-time" : "empty date-time",
                 ex, len > 40 ? "..." : "");
    }
    return MTR_EPARSE;
}

int mtr_time_parse_msg(const char *s, size_t len, int64_t *out, char *msg, size_t cap)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    const char *s0 = s;
    size_t len0 = len;
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return syntax_error(s0, len0, msg, cap);
    int yh = two(s), yl = two(s + 2), mo = two(s + 5), da = two(s + 8);
    if (yh < 0 || yl < 0 || mo < 0 || da < 0)
        return syntax_error(s0, len0, msg, cap);
    int year = yh * 100 + yl, hh = 0, mi = 0, ss = 0, off = 0;
    size_t i = 10;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (i + 5 > len || s[i + 2] != ':' || (hh = two(s + i)) < 0 || (mi = two(s + i + 3)) < 0)
            return syntax_error(s0, len0, msg, cap);
        i += 5;
        if (i < len && s[i] == ':') {
            if (i + 3 > len || (ss = two(s + i + 1)) < 0)
                return syntax_error(s0, len0, msg, cap);
            i += 3;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                size_t f = ++i;
                while (i < len && dig(s[i]))
                    i++;
                if (i == f)
                    return syntax_error(s0, len0, msg, cap);
            }
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
            i++;
            if (i + 2 > len || (oh = two(s + i)) < 0)
                return syntax_error(s0, len0, msg, cap);
            i += 2;
            if (i < len && s[i] == ':') {
                if (i + 3 > len || (om = two(s + i + 1)) < 0)
                    return syntax_error(s0, len0, msg, cap);
                i += 3;
            } else if (i + 2 <= len && dig(s[i])) {
                if ((om = two(s + i)) < 0)
                    return syntax_error(s0, len0, msg, cap);
                i += 2;
            }
            if (oh > 23 || om > 59) {
                if (msg && cap)
                    snprintf(msg, cap, "invalid zone offset: %c%02d:%02d", sign < 0 ? '-' : '+', oh,
                             om);
                return MTR_EPARSE;
            }
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != len)
        return syntax_error(s0, len0, msg, cap);
    if (year < 1970) {
        if (msg && cap)
            snprintf(msg, cap, "invalid date: year %d outside 1970..9999", year);
        return MTR_EPARSE;
    }
    if (mo < 1 || mo > 12) {
        if (msg && cap)
            snprintf(msg, cap, "invalid date: month %d", mo);
        return MTR_EPARSE;
    }
    int dim = mtr_days_in_month(year, mo);
    if (da < 1 || da > dim) {
        if (msg && cap)
            snprintf(msg, cap, "invalid date: %04d-%02d-%02d (%s %d has %d days)", year, mo, da,
                     month_names[mo - 1], year, dim);
        return MTR_EPARSE;
    }
    if (hh > 23 || mi > 59 || ss > 59) {
        if (msg && cap) {
            if (hh > 23)
                snprintf(msg, cap, "invalid time: hour %d", hh);
            else if (mi > 59)
                snprintf(msg, cap, "invalid time: minute %d", mi);
            else
                snprintf(msg, cap, "invalid time: second %d", ss);
        }
        return MTR_EPARSE;
    }
    *out = mtr_days_from_civil(year, mo, da) * 86400 + hh * 3600 + mi * 60 + ss - off;
    return 0;
}

int mtr_time_parse(const char *s, size_t len, int64_t *out)
{
    return mtr_time_parse_msg(s, len, out, NULL, 0);
}
