/*
 * lake_dir.h - the lake port (app/ports.h) on a local directory: files are written as hidden
 * temporaries (.tmp-*) next to their final name, fsynced and renamed into place, so a reader or
 * a crash never leaves a partial part file under a visible name. One export at a time per
 * directory (an flock on DIR/.metrify-export.lock). DIR/.metrify-lake-id names the lake in the
 * destination name, so a deleted and recreated directory is a new destination.
 */
#ifndef MTR_LAKE_DIR_H
#define MTR_LAKE_DIR_H

#include "app/ports.h"

/* Opens (creating it and its parents if needed) the lake directory `dir`, reads or creates its
 * lake id, and locks it. *out is
 * new, freed by (*out)->ops->close. Errors: MTR_EIO (cannot create/open), MTR_ECONFLICT (another
 * export holds the lock), MTR_ENOMEM.
 * Test hook: with METRIFY_TEST_KILL_AFTER_FILES=N in the environment, the process kills itself
 * (SIGKILL) in the middle of writing the file after the N-th committed one. */
int mtr_lake_dir_open(const char *dir, struct mtr_lake **out, struct mtr_errbuf *eb);

#endif
