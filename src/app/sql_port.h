/*
 * sql_port.h - the SQL-execution port of `metrify transform`: run statements and read one number
 * back, on whatever database holds Metrify's tables (SQLite now, PostgreSQL with libpq next).
 * The transform use case (app/transform.c) reaches the database only through these ops; the
 * SQL it sends is the portable subset documented in docs/warehouse/dbt.md.
 */
#ifndef MTR_SQL_PORT_H
#define MTR_SQL_PORT_H

#include <stdint.h>

#include "base/err.h"

/* What a name denotes in the database. */
enum mtr_sql_relation { MTR_REL_NONE = 0, MTR_REL_TABLE, MTR_REL_VIEW };

struct mtr_sql;
struct mtr_sql_ops {
    const char *dialect; /* "sqlite", "postgres" */
    /* Closes the connection and frees c. */
    void (*close)(struct mtr_sql *c);
    /* Runs one or more ';'-separated statements (no result rows). MTR_ESTORE + c->err on error. */
    int (*exec)(struct mtr_sql *c, const char *sql);
    /* Runs a query and stores the first column of its first row as an integer in *out (0 when
     * the query returns no row or NULL). MTR_ESTORE + c->err on error. */
    int (*query_int)(struct mtr_sql *c, const char *sql, int64_t *out);
    /* Sets *kind to what `name` (a relation name as the transform writes it, possibly
     * schema-qualified) is: none, table or view. MTR_ESTORE on error. */
    int (*relation_kind)(struct mtr_sql *c, const char *name, enum mtr_sql_relation *kind);
    /* Drops relation `name` of the given kind, and whatever depends on it where the database
     * insists (PostgreSQL: CASCADE; SQLite resolves views lazily and needs nothing). */
    int (*drop)(struct mtr_sql *c, const char *name, enum mtr_sql_relation kind);
    /* Runs a query and calls cb for each row with its column names and values as text (NULL for
     * SQL NULL), all borrowed for the call; a non-zero return from cb stops and is returned.
     * MTR_ESTORE + c->err on error. */
    int (*query_rows)(struct mtr_sql *c, const char *sql,
                      int (*cb)(void *ctx, int ncol, const char *const *names,
                                const char *const *values),
                      void *ctx);
};
struct mtr_sql {
    const struct mtr_sql_ops *ops;
    struct mtr_errbuf err; /* message of the last failed op */
};

#endif
