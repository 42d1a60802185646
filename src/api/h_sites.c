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
    pthread_mutex_lock(&r->srv->write_mu);
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
    pthread_mutex_unlock(&r->srv->write_mu);
    r->status = path_id ? 200 : 201;
    mtr_api_write_operator(&r->out, &o);
    json_decref(b);
    return 0;
fail:
    if (rc < 0)
        mtr_api_fail(r, rc, "grid operator");
done:
    s->ops->rollback(s);
    pthread_mutex_unlock(&r->srv->write_mu);
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
    pthread_mutex_lock(&r->srv->write_mu);
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
    pthread_mutex_unlock(&r->srv->write_mu);
    r->status = path_id ? 200 : 201;
    mtr_api_write_station(&r->out, &w);
    json_decref(b);
    return 0;
fail:
    if (rc < 0)
        mtr_api_fail(r, rc, "weather station");
done:
    s->ops->rollback(s);
    pthread_mutex_unlock(&r->srv->write_mu);
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
