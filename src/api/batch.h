/*
 * batch.h - decoding an ingest request body into records: a JSON array / object / envelope via
 * jansson and mtr_decode_json (the rules of `metrify ingest` for NDJSON), NDJSON line by line, and
 * a fast path for the common body, a JSON array of flat objects with the same keys: the first
 * object's keys are bound like a CSV header and each object is decoded like a CSV row, without
 * building jansson values. The fast path takes an object only when that gives exactly the record
 * (or error) the jansson path would give - strings in id/timestamp fields, JSON numbers in numeric
 * fields, no null, no escapes, the same keys in the same order - and hands any other object to
 * the jansson path; a body it cannot scan falls back entirely. Internal to src/api.
 */
#ifndef MTR_API_BATCH_H
#define MTR_API_BATCH_H

#include <jansson.h>
#include <stddef.h>

#include "adapters/io/format.h"
#include "app/ports.h"

/* A decoded record, or the index of its decoding error. */
struct mtr_api_item {
    struct mtr_record rec;
    int err; /* index into errs, -1 when rec is good */
};

/* The decoded body; zero-initialise, free with mtr_api_batch_free. */
struct mtr_api_batch {
    struct mtr_api_item *items;
    size_t n, cap;
    struct mtr_record_error *errs;
    size_t nerr, cap_err;
    int fast; /* objects decoded by the fast path (for tests and tuning) */
};

void mtr_api_batch_free(struct mtr_api_batch *b);

/* Decodes one JSON value (element `line`, 1-based) of kind into b: a record, or its error (not an
 * object, a field error, or - when entity is set - an id that differs from entity). fmt gives the
 * default id. Returns 0 or MTR_ENOMEM. */
int mtr_api_batch_add_json(struct mtr_api_batch *b, json_t *v, enum mtr_kind kind,
                           const struct mtr_format *fmt, const char *entity, uint64_t line);

/* Records an undecodable element (line, rule parse.json, message, raw excerpt). */
int mtr_api_batch_add_error(struct mtr_api_batch *b, enum mtr_kind kind, uint64_t line,
                            const char *message, const char *raw, size_t raw_len);

/*
 * The fast path over body[0..len): returns 1 when the body was a JSON array that it decoded
 * completely into b (with the same records and errors as the jansson path), 0 when the body is
 * anything else (b is then empty again and the caller uses the jansson path), MTR_ENOMEM.
 */
int mtr_api_batch_fast(struct mtr_api_batch *b, const char *body, size_t len, enum mtr_kind kind,
                       const struct mtr_format *fmt, const char *entity);

#endif
