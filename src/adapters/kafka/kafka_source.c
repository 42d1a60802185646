/*
 * kafka_source.c - librdkafka consumer + producer behind the message-source port (see
 * kafka_source.h). One thread: rebalance and delivery callbacks run inside our own poll/flush
 * calls, so they never race with batch processing.
 */
#include "adapters/kafka/kafka_source.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLUSH_TIMEOUT_MS 30000
#define SOURCE_MAX       192

struct ksrc {
    struct mtr_msg_source base;
    rd_kafka_t *consumer, *producer;
    char topics[3][256];
    char dead_letter[256], alerts[256], processed[256];
    /* the batch of the last poll: owned messages and their port view */
    rd_kafka_message_t **held;
    struct mtr_stream_msg *msgs;
    char (*sources)[SOURCE_MAX];
    size_t n_held, cap;
    int reset;           /* set by the rebalance callback: drop what this poll collected */
    int stale;           /* an offset commit was refused: report a reset, drop nothing */
    int delivery_failed; /* set by the delivery callback */
    char delivery_err[256];
    int64_t last_error_log; /* time of the last transient consumer error printed */
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

static void drop_held(struct ksrc *k)
{
    for (size_t i = 0; i < k->n_held; i++)
        rd_kafka_message_destroy(k->held[i]);
    k->n_held = 0;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct ksrc *k = opaque;
    /* Everything processed before this poll is committed; what this poll collected is dropped
     * by the caller (k->reset) and fetched again from the committed offsets. */
    k->reset = 1;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        rd_kafka_assign(rk, parts);
    else
        rd_kafka_assign(rk, NULL);
}

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

/* librdkafka logs through here: its warning that a consumer property means nothing to the
 * producer (we give both clients the same -X list) is noise; the rest goes to stderr. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (strcmp(fac, "CONFWARN") == 0)
        return;
    fprintf(stderr, "metrify: kafka: %d %s: %s\n", level, fac, buf);
}

static int conf_set(rd_kafka_conf_t *c, const char *key, const char *val, struct mtr_errbuf *eb)
{
    char err[256];
    if (rd_kafka_conf_set(c, key, val, err, sizeof err) != RD_KAFKA_CONF_OK)
        return mtr_err(eb, MTR_EINVAL, "kafka property %s=%s: %s", key, val, err);
    return 0;
}

/* Applies the user's "key=value" properties; producer-only/consumer-only keys are skipped for the
 * other client (librdkafka warns about them, it does not fail). */
static int conf_props(rd_kafka_conf_t *c, const struct mtr_kafka_opts *o, struct mtr_errbuf *eb)
{
    for (int i = 0; i < o->nprops; i++) {
        char key[128];
        const char *eq = strchr(o->props[i], '=');
        if (!eq || eq == o->props[i] || (size_t)(eq - o->props[i]) >= sizeof key)
            return mtr_err(eb, MTR_EINVAL, "kafka property '%s': expected key=value", o->props[i]);
        memcpy(key, o->props[i], (size_t)(eq - o->props[i]));
        key[eq - o->props[i]] = 0;
        if (strcmp(key, "partition.assignment.strategy") == 0 && strstr(eq + 1, "cooperative"))
            return mtr_err(eb, MTR_EINVAL,
                           "kafka property %s: only eager assignors (range, roundrobin) are "
                           "supported",
                           o->props[i]);
        int rc = conf_set(c, key, eq + 1, eb);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int kind_of(const struct ksrc *k, const char *topic)
{
    for (int i = 0; i < 3; i++)
        if (k->topics[i][0] && strcmp(k->topics[i], topic) == 0)
            return i;
    return MTR_KIND_READING;
}

static int grow(struct ksrc *k, size_t cap)
{
    if (cap <= k->cap)
        return 0;
    rd_kafka_message_t **h = realloc(k->held, cap * sizeof *h);
    if (!h)
        return MTR_ENOMEM;
    k->held = h;
    struct mtr_stream_msg *m = realloc(k->msgs, cap * sizeof *m);
    if (!m)
        return MTR_ENOMEM;
    k->msgs = m;
    char(*s)[SOURCE_MAX] = realloc(k->sources, cap * sizeof *s);
    if (!s)
        return MTR_ENOMEM;
    k->sources = s;
    k->cap = cap;
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int k_poll(struct mtr_msg_source *s, size_t cap, int timeout_ms,
                  const struct mtr_stream_msg **msgs, size_t *n, int *reset, struct mtr_errbuf *eb)
{
    struct ksrc *k = (struct ksrc *)s;
    *n = 0;
    *reset = k->stale;
    k->stale = 0;
    drop_held(k);
    if (grow(k, cap) < 0)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    int64_t deadline = mono_ms() + timeout_ms;
    while (k->n_held < cap) {
        int64_t left = deadline - mono_ms();
        if (left < 0)
            left = 0;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, (int)left);
        if (k->reset) {
            /* partitions moved: what this poll collected is not ours to process any more */
            k->reset = 0;
            *reset = 1;
            drop_held(k);
        }
        if (!m) {
            if (left == 0)
                break;
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
                char fatal[256];
                rd_kafka_fatal_error(k->consumer, fatal, sizeof fatal);
                return mtr_err(eb, MTR_EIO, "kafka: fatal: %s", fatal);
            }
            /* transient (broker down, topic not there yet): librdkafka retries by itself */
            int64_t t = mono_ms();
            if (t - k->last_error_log > 10000) {
                k->last_error_log = t;
                fprintf(stderr, "metrify: kafka: %s (retrying)\n", what);
            }
            continue;
        }
        size_t i = k->n_held++;
        k->held[i] = m;
        snprintf(k->sources[i], SOURCE_MAX, "%s/%d/%lld", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, (long long)m->offset);
        k->msgs[i] = (struct mtr_stream_msg){.payload = m->payload ? m->payload : "",
                                             .len = m->len,
                                             .kind = kind_of(k, rd_kafka_topic_name(m->rkt)),
                                             .source = k->sources[i],
                                             .entity_id = NULL};
        /* past the deadline, left == 0: keep draining what is already fetched, no waiting */
    }
    *msgs = k->msgs;
    *n = k->n_held;
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

static int k_commit(struct mtr_msg_source *s, struct mtr_errbuf *eb)
{
    struct ksrc *k = (struct ksrc *)s;
    int rc = 0;
    rd_kafka_topic_partition_list_t *list = NULL;
    /* dead letters and publications first: the offsets are the promise that they exist */
    rd_kafka_flush(k->producer, FLUSH_TIMEOUT_MS);
    if (rd_kafka_outq_len(k->producer) > 0 && !k->delivery_failed) {
        k->delivery_failed = 1;
        snprintf(k->delivery_err, sizeof k->delivery_err, "%d messages not delivered after %d ms",
                 rd_kafka_outq_len(k->producer), FLUSH_TIMEOUT_MS);
    }
    if (k->delivery_failed)
        return mtr_err(eb, MTR_EIO, "kafka: %s", k->delivery_err);
    if (k->n_held == 0)
        return 0;
    list = rd_kafka_topic_partition_list_new(8);
    if (!list)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->n_held; i++) {
        const rd_kafka_message_t *m = k->held[i];
        const char *t = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(list, t, m->partition);
        if (!p)
            p = rd_kafka_topic_partition_list_add(list, t, m->partition);
        if (m->offset + 1 > p->offset)
            p->offset = m->offset + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(k->consumer, list, 0);
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
    rd_kafka_topic_partition_list_destroy(list);
    drop_held(k);
    return rc;
}

static int64_t k_lag(struct mtr_msg_source *s)
{
    struct ksrc *k = (struct ksrc *)s;
    rd_kafka_topic_partition_list_t *a = NULL;
    int64_t lag = 0;
    if (rd_kafka_assignment(k->consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
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
    return lag;
}

static void k_close(struct mtr_msg_source *s)
{
    struct ksrc *k = (struct ksrc *)s;
    if (!k)
        return;
    drop_held(k);
    if (k->consumer) {
        rd_kafka_consumer_close(k->consumer); /* leaves the group: partitions move at once */
        rd_kafka_destroy(k->consumer);
    }
    if (k->producer) {
        rd_kafka_flush(k->producer, 5000);
        rd_kafka_destroy(k->producer);
    }
    free(k->held);
    free(k->msgs);
    free(k->sources);
    free(k);
}

static const struct mtr_msg_source_ops kafka_ops = {
    .poll = k_poll,
    .dead_letter = k_dead_letter,
    .publish = k_publish,
    .commit = k_commit,
    .lag = k_lag,
    .close = k_close,
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
    if (!o->brokers || !*o->brokers) {
        rc = mtr_err(eb, MTR_EINVAL, "kafka: no bootstrap servers");
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
    if ((rc = conf_set(cc, "bootstrap.servers", o->brokers, eb)) < 0 ||
        (rc = conf_set(cc, "group.id", o->group ? o->group : MTR_KAFKA_GROUP_DEFAULT, eb)) < 0 ||
        (rc = conf_set(cc, "enable.auto.commit", "false", eb)) < 0 ||
        (rc = conf_set(cc, "enable.auto.offset.store", "false", eb)) < 0 ||
        (rc = conf_set(cc, "auto.offset.reset", "earliest", eb)) < 0 ||
        (rc = conf_set(cc, "enable.partition.eof", "false", eb)) < 0 ||
        (rc = conf_set(cc, "partition.assignment.strategy", "range,roundrobin", eb)) < 0 ||
        (rc = conf_props(cc, o, eb)) < 0)
        goto fail;
    if ((rc = conf_set(pc, "bootstrap.servers", o->brokers, eb)) < 0 ||
        (rc = conf_set(pc, "acks", "all", eb)) < 0 ||
        (rc = conf_set(pc, "linger.ms", "20", eb)) < 0 || (rc = conf_props(pc, o, eb)) < 0)
        goto fail;
    rd_kafka_conf_set_log_cb(cc, log_cb);
    rd_kafka_conf_set_log_cb(pc, log_cb);
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
