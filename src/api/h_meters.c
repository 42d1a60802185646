/*
 * h_meters.c - the smart-meter routes: create, get, search, update (status transitions of
 * docs/domain.md enforced), decommission, quality report and analytics. Thin: bodies are checked
 * field by field (body.h), then app/meters.c and the store port do the work.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/body.h"
#include "api/handlers.h"
#include "api/server.h"
#include "app/meters.h"
#include "app/report.h"
#include "base/timeparse.h"

static void meter_keys(struct mtr_jw *w, const struct mtr_meter *m, const char *tier)
{
    mtr_jw_kstr(w, "meter_id", m->id);
    mtr_jw_kstr(w, "status", mtr_meter_status_name(m->status));
    mtr_jw_kstr(w, "type", mtr_meter_type_name(m->type));
    if (tier)
        mtr_jw_kstr(w, "quality_tier", tier);
    mtr_jw_knum(w, "latitude", m->latitude);
    mtr_jw_knum(w, "longitude", m->longitude);
    mtr_jw_kstr(w, "address", m->address);
    mtr_jw_kstr(w, "manufacturer", m->manufacturer);
    mtr_jw_kstr(w, "model", m->model);
    mtr_jw_kstr(w, "firmware", m->firmware);
    mtr_jw_kstr(w, "tariff", m->tariff);
    mtr_jw_ktime(w, "installed_at", m->installed_at);
    mtr_jw_kstr(w, "operator_id", m->operator_id);
    mtr_jw_kstr(w, "station_id", m->station_id);
    mtr_jw_knum(w, "base_kwh", m->base_kwh);
}

void mtr_api_write_meter(struct mtr_jw *w, const struct mtr_meter *m, const char *tier)
{
    mtr_jw_obj(w);
    meter_keys(w, m, tier);
    mtr_jw_end_obj(w);
}

#define METER_FIELDS                                                                               \
    "meter_id,status,type,latitude,longitude,address,manufacturer,model,firmware,tariff,"          \
    "installed_at,operator_id,station_id,base_kwh"

static int status_parse(const char *s)
{
    return mtr_meter_status_parse(s);
}
static int type_parse(const char *s)
{
    return mtr_meter_type_parse(s);
}

/* Applies the fields present in o onto m; -1 after a 422. Status is returned in *status (-1 when
 * absent) so the caller can check the transition. */
static int meter_fields(struct mtr_api_req *r, json_t *o, struct mtr_meter *m, int *status)
{
    int t = -1;
    *status = -1;
    if (mtr_api_f_known(r, o, METER_FIELDS) < 0 ||
        mtr_api_f_enum(r, o, "status", status_parse,
                       "pending, active, inactive, maintenance, faulty, decommissioned",
                       status) < 0 ||
        mtr_api_f_enum(r, o, "type", type_parse, "residential, commercial, industrial", &t) < 0 ||
        mtr_api_f_num(r, o, "latitude", -90, 90, &m->latitude) < 0 ||
        mtr_api_f_num(r, o, "longitude", -180, 180, &m->longitude) < 0 ||
        mtr_api_f_str(r, o, "address", m->address, sizeof m->address) < 0 ||
        mtr_api_f_str(r, o, "manufacturer", m->manufacturer, sizeof m->manufacturer) < 0 ||
        mtr_api_f_str(r, o, "model", m->model, sizeof m->model) < 0 ||
        mtr_api_f_str(r, o, "firmware", m->firmware, sizeof m->firmware) < 0 ||
        mtr_api_f_str(r, o, "tariff", m->tariff, sizeof m->tariff) < 0 ||
        mtr_api_f_time(r, o, "installed_at", &m->installed_at) < 0 ||
        mtr_api_f_str(r, o, "operator_id", m->operator_id, sizeof m->operator_id) < 0 ||
        mtr_api_f_str(r, o, "station_id", m->station_id, sizeof m->station_id) < 0 ||
        mtr_api_f_num(r, o, "base_kwh", 0, 1e9, &m->base_kwh) < 0)
        return -1;
    if (t >= 0)
        m->type = (enum mtr_meter_type)t;
    return 0;
}

static void write_meter_tiered(struct mtr_api_req *r, const struct mtr_meter *m)
{
    enum mtr_tier tier = MTR_TIER_UNKNOWN;
    double score = NAN;
    if (mtr_meter_tier(r->store, m->id, &tier, &score) != 0)
        tier = MTR_TIER_UNKNOWN;
    mtr_api_write_meter(&r->out, m, mtr_tier_name(tier));
}

/* Runs fn under the server's write lock inside one store transaction. */
static int locked_tx(struct mtr_api_req *r, int (*fn)(struct mtr_api_req *r, void *ctx), void *ctx)
{
    if (mtr_api_write_lock(r) < 0)
        return 1; /* timed out queueing: the server answers 503 */
    int rc = r->store->ops->begin(r->store);
    if (rc == 0) {
        rc = fn(r, ctx);
        if (rc == 0)
            rc = r->store->ops->commit(r->store);
        if (rc != 0)
            r->store->ops->rollback(r->store);
    }
    mtr_api_write_unlock(r);
    return rc;
}

struct meter_write {
    json_t *body;
    struct mtr_meter m;
    int created;
};

static int do_create(struct mtr_api_req *r, void *ctx)
{
    struct meter_write *mw = ctx;
    struct mtr_meter old;
    int64_t key;
    int rc = r->store->ops->meter_get(r->store, mw->m.id, &old, &key);
    if (rc == 0) {
        mtr_api_error(r, 409, "conflict", NULL, "meter %s already exists", mw->m.id);
        return 1;
    }
    if (rc != MTR_ENOTFOUND)
        return rc;
    return r->store->ops->meter_put(r->store, &mw->m);
}

int mtr_h_meter_create(struct mtr_api_req *r)
{
    struct meter_write mw = {0};
    int status = -1;
    if (!(mw.body = mtr_api_body_json(r)))
        return 0;
    mtr_meter_init(&mw.m);
    mw.m.status = MTR_METER_ACTIVE;
    if (meter_fields(r, mw.body, &mw.m, &status) < 0)
        goto out;
    if (mtr_api_f_str(r, mw.body, "meter_id", mw.m.id, sizeof mw.m.id) <= 0) {
        if (r->status < 400)
            mtr_api_error(r, 422, "invalid_field", "{\"field\":\"meter_id\"}",
                          "meter_id: required");
        goto out;
    }
    if (status >= 0)
        mw.m.status = (enum mtr_meter_status)status;
    int rc = locked_tx(r, do_create, &mw);
    if (rc < 0)
        mtr_api_fail(r, rc, "create meter");
    else if (rc == 0) {
        r->status = 201;
        mtr_api_write_meter(&r->out, &mw.m, "unknown");
    }
out:
    json_decref(mw.body);
    return 0;
}

int mtr_h_meter_get(struct mtr_api_req *r)
{
    struct mtr_meter m;
    int64_t key;
    int rc = r->store->ops->meter_get(r->store, r->pv[0], &m, &key);
    if (rc < 0)
        return mtr_api_fail(r, rc, "get meter");
    write_meter_tiered(r, &m);
    return 0;
}

static int do_update(struct mtr_api_req *r, void *ctx)
{
    struct meter_write *mw = ctx;
    int64_t key;
    int status = -1;
    int rc = r->store->ops->meter_get(r->store, r->pv[0], &mw->m, &key);
    if (rc < 0)
        return rc;
    enum mtr_meter_status from = mw->m.status;
    char id[MTR_ID_MAX];
    snprintf(id, sizeof id, "%s", mw->m.id);
    char body_id[MTR_ID_MAX] = "";
    if (meter_fields(r, mw->body, &mw->m, &status) < 0 ||
        mtr_api_f_str(r, mw->body, "meter_id", body_id, sizeof body_id) < 0)
        return 1;
    if (body_id[0] && strcmp(id, body_id) != 0) {
        mtr_api_error(r, 422, "invalid_field", "{\"field\":\"meter_id\"}",
                      "meter_id: cannot be changed (the path says %s)", id);
        return 1;
    }
    if (status >= 0 && (enum mtr_meter_status)status != from) {
        if (!mtr_meter_status_can_move(from, (enum mtr_meter_status)status)) {
            char det[160];
            snprintf(det, sizeof det, "{\"from\":\"%s\",\"to\":\"%s\"}",
                     mtr_meter_status_name(from),
                     mtr_meter_status_name((enum mtr_meter_status)status));
            mtr_api_error(r, 409, "invalid_transition", det,
                          "meter %s cannot move from %s to %s (see docs/domain.md)", id,
                          mtr_meter_status_name(from),
                          mtr_meter_status_name((enum mtr_meter_status)status));
            return 1;
        }
        mw->m.status = (enum mtr_meter_status)status;
    }
    return r->store->ops->meter_put(r->store, &mw->m);
}

int mtr_h_meter_update(struct mtr_api_req *r)
{
    struct meter_write mw = {0};
    if (!(mw.body = mtr_api_body_json(r)))
        return 0;
    int rc = locked_tx(r, do_update, &mw);
    if (rc < 0)
        mtr_api_fail(r, rc, "update meter");
    else if (rc == 0)
        write_meter_tiered(r, &mw.m);
    json_decref(mw.body);
    return 0;
}

static int do_decommission(struct mtr_api_req *r, void *ctx)
{
    struct meter_write *mw = ctx;
    int64_t key;
    int rc = r->store->ops->meter_get(r->store, r->pv[0], &mw->m, &key);
    if (rc < 0)
        return rc;
    if (!mtr_meter_status_can_move(mw->m.status, MTR_METER_DECOMMISSIONED)) {
        mtr_api_error(r, 409, "invalid_transition", NULL, "meter %s is already %s", mw->m.id,
                      mtr_meter_status_name(mw->m.status));
        return 1;
    }
    mw->m.status = MTR_METER_DECOMMISSIONED;
    return r->store->ops->meter_put(r->store, &mw->m);
}

int mtr_h_meter_delete(struct mtr_api_req *r)
{
    struct meter_write mw = {0};
    int rc = locked_tx(r, do_decommission, &mw);
    if (rc < 0)
        mtr_api_fail(r, rc, "decommission meter");
    else if (rc == 0)
        write_meter_tiered(r, &mw.m);
    return 0;
}

static int on_row(void *ctx, const struct mtr_meter *m, enum mtr_tier tier, double score,
                  double dist)
{
    struct mtr_jw *w = ctx;
    mtr_jw_obj(w);
    meter_keys(w, m, mtr_tier_name(tier));
    mtr_jw_knum(w, "quality_score", isnan(score) ? NAN : round(score * 10000) / 10000);
    if (!isnan(dist))
        mtr_jw_knum(w, "distance_km", round(dist * 1000) / 1000);
    mtr_jw_end_obj(w);
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_meter_list(struct mtr_api_req *r)
{
    struct mtr_meter_search q;
    memset(&q, 0, sizeof q);
    q.f.status = q.f.type = q.tier = -1;
    q.page = 1;
    q.page_size = 20;
    int v = -1;
    if (mtr_api_q_choice(r, "status", "pending,active,inactive,maintenance,faulty,decommissioned",
                         &q.f.status) < 0 ||
        mtr_api_q_choice(r, "type", "residential,commercial,industrial", &q.f.type) < 0 ||
        mtr_api_q_choice(r, "quality_tier", "unknown,poor,fair,good,excellent", &q.tier) < 0 ||
        mtr_api_q_int(r, "page", 1, 1000000000, &q.page) < 0 ||
        mtr_api_q_int(r, "page_size", 1, 1000, &q.page_size) < 0 ||
        mtr_api_q_choice(r, "sort",
                         "meter_id,created_at,updated_at,installed_at,status,manufacturer",
                         &q.f.sort) < 0 ||
        mtr_api_q_choice(r, "order", "asc,desc", &v) < 0)
        return 0;
    q.f.desc = v == 1;
    q.f.manufacturer = mtr_api_query(r, "manufacturer");
    q.f.operator_id = mtr_api_query(r, "grid_operator");
    q.f.station_id = mtr_api_query(r, "weather_station");
    int hl = mtr_api_q_num(r, "lat", -90, 90, &q.lat),
        hn = mtr_api_q_num(r, "lon", -180, 180, &q.lon),
        hr = mtr_api_q_num(r, "radius_km", 0, 20040, &q.radius_km);
    if (hl < 0 || hn < 0 || hr < 0)
        return 0;
    if (hl + hn + hr != 0 && hl + hn + hr != 3)
        return mtr_api_error(r, 400, "bad_parameter", NULL,
                             "lat, lon and radius_km go together (all three or none)");
    q.has_radius = hr == 1;
    const char *bbox = mtr_api_query(r, "bbox");
    if (bbox) {
        double b[4];
        char tail;
        if (sscanf(bbox, "%lf,%lf,%lf,%lf%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4 ||
            !(b[0] >= -180 && b[2] <= 180 && b[0] <= b[2] && b[1] >= -90 && b[3] <= 90 &&
              b[1] <= b[3]))
            return mtr_api_error(r, 400, "bad_parameter", NULL,
                                 "bbox must be min_lon,min_lat,max_lon,max_lat (WGS84 degrees), "
                                 "got '%s'",
                                 bbox);
        q.f.has_bbox = 1;
        q.f.min_lon = b[0];
        q.f.min_lat = b[1];
        q.f.max_lon = b[2];
        q.f.max_lat = b[3];
    }
    int64_t total = 0;
    mtr_jw_obj(&r->out);
    mtr_jw_key(&r->out, "items");
    mtr_jw_arr(&r->out);
    int rc = mtr_meter_search_run(r->store, &q, &total, on_row, &r->out);
    if (rc)
        return mtr_api_fail(r, rc, "meter search");
    mtr_jw_end_arr(&r->out);
    mtr_jw_kint(&r->out, "total", total);
    mtr_jw_kint(&r->out, "page", q.page);
    mtr_jw_kint(&r->out, "page_size", q.page_size);
    mtr_jw_kbool(&r->out, "has_next", q.page * q.page_size < total);
    mtr_jw_kbool(&r->out, "has_previous", q.page > 1);
    mtr_jw_end_obj(&r->out);
    return 0;
}

/* Resolves the path's meter to its key; 404 written when unknown. */
int mtr_api_meter_key(struct mtr_api_req *r, int64_t *key)
{
    int created = 0;
    int rc = r->store->ops->meter_key(r->store, r->pv[0], 0, key, &created);
    if (rc < 0) {
        mtr_api_fail(r, rc, "meter lookup");
        return -1;
    }
    return 0;
}

/* from/to from the query, else `period` (24h, 7d, 30d, default dflt) ending now. */
int mtr_api_range(struct mtr_api_req *r, int64_t *from, int64_t *to, int dflt_period)
{
    int period = dflt_period;
    static const int64_t secs[] = {86400, 7 * 86400, 30 * 86400};
    if (mtr_api_q_choice(r, "period", "24h,7d,30d", &period) < 0)
        return -1;
    int hf = mtr_api_q_time(r, "from", from), ht = mtr_api_q_time(r, "to", to);
    if (hf < 0 || ht < 0)
        return -1;
    if (!ht)
        *to = (int64_t)time(NULL);
    if (!hf)
        *from = *to - secs[period];
    if (*to <= *from) {
        mtr_api_error(r, 400, "bad_parameter", NULL, "'to' must be after 'from'");
        return -1;
    }
    return 0;
}

static void quality_total(struct mtr_jw *w, const struct mtr_quality_total *t)
{
    double score = mtr_quality_total_score(t);
    mtr_jw_kint(w, "days", t->days);
    mtr_jw_knum(w, "score", round(score * 10000) / 10000);
    mtr_jw_kstr(w, "tier", mtr_tier_name(mtr_tier_from_score(score)));
    mtr_jw_kint(w, "expected", t->expected);
    mtr_jw_kint(w, "received", t->received);
    mtr_jw_kint(w, "missing", t->missing);
    mtr_jw_kint(w, "estimated", t->estimated);
    mtr_jw_kint(w, "valid", t->valid);
    mtr_jw_kint(w, "flagged", t->flagged);
    mtr_jw_kint(w, "anomalous", t->anomalous);
    mtr_jw_knum(w, "completeness",
                t->expected
                    ? fmin(1.0, (double)(t->received + t->estimated * 0.5) / (double)t->expected)
                    : NAN);
}

void mtr_api_write_quality_total(struct mtr_jw *w, const struct mtr_quality_total *t)
{
    quality_total(w, t);
}

static int on_quality_day(void *ctx, const struct mtr_day_report *d)
{
    struct mtr_jw *w = ctx;
    mtr_api_write_day(w, d);
    return mtr_api_over(); /* stops the scan past the deadline */
}

void mtr_api_write_day(struct mtr_jw *w, const struct mtr_day_report *d)
{
    char date[24];
    mtr_jw_obj(w);
    mtr_time_format(d->day, date);
    date[10] = 0;
    mtr_jw_kstr(w, "date", date);
    mtr_jw_knum(w, "kwh", d->kwh);
    mtr_jw_knum(w, "peak_kwh", d->peak_kwh);
    mtr_jw_knum(w, "offpeak_kwh", d->offpeak_kwh);
    mtr_jw_knum(w, "min_kwh", d->min_kwh);
    mtr_jw_knum(w, "max_kwh", d->max_kwh);
    mtr_jw_knum(w, "mean_kwh", d->mean_kwh);
    mtr_jw_kint(w, "expected", d->q.expected);
    mtr_jw_kint(w, "received", d->q.received);
    mtr_jw_kint(w, "missing", d->q.missing);
    mtr_jw_kint(w, "estimated", d->q.estimated);
    mtr_jw_kint(w, "flagged", d->q.flagged);
    mtr_jw_kint(w, "anomalous", d->q.anomalous);
    mtr_jw_knum(w, "completeness", d->q.completeness);
    mtr_jw_knum(w, "validity", d->q.validity);
    mtr_jw_knum(w, "consistency", d->q.consistency);
    mtr_jw_knum(w, "timeliness", d->q.timeliness);
    mtr_jw_knum(w, "score", d->q.score);
    mtr_jw_kstr(w, "tier", mtr_tier_name(d->tier));
    mtr_jw_end_obj(w);
}

int mtr_h_meter_quality(struct mtr_api_req *r)
{
    int64_t key, from = 0, to = 0;
    int days = 0;
    if (mtr_api_meter_key(r, &key) < 0)
        return 0;
    int hf = mtr_api_q_time(r, "from", &from), ht = mtr_api_q_time(r, "to", &to);
    if (hf < 0 || ht < 0 || mtr_api_q_bool(r, "days", &days) < 0)
        return 0;
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.entity_id = r->pv[0];
    q.from = from;
    q.has_from = hf;
    q.to = to;
    q.has_to = ht;
    struct mtr_quality_total fleet;
    struct mtr_report_sink sink = {.day = days ? on_quality_day : NULL, .ctx = &r->out};
    mtr_jw_obj(&r->out);
    mtr_jw_kstr(&r->out, "meter_id", r->pv[0]);
    if (days) {
        mtr_jw_key(&r->out, "daily");
        mtr_jw_arr(&r->out);
    }
    int rc = mtr_report_days(r->store, &q, &sink, &fleet);
    if (rc)
        return mtr_api_fail(r, rc, "quality report");
    if (days)
        mtr_jw_end_arr(&r->out);
    quality_total(&r->out, &fleet);
    mtr_jw_end_obj(&r->out);
    return 0;
}

int mtr_h_meter_analytics(struct mtr_api_req *r)
{
    int64_t key, from, to;
    if (mtr_api_meter_key(r, &key) < 0 || mtr_api_range(r, &from, &to, 0) < 0)
        return 0;
    if (to - from > 366 * 86400)
        return mtr_api_error(r, 400, "bad_parameter", NULL, "the range is limited to 366 days");
    struct mtr_meter_analytics a;
    int rc = mtr_meter_analytics_run(r->store, key, from, to, &a);
    if (rc)
        return mtr_api_fail(r, rc, "meter analytics");
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "meter_id", r->pv[0]);
    mtr_jw_key(w, "analysis_period");
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_end_obj(w);
    mtr_jw_kint(w, "total_readings", a.total_readings);
    mtr_jw_kint(w, "measured_readings", a.measured);
    mtr_jw_kint(w, "estimated_readings", a.estimated);
    mtr_jw_kint(w, "flagged_readings", a.flagged);
    mtr_jw_knum(w, "avg_voltage", round(a.avg_voltage * 100) / 100);
    mtr_jw_knum(w, "avg_current", round(a.avg_current * 100) / 100);
    mtr_jw_knum(w, "avg_power_factor", round(a.avg_power_factor * 1000) / 1000);
    mtr_jw_knum(w, "avg_frequency", round(a.avg_frequency * 100) / 100);
    mtr_jw_knum(w, "total_energy_consumed", round(a.total_kwh * 1e6) / 1e6);
    mtr_jw_knum(w, "avg_quality_score", round(a.avg_quality_score * 10000) / 10000);
    mtr_jw_kint(w, "anomaly_count", a.anomalous);
    mtr_jw_knum(w, "anomaly_rate", round(a.anomaly_rate * 100) / 100);
    mtr_jw_knum(w, "peak_consumption", a.peak_kwh);
    mtr_jw_ktime(w, "peak_consumption_time", isnan(a.peak_kwh) ? 0 : a.peak_ts);
    mtr_jw_end_obj(w);
    return 0;
}
