/*
 * sqlite_sql.h - the SQL-execution port (app/sql_port.h) on a SQLite database file: what
 * `metrify transform` uses to materialise dbt models next to the store's tables.
 */
#ifndef MTR_SQLITE_SQL_H
#define MTR_SQLITE_SQL_H

#include "app/sql_port.h"

/*
 * Opens the SQLite database at path (which must exist: the store creates and migrates it).
 * *out is new and caller-owned, closed with (*out)->ops->close(*out). Relation names are
 * unqualified (one database, no schemas). The connection has the store's row views `readings` and
 * `rollup_hourly` (virtual tables over reading blocks, adapters/sqlite/reading_blocks.h), so
 * views built on them work here, though not in SQLite clients without them. Errors: MTR_EIO (cannot
 * open; message names the path), MTR_ENOMEM.
 */
int mtr_sqlite_sql_open(const char *path, struct mtr_sql **out, struct mtr_errbuf *eb);

#endif
