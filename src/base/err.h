/*
 * err.h - the one error convention of Metrify.
 *
 * Every fallible function returns `int rc`: 0 (MTR_OK) on success, a negative MTR_E* code on
 * failure. Codes are stable and grouped by class; presentation layers translate them to exit codes
 * (cli) or HTTP statuses (api) and nowhere else. Details for a human go to the caller-provided
 * message buffer of the function that failed (see struct mtr_errbuf), never to stderr from below.
 */
#ifndef MTR_ERR_H
#define MTR_ERR_H

#include <stddef.h>

enum {
    MTR_OK = 0,
    MTR_ENOMEM = -1,       /* allocation failed */
    MTR_EINVAL = -2,       /* invalid argument or input (usage, config, request) */
    MTR_EIO = -3,          /* read/write/open failed */
    MTR_ENOTFOUND = -4,    /* entity or file not found */
    MTR_EEXIST = -5,       /* already exists */
    MTR_ESTORE = -6,       /* the store failed (SQL error, busy, corrupt) */
    MTR_EPARSE = -7,       /* a record could not be parsed (record-level, recoverable) */
    MTR_ERANGE = -8,       /* a value is outside its allowed range */
    MTR_ECONFLICT = -9,    /* state conflict (e.g. forbidden status transition) */
    MTR_EUNSUPPORTED = -10 /* not supported by this build or adapter */
};

/* Returns a static, human-readable name for rc ("out of memory", ...). Never NULL. */
const char *mtr_strerror(int rc);

/* A caller-owned buffer for a human-readable error message. */
struct mtr_errbuf {
    char msg[512];
};

/* Formats into eb (if non-NULL) and returns rc, so `return mtr_err(eb, MTR_EINVAL, "...")` works.
 */
int mtr_err(struct mtr_errbuf *eb, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
