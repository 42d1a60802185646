/*
 * test_decode_msg.c - the message decoder's two paths (adapters/io/decode_msg.c) give the same
 * records and errors: a catalogue of shapes and edge cases (numbers, nulls, escapes, envelopes,
 * duplicate keys, aliases, defaults) and thousands of generated and mutated messages, each decoded
 * by the fast path and by jansson alone and compared emit by emit. Also checks that the common
 * message shapes take the fast path.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/io/decode_msg.h"
#include "t.h"

#define EMITS_MAX 64

struct emitted {
    int is_err;
    struct mtr_record rec;
    struct mtr_record_error err;
    char raw[4096];
    size_t raw_len;
};

struct log {
    int n;
    struct emitted e[EMITS_MAX];
    int want_raw; /* answer MTR_STREAM_WANT_RAW to records without text, as the workers do */
};

static int record(void *ctx, const struct mtr_record *rec, const struct mtr_record_error *err,
                  const char *raw, size_t raw_len)
{
    struct log *l = ctx;
    if (!rec && !err) { /* the text of the record just logged */
        struct emitted *e = &l->e[l->n - 1];
        e->raw_len = raw_len < sizeof e->raw ? raw_len : sizeof e->raw - 1;
        memcpy(e->raw, raw, e->raw_len);
        return 0;
    }
    if (l->n == EMITS_MAX)
        return 0;
    struct emitted *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    e->is_err = err != NULL;
    if (rec)
        e->rec = *rec;
    if (err)
        e->err = *err;
    if (raw) {
        e->raw_len = raw_len < sizeof e->raw ? raw_len : sizeof e->raw - 1;
        memcpy(e->raw, raw, e->raw_len);
    } else if (rec && l->want_raw) {
        return MTR_STREAM_WANT_RAW;
    }
    return 0;
}

static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0; /* bit for bit: -0.0 is not 0.0 */
}

/* Field by field (a struct copy carries indeterminate padding). */
static int same_record(const struct mtr_record *a, const struct mtr_record *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == MTR_KIND_GRID) {
        const struct mtr_grid_status *x = &a->u.grid, *y = &b->u.grid;
        return strcmp(x->operator_id, y->operator_id) == 0 && x->ts == y->ts &&
               x->line == y->line && same_double(x->frequency_hz, y->frequency_hz) &&
               same_double(x->voltage_kv, y->voltage_kv) && same_double(x->load_mw, y->load_mw) &&
               same_double(x->capacity_mw, y->capacity_mw) &&
               same_double(x->stability, y->stability);
    }
    if (a->kind == MTR_KIND_WEATHER) {
        const struct mtr_weather_obs *x = &a->u.weather, *y = &b->u.weather;
        return strcmp(x->station_id, y->station_id) == 0 && x->ts == y->ts && x->line == y->line &&
               same_double(x->temperature_c, y->temperature_c) &&
               same_double(x->humidity_pct, y->humidity_pct) &&
               same_double(x->pressure_hpa, y->pressure_hpa) &&
               same_double(x->wind_speed_ms, y->wind_speed_ms) &&
               same_double(x->wind_direction_deg, y->wind_direction_deg) &&
               same_double(x->precipitation_mm, y->precipitation_mm) &&
               same_double(x->cloud_cover_pct, y->cloud_cover_pct);
    }
    const struct mtr_reading *x = &a->u.reading, *y = &b->u.reading;
    return strcmp(x->meter_id, y->meter_id) == 0 && x->ts == y->ts &&
           x->interval_s == y->interval_s && x->line == y->line && same_double(x->kwh, y->kwh) &&
           same_double(x->voltage_v, y->voltage_v) && same_double(x->current_a, y->current_a) &&
           same_double(x->power_factor, y->power_factor) &&
           same_double(x->frequency_hz, y->frequency_hz) &&
           same_double(x->active_power_kw, y->active_power_kw) &&
           same_double(x->reactive_power_kvar, y->reactive_power_kvar);
}

/* Two texts are the same JSON value (the fast path keeps an element's bytes, jansson renders). */
static int same_json(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return 1;
    json_t *x = json_loadb(a, alen, JSON_DECODE_ANY, NULL);
    json_t *y = json_loadb(b, blen, JSON_DECODE_ANY, NULL);
    int eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

static int compare(const char *payload, enum mtr_kind kind, const struct mtr_format *fmt,
                   const char *entity, struct mtr_msg_decoder *fast)
{
    static struct log a, b;
    struct mtr_msg_decoder slow;
    mtr_msg_decoder_init(&slow, fmt);
    slow.jansson_only = 1;
    struct mtr_stream_msg m = {.payload = payload,
                               .len = strlen(payload),
                               .kind = kind,
                               .source = "test",
                               .entity_id = entity};
    a.n = b.n = 0;
    a.want_raw = b.want_raw = 1;
    int ra = mtr_decode_message(fast, &m, record, &a);
    int rb = mtr_decode_message(&slow, &m, record, &b);
    int ok = ra == rb && a.n == b.n;
    for (int i = 0; ok && i < a.n; i++) {
        const struct emitted *x = &a.e[i], *y = &b.e[i];
        ok = x->is_err == y->is_err &&
             (x->is_err ? x->err.rule == y->err.rule && strcmp(x->err.field, y->err.field) == 0 &&
                              strcmp(x->err.message, y->err.message) == 0
                        : same_record(&x->rec, &y->rec)) &&
             same_json(x->raw, x->raw_len, y->raw, y->raw_len);
    }
    if (!ok) {
        fprintf(stderr, "paths differ on: %s (rc %d/%d, emits %d/%d)\n", payload, ra, rb, a.n, b.n);
        for (int i = 0; i < a.n || i < b.n; i++) {
            const struct emitted *x = &a.e[i], *y = &b.e[i];
            if (i < a.n)
                fprintf(stderr, "  fast %d: %s %s kwh=%.17g [%.*s]\n", i, x->is_err ? "err" : "rec",
                        x->is_err ? x->err.message : "", x->rec.u.reading.kwh, (int)x->raw_len,
                        x->raw);
            if (i < b.n)
                fprintf(stderr, "  slow %d: %s %s kwh=%.17g [%.*s]\n", i, y->is_err ? "err" : "rec",
                        y->is_err ? y->err.message : "", y->rec.u.reading.kwh, (int)y->raw_len,
                        y->raw);
        }
    }
    return ok;
}

#define R(rest) "{\"meter_id\":\"SM1\",\"timestamp\":\"2026-01-01T00:15:00Z\"" rest "}"

static const char *catalogue[] = {
    /* shapes */
    R(",\"consumption_kwh\":0.25"),
    "[" R(",\"consumption_kwh\":0.25") "," R(",\"consumption_kwh\":1") "]",
    "{\"payload\":" R(",\"kwh\":0.5") ",\"metadata\":{\"seq\":1,\"src\":\"gw\",\"tags\":[1,2,{}]}}",
    "{\"metadata\":{\"a\":[]},\"payload\":[" R(",\"kwh\":0.5") "," R(",\"kwh\":0.7") "]}",
    " \n\t[ " R(",\"consumption_kwh\" : 0.25 ") " ,\r\n" R(",\"kwh\":2") " ] \n",
    /* key order, aliases, case, unknown keys, optional measurements */
    "{\"KWH\":0.1,\"TS\":\"2026-01-01T00:00:00Z\",\"Meter\":\"X\",\"foo\":true,\"bar\":null}",
    R(",\"kwh\":0.1,\"energy_kwh\":0.9"), /* the first alias wins */
    R(",\"kwh\":0.1,\"voltage\":230.5,\"current_a\":1.25,\"pf\":0.95,\"frequency\":50.01"),
    R(",\"kwh\":0.1,\"interval_s\":900"),
    R(",\"kwh\":0.1,\"interval_minutes\":15"),
    R(",\"kwh\":0.1,\"interval_s\":900,\"interval_minutes\":30"),
    R(",\"kwh\":0.1,\"interval_minutes\":30,\"interval_s\":900"),
    R(",\"kwh\":0.1,\"interval_s\":0"),
    R(",\"kwh\":0.1,\"interval_s\":900.5"),
    /* numbers */
    R(",\"kwh\":-0"),
    R(",\"kwh\":-0.0"),
    R(",\"kwh\":0"),
    R(",\"kwh\":-12"),
    R(",\"kwh\":123456789012345678"),
    R(",\"kwh\":1234567890123456789"),
    R(",\"kwh\":99999999999999999999999"),
    R(",\"kwh\":1e3"),
    R(",\"kwh\":1E-3"),
    R(",\"kwh\":1e999"),
    R(",\"kwh\":0.1000000000000000055511151231257827"),
    R(",\"kwh\":012"),
    R(",\"kwh\":1.}"),
    R(",\"kwh\":.5"),
    R(",\"kwh\":+1"),
    R(",\"kwh\":-"),
    R(",\"kwh\":NaN"),
    R(",\"kwh\":-Infinity"),
    R(",\"kwh\":0x1F"),
    R(",\"kwh\":2.5e-3"),
    R(",\"kwh\":1.5,\"voltage\":1e999"),
    R(",\"kwh\":0.1,\"unknown\":123456789012345678901"),
    /* wrong types, nulls, missing fields */
    R(",\"kwh\":\"0.5\""),
    R(",\"kwh\":null"),
    R(",\"kwh\":true"),
    R(",\"kwh\":[1]"),
    R(",\"kwh\":null,\"consumption\":0.3"),
    R(",\"kwh\":{\"v\":1}"),
    "{\"meter_id\":42,\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"SM1\",\"timestamp\":1767225600,\"kwh\":1}",
    "{\"meter_id\":\"\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\" SM1 \",\"timestamp\":\" 2026-01-01T00:00:00Z \",\"kwh\":1}",
    "{\" meter_id\":\"SM1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"SM1\",\"kwh\":1}",
    "{\"meter_id\":\"SM1\",\"timestamp\":\"2026-13-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"SM1\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
    "{\"meter_id\":\"0123456789012345678901234567890123456789012345678901234567890123456789\","
    "\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    /* duplicate keys */
    R(",\"kwh\":0.1,\"kwh\":0.2"),
    "{\"meter_id\":\"A\",\"meter_id\":\"B\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"payload\":" R(",\"kwh\":1") ",\"payload\":" R(",\"kwh\":2") "}",
    /* escapes and non-ASCII */
    "{\"meter_id\":\"S\\u004d1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"SM\\\"1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"Z\xc3\xbcrich\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"bad\xc3\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"meter_id\":\"SM1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1,\"x\":\"\\ud800\"}",
    /* envelopes that are not */
    "{\"payload\":\"text\",\"meter_id\":\"SM1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}",
    "{\"payload\":null," R(",\"kwh\":1") "}",
    "{\"payload\":{\"payload\":" R(",\"kwh\":1") "}}",
    "{\"payload\":[]}",
    "{\"payload\":[7," R(",\"kwh\":1") "]}",
    "[{\"payload\":" R(",\"kwh\":1") "}," R(",\"kwh\":2") "]",
    /* arrays */
    "[]",
    "[ ]",
    "[7]",
    "[" R(",\"kwh\":1") ",7,\"x\",null,[]," R(",\"kwh\":\"no\"") "]",
    "[" R(",\"kwh\":1") "," R(",\"kwh\":2") ",]",
    "[" R(",\"kwh\":1") "",
    /* not JSON, scalars, trailing bytes */
    "",
    "   ",
    "42",
    "\"text\"",
    "null",
    "{",
    "{\"meter_id\":\"SM1\", broken",
    R(",\"kwh\":1") " x",
    R(",\"kwh\":1") R(",\"kwh\":2"),
    "{\"a\":tru}",
    "{\"a\":nul}",
    "{\"a\":1,}",
    "{,}",
    "{\"a\" 1}",
    "{\"a\":1 \"b\":2}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    "]]]]]]",
};

static void test_catalogue(void)
{
    struct mtr_format fmt;
    mtr_format_init(&fmt);
    struct mtr_msg_decoder d;
    mtr_msg_decoder_init(&d, &fmt);
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
        T_CHECK(compare(catalogue[i], MTR_KIND_READING, &fmt, NULL, &d));
    /* the same again with a warm binding cache, and with a default id from the channel */
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
        T_CHECK(compare(catalogue[i], MTR_KIND_READING, &fmt, NULL, &d));
        T_CHECK(compare(catalogue[i], MTR_KIND_READING, &fmt, "TOPIC1", &d));
    }
    T_CHECK(compare("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}", MTR_KIND_READING, &fmt,
                    "SM9", &d));
    T_CHECK(compare("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":1}", MTR_KIND_READING, &fmt,
                    NULL, &d));
    /* grid status and weather */
    static const char *gw[] = {
        "{\"operator_id\":\"TSO1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"frequency_hz\":50.01}",
        "[{\"tso\":\"TSO1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"load\":1200,\"capacity\":2000}"
        ",{\"tso\":\"TSO1\",\"timestamp\":\"2026-01-01T00:15:00Z\"}]",
        "{\"station_id\":\"ST1\",\"time\":\"2026-01-01T00:00:00Z\",\"temperature\":-4.5,"
        "\"humidity\":80}",
        "{\"station\":\"ST1\",\"time\":\"2026-01-01T00:00:00Z\",\"temperature_c\":null}",
    };
    for (size_t i = 0; i < sizeof gw / sizeof gw[0]; i++) {
        T_CHECK(compare(gw[i], MTR_KIND_GRID, &fmt, NULL, &d));
        T_CHECK(compare(gw[i], MTR_KIND_WEATHER, &fmt, NULL, &d));
    }
    /* Dark Sky scales humidity; a column map turns the fast path off */
    struct mtr_format ds;
    mtr_format_init(&ds);
    ds.name = MTR_FORMAT_DARKSKY;
    struct mtr_msg_decoder dd;
    mtr_msg_decoder_init(&dd, &ds);
    T_CHECK(compare(gw[2], MTR_KIND_WEATHER, &ds, NULL, &dd));
    T_CHECK(compare("{\"time\":\"2026-01-01T00:00:00Z\",\"humidity\":0.5}", MTR_KIND_WEATHER, &ds,
                    NULL, &dd));
    struct mtr_format mapped;
    struct mtr_errbuf eb;
    mtr_format_init(&mapped);
    T_EQ_INT(mtr_format_set_map(&mapped, "consumption_kwh=v", &eb), 0);
    struct mtr_msg_decoder dm;
    mtr_msg_decoder_init(&dm, &mapped);
    T_CHECK(compare(R(",\"v\":0.5,\"kwh\":0.7"), MTR_KIND_READING, &mapped, NULL, &dm));
    T_EQ_INT(dm.fast, 0);
}

/* The common shapes take the fast path, and it keeps an element's own bytes as its text. */
static void test_fast_path_taken(void)
{
    struct mtr_format fmt;
    mtr_format_init(&fmt);
    struct mtr_msg_decoder d;
    mtr_msg_decoder_init(&d, &fmt);
    for (int i = 0; i < 5; i++) {
        T_CHECK(compare(catalogue[i], MTR_KIND_READING, &fmt, NULL, &d));
    }
    T_EQ_INT(d.slow, 0);
    T_EQ_INT(d.fast, 8);
    static struct log l;
    l.n = 0;
    struct mtr_stream_msg m = {.payload = catalogue[4], .len = strlen(catalogue[4])};
    T_EQ_INT(mtr_decode_message(&d, &m, record, &l), 0);
    T_EQ_INT(l.n, 2);
    T_CHECK(l.e[0].raw_len > 0 &&
            strncmp(l.e[0].raw, R(",\"consumption_kwh\" : 0.25 "), l.e[0].raw_len) == 0);
}

/* A number outside JSON's grammar gets the shared scanner's reason (base/jsonnum.h), not just
 * the parser's "invalid token". */
static void test_number_messages(void)
{
    static const struct {
        const char *body, *want;
    } cases[] = {
        {R(",\"kwh\":NaN"), "NaN and Infinity are not JSON numbers (use null): \"NaN\""},
        {"[" R(",\"kwh\":-Infinity") "]",
         "NaN and Infinity are not JSON numbers (use null): \"-Infinity\""},
        {R(",\"kwh\":+1"), "a JSON number has no leading '+': \"+1\""},
        {R(",\"kwh\":0x1F"), "hexadecimal is not a JSON number: \"0x1F\""},
        {R(",\"kwh\":012"), "a JSON number has no leading zeros: \"012\""},
        {R(",\"kwh\":1.}"), "a digit must follow the decimal point: \"1.\""},
    };
    struct mtr_format fmt;
    mtr_format_init(&fmt);
    struct mtr_msg_decoder d;
    mtr_msg_decoder_init(&d, &fmt);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static struct log l;
        l.n = 0;
        struct mtr_stream_msg m = {.payload = cases[i].body, .len = strlen(cases[i].body)};
        T_EQ_INT(mtr_decode_message(&d, &m, record, &l), 0);
        T_EQ_INT(l.n, 1);
        T_EQ_INT(l.e[0].is_err, 1);
        T_EQ_INT(l.e[0].err.rule, MTR_R_PARSE_JSON);
        if (!strstr(l.e[0].err.message, cases[i].want)) {
            printf("  %s: %s\n", cases[i].body, l.e[0].err.message);
            T_CHECK(0);
        }
    }
}

/* A small deterministic generator (xorshift) of messages near the grammar's edges. */
static uint64_t rng = 88172645463325252ULL;
static unsigned next(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void gen_value(char *buf, size_t cap, size_t *o, int numeric)
{
    static const char *nums[] = {"0.25",   "1",    "-3.5",    "0",    "-0", "1e2",
                                 "12.000", "0.1",  "230.45",  "-0.0", "7.", "1234567890123",
                                 "null",   "true", "\"0.5\"", "[]",   "{}", "3.14159265358979"};
    static const char *strs[] = {
        "\"SM1\"", "\"SM000123\"", "\"2026-01-01T00:00:00Z\"", "\"2026-01-01T00:15:00+01:00\"",
        "\"\"",    "\" x \"",      "\"2026-02-30T00:00:00Z\"", "12",
        "null",    "\"a\\\"b\""};
    const char *v = numeric ? nums[next(sizeof nums / sizeof nums[0])]
                            : strs[next(sizeof strs / sizeof strs[0])];
    *o += (size_t)snprintf(buf + *o, cap - *o, "%s", v);
}

/* An object of 1-6 members: mostly a valid reading (id, timestamp, kWh in some order and
 * spelling) with random extras, sometimes random keys only. */
static void gen_object(char *buf, size_t cap, size_t *o)
{
    static const char *idk[] = {"meter_id", "meter", "Meter_ID", "lclid"};
    static const char *tsk[] = {"timestamp", "ts", "time", "TIMESTAMP"};
    static const char *numk[] = {"consumption_kwh",  "kwh",   "voltage_v",
                                 "current",          "pf",    "interval_s",
                                 "interval_minutes", "extra", "energy_kwh"};
    static const char *good_num[] = {"0.25", "1", "0.125", "230.45", "12.000", "0.1", "0"};
    int valid = next(4) != 0;
    int n = valid ? 3 + (int)next(4) : 1 + (int)next(6);
    int first = (int)next(3); /* rotation of id, timestamp, kWh among the first three */
    *o += (size_t)snprintf(buf + *o, cap - *o, "{");
    for (int i = 0; i < n; i++) {
        int role = valid && i < 3 ? (i + first) % 3 : -1;
        unsigned which = next(10);
        const char *k = role == 0   ? idk[next(4)]
                        : role == 1 ? tsk[next(4)]
                        : role == 2 ? numk[next(2)]
                        : which < 2 ? idk[next(4)]
                        : which < 4 ? tsk[next(4)]
                                    : numk[next(sizeof numk / sizeof numk[0])];
        *o += (size_t)snprintf(buf + *o, cap - *o, "%s\"%s\":%s", i ? "," : "", k,
                               next(8) == 0 ? " " : "");
        if (role == 0)
            *o += (size_t)snprintf(buf + *o, cap - *o, "\"SM%03u\"", next(1000));
        else if (role == 1)
            *o += (size_t)snprintf(buf + *o, cap - *o, "\"2026-01-0%uT%02u:%02u:00Z\"", 1 + next(9),
                                   next(24), 15 * next(4));
        else if (role == 2)
            *o += (size_t)snprintf(buf + *o, cap - *o, "%s", good_num[next(7)]);
        else
            gen_value(buf, cap, o, which >= 4);
    }
    *o += (size_t)snprintf(buf + *o, cap - *o, "}");
}

static void test_generated_and_mutated(void)
{
    struct mtr_format fmt;
    mtr_format_init(&fmt);
    struct mtr_msg_decoder d;
    mtr_msg_decoder_init(&d, &fmt);
    char buf[4096];
    int failures = 0;
    const char *env = getenv("METRIFY_TEST_ITERS"); /* more for a longer run by hand */
    int iters = env ? atoi(env) : 20000;
    for (int iter = 0; iter < iters && failures < 5; iter++) {
        size_t o = 0;
        unsigned shape = next(4);
        if (shape == 0) {
            gen_object(buf, sizeof buf, &o);
        } else {
            if (shape == 2)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"payload\":");
            int n = shape == 3 ? 1 : 1 + (int)next(4);
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", shape == 3 ? "" : "[");
            for (int i = 0; i < n; i++) {
                if (i)
                    o += (size_t)snprintf(buf + o, sizeof buf - o, ",");
                gen_object(buf, sizeof buf, &o);
            }
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", shape == 3 ? "" : "]");
            if (shape == 2)
                o += (size_t)snprintf(buf + o, sizeof buf - o, ",\"metadata\":{\"n\":%d}}", n);
        }
        /* every third message gets a byte changed, dropped or inserted */
        if (next(3) == 0 && o > 2) {
            static const char bytes[] = "{}[],:\"\\ 0-.e9nx";
            size_t at = next((unsigned)o);
            unsigned op = next(3);
            if (op == 0) {
                buf[at] = bytes[next(sizeof bytes - 1)];
            } else if (op == 1) {
                memmove(buf + at, buf + at + 1, o - at);
                o--;
            } else if (o + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, o - at + 1);
                buf[at] = bytes[next(sizeof bytes - 1)];
                o++;
            }
            buf[o] = 0;
        }
        if (!compare(buf, MTR_KIND_READING, &fmt, next(4) ? NULL : "CH1", &d))
            failures++;
    }
    T_EQ_INT(failures, 0);
    printf("generated: %lld records by the fast path, %lld by jansson\n", (long long)d.fast,
           (long long)d.slow);
    T_CHECK(d.fast > 1000); /* most of the generated records took the fast path */
}

int main(void)
{
    T_RUN(test_catalogue);
    T_RUN(test_fast_path_taken);
    T_RUN(test_number_messages);
    T_RUN(test_generated_and_mutated);
    return T_END();
}
