/* jsonw.c - the streaming JSON writer of jsonw.h. */
#include "base/jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeparse.h"

void mtr_jw_init(struct mtr_jw *w)
{
    memset(w, 0, sizeof *w);
}

void mtr_jw_adopt(struct mtr_jw *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    if (buf && cap)
        buf[0] = 0;
}

void mtr_jw_reset(struct mtr_jw *w)
{
    char *b = w->buf;
    size_t cap = w->cap;
    memset(w, 0, sizeof *w);
    w->buf = b;
    w->cap = cap;
}

void mtr_jw_free(struct mtr_jw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

char *mtr_jw_take(struct mtr_jw *w, size_t *len)
{
    char *b = w->buf;
    if (len)
        *len = w->len;
    memset(w, 0, sizeof *w);
    return b;
}

int mtr_jw_failed(const struct mtr_jw *w)
{
    return w->failed;
}

/* Makes room for n more bytes plus the terminating NUL. */
static int reserve(struct mtr_jw *w, size_t n)
{
    if (w->failed)
        return -1;
    if (w->len + n + 1 <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + n + 1)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->failed = 1;
        return -1;
    }
    w->buf = b;
    w->cap = cap;
    return 0;
}

static inline void put(struct mtr_jw *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap && reserve(w, n) < 0)
        return;
    if (w->failed)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

/* Writes the comma before a value or key when it is not the first at its level. */
static void sep(struct mtr_jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->count[w->depth])
        put(w, ",", 1);
    if (w->count[w->depth] < 255)
        w->count[w->depth]++;
}

static void open_(struct mtr_jw *w, char c)
{
    sep(w);
    put(w, &c, 1);
    if (w->depth + 1 >= MTR_JW_DEPTH) {
        w->failed = 1;
        return;
    }
    w->count[++w->depth] = 0;
}

static void close_(struct mtr_jw *w, char c)
{
    put(w, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void mtr_jw_obj(struct mtr_jw *w)
{
    open_(w, '{');
}
void mtr_jw_end_obj(struct mtr_jw *w)
{
    close_(w, '}');
}
void mtr_jw_arr(struct mtr_jw *w)
{
    open_(w, '[');
}
void mtr_jw_end_arr(struct mtr_jw *w)
{
    close_(w, ']');
}

static void escaped(struct mtr_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (reserve(w, n + 2) < 0)
        return;
    size_t k = 0;
    while (k < n && (unsigned char)s[k] >= 0x20 && s[k] != '"' && s[k] != '\\')
        k++;
    if (k == n) { /* nothing to escape: one copy */
        char *p = w->buf + w->len;
        p[0] = '"';
        memcpy(p + 1, s, n);
        p[n + 1] = '"';
        w->len += n + 2;
        w->buf[w->len] = 0;
        return;
    }
    w->buf[w->len++] = '"';
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + start, i - start);
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"':
            e[1] = '"';
            break;
        case '\\':
            e[1] = '\\';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            en = 6;
        }
        put(w, e, en);
        start = i + 1;
    }
    put(w, s + start, n - start);
    put(w, "\"", 1);
}

void mtr_jw_key(struct mtr_jw *w, const char *k)
{
    size_t n = strlen(k);
    sep(w);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x20 || k[i] == '"' || k[i] == '\\') {
            escaped(w, k, n);
            put(w, ":", 1);
            w->after_key = 1;
            return;
        }
    /* the common case, a plain key: one copy */
    if (reserve(w, n + 3) == 0) {
        char *p = w->buf + w->len;
        p[0] = '"';
        memcpy(p + 1, k, n);
        p[n + 1] = '"';
        p[n + 2] = ':';
        w->len += n + 3;
        w->buf[w->len] = 0;
    }
    w->after_key = 1;
}

void mtr_jw_key_lit(struct mtr_jw *w, const char *quoted, size_t n)
{
    sep(w);
    put(w, quoted, n);
    w->after_key = 1;
}

void mtr_jw_strn(struct mtr_jw *w, const char *s, size_t n)
{
    sep(w);
    escaped(w, s, n);
}

void mtr_jw_str(struct mtr_jw *w, const char *s)
{
    if (!s) {
        mtr_jw_null(w);
        return;
    }
    mtr_jw_strn(w, s, strlen(s));
}

/* trailing decimal zeros of 0..99 written as two digits (0 -> 2) */
static const unsigned char tz2[100] = {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static const char digits2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes v in decimal at p (at most 20 bytes) and returns the length; digits are written from
 * the end, two per division, straight into place. */
static size_t fmt_int(char *p, int64_t v)
{
    if ((uint64_t)v < 1000) { /* 0..999 (intervals, codes, counts): no digit counting loop */
        if (v < 10) {
            p[0] = (char)('0' + v);
            return 1;
        }
        if (v < 100) {
            memcpy(p, digits2 + v * 2, 2);
            return 2;
        }
        p[0] = (char)('0' + v / 100);
        memcpy(p + 1, digits2 + v % 100 * 2, 2);
        return 3;
    }
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t len = v < 0, nd = 1;
    for (uint64_t t = u; t >= 10; t /= 10)
        nd++;
    if (v < 0)
        *p = '-';
    char *e = p + len + nd;
    while (u >= 100) {
        e -= 2;
        memcpy(e, digits2 + u % 100 * 2, 2);
        u /= 100;
    }
    if (u >= 10)
        memcpy(e - 2, digits2 + u * 2, 2);
    else
        e[-1] = (char)('0' + u);
    return len + nd;
}

char *mtr_jw_put_int(char *p, int64_t v)
{
    return p + fmt_int(p, v);
}

void mtr_jw_int(struct mtr_jw *w, int64_t v)
{
    char b[24];
    sep(w);
    put(w, b, fmt_int(b, v));
}

char *mtr_jw_put_num(char *b, double v)
{
    /* fast paths: values with at most 6 decimals (meter data is usually Wh-resolution kWh) */
    if (fabs(v) < 1e12) { /* false for NaN and infinities */
        int64_t i = (int64_t)v;
        if ((double)i == v) /* an integer (a score of 1, a count): what the path below writes */
            return b + fmt_int(b, i);
        double sc = v * 1e6;
        int64_t m = (int64_t)(sc < 0 ? sc - 0.5 : sc + 0.5); /* round half away, as llround */
        if ((double)m / 1e6 == v) {                          /* m / 10^6 reads back as v */
            uint64_t u = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
            uint64_t ip = u / 1000000;
            unsigned frac = (unsigned)(u % 1000000);
            char *p = b;
            if (m < 0)
                *p++ = '-';
            if (ip < 10) { /* the usual integer parts by hand: fmt_int's loop costs more */
                *p++ = (char)('0' + ip);
            } else if (ip < 100) {
                memcpy(p, digits2 + ip * 2, 2);
                p += 2;
            } else if (ip < 1000) {
                *p++ = (char)('0' + ip / 100);
                memcpy(p, digits2 + ip % 100 * 2, 2);
                p += 2;
            } else {
                p += fmt_int(p, (int64_t)ip);
            }
            if (frac) { /* six digits, then the trailing zeros taken back */
                unsigned hi = frac / 10000, mid = frac / 100 % 100, lo = frac % 100;
                *p = '.';
                memcpy(p + 1, digits2 + hi * 2, 2);
                memcpy(p + 3, digits2 + mid * 2, 2);
                memcpy(p + 5, digits2 + lo * 2, 2);
                /* counted per digit pair, without a loop (its exit was mispredicted on every
                 * other number); hi is not 0 when mid and lo are */
                unsigned tz = lo ? tz2[lo] : mid ? 2u + tz2[mid] : 4u + tz2[hi];
                p += 7 - tz;
            }
            return p;
        }
    }
    if (!isfinite(v))
        return (char *)memcpy(b, "null", 4) + 4;
    int n = snprintf(b, MTR_JW_NUM_MAX, "%.15g", v);
    if (strtod(b, NULL) != v)
        n = snprintf(b, MTR_JW_NUM_MAX, "%.17g", v);
    return b + n;
}

void mtr_jw_num(struct mtr_jw *w, double v)
{
    char b[MTR_JW_NUM_MAX];
    if (!isfinite(v)) {
        mtr_jw_null(w);
        return;
    }
    sep(w);
    put(w, b, (size_t)(mtr_jw_put_num(b, v) - b));
}

void mtr_jw_bool(struct mtr_jw *w, int v)
{
    sep(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void mtr_jw_null(struct mtr_jw *w)
{
    sep(w);
    put(w, "null", 4);
}

static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

char *mtr_jw_put_time(char *b, int64_t t)
{
    int64_t days = t / 86400, sod = t % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int y, m, d;
    mtr_civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) { /* by hand: snprintf is the slowest part of a readings page */
        memcpy(b, "\"0000-00-00T00:00:00Z\"", 22);
        two(b + 1, y / 100);
        two(b + 3, y % 100);
        two(b + 6, m);
        two(b + 9, d);
        two(b + 12, (int)(sod / 3600));
        two(b + 15, (int)(sod / 60 % 60));
        two(b + 18, (int)(sod % 60));
        return b + 22;
    }
    b[0] = '"';
    size_t n = 1 + mtr_time_format(t, b + 1);
    b[n++] = '"';
    return b + n;
}

void mtr_jw_time(struct mtr_jw *w, int64_t t)
{
    char b[MTR_JW_TIME_MAX];
    size_t n = (size_t)(mtr_jw_put_time(b, t) - b);
    sep(w);
    put(w, b, n);
}

char *mtr_jw_value_begin(struct mtr_jw *w, size_t max)
{
    sep(w);
    if (reserve(w, max) < 0)
        return NULL;
    return w->buf + w->len;
}

void mtr_jw_value_end(struct mtr_jw *w, char *end)
{
    w->len = (size_t)(end - w->buf);
    w->buf[w->len] = 0;
}

void mtr_jw_raw(struct mtr_jw *w, const char *json, size_t n)
{
    sep(w);
    put(w, json, n);
}

void mtr_jw_kstr(struct mtr_jw *w, const char *k, const char *s)
{
    mtr_jw_key(w, k);
    mtr_jw_str(w, s);
}
void mtr_jw_kint(struct mtr_jw *w, const char *k, int64_t v)
{
    mtr_jw_key(w, k);
    mtr_jw_int(w, v);
}
void mtr_jw_knum(struct mtr_jw *w, const char *k, double v)
{
    mtr_jw_key(w, k);
    mtr_jw_num(w, v);
}
void mtr_jw_kbool(struct mtr_jw *w, const char *k, int v)
{
    mtr_jw_key(w, k);
    mtr_jw_bool(w, v);
}
void mtr_jw_ktime(struct mtr_jw *w, const char *k, int64_t t)
{
    mtr_jw_key(w, k);
    if (t)
        mtr_jw_time(w, t);
    else
        mtr_jw_null(w);
}

void mtr_jw_append(struct mtr_jw *w, const char *s, size_t n)
{
    put(w, s, n);
}

void mtr_jw_appendf(struct mtr_jw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(w, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(w->buf + w->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}
