/*
 * stream.c - the streaming ingest use case (see stream.h): poll a batch, decode, ingest,
 * dead-letter the rejects, commit the store, then acknowledge the batch to the source. The only
 * state kept between batches is the ingest session's meter cache, dropped whenever the source
 * reports a rebalance so that re-delivered messages meet the states another worker committed.
 */
#include "app/stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeparse.h"

struct run {
    struct mtr_store *store;
    struct mtr_msg_source *src;
    const struct mtr_stream_opts *o;
    struct mtr_stream_stats *st;
    struct mtr_ingest *ing;
    struct mtr_ingest_stats base; /* totals of the sessions already destroyed */
    const struct mtr_stream_msg *cur;
    /* the last rejection reported by the session, for the dead-letter metadata */
    enum mtr_rule_id rej_rule;
    char rej_msg[256];
    char json[2048];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_reject(void *ctx, uint64_t line, enum mtr_rule_id rule, const char *field,
                      const char *message)
{
    struct run *r = ctx;
    (void)line;
    (void)field;
    r->rej_rule = rule;
    snprintf(r->rej_msg, sizeof r->rej_msg, "%s", message);
    if (r->o->ingest.on_reject)
        r->o->ingest.on_reject(r->o->ingest.reject_ctx, line, rule, field, message);
}

static void num(char *buf, size_t cap, double x)
{
    if (isnan(x) || isinf(x))
        snprintf(buf, cap, "null");
    else
        snprintf(buf, cap, "%.17g", x);
}

/* s as the inside of a JSON string (quotes, backslashes and control bytes escaped), cut to fit
 * cap; ids and details come from the data. */
static const char *esc(char *dst, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", c);
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = 0;
    return dst;
}

size_t mtr_stream_reading_json(char *buf, size_t cap, const char *meter_id,
                               const struct mtr_stored_reading *r)
{
    char ts[24], raw[32], kwh[32], score[32], id[2 * MTR_ID_MAX + 8];
    mtr_time_format(r->ts, ts);
    num(raw, sizeof raw, r->raw_kwh);
    num(kwh, sizeof kwh, r->kwh);
    num(score, sizeof score, r->score);
    int n = snprintf(buf, cap,
                     "{\"meter_id\":\"%s\",\"timestamp\":\"%s\",\"interval_s\":%d,"
                     "\"raw_kwh\":%s,\"kwh\":%s,\"quality\":\"%s\",\"flags\":%llu,\"score\":%s}",
                     esc(id, sizeof id, meter_id), ts, (int)r->interval_s, raw, kwh,
                     mtr_quality_code_name(r->quality_code), (unsigned long long)r->flags, score);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

size_t mtr_stream_alert_json(char *buf, size_t cap, const struct mtr_alert *a)
{
    char from[24], to[24], score[32], value[32], id[2 * MTR_ID_MAX + 8];
    char detail[2 * sizeof a->detail + 8];
    mtr_time_format(a->start_ts, from);
    mtr_time_format(a->end_ts, to);
    num(score, sizeof score, a->score);
    num(value, sizeof value, a->value);
    int n = snprintf(buf, cap,
                     "{\"source\":\"%s\",\"entity_id\":\"%s\",\"type\":\"%s\",\"level\":\"%s\","
                     "\"score\":%s,\"start\":\"%s\",\"end\":\"%s\",\"count\":%d,\"value\":%s,"
                     "\"detail\":\"%s\"}",
                     mtr_kind_name(a->source), esc(id, sizeof id, a->entity_id),
                     mtr_rule(a->type)->name, mtr_level_name(a->level), score, from, to,
                     (int)a->count, value, esc(detail, sizeof detail, a->detail));
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static void on_stored(void *ctx, const char *meter_id, const struct mtr_stored_reading *sr)
{
    struct run *r = ctx;
    size_t n = mtr_stream_reading_json(r->json, sizeof r->json, meter_id, sr);
    if (r->src->ops->publish(r->src, MTR_STREAM_OUT_PROCESSED, meter_id, r->json, n) == 0)
        r->st->published++;
}

static void on_alert(void *ctx, const struct mtr_alert *a)
{
    struct run *r = ctx;
    size_t n = mtr_stream_alert_json(r->json, sizeof r->json, a);
    if (r->src->ops->publish(r->src, MTR_STREAM_OUT_ALERTS, a->entity_id, r->json, n) == 0)
        r->st->published++;
}

static void add_stats(struct mtr_ingest_stats *to, const struct mtr_ingest_stats *a)
{
    to->read += a->read;
    to->accepted += a->accepted;
    to->rejected += a->rejected;
    to->duplicates += a->duplicates;
    to->revisions += a->revisions;
    to->late += a->late;
    to->replaced_estimates += a->replaced_estimates;
    to->flagged += a->flagged;
    to->estimated += a->estimated;
    to->new_meters += a->new_meters;
    to->alerts += a->alerts;
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        to->by_rule[i] += a->by_rule[i];
}

static void refresh_ingest_stats(struct run *r)
{
    r->st->ingest = r->base;
    if (r->ing)
        add_stats(&r->st->ingest, mtr_ingest_get_stats(r->ing));
}

/* Opens a fresh session (after a rebalance: meter states are reloaded from the store). */
static int session_open(struct run *r, struct mtr_errbuf *eb)
{
    if (r->ing) {
        add_stats(&r->base, mtr_ingest_get_stats(r->ing));
        mtr_ingest_destroy(r->ing);
        r->ing = NULL;
    }
    struct mtr_ingest_opts io = r->o->ingest;
    io.commit_every = INT64_MAX; /* the batch is the unit of work */
    io.on_reject = on_reject;
    io.reject_ctx = r;
    io.progress = NULL;
    if (r->o->publish) {
        io.on_stored = on_stored;
        io.on_alert = on_alert;
        io.observer_ctx = r;
    } else {
        io.on_stored = NULL;
        io.on_alert = NULL;
    }
    return mtr_ingest_create(r->store, &io, &r->ing, eb);
}

static void raw_prefix(char *dst, size_t cap, const char *raw, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(dst, raw, n);
    dst[n] = 0;
}

static int dead_letter(struct run *r, const char *raw, size_t len, enum mtr_rule_id rule,
                       const char *error)
{
    int rc = r->src->ops->dead_letter(r->src, r->cur, raw, len, rule, error);
    if (rc == 0)
        r->st->dead_lettered++;
    return rc < 0 ? rc : 0;
}

static int emit(void *ctx, const struct mtr_record *rec, const struct mtr_record_error *err,
                const char *raw, size_t raw_len)
{
    struct run *r = ctx;
    int rc;
    if (!rec && !err) /* the text of the record rejected just before (MTR_STREAM_WANT_RAW) */
        return dead_letter(r, raw, raw_len, r->rej_rule, r->rej_msg);
    r->st->records++;
    if (err) {
        struct mtr_record_error e = *err;
        raw_prefix(e.raw, sizeof e.raw, raw, raw_len);
        if ((rc = mtr_ingest_reject(r->ing, r->cur->kind, r->cur->source, &e)) < 0)
            return rc;
        r->st->rejected++;
        return dead_letter(r, raw, raw_len, e.rule, e.message);
    }
    if ((rc = mtr_ingest_record(r->ing, rec, r->cur->source)) < 0)
        return rc;
    if (rc == 0) {
        r->st->stored++;
        return 0;
    }
    r->st->rejected++;
    if (!raw)
        return MTR_STREAM_WANT_RAW;
    return dead_letter(r, raw, raw_len, r->rej_rule, r->rej_msg);
}

#define STORE_RETRIES 3

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Runs one batch through the session and commits the store. */
static int run_batch(struct run *r, const struct mtr_stream_msg *msgs, size_t n,
                     struct mtr_errbuf *eb)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mtr_stream_msg *m = r->cur = &msgs[i];
        if (m->items) { /* decoded ahead by the source */
            for (size_t j = 0; j < m->n_items && rc >= 0; j++) {
                const struct mtr_stream_item *it = &m->items[j];
                rc = emit(r, it->err ? NULL : &it->rec, it->err, it->raw, it->raw_len);
            }
        } else {
            rc = r->o->decode(r->o->decode_ctx, m, emit, r);
        }
        if (rc < 0)
            return mtr_err(eb, rc, "%s: %s", m->source,
                           r->store->err.msg[0] ? r->store->err.msg : mtr_strerror(rc));
    }
    if ((rc = mtr_ingest_commit(r->ing)) < 0)
        return mtr_err(eb, rc, "store: %s", r->store->err.msg);
    return 0;
}

static void tick(struct run *r)
{
    r->st->lag = r->src->ops->lag(r->src);
    if (r->src->ops->ahead)
        r->st->ahead = r->src->ops->ahead(r->src, &r->st->dropped_ahead);
    refresh_ingest_stats(r);
    if (r->o->tick)
        r->o->tick(r->o->tick_ctx, r->st);
}

int mtr_stream_run(struct mtr_store *store, struct mtr_msg_source *src,
                   const struct mtr_stream_opts *o, struct mtr_stream_stats *st,
                   struct mtr_errbuf *eb)
{
    struct run r = {.store = store, .src = src, .o = o, .st = st};
    size_t batch_max = o->batch_max ? o->batch_max : 5000;
    int batch_ms = o->batch_ms > 0 ? o->batch_ms : 500;
    int64_t last_msg = now_ms(), last_tick = last_msg, first_msg = 0;
    int rc;
    st->lag = -1;
    if ((rc = session_open(&r, eb)) < 0)
        goto out;
    for (;;) {
        if (o->stop && *o->stop)
            break;
        if (o->max_messages && st->messages >= o->max_messages)
            break;
        size_t cap = batch_max;
        if (o->max_messages && (int64_t)cap > o->max_messages - st->messages)
            cap = (size_t)(o->max_messages - st->messages);
        const struct mtr_stream_msg *msgs = NULL;
        size_t n = 0;
        int reset = 0;
        if ((rc = src->ops->poll(src, cap, batch_ms, &msgs, &n, &reset, eb)) < 0)
            goto out;
        if (reset) {
            /* everything before is committed: only the meter cache may be stale */
            st->resets++;
            if ((rc = session_open(&r, eb)) < 0)
                goto out;
        }
        int64_t t = now_ms();
        if (reset)
            last_msg = t; /* idle time counts from the last (re)assignment too */
        if (n > 0) {
            last_msg = t;
            if (!first_msg)
                first_msg = t;
            for (int attempt = 0;; attempt++) {
                struct mtr_stream_stats saved = *st;
                struct mtr_ingest_stats before = *mtr_ingest_get_stats(r.ing);
                if ((rc = run_batch(&r, msgs, n, eb)) == 0)
                    break;
                if (rc != MTR_ESTORE || attempt >= STORE_RETRIES)
                    goto out;
                /* The store refused (typically SQLITE_BUSY: another worker holds the write
                 * lock longer than the busy timeout): roll the batch back, forget its counts,
                 * reload the meter states and run it again. Dead letters may repeat. */
                *st = saved;
                st->store_retries++;
                mtr_ingest_destroy(r.ing);
                r.ing = NULL;
                add_stats(&r.base, &before);
                sleep_ms(200LL << attempt);
                if ((rc = session_open(&r, eb)) < 0)
                    goto out;
            }
            st->messages += (int64_t)n;
            if (o->pause_ms > 0)
                sleep_ms(o->pause_ms);
            if (o->crash_after_batches && st->batches + 1 >= o->crash_after_batches) {
                /* die with batches decoded ahead when the source decodes ahead (up to 2 s) */
                int64_t dropped = 0, ahead = 0;
                for (int i = 0;
                     i < 200 && src->ops->ahead && (ahead = src->ops->ahead(src, &dropped)) == 0;
                     i++)
                    sleep_ms(10);
                fprintf(stderr,
                        "metrify: test seam: SIGKILL after batch %lld, %lld messages decoded "
                        "ahead (%lld dropped at rebalances, %lld resets)\n",
                        (long long)(st->batches + 1), (long long)ahead, (long long)dropped,
                        (long long)st->resets);
                raise(SIGKILL);
            }
            if ((rc = src->ops->commit(src, eb)) < 0)
                goto out;
            st->batches++;
            st->last_commit = (int64_t)time(NULL);
            st->busy_s = (double)(now_ms() - first_msg) / 1000.0;
        } else if (o->idle_exit_ms > 0 && t - last_msg >= o->idle_exit_ms) {
            break;
        }
        if (t - last_tick >= 1000) {
            last_tick = t;
            tick(&r);
        }
    }
    rc = 0;
out:
    tick(&r);
    if (r.ing) {
        add_stats(&r.base, mtr_ingest_get_stats(r.ing));
        mtr_ingest_destroy(r.ing); /* rolls back an unfinished batch */
    }
    st->ingest = r.base;
    return rc;
}
