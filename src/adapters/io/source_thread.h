/*
 * source_thread.h - a record source that decodes on its own thread, a few thousand records ahead
 * of the consumer: file reading, CSV/JSON parsing and field decoding overlap with validation,
 * detection and storage on the other core. Same port (app/ports.h), same records, same errors,
 * same order.
 */
#ifndef MTR_SOURCE_THREAD_H
#define MTR_SOURCE_THREAD_H

#include "app/ports.h"

/*
 * Wraps inner (taken: closed with the wrapper, also on failure) into *out (new; close with
 * (*out)->ops->close). Records, parse errors (MTR_EPARSE with the error filled) and the final
 * end or fatal error come out exactly as inner would give them. Errors: MTR_ENOMEM, MTR_EIO when
 * the thread cannot be started (message in eb).
 */
int mtr_source_threaded(struct mtr_source *inner, struct mtr_source **out, struct mtr_errbuf *eb);

#endif
