/* store_open.c - chooses the store adapter from the location string (see store_open.h). */
#include "adapters/store_open.h"

#include <string.h>

#include "adapters/postgres/pg_sql.h"
#include "adapters/postgres/pg_store.h"
#include "adapters/sqlite/sqlite_sql.h"
#include "adapters/sqlite/sqlite_store.h"

static int is_pg(const char *location)
{
    return strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0;
}

int mtr_store_open(const char *location, struct mtr_store **out, struct mtr_errbuf *eb)
{
    *out = NULL;
    if (!location || !*location)
        return mtr_err(eb, MTR_EINVAL, "empty store location");
    if (is_pg(location))
        return mtr_pg_open(location, out, eb);
    if (strncmp(location, "sqlite:", 7) == 0)
        location += 7;
    return mtr_sqlite_open(location, out, eb);
}

int mtr_sql_open(const char *location, struct mtr_sql **out, struct mtr_errbuf *eb)
{
    *out = NULL;
    if (!location || !*location)
        return mtr_err(eb, MTR_EINVAL, "empty store location");
    if (is_pg(location))
        return mtr_pg_sql_open(location, out, eb);
    if (strncmp(location, "sqlite:", 7) == 0)
        location += 7;
    return mtr_sqlite_sql_open(location, out, eb);
}
