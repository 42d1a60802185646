/* batch.c - request bodies to records, with the flat-array fast path (see batch.h). */
#include "api/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/io/decode.h"
#include "base/jsonnum.h"
#include "base/text.h"

void mtr_api_batch_free(struct mtr_api_batch *b)
{
    free(b->items);
    free(b->errs);
    memset(b, 0, sizeof *b);
}

static int push(struct mtr_api_batch *b, const struct mtr_record *rec,
                const struct mtr_record_error *err, enum mtr_kind kind)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct mtr_api_item *it = realloc(b->items, cap * sizeof *it);
        if (!it)
            return MTR_ENOMEM;
        b->items = it;
        b->cap = cap;
    }
    struct mtr_api_item *it = &b->items[b->n];
    it->err = -1;
    if (err) {
        if (b->nerr == b->cap_err) {
            size_t cap = b->cap_err ? b->cap_err * 2 : 64;
            struct mtr_record_error *e = realloc(b->errs, cap * sizeof *e);
            if (!e)
                return MTR_ENOMEM;
            b->errs = e;
            b->cap_err = cap;
        }
        b->errs[b->nerr] = *err;
        it->err = (int)b->nerr++;
        it->rec.kind = kind;
    } else {
        it->rec = *rec;
    }
    b->n++;
    return 0;
}

static const char *id_field(enum mtr_kind kind)
{
    return kind == MTR_KIND_GRID      ? "operator_id"
           : kind == MTR_KIND_WEATHER ? "station_id"
                                      : "meter_id";
}

static char *record_id(struct mtr_record *rec)
{
    return rec->kind == MTR_KIND_GRID      ? rec->u.grid.operator_id
           : rec->kind == MTR_KIND_WEATHER ? rec->u.weather.station_id
                                           : rec->u.reading.meter_id;
}

static void set_line(struct mtr_record *rec, uint64_t line)
{
    if (rec->kind == MTR_KIND_GRID)
        rec->u.grid.line = line;
    else if (rec->kind == MTR_KIND_WEATHER)
        rec->u.weather.line = line;
    else
        rec->u.reading.line = line;
}

/* A decoded record whose id must match the path's entity. */
static int push_decoded(struct mtr_api_batch *b, struct mtr_record *rec, enum mtr_kind kind,
                        const char *entity, uint64_t line)
{
    if (entity && strcmp(record_id(rec), entity) != 0) {
        struct mtr_record_error err;
        memset(&err, 0, sizeof err);
        err.line = line;
        err.rule = MTR_R_VALUE;
        snprintf(err.field, sizeof err.field, "%s", id_field(kind));
        snprintf(err.message, sizeof err.message, "%s: '%.63s' differs from the path's '%.63s'",
                 id_field(kind), record_id(rec), entity);
        return push(b, NULL, &err, kind);
    }
    set_line(rec, line);
    return push(b, rec, NULL, kind);
}

int mtr_api_batch_add_json(struct mtr_api_batch *b, json_t *v, enum mtr_kind kind,
                           const struct mtr_format *fmt, const char *entity, uint64_t line)
{
    struct mtr_record rec;
    struct mtr_record_error err;
    memset(&err, 0, sizeof err);
    memset(&rec, 0, sizeof rec);
    rec.kind = kind;
    if (!json_is_object(v)) {
        err.line = line;
        err.rule = MTR_R_PARSE_JSON;
        snprintf(err.message, sizeof err.message, "element %llu is not a JSON object",
                 (unsigned long long)line);
        return push(b, NULL, &err, kind);
    }
    if (mtr_decode_json(v, kind, fmt, &rec, &err) < 0) {
        char *raw = json_dumps(v, JSON_COMPACT);
        if (raw) {
            mtr_text_excerpt(err.raw, sizeof err.raw, raw, strlen(raw));
            free(raw);
        }
        err.line = line;
        return push(b, NULL, &err, kind);
    }
    return push_decoded(b, &rec, kind, entity, line);
}

int mtr_api_batch_add_error(struct mtr_api_batch *b, enum mtr_kind kind, uint64_t line,
                            const char *message, const char *raw, size_t raw_len)
{
    struct mtr_record_error err;
    memset(&err, 0, sizeof err);
    err.line = line;
    err.rule = MTR_R_PARSE_JSON;
    snprintf(err.message, sizeof err.message, "%s", message);
    mtr_text_excerpt(err.raw, sizeof err.raw, raw, raw_len);
    return push(b, NULL, &err, kind);
}

/* ---- the fast path ---- */

#define FAST_COLS 32

static const char *ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    return s;
}

/* A JSON string without escapes or control bytes; *p is after the opening quote. */
static int scan_string(const char **p, const char *end, struct mtr_csv_field *f)
{
    const char *s = *p;
    while (s < end && *s != '"') {
        if (*s == '\\' || (unsigned char)*s < 0x20)
            return -1;
        s++;
    }
    if (s >= end)
        return -1;
    f->p = *p;
    f->len = (size_t)(s - *p);
    *p = s + 1;
    return 0;
}

/* A JSON number (base/jsonnum.h) that both paths read as the same double; anything else is left
 * to jansson. */
static int scan_number(const char **p, const char *end, struct mtr_csv_field *f)
{
    struct mtr_json_number n;
    if (mtr_json_number_scan(*p, (size_t)(end - *p), &n, NULL, 0) < 0 || !mtr_json_number_plain(&n))
        return -1;
    f->p = *p + n.text_off;
    f->len = n.len - n.text_off;
    *p += n.len;
    return 0;
}

/* One flat object: keys, values and value types ('s' string, 'n' number, 'z' null, 'b' bool).
 * Returns the number of members, or -1 when the object is not flat or not scannable. */
static int scan_object(const char **p, const char *end, struct mtr_csv_field *keys,
                       struct mtr_csv_field *vals, char *types)
{
    const char *s = ws(*p, end);
    int n = 0;
    if (s >= end || *s != '{')
        return -1;
    s = ws(s + 1, end);
    if (s < end && *s == '}') {
        *p = s + 1;
        return 0;
    }
    for (;;) {
        if (n == FAST_COLS || s >= end || *s != '"')
            return -1;
        s++;
        if (scan_string(&s, end, &keys[n]) < 0)
            return -1;
        s = ws(s, end);
        if (s >= end || *s != ':')
            return -1;
        s = ws(s + 1, end);
        if (s >= end)
            return -1;
        if (*s == '"') {
            s++;
            if (scan_string(&s, end, &vals[n]) < 0)
                return -1;
            types[n] = 's';
        } else if (*s == '-' || (*s >= '0' && *s <= '9')) {
            if (scan_number(&s, end, &vals[n]) < 0)
                return -1;
            types[n] = 'n';
        } else if (end - s >= 4 && memcmp(s, "null", 4) == 0) {
            s += 4;
            types[n] = 'z';
        } else if (end - s >= 4 && memcmp(s, "true", 4) == 0) {
            s += 4;
            types[n] = 'b';
        } else if (end - s >= 5 && memcmp(s, "false", 5) == 0) {
            s += 5;
            types[n] = 'b';
        } else {
            return -1; /* nested object or array: not flat */
        }
        n++;
        s = ws(s, end);
        if (s < end && *s == ',') {
            s = ws(s + 1, end);
            continue;
        }
        if (s < end && *s == '}') {
            *p = s + 1;
            return n;
        }
        return -1;
    }
}

static int same_keys(const struct mtr_csv_field *a, const struct mtr_csv_field *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].len != b[i].len || memcmp(a[i].p, b[i].p, a[i].len) != 0)
            return 0;
    return 1;
}

int mtr_api_batch_fast(struct mtr_api_batch *b, const char *body, size_t len, enum mtr_kind kind,
                       const struct mtr_format *fmt, const char *entity)
{
    const char *s = body, *end = body + len;
    struct mtr_csv_field hdr[FAST_COLS], keys[FAST_COLS], vals[FAST_COLS];
    char types[FAST_COLS];
    struct mtr_csv_binding bind;
    int nh = -1, rc = 0;
    uint64_t line = 0;
    s = ws(s, end);
    if (s >= end || *s != '[')
        return 0;
    s = ws(s + 1, end);
    if (s < end && *s == ']')
        return 0; /* empty: the jansson path words that error */
    for (;;) {
        const char *ostart = s;
        int nk = scan_object(&s, end, keys, vals, types);
        if (nk < 0)
            goto abandon;
        line++;
        if (nh < 0) { /* the first object's keys are the header */
            struct mtr_errbuf eb;
            for (int i = 0; i < nk; i++) {
                if (keys[i].len == 7 && memcmp(keys[i].p, "payload", 7) == 0)
                    goto abandon; /* an envelope: mtr_decode_json unwraps it */
                /* with interval_s too, JSON lets the later key win, a header the first column */
                if (keys[i].len == 16 && strncasecmp(keys[i].p, "interval_minutes", 16) == 0)
                    goto abandon;
                for (int j = 0; j < i; j++)
                    if (keys[j].len == keys[i].len &&
                        memcmp(keys[j].p, keys[i].p, keys[i].len) == 0)
                        goto abandon;
            }
            if (mtr_decode_bind_header(&bind, kind, fmt, keys, (size_t)nk, "http", 1, &eb) < 0)
                goto abandon;
            memcpy(hdr, keys, sizeof hdr[0] * (size_t)nk);
            nh = nk;
        }
        int ok = nk == nh && same_keys(keys, hdr, nk);
        /* the field tables of decode.c start with the id and the timestamp (its finish() and
         * mtr_decode_json rely on that too): those want JSON strings, the others JSON numbers */
        for (int i = 0; ok && i < bind.nbind; i++) {
            char t = types[bind.bind[i].col];
            ok = bind.bind[i].field < 2 ? t == 's' : t == 'n';
        }
        struct mtr_record rec;
        struct mtr_record_error err;
        if (ok && mtr_decode_csv_row(&bind, vals, (size_t)nk, line, &rec, &err) == 0) {
            if ((rc = push_decoded(b, &rec, kind, entity, line)) < 0)
                return rc;
            b->fast++;
        } else { /* valid JSON the fast path does not take: the jansson path, for this object */
            json_t *v = json_loadb(ostart, (size_t)(s - ostart), 0, NULL);
            if (!v)
                goto abandon;
            rc = mtr_api_batch_add_json(b, v, kind, fmt, entity, line);
            json_decref(v);
            if (rc < 0)
                return rc;
        }
        s = ws(s, end);
        if (s < end && *s == ',') {
            s = ws(s + 1, end);
            continue;
        }
        if (s < end && *s == ']') {
            s = ws(s + 1, end);
            break;
        }
        goto abandon;
    }
    if (s != end)
        goto abandon;
    return 1;
abandon:
    b->n = b->nerr = 0;
    b->fast = 0;
    return 0;
}
