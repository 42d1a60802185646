/*
 * kafka_source.h - the Kafka message source of the ingest worker (app/stream.h port) on
 * librdkafka: a consumer-group member with manual offset commits, plus a producer for the
 * dead-letter topic (reason in headers) and the processed-readings and alerts topics.
 *
 * A fetch thread polls the consumer and decodes chunks of messages ahead (up to opts.ahead
 * messages) while the caller's thread runs the pipeline on the batch poll handed out last.
 *
 * Delivery: offsets of a batch are committed synchronously only after the store committed it and
 * every dead letter / publication of the batch was acknowledged by the brokers. A rebalance drops
 * the messages fetched or decoded ahead but not yet handed out (they are fetched again from the
 * committed offsets, by this worker or another); before partitions are given up, it waits until
 * the batch in flight is committed, so a worker never processes messages it no longer owns
 * without finishing them first. Only the eager assignment protocols are supported (range,
 * roundrobin): the cooperative one would keep fetch positions past dropped messages.
 */
#ifndef MTR_KAFKA_SOURCE_H
#define MTR_KAFKA_SOURCE_H

#include "app/stream.h"

#define MTR_KAFKA_PROPS_MAX 32

/* Documented defaults (docs/streaming.md). */
#define MTR_KAFKA_GROUP_DEFAULT     "metrify-ingest"
#define MTR_KAFKA_TOPIC_READINGS    "metrify.readings"
#define MTR_KAFKA_TOPIC_GRID        "metrify.grid-status"
#define MTR_KAFKA_TOPIC_WEATHER     "metrify.weather"
#define MTR_KAFKA_TOPIC_DEAD_LETTER "metrify.dead-letter"
#define MTR_KAFKA_TOPIC_ALERTS      "metrify.alerts"
#define MTR_KAFKA_TOPIC_PROCESSED   "metrify.readings.processed"

struct mtr_kafka_opts {
    const char *brokers; /* bootstrap servers "host:port[,host:port]"; required */
    const char *group;   /* consumer group id */
    /* topics consumed, indexed by enum mtr_kind (READING, GRID, WEATHER); "" = not consumed */
    const char *topics[3];
    const char *dead_letter, *alerts, *processed; /* produced to; "" = disabled */
    /* extra librdkafka properties "key=value" for both clients (session.timeout.ms, ...) */
    const char *props[MTR_KAFKA_PROPS_MAX];
    int nprops;
    /* the message decoder (required), run on the fetch thread only; decode_ctx is borrowed and
     * must outlive the source */
    mtr_stream_decode_fn decode;
    void *decode_ctx;
    size_t ahead; /* messages decoded ahead at most (besides the batch in flight); 0 = 5000 */
};

/* Fills o with the defaults above (brokers NULL, no extra properties, no decoder). */
void mtr_kafka_opts_default(struct mtr_kafka_opts *o);

/*
 * Creates the consumer (subscribed to the non-empty topics), the producer and the fetch thread.
 * Strings of o are copied. On success *out is new; free it with (*out)->ops->close(*out), which
 * stops the fetch thread, commits nothing and leaves the group. Returns MTR_EINVAL for a bad
 * property, no topic or no decoder (eb filled), MTR_EIO when a client or the thread cannot be
 * created.
 */
int mtr_kafka_source_open(const struct mtr_kafka_opts *o, struct mtr_msg_source **out,
                          struct mtr_errbuf *eb);

#endif
