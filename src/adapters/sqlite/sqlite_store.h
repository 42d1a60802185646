/*
 * sqlite_store.h - the embedded store: one SQLite database file in WAL mode, implementing the
 * store port (app/ports.h). Schema and migrations live in sqlite_store.c.
 */
#ifndef MTR_SQLITE_STORE_H
#define MTR_SQLITE_STORE_H

#include "app/ports.h"

/* Opens (creating if needed) and migrates the database at path. *out is new, caller-owned. */
int mtr_sqlite_open(const char *path, struct mtr_store **out, struct mtr_errbuf *eb);

#endif
