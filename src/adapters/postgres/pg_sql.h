/*
 * pg_sql.h - the SQL-execution port (app/sql_port.h) on PostgreSQL through libpq: what
 * `metrify transform` uses to materialise the dbt models next to a PostgreSQL store's tables.
 */
#ifndef MTR_PG_SQL_H
#define MTR_PG_SQL_H

#include "app/sql_port.h"

/*
 * Connects to conninfo (a postgresql:// URL or a libpq key=value string). *out is new and
 * caller-owned, closed with (*out)->ops->close(*out). Unqualified relation names live in the
 * connection's current schema (the first of search_path); "schema.name" names another one.
 * Drops are CASCADE, as dbt's, so rebuilding a relation also drops views built on it.
 * Errors: MTR_EIO (cannot connect; the server's message), MTR_ENOMEM.
 */
int mtr_pg_sql_open(const char *conninfo, struct mtr_sql **out, struct mtr_errbuf *eb);

#endif
