/* test_monitor.c - the fleet alert rules of `worker monitor` on a small SQLite store built through
 * the ingest use case: silent meters (active only), tier drops, anomaly rates, stale weather
 * stations; alerts deduplicated across passes; sinks all receive every alert. */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/sqlite/sqlite_store.h"
#include "app/config.h"
#include "app/ingest.h"
#include "app/monitor.h"
#include "base/timeparse.h"

static char dir[64];

static int64_t at(const char *iso)
{
    int64_t t = 0;
    mtr_time_parse(iso, strlen(iso), &t);
    return t;
}

static int64_t fixed_t;
static int64_t fx_now(void *ctx)
{
    return fixed_t;
}
static int fx_sleep(void *ctx, int64_t t, volatile int *stop)
{
    *stop = 1;
    return 1;
}

static void reading(struct mtr_ingest *ing, const char *id, int64_t ts, double kwh, double volt)
{
    struct mtr_record r = {.kind = MTR_KIND_READING};
    mtr_reading_init(&r.u.reading);
    snprintf(r.u.reading.meter_id, MTR_ID_MAX, "%s", id);
    r.u.reading.ts = ts;
    r.u.reading.interval_s = 3600;
    r.u.reading.kwh = kwh;
    r.u.reading.voltage_v = volt;
    T_EQ_INT(mtr_ingest_record(ing, &r, "test") >= 0, 1);
}

static void obs(struct mtr_ingest *ing, const char *id, int64_t ts)
{
    struct mtr_record r = {.kind = MTR_KIND_WEATHER};
    mtr_weather_obs_init(&r.u.weather);
    snprintf(r.u.weather.station_id, MTR_ID_MAX, "%s", id);
    r.u.weather.ts = ts;
    r.u.weather.temperature_c = 8;
    T_EQ_INT(mtr_ingest_record(ing, &r, "test") >= 0, 1);
}

/*
 * now = 2024-03-11T10:00Z, hourly data from 2024-03-01:
 *   OK1   delivers until now, clean                     -> nothing
 *   SIL1  stops at 2024-03-11T00:00 (last end 01:00)    -> monitor.meter_silent (9 h)
 *   OFF1  stops at the same time but is inactive        -> nothing
 *   BAD1  yesterday 20 of 24 values negative (flagged)  -> monitor.tier_drop
 *   ANO1  yesterday 12 of 24 intervals with voltage sag -> monitor.anomaly_rate
 *   W-OK  observations until now; W-OLD stops 5 h ago   -> monitor.weather_stale (W-OLD)
 */
static struct mtr_store *build(void)
{
    char path[128];
    struct mtr_store *s;
    struct mtr_errbuf eb;
    snprintf(path, sizeof path, "%s/monitor.db", dir);
    if (mtr_sqlite_open(path, &s, &eb) != 0) {
        t_fail(__FILE__, __LINE__, "%s", eb.msg);
        return NULL;
    }
    struct mtr_meter off;
    mtr_meter_init(&off);
    snprintf(off.id, sizeof off.id, "OFF1");
    off.status = MTR_METER_INACTIVE;
    s->ops->begin(s);
    s->ops->meter_put(s, &off);
    static const char *const stations[] = {"W-OK", "W-OLD"};
    for (int i = 0; i < 2; i++) {
        struct mtr_station st = {0};
        snprintf(st.id, sizeof st.id, "%s", stations[i]);
        st.latitude = st.longitude = st.elevation_m = NAN;
        st.status = MTR_SITE_ACTIVE;
        s->ops->station_put(s, &st);
    }
    s->ops->commit(s);

    struct mtr_ingest_opts o = {0};
    struct mtr_ingest *ing;
    mtr_params_default(&o.params);
    int64_t start = at("2024-03-01T00:00:00Z"), now = at("2024-03-11T10:00:00Z");
    int64_t y = at("2024-03-10T00:00:00Z"), cut = at("2024-03-11T00:00:00Z");
    o.params.now = now;
    T_EQ_INT(mtr_ingest_create(s, &o, &ing, &eb), 0);
    for (int64_t t = start; t < now; t += 3600) {
        int h = (int)((t - start) / 3600);
        double kwh = 0.5 + 0.1 * (h % 5);
        int yh = t >= y && t < y + 86400 ? (int)((t - y) / 3600) : -1;
        reading(ing, "OK1", t, kwh, 230);
        if (t <= cut) {
            reading(ing, "SIL1", t, kwh, 230);
            reading(ing, "OFF1", t, kwh, 230);
        }
        reading(ing, "BAD1", t, yh >= 2 && yh < 22 ? -kwh : kwh, 230);
        reading(ing, "ANO1", t, kwh, yh >= 0 && yh % 2 == 0 ? 190 : 230);
        obs(ing, "W-OK", t);
        if (t <= now - 5 * 3600)
            obs(ing, "W-OLD", t);
    }
    T_EQ_INT(mtr_ingest_commit(ing), 0);
    mtr_ingest_destroy(ing);
    return s;
}

struct seen {
    char lines[32][96];
    int n;
};
static int remember(void *ctx, const struct mtr_alert *a, struct mtr_errbuf *eb)
{
    struct seen *s = ctx;
    if (s->n < 32)
        snprintf(s->lines[s->n++], 96, "%s %s %s", mtr_rule(a->type)->name, a->entity_id,
                 mtr_level_name(a->level));
    return 0;
}
static int has(const struct seen *s, const char *prefix)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += strncmp(s->lines[i], prefix, strlen(prefix)) == 0;
    return n;
}

struct rows {
    int n, silent;
    int64_t silent_start, silent_end;
};
static int count_alert(void *ctx, const struct mtr_alert *a)
{
    struct rows *r = ctx;
    if (a->type >= MTR_R_MONITOR_METER_SILENT) {
        r->n++;
        if (a->type == MTR_R_MONITOR_METER_SILENT) {
            r->silent++;
            r->silent_start = a->start_ts;
            r->silent_end = a->end_ts;
        }
    }
    return 0;
}

/* An asynchronous sink: flush reports how many alerts of the pass were not delivered. */
static int64_t undelivered_flush(void *ctx)
{
    struct seen *sn = ctx;
    return sn->n > 0 ? 2 : 0;
}

static void test_rules_and_dedup(void)
{
    static struct mtr_config cfg;
    struct mtr_store *s = build();
    if (!s)
        return;
    mtr_config_defaults(&cfg);
    cfg.worker.batch = 2; /* several pages of meters */
    struct mtr_clock_ops clock = {fx_now, fx_sleep, NULL};
    volatile int stop = 0;
    struct mtr_monitor m;
    struct mtr_alert_sink store_sink, mem = {.name = "memory", .publish = remember};
    struct seen seen = {0};
    struct mtr_errbuf eb;
    mem.ctx = &seen;
    mtr_monitor_init(&m, &cfg, s, &clock, &stop);
    mtr_alert_sink_store(&store_sink, s);
    T_EQ_INT(mtr_monitor_add_sink(&m, &store_sink), 0);
    T_EQ_INT(mtr_monitor_add_sink(&m, &mem), 0);
    fixed_t = at("2024-03-11T10:00:00Z");
    T_EQ_INT(mtr_monitor_pass(&m, &eb), 0);
    for (int i = 0; i < seen.n; i++)
        printf("  alert: %s\n", seen.lines[i]);
    T_EQ_INT(m.stats.store_up, 1);
    T_EQ_INT(m.stats.meters, 5);
    T_EQ_INT(m.stats.stations, 2);
    T_EQ_INT(has(&seen, "monitor.meter_silent SIL1 medium"), 1);
    T_EQ_INT(has(&seen, "monitor.meter_silent"), 1); /* not OK1, not the inactive OFF1 */
    T_EQ_INT(has(&seen, "monitor.tier_drop BAD1"), 1);
    T_EQ_INT(has(&seen, "monitor.tier_drop OK1"), 0);
    T_EQ_INT(has(&seen, "monitor.anomaly_rate ANO1 critical"), 1); /* 50 % vs 10 %: 5x */
    T_EQ_INT(has(&seen, "monitor.anomaly_rate OK1"), 0);
    T_EQ_INT(has(&seen, "monitor.weather_stale W-OLD"), 1);
    T_EQ_INT(has(&seen, "monitor.weather_stale W-OK"), 0);
    T_EQ_INT(m.stats.alerts[0], 1);
    T_EQ_INT(m.stats.sink_errors[0], 0);
    T_EQ_INT(m.stats.sink_errors[1], 0);

    struct mtr_query q = {.kind = -1, .type = -1, .min_level = -1};
    struct rows r1 = {0}, r2 = {0};
    T_EQ_INT(s->ops->alert_rows(s, &q, count_alert, &r1), 0);
    T_EQ_INT(r1.n, seen.n);
    T_EQ_INT(r1.silent_start, at("2024-03-11T01:00:00Z"));
    /* an hour later the same conditions update the same alerts; the silent one grows */
    fixed_t += 3600;
    T_EQ_INT(mtr_monitor_pass(&m, &eb), 0);
    T_EQ_INT(s->ops->alert_rows(s, &q, count_alert, &r2), 0);
    T_EQ_INT(r2.n, r1.n);
    T_EQ_INT(r2.silent, 1);
    T_EQ_INT(r2.silent_start, r1.silent_start);
    T_EQ_INT(r2.silent_end, r1.silent_end + 3600);

    /* with a 12 h threshold SIL1 (silent 10 h now) is not reported */
    cfg.monitor.silent_hours = 12;
    seen.n = 0;
    T_EQ_INT(mtr_monitor_pass(&m, &eb), 0);
    T_EQ_INT(has(&seen, "monitor.meter_silent"), 0);

    /* a sink's flush runs after every pass; what it could not deliver counts as its errors */
    m.sinks[1].flush = undelivered_flush;
    seen.n = 0;
    cfg.monitor.silent_hours = 6;
    T_EQ_INT(mtr_monitor_pass(&m, &eb), 0);
    T_CHECK(seen.n > 0);
    T_EQ_INT(m.stats.sink_errors[1], 2);
    T_EQ_INT(m.stats.sink_errors[0], 0);
    m.sinks[1].flush = NULL;

    /* run() stops when asked (the fixed clock's sleep sets stop) after one pass */
    stop = 0;
    int64_t passes = m.stats.passes;
    T_EQ_INT(mtr_monitor_run(&m, NULL, NULL), 0);
    T_EQ_INT(m.stats.passes, passes + 1);
    s->ops->close(s);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/metrify-test-monitor-%d", (int)getpid());
    mkdir(dir, 0700);
    T_RUN(test_rules_and_dedup);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return T_END();
}
