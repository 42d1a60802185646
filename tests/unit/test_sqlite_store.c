/*
 * test_sqlite_store.c - the SQLite store: the store contract suite on a fresh temporary file, then
 * what only SQLite has: migrations (idempotent, from an older schema, refusing a newer one), open
 * errors, the packed readings key, and check() finding an inconsistent rollup.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "adapters/sqlite/reading_blocks.h"
#include "adapters/sqlite/sqlite_store.h"
#include "store_contract.h"
#include "t.h"

static char dir[64];

static const char *tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

static long long scalar(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_open_error(void)
{
    struct mtr_store *s = (struct mtr_store *)1;
    struct mtr_errbuf eb = {{0}};
    char p[128];
    tmp_path(p, sizeof p, "no/such/dir/x.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), MTR_EIO);
    T_CHECK(s == NULL);
    T_CHECK(strstr(eb.msg, p) != NULL);
    T_EQ_INT(mtr_sqlite_open("", &s, &eb), MTR_EINVAL);
}

struct hours_seen {
    int n;
    double kwh[4];
    int64_t hour[4];
};
static int see_hour(void *ctx, const struct mtr_hour_row *r)
{
    struct hours_seen *h = ctx;
    if (h->n < 4) {
        h->kwh[h->n] = r->h.kwh;
        h->hour[h->n] = r->h.hour;
    }
    h->n++;
    return 0;
}

static void test_migrations(void)
{
    char p[128];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "migrate.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s)
        s->ops->close(s);
    long long v = scalar(p, "SELECT max(version) FROM schema_migrations");
    long long n = scalar(p, "SELECT count(*) FROM schema_migrations");
    T_CHECK(v >= 2);
    T_EQ_INT(n, v);
    T_EQ_INT(scalar(p, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

    /* reopen: a no-op */
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s)
        s->ops->close(s);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM schema_migrations"), n);

    /* an older database (version 1: no report indexes, readings as rows, no change tracking)
     * is migrated on open, its readings converted into blocks, their days logged as changed */
    T_EQ_INT(exec(p, "DROP INDEX alerts_start; DROP INDEX quarantine_at;"
                     " DROP TABLE change_seq; DROP TABLE export_changes;"
                     " DROP TABLE export_watermarks; ALTER TABLE grid_status DROP COLUMN seq;"
                     " ALTER TABLE weather_observations DROP COLUMN seq;"
                     " ALTER TABLE rollup_daily DROP COLUMN seq; DROP INDEX grid_status_ts;"
                     " DROP INDEX weather_observations_ts;"
                     " DROP INDEX rollup_daily_day; DROP TABLE reading_blocks;"
                     " DROP TABLE rollup_hour_blocks;"
                     " CREATE TABLE rollup_hourly(meter_key INTEGER NOT NULL,"
                     " hour INTEGER NOT NULL, kwh REAL NOT NULL, min_kwh REAL, max_kwh REAL,"
                     " n INTEGER NOT NULL, n_estimated INTEGER NOT NULL,"
                     " PRIMARY KEY (meter_key, hour)) WITHOUT ROWID;"
                     " INSERT INTO rollup_hourly VALUES (7, 1699920000, 0.75, 0.25, 0.5, 2, 1),"
                     " (7, 1699923600, 0, NULL, NULL, 0, 0);"
                     " DELETE FROM schema_migrations WHERE version > 1;"
                     " CREATE TABLE readings(id INTEGER PRIMARY KEY, meter_key INTEGER NOT NULL,"
                     " ts INTEGER NOT NULL, interval_s INTEGER NOT NULL, raw_kwh REAL, kwh REAL,"
                     " voltage_v REAL, current_a REAL, power_factor REAL, frequency_hz REAL,"
                     " active_power_kw REAL, reactive_power_kvar REAL,"
                     " quality_code INTEGER NOT NULL, flags INTEGER NOT NULL, score REAL,"
                     " ingested_at INTEGER);"
                     " INSERT INTO meters(meter_key, meter_id, created_at, updated_at)"
                     " VALUES (7, 'OLD1', 1, 1);"
                     " INSERT INTO readings VALUES (7 * 2147483648 + 1699920000 / 60, 7,"
                     " 1699920000, 900, 0.5, 0.5, 230.5, NULL, NULL, NULL, NULL, NULL, 0, 0,"
                     " 1.0, 1699930000),"
                     " (7 * 2147483648 + 1699920900 / 60, 7, 1699920900, 900, NULL, 0.25, NULL,"
                     " NULL, NULL, NULL, NULL, NULL, 8, 0, 0.7, NULL),"
                     " (7 * 2147483648 + 1700006400 / 60, 7, 1700006400, 900, 0.75, 0.75, NULL,"
                     " NULL, NULL, NULL, NULL, NULL, 10, 4, 0.4, 1700010000);"
                     " INSERT INTO quarantine(kind, rule, at) VALUES ('readings', 'number', 1)"),
             SQLITE_OK);
    T_EQ_INT(scalar(p, "SELECT max(version) FROM schema_migrations"), 1);
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s) {
        struct mtr_stored_reading r;
        T_EQ_INT(s->ops->reading_get(s, 7, 1699920000, &r), 0);
        T_EQ_DBL(r.raw_kwh, 0.5, 0);
        T_EQ_DBL(r.voltage_v, 230.5, 0);
        T_CHECK(isnan(r.current_a));
        T_EQ_INT(r.ingested_at, 1699930000);
        T_EQ_INT(s->ops->reading_get(s, 7, 1699920900, &r), 0);
        T_CHECK(isnan(r.raw_kwh));
        T_EQ_DBL(r.kwh, 0.25, 0);
        T_EQ_INT(r.quality_code, 8);
        T_EQ_DBL(r.score, 0.7, 0);
        T_EQ_INT(s->ops->reading_get(s, 7, 1700006400, &r), 0);
        T_EQ_INT(r.flags, 4);
        struct mtr_store_stats st;
        T_EQ_INT(s->ops->stats(s, &st), 0);
        T_EQ_INT(st.readings, 3);
        T_EQ_INT(st.estimated, 1);
        struct mtr_query q = {.entity_id = "OLD1", .kind = -1, .type = -1, .min_level = -1};
        struct hours_seen hs = {0};
        T_EQ_INT(s->ops->hour_rows(s, &q, see_hour, &hs), 0);
        T_EQ_INT(hs.n, 2);
        T_EQ_DBL(hs.kwh[0], 0.75, 0);
        T_EQ_INT(hs.hour[1], 1699923600);
        s->ops->close(s);
    }
    T_EQ_INT(scalar(p, "SELECT max(version) FROM schema_migrations"), v);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                       " ('alerts_start', 'quarantine_at', 'rollup_daily_day')"),
             3);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM export_changes WHERE dataset = 0 AND seq = 0"
                       " AND day IN (1699920000, 1700006400)"),
             2);
    T_EQ_INT(scalar(p, "SELECT max(seq) FROM reading_blocks"), 0);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM sqlite_master WHERE name IN ('readings',"
                       " 'rollup_hourly')"),
             0);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM reading_blocks"), 2); /* two meter-days */
    T_EQ_INT(scalar(p, "SELECT count(*) FROM quarantine"), 1);
    T_CHECK(scalar(p, "SELECT applied_at FROM schema_migrations WHERE version = 2") > 0);

    /* a newer database is refused, and left alone */
    T_EQ_INT(exec(p, "INSERT INTO schema_migrations VALUES (999, 0, 'from the future')"),
             SQLITE_OK);
    s = NULL;
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), MTR_ESTORE);
    T_CHECK(s == NULL);
    T_CHECK(strstr(eb.msg, "999") != NULL && strstr(eb.msg, "newer") != NULL);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM quarantine"), 1);
}

/* Migration 6 rebuilds the meters table (its checks without IN lists): rows and the rows that
 * reference them survive, the checks still refuse, and a rebuild that would leave a reference
 * dangling is refused and rolled back. */
static void test_meter_checks_migration(void)
{
    char p[128];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "meters6.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s)
        s->ops->close(s);
    const char *to_v5 =
        "DROP INDEX meters_status; DROP INDEX meters_lat_lon; DROP TABLE meters;"
        " CREATE TABLE meters(meter_key INTEGER PRIMARY KEY, meter_id TEXT NOT NULL UNIQUE,"
        " latitude REAL, longitude REAL, address TEXT, manufacturer TEXT, model TEXT,"
        " firmware TEXT, type TEXT NOT NULL DEFAULT 'residential'"
        " CHECK (type IN ('residential','commercial','industrial')), tariff TEXT,"
        " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','active',"
        " 'inactive','maintenance','faulty','decommissioned')), installed_at INTEGER,"
        " operator_id TEXT, station_id TEXT, base_kwh REAL, created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        " CREATE INDEX meters_status ON meters(status);"
        " CREATE INDEX meters_lat_lon ON meters(latitude, longitude);"
        " DELETE FROM schema_migrations WHERE version > 5;"
        " INSERT INTO meters(meter_key, meter_id, type, status, latitude, created_at,"
        " updated_at) VALUES (3, 'M3', 'industrial', 'faulty', 51.5, 1, 2);"
        " INSERT OR REPLACE INTO meter_state VALUES (3, x'00', 5);";
    T_EQ_INT(exec(p, to_v5), SQLITE_OK);
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s)
        s->ops->close(s);
    T_CHECK(scalar(p, "SELECT max(version) FROM schema_migrations") >= 6);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM meters WHERE meter_key = 3 AND meter_id = 'M3'"
                       " AND type = 'industrial' AND status = 'faulty' AND latitude = 51.5"
                       " AND created_at = 1 AND updated_at = 2"),
             1);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM meter_state WHERE meter_key = 3"), 1);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                       " ('meters_status', 'meters_lat_lon')"),
             2);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%IN (%'"
                       " AND name = 'meters'"),
             0);
    T_CHECK(exec(p, "INSERT INTO meters(meter_id, type, created_at, updated_at)"
                    " VALUES ('BAD', 'domestic', 1, 1)") != SQLITE_OK);
    T_CHECK(exec(p, "INSERT INTO meters(meter_id, status, created_at, updated_at)"
                    " VALUES ('BAD', 'broken', 1, 1)") != SQLITE_OK);
    T_EQ_INT(exec(p, "INSERT INTO meters(meter_id, type, status, created_at, updated_at)"
                     " VALUES ('OK', 'commercial', 'decommissioned', 1, 1)"),
             SQLITE_OK);

    /* a state whose meter is gone: the rebuild would keep a dangling reference */
    T_EQ_INT(exec(p, to_v5), SQLITE_OK);
    T_EQ_INT(exec(p, "INSERT INTO meter_state VALUES (99, x'00', 5)"), SQLITE_OK);
    s = NULL;
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), MTR_ESTORE);
    T_CHECK(s == NULL);
    T_CHECK(strstr(eb.msg, "migration 6") != NULL && strstr(eb.msg, "foreign key") != NULL);
    T_EQ_INT(scalar(p, "SELECT max(version) FROM schema_migrations"), 5);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM meters WHERE meter_id = 'M3'"), 1);
}

static void test_packed_key(void)
{
    char p[128];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "packed.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (!s)
        return;
    struct mtr_stored_reading r;
    memset(&r, 0, sizeof r);
    r.raw_kwh = r.kwh = 1;
    r.voltage_v = r.current_a = r.power_factor = r.frequency_hz = NAN;
    r.active_power_kw = r.reactive_power_kvar = r.score = NAN;
    r.interval_s = 900;
    r.meter_key = 4294967295LL; /* the largest key and minute still fit */
    r.ts = (((int64_t)1 << 31) - 1) * 60;
    T_EQ_INT(s->ops->reading_put(s, &r), 0);
    r.meter_key = 3;
    r.ts = 1699920000;
    T_EQ_INT(s->ops->reading_put(s, &r), 0);
    r.ts = 1699920030; /* not minute-aligned */
    T_EQ_INT(s->ops->reading_put(s, &r), MTR_EINVAL);
    r.ts = 1699920000;
    r.meter_key = 4294967296LL;
    T_EQ_INT(s->ops->reading_put(s, &r), MTR_EINVAL);
    s->ops->close(s);
    /* one block per meter-day, keyed meter_key * 2^21 + day number */
    T_EQ_INT(scalar(p, "SELECT id FROM reading_blocks WHERE meter_key = 3"),
             3LL * 2097152LL + 1699920000LL / 86400);
    T_EQ_INT(scalar(p, "SELECT max(id) FROM reading_blocks"),
             4294967295LL * 2097152LL + ((((int64_t)1 << 31) - 1) * 60) / 86400);
    T_EQ_INT(scalar(p, "SELECT sum(n) FROM reading_blocks"), 2);
}

static int count_problem(void *ctx, const char *problem)
{
    (void)problem;
    ++*(int *)ctx;
    return 0;
}

static void test_check_finds_problems(void)
{
    char p[128];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "check.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "SM1", 1, &key, NULL), 0);
    struct mtr_rollup_day d;
    memset(&d, 0, sizeof d);
    d.meter_key = key;
    d.day = 1699920000;
    d.min_kwh = d.max_kwh = NAN;
    d.n_valid = 4; /* no readings behind it */
    T_EQ_INT(s->ops->rollup_day_merge(s, &d), 0);
    int problems = 0;
    T_EQ_INT(s->ops->check(s, count_problem, &problems), MTR_ESTORE);
    T_EQ_INT(problems, 1);
    s->ops->close(s);
}

/* A connection that knows a meter's latest stored day must learn of a later day another
 * connection committed since: the second connection's block is loaded and extended, not
 * inserted over. */
static void test_known_days_across_connections(void)
{
    char p[128];
    struct mtr_store *a = NULL, *b = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "known.db");
    T_EQ_INT(mtr_sqlite_open(p, &a, &eb), 0);
    T_EQ_INT(mtr_sqlite_open(p, &b, &eb), 0);
    if (!a || !b)
        goto out;
    int64_t key = 0, day0 = 1767225600;
    T_EQ_INT(a->ops->meter_key(a, "K1", 1, &key, NULL), 0);
    struct mtr_stored_reading r;
    memset(&r, 0, sizeof r);
    r.meter_key = key;
    r.interval_s = 900;
    r.raw_kwh = r.kwh = 0.5;
    r.voltage_v = r.current_a = r.power_factor = r.frequency_hz = NAN;
    r.active_power_kw = r.reactive_power_kvar = NAN;
    r.score = 1;
    struct mtr_store *order[3] = {a, b, a};
    int64_t ts[3] = {day0, day0 + 2 * 86400, day0 + 2 * 86400 + 900};
    for (int i = 0; i < 3; i++) {
        struct mtr_store *s = order[i];
        r.ts = ts[i];
        T_EQ_INT(s->ops->begin(s), 0);
        T_EQ_INT(s->ops->reading_put(s, &r), 0);
        struct mtr_rollup_hour h = {.meter_key = key,
                                    .hour = ts[i] - ts[i] % 3600,
                                    .kwh = 0.5,
                                    .min_kwh = 0.5,
                                    .max_kwh = 0.5,
                                    .n = 1};
        T_EQ_INT(s->ops->rollup_hour_merge(s, &h), 0);
        T_EQ_INT(s->ops->commit(s), 0);
    }
    T_EQ_INT(scalar(p, "SELECT sum(n) FROM reading_blocks"), 3);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM reading_blocks"), 2);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM rollup_hour_blocks"), 2);
out:
    if (a)
        a->ops->close(a);
    if (b)
        b->ops->close(b);
}

/* A store made with 4 KiB pages gets 8 KiB pages from maintenance vacuum, its data intact. */
static void test_vacuum_page_size(void)
{
    char p[128];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "pages.db");
    T_EQ_INT(exec(p, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t(x)"),
             SQLITE_OK);
    T_EQ_INT(scalar(p, "PRAGMA page_size"), 4096);
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "PG1", 1, &key, NULL), 0);
    T_EQ_INT(s->ops->vacuum(s), 0);
    s->ops->close(s);
    T_EQ_INT(scalar(p, "PRAGMA page_size"), 8192);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM meters WHERE meter_id = 'PG1'"), 1);
    sqlite3 *db = NULL;
    char mode[16] = "";
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(p, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    T_EQ_STR(mode, "wal");
}

/* Detector states are stored zstd-packed; a raw state of an older store still reads as it was. */
static void test_state_packing(void)
{
    char p[128], sql[256];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "state_pack.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (!s)
        return;
    int64_t a = 0, b = 0, c = 0;
    T_EQ_INT(s->ops->meter_key(s, "P1", 1, &a, NULL), 0);
    T_EQ_INT(s->ops->meter_key(s, "P2", 1, &b, NULL), 0);
    T_EQ_INT(s->ops->meter_key(s, "P3", 1, &c, NULL), 0);
    uint8_t big[2600], got[3000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] =
            i < 900 ? (uint8_t)(i * 31) : 0; /* an unused tail of zeros, as a young profile has */
    T_EQ_INT(s->ops->state_put(s, a, big, sizeof big), 0);
    s->ops->close(s);
    snprintf(sql, sizeof sql, "SELECT length(state) FROM meter_state WHERE meter_key = %lld",
             (long long)a);
    T_CHECK(scalar(p, sql) < 1300);
    snprintf(
        sql, sizeof sql,
        "INSERT INTO meter_state(meter_key, state, updated_at) VALUES (%lld, x'02000000abcd', 0)",
        (long long)b);
    T_EQ_INT(exec(p, sql), SQLITE_OK);
    /* a packed state cut short: refused as damaged, not read as something else */
    snprintf(sql, sizeof sql,
             "INSERT INTO meter_state(meter_key, state, updated_at)"
             " SELECT %lld, substr(state, 1, 20), 0 FROM meter_state WHERE meter_key = %lld",
             (long long)c, (long long)a);
    T_EQ_INT(exec(p, sql), SQLITE_OK);
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (!s)
        return;
    size_t len = 0;
    T_EQ_INT(s->ops->state_get(s, c, got, sizeof got, &len), MTR_ESTORE);
    T_CHECK(strstr(s->err.msg, "does not unpack") != NULL);
    T_EQ_INT(s->ops->state_get(s, a, got, sizeof got, &len), 0);
    T_EQ_INT(len, sizeof big);
    T_CHECK(memcmp(got, big, sizeof big) == 0);
    T_EQ_INT(s->ops->state_get(s, b, got, sizeof got, &len), 0);
    T_EQ_INT(len, 6);
    T_CHECK(memcmp(got, "\x02\x00\x00\x00\xab\xcd", 6) == 0);
    T_EQ_INT(s->ops->state_get(s, a, got, 100, &len), MTR_ERANGE);
    s->ops->close(s);
}

/* The row views `readings` and `rollup_hourly` over the blocks, as SQL consumers see them. */
static void test_row_views(void)
{
    char p[128];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    tmp_path(p, sizeof p, "views.db");
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (!s)
        return;
    int64_t key = 0;
    T_EQ_INT(s->ops->meter_key(s, "V1", 1, &key, NULL), 0);
    T_EQ_INT(s->ops->begin(s), 0);
    int64_t ts[] = {1699920000, 1699920900, 1700006400}; /* two on the first day, one next */
    for (int i = 0; i < 3; i++) {
        struct mtr_stored_reading r;
        memset(&r, 0, sizeof r);
        r.meter_key = key;
        r.ts = ts[i];
        r.interval_s = 900;
        r.raw_kwh = r.kwh = 0.25 * (i + 1);
        r.voltage_v = i == 1 ? NAN : 230;
        r.current_a = r.power_factor = r.frequency_hz = NAN;
        r.active_power_kw = r.reactive_power_kvar = NAN;
        r.quality_code = i == 2 ? 10 : 0;
        r.score = 1;
        r.ingested_at = 1700100000;
        T_EQ_INT(s->ops->reading_put(s, &r), 0);
    }
    struct mtr_rollup_hour h = {
        .meter_key = key, .hour = 1699920000, .kwh = 0.75, .min_kwh = 0.25, .max_kwh = 0.5, .n = 2};
    T_EQ_INT(s->ops->rollup_hour_merge(s, &h), 0);
    T_EQ_INT(s->ops->commit(s), 0);
    s->ops->close(s);

    sqlite3 *db = NULL;
    T_EQ_INT(sqlite3_open(p, &db), SQLITE_OK);
    T_EQ_INT(mtr_rb_register_sql(db), 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) * 1000 + sum(kwh * 100) FROM readings WHERE meter_key = %lld"
             " AND ts >= 1699920000 AND ts < 1700006400",
             (long long)key);
    sqlite3_stmt *st = NULL;
    T_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    T_EQ_INT(sqlite3_column_int64(st, 0), 2075); /* 2 readings, 0.75 kWh */
    sqlite3_finalize(st);
    T_EQ_INT(sqlite3_prepare_v2(db,
                                "SELECT count(*), sum(voltage_v IS NULL), sum(quality_code),"
                                " max(ingested_at) FROM readings",
                                -1, &st, NULL),
             SQLITE_OK);
    T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    T_EQ_INT(sqlite3_column_int64(st, 0), 3);
    T_EQ_INT(sqlite3_column_int64(st, 1), 1);
    T_EQ_INT(sqlite3_column_int64(st, 2), 10);
    T_EQ_INT(sqlite3_column_int64(st, 3), 1700100000);
    sqlite3_finalize(st);
    T_EQ_INT(sqlite3_prepare_v2(db, "SELECT hour, n, kwh FROM rollup_hourly", -1, &st, NULL),
             SQLITE_OK);
    T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    T_EQ_INT(sqlite3_column_int64(st, 0), 1699920000);
    T_EQ_INT(sqlite3_column_int64(st, 1), 2);
    T_EQ_DBL(sqlite3_column_double(st, 2), 0.75, 1e-12);
    T_EQ_INT(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* a damaged block is reported by check, not silently skipped */
    T_EQ_INT(sqlite3_exec(db, "UPDATE reading_blocks SET data = x'0102' WHERE day = 1699920000",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s) {
        int problems = 0;
        T_EQ_INT(s->ops->check(s, count_problem, &problems), MTR_ESTORE);
        T_CHECK(problems >= 1);
        struct mtr_stored_reading r;
        T_EQ_INT(s->ops->reading_get(s, key, 1699920000, &r), MTR_ESTORE);
        s->ops->close(s);
    }
}

static void rm_db(const char *name)
{
    char p[128], q[160];
    tmp_path(p, sizeof p, name);
    remove(p);
    snprintf(q, sizeof q, "%s-wal", p);
    remove(q);
    snprintf(q, sizeof q, "%s-shm", p);
    remove(q);
}

int main(void)
{
    char p[128];
    snprintf(dir, sizeof dir, "/tmp/mtr-test-sqlite-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    mtr_store_contract_run(mtr_sqlite_open, tmp_path(p, sizeof p, "contract.db"));
    T_RUN(test_open_error);
    T_RUN(test_migrations);
    T_RUN(test_meter_checks_migration);
    T_RUN(test_packed_key);
    T_RUN(test_check_finds_problems);
    T_RUN(test_known_days_across_connections);
    T_RUN(test_vacuum_page_size);
    T_RUN(test_state_packing);
    T_RUN(test_row_views);
    rm_db("contract.db");
    rm_db("migrate.db");
    rm_db("packed.db");
    rm_db("check.db");
    rm_db("views.db");
    rmdir(dir);
    return T_END();
}
