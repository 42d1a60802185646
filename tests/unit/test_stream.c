/*
 * test_stream.c - the streaming ingest use case (app/stream.c) with the JSON message decoder,
 * on a real SQLite store and a scripted in-memory message source: message shapes (object, array,
 * envelope), dead letters with their rules, re-delivery after a rebalance as a no-op (store and
 * rollups unchanged), acknowledgement only after the store committed, SIGTERM-style stop, and
 * the processed-reading JSON.
 */
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/sqlite/reading_blocks.h"
#include "adapters/io/decode_msg.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/stream.h"
#include "t.h"

#define MAXMSG 64

/* A scripted source: polls hand out `per_poll` messages from a list; after the list ends the
 * script can rewind once with a reset (re-delivery after a rebalance). */
struct fake {
    struct mtr_msg_source base;
    const char *payloads[MAXMSG];
    enum mtr_kind kinds[MAXMSG]; /* 0 = readings */
    int n, next, per_poll, rewind_once, polls;
    struct mtr_stream_msg out[MAXMSG];
    char sources[MAXMSG][32];
    const char *db_path;
    int commits, acked, acked_but_not_durable;
    int dead, dead_rules[MAXMSG];
    char dead_raw[MAXMSG][128];
    int published, processed, alerts, estimates;
    char last_alert[512];
    volatile sig_atomic_t *stop_after_first; /* set *stop during the first poll */
};

static int64_t durable_readings(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    /* readings is a row view over the store's blocks: registered per connection */
    if (sqlite3_open(path, &db) == SQLITE_OK && mtr_rb_register_sql(db) == 0 &&
        sqlite3_prepare_v2(db, "select count(*) from readings", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static int f_poll(struct mtr_msg_source *s, size_t cap, int timeout_ms,
                  const struct mtr_stream_msg **msgs, size_t *n, int *reset, struct mtr_errbuf *eb)
{
    struct fake *f = (struct fake *)s;
    (void)timeout_ms, (void)eb;
    *reset = 0;
    *n = 0;
    if (f->stop_after_first && f->polls == 0)
        *f->stop_after_first = 1;
    f->polls++;
    if (f->next >= f->n && f->rewind_once) {
        f->rewind_once = 0;
        f->next = 0;
        *reset = 1;
    }
    while (*n < cap && (int)*n < f->per_poll && f->next < f->n) {
        int i = f->next++;
        snprintf(f->sources[*n], sizeof f->sources[*n], "fake/0/%d", i);
        f->out[*n] = (struct mtr_stream_msg){.payload = f->payloads[i],
                                             .len = strlen(f->payloads[i]),
                                             .kind = f->kinds[i],
                                             .source = f->sources[*n]};
        (*n)++;
    }
    *msgs = f->out;
    return 0;
}

static int f_dead_letter(struct mtr_msg_source *s, const struct mtr_stream_msg *m, const char *raw,
                         size_t len, enum mtr_rule_id rule, const char *error)
{
    struct fake *f = (struct fake *)s;
    (void)m, (void)error;
    if (f->dead < MAXMSG) {
        f->dead_rules[f->dead] = rule;
        snprintf(f->dead_raw[f->dead], sizeof f->dead_raw[f->dead], "%.*s", (int)len, raw);
    }
    f->dead++;
    return 0;
}

static int f_publish(struct mtr_msg_source *s, enum mtr_stream_out out, const char *key,
                     const char *json, size_t len)
{
    struct fake *f = (struct fake *)s;
    (void)key, (void)len;
    f->published++;
    if (out == MTR_STREAM_OUT_PROCESSED && strstr(json, "\"meter_id\":\"SM"))
        f->processed++;
    if (out == MTR_STREAM_OUT_PROCESSED && strstr(json, "\"raw_kwh\":null"))
        f->estimates++;
    if (out == MTR_STREAM_OUT_ALERTS) {
        f->alerts++;
        snprintf(f->last_alert, sizeof f->last_alert, "%s", json);
    }
    return 0;
}

static int f_commit(struct mtr_msg_source *s, struct mtr_errbuf *eb)
{
    struct fake *f = (struct fake *)s;
    (void)eb;
    f->commits++;
    /* another connection must already see the batch: acknowledged implies durable */
    if (durable_readings(f->db_path) <= 0)
        f->acked_but_not_durable++;
    return 0;
}

static int64_t f_lag(struct mtr_msg_source *s)
{
    (void)s;
    return -1;
}

static void f_close(struct mtr_msg_source *s)
{
    (void)s;
}

static const struct mtr_msg_source_ops fake_ops = {.poll = f_poll,
                                                   .dead_letter = f_dead_letter,
                                                   .publish = f_publish,
                                                   .commit = f_commit,
                                                   .lag = f_lag,
                                                   .close = f_close};

static const char *tmp_db(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "/tmp/metrify_test_stream_%d_%s.db", (int)getpid(), name);
    unlink(buf);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", buf);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", buf);
    unlink(side);
    return buf;
}

static struct mtr_msg_decoder dec; /* the tests run one at a time */

static void opts_init(struct mtr_stream_opts *o, struct mtr_format *fmt)
{
    memset(o, 0, sizeof *o);
    mtr_params_default(&o->ingest.params);
    mtr_format_init(fmt);
    mtr_msg_decoder_init(&dec, fmt);
    o->decode = mtr_decode_message;
    o->decode_ctx = &dec;
    o->batch_max = 100;
    o->batch_ms = 1;
    o->idle_exit_ms = 1;
    o->publish = 1;
}

static int64_t scalar(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK && mtr_rb_register_sql(db) == 0 &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define R(id, ts, kwh)                                                                             \
    "{\"meter_id\":\"" id "\",\"timestamp\":\"" ts "\",\"consumption_kwh\":" kwh "}"

static const char *good[] = {
    R("SM1", "2026-01-01T00:00:00Z", "0.25"),
    "[" R("SM1", "2026-01-01T00:15:00Z", "0.26") "," R("SM1", "2026-01-01T00:30:00Z", "0.27") "]",
    "{\"payload\":" R("SM2", "2026-01-01T00:00:00Z", "0.5") ",\"metadata\":{\"seq\":1}}",
    "{\"payload\":[" R("SM2", "2026-01-01T00:15:00Z", "0.5") "," R("SM2", "2026-01-01T00:30:00Z",
                                                                   "0.5") "],\"metadata\":{}}",
};

static void test_shapes_and_redelivery(void)
{
    char path[512];
    struct mtr_errbuf eb = {{0}};
    struct mtr_store *store = NULL;
    T_EQ_INT(mtr_sqlite_open(tmp_db(path, sizeof path, "shapes"), &store, &eb), 0);
    struct fake f = {.base.ops = &fake_ops, .per_poll = 2, .rewind_once = 1, .db_path = path};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        f.payloads[f.n++] = good[i];
    struct mtr_stream_opts o;
    struct mtr_format fmt;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    opts_init(&o, &fmt);
    T_EQ_INT(mtr_stream_run(store, &f.base, &o, &st, &eb), 0);
    /* 4 messages delivered twice (rewind after a reset), 6 readings each time */
    T_EQ_INT(st.messages, 8);
    T_EQ_INT(st.records, 12);
    T_EQ_INT(st.stored, 12);
    T_EQ_INT(st.ingest.duplicates, 6);
    T_EQ_INT(st.resets, 1);
    T_EQ_INT(st.rejected, 0);
    T_EQ_INT(f.dead, 0);
    T_EQ_INT(f.acked_but_not_durable, 0);
    T_EQ_INT(f.commits, 4);
    T_EQ_INT(st.batches, 4);
    T_EQ_INT(f.processed, 12); /* duplicates are reported again: at-least-once output */
    T_EQ_INT(scalar(path, "select count(*) from readings"), 6);
    /* the re-delivery did not count twice in the rollups */
    T_EQ_INT(scalar(path, "select sum(n_valid + n_flagged + n_estimated) from rollup_daily"), 6);
    T_EQ_INT(scalar(path, "select sum(n) from rollup_hourly"),
             scalar(path, "select sum(n_valid) from rollup_daily"));
    T_EQ_INT(scalar(path, "select count(*) from meters"), 2);
    store->ops->close(store);
    unlink(path);
}

static void test_dead_letters(void)
{
    char path[512];
    struct mtr_errbuf eb = {{0}};
    struct mtr_store *store = NULL;
    T_EQ_INT(mtr_sqlite_open(tmp_db(path, sizeof path, "dlq"), &store, &eb), 0);
    struct fake f = {.base.ops = &fake_ops, .per_poll = 10, .db_path = path};
    f.payloads[f.n++] = "{\"meter_id\": \"SM1\", broken";
    f.payloads[f.n++] = "42";
    f.payloads[f.n++] = "[" R("SM1", "2026-01-01T00:00:00Z", "0.25") ", 7]";
    f.payloads[f.n++] = "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"consumption_kwh\":1}";
    f.payloads[f.n++] = R("SM1", "2026-01-01T00:15:00Z", "\"abc\"");
    f.payloads[f.n++] = R("SM1", "1999-01-01T00:00:00Z", "1");
    f.payloads[f.n++] = "[]";
    f.payloads[f.n++] =
        "[" R("SM1", "2026-01-01T00:30:00Z", "0.3") "," R("SM1", "1998-01-01T00:00:00Z", "0.3") "]";
    struct mtr_stream_opts o;
    struct mtr_format fmt;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    opts_init(&o, &fmt);
    T_EQ_INT(mtr_stream_run(store, &f.base, &o, &st, &eb), 0);
    T_EQ_INT(st.messages, 8);
    T_EQ_INT(st.stored, 2);
    T_EQ_INT(st.rejected, 8);
    T_EQ_INT(st.dead_lettered, 8);
    T_EQ_INT(f.dead, 8);
    T_EQ_INT(f.dead_rules[0], MTR_R_PARSE_JSON);
    T_EQ_INT(f.dead_rules[1], MTR_R_PARSE_JSON);
    T_EQ_INT(f.dead_rules[2], MTR_R_PARSE_JSON); /* the 7 in the array, alone */
    T_EQ_STR(f.dead_raw[2], "7");
    T_EQ_INT(f.dead_rules[3], MTR_R_REQUIRED);
    T_EQ_INT(f.dead_rules[4], MTR_R_NUMBER);
    T_EQ_INT(f.dead_rules[5], MTR_R_TIME_ANCIENT); /* decoded, then rejected by the pipeline */
    T_CHECK(strstr(f.dead_raw[5], "1999-01-01") != NULL);
    T_EQ_INT(f.dead_rules[6], MTR_R_PARSE_JSON);
    /* a batch element rejected by the pipeline is dead-lettered alone, rendered on demand */
    T_EQ_INT(f.dead_rules[7], MTR_R_TIME_ANCIENT);
    T_CHECK(f.dead_raw[7][0] == '{' && strstr(f.dead_raw[7], "1998-01-01") != NULL &&
            strstr(f.dead_raw[7], "00:30:00") == NULL);
    T_EQ_INT(scalar(path, "select count(*) from quarantine"), 8);
    T_EQ_INT(scalar(path, "select count(*) from quarantine where source = 'fake/0/4' and "
                          "rule = 'number'"),
             1);
    store->ops->close(store);
    unlink(path);
}

static void test_mqtt_topic_id_and_stop(void)
{
    char path[512];
    struct mtr_errbuf eb = {{0}};
    struct mtr_store *store = NULL;
    T_EQ_INT(mtr_sqlite_open(tmp_db(path, sizeof path, "stop"), &store, &eb), 0);
    static volatile sig_atomic_t stop;
    stop = 0;
    struct fake f = {.base.ops = &fake_ops, .per_poll = 1, .db_path = path};
    f.stop_after_first = &stop;
    f.payloads[f.n++] = "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"consumption_kwh\":0.1}";
    f.payloads[f.n++] = "{\"timestamp\":\"2026-01-01T00:15:00Z\",\"consumption_kwh\":0.1}";
    struct mtr_stream_opts o;
    struct mtr_format fmt;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    opts_init(&o, &fmt);
    o.idle_exit_ms = 0;
    o.stop = &stop;
    snprintf(fmt.meter_id, sizeof fmt.meter_id, "TOPIC-METER"); /* as an MQTT topic gives it */
    T_EQ_INT(mtr_stream_run(store, &f.base, &o, &st, &eb), 0);
    /* stop was raised during the first poll: that batch is finished and committed, no more */
    T_EQ_INT(st.messages, 1);
    T_EQ_INT(st.batches, 1);
    T_EQ_INT(f.commits, 1);
    T_EQ_INT(scalar(path, "select count(*) from meters where meter_id = 'TOPIC-METER'"), 1);
    T_EQ_INT(scalar(path, "select count(*) from readings"), 1);
    store->ops->close(store);
    unlink(path);
}

struct captured {
    int records, errors;
    char id[MTR_ID_MAX];
};

static int capture(void *ctx, const struct mtr_record *rec, const struct mtr_record_error *err,
                   const char *raw, size_t raw_len)
{
    struct captured *c = ctx;
    (void)raw, (void)raw_len;
    if (err) {
        c->errors++;
        return 0;
    }
    c->records++;
    snprintf(c->id, sizeof c->id, "%s", rec->u.reading.meter_id);
    return 0;
}

static void test_entity_id_from_message(void)
{
    struct mtr_format fmt;
    mtr_format_init(&fmt);
    struct mtr_stream_msg m = {.payload = "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":0.1}",
                               .kind = MTR_KIND_READING,
                               .source = "metrify/SM9/readings",
                               .entity_id = "SM9"};
    m.len = strlen(m.payload);
    struct captured c = {0};
    struct mtr_msg_decoder d;
    mtr_msg_decoder_init(&d, &fmt);
    T_EQ_INT(mtr_decode_message(&d, &m, capture, &c), 0);
    T_EQ_INT(c.records, 1);
    T_EQ_STR(c.id, "SM9");
    /* an id in the payload wins over the topic's */
    m.payload = "{\"meter_id\":\"SM7\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":0.1}";
    m.len = strlen(m.payload);
    T_EQ_INT(mtr_decode_message(&d, &m, capture, &c), 0);
    T_EQ_STR(c.id, "SM7");
    /* without a channel id the record lacks one */
    m.entity_id = NULL;
    m.payload = "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"kwh\":0.1}";
    m.len = strlen(m.payload);
    T_EQ_INT(mtr_decode_message(&d, &m, capture, &c), 0);
    T_EQ_INT(c.errors, 1);
    T_EQ_STR(fmt.meter_id, ""); /* the caller's format is not modified */
}

static void test_reading_json(void)
{
    struct mtr_stored_reading r = {.meter_key = 1,
                                   .ts = 1767225600,
                                   .interval_s = 900,
                                   .raw_kwh = 0.25,
                                   .kwh = 0.25,
                                   .quality_code = 0,
                                   .flags = 0,
                                   .score = 1.0};
    char buf[512];
    size_t n = mtr_stream_reading_json(buf, sizeof buf, "SM1", &r);
    T_EQ_INT(n, strlen(buf));
    T_CHECK(strstr(buf, "\"meter_id\":\"SM1\"") != NULL);
    T_CHECK(strstr(buf, "\"timestamp\":\"2026-01-01T00:00:00Z\"") != NULL);
    T_CHECK(strstr(buf, "\"kwh\":0.25") != NULL);
    r.raw_kwh = NAN;
    mtr_stream_reading_json(buf, sizeof buf, "SM1", &r);
    T_CHECK(strstr(buf, "\"raw_kwh\":null") != NULL);
    char small[16];
    n = mtr_stream_reading_json(small, sizeof small, "SM1", &r);
    T_EQ_INT(n, sizeof small - 1);
    /* ids and details come from the data: escaped, so the document stays JSON */
    n = mtr_stream_reading_json(buf, sizeof buf, "S\"M\\1", &r);
    T_CHECK(strstr(buf, "\"meter_id\":\"S\\\"M\\\\1\"") != NULL);
    struct mtr_alert a;
    memset(&a, 0, sizeof a);
    a.source = MTR_KIND_WEATHER;
    a.type = MTR_R_MONITOR_WEATHER_STALE;
    a.level = MTR_LEVEL_HIGH;
    a.start_ts = 1767225600;
    a.end_ts = 1767229200;
    a.score = 0.8;
    a.value = 7.5;
    snprintf(a.entity_id, sizeof a.entity_id, "ST\"1");
    snprintf(a.detail, sizeof a.detail, "no observation for 7.5 h\n");
    n = mtr_stream_alert_json(buf, sizeof buf, &a);
    json_error_t jerr;
    json_t *v = json_loadb(buf, n, 0, &jerr);
    T_CHECK(v != NULL);
    T_EQ_STR(json_string_value(json_object_get(v, "entity_id")), "ST\"1");
    T_EQ_STR(json_string_value(json_object_get(v, "type")), "monitor.weather_stale");
    T_EQ_STR(json_string_value(json_object_get(v, "source")), "weather");
    T_EQ_STR(json_string_value(json_object_get(v, "start")), "2026-01-01T00:00:00Z");
    T_EQ_STR(json_string_value(json_object_get(v, "detail")), "no observation for 7.5 h\n");
    json_decref(v);
}

static void test_grid_and_weather(void)
{
    char path[512];
    struct mtr_errbuf eb = {{0}};
    struct mtr_store *store = NULL;
    T_EQ_INT(mtr_sqlite_open(tmp_db(path, sizeof path, "gw"), &store, &eb), 0);
    struct fake f = {.base.ops = &fake_ops, .per_poll = 3, .rewind_once = 1, .db_path = path};
    f.kinds[f.n] = MTR_KIND_GRID;
    f.payloads[f.n++] = "[{\"operator_id\":\"TSO1\",\"timestamp\":\"2026-01-01T00:00:00Z\","
                        "\"frequency_hz\":50.01},{\"operator_id\":\"TSO1\",\"timestamp\":"
                        "\"2026-01-01T00:15:00Z\",\"frequency_hz\":49.99}]";
    f.kinds[f.n] = MTR_KIND_WEATHER;
    f.payloads[f.n++] = "{\"payload\":{\"station_id\":\"ST1\",\"timestamp\":"
                        "\"2026-01-01T00:00:00Z\",\"temperature_c\":4.5},\"metadata\":{}}";
    f.kinds[f.n] = MTR_KIND_READING;
    f.payloads[f.n++] = R("SM1", "2026-01-01T00:00:00Z", "0.25");
    struct mtr_stream_opts o;
    struct mtr_format fmt;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    opts_init(&o, &fmt);
    T_EQ_INT(mtr_stream_run(store, &f.base, &o, &st, &eb), 0);
    T_EQ_INT(st.messages, 6); /* delivered twice */
    T_EQ_INT(st.stored, 8);
    T_EQ_INT(st.rejected, 0);
    T_EQ_INT(scalar(path, "select count(*) from grid_status"), 2);
    T_EQ_INT(scalar(path, "select count(*) from weather_observations"), 1);
    T_EQ_INT(scalar(path, "select count(*) from readings"), 1);
    /* the grid day rollup is rebuilt, not added to, on re-delivery */
    T_EQ_INT(scalar(path, "select sum(n) from rollup_grid_daily"), 2);
    store->ops->close(store);
    unlink(path);
}

/* Another writer holds the SQLite write lock for longer than the store's busy timeout (5 s). */
struct locker {
    const char *path;
    sqlite3 *db;
    int ms;
};

static void *hold_lock(void *arg)
{
    struct locker *l = arg;
    struct timespec ts = {.tv_sec = l->ms / 1000, .tv_nsec = (l->ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

static void test_store_busy_retry(void)
{
    char path[512];
    struct mtr_errbuf eb = {{0}};
    struct mtr_store *store = NULL;
    T_EQ_INT(mtr_sqlite_open(tmp_db(path, sizeof path, "busy"), &store, &eb), 0);
    struct locker l = {.path = path, .ms = 5600};
    T_EQ_INT(sqlite3_open(path, &l.db), SQLITE_OK);
    T_EQ_INT(sqlite3_exec(l.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, hold_lock, &l), 0);
    struct fake f = {.base.ops = &fake_ops, .per_poll = 4, .db_path = path};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        f.payloads[f.n++] = good[i];
    struct mtr_stream_opts o;
    struct mtr_format fmt;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    opts_init(&o, &fmt);
    T_EQ_INT(mtr_stream_run(store, &f.base, &o, &st, &eb), 0);
    pthread_join(th, NULL);
    sqlite3_close(l.db);
    T_CHECK(st.store_retries >= 1);
    T_EQ_INT(st.messages, 4);
    T_EQ_INT(st.stored, 6); /* counted once, not once per attempt */
    T_EQ_INT(st.ingest.accepted, 6);
    T_EQ_INT(f.commits, 1);
    T_EQ_INT(f.acked_but_not_durable, 0);
    T_EQ_INT(scalar(path, "select count(*) from readings"), 6);
    T_EQ_INT(scalar(path, "select sum(n_valid + n_flagged + n_estimated) from rollup_daily"), 6);
    store->ops->close(store);
    unlink(path);
}

static void test_outputs(void)
{
    char path[512];
    struct mtr_errbuf eb = {{0}};
    struct mtr_store *store = NULL;
    T_EQ_INT(mtr_sqlite_open(tmp_db(path, sizeof path, "out"), &store, &eb), 0);
    struct fake f = {.base.ops = &fake_ops, .per_poll = 10, .db_path = path};
    f.payloads[f.n++] = R("SM5", "2026-01-01T00:00:00Z", "0.2");
    f.payloads[f.n++] = R("SM5", "2026-01-01T00:15:00Z", "0.2");
    f.payloads[f.n++] = R("SM5", "2026-01-01T01:00:00Z", "0.2"); /* 2 intervals missing */
    struct mtr_stream_opts o;
    struct mtr_format fmt;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    opts_init(&o, &fmt);
    T_EQ_INT(mtr_stream_run(store, &f.base, &o, &st, &eb), 0);
    T_EQ_INT(st.stored, 3);
    T_EQ_INT(f.estimates, 2); /* the interpolated gap is published too */
    T_EQ_INT(f.processed, 5);
    T_CHECK(f.alerts >= 1);
    T_CHECK(strstr(f.last_alert, "\"type\":\"gap\"") != NULL);
    T_CHECK(strstr(f.last_alert, "\"entity_id\":\"SM5\"") != NULL);
    T_EQ_INT(st.published, f.published);
    /* --no-publish */
    struct fake g = {.base.ops = &fake_ops, .per_poll = 10, .db_path = path};
    g.payloads[g.n++] = R("SM6", "2026-01-01T00:00:00Z", "0.2");
    memset(&st, 0, sizeof st);
    o.publish = 0;
    T_EQ_INT(mtr_stream_run(store, &g.base, &o, &st, &eb), 0);
    T_EQ_INT(g.published, 0);
    T_EQ_INT(st.stored, 1);
    store->ops->close(store);
    unlink(path);
}

int main(void)
{
    T_RUN(test_shapes_and_redelivery);
    T_RUN(test_dead_letters);
    T_RUN(test_grid_and_weather);
    T_RUN(test_outputs);
    T_RUN(test_store_busy_retry);
    T_RUN(test_mqtt_topic_id_and_stop);
    T_RUN(test_entity_id_from_message);
    T_RUN(test_reading_json);
    return T_END();
}
