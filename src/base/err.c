/* err.c - names of the error codes and the message-buffer helper (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *mtr_strerror(int rc)
{
    switch (rc) {
    case MTR_OK:
        return "ok";
    case MTR_ENOMEM:
        return "out of memory";
    case MTR_EINVAL:
        return "invalid input";
    case MTR_EIO:
        return "I/O error";
    case MTR_ENOTFOUND:
        return "not found";
    case MTR_EEXIST:
        return "already exists";
    case MTR_ESTORE:
        return "store error";
    case MTR_EPARSE:
        return "parse error";
    case MTR_ERANGE:
        return "out of range";
    case MTR_ECONFLICT:
        return "conflict";
    case MTR_EUNSUPPORTED:
        return "unsupported";
    default:
        return "unknown error";
    }
}

int mtr_err(struct mtr_errbuf *eb, int rc, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}
