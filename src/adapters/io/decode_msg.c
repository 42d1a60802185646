/*
 * decode_msg.c - JSON message bodies to records for the streaming workers (see decode_msg.h).
 * Parses with jansson, then hands each object to mtr_decode_json, which also unwraps an envelope
 * around a single object.
 */
#include "adapters/io/decode_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "adapters/io/decode.h"

static int parse_error(const struct mtr_stream_msg *m, const char *what, mtr_stream_emit_fn emit,
                       void *emit_ctx, const char *raw, size_t len)
{
    struct mtr_record_error err;
    memset(&err, 0, sizeof err);
    err.rule = MTR_R_PARSE_JSON;
    snprintf(err.message, sizeof err.message, "%s", what);
    (void)m;
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

static int decode_one(const struct mtr_stream_msg *m, const struct mtr_format *fmt,
                      const json_t *obj, int whole, mtr_stream_emit_fn emit, void *emit_ctx)
{
    struct mtr_record rec;
    struct mtr_record_error err;
    char buf[ELEMENT_MAX];
    if (!json_is_object(obj)) {
        if (whole)
            return parse_error(m, "not a JSON object or array of objects", emit, emit_ctx,
                               m->payload, m->len);
        return parse_error(m, "array element is not a JSON object", emit, emit_ctx, buf,
                           dump(obj, buf, sizeof buf));
    }
    memset(&err, 0, sizeof err);
    int rc = mtr_decode_json(obj, m->kind, fmt, &rec, &err);
    if (rc == 0) {
        /* an element's text is only rendered when the pipeline rejects it (rare) */
        rc = emit(emit_ctx, &rec, NULL, whole ? m->payload : NULL, whole ? m->len : 0);
        if (rc == MTR_STREAM_WANT_RAW)
            rc = emit(emit_ctx, NULL, NULL, buf, dump(obj, buf, sizeof buf));
        return rc;
    }
    if (rc != MTR_EPARSE)
        return rc;
    if (whole)
        return emit(emit_ctx, NULL, &err, m->payload, m->len);
    return emit(emit_ctx, NULL, &err, buf, dump(obj, buf, sizeof buf));
}

int mtr_decode_message(void *ctx, const struct mtr_stream_msg *m, mtr_stream_emit_fn emit,
                       void *emit_ctx)
{
    const struct mtr_format *fmt = ctx;
    struct mtr_format local;
    json_error_t jerr;
    char msg[200];
    int rc = 0;
    json_t *root = json_loadb(m->payload, m->len, 0, &jerr);
    if (!root) {
        snprintf(msg, sizeof msg, "invalid JSON: %s (byte %d)", jerr.text, jerr.position);
        return parse_error(m, msg, emit, emit_ctx, m->payload, m->len);
    }
    if (m->entity_id && *m->entity_id) {
        local = *fmt;
        char *id = m->kind == MTR_KIND_GRID      ? local.operator_id
                   : m->kind == MTR_KIND_WEATHER ? local.station_id
                                                 : local.meter_id;
        snprintf(id, MTR_ID_MAX, "%s", m->entity_id);
        fmt = &local;
    }
    const json_t *body = root;
    if (json_is_object(root) && json_is_array(json_object_get(root, "payload")))
        body = json_object_get(root, "payload"); /* envelope around a batch */
    if (json_is_array(body)) {
        size_t i;
        const json_t *el;
        if (json_array_size(body) == 0)
            rc = parse_error(m, "empty JSON array", emit, emit_ctx, m->payload, m->len);
        json_array_foreach(body, i, el)
        {
            if ((rc = decode_one(m, fmt, el, 0, emit, emit_ctx)) != 0)
                break;
        }
    } else {
        rc = decode_one(m, fmt, body, 1, emit, emit_ctx);
    }
    json_decref(root);
    return rc;
}
