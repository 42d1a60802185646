/*
 * csv.c - the streaming CSV reader (see csv.h). Two passes per record over bytes that are hot in
 * cache: find the record end (memchr for '\n' and '"'; a resumable quote state machine only for
 * records that contain quotes), then split fields. The buffer is compacted and refilled only when
 * a record straddles its end, so a refill moves one partial record, not the file.
 */
#include "base/csv.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/text.h"

#define CHUNK   (64u << 10)
#define BUF_CAP (MTR_CSV_LINE_MAX + CHUNK + 8)
#define NONE    ((size_t)-1)

struct mtr_csv {
    mtr_csv_read_fn rd;
    void *ctx;
    unsigned flags;
    char *buf;
    size_t start, end; /* unconsumed bytes are buf[start..end) */
    int eof, bom_done, skipping;
    uint64_t line, blank;
    /* resumable end-of-record scan; offsets are relative to start */
    size_t scan, nl_off, nl_nofrom;
    int in_quote, has_quote, after_close;
    struct mtr_csv_field fields[MTR_CSV_FIELDS_MAX];
    char raw[256];
};

int mtr_csv_open(mtr_csv_read_fn rd, void *ctx, unsigned flags, struct mtr_csv **out)
{
    struct mtr_csv *c = calloc(1, sizeof *c);
    if (!c)
        return MTR_ENOMEM;
    c->buf = malloc(BUF_CAP);
    if (!c->buf) {
        free(c);
        return MTR_ENOMEM;
    }
    c->rd = rd;
    c->ctx = ctx;
    c->flags = flags;
    c->line = 1;
    c->nl_off = NONE;
    *out = c;
    return 0;
}

void mtr_csv_close(struct mtr_csv *c)
{
    if (!c)
        return;
    free(c->buf);
    free(c);
}

void mtr_csv_set_flags(struct mtr_csv *c, unsigned flags)
{
    c->flags = flags;
}

uint64_t mtr_csv_blank_lines(const struct mtr_csv *c)
{
    return c->blank;
}

/* Moves the unconsumed bytes to the front and reads more. Returns bytes read (0 at EOF) or
 * MTR_EIO. */
static ssize_t refill(struct mtr_csv *c)
{
    if (c->eof)
        return 0;
    if (c->start == c->end) {
        c->start = c->end = 0;
    } else if (c->start) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    size_t room = BUF_CAP - c->end;
    if (room == 0)
        return 0;
    ssize_t n = c->rd(c->ctx, c->buf + c->end, room);
    if (n < 0)
        return MTR_EIO;
    if (n == 0)
        c->eof = 1;
    c->end += (size_t)n;
    return n;
}

static void reset_scan(struct mtr_csv *c)
{
    c->scan = 0;
    c->nl_off = NONE;
    c->nl_nofrom = 0;
    c->in_quote = c->has_quote = c->after_close = 0;
}

static void consume(struct mtr_csv *c, size_t n)
{
    c->start += n;
    reset_scan(c);
}

/* Finds the end of the record at start: 1 with *len = offset of its '\n', 0 when the buffer holds
 * no complete record yet (scan state saved), 2 when a closing quote is followed by something other
 * than ',' or the end of the line (*len = its offset). At EOF, a closing quote may be the last
 * byte. */
static int find_end(struct mtr_csv *c, size_t *len)
{
    const char *b = c->buf + c->start;
    size_t avail = c->end - c->start, i = c->scan;
    int lines = c->flags & MTR_CSV_LINES;
    while (i < avail) {
        if (!c->in_quote) {
            if (c->after_close) {
                c->after_close = 0;
                if (b[i] != ',' && b[i] != '\n' && b[i] != '\r') {
                    *len = i;
                    return 2;
                }
            }
            if (c->nl_off == NONE || c->nl_off < i) {
                size_t from = i;
                if (c->nl_off == NONE && c->nl_nofrom > from)
                    from = c->nl_nofrom;
                const char *nl = memchr(b + from, '\n', avail - from);
                c->nl_off = nl ? (size_t)(nl - b) : NONE;
                c->nl_nofrom = avail;
            }
            size_t lim = c->nl_off == NONE ? avail : c->nl_off;
            const char *q = lines ? NULL : memchr(b + i, '"', lim - i);
            if (!q) {
                if (c->nl_off != NONE) {
                    *len = lim;
                    return 1;
                }
                i = avail;
                break;
            }
            size_t qi = (size_t)(q - b);
            if (qi == 0 || b[qi - 1] == ',') {
                c->in_quote = 1;
                c->has_quote = 1;
            }
            i = qi + 1;
        } else {
            const char *q = memchr(b + i, '"', avail - i);
            if (!q) {
                i = avail;
                break;
            }
            size_t qi = (size_t)(q - b);
            if (qi + 1 >= avail && !c->eof) {
                i = qi; /* cannot tell "" from " yet */
                break;
            }
            if (qi + 1 < avail && b[qi + 1] == '"') {
                i = qi + 2;
                continue;
            }
            c->in_quote = 0;
            c->after_close = 1;
            i = qi + 1;
        }
    }
    c->scan = i;
    return 0;
}

static void set_raw_copy(struct mtr_csv *c, struct mtr_csv_row *row, const char *b, size_t len)
{
    size_t n = len < sizeof c->raw - 1 ? len : sizeof c->raw - 1;
    memcpy(c->raw, b, n);
    c->raw[n] = 0;
    row->raw = c->raw;
    row->raw_len = n;
}

static int row_error(struct mtr_csv_row *row, enum mtr_csv_error e, const char *msg)
{
    row->error = e;
    row->message = msg;
    row->nfields = 0;
    return MTR_EPARSE;
}

/* Discards input up to and including the next '\n' without keeping it. */
static int skip_line(struct mtr_csv *c)
{
    for (;;) {
        const char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
        if (nl) {
            c->start = (size_t)(nl - c->buf) + 1;
            c->line++;
            c->skipping = 0;
            reset_scan(c);
            return 0;
        }
        c->start = c->end = 0;
        ssize_t n = refill(c);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            c->skipping = 0;
            reset_scan(c);
            return 0;
        }
    }
}

static int split_plain(struct mtr_csv *c, struct mtr_csv_row *row, const char *b, size_t len)
{
    size_t n = 0;
    const char *fs = b, *e = b + len;
    for (const char *p = b; p < e; p++) {
        if (*p == ',') {
            if (n == MTR_CSV_FIELDS_MAX - 1)
                return row_error(row, MTR_CSV_E_FIELDS, "too many fields");
            c->fields[n].p = fs;
            c->fields[n].len = (size_t)(p - fs);
            n++;
            fs = p + 1;
        }
    }
    c->fields[n].p = fs;
    c->fields[n].len = (size_t)(e - fs);
    row->nfields = n + 1;
    return 1;
}

static int split_quoted(struct mtr_csv *c, struct mtr_csv_row *row, char *b, size_t len)
{
    size_t i = 0, n = 0;
    for (;;) {
        if (n == MTR_CSV_FIELDS_MAX)
            return row_error(row, MTR_CSV_E_FIELDS, "too many fields");
        if (i < len && b[i] == '"') {
            char *w = b + i, *fs = w;
            size_t j = i + 1;
            for (;;) {
                if (j >= len)
                    return row_error(row, MTR_CSV_E_QUOTE, "unterminated quoted field");
                if (b[j] == '"') {
                    if (j + 1 < len && b[j + 1] == '"') {
                        *w++ = '"';
                        j += 2;
                        continue;
                    }
                    j++;
                    break;
                }
                *w++ = b[j++];
            }
            c->fields[n].p = fs;
            c->fields[n].len = (size_t)(w - fs);
            n++;
            i = j;
            if (i == len)
                break;
            if (b[i] != ',')
                return row_error(row, MTR_CSV_E_QUOTE, "text after a closing quote");
            i++;
        } else {
            size_t s0 = i;
            while (i < len && b[i] != ',')
                i++;
            c->fields[n].p = b + s0;
            c->fields[n].len = i - s0;
            n++;
            if (i == len)
                break;
            i++;
        }
    }
    row->nfields = n;
    return 1;
}

static int skip_bom(struct mtr_csv *c)
{
    while (c->end - c->start < 3 && !c->eof) {
        ssize_t n = refill(c);
        if (n < 0)
            return (int)n;
    }
    if (c->end - c->start >= 3 && memcmp(c->buf + c->start, "\xEF\xBB\xBF", 3) == 0)
        c->start += 3;
    c->bom_done = 1;
    return 0;
}

int mtr_csv_peek(struct mtr_csv *c, int *byte)
{
    int rc;
    if (!c->bom_done && (rc = skip_bom(c)) < 0)
        return rc;
    size_t i = c->start;
    for (;;) {
        while (i < c->end &&
               (c->buf[i] == ' ' || c->buf[i] == '\t' || c->buf[i] == '\r' || c->buf[i] == '\n'))
            i++;
        if (i < c->end) {
            *byte = (unsigned char)c->buf[i];
            return 0;
        }
        if (c->eof || c->end - c->start > MTR_CSV_LINE_MAX) {
            *byte = -1;
            return 0;
        }
        size_t off = i - c->start;
        ssize_t n = refill(c);
        if (n < 0)
            return (int)n;
        i = c->start + off;
    }
}

int mtr_csv_next(struct mtr_csv *c, struct mtr_csv_row *row)
{
    int rc;
    row->error = MTR_CSV_OK;
    row->message = "";
    row->nfields = 0;
    row->fields = c->fields;
    if (!c->bom_done && (rc = skip_bom(c)) < 0)
        return rc;
    for (;;) {
        if (c->skipping && (rc = skip_line(c)) < 0)
            return rc;
        size_t len = 0;
        int found = find_end(c, &len);
        size_t avail = c->end - c->start;
        char *b = c->buf + c->start;
        size_t adv = len + 1;
        if (found == 2) { /* resync at the next physical line, not at the far end of the quote */
            row->line = c->line;
            set_raw_copy(c, row, b, avail);
            const char *nl = memchr(b, '\n', avail);
            if (nl) {
                consume(c, (size_t)(nl - b) + 1);
                c->line++;
            } else {
                c->start = c->end = 0;
                reset_scan(c);
                c->skipping = 1;
            }
            return row_error(row, MTR_CSV_E_QUOTE, "text after a closing quote");
        }
        if ((!found && avail > MTR_CSV_LINE_MAX) || (found && len > MTR_CSV_LINE_MAX)) {
            row->line = c->line;
            set_raw_copy(c, row, b, avail);
            const char *nl = c->in_quote || c->has_quote ? memchr(b, '\n', avail) : NULL;
            if (nl) { /* resync at the line after the record's first line */
                consume(c, (size_t)(nl - b) + 1);
                c->line++;
                return row_error(row, MTR_CSV_E_QUOTE,
                                 "quoted field runs past the maximum record length");
            }
            if (found) {
                consume(c, adv);
                c->line++;
                return row_error(row, MTR_CSV_E_LENGTH, "line longer than 1 MiB");
            }
            for (const char *p = b; (p = memchr(p, '\n', (size_t)(b + avail - p))); p++)
                c->line++; /* newlines inside closed quotes of this record */
            c->start = c->end = 0;
            reset_scan(c);
            c->skipping = 1;
            return row_error(row, MTR_CSV_E_LENGTH, "line longer than 1 MiB");
        }
        if (!found) {
            if (!c->eof) {
                ssize_t n = refill(c);
                if (n < 0)
                    return (int)n;
                continue;
            }
            if (avail == 0)
                return 0;
            if (c->in_quote) {
                row->line = c->line;
                set_raw_copy(c, row, b, avail);
                const char *nl = memchr(b, '\n', avail);
                consume(c, nl ? (size_t)(nl - b) + 1 : avail);
                c->line++;
                return row_error(row, MTR_CSV_E_QUOTE, "unterminated quote at end of input");
            }
            len = avail; /* last record without a newline */
            adv = avail;
        }
        int quoted = c->has_quote;
        row->line = c->line;
        c->line++;
        if (quoted)
            for (const char *p = b; (p = memchr(p, '\n', (size_t)(b + len - p))); p++)
                c->line++;
        consume(c, adv);
        if (len && b[len - 1] == '\r')
            len--;
        if (len == 0 || b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
            size_t k = 0;
            while (k < len && (b[k] == ' ' || b[k] == '\t' || b[k] == '\r'))
                k++;
            if (k == len) {
                c->blank++;
                continue;
            }
        }
        if (quoted) {
            set_raw_copy(c, row, b, len);
        } else {
            row->raw = b;
            row->raw_len = len < 255 ? len : 255;
        }
        if (!mtr_utf8_valid(b, len))
            return row_error(row, MTR_CSV_E_ENCODING, "invalid UTF-8");
        if (c->flags & MTR_CSV_LINES) {
            c->fields[0].p = b;
            c->fields[0].len = len;
            row->nfields = 1;
            return 1;
        }
        return quoted ? split_quoted(c, row, b, len) : split_plain(c, row, b, len);
    }
}
