/*
 * test_block_codec.c - the meter-day block format: every reading round-trips bit for bit (short
 * decimals, values that are not decimals, -0.0, Inf, absent fields, odd scores, flags, uneven
 * steps, ingestion times going back), the compact form is compact, version-1 blocks still
 * decode, and damaged bytes are refused, never read past their end.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/sqlite/block_codec.h"
#include "core/quality.h"
#include "t.h"

#define DAY0 1767225600 /* 2026-01-01T00:00:00Z */

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double unit(void)
{
    return (double)(next_rand() >> 11) / 9007199254740992.0;
}

static int same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static int same_reading(const struct mtr_stored_reading *a, const struct mtr_stored_reading *b)
{
    return a->meter_key == b->meter_key && a->ts == b->ts && a->interval_s == b->interval_s &&
           same(a->raw_kwh, b->raw_kwh) && same(a->kwh, b->kwh) &&
           same(a->voltage_v, b->voltage_v) && same(a->current_a, b->current_a) &&
           same(a->power_factor, b->power_factor) && same(a->frequency_hz, b->frequency_hz) &&
           same(a->active_power_kw, b->active_power_kw) &&
           same(a->reactive_power_kvar, b->reactive_power_kvar) &&
           a->quality_code == b->quality_code && a->flags == b->flags && same(a->score, b->score) &&
           a->ingested_at == b->ingested_at;
}

/* A value the way a meter file gives it: d decimals, parsed by strtod. */
static double decimal(double lo, double hi, int d)
{
    char s[64];
    snprintf(s, sizeof s, "%.*f", d, lo + (hi - lo) * unit());
    return strtod(s, NULL);
}

static void fill(struct mtr_stored_reading *r, int n, int odd)
{
    int64_t ts = DAY0;
    for (int i = 0; i < n; i++) {
        struct mtr_stored_reading *x = &r[i];
        memset(x, 0, sizeof *x);
        x->meter_key = 7;
        x->interval_s = 900;
        x->ts = ts;
        ts += odd && i % 17 == 5 ? 2700 : 900;
        x->raw_kwh = decimal(0, 3, 4);
        x->kwh = x->raw_kwh;
        x->voltage_v = decimal(215, 245, 1);
        x->current_a = decimal(0, 40, 2);
        x->power_factor = decimal(0.8, 1, 3);
        x->frequency_hz = decimal(49.9, 50.1, 3);
        x->active_power_kw = x->reactive_power_kvar = NAN;
        x->quality_code = MTR_Q_VALID;
        x->ingested_at = DAY0 + 86400 + i / 10;
        if (odd) {
            switch (i % 11) {
            case 1: /* an interpolated estimate: no raw value, kwh not a short decimal */
                x->raw_kwh = NAN;
                x->kwh = 1.0 / 3.0 + i;
                x->quality_code = MTR_Q_EST_INTERPOLATION;
                break;
            case 2:
                x->voltage_v = -0.0;
                x->current_a = INFINITY;
                break;
            case 3:
                x->flags = 0x5;
                x->quality_code = MTR_Q_QUESTIONABLE;
                x->ingested_at = DAY0; /* earlier than the reading before */
                break;
            case 4:
                x->active_power_kw = 1e300;
                x->reactive_power_kvar = -123456789.125;
                x->interval_s = 1800;
                break;
            case 5:
                x->kwh = decimal(0, 3, 4); /* edited: kwh differs from raw */
                x->quality_code = MTR_Q_EDITED;
                break;
            case 6:
                x->power_factor = NAN;
                x->raw_kwh = x->kwh = 123456.789012345; /* needs a large scale */
                break;
            case 7:
                x->raw_kwh = x->kwh = -decimal(0, 3, 4);
                break;
            }
        }
        x->score = mtr_reading_score(x->quality_code, x->flags);
        if (odd && i % 13 == 0)
            x->score = 0.123;
    }
}

static int roundtrip(const struct mtr_stored_reading *r, int n, size_t *len_out)
{
    uint8_t *buf = malloc((size_t)n * MTR_BC_MAX_BYTES + 16);
    struct mtr_stored_reading *out = calloc((size_t)n + 1, sizeof *out);
    struct mtr_bc_state st;
    size_t hl = mtr_bc_header(buf, n);
    size_t len = hl + mtr_bc_encode_body(r, n, DAY0, buf + hl, &st);
    const uint8_t *p = buf;
    int version, ok = 1;
    uint64_t cnt;
    T_EQ_INT(mtr_bc_parse_header(&p, buf + len, &version, &cnt), 0);
    T_EQ_INT(version, MTR_BC_VERSION);
    T_EQ_INT(cnt, n);
    T_EQ_INT(mtr_bc_decode_body(version, p, buf + len, cnt, 7, DAY0, out), 0);
    for (int i = 0; i < n; i++)
        if (!same_reading(&r[i], &out[i])) {
            t_fail(__FILE__, __LINE__, "reading %d differs after the round trip", i);
            ok = 0;
            break;
        }
    /* the state after the body is what appending continues from: one more reading appended
     * reading by reading decodes the same as the whole encoded at once */
    if (n)
        T_EQ_INT(st.ts, r[n - 1].ts);
    *len_out = len;
    free(buf);
    free(out);
    return ok;
}

static void test_plain_day_is_compact(void)
{
    struct mtr_stored_reading r[96];
    size_t len;
    fill(r, 96, 0);
    T_CHECK(roundtrip(r, 96, &len));
    /* five short decimals, the rest repeats: ~9 bytes a reading (version 1 took 49) */
    T_CHECK(len < 96 * 12);
}

static void test_odd_values_roundtrip(void)
{
    struct mtr_stored_reading r[300];
    size_t len;
    for (int k = 0; k < 20; k++) {
        fill(r, 60, 1);
        T_CHECK(roundtrip(r, 60, &len));
    }
    fill(r, 1, 1);
    T_CHECK(roundtrip(r, 1, &len));
    T_CHECK(roundtrip(r, 0, &len));
}

/* Appending with mtr_bc_put after an encoded body gives the same bytes as encoding all at once. */
static void test_append_equals_encode(void)
{
    struct mtr_stored_reading r[96];
    uint8_t a[96 * MTR_BC_MAX_BYTES], b[96 * MTR_BC_MAX_BYTES];
    struct mtr_bc_state sa, sb;
    fill(r, 96, 1);
    size_t la = mtr_bc_encode_body(r, 96, DAY0, a, &sa);
    size_t lb = mtr_bc_encode_body(r, 40, DAY0, b, &sb);
    uint8_t *p = b + lb;
    for (int i = 40; i < 96; i++)
        p = mtr_bc_put(p, &sb, &r[i]);
    T_EQ_INT((size_t)(p - b), la);
    T_CHECK(memcmp(a, b, la) == 0);
}

/* A point lookup decodes the prefix up to the reading asked for, the same as the whole. */
static void test_decode_until(void)
{
    struct mtr_stored_reading r[60], out[60];
    uint8_t b[60 * MTR_BC_MAX_BYTES];
    struct mtr_bc_state st;
    fill(r, 60, 1);
    size_t len = mtr_bc_encode_body(r, 60, DAY0, b, &st);
    int got = -1;
    T_EQ_INT(mtr_bc_decode_until(b, b + len, 60, 7, DAY0, r[40].ts, out, &got), 0);
    T_EQ_INT(got, 41);
    T_CHECK(same_reading(&out[40], &r[40]) && same_reading(&out[0], &r[0]));
    T_EQ_INT(mtr_bc_decode_until(b, b + len, 60, 7, DAY0, r[40].ts - 1, out, &got), 0);
    T_EQ_INT(got, 41); /* the first at or after */
    T_EQ_INT(mtr_bc_decode_until(b, b + len, 60, 7, DAY0, INT64_MAX, out, &got), 0);
    T_EQ_INT(got, 60);
    T_EQ_INT(mtr_bc_decode_until(b, b + len - 1, 60, 7, DAY0, INT64_MAX, out, &got), MTR_ESTORE);
}

/* Every truncation and many single-byte changes are refused or decode to something; none reads
 * outside the buffer (ASan watches). */
static void test_damaged_blocks(void)
{
    struct mtr_stored_reading r[60], out[61];
    uint8_t buf[60 * MTR_BC_MAX_BYTES + 16];
    struct mtr_bc_state st;
    fill(r, 60, 1);
    size_t hl = mtr_bc_header(buf, 60);
    size_t len = hl + mtr_bc_encode_body(r, 60, DAY0, buf + hl, &st);
    int refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        const uint8_t *p = copy;
        int version;
        uint64_t cnt;
        if (mtr_bc_parse_header(&p, copy + cut, &version, &cnt) || cnt > 60 ||
            mtr_bc_decode_body(version, p, copy + cut, cnt, 7, DAY0, out))
            refused++;
        free(copy);
    }
    T_EQ_INT(refused, len); /* a truncated block never passes as complete */
    for (int k = 0; k < 2000; k++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, buf, len);
        copy[next_rand() % len] ^= (uint8_t)(1u << (next_rand() % 8));
        const uint8_t *p = copy;
        int version;
        uint64_t cnt;
        if (!mtr_bc_parse_header(&p, copy + len, &version, &cnt) && cnt <= 60)
            (void)mtr_bc_decode_body(version, p, copy + len, cnt, 7, DAY0, out);
        free(copy);
    }
}

/* A version-1 block (raw doubles) written by hand from the documented layout still decodes. */
static void test_version1_decodes(void)
{
    uint8_t b[64], *p = b;
    double kwh = 0.25, volt = 230.5;
    *p++ = 1; /* version */
    *p++ = 2; /* n */
    for (int i = 0; i < 2; i++) {
        *p++ = i ? 0x84 : 0; /* ts step 900 = 0x84 0x07, first at the day start */
        if (i)
            *p++ = 0x07;
        *p++ = 0x84; /* interval 900 */
        *p++ = 0x07;
        *p++ = MTR_Q_VALID;
        *p++ = 0; /* flags */
        *p++ = 0; /* ingested_at delta */
        *p++ = 0x01 | 0x04;
        *p++ = 0x01; /* mask: raw_kwh, voltage, kwh == raw */
        memcpy(p, &kwh, 8);
        p += 8;
        memcpy(p, &volt, 8);
        p += 8;
    }
    const uint8_t *q = b;
    int version;
    uint64_t cnt;
    struct mtr_stored_reading out[2];
    T_EQ_INT(mtr_bc_parse_header(&q, p, &version, &cnt), 0);
    T_EQ_INT(version, 1);
    T_EQ_INT(mtr_bc_decode_body(version, q, p, cnt, 3, DAY0, out), 0);
    T_EQ_INT(out[1].ts, DAY0 + 900);
    T_CHECK(same(out[1].kwh, 0.25) && same(out[1].voltage_v, 230.5) && isnan(out[1].current_a));
    T_CHECK(same(out[0].score, 1.0));
}

/* Hour blocks: version 2 round-trips sums that are not short decimals, absent min/max and
 * counts; version 1 still reads; a truncated or overlong block is refused. */
static void test_hours(void)
{
    struct mtr_rollup_hour h[24], out[24];
    uint32_t present = 0, got = 0;
    memset(h, 0, sizeof h);
    for (int i = 0; i < 24; i += 1 + (i % 5 == 0)) {
        present |= 1u << i;
        h[i].meter_key = 9;
        h[i].hour = DAY0 + 3600 * i;
        h[i].min_kwh = decimal(0, 1, 4);
        h[i].max_kwh = i == 7 ? NAN : decimal(1, 2, 4);
        h[i].kwh = 0.1 + 0.2 + i; /* not the decimal it looks like */
        h[i].n = i == 3 ? 3600 : 4;
        h[i].n_estimated = i % 4;
    }
    uint8_t buf[MTR_BC_HOURS_MAX_BYTES];
    size_t len = 0;
    T_EQ_INT(mtr_bc_hours_encode(h, present, buf, &len), 0);
    T_CHECK(len < 4 + (size_t)__builtin_popcount(present) * 20);
    T_EQ_INT(mtr_bc_hours_decode(buf, len, 9, DAY0, out, &got), 0);
    T_EQ_INT(got, present);
    for (int i = 0; i < 24; i++)
        if (present & (1u << i))
            T_CHECK(same(out[i].kwh, h[i].kwh) && same(out[i].min_kwh, h[i].min_kwh) &&
                    same(out[i].max_kwh, h[i].max_kwh) && out[i].n == h[i].n &&
                    out[i].n_estimated == h[i].n_estimated && out[i].hour == h[i].hour);
        else
            T_CHECK(out[i].n == 0 && isnan(out[i].min_kwh));
    T_EQ_INT(mtr_bc_hours_decode(buf, len - 1, 9, DAY0, out, &got), MTR_ESTORE);
    buf[len] = 0;
    T_EQ_INT(mtr_bc_hours_decode(buf, len + 1, 9, DAY0, out, &got), MTR_ESTORE);
    /* version 1: hour 2 only */
    uint8_t v1[4 + 32];
    uint32_t mask = 1u << 2;
    double kwh = 0.5, lo = 0.1, hi = 0.4;
    int32_t n = 4, ne = 1;
    memcpy(v1, &mask, 4);
    memcpy(v1 + 4, &kwh, 8);
    memcpy(v1 + 12, &lo, 8);
    memcpy(v1 + 20, &hi, 8);
    memcpy(v1 + 28, &n, 4);
    memcpy(v1 + 32, &ne, 4);
    T_EQ_INT(mtr_bc_hours_decode(v1, sizeof v1, 9, DAY0, out, &got), 0);
    T_EQ_INT(got, mask);
    T_CHECK(same(out[2].kwh, 0.5) && same(out[2].max_kwh, 0.4) && out[2].n == 4 &&
            out[2].n_estimated == 1);
}

/* The smallest scale (0..12) at which v is a decimal that reads back bit for bit, by trying
 * each: what the encoder must choose, however it finds it. */
static int reference_scale(double v, int64_t *m)
{
    static const double p10[13] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5, 1e6,
                                   1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    for (int sc = 0; sc <= 12; sc++) {
        double x = v * p10[sc];
        if (!(fabs(x) < 9007199254740992.0))
            continue;
        int64_t k = (int64_t)llrint(x);
        if (same((double)k / p10[sc], v)) {
            *m = k;
            return sc;
        }
    }
    return -1;
}

static void check_scale(double v)
{
    struct mtr_bc_num f, g;
    uint8_t buf[32];
    int64_t m = 0;
    int sc = reference_scale(v, &m);
    mtr_bc_num_start(&f);
    uint8_t *end = mtr_bc_put_num(buf, &f, v);
    T_EQ_INT(f.scale, sc);
    if (sc >= 0)
        T_EQ_INT(f.mant, m);
    const uint8_t *p = buf;
    double back;
    mtr_bc_num_start(&g);
    T_EQ_INT(mtr_bc_get_num(&p, end, &g, &back), 0);
    T_CHECK(p == end && same(back, v));
    if (t_failed_checks)
        printf("  value %.17g\n", v);
}

/* A first value (no scale to continue) gets the smallest exact scale, as trying each would. */
static void test_smallest_scale(void)
{
    static const double fixed[] = {0,
                                   -0.0,
                                   1,
                                   0.1,
                                   0.3,
                                   0.1 + 0.2,
                                   1e-12,
                                   1.5e-12,
                                   123.456,
                                   -7.25,
                                   8191.999999999999,
                                   8192,
                                   8192.5,
                                   9007.199254740991,
                                   1e15,
                                   1e16,
                                   4503599627370495.5,
                                   1e300,
                                   5e-324,
                                   2.2250738585072014e-308,
                                   INFINITY,
                                   -INFINITY,
                                   NAN};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && !t_failed_checks; i++)
        check_scale(fixed[i]);
    for (int i = 0; i < 200000 && !t_failed_checks; i++) {
        int kind = (int)(next_rand() % 4);
        double v;
        if (kind == 0) { /* a decimal of 0..14 places */
            int sc = (int)(next_rand() % 15);
            v = (double)(int64_t)(next_rand() % 100000000) / pow(10, sc);
        } else if (kind == 1) { /* sums of decimals, as hourly rollups are */
            v = 0;
            for (int k = 0; k < 4; k++)
                v += (double)(next_rand() % 100000) / 1e4;
        } else if (kind == 2) { /* any double of a wide range */
            v = (unit() - 0.5) * pow(10, (double)(next_rand() % 40) - 20);
        } else { /* near the fast path's bound */
            v = 8192 + (unit() - 0.5) * 2;
        }
        check_scale(next_rand() % 2 ? v : -v);
    }
}

int main(void)
{
    T_RUN(test_plain_day_is_compact);
    T_RUN(test_odd_values_roundtrip);
    T_RUN(test_append_equals_encode);
    T_RUN(test_decode_until);
    T_RUN(test_damaged_blocks);
    T_RUN(test_version1_decodes);
    T_RUN(test_hours);
    T_RUN(test_smallest_scale);
    return T_END();
}
