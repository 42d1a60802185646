/*
 * sqlite_store.h - the embedded store: one SQLite database file in WAL mode, implementing the
 * store port (app/ports.h). Schema and migrations live in sqlite_store.c.
 */
#ifndef MTR_SQLITE_STORE_H
#define MTR_SQLITE_STORE_H

#include "app/ports.h"

/*
 * Opens (creating if needed) and migrates the database at path. *out is new, caller-owned, closed
 * with (*out)->ops->close(*out); one SQLite connection per handle, not shared between threads.
 * Errors: MTR_EINVAL for an empty path, MTR_EIO when the file cannot be opened (message: path and
 * SQLite's reason), MTR_ESTORE when a migration fails or the file has a newer schema version than
 * this build knows (the file is left untouched), MTR_ENOMEM.
 *
 * Adapter notes beyond the port: readings need 0 < meter_key < 2^32 and a minute-aligned ts >= 0
 * (else MTR_EINVAL); state_get returns MTR_ERANGE with *len = the needed size when cap is too
 * small; quarantine rows give "" for absent text; a row callback must not re-enter the same query
 * op (statements are cached per handle), other ops are fine.
 */
int mtr_sqlite_open(const char *path, struct mtr_store **out, struct mtr_errbuf *eb);

#endif
