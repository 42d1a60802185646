/*
 * csv.h - a streaming CSV (RFC 4180) record reader with bounded memory, for the ingest hot path.
 *
 * Bytes come from a caller-supplied read callback (plain file, gzip, stdin, a test string).
 * Records are returned as field views into one internal buffer (no allocation per record);
 * quoted fields are unquoted in place. Malformed records are reported one at a time and the
 * reader resynchronises, so one bad line never costs the rest of the file:
 *   - unterminated quote: a quoted field that reaches EOF or runs past MTR_CSV_LINE_MAX is an
 *     error for the record; reading resumes at the physical line after the record's first line;
 *   - a record longer than MTR_CSV_LINE_MAX: error; the rest of the line is skipped by streaming
 *     through it, never buffered (memory stays ~MTR_CSV_LINE_MAX + 64 KiB whatever the input);
 *   - invalid UTF-8: error for the record.
 * A UTF-8 BOM at the start is skipped; LF and CRLF both end a record; a final record without a
 * newline is returned; blank (empty or whitespace-only) lines are skipped and counted.
 * A quote opens a quoted field only at the start of a field; elsewhere it is an ordinary byte.
 * In MTR_CSV_LINES mode the reader does no quote or comma handling: each non-blank physical line
 * is one record with one field (used for NDJSON), with the same length/encoding/BOM/CRLF rules.
 */
#ifndef MTR_CSV_H
#define MTR_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MTR_CSV_LINE_MAX   (1u << 20) /* longest accepted record, bytes */
#define MTR_CSV_FIELDS_MAX 256        /* most fields in one record */

/* Reads up to n bytes into buf; returns the count, 0 at EOF, or -1 on error. */
typedef ssize_t (*mtr_csv_read_fn)(void *ctx, void *buf, size_t n);

enum mtr_csv_flags { MTR_CSV_LINES = 1 };

/* Why a record was rejected (row.error when next() returns MTR_EPARSE). */
enum mtr_csv_error {
    MTR_CSV_OK = 0,
    MTR_CSV_E_QUOTE,    /* unterminated quote, or text after a closing quote */
    MTR_CSV_E_ENCODING, /* not valid UTF-8 */
    MTR_CSV_E_LENGTH,   /* longer than MTR_CSV_LINE_MAX */
    MTR_CSV_E_FIELDS    /* more than MTR_CSV_FIELDS_MAX fields */
};

struct mtr_csv_field {
    const char *p; /* not NUL-terminated */
    size_t len;
};

/* One record. Every pointer in it is valid until the next call on the reader. */
struct mtr_csv_row {
    uint64_t line; /* 1-based physical line where the record starts */
    size_t nfields;
    const struct mtr_csv_field *fields;
    const char *raw; /* the record's first bytes as read (before unquoting) */
    size_t raw_len;  /* <= 255 */
    enum mtr_csv_error error;
    const char *message; /* static text for error, "" when ok */
};

struct mtr_csv;

/* Creates a reader over rd/ctx (borrowed; must outlive the reader). flags: enum mtr_csv_flags.
 * *out is new, freed with mtr_csv_close. Returns 0 or MTR_ENOMEM. */
int mtr_csv_open(mtr_csv_read_fn rd, void *ctx, unsigned flags, struct mtr_csv **out);

/* Frees the reader (not the read context). NULL is fine. */
void mtr_csv_close(struct mtr_csv *c);

/*
 * Reads the next record into *row. Returns 1 (row filled), 0 at end of input, MTR_EPARSE when
 * this record is malformed (row->line, error, message and raw filled; the reader has skipped it
 * and the next call continues), or MTR_EIO when the read callback failed (fatal).
 */
int mtr_csv_next(struct mtr_csv *c, struct mtr_csv_row *row);

/*
 * Looks at the first byte that is not a BOM or whitespace without consuming anything; *byte is
 * -1 when the input is empty or blank. Returns 0 or MTR_EIO. Call before the first next().
 */
int mtr_csv_peek(struct mtr_csv *c, int *byte);

/* Switches between CSV and line mode (enum mtr_csv_flags); takes effect at the next record. */
void mtr_csv_set_flags(struct mtr_csv *c, unsigned flags);

/* Blank lines skipped so far. */
uint64_t mtr_csv_blank_lines(const struct mtr_csv *c);

#endif
