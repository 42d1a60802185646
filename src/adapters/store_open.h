/*
 * store_open.h - picks and opens the store adapter for a location: a path or sqlite:PATH is the
 * embedded SQLite store; postgresql://... or postgres://... is PostgreSQL
 * (adapters/postgres/pg_store.h). The store is migrated to the current schema before it is
 * returned.
 */
#ifndef MTR_STORE_OPEN_H
#define MTR_STORE_OPEN_H

#include "app/ports.h"

/* Opens the store at `location`. On success *out is new and owned by the caller, who closes it
 * with (*out)->ops->close(*out). On failure returns a negative MTR_E* and fills eb. */
int mtr_store_open(const char *location, struct mtr_store **out, struct mtr_errbuf *eb);

struct mtr_sql;
/* Opens the SQL port (app/sql_port.h) on the database at `location` (same forms as above), which
 * the store must already have created. *out is new, closed with (*out)->ops->close(*out). */
int mtr_sql_open(const char *location, struct mtr_sql **out, struct mtr_errbuf *eb);

#endif
