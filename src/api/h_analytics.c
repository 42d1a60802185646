/*
 * h_analytics.c - the fleet analytics routes: overview, energy consumption (per meter, grid
 * operator or day, from the daily rollups), anomalies (by type, level and source), the fleet
 * data-quality report and the daily report. Figures come from the rollups and the alert table
 * through report.h and the store port, never from rescanning readings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/handlers.h"
#include "api/server.h"
#include "app/report.h"
#include "base/timeparse.h"

static void query_init(struct mtr_query *q, int64_t from, int64_t to)
{
    memset(q, 0, sizeof q[0]);
    q->kind = q->type = q->min_level = -1;
    q->from = from;
    q->has_from = 1;
    q->to = to;
    q->has_to = 1;
}

static int64_t day_floor(int64_t t)
{
    return t - ((t % 86400) + 86400) % 86400;
}

/* ---- anomalies ---- */

#define RECENT_MAX 100

struct alert_acc {
    int64_t total;
    int64_t by_type[MTR_RULE_COUNT];
    int64_t by_level[4];
    int64_t by_source[MTR_KIND_COUNT];
    struct mtr_alert recent[RECENT_MAX];
    int64_t n_recent_max, seen;
};

static int on_alert(void *ctx, const struct mtr_alert *a)
{
    struct alert_acc *x = ctx;
    x->total++;
    if ((unsigned)a->type < MTR_RULE_COUNT)
        x->by_type[a->type]++;
    if ((unsigned)a->level < 4)
        x->by_level[a->level]++;
    if ((unsigned)a->source < MTR_KIND_COUNT)
        x->by_source[a->source]++;
    if (x->n_recent_max)
        x->recent[x->seen++ % x->n_recent_max] = *a; /* ring: keeps the latest by start */
    return mtr_api_over();                           /* stops the scan past the deadline */
}

static void write_alert(struct mtr_jw *w, const struct mtr_alert *a)
{
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "source", mtr_kind_name(a->source));
    mtr_jw_kstr(w, "entity_id", a->entity_id);
    mtr_jw_kstr(w, "type", mtr_rule(a->type)->name);
    mtr_jw_kstr(w, "level", mtr_level_name(a->level));
    mtr_jw_knum(w, "score", a->score);
    mtr_jw_ktime(w, "start", a->start_ts);
    mtr_jw_ktime(w, "end", a->end_ts);
    mtr_jw_kint(w, "count", a->count);
    mtr_jw_knum(w, "value", a->value);
    mtr_jw_kstr(w, "detail", a->detail);
    mtr_jw_end_obj(w);
}

static void write_counts(struct mtr_jw *w, const struct alert_acc *x, int64_t hours)
{
    mtr_jw_kint(w, "total_anomalies", x->total);
    mtr_jw_knum(w, "anomalies_per_hour", hours > 0 ? (double)x->total / (double)hours : NAN);
    mtr_jw_key(w, "by_type");
    mtr_jw_obj(w);
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (x->by_type[i])
            mtr_jw_kint(w, mtr_rule(i)->name, x->by_type[i]);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "by_level");
    mtr_jw_obj(w);
    for (int i = 0; i < 4; i++)
        mtr_jw_kint(w, mtr_level_name(i), x->by_level[i]);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "by_source");
    mtr_jw_obj(w);
    for (int i = 0; i <= MTR_KIND_WEATHER; i++)
        mtr_jw_kint(w, mtr_kind_name(i), x->by_source[i]);
    mtr_jw_end_obj(w);
}

int mtr_h_an_anomalies(struct mtr_api_req *r)
{
    int64_t from, to, limit = 10;
    int src = -1, level = -1;
    if (mtr_api_range(r, &from, &to, 0) < 0 ||
        mtr_api_q_choice(r, "source", "readings,grid,weather", &src) < 0 ||
        mtr_api_q_choice(r, "level", "low,medium,high,critical", &level) < 0 ||
        mtr_api_q_int(r, "limit", 0, RECENT_MAX, &limit) < 0)
        return 0;
    struct mtr_query q;
    query_init(&q, from, to);
    q.kind = src;
    q.min_level = level;
    q.entity_id = mtr_api_query(r, "entity_id");
    const char *type = mtr_api_query(r, "type");
    if (type && (q.type = mtr_rule_parse(type)) < 0)
        return mtr_api_error(r, 400, "bad_parameter", NULL,
                             "type: unknown anomaly type '%s' (see metrify rules)", type);
    struct alert_acc *x = calloc(1, sizeof *x);
    if (!x)
        return mtr_api_error(r, 500, "internal", NULL, "out of memory");
    x->n_recent_max = limit;
    int rc = r->store->ops->alert_rows(r->store, &q, on_alert, x);
    if (rc) {
        free(x);
        return mtr_api_fail(r, rc, "anomalies");
    }
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_key(w, "period");
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_end_obj(w);
    write_counts(w, x, (to - from + 3599) / 3600);
    mtr_jw_key(w, "recent");
    mtr_jw_arr(w);
    int64_t n = x->seen < x->n_recent_max ? x->seen : x->n_recent_max;
    for (int64_t i = 0; i < n; i++) /* newest first */
        write_alert(w, &x->recent[(x->seen - 1 - i) % (x->n_recent_max ? x->n_recent_max : 1)]);
    mtr_jw_end_arr(w);
    mtr_jw_end_obj(w);
    free(x);
    return 0;
}

/* ---- data quality ---- */

struct fleet_tiers {
    int64_t by_tier[MTR_TIER_EXCELLENT + 1];
};

static int on_meter_total(void *ctx, const char *id, const struct mtr_quality_total *t)
{
    struct fleet_tiers *f = ctx;
    f->by_tier[mtr_tier_from_score(mtr_quality_total_score(t))]++;
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int fleet_quality(struct mtr_api_req *r, int64_t from, int64_t to, int with_meters)
{
    struct mtr_query q;
    struct mtr_quality_total t;
    struct fleet_tiers ft;
    memset(&ft, 0, sizeof ft);
    query_init(&q, day_floor(from), to);
    struct mtr_report_sink sink = {.meter = on_meter_total, .ctx = &ft};
    int rc = mtr_report_days(r->store, &q, &sink, &t);
    if (rc)
        return rc;
    struct mtr_jw *w = &r->out;
    mtr_jw_kint(w, "meters", t.meters);
    mtr_api_write_quality_total(w, &t);
    mtr_jw_key(w, "meter_tiers");
    mtr_jw_obj(w);
    for (int i = 0; i <= MTR_TIER_EXCELLENT; i++)
        mtr_jw_kint(w, mtr_tier_name(i), ft.by_tier[i]);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "day_tiers");
    mtr_jw_obj(w);
    for (int i = 0; i <= MTR_TIER_EXCELLENT; i++)
        mtr_jw_kint(w, mtr_tier_name(i), t.tier_days[i]);
    mtr_jw_end_obj(w);
    (void)with_meters;
    return 0;
}

struct quar_count {
    int64_t n;
    int64_t by_rule[MTR_RULE_COUNT];
};

static int on_quar(void *ctx, const struct mtr_quarantine *q)
{
    struct quar_count *c = ctx;
    c->n++;
    if ((unsigned)q->rule < MTR_RULE_COUNT)
        c->by_rule[q->rule]++;
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_an_quality(struct mtr_api_req *r)
{
    int64_t from, to;
    if (mtr_api_range(r, &from, &to, 2) < 0)
        return 0;
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_key(w, "period");
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_end_obj(w);
    int rc = fleet_quality(r, from, to, 0);
    if (rc)
        return mtr_api_fail(r, rc, "data quality");
    struct mtr_query q;
    query_init(&q, from, to);
    struct quar_count *qc = calloc(1, sizeof *qc);
    if (!qc)
        return mtr_api_error(r, 500, "internal", NULL, "out of memory");
    rc = r->store->ops->quarantine_rows(r->store, &q, on_quar, qc);
    if (rc) {
        free(qc);
        return mtr_api_fail(r, rc, "data quality");
    }
    mtr_jw_key(w, "quarantined");
    mtr_jw_obj(w);
    mtr_jw_kint(w, "total", qc->n);
    mtr_jw_key(w, "by_rule");
    mtr_jw_obj(w);
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (qc->by_rule[i])
            mtr_jw_kint(w, mtr_rule(i)->name, qc->by_rule[i]);
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    free(qc);
    return 0;
}

/* ---- overview ---- */

int mtr_h_an_overview(struct mtr_api_req *r)
{
    int64_t from, to;
    if (mtr_api_range(r, &from, &to, 0) < 0)
        return 0;
    struct mtr_store_stats st;
    int rc = r->store->ops->stats(r->store, &st);
    if (rc)
        return mtr_api_fail(r, rc, "overview");
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_key(w, "period");
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "store");
    mtr_jw_obj(w);
    mtr_jw_kint(w, "meters", st.meters);
    mtr_jw_kint(w, "grid_operators", st.operators);
    mtr_jw_kint(w, "weather_stations", st.stations);
    mtr_jw_kint(w, "readings", st.readings);
    mtr_jw_kint(w, "estimated_readings", st.estimated);
    mtr_jw_kint(w, "revisions", st.revisions);
    mtr_jw_kint(w, "grid_status", st.grid_status);
    mtr_jw_kint(w, "weather_observations", st.weather);
    mtr_jw_kint(w, "alerts", st.alerts);
    mtr_jw_kint(w, "quarantined", st.quarantined);
    mtr_jw_kint(w, "bytes", st.bytes);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "data_quality");
    mtr_jw_obj(w);
    if ((rc = fleet_quality(r, from, to, 0)) != 0)
        return mtr_api_fail(r, rc, "overview");
    mtr_jw_end_obj(w);
    struct mtr_query q;
    query_init(&q, from, to);
    struct alert_acc *x = calloc(1, sizeof *x);
    if (!x)
        return mtr_api_error(r, 500, "internal", NULL, "out of memory");
    if ((rc = r->store->ops->alert_rows(r->store, &q, on_alert, x)) != 0) {
        free(x);
        return mtr_api_fail(r, rc, "overview");
    }
    mtr_jw_key(w, "anomalies");
    mtr_jw_obj(w);
    write_counts(w, x, (to - from + 3599) / 3600);
    mtr_jw_end_obj(w);
    free(x);
    const struct mtr_api_metrics *m = &r->srv->metrics;
    mtr_jw_key(w, "ingest_since_start");
    mtr_jw_obj(w);
    for (int k = 0; k <= MTR_KIND_WEATHER; k++) {
        mtr_jw_key(w, mtr_kind_name(k));
        mtr_jw_obj(w);
        mtr_jw_kint(w, "accepted", (int64_t)__atomic_load_n(&m->accepted[k], __ATOMIC_RELAXED));
        mtr_jw_kint(w, "rejected", (int64_t)__atomic_load_n(&m->rejected[k], __ATOMIC_RELAXED));
        mtr_jw_end_obj(w);
    }
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    return 0;
}

/* ---- daily report ---- */

struct daily {
    struct mtr_jw *w;
    int64_t meters;
    double kwh;
};

static int on_daily_day(void *ctx, const struct mtr_day_report *d)
{
    struct daily *x = ctx;
    mtr_jw_obj(x->w);
    mtr_jw_kstr(x->w, "meter_id", d->meter_id);
    mtr_jw_knum(x->w, "kwh", d->kwh);
    mtr_jw_knum(x->w, "peak_kwh", d->peak_kwh);
    mtr_jw_knum(x->w, "offpeak_kwh", d->offpeak_kwh);
    mtr_jw_knum(x->w, "max_kwh", d->max_kwh);
    mtr_jw_knum(x->w, "score", d->q.score);
    mtr_jw_kstr(x->w, "tier", mtr_tier_name(d->tier));
    mtr_jw_kint(x->w, "missing", d->q.missing);
    mtr_jw_kint(x->w, "estimated", d->q.estimated);
    mtr_jw_kint(x->w, "flagged", d->q.flagged);
    mtr_jw_kint(x->w, "anomalous", d->q.anomalous);
    mtr_jw_end_obj(x->w);
    x->meters++;
    if (!isnan(d->kwh))
        x->kwh += d->kwh;
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_an_daily(struct mtr_api_req *r)
{
    int64_t day;
    const char *ds = mtr_api_query(r, "date");
    if (ds) {
        char msg[120];
        if (strlen(ds) != 10 || mtr_time_parse_msg(ds, 10, &day, msg, sizeof msg) < 0)
            return mtr_api_error(r, 400, "bad_parameter", NULL, "date must be YYYY-MM-DD: %s", ds);
    } else {
        day = day_floor((int64_t)time(NULL));
    }
    struct mtr_query q;
    struct mtr_quality_total t;
    query_init(&q, day, day + 86400);
    struct mtr_jw *w = &r->out;
    char date[24];
    mtr_time_format(day, date);
    date[10] = 0;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "report_date", date);
    mtr_jw_key(w, "meters");
    mtr_jw_arr(w);
    struct daily x = {w, 0, 0};
    struct mtr_report_sink sink = {.day = on_daily_day, .ctx = &x};
    int rc = mtr_report_days(r->store, &q, &sink, &t);
    if (rc)
        return mtr_api_fail(r, rc, "daily report");
    mtr_jw_end_arr(w);
    struct alert_acc *a = calloc(1, sizeof *a);
    if (!a)
        return mtr_api_error(r, 500, "internal", NULL, "out of memory");
    if ((rc = r->store->ops->alert_rows(r->store, &q, on_alert, a)) != 0) {
        free(a);
        return mtr_api_fail(r, rc, "daily report");
    }
    mtr_jw_key(w, "summary");
    mtr_jw_obj(w);
    mtr_jw_kint(w, "meters", x.meters);
    mtr_jw_knum(w, "total_kwh", x.kwh);
    mtr_api_write_quality_total(w, &t);
    write_counts(w, a, 24);
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    free(a);
    return 0;
}

/* ---- energy consumption ---- */

struct op_entry {
    char meter[MTR_ID_MAX], op[MTR_ID_MAX];
};

struct energy {
    int group; /* 0 meter, 1 grid operator, 2 day */
    const char *only_op;
    struct op_entry *map; /* meter -> operator, sorted by meter id */
    size_t n, cap;
    /* groups: sorted insertion would be costly; groups are few for operator/day, and meter rows
     * arrive ordered by meter, so a linear "same as last" check plus a small table suffices */
    struct group {
        char key[MTR_ID_MAX];
        double kwh, peak_kwh, offpeak_kwh;
        int64_t days, meters;
        char last_meter[MTR_ID_MAX];
    } * g;
    size_t ng, capg;
    double total;
    int oom;
};

static int on_op_meter(void *ctx, const struct mtr_meter *m)
{
    struct energy *e = ctx;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 1024;
        struct op_entry *p = realloc(e->map, cap * sizeof *p);
        if (!p)
            return MTR_ENOMEM;
        e->map = p;
        e->cap = cap;
    }
    snprintf(e->map[e->n].meter, MTR_ID_MAX, "%s", m->id);
    snprintf(e->map[e->n].op, MTR_ID_MAX, "%s", m->operator_id);
    e->n++;
    return mtr_api_over(); /* stops the scan past the deadline */
}

static const char *op_of(struct energy *e, const char *meter)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) { /* meter_find returns ids in ascending (binary) order */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(e->map[mid].meter, meter);
        if (c == 0)
            return e->map[mid].op;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static struct group *group_get(struct energy *e, const char *key)
{
    for (size_t i = e->ng; i > 0; i--)
        if (strcmp(e->g[i - 1].key, key) == 0)
            return &e->g[i - 1];
    if (e->ng == e->capg) {
        size_t cap = e->capg ? e->capg * 2 : 256;
        struct group *p = realloc(e->g, cap * sizeof *p);
        if (!p)
            return NULL;
        e->g = p;
        e->capg = cap;
    }
    struct group *g = &e->g[e->ng++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", key);
    return g;
}

static int on_energy_day(void *ctx, const struct mtr_day_report *d)
{
    struct energy *e = ctx;
    char key[MTR_ID_MAX];
    if (isnan(d->kwh))
        return 0;
    if (e->map) {
        const char *op = op_of(e, d->meter_id);
        if (e->only_op && (!op || strcmp(op, e->only_op) != 0))
            return 0;
        if (e->group == 1)
            snprintf(key, sizeof key, "%s", op && *op ? op : "(none)");
    }
    if (e->group == 0)
        snprintf(key, sizeof key, "%s", d->meter_id);
    else if (e->group == 2) {
        mtr_time_format(d->day, key);
        key[10] = 0;
    }
    struct group *g = group_get(e, key);
    if (!g)
        return MTR_ENOMEM;
    g->kwh += d->kwh;
    g->peak_kwh += isnan(d->peak_kwh) ? 0 : d->peak_kwh;
    g->offpeak_kwh += isnan(d->offpeak_kwh) ? 0 : d->offpeak_kwh;
    g->days++;
    if (strcmp(g->last_meter, d->meter_id) != 0) { /* rows come grouped by meter */
        g->meters++;
        snprintf(g->last_meter, sizeof g->last_meter, "%s", d->meter_id);
    }
    e->total += d->kwh;
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

int mtr_h_an_energy(struct mtr_api_req *r)
{
    int64_t from, to;
    struct energy e;
    memset(&e, 0, sizeof e);
    if (mtr_api_range(r, &from, &to, 1) < 0 ||
        mtr_api_q_choice(r, "group_by", "meter,grid_operator,day", &e.group) < 0)
        return 0;
    e.only_op = mtr_api_query(r, "grid_operator");
    int rc = 0;
    if (e.group == 1 || e.only_op) {
        struct mtr_meter_filter f = {.status = -1, .type = -1};
        if ((rc = r->store->ops->meter_find(r->store, &f, NULL, on_op_meter, &e)) != 0)
            goto out;
        if (!e.map && (e.map = malloc(sizeof *e.map)) == NULL) { /* empty fleet, still filter */
            rc = MTR_ENOMEM;
            goto out;
        }
    }
    struct mtr_query q;
    struct mtr_quality_total t;
    query_init(&q, day_floor(from), to);
    q.entity_id = mtr_api_query(r, "meter_id");
    struct mtr_report_sink sink = {.day = on_energy_day, .ctx = &e};
    if ((rc = mtr_report_days(r->store, &q, &sink, &t)) != 0)
        goto out;
    if (e.ng)
        qsort(e.g, e.ng, sizeof *e.g, cmp_group);
    static const char *const names[] = {"meter", "grid_operator", "day"};
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_key(w, "period");
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "from", day_floor(from));
    mtr_jw_ktime(w, "to", to);
    mtr_jw_end_obj(w);
    mtr_jw_kstr(w, "group_by", names[e.group]);
    mtr_jw_knum(w, "total_kwh", e.total);
    mtr_jw_key(w, "items");
    mtr_jw_arr(w);
    for (size_t i = 0; i < e.ng; i++) {
        mtr_jw_obj(w);
        mtr_jw_kstr(w, names[e.group], e.g[i].key);
        mtr_jw_knum(w, "kwh", e.g[i].kwh);
        mtr_jw_knum(w, "peak_kwh", e.g[i].peak_kwh);
        mtr_jw_knum(w, "offpeak_kwh", e.g[i].offpeak_kwh);
        mtr_jw_kint(w, "meter_days", e.g[i].days);
        if (e.group != 0)
            mtr_jw_kint(w, "meters", e.g[i].meters);
        mtr_jw_knum(w, "avg_kwh_per_meter_day",
                    e.g[i].days ? e.g[i].kwh / (double)e.g[i].days : NAN);
        mtr_jw_end_obj(w);
    }
    mtr_jw_end_arr(w);
    mtr_jw_end_obj(w);
out:
    if (rc)
        mtr_api_fail(r, rc, "energy consumption");
    free(e.map);
    free(e.g);
    return 0;
}
