/*
 * parquet_writer.h - a streaming Apache Parquet file writer for flat tables.
 *
 * Written from the apache/parquet-format specification (parquet.thrift, Encodings.md). The caller
 * declares flat columns, appends rows column-batch-wise, and the writer emits row groups of data
 * page V1 pages (PLAIN, or dictionary + RLE/bit-packed indices with fallback to PLAIN), ZSTD or
 * uncompressed, with min/max/null statistics, then the FileMetaData footer on close. Memory is
 * bounded by the current row group. Output goes through a caller-supplied write function, so the
 * writer knows nothing about files, atomic renames or object stores.
 */
#ifndef MTR_PARQUET_WRITER_H
#define MTR_PARQUET_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

/* Column types: a Parquet physical type plus, where noted, its logical annotation. */
enum mtr_pq_type {
    MTR_PQ_INT32,        /* INT32; values: int32_t[] */
    MTR_PQ_INT64,        /* INT64; values: int64_t[] */
    MTR_PQ_DOUBLE,       /* DOUBLE; values: double[] */
    MTR_PQ_BOOLEAN,      /* BOOLEAN; values: bool[] */
    MTR_PQ_STRING,       /* BYTE_ARRAY + STRING (UTF-8); values: struct mtr_pq_bytes[] */
    MTR_PQ_TIMESTAMP_US, /* INT64 + TIMESTAMP(isAdjustedToUTC=true, MICROS); values: int64_t[]
                            microseconds since 1970-01-01T00:00:00Z */
    MTR_PQ_DATE          /* INT32 + DATE; values: int32_t[] days since 1970-01-01 */
};

/* Whether a column tries dictionary encoding. AUTO = yes for strings, no for other types. */
enum mtr_pq_dict { MTR_PQ_DICT_AUTO, MTR_PQ_DICT_ON, MTR_PQ_DICT_OFF };

struct mtr_pq_column_def {
    const char *name; /* UTF-8 column name; borrowed for the writer's lifetime */
    enum mtr_pq_type type;
    bool nullable; /* OPTIONAL (definition level 0/1) rather than REQUIRED */
    enum mtr_pq_dict dict;
};

/* Borrowed for the writer's lifetime. */
struct mtr_pq_schema {
    const struct mtr_pq_column_def *columns;
    size_t ncolumns;
};

enum mtr_pq_codec { MTR_PQ_UNCOMPRESSED = 0, MTR_PQ_ZSTD = 6 /* Parquet CompressionCodec ids */ };

/* A key/value pair for the footer's key_value_metadata; strings borrowed until open returns. */
struct mtr_pq_kv {
    const char *key, *value;
};

struct mtr_pq_options {
    enum mtr_pq_codec codec;    /* default ZSTD */
    int zstd_level;             /* default 3 */
    size_t row_group_rows;      /* cut a row group after this many rows (default 1,000,000) */
    size_t row_group_bytes;     /* ... or once its encoded size reaches this (default 128 MiB) */
    size_t page_bytes;          /* target uncompressed data page size (default 1 MiB) */
    size_t page_rows;           /* max values per data page; 0 = no limit (default 0) */
    size_t dict_max_bytes;      /* fall back to PLAIN beyond this dictionary size (default 1 MiB) */
    size_t stats_max_bytes;     /* string min/max longer than this are truncated (default 64) */
    const char *created_by;     /* default "metrify version <MTR_PQ_VERSION>" */
    const struct mtr_pq_kv *kv; /* extra key_value_metadata, copied at open */
    size_t nkv;
};

#define MTR_PQ_VERSION "0.1.0"

/* Fills o with the defaults above. */
void mtr_pq_options_default(struct mtr_pq_options *o);

/* Writes len bytes from buf (borrowed) to the sink. Returns 0 or a negative MTR_E* code. */
typedef int (*mtr_pq_write_fn)(void *ctx, const void *buf, size_t len);

/* A write_fn over a stdio stream: ctx is a FILE * (borrowed; the caller opens, flushes, closes
 * and renames). Returns 0 or MTR_EIO. */
int mtr_pq_file_sink(void *ctx, const void *buf, size_t len);

/* One string value: len bytes at ptr (borrowed for the duration of the write_batch call). */
struct mtr_pq_bytes {
    const char *ptr;
    size_t len;
};

/* One column of a batch. `values` points to nrows elements of the type's C array type (see enum
 * mtr_pq_type); every row has a slot, including null rows, whose slot is ignored. `nulls` is NULL
 * when no row is null, else nrows flags (non-zero = null); only nullable columns may have nulls. */
struct mtr_pq_column_data {
    const void *values;
    const uint8_t *nulls;
};

struct mtr_pq_writer;

/* Validates the schema and options (NULL = defaults), writes the "PAR1" magic through write(ctx),
 * and returns a new writer in *out, to be finished with mtr_pq_writer_close() or discarded with
 * mtr_pq_writer_abort(). schema (and its names) is borrowed for the writer's lifetime; write/ctx
 * too. Errors: MTR_EINVAL (bad schema/options), MTR_ENOMEM, or the write function's error. */
int mtr_pq_writer_open(const struct mtr_pq_schema *schema, const struct mtr_pq_options *opts,
                       mtr_pq_write_fn write, void *ctx, struct mtr_pq_writer **out,
                       struct mtr_errbuf *eb);

/* Appends nrows rows: cols[i] is the data of schema column i (cols and everything it points to
 * are borrowed for the call only). Completed row groups are written through the write function.
 * After any error the writer is failed: later calls return the same error; abort it.
 * Errors: MTR_EINVAL (a null in a required column), MTR_ENOMEM, MTR_EIO/the sink's error. */
int mtr_pq_write_batch(struct mtr_pq_writer *w, const struct mtr_pq_column_data *cols, size_t nrows,
                       struct mtr_errbuf *eb);

/* Flushes the last row group, writes the footer and frees w (always, even on error). The sink is
 * not closed. Returns 0 or the first error. */
int mtr_pq_writer_close(struct mtr_pq_writer *w, struct mtr_errbuf *eb);

/* Frees w without writing a footer (the output is then not a valid Parquet file; the caller
 * deletes it). NULL is a no-op. */
void mtr_pq_writer_abort(struct mtr_pq_writer *w);

/* Bytes written through the sink so far, and rows appended so far. */
uint64_t mtr_pq_writer_bytes(const struct mtr_pq_writer *w);
uint64_t mtr_pq_writer_rows(const struct mtr_pq_writer *w);

#endif
