/*
 * decode_msg.h - the message decoder of the streaming workers (app/stream.h): one Kafka or MQTT
 * message body is a JSON object (one record), a JSON array (a batch of records), or the original
 * design's envelope {"payload": <object or array>, "metadata": {...}}.
 *
 * Two paths give the same records and errors. The fast path scans the bytes without building
 * JSON values or allocating: it validates the whole body first (a strict subset of JSON: no
 * escapes, ASCII strings, plain numbers) and decodes flat objects like CSV rows, with the keys
 * bound once per key set (cached). Everything it does not take - invalid JSON, escapes, nested
 * records, JSON null or a string where a number belongs, any decoding error - goes to jansson and
 * mtr_decode_json (the rules of `metrify ingest` for NDJSON), for the element or the whole body.
 */
#ifndef MTR_DECODE_MSG_H
#define MTR_DECODE_MSG_H

#include "adapters/io/decode.h"
#include "adapters/io/format.h"
#include "app/stream.h"

#define MTR_MSG_KEYS_MAX 32 /* members of a flat object the fast path takes */

/* The key set of the last flat object of a kind, bound like a CSV header. */
struct mtr_msg_keyset {
    int valid, nk;
    size_t klen[MTR_MSG_KEYS_MAX];
    char keys[512]; /* the key names, back to back */
    struct mtr_csv_binding b;
};

/* Decoder state: the format and the last key set bound per kind. One per thread; plain data. */
struct mtr_msg_decoder {
    const struct mtr_format *fmt; /* borrowed; must outlive the decoder */
    struct mtr_msg_keyset bound[MTR_KIND_COUNT];
    int64_t fast, slow; /* records (and errors) that took each path, for tests and tuning */
    int jansson_only;   /* tests: every message through the jansson path */
};

/* Sets d up for fmt (borrowed). */
void mtr_msg_decoder_init(struct mtr_msg_decoder *d, const struct mtr_format *fmt);

/*
 * An mtr_stream_decode_fn: ctx is a struct mtr_msg_decoder * (used by one thread at a time).
 * When the message carries an entity id (m->entity_id, e.g. the meter id of an MQTT topic) it is
 * the default id of records that carry none. Every record or undecodable record goes to emit:
 * invalid JSON and non-objects with rule MTR_R_PARSE_JSON and the whole payload as raw; an
 * element of an array with its own JSON text as raw - the bytes of the payload on the fast path,
 * a compact rendering on the jansson path, where for a decoded element raw is NULL and rendered
 * only if emit asks for it (MTR_STREAM_WANT_RAW). Returns 0, the first other non-zero return of
 * emit, or MTR_ENOMEM.
 */
int mtr_decode_message(void *ctx, const struct mtr_stream_msg *m, mtr_stream_emit_fn emit,
                       void *emit_ctx);

#endif
