/*
 * monitor.c - the fleet alert rules of `metrify worker monitor`. Meters are walked page by page
 * (bounded memory); each meter costs two small indexed queries over its last 9 days of day
 * rollups. Alerts are published after a meter's queries finished, so no sink writes while a read
 * is open on the store.
 */
#include "app/monitor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/report.h"

#define LOOKBACK_DAYS 8

void mtr_monitor_init(struct mtr_monitor *m, const struct mtr_config *cfg, struct mtr_store *store,
                      const struct mtr_clock_ops *clock, volatile int *stop)
{
    memset(m, 0, sizeof *m);
    m->cfg = cfg;
    m->store = store;
    m->clock = *clock;
    m->stop = stop;
}

int mtr_monitor_add_sink(struct mtr_monitor *m, const struct mtr_alert_sink *sink)
{
    if (m->nsinks >= MTR_MONITOR_SINKS_MAX)
        return MTR_ERANGE;
    m->sinks[m->nsinks++] = *sink;
    return 0;
}

static int store_publish(void *ctx, const struct mtr_alert *a, struct mtr_errbuf *eb)
{
    struct mtr_store *s = ctx;
    int rc = s->ops->begin(s);
    if (!rc && (rc = s->ops->alert_put(s, a)) != 0)
        s->ops->rollback(s);
    else if (!rc)
        rc = s->ops->commit(s);
    if (rc)
        mtr_err(eb, rc, "alert_put: %s", s->err.msg);
    return rc;
}

void mtr_alert_sink_store(struct mtr_alert_sink *out, struct mtr_store *s)
{
    *out = (struct mtr_alert_sink){.name = "store", .publish = store_publish, .ctx = s};
}

static void publish(struct mtr_monitor *m, const struct mtr_alert *a)
{
    m->stats.alerts[a->type - MTR_R_MONITOR_METER_SILENT]++;
    for (int i = 0; i < m->nsinks; i++) {
        struct mtr_errbuf eb = {{0}};
        if (m->sinks[i].publish(m->sinks[i].ctx, a, &eb))
            m->stats.sink_errors[i]++;
    }
}

/* 0.6 (medium) from 1x the threshold, 0.8 (high) from 2x, 0.95 (critical) from 4x */
static double ratio_score(double r)
{
    return r >= 4 ? 0.95 : r >= 2 ? 0.8 : 0.6;
}

static int64_t floor_day(int64_t t)
{
    return t - ((t % 86400) + 86400) % 86400;
}

/* ---- per meter ---- */

struct meter_page {
    struct mtr_meter *m;
    int64_t n, cap;
};

static int collect_meter(void *ctx, const struct mtr_meter *mt)
{
    struct meter_page *p = ctx;
    if (p->n < p->cap)
        p->m[p->n++] = *mt;
    return 0;
}

struct last_seen {
    int64_t last_end; /* end of the last interval seen; 0 = none */
    int32_t interval_s;
};

static int last_cb(void *ctx, const struct mtr_day_row *r)
{
    struct last_seen *l = ctx;
    int32_t iv = r->d.interval_s > 0 ? r->d.interval_s : 900;
    if (r->d.n_valid + r->d.n_flagged + r->d.n_estimated > 0 && r->d.last_ts + iv > l->last_end) {
        l->last_end = r->d.last_ts + iv;
        l->interval_s = iv;
    }
    return 0;
}

struct days {
    int64_t yesterday;
    int have_y;
    struct mtr_day_report y; /* yesterday (meter_id not kept) */
    double base_sum;
    int base_n;
};

static int day_cb(void *ctx, const struct mtr_day_report *d)
{
    struct days *ds = ctx;
    if (d->day == ds->yesterday) {
        ds->y = *d;
        ds->y.meter_id = NULL;
        ds->have_y = 1;
    } else if (d->day < ds->yesterday && d->day >= ds->yesterday - 7 * 86400 &&
               !isnan(d->q.score)) {
        ds->base_sum += d->q.score;
        ds->base_n++;
    }
    return 0;
}

static void alert_init(struct mtr_alert *a, enum mtr_kind src, const char *id,
                       enum mtr_rule_id type, double score)
{
    memset(a, 0, sizeof *a);
    a->source = src;
    snprintf(a->entity_id, sizeof a->entity_id, "%s", id);
    a->type = type;
    a->score = score;
    a->level = mtr_level_from_score(score);
}

static int judge_meter(struct mtr_monitor *m, const struct mtr_meter *mt, int64_t now)
{
    const struct mtr_config *c = m->cfg;
    struct mtr_store *s = m->store;
    int64_t today = floor_day(now), yesterday = today - 86400;
    struct mtr_query q = {.entity_id = mt->id,
                          .kind = -1,
                          .type = -1,
                          .min_level = -1,
                          .from = today - LOOKBACK_DAYS * 86400,
                          .to = today + 86400,
                          .has_from = 1,
                          .has_to = 1};
    struct last_seen ls = {0, 0};
    int rc = s->ops->day_rows(s, &q, last_cb, &ls);
    if (rc)
        return rc;
    if (ls.last_end == 0)
        return 0; /* nothing in the look-back: not judged */
    struct days ds = {.yesterday = yesterday};
    struct mtr_report_sink sink = {day_cb, NULL, &ds};
    struct mtr_quality_total tot;
    q.to = today;
    if ((rc = mtr_report_days(s, &q, &sink, &tot)))
        return rc;
    m->stats.meters++;

    struct mtr_alert a;
    /* silent: active (or auto-registered) meters only; the others are not expected to deliver */
    double silent_h = (double)(now - ls.last_end) / 3600.0;
    if ((mt->status == MTR_METER_ACTIVE || mt->status == MTR_METER_PENDING) &&
        silent_h >= c->monitor.silent_hours) {
        alert_init(&a, MTR_KIND_READING, mt->id, MTR_R_MONITOR_METER_SILENT,
                   ratio_score(silent_h / c->monitor.silent_hours));
        a.start_ts = ls.last_end;
        a.end_ts = now - ((now - ls.last_end) % ls.interval_s) - ls.interval_s;
        if (a.end_ts < a.start_ts)
            a.end_ts = a.start_ts;
        a.count = (int32_t)((now - ls.last_end) / ls.interval_s);
        a.value = silent_h;
        snprintf(a.detail, sizeof a.detail, "no reading for %.1f h (threshold %g h)", silent_h,
                 c->monitor.silent_hours);
        publish(m, &a);
    }
    if (!ds.have_y)
        return 0;
    /* tier drop: yesterday against the mean score of the 7 days before (at least 3 of them) */
    if (ds.base_n >= 3) {
        double base = ds.base_sum / ds.base_n;
        int bt = (int)mtr_tier_from_score(base), yt = (int)ds.y.tier;
        if (yt != MTR_TIER_UNKNOWN && bt - yt >= c->monitor.tier_drop) {
            alert_init(&a, MTR_KIND_READING, mt->id, MTR_R_MONITOR_TIER_DROP,
                       bt - yt >= 3 ? 0.95 : 0.8);
            a.start_ts = yesterday;
            a.end_ts = yesterday + 86400 - (ds.y.interval_s > 0 ? ds.y.interval_s : 900);
            a.count = 1;
            a.value = ds.y.q.score;
            snprintf(a.detail, sizeof a.detail,
                     "tier %s yesterday (score %.2f), %s over the previous %d days (%.2f)",
                     mtr_tier_name(ds.y.tier), ds.y.q.score, mtr_tier_name(bt), ds.base_n, base);
            publish(m, &a);
        }
    }
    /* anomaly rate of yesterday */
    if (ds.y.q.received >= c->monitor.anomaly_min_intervals && ds.y.q.received > 0) {
        double rate = (double)ds.y.q.anomalous / (double)ds.y.q.received;
        if (rate > c->monitor.anomaly_rate) {
            double r = c->monitor.anomaly_rate > 0 ? rate / c->monitor.anomaly_rate : 4;
            alert_init(&a, MTR_KIND_READING, mt->id, MTR_R_MONITOR_ANOMALY_RATE, ratio_score(r));
            a.start_ts = yesterday;
            a.end_ts = yesterday + 86400 - (ds.y.interval_s > 0 ? ds.y.interval_s : 900);
            a.count = (int32_t)ds.y.q.anomalous;
            a.value = rate;
            snprintf(a.detail, sizeof a.detail,
                     "%lld of %lld intervals anomalous yesterday (%.1f %%, threshold %.1f %%)",
                     (long long)ds.y.q.anomalous, (long long)ds.y.q.received, 100 * rate,
                     100 * c->monitor.anomaly_rate);
            publish(m, &a);
        }
    }
    return 0;
}

/* ---- per station ---- */

struct station_page {
    struct mtr_station *st;
    int64_t n, cap;
};

static int collect_station(void *ctx, const struct mtr_station *st)
{
    struct station_page *p = ctx;
    if (p->n < p->cap)
        p->st[p->n++] = *st;
    return 0;
}

static int last_obs(void *ctx, const struct mtr_weather_row *r)
{
    int64_t *last = ctx;
    if (r->w.ts > *last)
        *last = r->w.ts;
    return 0;
}

static int judge_station(struct mtr_monitor *m, const struct mtr_station *st, int64_t now)
{
    const struct mtr_config *c = m->cfg;
    struct mtr_query q = {.entity_id = st->id,
                          .kind = -1,
                          .type = -1,
                          .min_level = -1,
                          .from = floor_day(now) - LOOKBACK_DAYS * 86400,
                          .to = now + 1,
                          .has_from = 1,
                          .has_to = 1};
    int64_t last = 0;
    int rc = m->store->ops->weather_rows(m->store, &q, last_obs, &last);
    if (rc)
        return rc;
    if (!last)
        return 0;
    m->stats.stations++;
    double h = (double)(now - last) / 3600.0;
    if (st->status != MTR_SITE_ACTIVE || h < c->monitor.stale_weather_hours)
        return 0;
    struct mtr_alert a;
    alert_init(&a, MTR_KIND_WEATHER, st->id, MTR_R_MONITOR_WEATHER_STALE,
               ratio_score(h / c->monitor.stale_weather_hours));
    a.start_ts = last;
    a.end_ts = now;
    a.count = (int32_t)(h);
    a.value = h;
    snprintf(a.detail, sizeof a.detail, "no observation for %.1f h (threshold %g h)", h,
             c->monitor.stale_weather_hours);
    publish(m, &a);
    return 0;
}

int mtr_monitor_pass(struct mtr_monitor *m, struct mtr_errbuf *eb)
{
    struct mtr_store *s = m->store;
    struct mtr_store_stats health;
    int64_t now = m->clock.now(m->clock.ctx);
    int64_t batch = m->cfg->worker.batch > 0 ? m->cfg->worker.batch : 200;
    int rc = 0;
    m->stats.passes++;
    m->stats.last_pass = now;
    m->stats.meters = m->stats.stations = 0;
    if ((rc = s->ops->stats(s, &health))) {
        m->stats.store_up = 0;
        m->stats.failed_passes++;
        return mtr_err(eb, MTR_ESTORE, "store unhealthy: %s", s->err.msg);
    }
    m->stats.store_up = 1;
    struct meter_page mp = {calloc((size_t)batch, sizeof *mp.m), 0, batch};
    struct station_page sp = {calloc((size_t)batch, sizeof *sp.st), 0, batch};
    if (!mp.m || !sp.st) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    for (int64_t off = 0; !*m->stop; off += batch) {
        struct mtr_query q = {
            .kind = -1, .type = -1, .min_level = -1, .limit = batch, .offset = off};
        mp.n = 0;
        if ((rc = s->ops->meter_list(s, &q, collect_meter, &mp)))
            break;
        for (int64_t i = 0; i < mp.n && !rc; i++)
            rc = judge_meter(m, &mp.m[i], now);
        if (rc || mp.n < batch)
            break;
    }
    for (int64_t off = 0; !rc && !*m->stop; off += batch) {
        struct mtr_query q = {
            .kind = -1, .type = -1, .min_level = -1, .limit = batch, .offset = off};
        sp.n = 0;
        if ((rc = s->ops->station_list(s, &q, collect_station, &sp)))
            break;
        for (int64_t i = 0; i < sp.n && !rc; i++)
            rc = judge_station(m, &sp.st[i], now);
        if (rc || sp.n < batch)
            break;
    }
    if (rc)
        mtr_err(eb, rc, "monitor pass failed: %s", s->err.msg);
out:
    for (int i = 0; i < m->nsinks; i++) /* what was published, also by a failed pass */
        if (m->sinks[i].flush)
            m->stats.sink_errors[i] += m->sinks[i].flush(m->sinks[i].ctx);
    free(mp.m);
    free(sp.st);
    if (rc)
        m->stats.failed_passes++;
    m->stats.last_seconds = (double)(m->clock.now(m->clock.ctx) - now);
    return rc;
}

int mtr_monitor_run(struct mtr_monitor *m, void (*on_error)(void *ctx, const char *msg), void *ctx)
{
    int64_t interval = m->cfg->monitor.interval > 0 ? m->cfg->monitor.interval : 300;
    while (!*m->stop) {
        int64_t start = m->clock.now(m->clock.ctx);
        struct mtr_errbuf eb = {{0}};
        if (mtr_monitor_pass(m, &eb) && on_error)
            on_error(ctx, eb.msg);
        if (m->clock.sleep_until(m->clock.ctx, start + interval, m->stop))
            break; /* stopped, or a clock that cannot wait */
    }
    return 0;
}
