/*
 * decode_msg.c - JSON message bodies to records for the streaming workers (see decode_msg.h).
 * The fast path validates the body with a strict scanner, then decodes each flat object through
 * a cached CSV-style key binding (mtr_decode_csv_row); the jansson path parses with jansson and
 * hands each object to mtr_decode_json, which also unwraps an envelope around a single object.
 */
#include "adapters/io/decode_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/jsonnum.h"

void mtr_msg_decoder_init(struct mtr_msg_decoder *d, const struct mtr_format *fmt)
{
    memset(d, 0, sizeof *d);
    d->fmt = fmt;
}

/* ---- the jansson path ---- */

static int parse_error(const char *what, mtr_stream_emit_fn emit, void *emit_ctx, const char *raw,
                       size_t len)
{
    struct mtr_record_error err;
    memset(&err, 0, sizeof err);
    err.rule = MTR_R_PARSE_JSON;
    snprintf(err.message, sizeof err.message, "%s", what);
    return emit(emit_ctx, NULL, &err, raw, len);
}

/* An element of a batch is dead-lettered as its own JSON text; dumped into a stack buffer so the
 * hot path does not allocate (an element longer than the buffer is cut). */
#define ELEMENT_MAX 4096

static size_t dump(const json_t *obj, char *buf, size_t cap)
{
    size_t len = json_dumpb(obj, buf, cap, JSON_COMPACT | JSON_ENCODE_ANY);
    return len > cap ? cap : len;
}

/* One object of the message: whole = the message itself (raw = the payload), else an element;
 * span/span_len is the element's text when known (NULL: rendered when needed). */
static int decode_one(const struct mtr_stream_msg *m, const struct mtr_format *fmt,
                      const json_t *obj, int whole, const char *span, size_t span_len,
                      mtr_stream_emit_fn emit, void *emit_ctx)
{
    struct mtr_record rec;
    struct mtr_record_error err;
    char buf[ELEMENT_MAX];
    const char *raw = whole ? m->payload : span;
    size_t raw_len = whole ? m->len : span_len;
    if (!json_is_object(obj)) {
        const char *what =
            whole ? "not a JSON object or array of objects" : "array element is not a JSON object";
        if (!raw) {
            raw_len = dump(obj, buf, sizeof buf);
            raw = buf;
        }
        return parse_error(what, emit, emit_ctx, raw, raw_len);
    }
    memset(&err, 0, sizeof err);
    int rc = mtr_decode_json(obj, m->kind, fmt, &rec, &err);
    if (rc == 0) {
        /* an element's text is only rendered when the pipeline rejects it (rare) */
        rc = emit(emit_ctx, &rec, NULL, raw, raw_len);
        if (rc == MTR_STREAM_WANT_RAW && !raw)
            rc = emit(emit_ctx, NULL, NULL, buf, dump(obj, buf, sizeof buf));
        return rc;
    }
    if (rc != MTR_EPARSE)
        return rc;
    if (!raw) {
        raw_len = dump(obj, buf, sizeof buf);
        raw = buf;
    }
    return emit(emit_ctx, NULL, &err, raw, raw_len);
}

static int decode_jansson(const struct mtr_stream_msg *m, const struct mtr_format *fmt,
                          mtr_stream_emit_fn emit, void *emit_ctx)
{
    json_error_t jerr;
    char msg[200];
    int rc = 0;
    json_t *root = json_loadb(m->payload, m->len, 0, &jerr);
    if (!root) {
        char why[160];
        if (mtr_json_number_explain(m->payload, m->len, (size_t)jerr.position, why, sizeof why))
            snprintf(msg, sizeof msg, "invalid JSON: %s (byte %d)", why, jerr.position);
        else
            snprintf(msg, sizeof msg, "invalid JSON: %s (byte %d)", jerr.text, jerr.position);
        return parse_error(msg, emit, emit_ctx, m->payload, m->len);
    }
    const json_t *body = root;
    if (json_is_object(root) && json_is_array(json_object_get(root, "payload")))
        body = json_object_get(root, "payload"); /* envelope around a batch */
    if (json_is_array(body)) {
        size_t i;
        const json_t *el;
        if (json_array_size(body) == 0)
            rc = parse_error("empty JSON array", emit, emit_ctx, m->payload, m->len);
        json_array_foreach(body, i, el)
        {
            if ((rc = decode_one(m, fmt, el, 0, NULL, 0, emit, emit_ctx)) != 0)
                break;
        }
    } else {
        rc = decode_one(m, fmt, body, 1, NULL, 0, emit, emit_ctx);
    }
    json_decref(root);
    return rc;
}

/* ---- the fast path ---- */

/* A span of the body and its type: 's' string, 'n' number, 'z' null, 'b' boolean, 'o' object,
 * 'a' array. A value's text; for keys and the members' string values, the bytes between the
 * quotes. */
struct span {
    const char *p;
    size_t len;
    char type;
};

static const char *ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    return s;
}

/* A string of printable ASCII without escapes (jansson would check escapes and UTF-8: left to
 * it); *p is on the opening quote and ends after the closing one. */
static int scan_string(const char **p, const char *end, struct span *out)
{
    const char *s = *p + 1;
    while (s < end && *s != '"') {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c < 0x20 || c >= 0x80)
            return -1;
        s++;
    }
    if (s >= end)
        return -1;
    out->p = *p + 1;
    out->len = (size_t)(s - out->p);
    out->type = 's';
    *p = s + 1;
    return 0;
}

/* A JSON number (base/jsonnum.h) that both paths read as the same double; anything else, valid
 * or not, is left to jansson, which takes or words it. */
static int scan_number(const char **p, const char *end, struct span *out)
{
    struct mtr_json_number n;
    if (mtr_json_number_scan(*p, (size_t)(end - *p), &n, NULL, 0) < 0 || !mtr_json_number_plain(&n))
        return -1;
    out->p = *p + n.text_off;
    out->len = n.len - n.text_off;
    out->type = 'n';
    *p += n.len;
    return 0;
}

#define DEPTH_MAX 32

/* Validates one value at *p (after whitespace) and moves past it. */
static int skip_value(const char **p, const char *end, int depth, struct span *out)
{
    const char *s = *p;
    if (s >= end)
        return -1;
    out->p = s;
    if (*s == '"') {
        if (scan_string(p, end, out) < 0)
            return -1;
        out->p = s; /* the whole text, quotes included */
        out->len = (size_t)(*p - s);
        return 0;
    }
    if (*s == '-' || (*s >= '0' && *s <= '9'))
        return scan_number(p, end, out);
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        if (depth >= DEPTH_MAX)
            return -1;
        out->type = *s == '{' ? 'o' : 'a';
        s = ws(s + 1, end);
        if (s < end && *s == close) {
            out->len = (size_t)(s + 1 - out->p);
            *p = s + 1;
            return 0;
        }
        for (;;) {
            struct span v;
            if (close == '}') {
                if (s >= end || *s != '"' || scan_string(&s, end, &v) < 0)
                    return -1;
                s = ws(s, end);
                if (s >= end || *s != ':')
                    return -1;
                s = ws(s + 1, end);
            }
            if (skip_value(&s, end, depth + 1, &v) < 0)
                return -1;
            s = ws(s, end);
            if (s < end && *s == ',') {
                s = ws(s + 1, end);
                continue;
            }
            if (s < end && *s == close)
                break;
            return -1;
        }
        out->len = (size_t)(s + 1 - out->p);
        *p = s + 1;
        return 0;
    }
    static const char *const lit[] = {"null", "true", "false"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lit[i]);
        if ((size_t)(end - s) >= n && memcmp(s, lit[i], n) == 0) {
            out->type = i ? 'b' : 'z';
            out->len = n;
            *p = s + n;
            return 0;
        }
    }
    return -1;
}

/* The members of an object (validated before); -1 when it has more than MTR_MSG_KEYS_MAX. */
static int members(const struct span *obj, struct span *keys, struct span *vals)
{
    const char *s = ws(obj->p + 1, obj->p + obj->len), *end = obj->p + obj->len;
    int n = 0;
    while (*s == '"') {
        if (n == MTR_MSG_KEYS_MAX)
            return -1;
        scan_string(&s, end, &keys[n]);
        s = ws(ws(s, end) + 1, end); /* past the ':' */
        skip_value(&s, end, 0, &vals[n]);
        if (vals[n].type == 's') { /* the characters between the quotes */
            vals[n].p++;
            vals[n].len -= 2;
        }
        n++;
        s = ws(s, end);
        if (*s == ',')
            s = ws(s + 1, end);
    }
    return n;
}

/* Binds a key set like a CSV header, or finds it bound already. NULL when the fast path must
 * not take an object with these keys: a key with blanks around it (a header binding trims, a JSON
 * key lookup does not), a key twice, interval_minutes (JSON lets the later of it and interval_s
 * win, a header the first), or keys that do not bind (a required field is missing). */
static const struct mtr_csv_binding *bind_keys(struct mtr_msg_decoder *d, enum mtr_kind kind,
                                               const struct mtr_format *fmt,
                                               const struct span *keys, int nk)
{
    struct mtr_msg_keyset *c = &d->bound[kind];
    if (c->valid && c->nk == nk) {
        const char *k = c->keys;
        int i = 0;
        for (; i < nk; k += c->klen[i], i++)
            if (keys[i].len != c->klen[i] || memcmp(keys[i].p, k, keys[i].len) != 0)
                break;
        if (i == nk) {
            c->b.fmt = fmt; /* the default id may differ per message */
            return &c->b;
        }
    }
    struct mtr_csv_field cols[MTR_MSG_KEYS_MAX];
    size_t total = 0;
    for (int i = 0; i < nk; i++) {
        const struct span *k = &keys[i];
        if (k->len && (k->p[0] == ' ' || k->p[0] == '\t' || k->p[k->len - 1] == ' ' ||
                       k->p[k->len - 1] == '\t'))
            return NULL;
        if (k->len == 16 && strncasecmp(k->p, "interval_minutes", 16) == 0)
            return NULL;
        for (int j = 0; j < i; j++)
            if (keys[j].len == k->len && memcmp(keys[j].p, k->p, k->len) == 0)
                return NULL;
        cols[i].p = k->p;
        cols[i].len = k->len;
        total += k->len;
    }
    struct mtr_errbuf eb;
    struct mtr_csv_binding b;
    if (mtr_decode_bind_header(&b, kind, fmt, cols, (size_t)nk, "message", 1, &eb) < 0)
        return NULL;
    if (total > sizeof c->keys) { /* too long to remember: bound for this object only */
        c->valid = 0;
        c->b = b;
        return &c->b;
    }
    c->valid = 1;
    c->nk = nk;
    char *k = c->keys;
    for (int i = 0; i < nk; k += keys[i].len, i++) {
        c->klen[i] = keys[i].len;
        memcpy(k, keys[i].p, keys[i].len);
    }
    c->b = b;
    return &c->b;
}

/* Decodes a flat object by the fast path: 0 with *rec filled, or -1 when the jansson path must
 * take it (not flat, types that differ from the header view, or any error to be worded). */
static int fast_object(struct mtr_msg_decoder *d, enum mtr_kind kind, const struct mtr_format *fmt,
                       const struct span *obj, struct mtr_record *rec)
{
    struct span keys[MTR_MSG_KEYS_MAX], vals[MTR_MSG_KEYS_MAX];
    struct mtr_csv_field fields[MTR_MSG_KEYS_MAX];
    int nk = members(obj, keys, vals);
    if (nk < 0)
        return -1;
    for (int i = 0; i < nk; i++) {
        if (vals[i].type == 'o' || vals[i].type == 'a')
            return -1; /* nested: maybe an envelope, which mtr_decode_json unwraps */
        fields[i].p = vals[i].p;
        fields[i].len = vals[i].len;
    }
    const struct mtr_csv_binding *b = bind_keys(d, kind, fmt, keys, nk);
    if (!b)
        return -1;
    /* the field tables of decode.c start with the id and the timestamp: those want JSON
     * strings (an integer id is printed by mtr_decode_json: left to it), the others numbers */
    for (int i = 0; i < b->nbind; i++) {
        char t = vals[b->bind[i].col].type;
        if (b->bind[i].field < 2 ? t != 's' : t != 'n')
            return -1;
    }
    struct mtr_record_error err;
    if (mtr_decode_csv_row(b, fields, (size_t)nk, 0, rec, &err) < 0)
        return -1;
    return 0;
}

/* One element of a batch: the fast path, else jansson on the element's text. */
static int fast_element(struct mtr_msg_decoder *d, const struct mtr_stream_msg *m,
                        const struct mtr_format *fmt, const struct span *el,
                        mtr_stream_emit_fn emit, void *emit_ctx)
{
    struct mtr_record rec;
    if (el->type == 'o' && fast_object(d, m->kind, fmt, el, &rec) == 0) {
        d->fast++;
        return emit(emit_ctx, &rec, NULL, el->p, el->len);
    }
    d->slow++;
    json_t *v = json_loadb(el->p, el->len, JSON_DECODE_ANY, NULL);
    if (!v)
        return MTR_ENOMEM; /* the scanner validated it: only an allocation can fail */
    int rc = decode_one(m, fmt, v, 0, el->p, el->len, emit, emit_ctx);
    json_decref(v);
    return rc;
}

/* The fast path over a message: 1 when it took the message (*rc is the result), 0 when the
 * jansson path must take all of it (nothing was emitted). */
static int decode_fast(struct mtr_msg_decoder *d, const struct mtr_stream_msg *m,
                       const struct mtr_format *fmt, mtr_stream_emit_fn emit, void *emit_ctx,
                       int *rc)
{
    const char *s = ws(m->payload, m->payload + m->len), *end = m->payload + m->len;
    struct span root, body;
    if (fmt->nmap > 0 || skip_value(&s, end, 0, &root) < 0 || ws(s, end) != end)
        return 0;
    body = root;
    if (root.type == 'o') {
        struct span keys[MTR_MSG_KEYS_MAX], vals[MTR_MSG_KEYS_MAX];
        int nk = members(&root, keys, vals), npayload = 0;
        if (nk < 0)
            return 0;
        for (int i = 0; i < nk; i++)
            if (keys[i].len == 7 && memcmp(keys[i].p, "payload", 7) == 0) {
                npayload++;
                body = vals[i];
            }
        if (npayload > 1 || (npayload == 1 && body.type != 'o' && body.type != 'a'))
            return 0; /* jansson keeps the last "payload"; a scalar one is not an envelope */
    }
    if (body.type == 'o') { /* one record: plain, or in an envelope */
        struct mtr_record rec;
        if (fast_object(d, m->kind, fmt, &body, &rec) < 0)
            return 0;
        d->fast++;
        *rc = emit(emit_ctx, &rec, NULL, m->payload, m->len);
        return 1;
    }
    if (body.type != 'a' || body.len == 2 || ws(body.p + 1, end)[0] == ']')
        return 0; /* a scalar, or an empty array: jansson words the error */
    const char *p = ws(body.p + 1, end);
    *rc = 0;
    for (;;) {
        struct span el;
        skip_value(&p, end, 1, &el);
        if ((*rc = fast_element(d, m, fmt, &el, emit, emit_ctx)) != 0)
            return 1;
        p = ws(p, end);
        if (*p != ',')
            return 1;
        p = ws(p + 1, end);
    }
}

int mtr_decode_message(void *ctx, const struct mtr_stream_msg *m, mtr_stream_emit_fn emit,
                       void *emit_ctx)
{
    struct mtr_msg_decoder *d = ctx;
    const struct mtr_format *fmt = d->fmt;
    struct mtr_format local;
    int rc = 0;
    if (m->entity_id && *m->entity_id) {
        local = *fmt;
        char *id = m->kind == MTR_KIND_GRID      ? local.operator_id
                   : m->kind == MTR_KIND_WEATHER ? local.station_id
                                                 : local.meter_id;
        snprintf(id, MTR_ID_MAX, "%s", m->entity_id);
        fmt = &local;
    }
    if (!d->jansson_only && decode_fast(d, m, fmt, emit, emit_ctx, &rc))
        return rc;
    d->slow++;
    return decode_jansson(m, fmt, emit, emit_ctx);
}
