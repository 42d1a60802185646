/*
 * h_readings.c - readings over HTTP: POST batches (JSON array, {"readings": [...]}, one object,
 * or NDJSON) through exactly the ingest use case of `metrify ingest` (app/ingest.h), committed
 * before the answer; GET a meter's readings over a time range, raw or resampled (hourly, daily).
 * mtr_api_ingest() is shared with the grid-status and weather batch routes.
 *
 * Decoding happens outside the write lock (threads decode in parallel); only the pipeline runs
 * under it, in one unit of work per request: a request is all committed or not at all.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/io/decode.h"
#include "api/batch.h"
#include "api/handlers.h"
#include "api/server.h"
#include "app/ingest.h"
#include "base/text.h"
#include "core/quality.h"

#define MAX_REJECTIONS_LISTED 1000

struct reject_ctx {
    struct mtr_jw w;
    int64_t n;
};

static void on_reject(void *ctx, uint64_t line, enum mtr_rule_id rule, const char *field,
                      const char *message)
{
    struct reject_ctx *rc = ctx;
    if (rc->n++ >= MAX_REJECTIONS_LISTED)
        return;
    mtr_jw_obj(&rc->w);
    mtr_jw_kint(&rc->w, "line", (int64_t)line);
    mtr_jw_kstr(&rc->w, "rule", mtr_rule(rule)->name);
    mtr_jw_kstr(&rc->w, "field", field);
    mtr_jw_kstr(&rc->w, "message", message);
    mtr_jw_end_obj(&rc->w);
}

int mtr_api_ingest(struct mtr_api_req *r, enum mtr_kind kind, const char *entity)
{
    struct mtr_api_server *srv = r->srv;
    struct mtr_api_batch b = {0};
    struct mtr_format fmt;
    json_t *doc = NULL;
    struct mtr_ingest *ing = NULL;
    struct reject_ctx rj;
    struct mtr_errbuf eb = {{0}};
    int rc = 0, locked = 0;
    mtr_jw_init(&rj.w);
    rj.n = 0;
    mtr_format_init(&fmt);
    if (entity) {
        char *dst = kind == MTR_KIND_GRID      ? fmt.operator_id
                    : kind == MTR_KIND_WEATHER ? fmt.station_id
                                               : fmt.meter_id;
        snprintf(dst, MTR_ID_MAX, "%s", entity);
    }
    const char *ct = r->content_type;
    int ndjson = ct && (strncasecmp(ct, "application/x-ndjson", 20) == 0 ||
                        strncasecmp(ct, "application/ndjson", 18) == 0 ||
                        strncasecmp(ct, "application/jsonl", 17) == 0);
    if (ct && !ndjson && strncasecmp(ct, "application/json", 16) != 0)
        return mtr_api_error(r, 415, "unsupported_media_type", NULL,
                             "send application/json (an array or one object) or "
                             "application/x-ndjson, not %s",
                             ct);
    if (!r->body_len)
        return mtr_api_error(r, 400, "bad_request", NULL, "the body is empty");
    if (ndjson) {
        const char *p = r->body, *end = r->body + r->body_len;
        uint64_t line = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            line++;
            const char *s = p;
            while (s < le && (*s == ' ' || *s == '\t' || *s == '\r'))
                s++;
            if (s < le) {
                json_error_t je;
                json_t *v = json_loadb(p, (size_t)(le - p), 0, &je);
                if (!v) {
                    char msg[256];
                    snprintf(msg, sizeof msg, "not valid JSON: %s", je.text);
                    rc = mtr_api_batch_add_error(&b, kind, line, msg, p, (size_t)(le - p));
                } else {
                    rc = mtr_api_batch_add_json(&b, v, kind, &fmt, entity, line);
                    json_decref(v);
                }
                if (rc < 0)
                    goto oom;
            }
            p = le + 1;
        }
    } else if ((rc = mtr_api_batch_fast(&b, r->body, r->body_len, kind, &fmt, entity)) < 0) {
        goto oom;
    } else if (rc == 0) {
        json_error_t je;
        doc = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &je);
        if (!doc) {
            char det[96];
            snprintf(det, sizeof det, "{\"line\":%d,\"column\":%d}", je.line, je.column);
            mtr_api_error(r, 400, "malformed_json", det, "the body is not valid JSON: %s", je.text);
            goto out;
        }
        json_t *arr = doc;
        if (json_is_object(doc)) {
            static const char *const keys[] = {"readings", "statuses", "observations", "records"};
            for (size_t i = 0; i < 4; i++) {
                json_t *a = json_object_get(doc, keys[i]);
                if (json_is_array(a)) {
                    arr = a;
                    break;
                }
            }
        }
        if (json_is_array(arr)) {
            size_t i;
            json_t *v;
            json_array_foreach(arr, i, v)
            {
                if ((rc = mtr_api_batch_add_json(&b, v, kind, &fmt, entity, (uint64_t)i + 1)) < 0)
                    goto oom;
            }
        } else if (json_is_object(arr)) {
            if ((rc = mtr_api_batch_add_json(&b, arr, kind, &fmt, entity, 1)) < 0)
                goto oom;
        } else {
            mtr_api_error(r, 422, "invalid_body", NULL,
                          "the body must be a JSON array of records, one record object, or "
                          "{\"%s\": [...]}",
                          kind == MTR_KIND_GRID      ? "statuses"
                          : kind == MTR_KIND_WEATHER ? "observations"
                                                     : "readings");
            goto out;
        }
    }
    if (!b.n) {
        mtr_api_error(r, 422, "invalid_body", NULL, "the batch holds no records");
        goto out;
    }
    struct mtr_ingest_opts io;
    memset(&io, 0, sizeof io);
    io.params = srv->params;
    io.commit_every = (int64_t)b.n + 1; /* one unit of work per request */
    io.on_reject = on_reject;
    io.reject_ctx = &rj;
    mtr_jw_arr(&rj.w);
    char source[96];
    snprintf(source, sizeof source, "http:%s", r->request_id);
    /* the deadline is checked after decoding, while queueing for the write lock, every 1024
     * records and before the commit - never after it: a committed batch is always answered */
    if (mtr_api_over_now(r) || mtr_api_write_lock(r) < 0)
        goto out;
    locked = 1;
    if ((rc = mtr_ingest_create(r->store, &io, &ing, &eb)) < 0)
        goto fail;
    for (size_t i = 0; i < b.n; i++) {
        struct mtr_api_item *it = &b.items[i];
        if ((i & 1023) == 1023 && mtr_api_over_now(r))
            goto out; /* destroying the session rolls the batch back */
        rc = it->err >= 0 ? mtr_ingest_reject(ing, it->rec.kind, source, &b.errs[it->err])
                          : mtr_ingest_record(ing, &it->rec, source);
        if (rc < 0)
            goto fail;
    }
    if (mtr_api_over_now(r))
        goto out;
    if ((rc = mtr_ingest_commit(ing)) < 0)
        goto fail;
    struct mtr_ingest_stats st = *mtr_ingest_get_stats(ing);
    mtr_ingest_destroy(ing);
    ing = NULL;
    mtr_api_write_unlock(r);
    locked = 0;
    mtr_api_metrics_ingest(&srv->metrics, kind, &st);
    mtr_jw_end_arr(&rj.w);
    struct mtr_jw *w = &r->out;
    r->status = st.rejected ? 207 : 200;
    mtr_jw_obj(w);
    mtr_jw_kint(w, "received", st.read);
    mtr_jw_kint(w, "accepted", st.accepted);
    mtr_jw_kint(w, "rejected", st.rejected);
    mtr_jw_kint(w, "estimated", st.estimated);
    mtr_jw_kint(w, "flagged", st.flagged);
    mtr_jw_kint(w, "duplicates", st.duplicates);
    mtr_jw_kint(w, "revisions", st.revisions);
    mtr_jw_kint(w, "new_meters", st.new_meters);
    mtr_jw_kint(w, "alerts", st.alerts);
    mtr_jw_key(w, "rejections");
    mtr_jw_raw(w, rj.w.buf ? rj.w.buf : "[]", rj.w.buf ? rj.w.len : 2);
    mtr_jw_kbool(w, "rejections_truncated", rj.n > MAX_REJECTIONS_LISTED);
    mtr_jw_end_obj(w);
    goto out;
fail:
    mtr_api_error(r, 500, "ingest_failed", NULL,
                  "the batch was not stored (nothing of it is committed): %s",
                  eb.msg[0] ? eb.msg : r->store->err.msg);
    goto out;
oom:
    mtr_api_error(r, 500, "internal", NULL, "out of memory decoding the batch");
out:
    mtr_ingest_destroy(ing); /* rolls back anything uncommitted */
    if (locked)
        mtr_api_write_unlock(r);
    json_decref(doc);
    mtr_api_batch_free(&b);
    mtr_jw_free(&rj.w);
    return 0;
}

int mtr_h_readings_post_meter(struct mtr_api_req *r)
{
    return mtr_api_ingest(r, MTR_KIND_READING, r->pv[0]);
}

int mtr_h_readings_post(struct mtr_api_req *r)
{
    return mtr_api_ingest(r, MTR_KIND_READING, NULL);
}

/* ---- GET readings ---- */

struct raw_out {
    struct mtr_jw *w;
    int64_t n, limit;
    int64_t day;      /* the UTC day whose date prefix is in date[], or INT64_MIN */
    char date[12];    /* "\"YYYY-MM-DDT" of that day */
    size_t flags_max; /* bytes the "flags" array can take at most */
};

/* Bytes of one reading object without its flags: ~200 of keys, 10 numbers, a time, a name. */
#define RAW_ROW_MAX (256 + 10 * MTR_JW_NUM_MAX + MTR_JW_TIME_MAX + 64)

/* A timestamp: the date part of a page's day is formatted once, not per interval. */
static char *raw_time(struct raw_out *o, char *p, int64_t ts)
{
    int64_t sod = ((ts % 86400) + 86400) % 86400, day = ts - sod;
    if (day != o->day) {
        char b[MTR_JW_TIME_MAX];
        if (mtr_jw_put_time(b, day) - b != 22)
            return mtr_jw_put_time(p, ts); /* a year beyond 0..9999: no shortcut */
        memcpy(o->date, b, 12);
        o->day = day;
    }
    memcpy(p, o->date, 12);
    p[12] = (char)('0' + sod / 36000);
    p[13] = (char)('0' + sod / 3600 % 10);
    p[14] = ':';
    p[15] = (char)('0' + sod / 600 % 6);
    p[16] = (char)('0' + sod / 60 % 10);
    p[17] = ':';
    p[18] = (char)('0' + sod % 60 / 10);
    p[19] = (char)('0' + sod % 10);
    p[20] = 'Z';
    p[21] = '"';
    return p + 22;
}

/* A vocabulary name (quality code, rule id: plain ASCII identifiers, no escaping needed). */
static char *raw_name(char *p, const char *name)
{
    size_t n = strlen(name);
    *p++ = '"';
    memcpy(p, name, n);
    p[n] = '"';
    return p + n + 1;
}

/* An optional measurement: left out when it was not delivered, rather than sent as null. */
#define OPT_NUM(p, name, v)                                                                        \
    do {                                                                                           \
        if (!isnan(v)) {                                                                           \
            MTR_JW_LIT(p, ",\"" name "\":");                                                       \
            p = mtr_jw_put_num(p, v);                                                              \
        }                                                                                          \
    } while (0)

/* The hot loop of GET readings (96 objects a meter-day): one bounds check per reading, literal
 * keys, no allocation; the text is what the generic writer would write. */
static int on_raw(void *ctx, const struct mtr_stored_reading *rd)
{
    struct raw_out *o = ctx;
    if (o->limit && o->n >= o->limit)
        return 1;
    o->n++;
    char *p = mtr_jw_value_begin(o->w, RAW_ROW_MAX + (rd->flags ? o->flags_max : 0));
    if (!p)
        return 1; /* out of memory: the writer has failed, the server answers 500 */
    MTR_JW_LIT(p, "{\"timestamp\":");
    p = raw_time(o, p, rd->ts);
    MTR_JW_LIT(p, ",\"interval_s\":");
    p = mtr_jw_put_int(p, rd->interval_s);
    MTR_JW_LIT(p, ",\"kwh\":");
    char *kwh = p;
    p = mtr_jw_put_num(p, rd->kwh);
    size_t kwh_len = (size_t)(p - kwh);
    MTR_JW_LIT(p, ",\"raw_kwh\":");
    if (rd->raw_kwh == rd->kwh) { /* as delivered, the usual case: the same text again */
        memmove(p, kwh, kwh_len);
        p += kwh_len;
    } else {
        p = mtr_jw_put_num(p, rd->raw_kwh);
    }
    MTR_JW_LIT(p, ",\"quality_code\":");
    p = mtr_jw_put_int(p, rd->quality_code);
    MTR_JW_LIT(p, ",\"quality\":");
    p = raw_name(p, mtr_quality_code_name(rd->quality_code));
    MTR_JW_LIT(p, ",\"score\":");
    p = mtr_jw_put_num(p, rd->score);
    OPT_NUM(p, "voltage_v", rd->voltage_v);
    OPT_NUM(p, "current_a", rd->current_a);
    OPT_NUM(p, "power_factor", rd->power_factor);
    OPT_NUM(p, "frequency_hz", rd->frequency_hz);
    OPT_NUM(p, "active_power_kw", rd->active_power_kw);
    OPT_NUM(p, "reactive_power_kvar", rd->reactive_power_kvar);
    if (rd->flags) {
        MTR_JW_LIT(p, ",\"flags\":[");
        int first = 1;
        for (int i = 0; i < MTR_RULE_COUNT; i++)
            if (rd->flags & mtr_rule_bit(i)) {
                if (!first)
                    *p++ = ',';
                first = 0;
                p = raw_name(p, mtr_rule(i)->name);
            }
        *p++ = ']';
    }
    *p++ = '}';
    mtr_jw_value_end(o->w, p);
    return mtr_api_over(); /* stops the scan past the deadline */
}

struct hour_acc {
    struct mtr_jw *w;
    int64_t hour;
    double kwh, min, max;
    int n, n_est, n_flagged;
    int64_t rows;
};

static void hour_flush(struct hour_acc *h)
{
    if (h->n + h->n_est + h->n_flagged == 0)
        return;
    struct mtr_jw *w = h->w;
    mtr_jw_obj(w);
    mtr_jw_ktime(w, "timestamp", h->hour);
    mtr_jw_knum(w, "kwh", h->n + h->n_est ? h->kwh : NAN);
    mtr_jw_knum(w, "min_kwh", h->min);
    mtr_jw_knum(w, "max_kwh", h->max);
    mtr_jw_kint(w, "measured", h->n);
    mtr_jw_kint(w, "estimated", h->n_est);
    mtr_jw_kint(w, "flagged", h->n_flagged);
    mtr_jw_end_obj(w);
    h->rows++;
    h->kwh = 0;
    h->min = h->max = NAN;
    h->n = h->n_est = h->n_flagged = 0;
}

/* Hourly values as the hourly rollup defines them: analytics-grade intervals only. */
static int on_hourly(void *ctx, const struct mtr_stored_reading *rd)
{
    struct hour_acc *h = ctx;
    int64_t hour = rd->ts - ((rd->ts % 3600) + 3600) % 3600;
    if (hour != h->hour) {
        hour_flush(h);
        h->hour = hour;
    }
    if (rd->quality_code == MTR_Q_QUESTIONABLE || isnan(rd->kwh)) {
        h->n_flagged++;
        return 0;
    }
    if (mtr_quality_code_is_estimate(rd->quality_code))
        h->n_est++;
    else
        h->n++;
    h->kwh += rd->kwh;
    if (isnan(h->min) || rd->kwh < h->min)
        h->min = rd->kwh;
    if (isnan(h->max) || rd->kwh > h->max)
        h->max = rd->kwh;
    return mtr_api_over(); /* stops the scan past the deadline */
}

struct day_out {
    struct mtr_jw *w;
    int64_t n;
};

static int on_day(void *ctx, const struct mtr_day_report *d)
{
    struct day_out *o = ctx;
    mtr_api_write_day(o->w, d);
    o->n++;
    return mtr_api_over(); /* stops the scan past the deadline */
}

int mtr_h_readings_get(struct mtr_api_req *r)
{
    int64_t key, from, to, limit = 0;
    int res = 0;
    if (mtr_api_meter_key(r, &key) < 0 || mtr_api_range(r, &from, &to, 0) < 0 ||
        mtr_api_q_choice(r, "resolution", "raw,hourly,daily", &res) < 0 ||
        mtr_api_q_int(r, "limit", 1, 1000000, &limit) < 0)
        return 0;
    if (res < 2 && to - from > 92 * 86400)
        return mtr_api_error(r, 400, "bad_parameter", NULL,
                             "raw and hourly ranges are limited to 92 days (use resolution=daily)");
    static const char *const res_names[] = {"raw", "hourly", "daily"};
    struct mtr_jw *w = &r->out;
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "meter_id", r->pv[0]);
    mtr_jw_ktime(w, "from", from);
    mtr_jw_ktime(w, "to", to);
    mtr_jw_kstr(w, "resolution", res_names[res]);
    mtr_jw_key(w, "readings");
    mtr_jw_arr(w);
    int rc;
    int64_t count;
    if (res == 0) {
        struct raw_out o = {.w = w, .limit = limit, .day = INT64_MIN};
        for (int i = 0; i < MTR_RULE_COUNT; i++)
            o.flags_max += strlen(mtr_rule(i)->name) + 3;
        o.flags_max += 16;
        rc = r->store->ops->readings_range(r->store, key, from, to, on_raw, &o);
        if (rc == 1)
            rc = 0;
        count = o.n;
    } else if (res == 1) {
        struct hour_acc h = {.w = w, .hour = INT64_MIN, .min = NAN, .max = NAN};
        rc = r->store->ops->readings_range(r->store, key, from, to, on_hourly, &h);
        hour_flush(&h);
        count = h.rows;
    } else {
        struct mtr_query q;
        struct mtr_quality_total t;
        memset(&q, 0, sizeof q);
        q.kind = q.type = q.min_level = -1;
        q.entity_id = r->pv[0];
        q.from = from - ((from % 86400) + 86400) % 86400;
        q.has_from = 1;
        q.to = to;
        q.has_to = 1;
        struct day_out o = {w, 0};
        struct mtr_report_sink sink = {.day = on_day, .ctx = &o};
        rc = mtr_report_days(r->store, &q, &sink, &t);
        count = o.n;
    }
    if (rc)
        return mtr_api_fail(r, rc, "readings");
    mtr_jw_end_arr(w);
    mtr_jw_kint(w, "count", count);
    mtr_jw_end_obj(w);
    return 0;
}
