/*
 * test_sqlite_store.c - the SQLite store: the store contract suite on a fresh temporary file, then
 * what only SQLite has: migrations (idempotent, from an older schema, refusing a newer one), open
 * errors, the packed readings key, and check() finding an inconsistent rollup.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

    /* an older database (version 1: no report indexes, no change tracking) is migrated on
     * open; its readings' days are logged as changed (change number 0) */
    T_EQ_INT(exec(p, "DROP INDEX alerts_start; DROP INDEX quarantine_at;"
                     " DROP INDEX rollup_daily_day;"
                     " DROP TABLE change_seq; DROP TABLE export_changes;"
                     " DROP TABLE export_watermarks; ALTER TABLE readings DROP COLUMN seq;"
                     " ALTER TABLE grid_status DROP COLUMN seq;"
                     " ALTER TABLE weather_observations DROP COLUMN seq;"
                     " ALTER TABLE rollup_daily DROP COLUMN seq;"
                     " DELETE FROM schema_migrations WHERE version > 1;"
                     " INSERT INTO readings(id, meter_key, ts, interval_s, quality_code, flags)"
                     "  VALUES (1, 1, 1699920900, 900, 0, 0);"
                     " INSERT INTO quarantine(kind, rule, at) VALUES ('readings', 'number', 1)"),
             SQLITE_OK);
    T_EQ_INT(scalar(p, "SELECT max(version) FROM schema_migrations"), 1);
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), 0);
    if (s)
        s->ops->close(s);
    T_EQ_INT(scalar(p, "SELECT max(version) FROM schema_migrations"), v);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                       " ('alerts_start', 'quarantine_at', 'rollup_daily_day')"),
             3);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM quarantine"), 1);
    T_CHECK(scalar(p, "SELECT applied_at FROM schema_migrations WHERE version = 2") > 0);
    T_EQ_INT(scalar(p, "SELECT day FROM export_changes WHERE dataset = 0 AND seq = 0"), 1699920000);
    T_EQ_INT(scalar(p, "SELECT seq FROM readings WHERE id = 1"), 0);

    /* a newer database is refused, and left alone */
    T_EQ_INT(exec(p, "INSERT INTO schema_migrations VALUES (999, 0, 'from the future')"),
             SQLITE_OK);
    s = NULL;
    T_EQ_INT(mtr_sqlite_open(p, &s, &eb), MTR_ESTORE);
    T_CHECK(s == NULL);
    T_CHECK(strstr(eb.msg, "999") != NULL && strstr(eb.msg, "newer") != NULL);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM quarantine"), 1);
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
    T_EQ_INT(scalar(p, "SELECT id FROM readings WHERE meter_key = 3"),
             3LL * 2147483648LL + 1699920000LL / 60);
    T_EQ_INT(scalar(p, "SELECT max(id) FROM readings"), 9223372036854775807LL);
    T_EQ_INT(scalar(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                       " AND tbl_name = 'readings'"),
             0);
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
    T_RUN(test_packed_key);
    T_RUN(test_check_finds_problems);
    rm_db("contract.db");
    rm_db("migrate.db");
    rm_db("packed.db");
    rm_db("check.db");
    rmdir(dir);
    return T_END();
}
