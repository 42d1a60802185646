/*
 * source_file.c - file/stdin record source: zlib's gzread (transparent for plain input) feeds the
 * streaming CSV reader, whose records go to the CSV or JSON decoder. All per-record work happens
 * in buffers owned by the source; nothing is allocated per record except jansson's JSON values.
 */
#include "adapters/io/source_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "adapters/io/decode.h"
#include "base/csv.h"
#include "base/text.h"

struct file_source {
    struct mtr_source base; /* first: the port sees only this */
    enum mtr_kind kind;
    struct mtr_format fmt;
    gzFile gz;
    struct mtr_csv *csv;
    struct mtr_csv_binding bind;
    int ndjson, empty;
    char ioerr[128];
};

static ssize_t gz_read(void *ctx, void *buf, size_t n)
{
    struct file_source *s = ctx;
    if (n > INT_MAX / 2)
        n = INT_MAX / 2;
    int r = gzread(s->gz, buf, (unsigned)n);
    if (r < 0) {
        int zerr;
        const char *m = gzerror(s->gz, &zerr);
        snprintf(s->ioerr, sizeof s->ioerr, "%s",
                 zerr == Z_ERRNO ? strerror(errno) : (m && *m ? m : "read failed"));
        return -1;
    }
    if (r == 0) { /* zlib reports a truncated stream as EOF plus an error state */
        int zerr;
        const char *m = gzerror(s->gz, &zerr);
        if (zerr != Z_OK) {
            snprintf(s->ioerr, sizeof s->ioerr, "%s", m && *m ? m : "truncated input");
            return -1;
        }
    }
    return r;
}

static const enum mtr_rule_id csv_rule[] = {
    [MTR_CSV_OK] = MTR_R_PARSE_COLUMNS,          [MTR_CSV_E_QUOTE] = MTR_R_PARSE_QUOTE,
    [MTR_CSV_E_ENCODING] = MTR_R_PARSE_ENCODING, [MTR_CSV_E_LENGTH] = MTR_R_PARSE_LINE_LENGTH,
    [MTR_CSV_E_FIELDS] = MTR_R_PARSE_COLUMNS,
};

static void set_raw(struct mtr_record_error *err, const struct mtr_csv_row *row)
{
    mtr_text_excerpt(err->raw, sizeof err->raw, row->raw, row->raw_len);
}

static int decode_json_line(struct file_source *s, const struct mtr_csv_row *row,
                            struct mtr_record *rec, struct mtr_record_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loadb(row->fields[0].p, row->fields[0].len, 0, &jerr);
    if (!obj) {
        err->rule = MTR_R_PARSE_JSON;
        err->field[0] = 0;
        snprintf(err->message, sizeof err->message, "invalid JSON: %s (column %d)", jerr.text,
                 jerr.column);
        return MTR_EPARSE;
    }
    int rc = mtr_decode_json(obj, s->kind, &s->fmt, rec, err);
    json_decref(obj);
    if (rc == 0) {
        if (rec->kind == MTR_KIND_GRID)
            rec->u.grid.line = row->line;
        else if (rec->kind == MTR_KIND_WEATHER)
            rec->u.weather.line = row->line;
        else
            rec->u.reading.line = row->line;
    }
    return rc;
}

static int src_next(struct mtr_source *base, struct mtr_record *rec, struct mtr_record_error *err)
{
    struct file_source *s = (struct file_source *)base;
    struct mtr_csv_row row;
    if (s->empty)
        return 0;
    int rc = mtr_csv_next(s->csv, &row);
    if (rc == 0)
        return 0;
    if (rc == MTR_EPARSE) {
        err->line = row.line;
        err->rule = csv_rule[row.error];
        err->field[0] = 0;
        if (row.error == MTR_CSV_E_FIELDS)
            snprintf(err->message, sizeof err->message, "more than %d columns", MTR_CSV_FIELDS_MAX);
        else
            snprintf(err->message, sizeof err->message, "%s", row.message);
        set_raw(err, &row);
        return MTR_EPARSE;
    }
    if (rc < 0) {
        err->line = 0;
        err->rule = MTR_R_PARSE_COLUMNS;
        err->field[0] = err->raw[0] = 0;
        snprintf(err->message, sizeof err->message, "%.100s: read error: %.120s", s->base.name,
                 s->ioerr[0] ? s->ioerr : mtr_strerror(rc));
        return rc;
    }
    rc = s->ndjson ? decode_json_line(s, &row, rec, err)
                   : mtr_decode_csv_row(&s->bind, row.fields, row.nfields, row.line, rec, err);
    if (rc < 0) {
        err->line = row.line;
        set_raw(err, &row);
        return rc;
    }
    return 1;
}

static void src_close(struct mtr_source *base)
{
    struct file_source *s = (struct file_source *)base;
    if (!s)
        return;
    mtr_csv_close(s->csv);
    if (s->gz)
        gzclose(s->gz);
    free(s);
}

static const struct mtr_source_ops file_source_ops = {.next = src_next, .close = src_close};

enum mtr_format_name mtr_source_file_format(const struct mtr_source *src)
{
    const struct file_source *s = (const struct file_source *)src;
    return s->ndjson ? MTR_FORMAT_NDJSON : s->fmt.name;
}

int mtr_source_open(const char *path, enum mtr_kind kind, const struct mtr_format *fmt,
                    struct mtr_source **out, struct mtr_errbuf *eb)
{
    int rc = 0, fd = -1;
    struct file_source *s = calloc(1, sizeof *s);
    if (!s)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    s->base.ops = &file_source_ops;
    snprintf(s->base.name, sizeof s->base.name, "%s", path);
    s->kind = kind;
    if (fmt)
        s->fmt = *fmt;
    else
        mtr_format_init(&s->fmt);
    if (s->fmt.name == MTR_FORMAT_LCL && kind != MTR_KIND_READING) {
        rc = mtr_err(eb, MTR_EINVAL, "format lcl holds readings, not %s", mtr_kind_name(kind));
        goto fail;
    }
    if (s->fmt.name == MTR_FORMAT_DARKSKY && kind != MTR_KIND_WEATHER) {
        rc = mtr_err(eb, MTR_EINVAL, "format darksky holds weather, not %s", mtr_kind_name(kind));
        goto fail;
    }
    fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = mtr_err(eb, errno == ENOENT ? MTR_ENOTFOUND : MTR_EIO, "cannot open %s: %s", path,
                     strerror(errno));
        goto fail;
    }
    s->gz = gzdopen(fd, "rb");
    if (!s->gz) {
        close(fd);
        rc = mtr_err(eb, MTR_ENOMEM, "%s: cannot start reading", path);
        goto fail;
    }
    gzbuffer(s->gz, 256u << 10);
    if ((rc = mtr_csv_open(gz_read, s, 0, &s->csv)) < 0) {
        rc = mtr_err(eb, rc, "out of memory");
        goto fail;
    }
    if (s->fmt.name == MTR_FORMAT_AUTO) {
        int first;
        if ((rc = mtr_csv_peek(s->csv, &first)) < 0) {
            rc = mtr_err(eb, rc, "%s: read error: %s", path, s->ioerr);
            goto fail;
        }
        s->fmt.name = first == '{' ? MTR_FORMAT_NDJSON : MTR_FORMAT_CSV;
    }
    if (s->fmt.name == MTR_FORMAT_NDJSON) {
        s->ndjson = 1;
        mtr_csv_set_flags(s->csv, MTR_CSV_LINES);
        *out = &s->base;
        return 0;
    }
    struct mtr_csv_row hdr;
    rc = mtr_csv_next(s->csv, &hdr);
    if (rc == 0) {
        s->empty = 1; /* an empty file is zero records, not an error */
        *out = &s->base;
        return 0;
    }
    if (rc == MTR_EPARSE) {
        rc = mtr_err(eb, MTR_EINVAL, "%s:%llu: unreadable header: %s", path,
                     (unsigned long long)hdr.line, hdr.message);
        goto fail;
    }
    if (rc < 0) {
        rc = mtr_err(eb, rc, "%s: read error: %s", path, s->ioerr);
        goto fail;
    }
    rc = mtr_decode_bind_header(&s->bind, kind, &s->fmt, hdr.fields, hdr.nfields, path, hdr.line,
                                eb);
    if (rc < 0)
        goto fail;
    *out = &s->base;
    return 0;
fail:
    src_close(&s->base);
    return rc;
}
