/*
 * decode.h - from field values to domain records: the field schema of each kind (names and
 * aliases), binding a CSV header to it, decoding one CSV row or one JSON object, and the precise
 * per-record errors. Shared by the file source and the HTTP API (request bodies).
 *
 * Error rules (struct mtr_record_error.rule):
 *   MTR_R_PARSE_COLUMNS  the row has a different number of columns than the header;
 *   MTR_R_PARSE_JSON     not a JSON object (or invalid JSON, from the caller);
 *   MTR_R_REQUIRED       a required field is missing or empty, a grid/weather record carries no
 *                        measurement at all, or an id is longer than MTR_ID_MAX-1 (63) bytes:
 *                        such an id cannot be stored, which makes the record lack a usable id;
 *   MTR_R_NUMBER         a measurement is not a decimal number (including NaN, Inf, hex, "Null",
 *                        JSON strings and booleans) or overflows a double; interval_s not a
 *                        positive whole number of seconds;
 *   MTR_R_TIMESTAMP      the timestamp is not a valid ISO-8601 date-time (see base/timeparse.h).
 * `field` is the Metrify field name; `message` starts with it ("consumption_kwh: not a number:
 * \"abc\""). The decoders never fill err->line or err->raw: the caller knows them.
 */
#ifndef MTR_DECODE_H
#define MTR_DECODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters/io/format.h"
#include "app/ports.h"
#include "base/csv.h"

#define MTR_DECODE_BIND_MAX 16

/* A CSV header bound to the fields of one kind. Plain data; no cleanup. */
struct mtr_csv_binding {
    enum mtr_kind kind;
    const struct mtr_format *fmt; /* borrowed; must outlive the binding */
    size_t ncols;                 /* columns in the header: every row must have as many */
    int nbind;
    struct {
        int col, field; /* column index -> index into the kind's field table */
        double scale;   /* multiplier for numeric fields (Dark Sky humidity 0..1 -> %) */
    } bind[MTR_DECODE_BIND_MAX];
};

/*
 * Binds header columns cols[0..ncols) to the fields of kind: the column map of fmt first, then
 * names and aliases (case-insensitive, trimmed); unknown columns are ignored. `name` (file name
 * for messages) and `line` (the header's line) are used in messages only.
 * Returns 0, or MTR_EINVAL with "NAME:LINE: header has no column for 'meter_id' (looked for:
 * meter_id, meterid, ...)" when a required column (or, for grid/weather, every measurement
 * column) is missing. An id column is not required when fmt has a default id for the kind.
 */
int mtr_decode_bind_header(struct mtr_csv_binding *b, enum mtr_kind kind,
                           const struct mtr_format *fmt, const struct mtr_csv_field *cols,
                           size_t ncols, const char *name, uint64_t line, struct mtr_errbuf *eb);

/* Decodes one CSV row with binding b into *rec (rec->kind set, `line` member set to line).
 * Returns 0 or MTR_EPARSE with err->rule/field/message filled. Allocates nothing. */
int mtr_decode_csv_row(const struct mtr_csv_binding *b, const struct mtr_csv_field *fields,
                       size_t nfields, uint64_t line, struct mtr_record *rec,
                       struct mtr_record_error *err);

/*
 * Decodes one JSON object (borrowed) of the given kind into *rec. Keys are the field names or
 * their aliases (any case) or columns of fmt's map (fmt may be NULL); unknown keys are ignored.
 * An envelope {"payload": {...}, "metadata": {...}} is unwrapped. Measurements must be JSON
 * numbers, null = absent; ids are strings (integers are accepted and printed); timestamps are
 * ISO-8601 strings. The record's `line` member is 0. Returns 0 or MTR_EPARSE (err filled).
 */
int mtr_decode_json(const json_t *obj, enum mtr_kind kind, const struct mtr_format *fmt,
                    struct mtr_record *rec, struct mtr_record_error *err);

/* 1 when name[0..len) is the canonical field name of any kind (case-insensitive). */
int mtr_decode_field_known(const char *name, size_t len);

/* Every canonical field name, comma-separated (static text). */
const char *mtr_decode_field_list(void);

#endif
