/*
 * h_system.c - the operational routes: /health (queries the store), /ready, /metrics
 * (Prometheus), /openapi.json and /docs (generated from the route table), API keys and
 * maintenance for admins, and the quarantine listing.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "api/body.h"
#include "api/handlers.h"
#include "api/server.h"

#define METRIFY_API_VERSION "1.0.0"

static int one_meter(void *ctx, const struct mtr_meter *m)
{
    return 0;
}

int mtr_h_health(struct mtr_api_req *r)
{
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.limit = 1;
    int64_t t0 = mtr_api_now_ns();
    /* a real query through the same handle the other routes use */
    int rc = r->store->ops->meter_list(r->store, &q, one_meter, NULL);
    double ms = (double)(mtr_api_now_ns() - t0) / 1e6;
    struct mtr_jw *w = &r->out;
    r->status = rc ? 503 : 200;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "status", rc ? "unhealthy" : "ok");
    mtr_jw_key(w, "store");
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "adapter", r->store->ops->name);
    mtr_jw_kstr(w, "status", rc ? "error" : "ok");
    if (rc)
        mtr_jw_kstr(w, "error", r->store->err.msg);
    mtr_jw_knum(w, "latency_ms", ms);
    mtr_jw_end_obj(w);
    mtr_jw_kstr(w, "version", METRIFY_API_VERSION);
    mtr_jw_kint(w, "uptime_s", (int64_t)time(NULL) - r->srv->started_at);
    mtr_jw_end_obj(w);
    return 0;
}

int mtr_h_ready(struct mtr_api_req *r)
{
    int draining = __atomic_load_n(&r->srv->draining, __ATOMIC_RELAXED);
    r->status = draining ? 503 : 200;
    mtr_jw_obj(&r->out);
    mtr_jw_kbool(&r->out, "ready", !draining);
    mtr_jw_end_obj(&r->out);
    return 0;
}

static int count_alert(void *ctx, const struct mtr_alert *a)
{
    uint64_t *by = ctx;
    if ((unsigned)a->type < MTR_RULE_COUNT)
        by[a->type]++;
    return 0;
}

/* Computes the store figures of /metrics: row counts, size, anomalies by type (whole-table scans,
 * hence cached by the caller). */
static void store_figures(struct mtr_api_req *r, struct mtr_api_store_fig *f)
{
    struct mtr_query q;
    memset(f, 0, sizeof *f);
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    f->have_stats = r->store->ops->stats(r->store, &f->st) == 0;
    f->have_alerts = r->store->ops->alert_rows(r->store, &q, count_alert, f->alerts_by_type) == 0;
    f->at_ns = mtr_api_now_ns();
}

int mtr_h_metrics(struct mtr_api_req *r)
{
    struct mtr_api_server *srv = r->srv;
    struct mtr_api_store_fig f;
    int64_t now = mtr_api_now_ns(), max_age = (int64_t)(srv->cfg.metrics_cache_s * 1e9);
    pthread_mutex_lock(&srv->fig_mu);
    f = srv->fig;
    /* stale figures are recomputed by one request; the others serve the last ones meanwhile */
    int compute = !f.at_ns || (now - f.at_ns >= max_age && !srv->fig_busy);
    if (compute)
        srv->fig_busy++;
    pthread_mutex_unlock(&srv->fig_mu);
    if (compute) {
        store_figures(r, &f);
        pthread_mutex_lock(&srv->fig_mu);
        if (f.at_ns > srv->fig.at_ns)
            srv->fig = f;
        srv->fig_busy--;
        pthread_mutex_unlock(&srv->fig_mu);
    }
    mtr_api_metrics_text(&srv->metrics, f.have_stats ? &f.st : NULL,
                         f.have_alerts ? f.alerts_by_type : NULL,
                         (double)(mtr_api_now_ns() - f.at_ns) / 1e9, &r->out);
    r->resp_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

int mtr_h_openapi(struct mtr_api_req *r)
{
    mtr_api_openapi(&r->out);
    return 0;
}

int mtr_h_docs(struct mtr_api_req *r)
{
    mtr_api_docs_html(&r->out);
    r->resp_type = "text/html; charset=utf-8";
    return 0;
}

int mtr_h_root(struct mtr_api_req *r)
{
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "service", "metrify");
    mtr_jw_kstr(w, "version", METRIFY_API_VERSION);
    mtr_jw_kstr(w, "docs", "/docs");
    mtr_jw_kstr(w, "openapi", "/openapi.json");
    mtr_jw_kstr(w, "health", "/health");
    mtr_jw_end_obj(w);
    return 0;
}

/* ---- API keys (admin) ---- */

static void write_key(struct mtr_jw *w, const struct mtr_apikey *k)
{
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "key_id", k->id);
    mtr_jw_kstr(w, "name", k->name);
    mtr_jw_kstr(w, "role", mtr_api_role_name(k->role));
    mtr_jw_ktime(w, "created_at", k->created_at);
    mtr_jw_ktime(w, "revoked_at", k->revoked_at);
    mtr_jw_end_obj(w);
}

static int on_key(void *ctx, const struct mtr_apikey *k)
{
    write_key(ctx, k);
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_keys_list(struct mtr_api_req *r)
{
    mtr_jw_obj(&r->out);
    mtr_jw_key(&r->out, "items");
    mtr_jw_arr(&r->out);
    int rc = r->store->ops->apikey_list(r->store, on_key, &r->out);
    if (rc)
        return mtr_api_fail(r, rc, "list keys");
    mtr_jw_end_arr(&r->out);
    mtr_jw_end_obj(&r->out);
    return 0;
}

static int role_parse(const char *s)
{
    return mtr_api_role_parse(s);
}

int mtr_h_keys_create(struct mtr_api_req *r)
{
    json_t *b = mtr_api_body_json(r);
    if (!b)
        return 0;
    struct mtr_apikey k;
    char key[MTR_API_KEY_LEN];
    int role = -1;
    memset(&k, 0, sizeof k);
    if (mtr_api_f_known(r, b, "role,name") < 0 ||
        mtr_api_f_enum(r, b, "role", role_parse, "viewer, operator, admin", &role) < 0 ||
        mtr_api_f_str(r, b, "name", k.name, sizeof k.name) < 0)
        goto out;
    if (role < 0) {
        mtr_api_error(r, 422, "invalid_field", "{\"field\":\"role\"}", "role: required");
        goto out;
    }
    if (mtr_api_key_generate(key, k.id) < 0) {
        mtr_api_error(r, 500, "internal", NULL, "no randomness for a key");
        goto out;
    }
    mtr_api_sha256_hex(key, strlen(key), k.hash);
    k.role = (enum mtr_role)role;
    k.created_at = (int64_t)time(NULL);
    if (mtr_api_write_lock(r) < 0)
        goto out; /* timed out queueing: the server answers 503 */
    int rc = r->store->ops->apikey_put(r->store, &k);
    mtr_api_write_unlock(r);
    if (rc) {
        mtr_api_fail(r, rc, "create key");
        goto out;
    }
    r->status = 201;
    mtr_jw_obj(&r->out);
    mtr_jw_kstr(&r->out, "key", key); /* shown once; only its hash is stored */
    mtr_jw_kstr(&r->out, "key_id", k.id);
    mtr_jw_kstr(&r->out, "role", mtr_api_role_name(k.role));
    mtr_jw_kstr(&r->out, "name", k.name);
    mtr_jw_end_obj(&r->out);
out:
    json_decref(b);
    return 0;
}

int mtr_h_keys_revoke(struct mtr_api_req *r)
{
    if (mtr_api_write_lock(r) < 0)
        return 0; /* timed out queueing: the server answers 503 */
    int rc = r->store->ops->apikey_revoke(r->store, r->pv[0], (int64_t)time(NULL));
    mtr_api_write_unlock(r);
    if (rc)
        return mtr_api_fail(r, rc, "revoke key");
    r->status = 204;
    return 0;
}

static int on_problem(void *ctx, const char *problem)
{
    struct mtr_jw *w = ctx;
    mtr_jw_str(w, problem);
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_maint_check(struct mtr_api_req *r)
{
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_key(w, "problems");
    mtr_jw_arr(w);
    int rc = r->store->ops->check(r->store, on_problem, w);
    mtr_jw_end_arr(w);
    mtr_jw_kbool(w, "ok", rc == 0);
    mtr_jw_end_obj(w);
    if (rc && rc != MTR_ESTORE)
        return mtr_api_fail(r, rc, "check");
    return 0;
}

/* ---- quarantine ---- */

static int on_quarantined(void *ctx, const struct mtr_quarantine *q)
{
    struct mtr_jw *w = ctx;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "kind", mtr_kind_name(q->kind));
    mtr_jw_kstr(w, "source", q->source);
    mtr_jw_kint(w, "line", (int64_t)q->line);
    mtr_jw_kstr(w, "rule", mtr_rule(q->rule)->name);
    mtr_jw_kstr(w, "field", q->field);
    mtr_jw_kstr(w, "message", q->message);
    mtr_jw_kstr(w, "raw", q->raw);
    mtr_jw_ktime(w, "at", q->at);
    mtr_jw_end_obj(w);
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_quarantine(struct mtr_api_req *r)
{
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    int kind = -1;
    int64_t page = 1, size = 100;
    int hf = mtr_api_q_time(r, "from", &q.from), ht = mtr_api_q_time(r, "to", &q.to);
    if (hf < 0 || ht < 0 || mtr_api_q_choice(r, "kind", "readings,grid,weather", &kind) < 0 ||
        mtr_api_q_int(r, "page", 1, 1000000000, &page) < 0 ||
        mtr_api_q_int(r, "page_size", 1, 1000, &size) < 0)
        return 0;
    q.has_from = hf;
    q.has_to = ht;
    q.kind = kind;
    q.limit = size;
    q.offset = (page - 1) * size;
    mtr_jw_obj(&r->out);
    mtr_jw_key(&r->out, "items");
    mtr_jw_arr(&r->out);
    int rc = r->store->ops->quarantine_rows(r->store, &q, on_quarantined, &r->out);
    if (rc)
        return mtr_api_fail(r, rc, "quarantine");
    mtr_jw_end_arr(&r->out);
    mtr_jw_kint(&r->out, "page", page);
    mtr_jw_kint(&r->out, "page_size", size);
    mtr_jw_end_obj(&r->out);
    return 0;
}
