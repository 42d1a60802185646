/*
 * cron.c - parsing five-field cron expressions into bit sets and finding the next firing minute.
 * The search walks forward field by field (month, day, hour, minute), jumping to the start of the
 * next candidate unit, so it costs at most a few thousand steps for any expression.
 */
#include "core/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/timeparse.h"

struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* value names, index = value - names_base */
    int names_base, nnames;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const struct field fields[5] = {
    {"minute", 0, 59, NULL, 0, 0},          {"hour", 0, 23, NULL, 0, 0},
    {"day-of-month", 1, 31, NULL, 0, 0},    {"month", 1, 12, month_names, 1, 12},
    {"day-of-week", 0, 7, dow_names, 0, 7},
};

static int bad(char *msg, size_t cap, const char *fmt, const char *a, const char *b)
{
    if (msg && cap)
        snprintf(msg, cap, fmt, a, b);
    return MTR_EINVAL;
}

/* Reads a number or a name at *p; advances *p. Returns 0 or MTR_EINVAL. */
static int value(const struct field *f, const char **p, const char *end, int *out, char *msg,
                 size_t cap)
{
    const char *s = *p;
    if (s < end && isdigit((unsigned char)*s)) {
        long v = 0;
        while (s < end && isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        *out = (int)v;
        *p = s;
        return 0;
    }
    for (int i = 0; i < f->nnames; i++) {
        if (end - s >= 3 && strncasecmp(s, f->names[i], 3) == 0 &&
            (end - s == 3 || !isalpha((unsigned char)s[3]))) {
            *out = f->names_base + i;
            *p = s + 3;
            return 0;
        }
    }
    char tok[32];
    snprintf(tok, sizeof tok, "%.*s", (int)(end - s), s);
    return bad(msg, cap, "%s: expected a number, got \"%s\"", f->name, tok);
}

/* Parses one comma list [s, end) into *bits. */
static int parse_field(const struct field *f, const char *s, const char *end, uint64_t *bits,
                       int *any, char *msg, size_t cap)
{
    uint64_t b = 0;
    *any = 0;
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item_end = comma ? comma : end;
        int lo, hi, step = 1, rc;
        char num[32];
        if (s == item_end)
            return bad(msg, cap, "%s: empty list item%s", f->name, "");
        if (*s == '*') {
            lo = f->lo;
            hi = f->hi == 7 ? 6 : f->hi;
            s++;
            if (s == item_end)
                *any = 1;
        } else {
            if ((rc = value(f, &s, item_end, &lo, msg, cap)))
                return rc;
            hi = lo;
            if (s < item_end && *s == '-') {
                s++;
                if ((rc = value(f, &s, item_end, &hi, msg, cap)))
                    return rc;
            } else if (s < item_end && *s == '/') {
                hi = f->hi == 7 ? 6 : f->hi; /* N/S means N-max/S */
            }
        }
        if (s < item_end && *s == '/') {
            s++;
            const char *st = s;
            if ((rc = value(&(struct field){f->name, 0, 0, NULL, 0, 0}, &s, item_end, &step, msg,
                            cap)))
                return rc;
            if (step < 1 || step > f->hi) {
                snprintf(num, sizeof num, "%.*s", (int)(s - st), st);
                return bad(msg, cap, "%s: step %s is outside 1..max", f->name, num);
            }
        }
        if (s != item_end) {
            char tok[32];
            snprintf(tok, sizeof tok, "%.*s", (int)(item_end - s), s);
            return bad(msg, cap, "%s: unexpected \"%s\"", f->name, tok);
        }
        if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi) {
            char range[32];
            snprintf(num, sizeof num, "%d", lo < f->lo || lo > f->hi ? lo : hi);
            snprintf(range, sizeof range, "%d..%d", f->lo, f->hi);
            if (msg && cap)
                snprintf(msg, cap, "%s: %s is outside %s", f->name, num, range);
            return MTR_EINVAL;
        }
        if (lo > hi) {
            snprintf(num, sizeof num, "%d-%d", lo, hi);
            return bad(msg, cap, "%s: range %s is reversed", f->name, num);
        }
        for (int v = lo; v <= hi; v += step)
            b |= (uint64_t)1 << (f->hi == 7 && v == 7 ? 0 : v);
        s = comma ? comma + 1 : end;
        if (comma && s == end)
            return bad(msg, cap, "%s: trailing comma%s", f->name, "");
    }
    *bits = b;
    return 0;
}

int mtr_cron_parse(const char *expr, struct mtr_cron *out, char *msg, size_t cap)
{
    static const struct {
        const char *alias, *expr;
    } aliases[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
                   {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
                   {"@hourly", "0 * * * *"}};
    if (!expr)
        return bad(msg, cap, "empty expression%s%s", "", "");
    while (isspace((unsigned char)*expr))
        expr++;
    if (*expr == '@') {
        size_t n = strlen(expr);
        while (n && isspace((unsigned char)expr[n - 1]))
            n--;
        for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
            if (strlen(aliases[i].alias) == n && strncasecmp(expr, aliases[i].alias, n) == 0)
                return mtr_cron_parse(aliases[i].expr, out, msg, cap);
        char tok[32];
        snprintf(tok, sizeof tok, "%.*s", (int)(n > 24 ? 24 : n), expr);
        return bad(msg, cap, "unknown alias \"%s\" (@yearly, @monthly, @weekly, @daily, @hourly)%s",
                   tok, "");
    }
    uint64_t bits[5];
    int any[5];
    const char *p = expr;
    for (int i = 0; i < 5; i++) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p) {
            char n[16];
            snprintf(n, sizeof n, "%d", i);
            return bad(msg, cap, "expected 5 fields (minute hour day month weekday), got %s%s", n,
                       "");
        }
        const char *e = p;
        while (*e && !isspace((unsigned char)*e))
            e++;
        int rc = parse_field(&fields[i], p, e, &bits[i], &any[i], msg, cap);
        if (rc)
            return rc;
        p = e;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return bad(msg, cap, "more than 5 fields: \"%s\"%s", p, "");
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)bits[4];
    out->dom_any = (uint8_t)any[2];
    out->dow_any = (uint8_t)any[4];
    return 0;
}

static int day_matches(const struct mtr_cron *c, int64_t days, int dom)
{
    int dow = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int dm = (c->dom >> dom) & 1, wm = (c->dow >> dow) & 1;
    if (c->dom_any || c->dow_any)
        return dm && wm;
    return dm || wm;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int mtr_cron_next(const struct mtr_cron *c, int64_t after, int64_t *out)
{
    int64_t t = floor_div(after, 60) * 60 + 60;
    int64_t limit = t + (int64_t)8 * 366 * 86400;
    while (t < limit) {
        int64_t days = floor_div(t, 86400);
        int y, m, d;
        mtr_civil_from_days(days, &y, &m, &d);
        if (!((c->month >> m) & 1)) {
            /* first day of the next month */
            t = (m == 12 ? mtr_days_from_civil(y + 1, 1, 1) : mtr_days_from_civil(y, m + 1, 1)) *
                86400;
            continue;
        }
        if (!day_matches(c, days, d)) {
            t = (days + 1) * 86400;
            continue;
        }
        int64_t sod = t - days * 86400;
        int h = (int)(sod / 3600), mi = (int)(sod % 3600 / 60);
        if (!((c->hour >> h) & 1)) {
            t = days * 86400 + (int64_t)(h + 1) * 3600;
            continue;
        }
        for (; mi < 60; mi++)
            if ((c->minute >> mi) & 1) {
                *out = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60;
                return 0;
            }
        t = days * 86400 + (int64_t)(h + 1) * 3600;
    }
    return MTR_ENOTFOUND;
}

int mtr_cron_prev(const struct mtr_cron *c, int64_t at, int64_t window, int64_t *out)
{
    /* widen the look-back until a firing is found, then walk forward to the last one <= at; the
     * walk is short because the window was the smallest that contains a firing */
    for (int64_t w = 3600;; w *= 8) {
        if (w > window)
            w = window;
        int64_t t = at - w - 1, n, last = 0;
        int found = 0;
        while (mtr_cron_next(c, t, &n) == 0 && n <= at) {
            last = n;
            found = 1;
            t = n;
        }
        if (found) {
            *out = last;
            return 0;
        }
        if (w >= window)
            return MTR_ENOTFOUND;
    }
}
