/*
 * pg_store.h - the PostgreSQL store: the store port (app/ports.h) on a PostgreSQL server through
 * libpq, with the SQLite store's tables and columns (readings and rollups as one row per
 * meter-day, declaratively partitioned by month, read through views of the former tables), bulk
 * writes through binary COPY, and a bounded connection pool per server URL.
 */
#ifndef MTR_PG_STORE_H
#define MTR_PG_STORE_H

#include "app/ports.h"

/*
 * Opens a store on the PostgreSQL database named by url (postgresql://... or postgres://..., any
 * libpq URI). The extra query parameter pool=N (1..64; else $METRIFY_PG_POOL, else 4) bounds
 * the connections this process keeps to that URL (the pool is per URL without that parameter;
 * the latest bound asked for applies): a handle borrows one connection from the pool for its
 * lifetime and close() returns it, so opening many handles (one per thread) is cheap and never
 * opens more than N connections; an open waits up to 30 s for a free connection.
 * The first open of a URL in a process migrates the schema (serialised across processes by an
 * advisory lock) and creates the reading_days partitions of this month and the next two.
 * *out is new and caller-owned, closed with (*out)->ops->close(*out); one handle per thread.
 *
 * Errors: MTR_EINVAL for a malformed URL or pool size; MTR_EIO when the server cannot be
 * reached (libpq's message); MTR_ESTORE when a migration fails or the database has a newer schema
 * than this build knows (left untouched) or the pool stays exhausted; MTR_ENOMEM.
 *
 * Adapter notes beyond the port: writes inside a unit of work are cached or buffered (meter-days
 * of readings and rollups, new meters, detector states, alerts, quarantine) and written with COPY
 * when complete or full, before a read that needs them, and at commit; outside a unit of work
 * every write op is its own transaction. A query op
 * reads its whole result before the first callback (callers page with limit/offset), so a row
 * callback may call other ops of the same handle.
 * backup(PATH) writes a pg_dump custom-format archive (restore with pg_restore). As in the SQLite
 * store, readings need meter_key > 0 and a minute-aligned ts >= 0, hour merges an hour-aligned
 * start (else MTR_EINVAL); state_get returns MTR_ERANGE with *len = the needed size.
 */
int mtr_pg_open(const char *url, struct mtr_store **out, struct mtr_errbuf *eb);

/* Migrates the schema of url's database up to `version` only (1 = the first migration), on a
 * connection of its own: for tests of the migrations themselves. 0 or MTR_EINVAL, MTR_EIO,
 * MTR_ESTORE. */
int mtr_pg_migrate_to(const char *url, int version, struct mtr_errbuf *eb);

#endif
