/*
 * kafka_mock.c - test and benchmark driver around librdkafka's built-in mock cluster
 * (rdkafka_mock.h), so Kafka tests need no broker installation.
 *
 *   kafka_mock serve FILE [PARTITIONS]   start a mock cluster with every metrify topic (readings
 *                                        with PARTITIONS partitions, default 4), write its
 *                                        bootstrap servers to FILE, run until SIGTERM/SIGINT
 *   kafka_mock produce BOOTSTRAP METERS INTERVALS POISON [FIRST [POISON0 [PACE_MS]]]
 *                                        produce METERS x INTERVALS readings (15 min, interval
 *                                        FIRST.. after 2026-01-01, keyed by meter; plain objects,
 *                                        arrays of 5 and envelopes) and POISON poison messages
 *                                        with "poison": POISON0.. markers, sleeping PACE_MS after
 *                                        every 5 intervals; prints what it sent as JSON
 *                                        (BOOTSTRAP "-": the readings as NDJSON on stdout)
 *   kafka_mock dead-letters BOOTSTRAP    read metrify.dead-letter from the start; print the
 *                                        number of messages, of distinct poison markers, and of
 *                                        messages missing a metrify.* header, as JSON
 *   kafka_mock count BOOTSTRAP TOPIC     number of messages in TOPIC (all partitions)
 *   kafka_mock dump BOOTSTRAP TOPIC      every message of TOPIC as a JSON line
 *                                        {"partition", "key", "value"} (key and value as text)
 * KAFKA_MOCK_PREFIX=P (default "metrify") names the topics of serve, produce and dead-letters
 * P.readings, P.grid-status, ... (a configuration's topic names,
 * tests/integration/worker_config.sh).
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The topic PREFIX.suffix (KAFKA_MOCK_PREFIX, default "metrify") in one of 8 rotating buffers. */
static const char *topic_of(const char *suffix)
{
    static char buf[8][160];
    static int k;
    const char *p = getenv("KAFKA_MOCK_PREFIX");
    char *out = buf[k++ % 8];
    snprintf(out, sizeof buf[0], "%s.%s", p && *p ? p : "metrify", suffix);
    return out;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (bootstrap)
        rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(c, "linger.ms", "20", err, sizeof err);
        rd_kafka_conf_set(c, "acks", "all", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        exit(1);
    }
    return rk;
}

static int serve(const char *file, int partitions)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, NULL);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        return 1;
    }
    static const char *single[] = {"grid-status", "weather", "dead-letter", "alerts"};
    rd_kafka_mock_topic_create(mc, topic_of("readings"), partitions, 1);
    rd_kafka_mock_topic_create(mc, topic_of("readings.processed"), partitions, 1);
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
        rd_kafka_mock_topic_create(mc, topic_of(single[i]), 1, 1);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fclose(f);
    rename(tmp, file);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop)
        usleep(100000);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

static void send_one(rd_kafka_t *rk, const char *topic, const char *key, const char *val)
{
    if (!rk) { /* BOOTSTRAP "-": the records as NDJSON on stdout, for a file-ingest baseline */
        if (val[0] == '[' || strncmp(val, "{\"payload\"", 10) == 0)
            return; /* the same records also go out one by one (see produce) */
        puts(val);
        return;
    }
    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, strlen(key)),
                              RD_KAFKA_V_VALUE((void *)val, strlen(val)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "kafka_mock: produce: %s\n", rd_kafka_err2str(e));
            exit(1);
        }
        rd_kafka_poll(rk, 50);
    }
}

static int failed_deliveries;

static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    if (m->err)
        failed_deliveries++;
}

static const char *const poison_kinds[] = {
    "{\"poison\": %d, \"meter_id\": \"SM-P\", truncated", /* invalid JSON */
    "[{\"poison\": %d}, 17]",                             /* no id + non-object */
    "{\"poison\": %d, \"timestamp\": \"2026-01-01T00:00:00Z\", \"consumption_kwh\": 1}", /* no id */
    "{\"poison\": %d, \"meter_id\": \"SM-P\", \"timestamp\": \"2026-01-01T00:00:00Z\","
    " \"consumption_kwh\": \"abc\"}", /* not a number */
    "{\"poison\": %d, \"meter_id\": \"SM-P\", \"timestamp\": \"1999-01-01T00:00:00Z\","
    " \"consumption_kwh\": 1}", /* ancient: rule */
};

static int produce(const char *bootstrap, int meters, int intervals, int poison, int first,
                   int poison0, int pace_ms)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "linger.ms", "20", err, sizeof err);
    rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(c, dr);
    int file = strcmp(bootstrap, "-") == 0;
    rd_kafka_t *rk = file ? NULL : rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (file)
        rd_kafka_conf_destroy(c);
    else if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    const long long t0 = 1767225600; /* 2026-01-01T00:00:00Z */
    long long readings = 0, messages = 0, poisoned = 0;
    long long every = poison ? ((long long)meters * intervals / 5) / poison + 1 : 0;
    char key[32], val[2048];
    int blocks = intervals / 5;
    for (int b = 0; b < blocks; b++) {
        for (int m = 0; m < meters; m++) {
            snprintf(key, sizeof key, "SM%06d", m);
            int style = (b + m) % 3;
            size_t n = 0;
            if (style == 0)
                n += (size_t)snprintf(val, sizeof val, "[");
            for (int k = 0; k < 5; k++) {
                int i = first + b * 5 + k;
                long long ts = t0 + (long long)i * 900;
                time_t tt = (time_t)ts;
                struct tm tm;
                gmtime_r(&tt, &tm);
                char iso[32];
                strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
                double kwh = 0.2 + 0.01 * ((i + m) % 7);
                char one[256];
                snprintf(one, sizeof one,
                         "{\"meter_id\":\"%s\",\"timestamp\":\"%s\",\"consumption_kwh\":%.3f,"
                         "\"voltage_v\":230.1}",
                         key, iso, kwh);
                readings++;
                if (file)
                    puts(one);
                else if (style == 0) {
                    n += (size_t)snprintf(val + n, sizeof val - n, "%s%s", k ? "," : "", one);
                } else if (style == 1) {
                    send_one(rk, topic_of("readings"), key, one);
                    messages++;
                } else {
                    snprintf(val, sizeof val,
                             "{\"payload\":%s,\"metadata\":{\"source\":\"test\",\"seq\":%lld}}",
                             one, readings);
                    send_one(rk, topic_of("readings"), key, val);
                    messages++;
                }
            }
            if (style == 0 && !file) {
                snprintf(val + n, sizeof val - n, "]");
                send_one(rk, topic_of("readings"), key, val);
                messages++;
            }
            if (every && poisoned < poison && ((long long)b * meters + m) % every == every - 1) {
                snprintf(val, sizeof val, poison_kinds[poisoned % 5], (int)(poison0 + poisoned));
                send_one(rk, topic_of("readings"), key, val);
                poisoned++;
                messages++;
            }
            if (rk)
                rd_kafka_poll(rk, 0);
        }
        if (pace_ms && rk) {
            rd_kafka_flush(rk, 10000);
            usleep((useconds_t)pace_ms * 1000);
        }
    }
    while (poisoned < poison) {
        snprintf(val, sizeof val, poison_kinds[poisoned % 5], (int)(poison0 + poisoned));
        send_one(rk, topic_of("readings"), "SM-P", val);
        poisoned++;
        messages++;
    }
    if (file)
        return 0;
    rd_kafka_flush(rk, 60000);
    int left = rd_kafka_outq_len(rk);
    rd_kafka_destroy(rk);
    printf("{\"readings\": %lld, \"messages\": %lld, \"poison\": %lld, \"undelivered\": %d}\n",
           readings, messages, poisoned, left + failed_deliveries);
    return left + failed_deliveries ? 1 : 0;
}

/* Reads every partition of topic from the beginning to the high watermark; cb per message. */
static long long read_all(const char *bootstrap, const char *topic,
                          void (*cb)(void *ctx, const rd_kafka_message_t *m), void *ctx)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "group.id", "kafka-mock-reader", err, sizeof err);
    rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        exit(1);
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1) {
        fprintf(stderr, "kafka_mock: no metadata for %s\n", topic);
        exit(1);
    }
    int np = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(np);
    long long want = 0, got = 0;
    for (int p = 0; p < np; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000)) {
            fprintf(stderr, "kafka_mock: watermarks of %s/%d\n", topic, p);
            exit(1);
        }
        want += hi - lo;
        rd_kafka_topic_partition_list_add(a, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, a);
    rd_kafka_topic_partition_list_destroy(a);
    int idle = 0;
    while (got < want && idle < 100) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            idle++;
            continue;
        }
        idle = 0;
        if (!m->err) {
            got++;
            if (cb)
                cb(ctx, m);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got != want)
        fprintf(stderr, "kafka_mock: read %lld of %lld messages of %s\n", got, want, topic);
    return got;
}

struct dlq {
    unsigned char seen[100000];
    long long distinct, missing_headers, with_rule[8];
};

static void on_dead_letter(void *ctx, const rd_kafka_message_t *m)
{
    struct dlq *d = ctx;
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, "metrify.rule", &v, &len) ||
        rd_kafka_header_get_last(h, "metrify.error", &v, &len) ||
        rd_kafka_header_get_last(h, "metrify.source", &v, &len))
        d->missing_headers++;
    char buf[4096];
    size_t n = m->len < sizeof buf - 1 ? m->len : sizeof buf - 1;
    memcpy(buf, m->payload, n);
    buf[n] = 0;
    const char *p = strstr(buf, "\"poison\"");
    if (p && (p = strchr(p, ':'))) {
        int id = atoi(p + 1);
        if (id >= 0 && id < (int)sizeof d->seen && !d->seen[id]) {
            d->seen[id] = 1;
            d->distinct++;
        }
    }
}

static void on_dump(void *ctx, const rd_kafka_message_t *m)
{
    (void)ctx;
    json_t *line = json_pack("{s:i,s:s%,s:s%}", "partition", (int)m->partition, "key",
                             m->key ? (const char *)m->key : "", m->key ? m->key_len : 0, "value",
                             m->payload ? (const char *)m->payload : "", m->payload ? m->len : 0);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text)
        puts(text);
    free(text);
    json_decref(line);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2], argc > 3 ? atoi(argv[3]) : 4);
    if (argc >= 6 && argc <= 9 && strcmp(argv[1], "produce") == 0)
        return produce(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
                       argc > 6 ? atoi(argv[6]) : 0, argc > 7 ? atoi(argv[7]) : 0,
                       argc > 8 ? atoi(argv[8]) : 0);
    if (argc == 3 && strcmp(argv[1], "dead-letters") == 0) {
        static struct dlq d;
        long long n = read_all(argv[2], topic_of("dead-letter"), on_dead_letter, &d);
        printf("{\"messages\": %lld, \"distinct_poison\": %lld, \"missing_headers\": %lld}\n", n,
               d.distinct, d.missing_headers);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "dump") == 0) {
        read_all(argv[2], argv[3], on_dump, NULL);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "count") == 0) {
        printf("%lld\n", read_all(argv[2], argv[3], NULL, NULL));
        return 0;
    }
    fprintf(stderr, "usage: kafka_mock serve FILE [PARTITIONS] | produce BOOTSTRAP METERS "
                    "INTERVALS POISON [FIRST [POISON0 [PACE_MS]]] | dead-letters BOOTSTRAP | count "
                    "BOOTSTRAP TOPIC | dump BOOTSTRAP TOPIC\n");
    return 2;
}
