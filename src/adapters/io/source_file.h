/*
 * source_file.h - the record source port (app/ports.h) over a file or stdin: plain or gzip
 * (detected by magic bytes), CSV with a header (named layouts: lcl, darksky) or NDJSON.
 * Memory is bounded (about 1.1 MiB per source, see base/csv.h) whatever the input size.
 */
#ifndef MTR_SOURCE_FILE_H
#define MTR_SOURCE_FILE_H

#include "adapters/io/format.h"
#include "app/ports.h"

/*
 * Opens path ("-" = stdin) as a source of records of `kind` laid out as fmt (copied; NULL =
 * auto). For CSV the header is read and bound here, so layout problems fail the open.
 * On success *out is new; the caller frees it with (*out)->ops->close(*out).
 * Errors: MTR_ENOTFOUND (no such file), MTR_EIO (open/read failed), MTR_EINVAL (unusable header:
 * "FILE:1: header has no column for 'meter_id' (looked for: ...)", or a format that cannot hold
 * this kind: lcl is readings only, darksky weather only), MTR_ENOMEM; eb says why.
 * next() follows the port: 1 record, 0 end, MTR_EPARSE for a malformed record (err->line, rule,
 * field, message and raw filled; see adapters/io/decode.h for the rules), MTR_EIO fatal.
 */
int mtr_source_open(const char *path, enum mtr_kind kind, const struct mtr_format *fmt,
                    struct mtr_source **out, struct mtr_errbuf *eb);

/* The format actually used by an open file source (auto resolved to csv or ndjson). */
enum mtr_format_name mtr_source_file_format(const struct mtr_source *src);

#endif
