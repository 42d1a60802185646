/*
 * stream.h - the streaming ingest use case (Kafka and MQTT workers): batches of raw messages from
 * a message-source port through the ingest pipeline, with at-least-once delivery made exactly-once
 * in the store by its idempotent upserts.
 *
 * Per batch: decode every message (a JSON object, a JSON array = several records, or the
 * {"payload":..., "metadata":...} envelope), run each record through the session, send every
 * undecodable or rejected record to the dead-letter channel (it is also quarantined), commit the
 * store, and only then acknowledge the batch to the source (Kafka: commit offsets). A rebalance
 * reported by the source drops the session's in-memory meter states, which are reloaded from the
 * store: another worker may have advanced them meanwhile.
 */
#ifndef MTR_STREAM_H
#define MTR_STREAM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "app/ingest.h"
#include "app/ports.h"

/* ======================= message-source port ======================= */

/* A record of a message decoded ahead by the source, or an undecodable one. */
struct mtr_stream_item {
    struct mtr_record rec;              /* when err is NULL */
    const struct mtr_record_error *err; /* why the record could not be decoded, or NULL */
    const char *raw;                    /* the record's JSON text (never NULL) */
    size_t raw_len;
};

/* One message as received; every pointer is borrowed from the source until its next poll. */
struct mtr_stream_msg {
    const char *payload;
    size_t len;
    enum mtr_kind kind;    /* which series the channel carries (Kafka topic, MQTT filter) */
    const char *source;    /* where it came from, for quarantine and dead-letter headers:
                              "metrify.readings/1/42" (topic/partition/offset), MQTT topic */
    const char *entity_id; /* id implied by the channel (meter id of an MQTT topic), or NULL */
    /* Set by a source that decodes on its own thread (Kafka): the message's records and errors
     * in order, as the decoder emitted them. NULL: the use case decodes it (opts.decode). */
    const struct mtr_stream_item *items;
    size_t n_items;
};

/* Outputs a worker publishes to (Kafka topics; MQTT workers do not publish). */
enum mtr_stream_out { MTR_STREAM_OUT_PROCESSED = 0, MTR_STREAM_OUT_ALERTS };

struct mtr_msg_source;
struct mtr_msg_source_ops {
    /*
     * Waits up to timeout_ms for messages and returns about cap of them (a push source such as
     * MQTT may return a few more it had already received) in *msgs (an array owned
     * by the source, valid until the next poll) and their count in *n. *reset is set to 1 when
     * the source's assignment changed (rebalance, reconnect) since the last poll: messages
     * polled before and not committed may be re-delivered, here or to another worker. Returns 0
     * (possibly with *n == 0 on timeout) or a negative MTR_E* on a fatal error (eb filled).
     */
    int (*poll)(struct mtr_msg_source *s, size_t cap, int timeout_ms,
                const struct mtr_stream_msg **msgs, size_t *n, int *reset, struct mtr_errbuf *eb);
    /* Sends one undecodable or rejected record (payload borrowed) to the dead-letter channel with
     * the rule name and message as metadata. May be asynchronous: commit makes it durable.
     * Returns 0 when sent, 1 when the source has no dead-letter channel (the quarantine holds
     * the record), negative on failure. */
    int (*dead_letter)(struct mtr_msg_source *s, const struct mtr_stream_msg *m, const char *raw,
                       size_t len, enum mtr_rule_id rule, const char *error);
    /* Publishes a JSON document (borrowed) keyed by key to an output: 0 when sent, 1 when the
     * source has no such output (nothing done), negative on failure. May be asynchronous. */
    int (*publish)(struct mtr_msg_source *s, enum mtr_stream_out out, const char *key,
                   const char *json, size_t len);
    /* Called after the store committed everything polled so far: waits until dead letters and
     * publications are delivered, then acknowledges the polled messages (Kafka: synchronous
     * offset commit). Negative when that failed (the batch will be re-delivered). */
    int (*commit)(struct mtr_msg_source *s, struct mtr_errbuf *eb);
    /* Messages known to be waiting (Kafka consumer lag), or -1 when unknown. */
    int64_t (*lag)(struct mtr_msg_source *s);
    /* Leaves the group / disconnects and frees the source. */
    void (*close)(struct mtr_msg_source *s);
    /* Optional (NULL for a source that does not decode ahead): messages fetched and decoded but
     * not yet returned by poll, and in *dropped the total of such messages dropped at
     * rebalances (they are fetched again from the committed offsets). */
    int64_t (*ahead)(struct mtr_msg_source *s, int64_t *dropped);
};
struct mtr_msg_source {
    const struct mtr_msg_source_ops *ops;
};

/*
 * Decodes one message into records (mtr_decode_message), calling emit once per record (err NULL) or
 * per undecodable record (rec NULL, err filled); raw/raw_len is the record's JSON text (the whole
 * payload for a single-record message, the element for a batch). To save rendering every element of
 * a batch, raw may be NULL for a decoded record: if emit then returns MTR_STREAM_WANT_RAW (it
 * rejected the record), the decoder calls emit once more with rec and err NULL and the element's
 * text. Returns 0, the first other non-zero return of emit, or a negative MTR_E* (ENOMEM).
 */
#define MTR_STREAM_WANT_RAW 2
typedef int (*mtr_stream_emit_fn)(void *ctx, const struct mtr_record *rec,
                                  const struct mtr_record_error *err, const char *raw,
                                  size_t raw_len);
typedef int (*mtr_stream_decode_fn)(void *ctx, const struct mtr_stream_msg *m,
                                    mtr_stream_emit_fn emit, void *emit_ctx);

/* ======================= the use case ======================= */

struct mtr_stream_stats {
    int64_t messages;               /* messages consumed */
    int64_t records;                /* records decoded or rejected from them */
    int64_t stored;                 /* records accepted by the pipeline */
    int64_t rejected;               /* records quarantined (undecodable or rejected by a rule) */
    int64_t dead_lettered;          /* records sent to the dead-letter channel */
    int64_t published;              /* processed readings and alert updates published */
    int64_t batches;                /* batches committed */
    int64_t resets;                 /* rebalances / reconnects seen */
    int64_t store_retries;          /* batches rolled back and run again after a store failure */
    int64_t lag;                    /* last known source lag, -1 unknown */
    int64_t ahead;                  /* messages decoded ahead by the source (last tick) */
    int64_t dropped_ahead;          /* decoded-ahead messages dropped at rebalances */
    int64_t last_commit;            /* Unix time of the last committed batch (liveness), 0 = none */
    double busy_s;                  /* seconds from the first message received to the last commit */
    struct mtr_ingest_stats ingest; /* totals of the pipeline across sessions */
};

struct mtr_stream_opts {
    struct mtr_ingest_opts ingest; /* params, commit_every (ignored: one commit per batch) */
    mtr_stream_decode_fn decode;   /* required */
    void *decode_ctx;
    size_t batch_max;            /* messages per batch; 0 = 5000 */
    int batch_ms;                /* max wait to fill a batch; 0 = 500 */
    int64_t max_messages;        /* stop after this many messages; 0 = no limit */
    int idle_exit_ms;            /* stop after this long without messages since the last message or
                                   (re)assignment; 0 = never */
    int publish;                 /* publish processed readings and alerts */
    volatile sig_atomic_t *stop; /* set asynchronously (SIGTERM): finish the batch and return */
    /* Called about once per second and after the last batch with the running totals. */
    void (*tick)(void *ctx, const struct mtr_stream_stats *st);
    void *tick_ctx;
    /* Fault-injection seams for tests: after this many batches are committed to the store, raise
     * SIGKILL before acknowledging the batch to the source (the worst moment to die; with a
     * source that decodes ahead, once it is ahead - waiting up to 2 s - and the messages decoded
     * ahead are reported on stderr first). 0 = off. */
    int64_t crash_after_batches;
    /* Sleep this long after each store commit, before the acknowledgement (a slow store, so
     * that the source decodes ahead and rebalances meet a batch in flight). 0 = off. */
    int pause_ms;
};

/*
 * Runs the worker loop on store and src (both borrowed) until *stop, max_messages or idle_exit.
 * Every batch is committed to the store and then acknowledged to the source; *st (caller-owned)
 * holds the totals. Returns 0 on a clean stop, or a negative MTR_E* on a store or source failure
 * (eb filled): the batch in progress is rolled back and not acknowledged, so it is re-delivered.
 */
int mtr_stream_run(struct mtr_store *store, struct mtr_msg_source *src,
                   const struct mtr_stream_opts *o, struct mtr_stream_stats *st,
                   struct mtr_errbuf *eb);

/* Formats a stored reading as the JSON of the processed-readings output into buf (NUL-terminated,
 * truncated to cap). Returns the length. */
size_t mtr_stream_reading_json(char *buf, size_t cap, const char *meter_id,
                               const struct mtr_stored_reading *r);

/* Formats an alert as the JSON of the alerts output. Returns the length. */
size_t mtr_stream_alert_json(char *buf, size_t cap, const struct mtr_alert *a);

#endif
