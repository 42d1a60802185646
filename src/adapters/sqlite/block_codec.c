/*
 * block_codec.c - encode and decode meter-day blocks of readings (format in block_codec.h).
 *
 * Version 1, still decoded for stores written before version 2: per reading, varints of the ts
 * step (first: from the day start), interval_s, u8 quality code, flags, zigzag ingested_at delta
 * (first: from 0), a u16 presence mask (bits as in version 2), then each present value as 8 raw
 * bytes and, when mask bit 9, the score.
 */
#include "adapters/sqlite/block_codec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "core/quality.h"

#define DAY       86400
#define MAX_SCALE 12 /* decimals tried for a value that does not fit the field's last scale */
#define RAW_TAG   16 /* escape tag: 8 raw bytes follow */
#define MANT_MAX  9007199254740992.0 /* 2^53: every mantissa converts to double exactly */

enum { C_STEP = 1, C_INTERVAL = 2, C_CODE = 4, C_INGESTED = 8, C_MASK = 16 };

static const double p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Reads a varint from [*p, end); -1 when truncated or overlong. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The values of a reading in mask-bit order. */
static void values_of(const struct mtr_stored_reading *x, double v[8])
{
    v[0] = x->raw_kwh;
    v[1] = x->kwh;
    v[2] = x->voltage_v;
    v[3] = x->current_a;
    v[4] = x->power_factor;
    v[5] = x->frequency_hz;
    v[6] = x->active_power_kw;
    v[7] = x->reactive_power_kvar;
}

static void set_values(struct mtr_stored_reading *x, const double v[8])
{
    x->raw_kwh = v[0];
    x->kwh = v[1];
    x->voltage_v = v[2];
    x->current_a = v[3];
    x->power_factor = v[4];
    x->frequency_hz = v[5];
    x->active_power_kw = v[6];
    x->reactive_power_kvar = v[7];
}

static unsigned mask_of(const struct mtr_stored_reading *x, const double v[8])
{
    unsigned mask = 0;
    for (int k = 0; k < 8; k++)
        if (!isnan(v[k]))
            mask |= 1u << k;
    if ((mask & 3u) == 3u && same_double(v[0], v[1]))
        mask = (mask & ~2u) | 0x100u;
    if (!same_double(x->score, mtr_reading_score(x->quality_code, x->flags)))
        mask |= 0x200u;
    return mask;
}

/* v as mantissa * 10^-scale, exactly (the quotient rounds back to the same bits). */
static int as_decimal(double v, int scale, int64_t *m)
{
    double x = v * p10[scale];
    if (!(fabs(x) < MANT_MAX)) /* also NaN and Inf */
        return 0;
    int64_t k = (int64_t)llrint(x);
    if (!same_double((double)k / p10[scale], v))
        return 0;
    *m = k;
    return 1;
}

/* Values below this have at most one decimal of scale <= MAX_SCALE that rounds to them: any two
 * such decimals differ by at least 10^-12, more than a double's spacing (<= 2^-40) here; and
 * |v| * 10^12 stays below MANT_MAX. */
#define UNIQUE_BELOW 8192.0

/* The smallest scale at which v is a decimal, and its mantissa in *m; -1 when none up to
 * MAX_SCALE. Below UNIQUE_BELOW one try at MAX_SCALE decides (the decimal at a smaller scale is
 * the same number, so the same double: its mantissa is this one without trailing zeros); above,
 * each scale is tried. */
static int smallest_scale(double v, int64_t *m)
{
    if (fabs(v) < UNIQUE_BELOW) {
        if (!as_decimal(v, MAX_SCALE, m))
            return -1;
        int sc = MAX_SCALE;
        while (sc > 0 && *m % 10 == 0) {
            *m /= 10;
            sc--;
        }
        return sc;
    }
    for (int sc = 0; sc <= MAX_SCALE; sc++)
        if (as_decimal(v, sc, m))
            return sc;
    return -1;
}

void mtr_bc_num_start(struct mtr_bc_num *f)
{
    f->mant = 0;
    f->scale = -1;
}

uint8_t *mtr_bc_put_num(uint8_t *p, struct mtr_bc_num *f, double v)
{
    int64_t m;
    if (f->scale >= 0 && as_decimal(v, f->scale, &m)) {
        /* both mantissas are below 2^53: the delta cannot overflow */
        p = put_varint(p, zigzag(m - f->mant) << 1);
        f->mant = m;
        return p;
    }
    int sc = smallest_scale(v, &m);
    if (sc >= 0) {
        p = put_varint(p, ((uint64_t)sc << 1) | 1u);
        f->scale = (int8_t)sc;
        f->mant = m;
        return put_varint(p, zigzag(m));
    }
    *p++ = (RAW_TAG << 1) | 1u; /* one varint byte */
    memcpy(p, &v, 8);
    f->scale = -1;
    return p + 8;
}

void mtr_bc_start(struct mtr_bc_state *s, int64_t day)
{
    memset(s, 0, sizeof *s);
    s->ts = day;
    for (int k = 0; k < 8; k++)
        mtr_bc_num_start(&s->num[k]);
}

uint8_t *mtr_bc_put(uint8_t *p, struct mtr_bc_state *s, const struct mtr_stored_reading *x)
{
    double v[8];
    values_of(x, v);
    unsigned mask = mask_of(x, v);
    uint8_t *ctl = p++;
    unsigned c = 0;
    uint64_t step = (uint64_t)(x->ts - s->ts);
    if (step != (uint64_t)(uint32_t)s->interval_s) {
        c |= C_STEP;
        p = put_varint(p, step);
    }
    if (x->interval_s != s->interval_s) {
        c |= C_INTERVAL;
        p = put_varint(p, (uint64_t)(uint32_t)x->interval_s);
    }
    if ((uint8_t)x->quality_code != s->code || x->flags != s->flags) {
        c |= C_CODE;
        *p++ = (uint8_t)x->quality_code;
        p = put_varint(p, x->flags);
    }
    if (x->ingested_at != s->ingested_at) {
        c |= C_INGESTED;
        p = put_varint(p, zigzag(x->ingested_at - s->ingested_at));
    }
    if (mask != s->mask) {
        c |= C_MASK;
        *p++ = (uint8_t)(mask & 0xff);
        *p++ = (uint8_t)(mask >> 8);
    }
    *ctl = (uint8_t)c;
    if (mask & 0x200u) {
        memcpy(p, &x->score, 8);
        p += 8;
    }
    for (int k = 0; k < 8; k++)
        if (mask & (1u << k))
            p = mtr_bc_put_num(p, &s->num[k], v[k]);
    s->ts = x->ts;
    s->interval_s = x->interval_s;
    s->code = (uint8_t)x->quality_code;
    s->flags = x->flags;
    s->ingested_at = x->ingested_at;
    s->mask = (uint16_t)mask;
    return p;
}

size_t mtr_bc_encode_body(const struct mtr_stored_reading *r, int n, int64_t day, uint8_t *buf,
                          struct mtr_bc_state *s)
{
    uint8_t *p = buf;
    mtr_bc_start(s, day);
    for (int i = 0; i < n; i++)
        p = mtr_bc_put(p, s, &r[i]);
    return (size_t)(p - buf);
}

size_t mtr_bc_header(uint8_t *hdr, int n)
{
    hdr[0] = MTR_BC_VERSION;
    return (size_t)(put_varint(hdr + 1, (uint64_t)n) - hdr);
}

int mtr_bc_parse_header(const uint8_t **p, const uint8_t *end, int *version, uint64_t *cnt)
{
    if (end - *p < 2)
        return MTR_ESTORE;
    *version = *(*p)++;
    if ((*version != 1 && *version != MTR_BC_VERSION) || get_varint(p, end, cnt) || *cnt > DAY)
        return MTR_ESTORE;
    return 0;
}

int mtr_bc_get_num(const uint8_t **p, const uint8_t *end, struct mtr_bc_num *f, double *v)
{
    uint64_t u, z;
    if (get_varint(p, end, &u))
        return MTR_ESTORE;
    if (!(u & 1)) {
        if (f->scale < 0)
            return MTR_ESTORE;
        f->mant = (int64_t)((uint64_t)f->mant + (uint64_t)unzigzag(u >> 1));
    } else if ((u >> 1) <= 15) {
        if (get_varint(p, end, &z))
            return MTR_ESTORE;
        f->scale = (int8_t)(u >> 1);
        f->mant = unzigzag(z);
    } else if ((u >> 1) == RAW_TAG && end - *p >= 8) {
        memcpy(v, *p, 8);
        *p += 8;
        f->scale = -1;
        return 0;
    } else {
        return MTR_ESTORE;
    }
    *v = (double)f->mant / p10[f->scale];
    return 0;
}

/* The score: written (mask bit 9) or derived from the code and flags already in x. */
static int get_score(const uint8_t **p, const uint8_t *end, unsigned mask,
                     struct mtr_stored_reading *x)
{
    if (!(mask & 0x200u)) {
        x->score = mtr_reading_score(x->quality_code, x->flags);
        return 0;
    }
    if (end - *p < 8)
        return -1;
    memcpy(&x->score, *p, 8);
    *p += 8;
    return 0;
}

/* Decodes up to and including the first reading with ts >= until (INT64_MAX: all, and then the
 * body must end exactly there); *got gets the number decoded. */
static int decode_v2(const uint8_t *p, const uint8_t *end, uint64_t cnt, int64_t meter_key,
                     int64_t day, int64_t until, struct mtr_stored_reading *out, int *got)
{
    struct mtr_bc_state s;
    mtr_bc_start(&s, day);
    *got = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        struct mtr_stored_reading *x = &out[i];
        uint64_t step = (uint64_t)(uint32_t)s.interval_s, u;
        if (p >= end)
            return MTR_ESTORE;
        unsigned c = *p++;
        if (c & ~31u)
            return MTR_ESTORE;
        if ((c & C_STEP) && get_varint(&p, end, &step))
            return MTR_ESTORE;
        if ((i > 0 && step == 0) || step >= DAY)
            return MTR_ESTORE;
        s.ts += (int64_t)step;
        if (c & C_INTERVAL) {
            if (get_varint(&p, end, &u) || u > INT32_MAX)
                return MTR_ESTORE;
            s.interval_s = (int32_t)u;
        }
        if (c & C_CODE) {
            if (p >= end)
                return MTR_ESTORE;
            s.code = *p++;
            if (get_varint(&p, end, &s.flags))
                return MTR_ESTORE;
        }
        if (c & C_INGESTED) {
            if (get_varint(&p, end, &u))
                return MTR_ESTORE;
            s.ingested_at = (int64_t)((uint64_t)s.ingested_at + (uint64_t)unzigzag(u));
        }
        if (c & C_MASK) {
            if (end - p < 2)
                return MTR_ESTORE;
            s.mask = (uint16_t)(p[0] | p[1] << 8);
            p += 2;
        }
        x->meter_key = meter_key;
        x->ts = s.ts;
        x->interval_s = s.interval_s;
        x->quality_code = s.code;
        x->flags = s.flags;
        x->ingested_at = s.ingested_at;
        if (get_score(&p, end, s.mask, x))
            return MTR_ESTORE;
        double v[8];
        for (int k = 0; k < 8; k++) {
            v[k] = NAN;
            if ((s.mask & (1u << k)) && mtr_bc_get_num(&p, end, &s.num[k], &v[k]))
                return MTR_ESTORE;
        }
        if (s.mask & 0x100u)
            v[1] = v[0];
        set_values(x, v);
        *got = (int)i + 1;
        if (x->ts >= until)
            return 0;
    }
    return p == end && s.ts < day + DAY ? 0 : MTR_ESTORE;
}

int mtr_bc_decode_until(const uint8_t *p, const uint8_t *end, uint64_t cnt, int64_t meter_key,
                        int64_t day, int64_t until, struct mtr_stored_reading *out, int *got)
{
    return decode_v2(p, end, cnt, meter_key, day, until, out, got);
}

static int decode_v1(const uint8_t *p, const uint8_t *end, uint64_t cnt, int64_t meter_key,
                     int64_t day, struct mtr_stored_reading *out)
{
    int64_t ts = day, ing = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        struct mtr_stored_reading *x = &out[i];
        uint64_t dts, iv, flags, ding;
        if (get_varint(&p, end, &dts) || get_varint(&p, end, &iv) || p >= end)
            return MTR_ESTORE;
        x->quality_code = *p++;
        if (get_varint(&p, end, &flags) || get_varint(&p, end, &ding) || end - p < 2)
            return MTR_ESTORE;
        unsigned mask = p[0] | (unsigned)p[1] << 8;
        p += 2;
        if ((i > 0 && dts == 0) || dts >= DAY)
            return MTR_ESTORE;
        ts += (int64_t)dts;
        ing += unzigzag(ding);
        x->meter_key = meter_key;
        x->ts = ts;
        x->interval_s = (int32_t)iv;
        x->flags = flags;
        x->ingested_at = ing;
        double v[8];
        for (int k = 0; k < 8; k++) {
            v[k] = NAN;
            if (mask & (1u << k)) {
                if (end - p < 8)
                    return MTR_ESTORE;
                memcpy(&v[k], p, 8);
                p += 8;
            }
        }
        if (mask & 0x100u)
            v[1] = v[0];
        set_values(x, v);
        if (get_score(&p, end, mask, x))
            return MTR_ESTORE;
    }
    return p == end && ts < day + DAY ? 0 : MTR_ESTORE;
}

int mtr_bc_decode_body(int version, const uint8_t *p, const uint8_t *end, uint64_t cnt,
                       int64_t meter_key, int64_t day, struct mtr_stored_reading *out)
{
    if (version == 1)
        return decode_v1(p, end, cnt, meter_key, day, out);
    int got;
    return decode_v2(p, end, cnt, meter_key, day, INT64_MAX, out, &got);
}

/* Hour block, version 2 (written): u32 of the hours present with bit 31 set, then per present
 * hour varints n, n_estimated and kwh, min, max coded as block_codec's numbers (delta against
 * the previous present hour; ~12 bytes an hour). Version 1 (read): u32 of the hours present (bit
 * 31 clear), then per hour kwh, min, max (8-byte doubles) and n, n_estimated (4-byte). */
#define HOUR_V1_REC 32
#define HOURS_V2    0x80000000u

/* A count as a varint, read back into an int32 (larger is corrupt). */
static int get_count(const uint8_t **p, const uint8_t *end, int32_t *v)
{
    uint64_t x;
    if (get_varint(p, end, &x) || x > INT32_MAX)
        return -1;
    *v = (int32_t)x;
    return 0;
}

int mtr_bc_hours_encode(const struct mtr_rollup_hour h[24], uint32_t present, uint8_t *buf,
                        size_t *len)
{
    uint8_t *p = buf;
    uint32_t word = present | HOURS_V2;
    struct mtr_bc_num kwh, lo, hi;
    mtr_bc_num_start(&kwh);
    mtr_bc_num_start(&lo);
    mtr_bc_num_start(&hi);
    memcpy(p, &word, 4);
    p += 4;
    for (int i = 0; i < 24; i++) {
        if (!(present & (1u << i)))
            continue;
        p = put_varint(p, (uint32_t)h[i].n);
        p = put_varint(p, (uint32_t)h[i].n_estimated);
        p = mtr_bc_put_num(p, &kwh, h[i].kwh);
        p = mtr_bc_put_num(p, &lo, h[i].min_kwh);
        p = mtr_bc_put_num(p, &hi, h[i].max_kwh);
    }
    *len = (size_t)(p - buf);
    return 0;
}

int mtr_bc_hours_decode(const uint8_t *p, size_t len, int64_t meter_key, int64_t day,
                        struct mtr_rollup_hour h[24], uint32_t *present)
{
    const uint8_t *end = p + len;
    uint32_t mask;
    struct mtr_bc_num kwh, lo, hi;
    if (len < 4)
        return MTR_ESTORE;
    memcpy(&mask, p, 4);
    int v2 = (mask & HOURS_V2) != 0;
    mask &= ~HOURS_V2;
    if (mask >> 24 || (!v2 && len != 4 + (size_t)__builtin_popcount(mask) * HOUR_V1_REC))
        return MTR_ESTORE;
    p += 4;
    mtr_bc_num_start(&kwh);
    mtr_bc_num_start(&lo);
    mtr_bc_num_start(&hi);
    for (int i = 0; i < 24; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].meter_key = meter_key;
        h[i].hour = day + 3600 * i;
        h[i].min_kwh = h[i].max_kwh = NAN;
        if (!(mask & (1u << i)))
            continue;
        if (v2) {
            if (get_count(&p, end, &h[i].n) || get_count(&p, end, &h[i].n_estimated) ||
                mtr_bc_get_num(&p, end, &kwh, &h[i].kwh) ||
                mtr_bc_get_num(&p, end, &lo, &h[i].min_kwh) ||
                mtr_bc_get_num(&p, end, &hi, &h[i].max_kwh))
                return MTR_ESTORE;
            continue;
        }
        memcpy(&h[i].kwh, p, 8);
        memcpy(&h[i].min_kwh, p + 8, 8);
        memcpy(&h[i].max_kwh, p + 16, 8);
        memcpy(&h[i].n, p + 24, 4);
        memcpy(&h[i].n_estimated, p + 28, 4);
        p += HOUR_V1_REC;
    }
    if (p != end)
        return MTR_ESTORE;
    *present = mask;
    return 0;
}
