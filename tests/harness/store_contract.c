/*
 * store_contract.c - the store contract suite (see store_contract.h): master data, meter keys,
 * detector state, readings, revisions, flags, rollup arithmetic, recompute, alerts, quarantine,
 * stats, transactions, read snapshots, retention, backup, durability and check, all through the
 * store port.
 */
#include "store_contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/quality.h"
#include "t.h"

static int (*g_open)(const char *loc, struct mtr_store **out, struct mtr_errbuf *eb);
static const char *g_loc;
static char g_tag[32]; /* makes every id of this run unique, so a reused store does not matter */

#define DAY    ((int64_t)1699920000) /* 2023-11-14T00:00:00Z */
#define OLDDAY ((int64_t)978307200)  /* 2001-01-01T00:00:00Z, only the retention test uses it */

/* Fails the running test with the store's message when rc != 0. */
#define OK(s, expr)                                                                                \
    do {                                                                                           \
        int ok_rc_ = (expr);                                                                       \
        if (ok_rc_ != 0)                                                                           \
            t_fail(__FILE__, __LINE__, "%s -> %d (%s)", #expr, ok_rc_, (s)->err.msg);              \
    } while (0)

static struct mtr_store *open_store(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    int rc = g_open(g_loc, &s, &eb);
    if (rc != 0 || !s) {
        t_fail(__FILE__, __LINE__, "open %s -> %d (%s)", g_loc, rc, eb.msg);
        return NULL;
    }
    return s;
}

static const char *tid(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s-%s", g_tag, name);
    return buf;
}

static struct mtr_stored_reading reading(int64_t key, int64_t ts, double kwh, int code)
{
    struct mtr_stored_reading r;
    memset(&r, 0, sizeof r);
    r.meter_key = key;
    r.ts = ts;
    r.interval_s = 900;
    r.raw_kwh = mtr_quality_code_is_estimate(code) ? NAN : kwh;
    r.kwh = kwh;
    r.voltage_v = 231.5;
    r.current_a = 4.25;
    r.power_factor = 0.95;
    r.frequency_hz = 50.01;
    r.active_power_kw = 0.9;
    r.reactive_power_kvar = 0.1;
    r.quality_code = code;
    r.flags = 0;
    r.score = mtr_reading_score(code, 0);
    r.ingested_at = ts + 900;
    return r;
}

static int64_t new_meter(struct mtr_store *s, const char *name)
{
    char id[MTR_ID_MAX];
    int64_t key = 0;
    int created = 0;
    OK(s, s->ops->meter_key(s, tid(id, sizeof id, name), 1, &key, &created));
    T_EQ_INT(created, 1);
    T_CHECK(key > 0);
    return key;
}

static struct mtr_store_stats stats(struct mtr_store *s)
{
    struct mtr_store_stats st;
    memset(&st, 0, sizeof st);
    OK(s, s->ops->stats(s, &st));
    return st;
}

/* ---- collectors ---- */

#define MAXROWS 64
struct meters_seen {
    int n;
    char ids[MAXROWS][MTR_ID_MAX];
};
static int collect_meter(void *ctx, const struct mtr_meter *m)
{
    struct meters_seen *c = ctx;
    if (strncmp(m->id, g_tag, strlen(g_tag)) == 0 && c->n < MAXROWS)
        snprintf(c->ids[c->n++], MTR_ID_MAX, "%s", m->id);
    return 0;
}

struct readings_seen {
    int n;
    struct mtr_stored_reading r[MAXROWS];
};
static int collect_reading(void *ctx, const struct mtr_stored_reading *r)
{
    struct readings_seen *c = ctx;
    if (c->n < MAXROWS)
        c->r[c->n++] = *r;
    return 0;
}

struct days_seen {
    int n;
    struct mtr_day_row r[MAXROWS];
};
static int collect_day(void *ctx, const struct mtr_day_row *r)
{
    struct days_seen *c = ctx;
    if (c->n < MAXROWS)
        c->r[c->n++] = *r;
    return 0;
}

struct alerts_seen {
    int n;
    struct mtr_alert a[MAXROWS];
};
static int collect_alert(void *ctx, const struct mtr_alert *a)
{
    struct alerts_seen *c = ctx;
    if (c->n < MAXROWS)
        c->a[c->n++] = *a;
    return 0;
}

static int stop_at_first(void *ctx, const struct mtr_stored_reading *r)
{
    (void)r;
    ++*(int *)ctx;
    return 42;
}

static struct days_seen days_of(struct mtr_store *s, const char *meter_id)
{
    struct days_seen d;
    struct mtr_query q;
    memset(&d, 0, sizeof d);
    memset(&q, 0, sizeof q);
    q.entity_id = meter_id;
    q.kind = q.type = q.min_level = -1;
    OK(s, s->ops->day_rows(s, &q, collect_day, &d));
    return d;
}

/* ======================= tests ======================= */

static void test_master_data(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char a[MTR_ID_MAX], b[MTR_ID_MAX], c[MTR_ID_MAX];
    struct mtr_meter m, got;
    int64_t key = 0;
    mtr_meter_init(&m);
    snprintf(m.id, sizeof m.id, "%s", tid(b, sizeof b, "master-B"));
    m.latitude = 52.52;
    m.longitude = NAN;
    snprintf(m.address, sizeof m.address, "Unter den Linden 1, Berlin");
    snprintf(m.manufacturer, sizeof m.manufacturer, "Landis+Gyr");
    snprintf(m.model, sizeof m.model, "E450");
    snprintf(m.firmware, sizeof m.firmware, "1.2.3");
    m.type = MTR_METER_COMMERCIAL;
    snprintf(m.tariff, sizeof m.tariff, "time_of_use");
    m.status = MTR_METER_MAINTENANCE;
    m.installed_at = 1600000000;
    snprintf(m.operator_id, sizeof m.operator_id, "OP-1");
    m.base_kwh = 12.5;
    OK(s, s->ops->meter_put(s, &m));
    OK(s, s->ops->meter_get(s, m.id, &got, &key));
    T_CHECK(key > 0);
    T_EQ_STR(got.id, m.id);
    T_EQ_DBL(got.latitude, 52.52, 1e-12);
    T_CHECK(isnan(got.longitude));
    T_EQ_STR(got.address, m.address);
    T_EQ_STR(got.manufacturer, "Landis+Gyr");
    T_EQ_STR(got.model, "E450");
    T_EQ_STR(got.firmware, "1.2.3");
    T_EQ_INT(got.type, MTR_METER_COMMERCIAL);
    T_EQ_STR(got.tariff, "time_of_use");
    T_EQ_INT(got.status, MTR_METER_MAINTENANCE);
    T_EQ_INT(got.installed_at, 1600000000);
    T_EQ_STR(got.operator_id, "OP-1");
    T_EQ_STR(got.station_id, "");
    T_EQ_DBL(got.base_kwh, 12.5, 1e-12);

    /* upsert by id: same key, new values */
    m.status = MTR_METER_ACTIVE;
    m.base_kwh = NAN;
    OK(s, s->ops->meter_put(s, &m));
    int64_t key2 = 0;
    OK(s, s->ops->meter_get(s, m.id, &got, &key2));
    T_EQ_INT(key2, key);
    T_EQ_INT(got.status, MTR_METER_ACTIVE);
    T_CHECK(isnan(got.base_kwh));
    T_EQ_INT(s->ops->meter_get(s, tid(c, sizeof c, "master-none"), &got, NULL), MTR_ENOTFOUND);

    /* list: ordered by id, exact filter, limit/offset */
    mtr_meter_init(&m);
    snprintf(m.id, sizeof m.id, "%s", tid(a, sizeof a, "master-A"));
    OK(s, s->ops->meter_put(s, &m));
    struct meters_seen seen;
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->meter_list(s, &q, collect_meter, &seen));
    int ia = -1, ib = -1;
    for (int i = 0; i < seen.n; i++) {
        if (strcmp(seen.ids[i], a) == 0)
            ia = i;
        if (strcmp(seen.ids[i], b) == 0)
            ib = i;
    }
    T_CHECK(ia >= 0 && ib >= 0 && ia < ib);
    memset(&seen, 0, sizeof seen);
    q.entity_id = b;
    OK(s, s->ops->meter_list(s, &q, collect_meter, &seen));
    T_EQ_INT(seen.n, 1);
    T_EQ_STR(seen.ids[0], b);
    memset(&seen, 0, sizeof seen);
    q.entity_id = NULL;
    q.limit = 1;
    q.offset = 0;
    OK(s, s->ops->meter_list(s, &q, collect_meter, &seen));
    T_CHECK(seen.n <= 1);

    /* grid operators and weather stations */
    struct mtr_operator o, og;
    memset(&o, 0, sizeof o);
    snprintf(o.id, sizeof o.id, "%s", tid(c, sizeof c, "OP"));
    snprintf(o.name, sizeof o.name, "50Hertz");
    snprintf(o.type, sizeof o.type, "TSO");
    snprintf(o.region, sizeof o.region, "Berlin");
    o.capacity_mw = 1500;
    o.voltage_kv = 380;
    o.latitude = 52.5;
    o.longitude = 13.4;
    o.status = MTR_SITE_ACTIVE;
    OK(s, s->ops->operator_put(s, &o));
    o.status = MTR_SITE_MAINTENANCE;
    o.capacity_mw = NAN;
    OK(s, s->ops->operator_put(s, &o));
    OK(s, s->ops->operator_get(s, o.id, &og));
    T_EQ_STR(og.name, "50Hertz");
    T_EQ_STR(og.type, "TSO");
    T_EQ_STR(og.region, "Berlin");
    T_CHECK(isnan(og.capacity_mw));
    T_EQ_DBL(og.voltage_kv, 380, 1e-12);
    T_EQ_INT(og.status, MTR_SITE_MAINTENANCE);
    T_EQ_INT(s->ops->operator_get(s, tid(c, sizeof c, "OP-none"), &og), MTR_ENOTFOUND);

    struct mtr_station w, wg;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "%s", tid(c, sizeof c, "ST"));
    snprintf(w.name, sizeof w.name, "Tempelhof");
    snprintf(w.type, sizeof w.type, "synoptic");
    w.latitude = 52.47;
    w.longitude = 13.4;
    w.elevation_m = 48;
    w.status = MTR_SITE_INACTIVE;
    OK(s, s->ops->station_put(s, &w));
    OK(s, s->ops->station_get(s, w.id, &wg));
    T_EQ_STR(wg.name, "Tempelhof");
    T_EQ_STR(wg.type, "synoptic");
    T_EQ_DBL(wg.elevation_m, 48, 1e-12);
    T_EQ_INT(wg.status, MTR_SITE_INACTIVE);
    T_EQ_INT(s->ops->station_get(s, tid(c, sizeof c, "ST-none"), &wg), MTR_ENOTFOUND);
    s->ops->close(s);
}

static void test_meter_key(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char id[MTR_ID_MAX];
    int64_t key = 0, key2 = 0;
    int created = -1;
    tid(id, sizeof id, "key-1");
    T_EQ_INT(s->ops->meter_key(s, id, 0, &key, &created), MTR_ENOTFOUND);
    T_EQ_INT(created, 0);
    OK(s, s->ops->meter_key(s, id, 1, &key, &created));
    T_EQ_INT(created, 1);
    T_CHECK(key > 0);
    OK(s, s->ops->meter_key(s, id, 1, &key2, &created));
    T_EQ_INT(created, 0);
    T_EQ_INT(key2, key);
    OK(s, s->ops->meter_key(s, id, 0, &key2, &created));
    T_EQ_INT(key2, key);
    /* an auto-registered meter is pending and residential */
    struct mtr_meter m;
    int64_t k3 = 0;
    OK(s, s->ops->meter_get(s, id, &m, &k3));
    T_EQ_INT(k3, key);
    T_EQ_INT(m.status, MTR_METER_PENDING);
    T_EQ_INT(m.type, MTR_METER_RESIDENTIAL);
    /* master data later keeps the key */
    m.status = MTR_METER_ACTIVE;
    OK(s, s->ops->meter_put(s, &m));
    OK(s, s->ops->meter_key(s, id, 0, &key2, NULL));
    T_EQ_INT(key2, key);
    /* distinct meters, distinct keys; the key survives a reopen */
    int64_t other = new_meter(s, "key-2");
    T_CHECK(other != key);
    s->ops->close(s);
    s = open_store();
    if (!s)
        return;
    OK(s, s->ops->meter_key(s, id, 0, &key2, &created));
    T_EQ_INT(key2, key);
    T_EQ_INT(created, 0);
    s->ops->close(s);
}

static void test_state(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int64_t key = new_meter(s, "state");
    unsigned char buf[64], small[2];
    size_t len = 99;
    T_EQ_INT(s->ops->state_get(s, key, buf, sizeof buf, &len), MTR_ENOTFOUND);
    const unsigned char blob[5] = {1, 0, 2, 255, 3};
    OK(s, s->ops->state_put(s, key, blob, sizeof blob));
    OK(s, s->ops->state_get(s, key, buf, sizeof buf, &len));
    T_EQ_INT(len, 5);
    T_CHECK(memcmp(buf, blob, 5) == 0);
    const unsigned char blob2[3] = {9, 8, 7};
    OK(s, s->ops->state_put(s, key, blob2, sizeof blob2));
    OK(s, s->ops->state_get(s, key, buf, sizeof buf, &len));
    T_EQ_INT(len, 3);
    T_CHECK(memcmp(buf, blob2, 3) == 0);
    T_EQ_INT(s->ops->state_get(s, key, small, sizeof small, &len), MTR_ERANGE);
    T_EQ_INT(len, 3);
    s->ops->close(s);
}

static void test_readings(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int64_t key = new_meter(s, "readings"), other = new_meter(s, "readings-other");
    struct mtr_stored_reading r = reading(key, DAY + 900, 0.25, MTR_Q_VALID), got;
    r.flags = mtr_rule_bit(MTR_R_VOLTAGE_SAG) | mtr_rule_bit(MTR_R_WEATHER_RANGE);
    r.score = 0.9;
    r.ingested_at = DAY + 5000;
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->reading_get(s, key, DAY + 900, &got));
    T_EQ_INT(got.meter_key, key);
    T_EQ_INT(got.ts, DAY + 900);
    T_EQ_INT(got.interval_s, 900);
    T_EQ_DBL(got.raw_kwh, 0.25, 0);
    T_EQ_DBL(got.kwh, 0.25, 0);
    T_EQ_DBL(got.voltage_v, 231.5, 0);
    T_EQ_DBL(got.current_a, 4.25, 0);
    T_EQ_DBL(got.power_factor, 0.95, 0);
    T_EQ_DBL(got.frequency_hz, 50.01, 0);
    T_EQ_DBL(got.active_power_kw, 0.9, 0);
    T_EQ_DBL(got.reactive_power_kvar, 0.1, 0);
    T_EQ_INT(got.quality_code, MTR_Q_VALID);
    T_CHECK(got.flags == r.flags);
    T_EQ_DBL(got.score, 0.9, 0);
    T_EQ_INT(got.ingested_at, DAY + 5000);
    T_EQ_INT(s->ops->reading_get(s, key, DAY, &got), MTR_ENOTFOUND);
    T_EQ_INT(s->ops->reading_get(s, other, DAY + 900, &got), MTR_ENOTFOUND);

    /* NAN round trip: every optional measurement absent */
    struct mtr_stored_reading e = reading(key, DAY + 1800, 0.3, MTR_Q_EST_INTERPOLATION);
    e.voltage_v = e.current_a = e.power_factor = e.frequency_hz = NAN;
    e.active_power_kw = e.reactive_power_kvar = NAN;
    OK(s, s->ops->reading_put(s, &e));
    OK(s, s->ops->reading_get(s, key, DAY + 1800, &got));
    T_CHECK(isnan(got.raw_kwh));
    T_EQ_DBL(got.kwh, 0.3, 0);
    T_CHECK(isnan(got.voltage_v) && isnan(got.current_a) && isnan(got.power_factor));
    T_CHECK(isnan(got.frequency_hz) && isnan(got.active_power_kw));
    T_CHECK(isnan(got.reactive_power_kvar));
    T_EQ_INT(got.quality_code, MTR_Q_EST_INTERPOLATION);

    /* put replaces */
    struct mtr_store_stats before = stats(s);
    r.kwh = r.raw_kwh = 0.75;
    r.flags = 0;
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->reading_get(s, key, DAY + 900, &got));
    T_EQ_DBL(got.kwh, 0.75, 0);
    T_CHECK(got.flags == 0);
    T_EQ_INT(stats(s).readings, before.readings);

    /* range: [from, to), ascending, only this meter */
    for (int i = 3; i >= 0; i--) {
        struct mtr_stored_reading x = reading(key, DAY + 3600 + 900 * i, i, MTR_Q_VALID);
        OK(s, s->ops->reading_put(s, &x));
        x.meter_key = other;
        OK(s, s->ops->reading_put(s, &x));
    }
    struct readings_seen seen;
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->readings_range(s, key, DAY + 900, DAY + 3600 + 2700, collect_reading, &seen));
    T_EQ_INT(seen.n, 5); /* 900, 1800, 3600, 4500, 5400; 6300 is the exclusive end */
    int64_t want[5] = {DAY + 900, DAY + 1800, DAY + 3600, DAY + 4500, DAY + 5400};
    for (int i = 0; i < seen.n && i < 5; i++) {
        T_EQ_INT(seen.r[i].ts, want[i]);
        T_EQ_INT(seen.r[i].meter_key, key);
    }
    int calls = 0;
    T_EQ_INT(s->ops->readings_range(s, key, DAY, DAY + 86400, stop_at_first, &calls), 42);
    T_EQ_INT(calls, 1);
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->readings_range(s, key, DAY + 86400, DAY + 2 * 86400, collect_reading, &seen));
    T_EQ_INT(seen.n, 0);
    s->ops->close(s);
}

static void test_readings_flag(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int64_t key = new_meter(s, "flag");
    int codes[5] = {MTR_Q_VALID, MTR_Q_EST_REFERENCE_DAY, MTR_Q_VALID, MTR_Q_QUESTIONABLE,
                    MTR_Q_EDITED};
    for (int i = 0; i < 5; i++) {
        struct mtr_stored_reading r = reading(key, DAY + 900 * i, 1.0, codes[i]);
        r.flags = i == 3 ? mtr_rule_bit(MTR_R_SPIKE) : 0;
        OK(s, s->ops->reading_put(s, &r));
    }
    uint64_t bit = mtr_rule_bit(MTR_R_FROZEN);
    /* [from, to] inclusive: the 2nd to the 4th */
    OK(s, s->ops->readings_flag(s, key, DAY + 900, DAY + 2700, bit, MTR_Q_QUESTIONABLE));
    struct mtr_stored_reading got;
    int want_code[5] = {MTR_Q_VALID, MTR_Q_EST_REFERENCE_DAY, MTR_Q_QUESTIONABLE,
                        MTR_Q_QUESTIONABLE, MTR_Q_EDITED};
    uint64_t want_flags[5] = {0, bit, bit, bit | mtr_rule_bit(MTR_R_SPIKE), 0};
    for (int i = 0; i < 5; i++) {
        OK(s, s->ops->reading_get(s, key, DAY + 900 * i, &got));
        T_EQ_INT(got.quality_code, want_code[i]);
        T_CHECK(got.flags == want_flags[i]);
        T_EQ_DBL(got.score, mtr_reading_score(want_code[i], want_flags[i]), 1e-12);
    }
    /* set_code < 0: flags only */
    uint64_t sag = mtr_rule_bit(MTR_R_VOLTAGE_SAG);
    OK(s, s->ops->readings_flag(s, key, DAY + 3600, DAY + 3600, sag, -1));
    OK(s, s->ops->reading_get(s, key, DAY + 3600, &got));
    T_EQ_INT(got.quality_code, MTR_Q_EDITED);
    T_CHECK(got.flags == sag);
    T_EQ_DBL(got.score, mtr_reading_score(MTR_Q_EDITED, sag), 1e-12);
    s->ops->close(s);
}

static void test_revisions(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int64_t key = new_meter(s, "revisions");
    struct mtr_store_stats before = stats(s);
    struct mtr_stored_reading r = reading(key, DAY, 1.0, MTR_Q_VALID);
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->reading_revise(s, &r, DAY + 7200));
    r.kwh = r.raw_kwh = 2.0;
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->reading_revise(s, &r, DAY + 9000));
    r.kwh = r.raw_kwh = 3.0;
    OK(s, s->ops->reading_put(s, &r));
    struct mtr_store_stats after = stats(s);
    T_EQ_INT(after.revisions - before.revisions, 2);
    T_EQ_INT(after.readings - before.readings, 1);
    struct mtr_stored_reading got;
    OK(s, s->ops->reading_get(s, key, DAY, &got));
    T_EQ_DBL(got.kwh, 3.0, 0);
    s->ops->close(s);
}

static struct mtr_rollup_day day_zero(int64_t key, int64_t day)
{
    struct mtr_rollup_day d;
    memset(&d, 0, sizeof d);
    d.meter_key = key;
    d.day = day;
    d.min_kwh = d.max_kwh = NAN;
    return d;
}

static void test_rollup_merge(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char id[MTR_ID_MAX];
    int64_t key = new_meter(s, "merge");
    tid(id, sizeof id, "merge");
    /* a bucket with only questionable values first: no min/max yet */
    struct mtr_rollup_day a = day_zero(key, DAY);
    a.interval_s = 900;
    a.n_flagged = 1;
    a.first_ts = a.last_ts = DAY + 3600;
    a.timeliness_sum = 1.0;
    OK(s, s->ops->rollup_day_merge(s, &a));
    struct days_seen d = days_of(s, id);
    T_EQ_INT(d.n, 1);
    T_CHECK(isnan(d.r[0].d.min_kwh) && isnan(d.r[0].d.max_kwh));
    struct mtr_rollup_day b = day_zero(key, DAY);
    b.interval_s = 900;
    b.kwh = 2.5;
    b.peak_kwh = 1.0;
    b.offpeak_kwh = 0.5;
    b.min_kwh = 0.4;
    b.max_kwh = 1.1;
    b.n_valid = 3;
    b.n_estimated = 1;
    b.n_anomalous = 1;
    b.first_ts = DAY + 900;
    b.last_ts = DAY + 1800;
    b.timeliness_sum = 2.6;
    OK(s, s->ops->rollup_day_merge(s, &b));
    struct mtr_rollup_day c = day_zero(key, DAY);
    c.interval_s = 900;
    c.kwh = 1.5;
    c.peak_kwh = 0.25;
    c.min_kwh = 0.1;
    c.max_kwh = 0.9;
    c.n_valid = 2;
    c.n_flagged = 1;
    c.first_ts = c.last_ts = DAY + 80000;
    c.timeliness_sum = 0.6;
    OK(s, s->ops->rollup_day_merge(s, &c));
    /* a second day, to see ordering */
    struct mtr_rollup_day n = day_zero(key, DAY + 86400);
    n.interval_s = 900;
    n.kwh = 7;
    n.min_kwh = n.max_kwh = 7;
    n.n_valid = 1;
    n.first_ts = n.last_ts = DAY + 86400;
    OK(s, s->ops->rollup_day_merge(s, &n));
    d = days_of(s, id);
    T_EQ_INT(d.n, 2);
    const struct mtr_rollup_day *r = &d.r[0].d;
    T_EQ_STR(d.r[0].meter_id, id);
    T_EQ_INT(r->meter_key, key);
    T_EQ_INT(r->day, DAY);
    T_EQ_INT(r->interval_s, 900);
    T_EQ_DBL(r->kwh, 4.0, 1e-9);
    T_EQ_DBL(r->peak_kwh, 1.25, 1e-9);
    T_EQ_DBL(r->offpeak_kwh, 0.5, 1e-9);
    T_EQ_DBL(r->min_kwh, 0.1, 1e-12);
    T_EQ_DBL(r->max_kwh, 1.1, 1e-12);
    T_EQ_INT(r->n_valid, 5);
    T_EQ_INT(r->n_estimated, 1);
    T_EQ_INT(r->n_flagged, 2);
    T_EQ_INT(r->n_anomalous, 1);
    T_EQ_INT(r->first_ts, DAY + 900);
    T_EQ_INT(r->last_ts, DAY + 80000);
    T_EQ_DBL(r->timeliness_sum, 4.2, 1e-9);
    T_EQ_INT(d.r[1].d.day, DAY + 86400);
    T_EQ_DBL(d.r[1].d.kwh, 7, 1e-12);

    /* day filters: [from, to) on the day */
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.entity_id = id;
    q.has_from = 1;
    q.from = DAY + 86400;
    memset(&d, 0, sizeof d);
    OK(s, s->ops->day_rows(s, &q, collect_day, &d));
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.r[0].d.day, DAY + 86400);
    q.has_from = 0;
    q.has_to = 1;
    q.to = DAY + 86400;
    memset(&d, 0, sizeof d);
    OK(s, s->ops->day_rows(s, &q, collect_day, &d));
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.r[0].d.day, DAY);
    q.has_to = 0;
    q.limit = 1;
    q.offset = 1;
    memset(&d, 0, sizeof d);
    OK(s, s->ops->day_rows(s, &q, collect_day, &d));
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.r[0].d.day, DAY + 86400);

    /* hour and grid merges accept partial buckets, including ones without min/max */
    struct mtr_rollup_hour h = {key, DAY, 0, NAN, NAN, 0, 0};
    OK(s, s->ops->rollup_hour_merge(s, &h));
    struct mtr_rollup_hour h2 = {key, DAY, 1.5, 0.5, 1.0, 2, 1};
    OK(s, s->ops->rollup_hour_merge(s, &h2));
    struct mtr_rollup_grid_day g;
    memset(&g, 0, sizeof g);
    g.day = DAY;
    tid(g.operator_id, sizeof g.operator_id, "merge-OP");
    g.n = 1;
    g.freq_sum = g.freq_min = g.freq_max = 50.0;
    g.voltage_sum = 380;
    g.load_sum = g.load_max = 900;
    g.stability_sum = g.stability_min = 0.9;
    OK(s, s->ops->rollup_grid_merge(s, &g));
    g.freq_min = g.freq_max = g.load_max = g.stability_min = NAN;
    OK(s, s->ops->rollup_grid_merge(s, &g));
    s->ops->close(s);
}

/* Readings of one day for the recompute test, and the day row they must give (by hand). */
#define NREC 7
static void recompute_readings(int64_t key, struct mtr_stored_reading *r)
{
    r[0] = reading(key, DAY, 1.0, MTR_Q_VALID);             /* off-peak, on time */
    r[1] = reading(key, DAY + 17 * 3600, 2.0, MTR_Q_VALID); /* peak, 2 h late, anomalous */
    r[1].flags = mtr_rule_bit(MTR_R_VOLTAGE_SAG);
    r[1].ingested_at = r[1].ts + 900 + 7200;
    r[2] = reading(key, DAY + 17 * 3600 + 900, 0.5, MTR_Q_EST_INTERPOLATION); /* peak estimate */
    r[2].ingested_at = r[2].ts + 30 * 86400;                                  /* not counted */
    r[3] = reading(key, DAY + 12 * 3600, 99.0, MTR_Q_QUESTIONABLE);           /* out of analytics */
    r[3].flags = mtr_rule_bit(MTR_R_SPIKE);
    r[3].ingested_at = r[3].ts + 900 + 10 * 86400;           /* 0.2 */
    r[4] = reading(key, DAY + 23 * 3600, 3.0, MTR_Q_EDITED); /* off-peak */
    r[5] = reading(key, DAY - 900, 50.0, MTR_Q_VALID);       /* the day before */
    r[6] = reading(key, DAY + 86400, 60.0, MTR_Q_VALID);     /* the day after */
}

static void check_recomputed(const struct mtr_rollup_day *d)
{
    T_EQ_INT(d->day, DAY);
    T_EQ_INT(d->interval_s, 900);
    T_EQ_DBL(d->kwh, 6.5, 1e-9);
    T_EQ_DBL(d->peak_kwh, 2.5, 1e-9);
    T_EQ_DBL(d->offpeak_kwh, 4.0, 1e-9);
    T_EQ_DBL(d->min_kwh, 0.5, 1e-12);
    T_EQ_DBL(d->max_kwh, 3.0, 1e-12);
    T_EQ_INT(d->n_valid, 3);
    T_EQ_INT(d->n_estimated, 1);
    T_EQ_INT(d->n_flagged, 1);
    T_EQ_INT(d->n_anomalous, 1);
    T_EQ_INT(d->first_ts, DAY);
    T_EQ_INT(d->last_ts, DAY + 23 * 3600);
    T_EQ_DBL(d->timeliness_sum, 3.0, 1e-9);
}

static void test_rollup_recompute(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    struct mtr_params p;
    mtr_params_default(&p);
    char ida[MTR_ID_MAX], idb[MTR_ID_MAX];
    int64_t ka = new_meter(s, "recompute-A"), kb = new_meter(s, "recompute-B");
    tid(ida, sizeof ida, "recompute-A");
    tid(idb, sizeof idb, "recompute-B");
    struct mtr_stored_reading ra[NREC], rb[NREC];
    recompute_readings(ka, ra);
    recompute_readings(kb, rb);
    OK(s, s->ops->begin(s));
    for (int i = 0; i < NREC; i++) {
        OK(s, s->ops->reading_put(s, &ra[i]));
        OK(s, s->ops->reading_put(s, &rb[i]));
    }
    /* A: a stale row to be replaced; B: one merge per reading of the day, as ingest does */
    struct mtr_rollup_day stale = day_zero(ka, DAY);
    stale.kwh = 1000;
    stale.n_valid = 77;
    OK(s, s->ops->rollup_day_merge(s, &stale));
    for (int i = 0; i < 5; i++) {
        const struct mtr_stored_reading *r = &rb[i];
        struct mtr_rollup_day d = day_zero(kb, DAY);
        int grade = r->quality_code != MTR_Q_QUESTIONABLE;
        int est = mtr_quality_code_is_estimate(r->quality_code);
        double hod = (double)(r->ts - DAY) / 3600.0;
        d.interval_s = r->interval_s;
        if (grade) {
            d.kwh = r->kwh;
            d.min_kwh = d.max_kwh = r->kwh;
            if (hod >= p.peak_start_hour && hod < p.peak_end_hour)
                d.peak_kwh = r->kwh;
            if (hod >= p.offpeak_start_hour || hod < p.offpeak_end_hour)
                d.offpeak_kwh = r->kwh;
        }
        d.n_valid = r->quality_code == MTR_Q_VALID || r->quality_code == MTR_Q_EDITED;
        d.n_estimated = est;
        d.n_flagged = r->quality_code == MTR_Q_QUESTIONABLE;
        d.n_anomalous = (r->flags & mtr_alert_mask()) != 0;
        d.first_ts = d.last_ts = r->ts;
        d.timeliness_sum = est ? 0 : mtr_timeliness(r->ingested_at - (r->ts + r->interval_s));
        OK(s, s->ops->rollup_day_merge(s, &d));
    }
    OK(s, s->ops->rollup_recompute(s, ka, DAY, &p));
    OK(s, s->ops->commit(s));

    struct days_seen da = days_of(s, ida), db = days_of(s, idb);
    T_EQ_INT(da.n, 1);
    T_EQ_INT(db.n, 1);
    if (da.n == 1 && db.n == 1) {
        check_recomputed(&da.r[0].d);
        check_recomputed(&db.r[0].d);
    }
    /* idempotent, and valid outside a transaction */
    OK(s, s->ops->rollup_recompute(s, ka, DAY, &p));
    da = days_of(s, ida);
    T_EQ_INT(da.n, 1);
    if (da.n == 1)
        check_recomputed(&da.r[0].d);
    /* a retroactive flag changes the recount */
    OK(s, s->ops->readings_flag(s, ka, DAY + 23 * 3600, DAY + 23 * 3600, mtr_rule_bit(MTR_R_FROZEN),
                                MTR_Q_QUESTIONABLE));
    OK(s, s->ops->rollup_recompute(s, ka, DAY, &p));
    da = days_of(s, ida);
    if (da.n == 1) {
        T_EQ_DBL(da.r[0].d.kwh, 3.5, 1e-9);
        T_EQ_DBL(da.r[0].d.max_kwh, 2.0, 1e-12);
        T_EQ_INT(da.r[0].d.n_valid, 2);
        T_EQ_INT(da.r[0].d.n_flagged, 2);
        T_EQ_INT(da.r[0].d.last_ts, DAY + 23 * 3600);
    }
    /* a day without readings: its rows go */
    struct mtr_rollup_day ghost = day_zero(ka, DAY + 5 * 86400);
    ghost.n_valid = 1;
    OK(s, s->ops->rollup_day_merge(s, &ghost));
    T_EQ_INT(days_of(s, ida).n, 2); /* DAY and the ghost */
    OK(s, s->ops->rollup_recompute(s, ka, DAY + 5 * 86400, &p));
    da = days_of(s, ida);
    T_EQ_INT(da.n, 1);
    T_EQ_INT(da.r[0].d.day, DAY);
    s->ops->close(s);
}

/* The alert upsert rules, either op by op or inside one unit of work (where an adapter may merge
 * in memory before writing: the outcome must be the same). */
static void alerts_case(int in_unit)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char id[MTR_ID_MAX];
    tid(id, sizeof id, in_unit ? "alerts-unit" : "alerts");
    if (in_unit)
        OK(s, s->ops->begin(s));
    struct mtr_store_stats before = stats(s);
    struct mtr_alert a;
    memset(&a, 0, sizeof a);
    a.source = MTR_KIND_READING;
    snprintf(a.entity_id, sizeof a.entity_id, "%s", id);
    a.type = MTR_R_VOLTAGE_SAG;
    a.level = MTR_LEVEL_LOW;
    a.score = 0.55;
    a.start_ts = DAY + 3600;
    a.end_ts = DAY + 3600;
    a.count = 1;
    a.value = -5;
    snprintf(a.detail, sizeof a.detail, "first");
    OK(s, s->ops->alert_put(s, &a));
    a.level = MTR_LEVEL_HIGH;
    a.score = 0.85;
    a.end_ts = DAY + 5400;
    a.count = 3;
    a.value = 3;
    snprintf(a.detail, sizeof a.detail, "second");
    OK(s, s->ops->alert_put(s, &a));
    a.level = MTR_LEVEL_MEDIUM; /* smaller everything but |value| */
    a.score = 0.7;
    a.end_ts = DAY + 4500;
    a.count = 2;
    a.value = -7;
    snprintf(a.detail, sizeof a.detail, "third");
    OK(s, s->ops->alert_put(s, &a));
    /* another start: another alert; another type: another alert */
    a.start_ts = DAY;
    a.end_ts = DAY;
    a.level = MTR_LEVEL_CRITICAL;
    a.score = 0.99;
    OK(s, s->ops->alert_put(s, &a));
    a.type = MTR_R_GAP;
    a.level = MTR_LEVEL_LOW;
    a.score = 0.1;
    OK(s, s->ops->alert_put(s, &a));
    if (in_unit)
        OK(s, s->ops->commit(s));
    T_EQ_INT(stats(s).alerts - before.alerts, 3);

    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.entity_id = id;
    q.type = MTR_R_VOLTAGE_SAG;
    struct alerts_seen seen;
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->alert_rows(s, &q, collect_alert, &seen));
    T_EQ_INT(seen.n, 2);
    if (seen.n == 2) {
        T_EQ_INT(seen.a[0].start_ts, DAY); /* ordered by start */
        const struct mtr_alert *g = &seen.a[1];
        T_EQ_INT(g->source, MTR_KIND_READING);
        T_EQ_STR(g->entity_id, id);
        T_EQ_INT(g->type, MTR_R_VOLTAGE_SAG);
        T_EQ_INT(g->level, MTR_LEVEL_HIGH);
        T_EQ_DBL(g->score, 0.85, 1e-12);
        T_EQ_INT(g->start_ts, DAY + 3600);
        T_EQ_INT(g->end_ts, DAY + 5400);
        T_EQ_INT(g->count, 3);
        T_EQ_DBL(g->value, -7, 0);
        T_EQ_STR(g->detail, "third");
    }
    q.type = -1;
    q.min_level = MTR_LEVEL_HIGH;
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->alert_rows(s, &q, collect_alert, &seen));
    T_EQ_INT(seen.n, 2);
    q.min_level = -1;
    q.has_from = 1;
    q.from = DAY + 1;
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->alert_rows(s, &q, collect_alert, &seen));
    T_EQ_INT(seen.n, 1);
    q.has_from = 0;
    q.kind = MTR_KIND_GRID;
    memset(&seen, 0, sizeof seen);
    OK(s, s->ops->alert_rows(s, &q, collect_alert, &seen));
    T_EQ_INT(seen.n, 0);
    s->ops->close(s);
}

static void test_alerts(void)
{
    alerts_case(0);
}

static void test_alerts_in_unit_of_work(void)
{
    alerts_case(1);
}

struct quarantine_seen {
    const char *source;
    int n;
    uint64_t line[8];
    int rule[8], kind[8];
    char field[8][48], message[8][256], raw[8][256];
};
static int collect_quarantine(void *ctx, const struct mtr_quarantine *r)
{
    struct quarantine_seen *c = ctx;
    if (strcmp(r->source, c->source) != 0 || c->n >= 8)
        return 0;
    c->line[c->n] = r->line;
    c->rule[c->n] = r->rule;
    c->kind[c->n] = r->kind;
    snprintf(c->field[c->n], 48, "%s", r->field);
    snprintf(c->message[c->n], 256, "%s", r->message);
    snprintf(c->raw[c->n], 256, "%s", r->raw);
    c->n++;
    return 0;
}

static void test_quarantine(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char src[MTR_ID_MAX];
    tid(src, sizeof src, "file.csv");
    struct mtr_store_stats before = stats(s);
    struct mtr_quarantine q1 = {MTR_KIND_READING,
                                src,
                                7,
                                MTR_R_NUMBER,
                                "kwh",
                                "not a number: \"abc\"",
                                "SM1,2023-11-14T00:00:00Z,abc",
                                DAY};
    struct mtr_quarantine q2 = {MTR_KIND_READING, src,     9,      MTR_R_PARSE_COLUMNS, "",
                                "3 columns",      "a,b,c", DAY + 1};
    struct mtr_quarantine q3 = {MTR_KIND_WEATHER, src, 2, MTR_R_TIMESTAMP, "ts", "bad", "x",
                                DAY + 2};
    OK(s, s->ops->quarantine_put(s, &q1));
    OK(s, s->ops->quarantine_put(s, &q2));
    OK(s, s->ops->quarantine_put(s, &q3));
    T_EQ_INT(stats(s).quarantined - before.quarantined, 3);
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = MTR_KIND_READING;
    q.type = q.min_level = -1;
    struct quarantine_seen seen;
    memset(&seen, 0, sizeof seen);
    seen.source = src;
    OK(s, s->ops->quarantine_rows(s, &q, collect_quarantine, &seen));
    T_EQ_INT(seen.n, 2);
    if (seen.n == 2) {
        T_EQ_INT(seen.line[0], 7);
        T_EQ_INT(seen.rule[0], MTR_R_NUMBER);
        T_EQ_INT(seen.kind[0], MTR_KIND_READING);
        T_EQ_STR(seen.field[0], "kwh");
        T_EQ_STR(seen.message[0], "not a number: \"abc\"");
        T_EQ_STR(seen.raw[0], "SM1,2023-11-14T00:00:00Z,abc");
        T_EQ_INT(seen.line[1], 9);
        T_EQ_INT(seen.rule[1], MTR_R_PARSE_COLUMNS);
        T_EQ_STR(seen.field[1], "");
    }
    q.kind = -1;
    q.has_from = 1;
    q.from = DAY + 1;
    q.has_to = 1;
    q.to = DAY + 2;
    memset(&seen, 0, sizeof seen);
    seen.source = src;
    OK(s, s->ops->quarantine_rows(s, &q, collect_quarantine, &seen));
    T_EQ_INT(seen.n, 1);
    T_EQ_INT(seen.line[0], 9);
    s->ops->close(s);
}

static void test_grid_weather(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    struct mtr_store_stats before = stats(s);
    struct mtr_grid_status g;
    mtr_grid_status_init(&g);
    tid(g.operator_id, sizeof g.operator_id, "grid");
    g.ts = DAY;
    g.frequency_hz = 50.0;
    g.load_mw = 800;
    OK(s, s->ops->grid_put(s, &g, 0, 1.0));
    g.frequency_hz = 49.9;
    OK(s, s->ops->grid_put(s, &g, mtr_rule_bit(MTR_R_GRID_LOAD_RANGE), 0.2)); /* same key */
    g.ts = DAY + 300;
    OK(s, s->ops->grid_put(s, &g, 0, 1.0));
    struct mtr_weather_obs w;
    mtr_weather_obs_init(&w);
    tid(w.station_id, sizeof w.station_id, "weather");
    w.ts = DAY;
    w.temperature_c = 12.5;
    OK(s, s->ops->weather_put(s, &w, 0, 1.0));
    OK(s, s->ops->weather_put(s, &w, 0, 1.0));
    struct mtr_store_stats after = stats(s);
    T_EQ_INT(after.grid_status - before.grid_status, 2);
    T_EQ_INT(after.weather - before.weather, 1);
    s->ops->close(s);
}

/* ---- change tracking for exports ---- */

/* Collects the rows of this run's entities (ids starting with g_tag) from the *_changed ops. */
struct changed {
    int n, ndays, has_day;
    int64_t ts[8], seq[8];
    uint64_t flags[8];
    double kwh[8];
};
static int ours(const char *id)
{
    return strncmp(id, g_tag, strlen(g_tag)) == 0;
}
static int collect_changed_reading(void *ctx, const char *meter_id,
                                   const struct mtr_stored_reading *r, int64_t seq)
{
    struct changed *c = ctx;
    if (ours(meter_id) && c->n < 8) {
        c->ts[c->n] = r->ts;
        c->seq[c->n] = seq;
        c->flags[c->n] = r->flags;
        c->kwh[c->n] = r->kwh;
        c->n++;
    }
    return 0;
}
static int collect_changed_grid(void *ctx, const struct mtr_grid_row *r, int64_t seq)
{
    struct changed *c = ctx;
    if (ours(r->g.operator_id) && c->n < 8) {
        c->ts[c->n] = r->g.ts;
        c->seq[c->n++] = seq;
    }
    return 0;
}
static int collect_changed_weather(void *ctx, const struct mtr_weather_row *r, int64_t seq)
{
    struct changed *c = ctx;
    if (ours(r->w.station_id) && c->n < 8) {
        c->ts[c->n] = r->w.ts;
        c->seq[c->n++] = seq;
    }
    return 0;
}
static int collect_changed_day(void *ctx, const struct mtr_day_row *r, int64_t seq)
{
    struct changed *c = ctx;
    if (ours(r->meter_id) && c->n < 8) {
        c->ts[c->n] = r->d.day;
        c->kwh[c->n] = r->d.kwh;
        c->seq[c->n++] = seq;
    }
    return 0;
}
static int collect_changed_daynum(void *ctx, int64_t day)
{
    struct changed *c = ctx;
    c->ndays++;
    if (day == DAY)
        c->has_day = 1;
    return 0;
}

static struct changed readings_between(struct mtr_store *s, int64_t after, int64_t upto)
{
    struct changed c;
    memset(&c, 0, sizeof c);
    OK(s, s->ops->readings_changed(s, DAY, after, upto, collect_changed_reading, &c));
    return c;
}

static void test_change_tracking(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int64_t c0 = -1, c1 = -1, c2 = -1, c3 = -1;
    OK(s, s->ops->change_seq(s, &c0));
    T_CHECK(c0 >= 0);

    /* one unit writing every tracked dataset */
    OK(s, s->ops->begin(s));
    int64_t key = new_meter(s, "chg");
    struct mtr_stored_reading r1 = reading(key, DAY + 900, 1.5, MTR_Q_VALID);
    struct mtr_stored_reading r2 = reading(key, DAY + 1800, 2.5, MTR_Q_VALID);
    OK(s, s->ops->reading_put(s, &r2));
    OK(s, s->ops->reading_put(s, &r1));
    struct mtr_grid_status g;
    mtr_grid_status_init(&g);
    tid(g.operator_id, sizeof g.operator_id, "chg-op");
    g.ts = DAY + 600;
    g.frequency_hz = 50.0;
    OK(s, s->ops->grid_put(s, &g, 0, 1.0));
    struct mtr_weather_obs w;
    mtr_weather_obs_init(&w);
    tid(w.station_id, sizeof w.station_id, "chg-st");
    w.ts = DAY + 3600;
    w.temperature_c = 4.0;
    OK(s, s->ops->weather_put(s, &w, 0, 1.0));
    struct mtr_rollup_day d = day_zero(key, DAY);
    d.kwh = 4.0;
    OK(s, s->ops->rollup_day_merge(s, &d));
    /* not visible as committed before commit */
    OK(s, s->ops->change_seq(s, &c1));
    T_EQ_INT(c1, c0);
    OK(s, s->ops->commit(s));
    OK(s, s->ops->change_seq(s, &c1));
    T_CHECK(c1 > c0);

    for (int ds = 0; ds < MTR_DS_COUNT; ds++) {
        struct changed days;
        memset(&days, 0, sizeof days);
        OK(s, s->ops->changed_days(s, (enum mtr_dataset)ds, c0, collect_changed_daynum, &days));
        T_EQ_INT(days.has_day, 1);
    }
    struct changed c = readings_between(s, c0, c1);
    T_EQ_INT(c.n, 2);
    T_EQ_INT(c.ts[0], DAY + 900); /* time order within the meter */
    T_EQ_INT(c.ts[1], DAY + 1800);
    T_CHECK(c.seq[0] > c0 && c.seq[0] <= c1);
    T_EQ_DBL(c.kwh[1], 2.5, 0);
    T_EQ_INT(readings_between(s, c1, c1 + 1000).n, 0);
    T_EQ_INT(readings_between(s, c0, c0).n, 0);
    memset(&c, 0, sizeof c);
    OK(s, s->ops->grid_changed(s, DAY, c0, c1, collect_changed_grid, &c));
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.ts[0], DAY + 600);
    memset(&c, 0, sizeof c);
    OK(s, s->ops->grid_changed(s, DAY + 86400, c0, c1, collect_changed_grid, &c));
    T_EQ_INT(c.n, 0); /* another day */
    memset(&c, 0, sizeof c);
    OK(s, s->ops->weather_changed(s, DAY, c0, c1, collect_changed_weather, &c));
    T_EQ_INT(c.n, 1);
    memset(&c, 0, sizeof c);
    OK(s, s->ops->days_changed(s, DAY, c0, c1, collect_changed_day, &c));
    T_EQ_INT(c.n, 1);
    T_EQ_DBL(c.kwh[0], 4.0, 1e-12);

    /* a retroactive flag moves the flagged reading into the next range, with its new flags, and
     * out of the old one (an adapter may track changes per block of readings, e.g. a meter-day:
     * then unchanged neighbours move along, which an export re-sends harmlessly) */
    OK(s, s->ops->begin(s));
    OK(s, s->ops->readings_flag(s, key, DAY + 1800, DAY + 1800, mtr_rule_bit(MTR_R_SPIKE), -1));
    OK(s, s->ops->commit(s));
    OK(s, s->ops->change_seq(s, &c2));
    T_CHECK(c2 > c1);
    c = readings_between(s, c1, c2);
    int found = -1;
    for (int i = 0; i < c.n; i++)
        if (c.ts[i] == DAY + 1800)
            found = i;
    T_CHECK(found >= 0);
    if (found >= 0) {
        T_EQ_INT(c.flags[found], mtr_rule_bit(MTR_R_SPIKE));
        T_CHECK(c.seq[found] > c1 && c.seq[found] <= c2);
    }
    c = readings_between(s, c0, c1);
    for (int i = 0; i < c.n; i++)
        T_CHECK(c.ts[i] != DAY + 1800);         /* the rewritten reading left the old range */
    T_EQ_INT(readings_between(s, c0, c2).n, 2); /* each reading once in the union */

    /* a rolled-back unit leaves nothing */
    OK(s, s->ops->begin(s));
    struct mtr_stored_reading r3 = reading(key, DAY + 2700, 3.5, MTR_Q_VALID);
    OK(s, s->ops->reading_put(s, &r3));
    OK(s, s->ops->rollback(s));
    OK(s, s->ops->change_seq(s, &c3));
    T_EQ_INT(c3, c2);
    T_EQ_INT(readings_between(s, c2, c2 + 1000).n, 0);

    /* watermarks per (dataset, destination) */
    char dest[64];
    tid(dest, sizeof dest, "dest");
    int64_t wm = -1;
    T_EQ_INT(s->ops->export_watermark_get(s, "readings", dest, &wm), MTR_ENOTFOUND);
    OK(s, s->ops->export_watermark_put(s, "readings", dest, c1));
    OK(s, s->ops->export_watermark_put(s, "grid", dest, c0));
    OK(s, s->ops->export_watermark_get(s, "readings", dest, &wm));
    T_EQ_INT(wm, c1);
    OK(s, s->ops->export_watermark_put(s, "readings", dest, c2));
    OK(s, s->ops->export_watermark_get(s, "readings", dest, &wm));
    T_EQ_INT(wm, c2);
    OK(s, s->ops->export_watermark_get(s, "grid", dest, &wm));
    T_EQ_INT(wm, c0);
    s->ops->close(s);

    /* durable across reopen */
    if (!(s = open_store()))
        return;
    OK(s, s->ops->change_seq(s, &c3));
    T_EQ_INT(c3, c2);
    OK(s, s->ops->export_watermark_get(s, "readings", dest, &wm));
    T_EQ_INT(wm, c2);
    s->ops->close(s);
}

/* Collects up to 8 rows of any series query, copied, for inspection after the call. */
struct series {
    int n;
    struct mtr_grid_row grid[8];
    struct mtr_weather_row weather[8];
    struct mtr_hour_row hours[8];
    struct mtr_rollup_grid_day gdays[8];
    struct mtr_operator ops[8];
    struct mtr_station stations[8];
};
static int collect_grid(void *ctx, const struct mtr_grid_row *r)
{
    struct series *c = ctx;
    if (c->n < 8)
        c->grid[c->n] = *r;
    c->n++;
    return 0;
}
static int collect_weather(void *ctx, const struct mtr_weather_row *r)
{
    struct series *c = ctx;
    if (c->n < 8)
        c->weather[c->n] = *r;
    c->n++;
    return 0;
}
static int collect_hour(void *ctx, const struct mtr_hour_row *r)
{
    struct series *c = ctx;
    if (c->n < 8)
        c->hours[c->n] = *r;
    c->n++;
    return 0;
}
/* Rebuilt hours count like ingest's buckets: n = measured values, n_estimated = estimates (an
 * hour with one measured and one estimated interval is n 1, n_estimated 1). */
static void test_recompute_hours(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    struct mtr_params p;
    mtr_params_default(&p);
    char id[MTR_ID_MAX];
    int64_t k = new_meter(s, "recompute-hours");
    tid(id, sizeof id, "recompute-hours");
    struct mtr_stored_reading r[NREC];
    recompute_readings(k, r);
    OK(s, s->ops->begin(s));
    for (int i = 0; i < NREC; i++)
        OK(s, s->ops->reading_put(s, &r[i]));
    OK(s, s->ops->rollup_recompute(s, k, DAY, &p));
    OK(s, s->ops->commit(s));
    struct series c = {0};
    struct mtr_query q = {.entity_id = id, .kind = -1, .type = -1, .min_level = -1};
    q.from = DAY + 17 * 3600;
    q.to = DAY + 18 * 3600;
    q.has_from = q.has_to = 1;
    OK(s, s->ops->hour_rows(s, &q, collect_hour, &c));
    T_EQ_INT(c.n, 1);
    if (c.n == 1) {
        T_EQ_DBL(c.hours[0].h.kwh, 2.5, 1e-12);
        T_EQ_INT(c.hours[0].h.n, 1);
        T_EQ_INT(c.hours[0].h.n_estimated, 1);
    }
    /* the questionable hour has no analytics-grade value: no row, or an empty one */
    c.n = 0;
    q.from = DAY + 12 * 3600;
    q.to = DAY + 13 * 3600;
    OK(s, s->ops->hour_rows(s, &q, collect_hour, &c));
    T_CHECK(c.n == 0 || (c.hours[0].h.n == 0 && c.hours[0].h.n_estimated == 0));
    s->ops->close(s);
}

static int collect_gday(void *ctx, const struct mtr_rollup_grid_day *g)
{
    struct series *c = ctx;
    if (c->n < 8)
        c->gdays[c->n] = *g;
    c->n++;
    return 0;
}
static int collect_op(void *ctx, const struct mtr_operator *o)
{
    struct series *c = ctx;
    if (c->n < 8)
        c->ops[c->n] = *o;
    c->n++;
    return 0;
}
static int collect_station(void *ctx, const struct mtr_station *w)
{
    struct series *c = ctx;
    if (c->n < 8)
        c->stations[c->n] = *w;
    c->n++;
    return 0;
}

static void test_lists(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    struct mtr_operator o;
    memset(&o, 0, sizeof o);
    tid(o.id, sizeof o.id, "list-op");
    snprintf(o.name, sizeof o.name, "North Grid");
    snprintf(o.type, sizeof o.type, "TSO");
    o.capacity_mw = 1500;
    o.voltage_kv = 380;
    o.latitude = 53.1;
    o.longitude = NAN;
    o.status = MTR_SITE_MAINTENANCE;
    OK(s, s->ops->operator_put(s, &o));
    struct mtr_station w;
    memset(&w, 0, sizeof w);
    tid(w.id, sizeof w.id, "list-st");
    snprintf(w.name, sizeof w.name, "Heathrow");
    w.latitude = 51.47;
    w.longitude = -0.45;
    w.elevation_m = 25;
    w.status = MTR_SITE_INACTIVE;
    OK(s, s->ops->station_put(s, &w));

    struct series c = {0};
    struct mtr_query q = {.entity_id = o.id, .kind = -1, .type = -1, .min_level = -1};
    OK(s, s->ops->operator_list(s, &q, collect_op, &c));
    T_EQ_INT(c.n, 1);
    T_EQ_STR(c.ops[0].name, "North Grid");
    T_EQ_STR(c.ops[0].type, "TSO");
    T_EQ_DBL(c.ops[0].voltage_kv, 380, 0);
    T_CHECK(isnan(c.ops[0].longitude));
    T_EQ_INT(c.ops[0].status, MTR_SITE_MAINTENANCE);
    memset(&c, 0, sizeof c);
    q.entity_id = w.id;
    OK(s, s->ops->station_list(s, &q, collect_station, &c));
    T_EQ_INT(c.n, 1);
    T_EQ_STR(c.stations[0].name, "Heathrow");
    T_EQ_DBL(c.stations[0].longitude, -0.45, 1e-12);
    T_EQ_INT(c.stations[0].status, MTR_SITE_INACTIVE);

    /* unfiltered lists are ordered by id and page with limit/offset */
    char id2[MTR_ID_MAX];
    snprintf(o.id, sizeof o.id, "%s", tid(id2, sizeof id2, "list-op2"));
    OK(s, s->ops->operator_put(s, &o));
    memset(&c, 0, sizeof c);
    OK(s, s->ops->operator_list(s, NULL, collect_op, &c));
    T_CHECK(c.n >= 2);
    for (int i = 1; i < c.n && i < 8; i++)
        T_CHECK(strcmp(c.ops[i - 1].id, c.ops[i].id) < 0);
    int all = c.n;
    memset(&c, 0, sizeof c);
    struct mtr_query page = {.kind = -1, .type = -1, .min_level = -1, .limit = 1, .offset = 1};
    OK(s, s->ops->operator_list(s, &page, collect_op, &c));
    T_EQ_INT(c.n, all > 1 ? 1 : 0);
    s->ops->close(s);
}

static void test_series(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    /* grid status: history with values, flags and scores, filtered by operator and time */
    struct mtr_grid_status g;
    mtr_grid_status_init(&g);
    tid(g.operator_id, sizeof g.operator_id, "series-op");
    for (int i = 0; i < 3; i++) {
        g.ts = DAY + 300 * i;
        g.frequency_hz = 50.0 - 0.1 * i;
        g.load_mw = 700 + i;
        g.voltage_kv = i == 1 ? NAN : 380;
        OK(s, s->ops->grid_put(s, &g, i == 2 ? mtr_rule_bit(MTR_R_GRID_LOAD_RANGE) : 0,
                               i == 2 ? 0.5 : 1.0));
    }
    struct series c = {0};
    struct mtr_query q = {.entity_id = g.operator_id, .kind = -1, .type = -1, .min_level = -1};
    OK(s, s->ops->grid_rows(s, &q, collect_grid, &c));
    T_EQ_INT(c.n, 3);
    T_EQ_STR(c.grid[0].g.operator_id, g.operator_id);
    T_EQ_INT(c.grid[1].g.ts, DAY + 300);
    T_EQ_DBL(c.grid[1].g.frequency_hz, 49.9, 1e-12);
    T_CHECK(isnan(c.grid[1].g.voltage_kv));
    T_CHECK(isnan(c.grid[1].g.stability));
    T_EQ_INT(c.grid[2].flags, mtr_rule_bit(MTR_R_GRID_LOAD_RANGE));
    T_EQ_DBL(c.grid[2].score, 0.5, 1e-12);
    memset(&c, 0, sizeof c);
    q.has_from = q.has_to = 1;
    q.from = DAY + 300;
    q.to = DAY + 600; /* [from, to) */
    OK(s, s->ops->grid_rows(s, &q, collect_grid, &c));
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.grid[0].g.ts, DAY + 300);

    /* weather observations */
    struct mtr_weather_obs w;
    mtr_weather_obs_init(&w);
    tid(w.station_id, sizeof w.station_id, "series-st");
    w.ts = DAY + 3600;
    w.temperature_c = -3.25;
    w.humidity_pct = 81;
    OK(s, s->ops->weather_put(s, &w, 0, 0.9));
    w.ts = DAY;
    w.temperature_c = -4.0;
    OK(s, s->ops->weather_put(s, &w, 0, 1.0));
    memset(&c, 0, sizeof c);
    q.entity_id = w.station_id;
    q.has_from = q.has_to = 0;
    OK(s, s->ops->weather_rows(s, &q, collect_weather, &c));
    T_EQ_INT(c.n, 2);
    T_EQ_INT(c.weather[0].w.ts, DAY); /* time order, whatever the insertion order */
    T_EQ_DBL(c.weather[1].w.temperature_c, -3.25, 1e-12);
    T_EQ_DBL(c.weather[1].w.humidity_pct, 81, 1e-12);
    T_CHECK(isnan(c.weather[1].w.pressure_hpa));
    T_EQ_DBL(c.weather[1].score, 0.9, 1e-12);

    /* hourly rollups of one meter, by id and time range */
    int64_t key = new_meter(s, "series-meter");
    char mid[MTR_ID_MAX];
    tid(mid, sizeof mid, "series-meter");
    for (int i = 0; i < 3; i++) {
        struct mtr_rollup_hour h = {.meter_key = key,
                                    .hour = DAY + 3600 * (2 - i),
                                    .kwh = 1.0 + i,
                                    .min_kwh = 0.25,
                                    .max_kwh = 0.5 + i,
                                    .n = 4,
                                    .n_estimated = i};
        OK(s, s->ops->rollup_hour_merge(s, &h));
    }
    memset(&c, 0, sizeof c);
    q.entity_id = mid;
    OK(s, s->ops->hour_rows(s, &q, collect_hour, &c));
    T_EQ_INT(c.n, 3);
    T_EQ_STR(c.hours[0].meter_id, mid);
    T_EQ_INT(c.hours[0].h.meter_key, key);
    T_EQ_INT(c.hours[0].h.hour, DAY);
    T_EQ_DBL(c.hours[0].h.kwh, 3.0, 1e-12);
    T_EQ_INT(c.hours[0].h.n_estimated, 2);
    T_EQ_INT(c.hours[2].h.hour, DAY + 7200);
    memset(&c, 0, sizeof c);
    q.has_from = 1;
    q.from = DAY + 3600;
    OK(s, s->ops->hour_rows(s, &q, collect_hour, &c));
    T_EQ_INT(c.n, 2);
    memset(&c, 0, sizeof c);
    char none[MTR_ID_MAX];
    q.entity_id = tid(none, sizeof none, "no-such-meter");
    OK(s, s->ops->hour_rows(s, &q, collect_hour, &c));
    T_EQ_INT(c.n, 0);
    /* the fleet scan sees the meter's hours too, grouped and in hour order */
    memset(&c, 0, sizeof c);
    struct mtr_query all = {.kind = -1,
                            .type = -1,
                            .min_level = -1,
                            .has_from = 1,
                            .from = DAY,
                            .has_to = 1,
                            .to = DAY + 86400};
    OK(s, s->ops->hour_rows(s, &all, collect_hour, &c));
    T_CHECK(c.n >= 3);

    /* grid day rollups */
    struct mtr_rollup_grid_day gd;
    memset(&gd, 0, sizeof gd);
    snprintf(gd.operator_id, sizeof gd.operator_id, "%s", g.operator_id);
    gd.day = DAY;
    gd.n = 288;
    gd.n_flagged = 3;
    gd.freq_sum = 288 * 50.0;
    gd.freq_min = 49.7;
    gd.freq_max = 50.3;
    gd.voltage_sum = 100;
    gd.load_sum = 2000;
    gd.load_max = 950;
    gd.stability_sum = 250;
    gd.stability_min = NAN;
    OK(s, s->ops->rollup_grid_merge(s, &gd));
    memset(&c, 0, sizeof c);
    struct mtr_query gq = {.entity_id = g.operator_id, .kind = -1, .type = -1, .min_level = -1};
    OK(s, s->ops->grid_day_rows(s, &gq, collect_gday, &c));
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.gdays[0].day, DAY);
    T_EQ_INT(c.gdays[0].n, 288);
    T_EQ_INT(c.gdays[0].n_flagged, 3);
    T_EQ_DBL(c.gdays[0].freq_min, 49.7, 1e-12);
    T_EQ_DBL(c.gdays[0].load_max, 950, 1e-12);
    T_CHECK(isnan(c.gdays[0].stability_min));
    s->ops->close(s);
}

static void test_stats(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    struct mtr_store_stats before = stats(s);
    int64_t key = new_meter(s, "stats");
    struct mtr_operator o;
    memset(&o, 0, sizeof o);
    tid(o.id, sizeof o.id, "stats-OP");
    o.capacity_mw = o.voltage_kv = o.latitude = o.longitude = NAN;
    OK(s, s->ops->operator_put(s, &o));
    struct mtr_station w;
    memset(&w, 0, sizeof w);
    tid(w.id, sizeof w.id, "stats-ST");
    w.latitude = w.longitude = w.elevation_m = NAN;
    OK(s, s->ops->station_put(s, &w));
    struct mtr_stored_reading r1 = reading(key, DAY, 1, MTR_Q_VALID);
    struct mtr_stored_reading r2 = reading(key, DAY + 900, 1, MTR_Q_EST_REFERENCE_DAY);
    struct mtr_stored_reading r3 = reading(key, DAY + 1800, 1, MTR_Q_EST_INTERPOLATION);
    OK(s, s->ops->reading_put(s, &r1));
    OK(s, s->ops->reading_put(s, &r2));
    OK(s, s->ops->reading_put(s, &r3));
    struct mtr_store_stats after = stats(s);
    T_EQ_INT(after.meters - before.meters, 1);
    T_EQ_INT(after.operators - before.operators, 1);
    T_EQ_INT(after.stations - before.stations, 1);
    T_EQ_INT(after.readings - before.readings, 3);
    T_EQ_INT(after.estimated - before.estimated, 2);
    T_CHECK(after.bytes > 0);
    s->ops->close(s);
}

static void test_transactions(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char id[MTR_ID_MAX];
    int64_t key = new_meter(s, "tx"), k2 = 0;
    struct mtr_stored_reading r = reading(key, DAY, 1, MTR_Q_VALID), got;
    OK(s, s->ops->begin(s));
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->reading_get(s, key, DAY, &got)); /* reads see uncommitted writes */
    int created = 0;
    OK(s, s->ops->meter_key(s, tid(id, sizeof id, "tx-rolled-back"), 1, &k2, &created));
    T_EQ_INT(created, 1);
    OK(s, s->ops->rollback(s));
    T_EQ_INT(s->ops->reading_get(s, key, DAY, &got), MTR_ENOTFOUND);
    /* the meter registered in the rolled-back unit is gone, cache or not */
    T_EQ_INT(s->ops->meter_key(s, id, 0, &k2, &created), MTR_ENOTFOUND);
    OK(s, s->ops->begin(s));
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->commit(s));
    s->ops->close(s);
    s = open_store();
    if (!s)
        return;
    OK(s, s->ops->reading_get(s, key, DAY, &got));
    s->ops->close(s);
}

/* Read snapshots (optional ops): while one is held, another handle's commit is not seen; once
 * released it is; a unit of work begun while one is held writes on the newest data. */
static void test_read_snapshot(void)
{
    struct mtr_store *s = open_store(), *w = open_store();
    if (!s || !w)
        goto out;
    if (!s->ops->read_hold) {
        T_EQ_INT(s->ops->read_release == NULL, 1); /* both or neither */
        goto out;
    }
    int64_t key = new_meter(w, "snap");
    struct mtr_stored_reading r1 = reading(key, DAY, 1.5, MTR_Q_VALID), got;
    struct mtr_stored_reading r2 = reading(key, DAY + 900, 2.5, MTR_Q_VALID);
    OK(w, w->ops->begin(w));
    OK(w, w->ops->reading_put(w, &r1));
    OK(w, w->ops->commit(w));
    OK(s, s->ops->read_hold(s));
    OK(s, s->ops->read_hold(s)); /* held already: a no-op */
    OK(s, s->ops->reading_get(s, key, DAY, &got));
    OK(w, w->ops->begin(w));
    OK(w, w->ops->reading_put(w, &r2));
    OK(w, w->ops->commit(w));
    /* the snapshot is as of the first read after read_hold */
    T_EQ_INT(s->ops->reading_get(s, key, DAY + 900, &got), MTR_ENOTFOUND);
    s->ops->read_release(s);
    s->ops->read_release(s); /* none held: a no-op */
    OK(s, s->ops->reading_get(s, key, DAY + 900, &got));
    T_EQ_DBL(got.kwh, 2.5, 0);
    /* begin releases a held snapshot: the unit sees (and may change) what w committed since */
    OK(s, s->ops->read_hold(s));
    OK(s, s->ops->reading_get(s, key, DAY, &got));
    struct mtr_stored_reading r3 = reading(key, DAY + 1800, 3.5, MTR_Q_VALID);
    OK(w, w->ops->begin(w));
    OK(w, w->ops->reading_put(w, &r3));
    OK(w, w->ops->commit(w));
    OK(s, s->ops->begin(s));
    OK(s, s->ops->reading_get(s, key, DAY + 1800, &got));
    struct mtr_stored_reading r4 = reading(key, DAY + 2700, 4.5, MTR_Q_VALID);
    OK(s, s->ops->reading_put(s, &r4));
    OK(s, s->ops->commit(s));
    OK(w, w->ops->reading_get(w, key, DAY + 2700, &got));
    T_EQ_DBL(got.kwh, 4.5, 0);
out:
    if (s)
        s->ops->close(s);
    if (w)
        w->ops->close(w);
}

static void test_retention(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int64_t key = new_meter(s, "retention");
    struct mtr_stored_reading r[3] = {reading(key, OLDDAY, 1, MTR_Q_VALID),
                                      reading(key, OLDDAY + 900, 1, MTR_Q_VALID),
                                      reading(key, OLDDAY + 2 * 86400, 1, MTR_Q_VALID)};
    OK(s, s->ops->begin(s));
    for (int i = 0; i < 3; i++)
        OK(s, s->ops->reading_put(s, &r[i]));
    OK(s, s->ops->reading_revise(s, &r[0], OLDDAY + 3600));
    struct mtr_grid_status g;
    mtr_grid_status_init(&g);
    tid(g.operator_id, sizeof g.operator_id, "retention-OP");
    g.ts = OLDDAY;
    OK(s, s->ops->grid_put(s, &g, 0, 1));
    struct mtr_weather_obs w;
    mtr_weather_obs_init(&w);
    tid(w.station_id, sizeof w.station_id, "retention-ST");
    w.ts = OLDDAY;
    OK(s, s->ops->weather_put(s, &w, 0, 1));
    struct mtr_rollup_day d = day_zero(key, OLDDAY);
    d.n_valid = 2;
    OK(s, s->ops->rollup_day_merge(s, &d));
    d.day = OLDDAY + 2 * 86400;
    d.n_valid = 1;
    OK(s, s->ops->rollup_day_merge(s, &d));
    struct mtr_rollup_hour h = {key, OLDDAY, 2, 1, 1, 2, 0};
    OK(s, s->ops->rollup_hour_merge(s, &h));
    struct mtr_alert a;
    memset(&a, 0, sizeof a);
    tid(a.entity_id, sizeof a.entity_id, "retention");
    a.type = MTR_R_GAP;
    a.start_ts = OLDDAY;
    a.end_ts = OLDDAY + 900;
    a.count = 1;
    OK(s, s->ops->alert_put(s, &a));
    /* quarantine entries go by when they were rejected (`at`), not by the record's time */
    char src[MTR_ID_MAX];
    tid(src, sizeof src, "retention.csv");
    struct mtr_quarantine q_old = {MTR_KIND_READING,
                                   src,
                                   1,
                                   MTR_R_NUMBER,
                                   "kwh",
                                   "not a number: \"x\"",
                                   "SM1,2023-11-14T00:00:00Z,x",
                                   OLDDAY};
    struct mtr_quarantine q_new = {MTR_KIND_READING,
                                   src,
                                   2,
                                   MTR_R_TIME_ANCIENT,
                                   "timestamp",
                                   "before 2000",
                                   "SM1,1999-01-01T00:00:00Z,1",
                                   OLDDAY + 86400};
    OK(s, s->ops->quarantine_put(s, &q_old));
    OK(s, s->ops->quarantine_put(s, &q_new));
    OK(s, s->ops->commit(s));
    struct mtr_store_stats before = stats(s);
    int64_t deleted = -1;
    OK(s, s->ops->retention(s, OLDDAY + 86400, &deleted));
    /* 2 readings + 1 revision + grid + weather + 1 day + 1 hour + 1 alert + 1 quarantine entry */
    T_EQ_INT(deleted, 9);
    struct mtr_store_stats after = stats(s);
    T_EQ_INT(before.readings - after.readings, 2);
    T_EQ_INT(before.revisions - after.revisions, 1);
    T_EQ_INT(before.alerts - after.alerts, 1);
    T_EQ_INT(before.quarantined - after.quarantined, 1);
    struct quarantine_seen seen;
    memset(&seen, 0, sizeof seen);
    seen.source = src;
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    OK(s, s->ops->quarantine_rows(s, &q, collect_quarantine, &seen));
    T_EQ_INT(seen.n, 1);
    T_EQ_INT(seen.line[0], 2);
    struct mtr_stored_reading got;
    OK(s, s->ops->reading_get(s, key, OLDDAY + 2 * 86400, &got));
    T_EQ_INT(s->ops->reading_get(s, key, OLDDAY, &got), MTR_ENOTFOUND);
    OK(s, s->ops->retention(s, OLDDAY + 86400, &deleted));
    T_EQ_INT(deleted, 0);
    s->ops->close(s);
}

static void test_backup(void)
{
    struct mtr_store *s = open_store(), *b = NULL;
    if (!s)
        return;
    char path[256], side[300];
    snprintf(path, sizeof path, "/tmp/mtr-contract-backup-%ld.db", (long)getpid());
    int64_t key = new_meter(s, "backup");
    struct mtr_stored_reading r = reading(key, DAY, 1.25, MTR_Q_VALID), got;
    OK(s, s->ops->reading_put(s, &r));
    int rc = s->ops->backup(s, path);
    if (rc == MTR_EUNSUPPORTED) {
        s->ops->close(s);
        return;
    }
    OK(s, rc);
    struct mtr_store_stats a = stats(s);
    struct mtr_errbuf eb = {{0}};
    rc = g_open(path, &b, &eb);
    if (rc == MTR_EINVAL) {
        /* a backup this adapter cannot open as a store (PostgreSQL: a pg_dump archive); it must
         * exist and hold data, and the adapter's own test restores it */
        FILE *f = fopen(path, "rb");
        long size = -1;
        if (f && fseek(f, 0, SEEK_END) == 0)
            size = ftell(f);
        if (f)
            fclose(f);
        T_CHECK(size > 0);
    } else if (rc != 0) {
        t_fail(__FILE__, __LINE__, "open backup %s -> %d (%s)", path, rc, eb.msg);
    } else {
        struct mtr_store_stats c = stats(b);
        T_EQ_INT(c.meters, a.meters);
        T_EQ_INT(c.operators, a.operators);
        T_EQ_INT(c.stations, a.stations);
        T_EQ_INT(c.readings, a.readings);
        T_EQ_INT(c.revisions, a.revisions);
        T_EQ_INT(c.grid_status, a.grid_status);
        T_EQ_INT(c.weather, a.weather);
        T_EQ_INT(c.alerts, a.alerts);
        T_EQ_INT(c.quarantined, a.quarantined);
        OK(b, b->ops->reading_get(b, key, DAY, &got));
        T_EQ_DBL(got.kwh, 1.25, 0);
        b->ops->close(b);
    }
    s->ops->close(s);
    remove(path);
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
}

static int count_problem(void *ctx, const char *problem)
{
    fprintf(stderr, "check: %s\n", problem);
    ++*(int *)ctx;
    return 0;
}

static void test_check_vacuum(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    int problems = 0;
    OK(s, s->ops->check(s, count_problem, &problems));
    T_EQ_INT(problems, 0);
    struct mtr_store_stats before = stats(s);
    OK(s, s->ops->vacuum(s));
    struct mtr_store_stats after = stats(s);
    T_EQ_INT(after.readings, before.readings);
    T_EQ_INT(after.meters, before.meters);
    s->ops->close(s);
}

static void test_durability(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char id[MTR_ID_MAX];
    tid(id, sizeof id, "durable");
    struct mtr_meter m;
    mtr_meter_init(&m);
    snprintf(m.id, sizeof m.id, "%s", id);
    m.base_kwh = 9.5;
    OK(s, s->ops->meter_put(s, &m));
    int64_t key = 0;
    OK(s, s->ops->meter_key(s, id, 0, &key, NULL));
    struct mtr_stored_reading r = reading(key, DAY, 4.5, MTR_Q_VALID), got;
    OK(s, s->ops->begin(s));
    OK(s, s->ops->reading_put(s, &r));
    OK(s, s->ops->commit(s));
    s->ops->close(s);
    for (int i = 0; i < 2; i++) { /* twice: reopening an up-to-date store changes nothing */
        s = open_store();
        if (!s)
            return;
        struct mtr_meter g;
        OK(s, s->ops->meter_get(s, id, &g, NULL));
        T_EQ_DBL(g.base_kwh, 9.5, 0);
        OK(s, s->ops->reading_get(s, key, DAY, &got));
        T_EQ_DBL(got.kwh, 4.5, 0);
        s->ops->close(s);
    }
}

static int count_meter(void *ctx, const struct mtr_meter *m)
{
    char(*ids)[MTR_ID_MAX] = ctx;
    for (int i = 0; i < 8; i++)
        if (!ids[i][0]) {
            snprintf(ids[i], MTR_ID_MAX, "%s", m->id);
            return 0;
        }
    return 1;
}

static void test_meter_find(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    char manu[MTR_ID_MAX];
    tid(manu, sizeof manu, "find-Manu");
    const char *names[] = {"find-c", "find-a", "find-b", "find-d"};
    const double lat[] = {52.5, 48.1, 53.5, NAN};
    const enum mtr_meter_status st[] = {MTR_METER_ACTIVE, MTR_METER_ACTIVE, MTR_METER_FAULTY,
                                        MTR_METER_ACTIVE};
    for (int i = 0; i < 4; i++) {
        struct mtr_meter m;
        mtr_meter_init(&m);
        tid(m.id, sizeof m.id, names[i]);
        snprintf(m.manufacturer, sizeof m.manufacturer, "%s", manu);
        m.latitude = lat[i];
        m.longitude = isnan(lat[i]) ? NAN : 13.4;
        m.status = st[i];
        m.installed_at = DAY - 86400 * (int64_t)i;
        OK(s, s->ops->meter_put(s, &m));
    }
    struct mtr_meter_filter f = {.status = -1, .type = -1};
    for (size_t i = 0; i < sizeof manu && manu[i]; i++) /* case-insensitive match */
        manu[i] = (char)(manu[i] >= 'a' && manu[i] <= 'z' ? manu[i] - 32 : manu[i]);
    f.manufacturer = manu;
    char ids[8][MTR_ID_MAX];
    char want[MTR_ID_MAX];
    int64_t total = -1;
    memset(ids, 0, sizeof ids);
    OK(s, s->ops->meter_find(s, &f, &total, count_meter, ids));
    T_EQ_INT(total, 4);
    T_EQ_STR(ids[0], tid(want, sizeof want, "find-a")); /* default order: id ascending */
    T_EQ_STR(ids[3], tid(want, sizeof want, "find-d"));
    /* status filter, paging: total counts every match, the rows only the page */
    f.status = MTR_METER_ACTIVE;
    f.limit = 1;
    f.offset = 1;
    memset(ids, 0, sizeof ids);
    OK(s, s->ops->meter_find(s, &f, &total, count_meter, ids));
    T_EQ_INT(total, 3);
    T_EQ_STR(ids[0], tid(want, sizeof want, "find-c"));
    T_EQ_INT(ids[1][0], 0);
    /* bounding box: meters without a position never match */
    f.status = -1;
    f.limit = f.offset = 0;
    f.has_bbox = 1;
    f.min_lat = 50;
    f.max_lat = 54;
    f.min_lon = 13;
    f.max_lon = 14;
    memset(ids, 0, sizeof ids);
    OK(s, s->ops->meter_find(s, &f, &total, count_meter, ids));
    T_EQ_INT(total, 2);
    T_EQ_STR(ids[0], tid(want, sizeof want, "find-b"));
    T_EQ_STR(ids[1], tid(want, sizeof want, "find-c"));
    /* sort by installation date descending: c (DAY), a, b, d (oldest) */
    f.has_bbox = 0;
    f.sort = MTR_METER_SORT_INSTALLED;
    f.desc = 1;
    memset(ids, 0, sizeof ids);
    OK(s, s->ops->meter_find(s, &f, NULL, count_meter, ids));
    T_EQ_STR(ids[0], tid(want, sizeof want, "find-c"));
    T_EQ_STR(ids[3], tid(want, sizeof want, "find-d"));
    s->ops->close(s);
}

static int count_key(void *ctx, const struct mtr_apikey *k)
{
    if (strncmp(k->id, "k", 1) == 0 && strstr(k->name, g_tag))
        ++*(int *)ctx;
    return 0;
}

static void test_apikeys(void)
{
    struct mtr_store *s = open_store();
    if (!s)
        return;
    struct mtr_apikey k, got;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "k%08lx", (unsigned long)time(NULL) ^ (unsigned long)getpid());
    snprintf(k.hash, sizeof k.hash, "%s-hash", k.id);
    snprintf(k.name, sizeof k.name, "%s ci key", g_tag);
    k.role = MTR_ROLE_OPERATOR;
    k.created_at = DAY;
    OK(s, s->ops->apikey_put(s, &k));
    T_EQ_INT(s->ops->apikey_put(s, &k), MTR_EEXIST);
    OK(s, s->ops->apikey_find(s, k.hash, &got));
    T_EQ_STR(got.id, k.id);
    T_EQ_STR(got.name, k.name);
    T_EQ_INT(got.role, MTR_ROLE_OPERATOR);
    T_EQ_INT(got.created_at, DAY);
    T_EQ_INT(got.revoked_at, 0);
    T_EQ_INT(s->ops->apikey_find(s, "no-such-hash", &got), MTR_ENOTFOUND);
    int n = 0;
    OK(s, s->ops->apikey_list(s, count_key, &n));
    T_EQ_INT(n, 1);
    OK(s, s->ops->apikey_revoke(s, k.id, DAY + 5));
    OK(s, s->ops->apikey_revoke(s, k.id, DAY + 9)); /* again: keeps the first time */
    OK(s, s->ops->apikey_find(s, k.hash, &got));
    T_EQ_INT(got.revoked_at, DAY + 5);
    T_EQ_INT(s->ops->apikey_revoke(s, "no-such-key", 0), MTR_ENOTFOUND);
    s->ops->close(s);
}

void mtr_store_contract_run(int (*open)(const char *loc, struct mtr_store **out,
                                        struct mtr_errbuf *eb),
                            const char *loc)
{
    g_open = open;
    g_loc = loc;
    snprintf(g_tag, sizeof g_tag, "CT%ld-%ld", (long)getpid(), (long)time(NULL));
    T_RUN(test_check_vacuum); /* first: the later tests merge rollups without readings */
    T_RUN(test_master_data);
    T_RUN(test_meter_key);
    T_RUN(test_state);
    T_RUN(test_readings);
    T_RUN(test_readings_flag);
    T_RUN(test_revisions);
    T_RUN(test_rollup_merge);
    T_RUN(test_rollup_recompute);
    T_RUN(test_alerts);
    T_RUN(test_alerts_in_unit_of_work);
    T_RUN(test_quarantine);
    T_RUN(test_grid_weather);
    T_RUN(test_lists);
    T_RUN(test_series);
    T_RUN(test_recompute_hours);
    T_RUN(test_stats);
    T_RUN(test_transactions);
    T_RUN(test_read_snapshot);
    T_RUN(test_retention);
    T_RUN(test_backup);
    T_RUN(test_durability);
    T_RUN(test_change_tracking);
    T_RUN(test_meter_find);
    T_RUN(test_apikeys);
}
