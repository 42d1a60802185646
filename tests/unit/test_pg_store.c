/*
 * test_pg_store.c - the PostgreSQL store: the store contract suite on a fresh database of a real
 * server, then what only PostgreSQL has: migrations (idempotent, refusing a newer schema, and the
 * conversion of a store with one row per reading into meter-day blocks), monthly partitions
 * created on demand and the default partition, stored blocks rewritten by a later unit, the
 * connection pool, URL errors, text that is not UTF-8, check() finding an inconsistent rollup,
 * and days that left a small cache read back from the rows the handle wrote. Needs
 * METRIFY_TEST_PG_URL (a superuser URL); tests/integration/pg_store.sh starts a server and runs it.
 * Without the variable it runs nothing and says so.
 */
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "adapters/postgres/pg_store.h"
#include "adapters/store_open.h"
#include "core/params.h"
#include "core/quality.h"
#include "store_contract.h"
#include "t.h"

static char url[1024];      /* the test database */
static char url_pool[1100]; /* the same as another pool, of 2 connections */

#define DAY ((int64_t)1699920000) /* 2023-11-14T00:00:00Z */

/* url with its database (the path) replaced by db. */
static void with_db(char *out, size_t cap, const char *base, const char *db)
{
    const char *scheme = strstr(base, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    const char *q = strchr(base, '?');
    size_t head = path ? (size_t)(path - base) : q ? (size_t)(q - base) : strlen(base);
    snprintf(out, cap, "%.*s/%s%s", (int)head, base, db, q ? q : "");
}

/* The first value of the first row of sql on database u as text ("" when none or failed). */
static void text_at(const char *u, const char *sql, char *out, size_t cap)
{
    PGconn *c = PQconnectdb(u);
    PGresult *r = PQexec(c, sql);
    out[0] = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "text_at(%s): %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static long long scalar_at(const char *u, const char *sql)
{
    PGconn *c = PQconnectdb(u);
    long long v = -1;
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = atoll(PQgetvalue(r, 0, 0));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "scalar(%s): %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return v;
}

static long long scalar(const char *sql)
{
    return scalar_at(url, sql);
}

static int exec_at(const char *u, const char *sql)
{
    PGconn *c = PQconnectdb(u);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "exec(%s): %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int exec(const char *sql)
{
    return exec_at(url, sql);
}

static struct mtr_stored_reading reading(int64_t key, int64_t ts, double kwh)
{
    struct mtr_stored_reading r;
    memset(&r, 0, sizeof r);
    r.meter_key = key;
    r.ts = ts;
    r.interval_s = 900;
    r.raw_kwh = r.kwh = kwh;
    r.voltage_v = r.current_a = r.power_factor = r.frequency_hz = NAN;
    r.active_power_kw = r.reactive_power_kvar = NAN;
    r.quality_code = MTR_Q_VALID;
    r.score = 1;
    r.ingested_at = ts + 900;
    return r;
}

static void test_migrations(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    long long v = scalar("SELECT max(version) FROM schema_migrations");
    T_CHECK(v >= 1);
    T_EQ_INT(scalar("SELECT count(*) FROM schema_migrations"), v);
    T_CHECK(scalar("SELECT min(applied_at) FROM schema_migrations") > 0);
    /* the SQLite store's tables; readings and hourly and daily rollups in meter-day rows
     * partitioned by range with a default partition, read through the views readings,
     * rollup_hourly and rollup_daily */
    T_EQ_INT(scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN"
                    " ('meters','grid_operators','weather_stations','meter_state','reading_days',"
                    "'reading_revisions','rollup_grid_daily',"
                    "'grid_status','weather_observations','alerts','quarantine')"),
             11);
    T_EQ_INT(scalar("SELECT count(*) FROM pg_views WHERE schemaname = 'public' AND viewname IN"
                    " ('readings', 'rollup_hourly', 'rollup_daily')"),
             3);
    T_EQ_INT(scalar("SELECT count(*) FROM pg_partitioned_table WHERE partrelid ="
                    " 'reading_days'::regclass AND partstrat = 'r'"),
             1);
    T_EQ_INT(scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'reading_days'::regclass"
                    " AND inhrelid = 'reading_days_default'::regclass"),
             1);
    /* reopen: a no-op */
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (s)
        s->ops->close(s);
    T_EQ_INT(scalar("SELECT count(*) FROM schema_migrations"), v);
}

/* A store of schema version 3 (one row per reading and per meter-hour) is converted into
 * meter-day blocks by the next open: the views show exactly the rows that were stored, and the
 * store's ops read them. */
static int collect_n(void *ctx, const struct mtr_stored_reading *r)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}
static int collect_hour_n(void *ctx, const struct mtr_hour_row *h)
{
    (void)h;
    ++*(int *)ctx;
    return 0;
}

static void test_migration_to_blocks(void)
{
    char u[1200], db[80], sql[200], before_r[4096], before_h[2048], after[4096];
    struct mtr_errbuf eb = {{0}};
    snprintf(db, sizeof db, "mtr_mig_%ld", (long)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    T_EQ_INT(exec(sql), 0);
    char base[1100];
    snprintf(base, sizeof base, "%s", url);
    with_db(u, sizeof u, base, db);
    T_EQ_INT(mtr_pg_migrate_to(u, 3, &eb), 0);
    T_EQ_INT(scalar_at(u, "SELECT max(version) FROM schema_migrations"), 3);
    /* 2023-11 has a partition, 2009-01 goes to the default one */
    T_EQ_INT(exec_at(u, "INSERT INTO meters(meter_id, created_at, updated_at) VALUES"
                        " ('MIG-1', 0, 0), ('MIG-2', 0, 0);"
                        "CREATE TABLE readings_2023_11 PARTITION OF readings"
                        " FOR VALUES FROM (1698796800) TO (1701388800);"
                        "INSERT INTO readings(meter_key, ts, interval_s, raw_kwh, kwh, voltage_v,"
                        " current_a, power_factor, frequency_hz, active_power_kw,"
                        " reactive_power_kvar, quality_code, flags, score, ingested_at, seq)"
                        " VALUES (1, 1699920000, 900, 0.25, 0.25, 230.5, NULL, 0.9, 50, NULL,"
                        "  NULL, 0, 0, 1, 1699921000, 4),"
                        " (1, 1699920900, 900, NULL, 0.5, NULL, NULL, NULL, NULL, NULL, NULL,"
                        "  8, 2, 0.5, NULL, 5),"
                        " (1, 1699921800, 900, 0.75, 0.7, NULL, 1.5, NULL, NULL, 0.1, -0.2,"
                        "  10, 4096, 0.25, 1699922800, 5),"
                        " (1, 1700006400, 1800, 2, 2, NULL, NULL, NULL, NULL, NULL, NULL,"
                        "  7, 0, 1, 1700010000, 6),"
                        " (2, 1230768000, 900, 1, 1, 240, 2, 0.95, 49.9, 0.5, 0.1, 0, 0, 1,"
                        "  1230769000, 0);"
                        "INSERT INTO rollup_hourly VALUES (1, 1699920000, 1.5, 0.25, 0.75, 2, 1),"
                        " (1, 1699927200, 0, NULL, NULL, 0, 0),"
                        " (2, 1700092800, 3, 1, 2, 2, 0);"
                        "INSERT INTO rollup_daily VALUES (1, 1699920000, 900, 1.5, 0.5, 0.25,"
                        " 0.25, 0.75, 1, 1, 1, 0, 1699920000, 1699921800, 1.75, 7),"
                        " (2, 1700179200, 900, 4, 0, 4, NULL, NULL, 0, 0, 0, 0, NULL, NULL, 0, 2)"),
             0);
    static const char dump_r[] =
        "SELECT string_agg(r::text, ';' ORDER BY meter_key, ts) FROM (SELECT meter_key, ts,"
        " interval_s, raw_kwh, kwh, voltage_v, current_a, power_factor, frequency_hz,"
        " active_power_kw, reactive_power_kvar, quality_code, flags, score, ingested_at"
        " FROM readings) r";
    static const char dump_h[] =
        "SELECT string_agg(h::text, ';' ORDER BY meter_key, hour) FROM rollup_hourly h";
    static const char dump_d[] =
        "SELECT string_agg(d::text, ';' ORDER BY meter_key, day) FROM rollup_daily d";
    char before_d[1024];
    text_at(u, dump_r, before_r, sizeof before_r);
    text_at(u, dump_h, before_h, sizeof before_h);
    text_at(u, dump_d, before_d, sizeof before_d);
    T_CHECK(strlen(before_r) > 100 && strlen(before_h) > 20);

    struct mtr_store *s = NULL;
    T_EQ_INT(mtr_pg_open(u, &s, &eb), 0);
    if (!s)
        return;
    T_EQ_INT(scalar_at(u, "SELECT max(version) FROM schema_migrations"),
             scalar("SELECT max(version) FROM schema_migrations"));
    T_EQ_INT(scalar_at(u, "SELECT count(*) FROM pg_views WHERE viewname IN ('readings',"
                          " 'rollup_hourly', 'rollup_daily')"),
             3);
    /* 3 meter-days with readings, 1 with hours only, 1 with a daily rollup only */
    T_EQ_INT(scalar_at(u, "SELECT count(*) FROM reading_days"), 5);
    T_EQ_INT(scalar_at(u, "SELECT count(*) FROM reading_days_2023_11"), 4);
    T_EQ_INT(scalar_at(u, "SELECT count(*) FROM reading_days_2009_01"), 1); /* every month's */
    /* a block carries the highest change number of its rows */
    T_EQ_INT(scalar_at(u, "SELECT seq FROM reading_days WHERE meter_key = 1 AND day = 1699920000"),
             5);
    text_at(u, dump_r, after, sizeof after);
    T_EQ_STR(after, before_r);
    text_at(u, dump_h, after, sizeof after);
    T_EQ_STR(after, before_h);
    text_at(u, dump_d, after, sizeof after);
    T_EQ_STR(after, before_d);
    /* the store reads the converted blocks */
    struct mtr_stored_reading got;
    T_EQ_INT(s->ops->reading_get(s, 1, 1699920900, &got), 0);
    T_CHECK(isnan(got.raw_kwh) && isnan(got.voltage_v));
    T_EQ_DBL(got.kwh, 0.5, 0);
    T_EQ_INT(got.quality_code, 8);
    T_EQ_INT(got.ingested_at, 0);
    T_EQ_INT(s->ops->reading_get(s, 1, 1699921800, &got), 0);
    T_EQ_DBL(got.kwh, 0.7, 0);
    T_EQ_DBL(got.raw_kwh, 0.75, 0);
    T_EQ_DBL(got.reactive_power_kvar, -0.2, 0);
    T_EQ_INT((long long)got.flags, 4096);
    int n = 0;
    T_EQ_INT(s->ops->readings_range(s, 1, 1699920000, 1700092800, collect_n, &n), 0);
    T_EQ_INT(n, 4);
    struct mtr_store_stats st;
    T_EQ_INT(s->ops->stats(s, &st), 0);
    T_EQ_INT(st.readings, 5);
    T_EQ_INT(st.estimated, 1);
    struct mtr_query q = {.entity_id = "MIG-2"};
    n = 0;
    T_EQ_INT(s->ops->hour_rows(s, &q, collect_hour_n, &n), 0);
    T_EQ_INT(n, 1);
    T_EQ_INT(s->ops->check(s, NULL, NULL), 0);
    /* a write after the conversion goes into the converted block */
    struct mtr_stored_reading r = reading(1, 1699922700, 0.125);
    T_EQ_INT(s->ops->reading_put(s, &r), 0);
    T_EQ_INT(scalar_at(u, "SELECT n FROM reading_days WHERE meter_key = 1 AND day = 1699920000"),
             4);
    s->ops->close(s);
}

/* Run last: a newer schema is refused by every new connection (another URL: another pool). */
static void test_newer_schema_refused(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    char u[1200];
    T_EQ_INT(exec("INSERT INTO schema_migrations VALUES (999, 0, 'from the future')"), 0);
    snprintf(u, sizeof u, "%s%sapplication_name=newer", url, strchr(url, '?') ? "&" : "?");
    T_EQ_INT(mtr_pg_open(u, &s, &eb), MTR_ESTORE);
    T_CHECK(s == NULL);
    if (s)
        s->ops->close(s);
    T_CHECK(strstr(eb.msg, "999") != NULL && strstr(eb.msg, "newer") != NULL);
    T_EQ_INT(exec("DELETE FROM schema_migrations WHERE version = 999"), 0);
}

static void test_partitions(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    /* this month and the next two exist after open */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM pg_class WHERE relname = 'reading_days_%04d_%02d'",
             tm.tm_year + 1900, tm.tm_mon + 1);
    T_EQ_INT(scalar(q), 1);
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "PART-1", 1, &key, NULL), 0);
    /* a write to a month without a partition creates it (and the next month's) */
    struct mtr_stored_reading r = reading(key, 1262304000 + 86400 * 40, 1.5); /* 2010-02-10 */
    T_EQ_INT(s->ops->begin(s), 0);
    T_EQ_INT(s->ops->reading_put(s, &r), 0);
    T_EQ_INT(s->ops->commit(s), 0);
    T_EQ_INT(scalar("SELECT count(*) FROM reading_days_2010_02"), 1);
    T_EQ_INT(scalar("SELECT count(*) FROM pg_class WHERE relname = 'reading_days_2010_03'"), 0);
    T_EQ_INT(scalar("SELECT count(*) FROM reading_days_default"), 0);
    /* rows of a month the default partition already holds stay there, and stay readable */
    T_EQ_INT(exec("INSERT INTO reading_days(meter_key, day, n, n_estimated, sec, interval_s,"
                  " quality_code, flags, score, h_hour, h_kwh, h_min_kwh, h_max_kwh, h_n,"
                  " h_n_estimated) VALUES (1, 1230768000, 1, 0, '0', '900', '0', '0', '1', '',"
                  " '', '', '', '', '')"),
             0); /* 2009-01-01, no partition: default */
    T_EQ_INT(scalar("SELECT count(*) FROM reading_days_default"), 1);
    r.ts = 1230768000 + 900;
    T_EQ_INT(s->ops->begin(s), 0);
    T_EQ_INT(s->ops->reading_put(s, &r), 0);
    T_EQ_INT(s->ops->commit(s), 0);
    T_EQ_INT(scalar("SELECT count(*) FROM reading_days_default"), 2);
    struct mtr_stored_reading got;
    T_EQ_INT(s->ops->reading_get(s, key, r.ts, &got), 0);
    T_EQ_DBL(got.kwh, 1.5, 0);
    T_EQ_INT(exec("DELETE FROM reading_days WHERE meter_key = 1 AND day = 1230768000"), 0);
    /* retention drops whole months (2009-01 is in the default partition: deleted row-wise) */
    int64_t deleted = 0;
    long long older = scalar(/* the contract suite's leftovers of 2001 count too */
                             "SELECT (SELECT count(*) FROM readings WHERE ts < 1267401600)"
                             " + (SELECT count(*) FROM reading_revisions WHERE ts < 1267401600)"
                             " + (SELECT count(*) FROM grid_status WHERE ts < 1267401600)"
                             " + (SELECT count(*) FROM weather_observations WHERE ts < 1267401600)"
                             " + (SELECT count(*) FROM rollup_hourly WHERE hour < 1267401600)"
                             " + (SELECT count(*) FROM rollup_daily WHERE day < 1267401600)"
                             " + (SELECT count(*) FROM rollup_grid_daily WHERE day < 1267401600)"
                             " + (SELECT count(*) FROM alerts WHERE end_ts < 1267401600)"
                             " + (SELECT count(*) FROM quarantine WHERE at < 1267401600)");
    T_CHECK(older >= 2);
    T_EQ_INT(s->ops->retention(s, 1267401600, &deleted), 0); /* 2010-03-01 */
    T_EQ_INT(deleted, older);
    T_EQ_INT(scalar("SELECT count(*) FROM readings WHERE ts < 1267401600"), 0);
    T_EQ_INT(scalar("SELECT count(*) FROM reading_days_default"), 0);
    T_EQ_INT(scalar("SELECT count(*) FROM pg_class WHERE relname = 'reading_days_2010_02'"), 0);
    /* ... and a later write to that month makes the partition again */
    r.ts = 1262304000 + 86400 * 40;
    T_EQ_INT(s->ops->reading_put(s, &r), 0);
    T_EQ_INT(scalar("SELECT count(*) FROM reading_days_2010_02"), 1);
    s->ops->close(s);
}

/* The COPY fast path meets an existing key: the batch goes through the upsert, nothing is lost. */
static void test_copy_conflict(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "COPY-1", 1, &key, NULL), 0);
    T_EQ_INT(s->ops->begin(s), 0);
    for (int i = 0; i < 1000; i++) {
        struct mtr_stored_reading r = reading(key, DAY + 900 * i, 1.0);
        T_EQ_INT(s->ops->reading_put(s, &r), 0);
    }
    T_EQ_INT(s->ops->commit(s), 0);
    T_EQ_INT(s->ops->begin(s), 0);
    for (int i = 500; i < 1500; i++) { /* half of them exist */
        struct mtr_stored_reading r = reading(key, DAY + 900 * i, 2.0);
        T_EQ_INT(s->ops->reading_put(s, &r), 0);
    }
    /* a flag on buffered and stored readings alike */
    T_EQ_INT(s->ops->readings_flag(s, key, DAY + 900 * 400, DAY + 900 * 599,
                                   mtr_rule_bit(MTR_R_FROZEN), MTR_Q_QUESTIONABLE),
             0);
    T_EQ_INT(s->ops->commit(s), 0);
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM readings WHERE meter_key = %lld", (long long)key);
    T_EQ_INT(scalar(q), 1500);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM readings WHERE meter_key = %lld AND kwh = 2 AND ts >= %lld",
             (long long)key, (long long)(DAY + 900 * 500));
    T_EQ_INT(scalar(q), 1000);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM readings WHERE meter_key = %lld AND quality_code = 10"
             " AND score = %.17g",
             (long long)key, mtr_reading_score(MTR_Q_QUESTIONABLE, mtr_rule_bit(MTR_R_FROZEN)));
    T_EQ_INT(scalar(q), 200);
    s->ops->close(s);
}

/* Rollup merges of one unit of work are merged in memory and upserted once: same sums. */
static void test_buffered_merges(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "MERGE-1", 1, &key, NULL), 0);
    T_EQ_INT(s->ops->begin(s), 0);
    for (int i = 0; i < 20000; i++) { /* more hours than one buffer holds */
        struct mtr_rollup_hour h = {key, DAY + 3600 * (i % 17000), 0.5, 0.5, 0.5, 1, 0};
        T_EQ_INT(s->ops->rollup_hour_merge(s, &h), 0);
    }
    T_EQ_INT(s->ops->commit(s), 0);
    char q[200];
    snprintf(q, sizeof q,
             "SELECT sum(n) * 1000 + count(*) FROM rollup_hourly WHERE meter_key = %lld",
             (long long)key);
    T_EQ_INT(scalar(q), 20000LL * 1000 + 17000);
    /* rolled back: nothing */
    T_EQ_INT(s->ops->begin(s), 0);
    struct mtr_rollup_hour h = {key, DAY, 1, 1, 1, 1, 0};
    T_EQ_INT(s->ops->rollup_hour_merge(s, &h), 0);
    T_EQ_INT(s->ops->rollback(s), 0);
    snprintf(q, sizeof q, "SELECT n FROM rollup_hourly WHERE meter_key = %lld AND hour = %lld",
             (long long)key, (long long)DAY);
    T_EQ_INT(scalar(q), 2);
    s->ops->close(s);
}

/* Detector states are packed (zlib) on the way in and unpacked on the way out, buffered or not. */
static void test_state_packed(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "STATE-1", 1, &key, NULL), 0);
    static unsigned char blob[4096], got[4096], small[100];
    for (size_t i = 0; i < sizeof blob; i += 37)
        blob[i] = (unsigned char)(i * 7 + 1);
    size_t len = 0;
    T_EQ_INT(s->ops->begin(s), 0);
    T_EQ_INT(s->ops->state_put(s, key, blob, sizeof blob), 0);
    T_EQ_INT(s->ops->state_get(s, key, got, sizeof got, &len), 0); /* from the buffer */
    T_EQ_INT(len, sizeof blob);
    T_CHECK(memcmp(got, blob, sizeof blob) == 0);
    T_EQ_INT(s->ops->commit(s), 0);
    memset(got, 0, sizeof got);
    T_EQ_INT(s->ops->state_get(s, key, got, sizeof got, &len), 0); /* from the table */
    T_EQ_INT(len, sizeof blob);
    T_CHECK(memcmp(got, blob, sizeof blob) == 0);
    T_EQ_INT(s->ops->state_get(s, key, small, sizeof small, &len), MTR_ERANGE);
    T_EQ_INT(len, sizeof blob);
    char q[160];
    snprintf(q, sizeof q, "SELECT length(state) FROM meter_state WHERE meter_key = %lld",
             (long long)key);
    long long stored = scalar(q);
    T_CHECK(stored > 0 && stored < 1024);
    /* bytes that do not pack, and zeros up to the end */
    static unsigned char noise[3000], tail[2000];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 131 + 7) | 1;
    tail[3] = 9;
    const unsigned char *blobs[] = {noise, tail};
    size_t lens[] = {sizeof noise, sizeof tail};
    for (int k = 0; k < 2; k++) {
        T_EQ_INT(s->ops->state_put(s, key, blobs[k], lens[k]), 0);
        memset(got, 0xee, sizeof got);
        T_EQ_INT(s->ops->state_get(s, key, got, sizeof got, &len), 0);
        T_EQ_INT(len, lens[k]);
        T_CHECK(memcmp(got, blobs[k], lens[k]) == 0);
    }
    /* a state written by an earlier version ('z': zlib) is still read */
    unsigned char z[5000];
    uLongf zn = sizeof z - 5;
    T_EQ_INT(compress2(z + 5, &zn, blob, sizeof blob, 1), Z_OK);
    z[0] = 'z';
    z[1] = 0, z[2] = 0, z[3] = (unsigned char)(sizeof blob >> 8), z[4] = sizeof blob & 0xff;
    char sql[12000];
    int at = snprintf(sql, sizeof sql, "UPDATE meter_state SET state = '\\x");
    for (uLongf i = 0; i < zn + 5; i++)
        at += snprintf(sql + at, sizeof sql - (size_t)at, "%02x", z[i]);
    snprintf(sql + at, sizeof sql - (size_t)at, "' WHERE meter_key = %lld", (long long)key);
    T_EQ_INT(exec(sql), 0);
    memset(got, 0, sizeof got);
    T_EQ_INT(s->ops->state_get(s, key, got, sizeof got, &len), 0);
    T_EQ_INT(len, sizeof blob);
    T_CHECK(memcmp(got, blob, sizeof blob) == 0);
    s->ops->close(s);
}

static void test_pool(void)
{
    struct mtr_store *a = NULL, *b = NULL, *c = NULL;
    struct mtr_errbuf eb = {{0}};
    long long before = scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type ="
                              " 'client backend' AND datname = current_database()");
    for (int i = 0; i < 20; i++) { /* reopening reuses the pooled connection */
        T_EQ_INT(mtr_pg_open(url_pool, &a, &eb), 0);
        if (a)
            a->ops->close(a);
    }
    T_EQ_INT(mtr_pg_open(url_pool, &a, &eb), 0);
    T_EQ_INT(mtr_pg_open(url_pool, &b, &eb), 0);
    long long during = scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type ="
                              " 'client backend' AND datname = current_database()");
    T_CHECK(during - before <= 2);
    /* two handles, two connections: a unit of work on one is not seen by the other */
    int64_t key = 0;
    if (a && b) {
        T_EQ_INT(a->ops->meter_key(a, "POOL-1", 1, &key, NULL), 0);
        T_EQ_INT(a->ops->begin(a), 0);
        struct mtr_stored_reading r = reading(key, DAY, 3.0), got;
        T_EQ_INT(a->ops->reading_put(a, &r), 0);
        T_EQ_INT(a->ops->reading_get(a, key, DAY, &got), 0);
        T_EQ_INT(b->ops->reading_get(b, key, DAY, &got), MTR_ENOTFOUND);
        T_EQ_INT(a->ops->commit(a), 0);
        T_EQ_INT(b->ops->reading_get(b, key, DAY, &got), 0);
        /* closing inside a unit of work abandons it and gives back a clean connection */
        T_EQ_INT(a->ops->begin(a), 0);
        r.kwh = 99;
        T_EQ_INT(a->ops->reading_put(a, &r), 0);
    }
    if (a)
        a->ops->close(a);
    T_EQ_INT(mtr_pg_open(url_pool, &c, &eb), 0);
    if (c) {
        struct mtr_stored_reading got;
        T_EQ_INT(c->ops->reading_get(c, key, DAY, &got), 0);
        T_EQ_DBL(got.kwh, 3.0, 0);
        T_EQ_INT(c->ops->begin(c), 0); /* no transaction left open on the reused connection */
        T_EQ_INT(c->ops->commit(c), 0);
        c->ops->close(c);
    }
    if (b)
        b->ops->close(b);
}

/* Threads share the pool of one URL: 6 threads, pool=2, every open waits its turn. */
struct worker {
    int id, ok;
};
static void *pool_worker(void *arg)
{
    struct worker *w = arg;
    char id[32];
    snprintf(id, sizeof id, "THREAD-%d", w->id);
    for (int i = 0; i < 10; i++) {
        struct mtr_store *s = NULL;
        struct mtr_errbuf eb = {{0}};
        int64_t key = 0;
        if (mtr_pg_open(url_pool, &s, &eb) != 0)
            return NULL;
        struct mtr_stored_reading r = reading(0, DAY + 900 * i, w->id);
        int rc = s->ops->meter_key(s, id, 1, &key, NULL);
        r.meter_key = key;
        if (!rc)
            rc = s->ops->begin(s);
        if (!rc)
            rc = s->ops->reading_put(s, &r);
        if (!rc)
            rc = s->ops->commit(s);
        s->ops->close(s);
        if (rc)
            return NULL;
    }
    w->ok = 1;
    return NULL;
}

static void test_pool_threads(void)
{
    const char *conns = "SELECT count(*) FROM pg_stat_activity WHERE backend_type ="
                        " 'client backend' AND datname = current_database()";
    long long before = scalar(conns); /* test_pool left the pool's 2 connections open */
    pthread_t th[6];
    struct worker w[6];
    for (int i = 0; i < 6; i++) {
        w[i].id = i;
        w[i].ok = 0;
        T_EQ_INT(pthread_create(&th[i], NULL, pool_worker, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        T_CHECK(w[i].ok);
    }
    T_EQ_INT(scalar("SELECT count(*) FROM readings r JOIN meters m USING (meter_key)"
                    " WHERE m.meter_id LIKE 'THREAD-%'"),
             60);
    long long after = scalar(conns);
    T_CHECK(after <= before); /* no connection beyond the bound of 2 */
}

static void test_open_errors(void)
{
    struct mtr_store *s = (struct mtr_store *)1;
    struct mtr_errbuf eb = {{0}};
    char u[1200];
    snprintf(u, sizeof u, "%s%spool=0", url, strchr(url, '?') ? "&" : "?");
    T_EQ_INT(mtr_pg_open(u, &s, &eb), MTR_EINVAL);
    T_CHECK(s == NULL);
    T_CHECK(strstr(eb.msg, "pool") != NULL);
    T_EQ_INT(mtr_pg_open("/tmp/x.db", &s, &eb), MTR_EINVAL);
    /* nothing listens on port 1 */
    T_EQ_INT(mtr_pg_open("postgresql://nobody@127.0.0.1:1/x?connect_timeout=2", &s, &eb), MTR_EIO);
    T_CHECK(strstr(eb.msg, "PostgreSQL") != NULL);
    /* store_open picks the adapter by scheme */
    T_EQ_INT(mtr_store_open(url, &s, &eb), 0);
    if (s) {
        T_EQ_STR(s->ops->name, "postgresql");
        s->ops->close(s);
    }
}

/* The same key rules as the SQLite store. */
static void test_key_checks(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    struct mtr_stored_reading r = reading(5, DAY + 30, 1.0); /* not minute-aligned */
    T_EQ_INT(s->ops->reading_put(s, &r), MTR_EINVAL);
    r = reading(0, DAY, 1.0);
    T_EQ_INT(s->ops->reading_put(s, &r), MTR_EINVAL);
    struct mtr_rollup_hour h = {5, DAY + 60, 1, 1, 1, 1, 0};
    T_EQ_INT(s->ops->rollup_hour_merge(s, &h), MTR_EINVAL);
    s->ops->close(s);
}

static int save_raw(void *ctx, const struct mtr_quarantine *q)
{
    if (strcmp(q->source, "UTF8-TEST") == 0)
        snprintf(ctx, 64, "%s", q->raw);
    return 0;
}

static void test_not_utf8(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    struct mtr_quarantine q = {MTR_KIND_READING, "UTF8-TEST",    3,  MTR_R_PARSE_ENCODING, "",
                               "bad bytes",      "M1,0.5\xff,x", DAY};
    T_EQ_INT(s->ops->quarantine_put(s, &q), 0);
    char raw[64] = "";
    struct mtr_query qq;
    memset(&qq, 0, sizeof qq);
    qq.kind = qq.type = qq.min_level = -1;
    T_EQ_INT(s->ops->quarantine_rows(s, &qq, save_raw, raw), 0);
    T_EQ_STR(raw, "M1,0.5?,x");
    s->ops->close(s);
}

static int count_problem(void *ctx, const char *problem)
{
    (void)problem;
    ++*(int *)ctx;
    return 0;
}

/* ---- days that left a small cache come back from the rows the handle wrote ---- */

#define WR_METERS 60
#define WR_DAYS   3

/* The reading of meter i at slot j (96 a day) as the test puts it: decimals, a hex-float kWh,
 * absent and varying measurements, estimates, irregular ingest times. */
static struct mtr_stored_reading wr_reading(const int64_t *keys, int i, int j)
{
    struct mtr_stored_reading r =
        reading(keys[i], DAY + 900 * (int64_t)j, (j * 7 % 1000) / 1000.0 + i);
    r.voltage_v = j % 5 ? 230 + (j % 31) / 10.0 : NAN;
    r.current_a = i % 2 ? (j % 97) / 100.0 : NAN;
    r.power_factor = 0.9 + (j % 9) / 100.0;
    r.frequency_hz = 50 + (j % 3 - 1) / 1000.0;
    if (j % 11 == 0)
        r.raw_kwh = r.kwh = 1.0 / 3.0 + i; /* no short decimal: a hex float */
    if (j % 17 == 3) {                     /* an estimate */
        r.raw_kwh = NAN;
        r.quality_code = MTR_Q_EST_INTERPOLATION;
        r.score = mtr_reading_score(r.quality_code, 0);
    }
    r.ingested_at = DAY + 86400 * WR_DAYS + (j % 4) * 60;
    return r;
}

static int same_reading(const struct mtr_stored_reading *a, const struct mtr_stored_reading *b)
{
#define SAMED(x) (memcmp(&a->x, &b->x, sizeof a->x) == 0 || (isnan(a->x) && isnan(b->x)))
    return a->meter_key == b->meter_key && a->ts == b->ts && a->interval_s == b->interval_s &&
           SAMED(raw_kwh) && SAMED(kwh) && SAMED(voltage_v) && SAMED(current_a) &&
           SAMED(power_factor) && SAMED(frequency_hz) && SAMED(active_power_kw) &&
           SAMED(reactive_power_kvar) && a->quality_code == b->quality_code &&
           a->flags == b->flags && SAMED(score) && a->ingested_at == b->ingested_at;
#undef SAMED
}

struct wr_expect {
    const int64_t *keys;
    int i, n, bad;
    uint64_t flag; /* ORed into day 0 */
};

static int wr_check(void *ctx, const struct mtr_stored_reading *r)
{
    struct wr_expect *x = ctx;
    struct mtr_stored_reading e = wr_reading(x->keys, x->i, x->n++);
    if (e.ts < DAY + 86400 && x->flag) {
        e.flags |= x->flag;
        e.score = mtr_reading_score(e.quality_code, e.flags);
    }
    x->bad += !same_reading(r, &e);
    return 0;
}

/* With a cache of 1 MiB (a ring of 256 KiB for written rows), 60 meters x 3 days do not stay
 * cached: days are written and leave while the unit goes on. Reading them back, flagging and
 * recomputing them inside the unit, after its commit and after a rollback must give exactly
 * what was put, whether a day comes from the cache, the written rows or the server. */
static void test_written_rows(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    setenv("METRIFY_PG_CACHE_MB", "1", 1);
    int rc = mtr_pg_open(url, &s, &eb);
    unsetenv("METRIFY_PG_CACHE_MB");
    T_EQ_INT(rc, 0);
    if (!s)
        return;
    int64_t keys[WR_METERS], extra = 0;
    T_EQ_INT(s->ops->meter_key(s, "WR-EXTRA", 1, &extra, NULL), 0);
    for (int i = 0; i < WR_METERS; i++) {
        char id[32];
        snprintf(id, sizeof id, "WR-%d", i);
        T_EQ_INT(s->ops->meter_key(s, id, 1, &keys[i], NULL), 0);
    }
    struct mtr_params params;
    mtr_params_default(&params);
    T_EQ_INT(s->ops->begin(s), 0);
    for (int j = 0; j < 96 * WR_DAYS; j++) { /* time-major, as a head-end exports them */
        for (int i = 0; i < WR_METERS; i++) {
            struct mtr_stored_reading r = wr_reading(keys, i, j);
            T_EQ_INT(s->ops->reading_put(s, &r), 0);
        }
        /* and a meter with two readings per 15 minutes: more than a day's worth of 15 */
        struct mtr_stored_reading r = reading(extra, DAY + 900 * (int64_t)j, j / 100.0);
        T_EQ_INT(s->ops->reading_put(s, &r), 0);
        r.ts += 420;
        r.kwh = r.raw_kwh = j / 1000.0;
        T_EQ_INT(s->ops->reading_put(s, &r), 0);
    }
    int bad = 0;
    for (int j = 0; j < 96 * WR_DAYS; j += 3) {
        struct mtr_stored_reading got;
        bad += s->ops->reading_get(s, extra, DAY + 900 * (int64_t)j + 420, &got) != 0 ||
               got.kwh != j / 1000.0;
    }
    for (int i = 0; i < WR_METERS; i++) /* every reading, inside the unit */
        for (int j = 0; j < 96 * WR_DAYS; j += 5) {
            struct mtr_stored_reading got, e = wr_reading(keys, i, j);
            bad += s->ops->reading_get(s, keys[i], e.ts, &got) != 0 || !same_reading(&got, &e);
        }
    T_EQ_INT(bad, 0);
    uint64_t flag = 1u << 3;
    for (int i = 0; i < WR_METERS; i++) { /* day 0 left the cache long ago */
        T_EQ_INT(s->ops->readings_flag(s, keys[i], DAY, DAY + 86399, flag, -1), 0);
        T_EQ_INT(s->ops->rollup_recompute(s, keys[i], DAY, &params), 0);
    }
    T_EQ_INT(s->ops->commit(s), 0);
    char q[200];
    snprintf(q, sizeof q,
             "SELECT sum(n_valid + n_estimated) FROM rollup_daily WHERE day = %lld AND meter_key"
             " IN (SELECT meter_key FROM meters WHERE meter_id LIKE 'WR-%%')",
             (long long)DAY);
    T_EQ_INT(scalar(q), WR_METERS * 96LL);
    snprintf(q, sizeof q, "SELECT sum(n) FROM reading_days WHERE meter_key = %lld",
             (long long)extra);
    T_EQ_INT(scalar(q), 2LL * 96 * WR_DAYS);
    /* a later unit of the same handle, then a fresh handle (the server's rows) */
    for (int pass = 0; pass < 2; pass++) {
        struct mtr_store *h = s;
        if (pass == 1) {
            s->ops->close(s);
            s = NULL;
            T_EQ_INT(mtr_pg_open(url, &h, &eb), 0);
            if (!h)
                return;
            s = h;
        }
        T_EQ_INT(h->ops->begin(h), 0);
        for (int i = 0; i < WR_METERS; i++) {
            struct wr_expect x = {keys, i, 0, 0, flag};
            T_EQ_INT(h->ops->readings_range(h, keys[i], DAY, DAY + 86400 * WR_DAYS, wr_check, &x),
                     0);
            T_EQ_INT(x.n, 96 * WR_DAYS);
            T_EQ_INT(x.bad, 0);
        }
        T_EQ_INT(h->ops->commit(h), 0);
    }
    s->ops->close(s);
    /* a rolled back unit leaves nothing behind, in the written rows either */
    setenv("METRIFY_PG_CACHE_MB", "1", 1);
    rc = mtr_pg_open(url, &s, &eb);
    unsetenv("METRIFY_PG_CACHE_MB");
    T_EQ_INT(rc, 0);
    if (!s)
        return;
    T_EQ_INT(s->ops->begin(s), 0);
    for (int j = 0; j < 96 * WR_DAYS; j++)
        for (int i = 0; i < WR_METERS; i++) {
            struct mtr_stored_reading r = wr_reading(keys, i, j);
            r.raw_kwh = r.kwh = 99; /* changed, written, then rolled back */
            T_EQ_INT(s->ops->reading_put(s, &r), 0);
        }
    T_EQ_INT(s->ops->rollback(s), 0);
    T_EQ_INT(s->ops->begin(s), 0);
    bad = 0;
    for (int i = 0; i < WR_METERS; i++)
        for (int j = 0; j < 96 * WR_DAYS; j += 7) {
            struct mtr_stored_reading got, e = wr_reading(keys, i, j);
            if (e.ts < DAY + 86400) {
                e.flags |= flag;
                e.score = mtr_reading_score(e.quality_code, e.flags);
            }
            bad += s->ops->reading_get(s, keys[i], e.ts, &got) != 0 || !same_reading(&got, &e);
        }
    T_EQ_INT(bad, 0);
    T_EQ_INT(s->ops->commit(s), 0);
    s->ops->close(s);
}

static void test_check_finds_problems(void)
{
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pg_open(url, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "CHECK-1", 1, &key, NULL), 0);
    T_EQ_INT(exec("DELETE FROM rollup_daily"), 0);
    struct mtr_rollup_day d;
    memset(&d, 0, sizeof d);
    d.meter_key = key;
    d.day = DAY + 30 * 86400;
    d.min_kwh = d.max_kwh = NAN;
    d.n_valid = 4; /* no readings behind it */
    T_EQ_INT(s->ops->rollup_day_merge(s, &d), 0);
    int problems = 0;
    T_EQ_INT(s->ops->check(s, count_problem, &problems), MTR_ESTORE);
    T_EQ_INT(problems, 1);
    s->ops->close(s);
}

int main(void)
{
    const char *base = getenv("METRIFY_TEST_PG_URL");
    if (!base || !*base) {
        printf("test_pg_store: needs a PostgreSQL server; it runs under "
               "tests/integration/pg_store.sh (or set METRIFY_TEST_PG_URL)\n");
        printf("0 passed, 0 failed\n");
        return 0;
    }
    /* a fresh database per run, dropped at the end */
    char db[64], sql[160];
    snprintf(db, sizeof db, "mtr_test_%ld_%ld", (long)getpid(), (long)time(NULL));
    PGconn *admin = PQconnectdb(base);
    if (PQstatus(admin) != CONNECTION_OK) {
        printf("FAIL cannot connect to %s: %s", base, PQerrorMessage(admin));
        PQfinish(admin);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    PQclear(PQexec(admin, sql));
    with_db(url, sizeof url, base, db);
    /* another application_name: a pool of its own, so its connections can be counted */
    snprintf(url_pool, sizeof url_pool, "%s%sapplication_name=pooltest&pool=2", url,
             strchr(url, '?') ? "&" : "?");

    mtr_store_contract_run(mtr_pg_open, url);
    T_RUN(test_migrations);
    T_RUN(test_migration_to_blocks);
    T_RUN(test_partitions);
    T_RUN(test_copy_conflict);
    T_RUN(test_buffered_merges);
    T_RUN(test_written_rows);
    T_RUN(test_state_packed);
    T_RUN(test_pool);
    T_RUN(test_pool_threads);
    T_RUN(test_open_errors);
    T_RUN(test_key_checks);
    T_RUN(test_not_utf8);
    T_RUN(test_check_finds_problems);
    T_RUN(test_newer_schema_refused);

    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", db);
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
    return T_END();
}
