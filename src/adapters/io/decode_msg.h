/*
 * decode_msg.h - the message decoder of the streaming workers (app/stream.h): one Kafka or MQTT
 * message body is a JSON object (one record), a JSON array (a batch of records), or the original
 * design's envelope {"payload": <object or array>, "metadata": {...}}.
 */
#ifndef MTR_DECODE_MSG_H
#define MTR_DECODE_MSG_H

#include "adapters/io/format.h"
#include "app/stream.h"

/*
 * An mtr_stream_decode_fn: ctx is a const struct mtr_format * (borrowed; field map and default
 * ids). When the message carries an entity id (m->entity_id, e.g. the meter id of an MQTT topic)
 * it is the default id of records that carry none. Every record or undecodable record goes to
 * emit: invalid JSON and non-objects with rule MTR_R_PARSE_JSON and the whole payload as raw, an
 * undecodable element of an array with the element's JSON text as raw; a decoded element with
 * raw NULL, rendered only if emit asks for it (MTR_STREAM_WANT_RAW). Returns 0, the first other
 * non-zero return of emit, or MTR_ENOMEM.
 */
int mtr_decode_message(void *ctx, const struct mtr_stream_msg *m, mtr_stream_emit_fn emit,
                       void *emit_ctx);

#endif
