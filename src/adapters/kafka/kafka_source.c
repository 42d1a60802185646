/*
 * kafka_source.c - librdkafka consumer + producer behind the message-source port (see
 * kafka_source.h), on two threads. The fetch thread polls the consumer, collects messages into
 * chunks and decodes each chunk into records (the decoder's items); rebalance callbacks run on
 * it, inside its own poll. The caller's thread takes decoded chunks in poll, runs the pipeline,
 * produces dead letters and publications and commits offsets. Chunks are recycled: after warm-up
 * neither thread allocates per message (librdkafka's own messages aside).
 */
#include "adapters/kafka/kafka_source.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/kafka/kafka_conf.h"
#include "base/grow.h"

#define FLUSH_TIMEOUT_MS 30000
#define CHUNK_MSGS       1000 /* messages per chunk at most */
#define FILL_MS          5    /* a chunk is handed on this long after its first message at most */
#define IDLE_POLL_MS     100  /* consumer polls while the pipeline is behind (rebalances) */
#define CHUNKS_MAX       1024 /* chunks alive at once (ahead + the batch in flight) */
#define AHEAD_DEFAULT    5000
#define NONE             SIZE_MAX

/* Messages fetched and decoded together; owned by the fetch thread while it fills one, then by
 * the ready queue, then by the batch poll hands out (a chunk may straddle two batches). */
struct chunk {
    struct chunk *next; /* ready queue or free list */
    uint64_t gen;       /* assignment generation it was fetched in */
    size_t n, pos;      /* messages; the first one not yet handed out */
    int in_ready, in_batch;
    rd_kafka_message_t **km;
    struct mtr_stream_msg *msgs;
    size_t *first; /* per message: its first item */
    size_t *src;   /* per message: offset of its "topic/partition/offset" in text */
    struct mtr_stream_item *items;
    size_t n_items, cap_items;
    struct item_at {
        size_t raw, err; /* offset of the raw text in text (NONE: in the payload); errs index */
    } * at;
    size_t cap_at;
    struct mtr_record_error *errs;
    size_t n_errs, cap_errs;
    char *text;
    size_t text_len, text_cap;
};

/* A slice of a chunk handed out by the last poll. */
struct slice {
    struct chunk *c;
    size_t from, to;
};

struct ksrc {
    struct mtr_msg_source base;
    rd_kafka_t *consumer, *producer;
    char topics[3][256];
    char dead_letter[256], alerts[256], processed[256];
    mtr_stream_decode_fn decode;
    void *decode_ctx;
    int64_t ahead_max;

    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t ready_cv;  /* a chunk is ready, the assignment changed, or the fetch failed */
    pthread_cond_t space_cv;  /* room to decode ahead again, a chunk free, or stop */
    pthread_cond_t commit_cv; /* the batch in flight was committed, or stop */
    /* under mu */
    struct chunk *ready, *ready_tail, *free_list;
    int n_chunks;
    int64_t ahead_msgs, dropped;
    uint64_t gen; /* bumped by every rebalance; written only where rebalances run */
    int reset_pending, stop;
    int64_t in_flight; /* messages handed out by poll and not yet committed */
    int fatal_rc;
    char fatal_msg[320];

    /* the caller's thread only */
    struct slice *batch;
    size_t n_batch, cap_batch;
    struct mtr_stream_msg *out;
    size_t cap_out;
    rd_kafka_topic_partition_list_t *offsets; /* next offsets of the batch handed out */
    int stale;                                /* an offset commit was refused: report a reset */
    int delivery_failed;                      /* set by the delivery callback */
    char delivery_err[256];

    int64_t last_error_log; /* the fetch thread only: last transient consumer error printed */
};

void mtr_kafka_opts_default(struct mtr_kafka_opts *o)
{
    memset(o, 0, sizeof *o);
    o->group = MTR_KAFKA_GROUP_DEFAULT;
    o->topics[MTR_KIND_READING] = MTR_KAFKA_TOPIC_READINGS;
    o->topics[MTR_KIND_GRID] = MTR_KAFKA_TOPIC_GRID;
    o->topics[MTR_KIND_WEATHER] = MTR_KAFKA_TOPIC_WEATHER;
    o->dead_letter = MTR_KAFKA_TOPIC_DEAD_LETTER;
    o->alerts = MTR_KAFKA_TOPIC_ALERTS;
    o->processed = MTR_KAFKA_TOPIC_PROCESSED;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- chunks ---- */

/* Empties c for reuse: its librdkafka messages are destroyed, its arrays kept. */
static void chunk_clear(struct chunk *c)
{
    for (size_t i = 0; i < c->n; i++)
        rd_kafka_message_destroy(c->km[i]);
    c->n = c->pos = c->n_items = c->n_errs = c->text_len = 0;
    c->in_ready = c->in_batch = 0;
    c->next = NULL;
}

static void chunk_free(struct chunk *c)
{
    chunk_clear(c);
    free(c->km);
    free(c->msgs);
    free(c->first);
    free(c->src);
    free(c->items);
    free(c->at);
    free(c->errs);
    free(c->text);
    free(c);
}

/* A chunk with room for CHUNK_MSGS messages and their usual items and texts, so that filling
 * and decoding it allocate nothing unless a message holds many records; NULL when out of
 * memory. */
static struct chunk *chunk_new(void)
{
    struct chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->km = malloc(CHUNK_MSGS * sizeof *c->km);
    c->msgs = malloc(CHUNK_MSGS * sizeof *c->msgs);
    c->first = malloc(CHUNK_MSGS * sizeof *c->first);
    c->src = malloc(CHUNK_MSGS * sizeof *c->src);
    if (!c->km || !c->msgs || !c->first || !c->src ||
        mtr_grow((void **)&c->items, &c->cap_items, 2 * CHUNK_MSGS, sizeof *c->items, 256) < 0 ||
        mtr_grow((void **)&c->at, &c->cap_at, 2 * CHUNK_MSGS, sizeof *c->at, 256) < 0 ||
        mtr_grow((void **)&c->text, &c->text_cap, 48 * CHUNK_MSGS, 1, 4096) < 0) {
        chunk_free(c);
        return NULL;
    }
    return c;
}

/* Appends len bytes to c's text; returns their offset, or NONE when out of memory. */
static size_t chunk_text(struct chunk *c, const char *p, size_t len)
{
    if (mtr_grow((void **)&c->text, &c->text_cap, c->text_len + len + 1, 1, 4096) < 0)
        return NONE;
    size_t off = c->text_len;
    memcpy(c->text + off, p, len);
    c->text[off + len] = 0;
    c->text_len += len + 1;
    return off;
}

/* Gives a chunk back (mu held): it is cleared by the fetch thread when taken again. */
static void chunk_release(struct ksrc *k, struct chunk *c)
{
    c->in_ready = c->in_batch = 0;
    c->next = k->free_list;
    k->free_list = c;
    pthread_cond_signal(&k->space_cv);
}

/* Drops the chunks decoded ahead (mu held): the assignment they were fetched in is over. A chunk
 * partly handed out stays with the batch in flight; its rest is never handed out. */
static void drop_ready(struct ksrc *k)
{
    struct chunk *c = k->ready;
    while (c) {
        struct chunk *next = c->next;
        k->dropped += (int64_t)(c->n - c->pos);
        c->in_ready = 0;
        if (c->in_batch)
            c->pos = c->n;
        else
            chunk_release(k, c);
        c = next;
    }
    k->ready = k->ready_tail = NULL;
    k->ahead_msgs = 0;
}

/* ---- the fetch thread ---- */

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct ksrc *k = opaque;
    pthread_mutex_lock(&k->mu);
    /* what was fetched or decoded ahead is not ours to process any more: it is fetched again
     * from the committed offsets, here or by the partitions' new owner */
    k->gen++;
    drop_ready(k);
    k->reset_pending = 1;
    pthread_cond_broadcast(&k->ready_cv);
    /* give partitions up only once the batch in flight is stored and its offsets committed */
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        while (k->in_flight > 0 && !k->stop)
            pthread_cond_wait(&k->commit_cv, &k->mu);
    pthread_mutex_unlock(&k->mu);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        rd_kafka_assign(rk, parts);
    else
        rd_kafka_assign(rk, NULL);
}

static void fetch_fail(struct ksrc *k, int rc, const char *msg)
{
    pthread_mutex_lock(&k->mu);
    if (!k->fatal_rc) {
        k->fatal_rc = rc;
        snprintf(k->fatal_msg, sizeof k->fatal_msg, "%s", msg);
    }
    pthread_cond_broadcast(&k->ready_cv);
    pthread_mutex_unlock(&k->mu);
}

/* A chunk to fill (at most CHUNKS_MAX exist); NULL when stopping or out of memory. */
static struct chunk *take_chunk(struct ksrc *k)
{
    struct chunk *c = NULL;
    pthread_mutex_lock(&k->mu);
    while (!k->stop && !k->free_list && k->n_chunks >= CHUNKS_MAX)
        pthread_cond_wait(&k->space_cv, &k->mu);
    if (!k->stop) {
        if (k->free_list) {
            c = k->free_list;
            k->free_list = c->next;
        } else if ((c = chunk_new())) {
            k->n_chunks++;
        }
        if (c)
            c->gen = k->gen;
    }
    pthread_mutex_unlock(&k->mu);
    if (c)
        chunk_clear(c);
    return c;
}

static int kind_of(const struct ksrc *k, const char *topic)
{
    for (int i = 0; i < 3; i++)
        if (k->topics[i][0] && strcmp(k->topics[i], topic) == 0)
            return i;
    return MTR_KIND_READING;
}

/* Writes "topic/partition/offset" (the message's source) into c's text; NONE when out of memory.
 * By hand: snprintf was a tenth of the fetch thread. */
static size_t chunk_source(struct chunk *c, const char *topic, int32_t partition, int64_t offset)
{
    char buf[320], digits[24];
    size_t n = strlen(topic);
    if (n > 256)
        n = 256;
    memcpy(buf, topic, n);
    int64_t parts[2] = {partition, offset};
    for (int p = 0; p < 2; p++) {
        uint64_t v = parts[p] < 0 ? (uint64_t)(-parts[p]) : (uint64_t)parts[p];
        size_t d = 0;
        do
            digits[d++] = (char)('0' + v % 10);
        while ((v /= 10) > 0);
        buf[n++] = '/';
        if (parts[p] < 0)
            buf[n++] = '-';
        while (d > 0)
            buf[n++] = digits[--d];
    }
    return chunk_text(c, buf, n);
}

static int chunk_add(struct ksrc *k, struct chunk *c, rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    size_t off = chunk_source(c, topic, m->partition, m->offset);
    if (off == NONE)
        return MTR_ENOMEM;
    size_t i = c->n++;
    c->km[i] = m;
    c->src[i] = off;
    c->msgs[i] = (struct mtr_stream_msg){.payload = m->payload ? m->payload : "",
                                         .len = m->payload ? m->len : 0,
                                         .kind = kind_of(k, topic)};
    return 0;
}

/* 1 when the chunks decoded ahead hold opts.ahead messages; waits up to ms for room first.
 * *room is how many more may be handed on. */
static int ahead_full(struct ksrc *k, int ms, int *stop, int64_t *room)
{
    pthread_mutex_lock(&k->mu);
    if (ms > 0 && k->ahead_msgs >= k->ahead_max && !k->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)ms * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&k->space_cv, &k->mu, &until);
    }
    int full = k->ahead_msgs >= k->ahead_max;
    *room = k->ahead_max - k->ahead_msgs;
    *stop = k->stop;
    pthread_mutex_unlock(&k->mu);
    return full;
}

/*
 * Fills c with up to CHUNK_MSGS messages: as many as arrive within FILL_MS of the first, once
 * there is room to hand it on. While the pipeline is a full opts.ahead behind, the consumer is
 * still polled every IDLE_POLL_MS, without waiting, so that a rebalance is served at once
 * (dropping what was decoded ahead) rather than after the next batch; a message that comes
 * back waits in c. A rebalance inside the consumer poll empties c (its messages belong to the
 * old assignment).
 */
static int fill(struct ksrc *k, struct chunk *c)
{
    int64_t deadline = 0;
    for (;;) {
        int stop, timeout = 100;
        int64_t room;
        int full = ahead_full(k, IDLE_POLL_MS, &stop, &room);
        if (stop)
            return 0;
        if (full) {
            if (c->n >= CHUNK_MSGS)
                continue; /* nowhere to put another message: wait for room */
            timeout = 0;
        } else if (c->n >= CHUNK_MSGS || (int64_t)c->n >= room) {
            return 0; /* full, or as much as may wait decoded */
        } else if (c->n) {
            int64_t left = deadline - mono_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, timeout);
        if (c->gen != k->gen) { /* only this thread runs rebalances while it lives */
            size_t n = c->n;
            chunk_clear(c);
            pthread_mutex_lock(&k->mu);
            k->dropped += (int64_t)n;
            c->gen = k->gen;
            pthread_mutex_unlock(&k->mu);
        }
        if (!m) {
            if (c->n && !full)
                return 0;
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t err = m->err;
            char what[256];
            snprintf(what, sizeof what, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                continue;
            if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char fatal[256], msg[300];
                rd_kafka_fatal_error(k->consumer, fatal, sizeof fatal);
                snprintf(msg, sizeof msg, "kafka: fatal: %s", fatal);
                fetch_fail(k, MTR_EIO, msg);
                return MTR_EIO;
            }
            /* transient (broker down, topic not there yet): librdkafka retries by itself */
            int64_t t = mono_ms();
            if (t - k->last_error_log > 10000) {
                k->last_error_log = t;
                fprintf(stderr, "metrify: kafka: %s (retrying)\n", what);
            }
            continue;
        }
        if (chunk_add(k, c, m) < 0) {
            rd_kafka_message_destroy(m);
            fetch_fail(k, MTR_ENOMEM, "kafka: out of memory");
            return MTR_ENOMEM;
        }
        if (c->n == 1)
            deadline = mono_ms() + FILL_MS;
    }
}

/* The decoder's emit on the fetch thread: records and errors become the chunk's items. */
struct collector {
    struct chunk *c;
    const struct mtr_stream_msg *m;
};

static int set_raw(struct collector *col, size_t i, const char *raw, size_t len)
{
    struct chunk *c = col->c;
    uintptr_t r = (uintptr_t)raw, p = (uintptr_t)col->m->payload;
    c->items[i].raw_len = len;
    if (r >= p && r + len <= p + col->m->len) { /* a span of the payload: kept as it is */
        c->items[i].raw = raw;
        c->at[i].raw = NONE;
        return 0;
    }
    if ((c->at[i].raw = chunk_text(c, raw, len)) == NONE) /* rendered by the decoder */
        return MTR_ENOMEM;
    return 0;
}

static int collect(void *ctx, const struct mtr_record *rec, const struct mtr_record_error *err,
                   const char *raw, size_t raw_len)
{
    struct collector *col = ctx;
    struct chunk *c = col->c;
    if (!rec && !err) /* the text of the record just collected (MTR_STREAM_WANT_RAW) */
        return c->n_items ? set_raw(col, c->n_items - 1, raw, raw_len) : 0;
    size_t i = c->n_items;
    if (mtr_grow((void **)&c->items, &c->cap_items, i + 1, sizeof *c->items, 256) < 0 ||
        mtr_grow((void **)&c->at, &c->cap_at, i + 1, sizeof *c->at, 256) < 0)
        return MTR_ENOMEM;
    c->at[i].err = NONE;
    if (rec) {
        c->items[i].rec = *rec;
    } else {
        if (mtr_grow((void **)&c->errs, &c->cap_errs, c->n_errs + 1, sizeof *c->errs, 16) < 0)
            return MTR_ENOMEM;
        c->errs[c->n_errs] = *err;
        c->at[i].err = c->n_errs++;
    }
    c->n_items++;
    if (!raw)
        return MTR_STREAM_WANT_RAW; /* keep every record's text: the pipeline may reject it */
    return set_raw(col, i, raw, raw_len);
}

/* Decodes every message of c into items, then points the messages at their items and texts
 * (the arrays may have moved while they grew). */
static int decode_chunk(struct ksrc *k, struct chunk *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct collector col = {c, &c->msgs[i]};
        c->first[i] = c->n_items;
        int rc = k->decode(k->decode_ctx, &c->msgs[i], collect, &col);
        if (rc < 0)
            return rc;
    }
    for (size_t j = 0; j < c->n_items; j++) {
        struct mtr_stream_item *it = &c->items[j];
        it->err = c->at[j].err == NONE ? NULL : &c->errs[c->at[j].err];
        if (c->at[j].raw != NONE)
            it->raw = c->text + c->at[j].raw;
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t end = i + 1 < c->n ? c->first[i + 1] : c->n_items;
        c->msgs[i].source = c->text + c->src[i];
        c->msgs[i].items = c->items + c->first[i];
        c->msgs[i].n_items = end - c->first[i];
    }
    return 0;
}

static void *fetch_main(void *arg)
{
    struct ksrc *k = arg;
    for (;;) {
        struct chunk *c = take_chunk(k);
        if (!c) {
            pthread_mutex_lock(&k->mu);
            int stop = k->stop;
            pthread_mutex_unlock(&k->mu);
            if (!stop)
                fetch_fail(k, MTR_ENOMEM, "kafka: out of memory");
            return NULL;
        }
        int rc = fill(k, c);
        if (rc == 0 && c->n && (rc = decode_chunk(k, c)) < 0)
            fetch_fail(k, rc, "kafka: out of memory while decoding");
        pthread_mutex_lock(&k->mu);
        if (rc < 0 || k->stop || c->n == 0 || c->gen != k->gen) {
            chunk_release(k, c);
        } else {
            c->in_ready = 1;
            if (k->ready_tail)
                k->ready_tail->next = c;
            else
                k->ready = c;
            k->ready_tail = c;
            k->ahead_msgs += (int64_t)c->n;
            pthread_cond_signal(&k->ready_cv);
        }
        int stop = k->stop;
        pthread_mutex_unlock(&k->mu);
        if (rc < 0 || stop)
            return NULL;
    }
}

/* ---- the caller's thread ---- */

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ksrc *k = opaque;
    (void)rk;
    if (m->err && !k->delivery_failed) {
        k->delivery_failed = 1;
        snprintf(k->delivery_err, sizeof k->delivery_err, "delivery to %s failed: %s",
                 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
}

/* Gives back the chunks of the batch handed out last (everything in it is committed or will be
 * re-delivered); a chunk still partly ahead stays in the ready queue. */
static void release_batch(struct ksrc *k)
{
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->n_batch; i++) {
        struct chunk *c = k->batch[i].c;
        if (!c->in_batch)
            continue; /* listed twice: a chunk handed out in two slices */
        c->in_batch = 0;
        if (!c->in_ready)
            chunk_release(k, c);
    }
    k->n_batch = 0;
    pthread_mutex_unlock(&k->mu);
}

/* The next offset of every partition in the batch, for commit. */
static int note_offsets(struct ksrc *k)
{
    if (k->offsets)
        rd_kafka_topic_partition_list_destroy(k->offsets);
    if (!(k->offsets = rd_kafka_topic_partition_list_new(8)))
        return MTR_ENOMEM;
    const rd_kafka_message_t *last = NULL;
    int at = -1;
    for (size_t s = 0; s < k->n_batch; s++) {
        const struct slice *sl = &k->batch[s];
        for (size_t i = sl->from; i < sl->to; i++) {
            const rd_kafka_message_t *m = sl->c->km[i];
            if (!last || m->rkt != last->rkt || m->partition != last->partition) {
                const char *t = rd_kafka_topic_name(m->rkt);
                rd_kafka_topic_partition_t *p =
                    rd_kafka_topic_partition_list_find(k->offsets, t, m->partition);
                if (!p)
                    p = rd_kafka_topic_partition_list_add(k->offsets, t, m->partition);
                at = (int)(p - k->offsets->elems);
            }
            last = m;
            if (m->offset + 1 > k->offsets->elems[at].offset)
                k->offsets->elems[at].offset = m->offset + 1;
        }
    }
    return 0;
}

static int k_poll(struct mtr_msg_source *s, size_t cap, int timeout_ms,
                  const struct mtr_stream_msg **msgs, size_t *n, int *reset, struct mtr_errbuf *eb)
{
    struct ksrc *k = (struct ksrc *)s;
    size_t got = 0;
    int rc = 0;
    *n = 0;
    *msgs = k->out;
    *reset = k->stale;
    k->stale = 0;
    release_batch(k);
    if (cap == 0)
        return 0;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->mu);
    uint64_t gen = k->gen;
    for (;;) {
        if (k->fatal_rc) {
            rc = mtr_err(eb, k->fatal_rc, "%s", k->fatal_msg);
            break;
        }
        if (k->reset_pending) {
            *reset = 1;
            k->reset_pending = 0;
        }
        if (k->gen != gen) { /* a rebalance while this batch was gathered: drop it */
            for (size_t i = 0; i < k->n_batch; i++) {
                struct chunk *c = k->batch[i].c;
                if (c->in_batch && !c->in_ready)
                    chunk_release(k, c);
                c->in_batch = 0;
            }
            k->n_batch = 0;
            got = 0;
            break;
        }
        while (got < cap && k->ready) {
            struct chunk *c = k->ready;
            size_t take = c->n - c->pos < cap - got ? c->n - c->pos : cap - got;
            if (mtr_grow((void **)&k->batch, &k->cap_batch, k->n_batch + 1, sizeof *k->batch, 64) <
                0) {
                rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
                break;
            }
            k->batch[k->n_batch++] = (struct slice){c, c->pos, c->pos + take};
            c->in_batch = 1;
            c->pos += take;
            got += take;
            k->ahead_msgs -= (int64_t)take;
            if (c->pos == c->n) {
                k->ready = c->next;
                if (!k->ready)
                    k->ready_tail = NULL;
                c->in_ready = 0;
                c->next = NULL;
            }
            pthread_cond_signal(&k->space_cv);
        }
        if (rc < 0 || got >= cap)
            break;
        if (pthread_cond_timedwait(&k->ready_cv, &k->mu, &until) != 0 && !k->ready &&
            k->gen == gen && !k->fatal_rc)
            break; /* timed out */
    }
    k->in_flight = rc < 0 ? 0 : (int64_t)got;
    pthread_mutex_unlock(&k->mu);
    if (rc < 0)
        return rc;
    if (mtr_grow((void **)&k->out, &k->cap_out, got, sizeof *k->out, 256) < 0 ||
        note_offsets(k) < 0)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < k->n_batch; i++)
        for (size_t j = k->batch[i].from; j < k->batch[i].to; j++)
            k->out[o++] = k->batch[i].c->msgs[j];
    *msgs = k->out;
    *n = got;
    return 0;
}

static int produce(struct ksrc *k, const char *topic, const char *key, const char *val, size_t len,
                   rd_kafka_headers_t *hdrs)
{
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            k->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE((void *)val, len),
            RD_KAFKA_V_KEY((void *)key, key ? strlen(key) : 0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0; /* the headers now belong to the message */
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 600) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            k->delivery_failed = 1;
            snprintf(k->delivery_err, sizeof k->delivery_err, "produce to %s: %s", topic,
                     rd_kafka_err2str(err));
            return MTR_EIO;
        }
        rd_kafka_poll(k->producer, 100); /* serve delivery reports to make room */
    }
}

static int k_dead_letter(struct mtr_msg_source *s, const struct mtr_stream_msg *m, const char *raw,
                         size_t len, enum mtr_rule_id rule, const char *error)
{
    struct ksrc *k = (struct ksrc *)s;
    if (!k->dead_letter[0])
        return 0;
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    if (!h)
        return MTR_ENOMEM;
    rd_kafka_header_add(h, "metrify.rule", -1, mtr_rule(rule)->name, -1);
    rd_kafka_header_add(h, "metrify.error", -1, error, -1);
    rd_kafka_header_add(h, "metrify.source", -1, m->source, -1);
    rd_kafka_header_add(h, "metrify.kind", -1, mtr_kind_name(m->kind), -1);
    return produce(k, k->dead_letter, NULL, raw, len, h);
}

static int k_publish(struct mtr_msg_source *s, enum mtr_stream_out out, const char *key,
                     const char *json, size_t len)
{
    struct ksrc *k = (struct ksrc *)s;
    const char *topic = out == MTR_STREAM_OUT_ALERTS ? k->alerts : k->processed;
    if (!topic[0])
        return 1; /* output disabled: nothing published */
    return produce(k, topic, key, json, len, NULL);
}

/* The batch in flight is done with (committed, or given up): a rebalance may proceed. */
static void settle(struct ksrc *k)
{
    pthread_mutex_lock(&k->mu);
    k->in_flight = 0;
    pthread_cond_broadcast(&k->commit_cv);
    pthread_mutex_unlock(&k->mu);
}

static int k_commit(struct mtr_msg_source *s, struct mtr_errbuf *eb)
{
    struct ksrc *k = (struct ksrc *)s;
    int rc = 0;
    /* dead letters and publications first: the offsets are the promise that they exist */
    rd_kafka_flush(k->producer, FLUSH_TIMEOUT_MS);
    if (rd_kafka_outq_len(k->producer) > 0 && !k->delivery_failed) {
        k->delivery_failed = 1;
        snprintf(k->delivery_err, sizeof k->delivery_err, "%d messages not delivered after %d ms",
                 rd_kafka_outq_len(k->producer), FLUSH_TIMEOUT_MS);
    }
    if (k->delivery_failed)
        return mtr_err(eb, MTR_EIO, "kafka: %s", k->delivery_err);
    if (!k->offsets || k->offsets->cnt == 0) {
        settle(k);
        return 0;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(k->consumer, k->offsets, 0);
    if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
        err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION || err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
        err == RD_KAFKA_RESP_ERR__STATE) {
        /* The group moved on: the batch is durable in the store, and whoever owns these
         * partitions now re-reads it; the store absorbs the duplicates. */
        fprintf(stderr, "metrify: kafka: offset commit skipped: %s (batch will be re-delivered)\n",
                rd_kafka_err2str(err));
        k->stale = 1;
    } else if (err) {
        rc = mtr_err(eb, MTR_EIO, "kafka: offset commit failed: %s", rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(k->offsets);
    k->offsets = NULL;
    settle(k);
    return rc;
}

static int64_t k_lag(struct mtr_msg_source *s)
{
    struct ksrc *k = (struct ksrc *)s;
    rd_kafka_topic_partition_list_t *a = NULL;
    int64_t lag = 0;
    if (rd_kafka_assignment(k->consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    /* the consumer's position is past what the fetch thread took: add what waits decoded */
    if (rd_kafka_position(k->consumer, a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < a->cnt; i++) {
            int64_t lo, hi;
            if (rd_kafka_get_watermark_offsets(k->consumer, a->elems[i].topic,
                                               a->elems[i].partition, &lo,
                                               &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi < 0 || a->elems[i].offset < 0)
                continue;
            if (hi > a->elems[i].offset)
                lag += hi - a->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(a);
    pthread_mutex_lock(&k->mu);
    lag += k->ahead_msgs;
    pthread_mutex_unlock(&k->mu);
    return lag;
}

static int64_t k_ahead(struct mtr_msg_source *s, int64_t *dropped)
{
    struct ksrc *k = (struct ksrc *)s;
    pthread_mutex_lock(&k->mu);
    int64_t n = k->ahead_msgs;
    *dropped = k->dropped;
    pthread_mutex_unlock(&k->mu);
    return n;
}

static void k_close(struct mtr_msg_source *s)
{
    struct ksrc *k = (struct ksrc *)s;
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = 1;
    pthread_cond_broadcast(&k->space_cv);
    pthread_cond_broadcast(&k->commit_cv);
    pthread_mutex_unlock(&k->mu);
    if (k->thread_started)
        pthread_join(k->thread, NULL);
    /* every message goes back to librdkafka before the consumer closes */
    release_batch(k);
    pthread_mutex_lock(&k->mu);
    drop_ready(k);
    pthread_mutex_unlock(&k->mu);
    for (struct chunk *c = k->free_list, *next; c; c = next) {
        next = c->next;
        chunk_free(c);
    }
    k->free_list = NULL;
    if (k->offsets)
        rd_kafka_topic_partition_list_destroy(k->offsets);
    if (k->consumer) {
        /* leaves the group: partitions move at once (the rebalance callback runs here) */
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
    }
    if (k->producer) {
        rd_kafka_flush(k->producer, 5000);
        rd_kafka_destroy(k->producer);
    }
    free(k->batch);
    free(k->out);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->ready_cv);
    pthread_cond_destroy(&k->space_cv);
    pthread_cond_destroy(&k->commit_cv);
    free(k);
}

static const struct mtr_msg_source_ops kafka_ops = {
    .poll = k_poll,
    .dead_letter = k_dead_letter,
    .publish = k_publish,
    .commit = k_commit,
    .lag = k_lag,
    .close = k_close,
    .ahead = k_ahead,
};

int mtr_kafka_source_open(const struct mtr_kafka_opts *o, struct mtr_msg_source **out,
                          struct mtr_errbuf *eb)
{
    int rc = 0;
    char err[512];
    rd_kafka_conf_t *cc = NULL, *pc = NULL;
    rd_kafka_topic_partition_list_t *subs = NULL;
    struct ksrc *k = calloc(1, sizeof *k);
    *out = NULL;
    if (!k)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    k->base.ops = &kafka_ops;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->ready_cv, NULL);
    pthread_cond_init(&k->space_cv, NULL);
    pthread_cond_init(&k->commit_cv, NULL);
    k->decode = o->decode;
    k->decode_ctx = o->decode_ctx;
    k->ahead_max = o->ahead ? (int64_t)o->ahead : AHEAD_DEFAULT;
    if (!o->brokers || !*o->brokers) {
        rc = mtr_err(eb, MTR_EINVAL, "kafka: no bootstrap servers");
        goto fail;
    }
    if (!o->decode) {
        rc = mtr_err(eb, MTR_EINVAL, "kafka: no message decoder");
        goto fail;
    }
    for (int i = 0; i < 3; i++)
        snprintf(k->topics[i], sizeof k->topics[i], "%s", o->topics[i] ? o->topics[i] : "");
    snprintf(k->dead_letter, sizeof k->dead_letter, "%s", o->dead_letter ? o->dead_letter : "");
    snprintf(k->alerts, sizeof k->alerts, "%s", o->alerts ? o->alerts : "");
    snprintf(k->processed, sizeof k->processed, "%s", o->processed ? o->processed : "");

    cc = rd_kafka_conf_new();
    pc = rd_kafka_conf_new();
    if (!cc || !pc) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = mtr_kafka_conf_set(cc, "bootstrap.servers", o->brokers, eb)) < 0 ||
        (rc = mtr_kafka_conf_set(cc, "group.id", o->group ? o->group : MTR_KAFKA_GROUP_DEFAULT,
                                 eb)) < 0 ||
        (rc = mtr_kafka_conf_set(cc, "enable.auto.commit", "false", eb)) < 0 ||
        (rc = mtr_kafka_conf_set(cc, "enable.auto.offset.store", "false", eb)) < 0 ||
        (rc = mtr_kafka_conf_set(cc, "auto.offset.reset", "earliest", eb)) < 0 ||
        (rc = mtr_kafka_conf_set(cc, "enable.partition.eof", "false", eb)) < 0 ||
        (rc = mtr_kafka_conf_set(cc, "partition.assignment.strategy", "range,roundrobin", eb)) <
            0 ||
        (rc = mtr_kafka_conf_props(cc, o->props, o->nprops, eb)) < 0)
        goto fail;
    if ((rc = mtr_kafka_conf_set(pc, "bootstrap.servers", o->brokers, eb)) < 0 ||
        (rc = mtr_kafka_conf_set(pc, "acks", "all", eb)) < 0 ||
        (rc = mtr_kafka_conf_set(pc, "linger.ms", "20", eb)) < 0 ||
        (rc = mtr_kafka_conf_props(pc, o->props, o->nprops, eb)) < 0)
        goto fail;
    rd_kafka_conf_set_log_cb(cc, mtr_kafka_log);
    rd_kafka_conf_set_log_cb(pc, mtr_kafka_log);
    rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
    rd_kafka_conf_set_opaque(cc, k);
    rd_kafka_conf_set_dr_msg_cb(pc, delivery_cb);
    rd_kafka_conf_set_opaque(pc, k);

    k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    if (!k->producer) {
        rc = mtr_err(eb, MTR_EIO, "kafka producer: %s", err);
        goto fail;
    }
    pc = NULL; /* owned by the producer now */
    k->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    if (!k->consumer) {
        rc = mtr_err(eb, MTR_EIO, "kafka consumer: %s", err);
        goto fail;
    }
    cc = NULL;
    rd_kafka_poll_set_consumer(k->consumer);
    subs = rd_kafka_topic_partition_list_new(3);
    for (int i = 0; i < 3; i++)
        if (k->topics[i][0])
            rd_kafka_topic_partition_list_add(subs, k->topics[i], RD_KAFKA_PARTITION_UA);
    if (subs->cnt == 0) {
        rc = mtr_err(eb, MTR_EINVAL, "kafka: no topic to consume");
        goto fail;
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->consumer, subs);
    if (e) {
        rc = mtr_err(eb, MTR_EIO, "kafka subscribe: %s", rd_kafka_err2str(e));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(subs);
    subs = NULL;
    if (pthread_create(&k->thread, NULL, fetch_main, k) != 0) {
        rc = mtr_err(eb, MTR_EIO, "kafka: cannot start the fetch thread");
        goto fail;
    }
    k->thread_started = 1;
    pthread_setname_np(k->thread, "metrify-fetch"); /* for top and perf */
    *out = &k->base;
    return 0;
fail:
    if (subs)
        rd_kafka_topic_partition_list_destroy(subs);
    if (cc)
        rd_kafka_conf_destroy(cc);
    if (pc)
        rd_kafka_conf_destroy(pc);
    k_close(&k->base);
    return rc;
}
