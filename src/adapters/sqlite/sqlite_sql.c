/*
 * sqlite_sql.c - the SQL-execution port on SQLite (see sqlite_sql.h). A separate connection
 * from the store's, opened read-write on the same file, with the store's virtual tables
 * (readings, rollup_hourly) registered; busy waits up to 5 s for an ingest that holds the write
 * lock.
 */
#include "adapters/sqlite/sqlite_sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/sqlite/reading_blocks.h"

struct sqlite_sql {
    struct mtr_sql base; /* first: the port handle */
    sqlite3 *db;
};

static int fail(struct sqlite_sql *c)
{
    return mtr_err(&c->base.err, MTR_ESTORE, "%s", sqlite3_errmsg(c->db));
}

static void sql_close(struct mtr_sql *base)
{
    struct sqlite_sql *c = (struct sqlite_sql *)base;
    if (!c)
        return;
    sqlite3_close(c->db);
    free(c);
}

static int sql_exec(struct mtr_sql *base, const char *sql)
{
    struct sqlite_sql *c = (struct sqlite_sql *)base;
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        mtr_err(&base->err, MTR_ESTORE, "%s", msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return MTR_ESTORE;
    }
    return 0;
}

static int sql_query_int(struct mtr_sql *base, const char *sql, int64_t *out)
{
    struct sqlite_sql *c = (struct sqlite_sql *)base;
    sqlite3_stmt *st = NULL;
    *out = 0;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(c);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        rc = fail(c);
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

static int sql_relation_kind(struct mtr_sql *base, const char *name, enum mtr_sql_relation *kind)
{
    struct sqlite_sql *c = (struct sqlite_sql *)base;
    sqlite3_stmt *st = NULL;
    *kind = MTR_REL_NONE;
    if (sqlite3_prepare_v2(c->db, "select type from sqlite_master where name = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return fail(c);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        *kind = t && strcmp(t, "view") == 0 ? MTR_REL_VIEW : MTR_REL_TABLE;
    } else if (rc != SQLITE_DONE) {
        rc = fail(c);
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

static int sql_drop(struct mtr_sql *base, const char *name, enum mtr_sql_relation kind)
{
    char sql[600];
    snprintf(sql, sizeof sql, "drop %s if exists %s", kind == MTR_REL_VIEW ? "view" : "table",
             name);
    return sql_exec(base, sql);
}

static int sql_query_rows(struct mtr_sql *base, const char *sql,
                          int (*cb)(void *ctx, int ncol, const char *const *names,
                                    const char *const *values),
                          void *ctx)
{
    struct sqlite_sql *c = (struct sqlite_sql *)base;
    sqlite3_stmt *st = NULL;
    const char *names[64], *values[64];
    int rc = 0, step;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(c);
    int n = sqlite3_column_count(st);
    if (n > 64)
        n = 64; /* a bound for the callback's arrays; wider results are cut */
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(st, i);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++)
            values[i] = (const char *)sqlite3_column_text(st, i);
        rc = cb(ctx, n, names, values);
    }
    if (!rc && step != SQLITE_DONE)
        rc = fail(c);
    sqlite3_finalize(st);
    return rc;
}

static const struct mtr_sql_ops sqlite_sql_ops = {
    "sqlite", sql_close, sql_exec, sql_query_int, sql_relation_kind, sql_drop, sql_query_rows,
};

int mtr_sqlite_sql_open(const char *path, struct mtr_sql **out, struct mtr_errbuf *eb)
{
    *out = NULL;
    struct sqlite_sql *c = calloc(1, sizeof *c);
    if (!c)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    c->base.ops = &sqlite_sql_ops;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        mtr_err(eb, MTR_EIO, "cannot open %s: %s", path,
                c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sql_close(&c->base);
        return MTR_EIO;
    }
    sqlite3_busy_timeout(c->db, 5000);
    /* readings and rollup_hourly are row views of the store's blocks, registered per connection */
    if (mtr_rb_register_sql(c->db) != 0) {
        mtr_err(eb, MTR_EIO, "cannot register the readings views on %s: %s", path,
                sqlite3_errmsg(c->db));
        sql_close(&c->base);
        return MTR_EIO;
    }
    /* A table swap renames while views still name the dropped table; modern ALTER TABLE would
     * re-check every view and refuse. The legacy rename leaves views alone, as dbt expects. */
    if (sqlite3_exec(c->db, "pragma legacy_alter_table = on", NULL, NULL, NULL) != SQLITE_OK) {
        mtr_err(eb, MTR_EIO, "cannot configure %s: %s", path, sqlite3_errmsg(c->db));
        sql_close(&c->base);
        return MTR_EIO;
    }
    *out = &c->base;
    return 0;
}
