/*
 * pg_sql.c - the SQL-execution port on PostgreSQL (see pg_sql.h): PQexec for statements, one
 * value of the first row for counts, pg_class for what a name denotes. Notices (e.g. "view does
 * not exist, skipping") are silenced: the transform reports its own progress.
 */
#include "adapters/postgres/pg_sql.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_sql {
    struct mtr_sql base; /* first: the port handle */
    PGconn *conn;
};

static int fail_result(struct pg_sql *c, PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn);
    char clean[480];
    snprintf(clean, sizeof clean, "%s", msg && *msg ? msg : "PostgreSQL error");
    size_t n = strlen(clean);
    while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        clean[--n] = '\0';
    PQclear(res);
    return mtr_err(&c->base.err, MTR_ESTORE, "%s", clean);
}

static void pg_close(struct mtr_sql *base)
{
    struct pg_sql *c = (struct pg_sql *)base;
    if (!c)
        return;
    PQfinish(c->conn);
    free(c);
}

static int pg_exec(struct mtr_sql *base, const char *sql)
{
    struct pg_sql *c = (struct pg_sql *)base;
    PGresult *res = PQexec(c->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return fail_result(c, res);
    PQclear(res);
    return 0;
}

static int pg_query_int(struct mtr_sql *base, const char *sql, int64_t *out)
{
    struct pg_sql *c = (struct pg_sql *)base;
    *out = 0;
    PGresult *res = PQexec(c->conn, sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_result(c, res);
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

static int pg_relation_kind(struct mtr_sql *base, const char *name, enum mtr_sql_relation *kind)
{
    struct pg_sql *c = (struct pg_sql *)base;
    char schema[128] = "", rel[256];
    const char *dot = strchr(name, '.');
    if (dot && (size_t)(dot - name) < sizeof schema) {
        memcpy(schema, name, (size_t)(dot - name));
        schema[dot - name] = '\0';
        snprintf(rel, sizeof rel, "%s", dot + 1);
    } else {
        snprintf(rel, sizeof rel, "%s", name);
    }
    const char *params[2] = {rel, schema};
    PGresult *res = PQexecParams(c->conn,
                                 "select c.relkind from pg_class c join pg_namespace n on n.oid = "
                                 "c.relnamespace where c.relname = $1 and n.nspname = "
                                 "coalesce(nullif($2, ''), current_schema())",
                                 2, NULL, params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_result(c, res);
    *kind = MTR_REL_NONE;
    if (PQntuples(res) > 0) {
        char k = PQgetvalue(res, 0, 0)[0];
        *kind = k == 'v' || k == 'm' ? MTR_REL_VIEW : MTR_REL_TABLE;
    }
    PQclear(res);
    return 0;
}

static int pg_drop(struct mtr_sql *base, const char *name, enum mtr_sql_relation kind)
{
    char sql[600];
    snprintf(sql, sizeof sql, "drop %s if exists %s cascade",
             kind == MTR_REL_VIEW ? "view" : "table", name);
    return pg_exec(base, sql);
}

static void quiet_notices(void *arg, const char *message)
{
}

static int pg_query_rows(struct mtr_sql *base, const char *sql,
                         int (*cb)(void *ctx, int ncol, const char *const *names,
                                   const char *const *values),
                         void *ctx)
{
    struct pg_sql *c = (struct pg_sql *)base;
    const char *names[64], *values[64];
    PGresult *res = PQexec(c->conn, sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_result(c, res);
    int n = PQnfields(res), rc = 0;
    if (n > 64)
        n = 64; /* a bound for the callback's arrays; wider results are cut */
    for (int i = 0; i < n; i++)
        names[i] = PQfname(res, i);
    for (int r = 0; r < PQntuples(res) && !rc; r++) {
        for (int i = 0; i < n; i++)
            values[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
        rc = cb(ctx, n, names, values);
    }
    PQclear(res);
    return rc;
}

static const struct mtr_sql_ops pg_sql_ops = {
    "postgres", pg_close, pg_exec, pg_query_int, pg_relation_kind, pg_drop, pg_query_rows,
};

int mtr_pg_sql_open(const char *conninfo, struct mtr_sql **out, struct mtr_errbuf *eb)
{
    *out = NULL;
    struct pg_sql *c = calloc(1, sizeof *c);
    if (!c)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    c->base.ops = &pg_sql_ops;
    c->conn = PQconnectdb(conninfo);
    if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", c->conn ? PQerrorMessage(c->conn) : "out of memory");
        size_t n = strlen(msg);
        while (n && msg[n - 1] == '\n')
            msg[--n] = '\0';
        mtr_err(eb, MTR_EIO, "cannot connect to PostgreSQL: %s", msg);
        pg_close(&c->base);
        return MTR_EIO;
    }
    PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
    *out = &c->base;
    return 0;
}
