/*
 * h_sites.c - grid operators and weather stations: create, get, update, and their batch routes
 * (grid status, weather observations) through the same ingest use case as the CLI.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/body.h"
#include "api/handlers.h"
#include "api/server.h"

void mtr_api_write_operator(struct mtr_jw *w, const struct mtr_operator *o)
{
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "operator_id", o->id);
    mtr_jw_kstr(w, "name", o->name);
    mtr_jw_kstr(w, "type", o->type);
    mtr_jw_kstr(w, "region", o->region);
    mtr_jw_knum(w, "capacity_mw", o->capacity_mw);
    mtr_jw_knum(w, "voltage_kv", o->voltage_kv);
    mtr_jw_knum(w, "latitude", o->latitude);
    mtr_jw_knum(w, "longitude", o->longitude);
    mtr_jw_kstr(w, "status", mtr_site_status_name(o->status));
    mtr_jw_end_obj(w);
}

void mtr_api_write_station(struct mtr_jw *w, const struct mtr_station *s)
{
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "station_id", s->id);
    mtr_jw_kstr(w, "name", s->name);
    mtr_jw_kstr(w, "type", s->type);
    mtr_jw_knum(w, "latitude", s->latitude);
    mtr_jw_knum(w, "longitude", s->longitude);
    mtr_jw_knum(w, "elevation_m", s->elevation_m);
    mtr_jw_kstr(w, "status", mtr_site_status_name(s->status));
    mtr_jw_end_obj(w);
}

static int site_status_parse(const char *s)
{
    return mtr_site_status_parse(s);
}

static int operator_fields(struct mtr_api_req *r, json_t *b, struct mtr_operator *o)
{
    int st = -1;
    char id[MTR_ID_MAX] = "";
    if (mtr_api_f_known(r, b,
                        "operator_id,name,type,region,capacity_mw,voltage_kv,latitude,longitude,"
                        "status") < 0 ||
        mtr_api_f_str(r, b, "operator_id", id, sizeof id) < 0 ||
        mtr_api_f_str(r, b, "name", o->name, sizeof o->name) < 0 ||
        mtr_api_f_str(r, b, "type", o->type, sizeof o->type) < 0 ||
        mtr_api_f_str(r, b, "region", o->region, sizeof o->region) < 0 ||
        mtr_api_f_num(r, b, "capacity_mw", 0, 1e7, &o->capacity_mw) < 0 ||
        mtr_api_f_num(r, b, "voltage_kv", 0, 1200, &o->voltage_kv) < 0 ||
        mtr_api_f_num(r, b, "latitude", -90, 90, &o->latitude) < 0 ||
        mtr_api_f_num(r, b, "longitude", -180, 180, &o->longitude) < 0 ||
        mtr_api_f_enum(r, b, "status", site_status_parse, "active, inactive, maintenance", &st) < 0)
        return -1;
    if (st >= 0)
        o->status = (enum mtr_site_status)st;
    if (id[0] && o->id[0] && strcmp(id, o->id) != 0) {
        mtr_api_error(r, 422, "invalid_field", "{\"field\":\"operator_id\"}",
                      "operator_id: cannot be changed (the path says %s)", o->id);
        return -1;
    }
    if (!o->id[0]) {
        if (!id[0]) {
            mtr_api_error(r, 422, "invalid_field", "{\"field\":\"operator_id\"}",
                          "operator_id: required");
            return -1;
        }
        memcpy(o->id, id, sizeof id);
    }
    return 0;
}

static int station_fields(struct mtr_api_req *r, json_t *b, struct mtr_station *s)
{
    int st = -1;
    char id[MTR_ID_MAX] = "";
    if (mtr_api_f_known(r, b, "station_id,name,type,latitude,longitude,elevation_m,status") < 0 ||
        mtr_api_f_str(r, b, "station_id", id, sizeof id) < 0 ||
        mtr_api_f_str(r, b, "name", s->name, sizeof s->name) < 0 ||
        mtr_api_f_str(r, b, "type", s->type, sizeof s->type) < 0 ||
        mtr_api_f_num(r, b, "latitude", -90, 90, &s->latitude) < 0 ||
        mtr_api_f_num(r, b, "longitude", -180, 180, &s->longitude) < 0 ||
        mtr_api_f_num(r, b, "elevation_m", -500, 9000, &s->elevation_m) < 0 ||
        mtr_api_f_enum(r, b, "status", site_status_parse, "active, inactive, maintenance", &st) < 0)
        return -1;
    if (st >= 0)
        s->status = (enum mtr_site_status)st;
    if (id[0] && s->id[0] && strcmp(id, s->id) != 0) {
        mtr_api_error(r, 422, "invalid_field", "{\"field\":\"station_id\"}",
                      "station_id: cannot be changed (the path says %s)", s->id);
        return -1;
    }
    if (!s->id[0]) {
        if (!id[0]) {
            mtr_api_error(r, 422, "invalid_field", "{\"field\":\"station_id\"}",
                          "station_id: required");
            return -1;
        }
        memcpy(s->id, id, sizeof id);
    }
    return 0;
}

/* create (path_id NULL) or update of an operator, under the write lock in one transaction */
static int operator_write(struct mtr_api_req *r, const char *path_id)
{
    json_t *b = mtr_api_body_json(r);
    if (!b)
        return 0;
    struct mtr_operator o, old;
    memset(&o, 0, sizeof o);
    o.capacity_mw = o.voltage_kv = o.latitude = o.longitude = NAN;
    struct mtr_store *s = r->store;
    if (mtr_api_write_lock(r) < 0) { /* timed out queueing: the server answers 503 */
        json_decref(b);
        return 0;
    }
    int rc = s->ops->begin(s);
    if (rc)
        goto fail;
    if (path_id) {
        if ((rc = s->ops->operator_get(s, path_id, &o)) < 0)
            goto fail;
    }
    if (operator_fields(r, b, &o) < 0)
        goto done;
    if (!path_id && (rc = s->ops->operator_get(s, o.id, &old)) != MTR_ENOTFOUND) {
        if (rc == 0)
            mtr_api_error(r, 409, "conflict", NULL, "grid operator %s already exists", o.id);
        goto fail;
    }
    if ((rc = s->ops->operator_put(s, &o)) < 0 || (rc = s->ops->commit(s)) < 0)
        goto fail;
    mtr_api_write_unlock(r);
    r->status = path_id ? 200 : 201;
    mtr_api_write_operator(&r->out, &o);
    json_decref(b);
    return 0;
fail:
    if (rc < 0)
        mtr_api_fail(r, rc, "grid operator");
done:
    s->ops->rollback(s);
    mtr_api_write_unlock(r);
    json_decref(b);
    return 0;
}

static int station_write(struct mtr_api_req *r, const char *path_id)
{
    json_t *b = mtr_api_body_json(r);
    if (!b)
        return 0;
    struct mtr_station w, old;
    memset(&w, 0, sizeof w);
    w.latitude = w.longitude = w.elevation_m = NAN;
    struct mtr_store *s = r->store;
    if (mtr_api_write_lock(r) < 0) { /* timed out queueing: the server answers 503 */
        json_decref(b);
        return 0;
    }
    int rc = s->ops->begin(s);
    if (rc)
        goto fail;
    if (path_id) {
        if ((rc = s->ops->station_get(s, path_id, &w)) < 0)
            goto fail;
    }
    if (station_fields(r, b, &w) < 0)
        goto done;
    if (!path_id && (rc = s->ops->station_get(s, w.id, &old)) != MTR_ENOTFOUND) {
        if (rc == 0)
            mtr_api_error(r, 409, "conflict", NULL, "weather station %s already exists", w.id);
        goto fail;
    }
    if ((rc = s->ops->station_put(s, &w)) < 0 || (rc = s->ops->commit(s)) < 0)
        goto fail;
    mtr_api_write_unlock(r);
    r->status = path_id ? 200 : 201;
    mtr_api_write_station(&r->out, &w);
    json_decref(b);
    return 0;
fail:
    if (rc < 0)
        mtr_api_fail(r, rc, "weather station");
done:
    s->ops->rollback(s);
    mtr_api_write_unlock(r);
    json_decref(b);
    return 0;
}

int mtr_h_operator_create(struct mtr_api_req *r)
{
    return operator_write(r, NULL);
}

int mtr_h_operator_update(struct mtr_api_req *r)
{
    return operator_write(r, r->pv[0]);
}

int mtr_h_operator_get(struct mtr_api_req *r)
{
    struct mtr_operator o;
    int rc = r->store->ops->operator_get(r->store, r->pv[0], &o);
    if (rc)
        return mtr_api_fail(r, rc, "grid operator");
    mtr_api_write_operator(&r->out, &o);
    return 0;
}

int mtr_h_operator_status_post(struct mtr_api_req *r)
{
    struct mtr_operator o;
    int rc = r->store->ops->operator_get(r->store, r->pv[0], &o);
    if (rc)
        return mtr_api_fail(r, rc, "grid operator");
    return mtr_api_ingest(r, MTR_KIND_GRID, r->pv[0]);
}

int mtr_h_station_create(struct mtr_api_req *r)
{
    return station_write(r, NULL);
}

int mtr_h_station_update(struct mtr_api_req *r)
{
    return station_write(r, r->pv[0]);
}

int mtr_h_station_get(struct mtr_api_req *r)
{
    struct mtr_station s;
    int rc = r->store->ops->station_get(r->store, r->pv[0], &s);
    if (rc)
        return mtr_api_fail(r, rc, "weather station");
    mtr_api_write_station(&r->out, &s);
    return 0;
}

int mtr_h_station_obs_post(struct mtr_api_req *r)
{
    struct mtr_station s;
    int rc = r->store->ops->station_get(r->store, r->pv[0], &s);
    if (rc)
        return mtr_api_fail(r, rc, "weather station");
    return mtr_api_ingest(r, MTR_KIND_WEATHER, r->pv[0]);
}

/* ---- lists (paged here: the lists are small and the status filter is not in the store) ---- */

struct site_list {
    struct mtr_jw *w;
    int status;
    int64_t first, last, matched;
    int op;
};

static int on_op(void *ctx, const struct mtr_operator *o)
{
    struct site_list *l = ctx;
    if (l->status >= 0 && (int)o->status != l->status)
        return 0;
    int64_t i = l->matched++;
    if (i >= l->first && i < l->last)
        mtr_api_write_operator(l->w, o);
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int on_station(void *ctx, const struct mtr_station *s)
{
    struct site_list *l = ctx;
    if (l->status >= 0 && (int)s->status != l->status)
        return 0;
    int64_t i = l->matched++;
    if (i >= l->first && i < l->last)
        mtr_api_write_station(l->w, s);
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int site_list(struct mtr_api_req *r, int op)
{
    int64_t page = 1, size = 20;
    struct site_list l = {.w = &r->out, .status = -1, .op = op};
    if (mtr_api_q_choice(r, "status", "active,inactive,maintenance", &l.status) < 0 ||
        mtr_api_q_int(r, "page", 1, 1000000000, &page) < 0 ||
        mtr_api_q_int(r, "page_size", 1, 1000, &size) < 0)
        return 0;
    l.first = (page - 1) * size;
    l.last = l.first + size;
    mtr_jw_obj(&r->out);
    mtr_jw_key(&r->out, "items");
    mtr_jw_arr(&r->out);
    int rc = op ? r->store->ops->operator_list(r->store, NULL, on_op, &l)
                : r->store->ops->station_list(r->store, NULL, on_station, &l);
    if (rc)
        return mtr_api_fail(r, rc, op ? "grid operators" : "weather stations");
    mtr_jw_end_arr(&r->out);
    mtr_jw_kint(&r->out, "total", l.matched);
    mtr_jw_kint(&r->out, "page", page);
    mtr_jw_kint(&r->out, "page_size", size);
    mtr_jw_kbool(&r->out, "has_next", page * size < l.matched);
    mtr_jw_kbool(&r->out, "has_previous", page > 1);
    mtr_jw_end_obj(&r->out);
    return 0;
}

int mtr_h_operator_list(struct mtr_api_req *r)
{
    return site_list(r, 1);
}

int mtr_h_station_list(struct mtr_api_req *r)
{
    return site_list(r, 0);
}

/* ---- series ---- */

static void write_flags(struct mtr_jw *w, uint64_t flags)
{
    mtr_jw_key(w, "flags");
    mtr_jw_arr(w);
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (flags & mtr_rule_bit(i))
            mtr_jw_str(w, mtr_rule(i)->name);
    mtr_jw_end_arr(w);
}

static int on_grid_row(void *ctx, const struct mtr_grid_row *g)
{
    struct mtr_jw *w = ctx;
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "timestamp", g->g.ts);
    mtr_jw_knum(w, "frequency_hz", g->g.frequency_hz);
    mtr_jw_knum(w, "voltage_kv", g->g.voltage_kv);
    mtr_jw_knum(w, "load_mw", g->g.load_mw);
    mtr_jw_knum(w, "capacity_mw", g->g.capacity_mw);
    mtr_jw_knum(w, "stability", g->g.stability);
    mtr_jw_knum(w, "score", g->score);
    write_flags(w, g->flags);
    mtr_jw_end_obj(w);
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int on_weather_row(void *ctx, const struct mtr_weather_row *o)
{
    struct mtr_jw *w = ctx;
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "timestamp", o->w.ts);
    mtr_jw_knum(w, "temperature_c", o->w.temperature_c);
    mtr_jw_knum(w, "humidity_pct", o->w.humidity_pct);
    mtr_jw_knum(w, "pressure_hpa", o->w.pressure_hpa);
    mtr_jw_knum(w, "wind_speed_ms", o->w.wind_speed_ms);
    mtr_jw_knum(w, "wind_direction_deg", o->w.wind_direction_deg);
    mtr_jw_knum(w, "precipitation_mm", o->w.precipitation_mm);
    mtr_jw_knum(w, "cloud_cover_pct", o->w.cloud_cover_pct);
    mtr_jw_knum(w, "score", o->score);
    write_flags(w, o->flags);
    mtr_jw_end_obj(w);
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int series(struct mtr_api_req *r, int grid)
{
    int64_t from, to, page = 1, size = 100;
    if (grid) {
        struct mtr_operator o;
        int rc = r->store->ops->operator_get(r->store, r->pv[0], &o);
        if (rc)
            return mtr_api_fail(r, rc, "grid operator");
    } else {
        struct mtr_station s;
        int rc = r->store->ops->station_get(r->store, r->pv[0], &s);
        if (rc)
            return mtr_api_fail(r, rc, "weather station");
    }
    if (mtr_api_range(r, &from, &to, 0) < 0 || mtr_api_q_int(r, "page", 1, 1000000000, &page) < 0 ||
        mtr_api_q_int(r, "page_size", 1, 1000, &size) < 0)
        return 0;
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.entity_id = r->pv[0];
    q.from = from;
    q.has_from = 1;
    q.to = to;
    q.has_to = 1;
    q.limit = size;
    q.offset = (page - 1) * size;
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, grid ? "operator_id" : "station_id", r->pv[0]);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_key(w, "items");
    mtr_jw_arr(w);
    int rc = grid ? r->store->ops->grid_rows(r->store, &q, on_grid_row, w)
                  : r->store->ops->weather_rows(r->store, &q, on_weather_row, w);
    if (rc)
        return mtr_api_fail(r, rc, grid ? "grid status" : "weather observations");
    mtr_jw_end_arr(w);
    mtr_jw_kint(w, "page", page);
    mtr_jw_kint(w, "page_size", size);
    mtr_jw_end_obj(w);
    return 0;
}

int mtr_h_operator_status_get(struct mtr_api_req *r)
{
    return series(r, 1);
}

int mtr_h_station_obs_get(struct mtr_api_req *r)
{
    return series(r, 0);
}

/* ---- analytics: one pass over the range's records (plausible values only) ---- */

struct stat1 {
    double sum, min, max;
    int64_t n, min_ts, max_ts;
};

static void stat_add(struct stat1 *s, double v, int64_t ts)
{
    if (isnan(v))
        return;
    if (!s->n || v < s->min) {
        s->min = v;
        s->min_ts = ts;
    }
    if (!s->n || v > s->max) {
        s->max = v;
        s->max_ts = ts;
    }
    s->sum += v;
    s->n++;
}

static void stat_write(struct mtr_jw *w, const char *name, const struct stat1 *s, int extremes)
{
    char k[64];
    snprintf(k, sizeof k, "avg_%s", name);
    mtr_jw_knum(w, k, s->n ? s->sum / (double)s->n : NAN);
    if (extremes) {
        snprintf(k, sizeof k, "min_%s", name);
        mtr_jw_knum(w, k, s->n ? s->min : NAN);
        snprintf(k, sizeof k, "max_%s", name);
        mtr_jw_knum(w, k, s->n ? s->max : NAN);
    }
}

struct site_an {
    int64_t total, flagged;
    double score_sum;
    struct stat1 a, b, c, d, e, f, g;
};

static int on_grid_an(void *ctx, const struct mtr_grid_row *g)
{
    struct site_an *x = ctx;
    x->total++;
    x->score_sum += g->score;
    if (g->flags) {
        x->flagged++;
        return 0;
    }
    stat_add(&x->a, g->g.frequency_hz, g->g.ts);
    stat_add(&x->b, g->g.voltage_kv, g->g.ts);
    stat_add(&x->c, g->g.load_mw, g->g.ts);
    stat_add(&x->d, g->g.stability, g->g.ts);
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int on_weather_an(void *ctx, const struct mtr_weather_row *o)
{
    struct site_an *x = ctx;
    x->total++;
    x->score_sum += o->score;
    if (o->flags) {
        x->flagged++;
        return 0;
    }
    stat_add(&x->a, o->w.temperature_c, o->w.ts);
    stat_add(&x->b, o->w.humidity_pct, o->w.ts);
    stat_add(&x->c, o->w.pressure_hpa, o->w.ts);
    stat_add(&x->d, o->w.wind_speed_ms, o->w.ts);
    stat_add(&x->e, o->w.cloud_cover_pct, o->w.ts);
    stat_add(&x->f, o->w.precipitation_mm, o->w.ts);
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int count_alerts(void *ctx, const struct mtr_alert *a)
{
    ++*(int64_t *)ctx;
    return mtr_api_over(); /* stops the scan past the deadline */
}

static int site_analytics(struct mtr_api_req *r, int grid)
{
    int64_t from, to, alerts = 0;
    if (grid) {
        struct mtr_operator o;
        int rc = r->store->ops->operator_get(r->store, r->pv[0], &o);
        if (rc)
            return mtr_api_fail(r, rc, "grid operator");
    } else {
        struct mtr_station s;
        int rc = r->store->ops->station_get(r->store, r->pv[0], &s);
        if (rc)
            return mtr_api_fail(r, rc, "weather station");
    }
    if (mtr_api_range(r, &from, &to, 0) < 0)
        return 0;
    if (to - from > 366 * 86400)
        return mtr_api_error(r, 400, "bad_parameter", NULL, "the range is limited to 366 days");
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.entity_id = r->pv[0];
    q.from = from;
    q.has_from = 1;
    q.to = to;
    q.has_to = 1;
    struct site_an x;
    memset(&x, 0, sizeof x);
    int rc = grid ? r->store->ops->grid_rows(r->store, &q, on_grid_an, &x)
                  : r->store->ops->weather_rows(r->store, &q, on_weather_an, &x);
    if (rc)
        return mtr_api_fail(r, rc, "analytics");
    q.kind = grid ? MTR_KIND_GRID : MTR_KIND_WEATHER;
    if ((rc = r->store->ops->alert_rows(r->store, &q, count_alerts, &alerts)) != 0)
        return mtr_api_fail(r, rc, "analytics");
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, grid ? "operator_id" : "station_id", r->pv[0]);
    mtr_jw_key(w, "analysis_period");
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_end_obj(w);
    mtr_jw_kint(w, grid ? "total_statuses" : "total_observations", x.total);
    mtr_jw_kint(w, "flagged", x.flagged);
    mtr_jw_knum(w, "avg_quality_score", x.total ? x.score_sum / (double)x.total : NAN);
    mtr_jw_kint(w, "anomaly_count", alerts);
    /* alerts per record, in percent, like the meters' anomaly_rate */
    mtr_jw_knum(w, "anomaly_rate",
                x.total ? round(10000.0 * (double)alerts / (double)x.total) / 100 : 0);
    if (grid) {
        stat_write(w, "frequency_hz", &x.a, 1);
        stat_write(w, "voltage_kv", &x.b, 0);
        stat_write(w, "load_mw", &x.c, 0);
        stat_write(w, "stability", &x.d, 0);
        mtr_jw_knum(w, "peak_load_mw", x.c.n ? x.c.max : NAN);
        mtr_jw_ktime(w, "peak_load_time", x.c.n ? x.c.max_ts : 0);
        mtr_jw_knum(w, "min_stability", x.d.n ? x.d.min : NAN);
        mtr_jw_ktime(w, "min_stability_time", x.d.n ? x.d.min_ts : 0);
    } else {
        stat_write(w, "temperature_c", &x.a, 1);
        stat_write(w, "humidity_pct", &x.b, 0);
        stat_write(w, "pressure_hpa", &x.c, 0);
        stat_write(w, "wind_speed_ms", &x.d, 1);
        stat_write(w, "cloud_cover_pct", &x.e, 0);
        mtr_jw_knum(w, "total_precipitation_mm", x.f.sum);
    }
    mtr_jw_end_obj(w);
    return 0;
}

int mtr_h_operator_analytics(struct mtr_api_req *r)
{
    return site_analytics(r, 1);
}

int mtr_h_station_analytics(struct mtr_api_req *r)
{
    return site_analytics(r, 0);
}
