/*
 * kafka_source.h - the Kafka message source of the ingest worker (app/stream.h port) on
 * librdkafka: a consumer-group member with manual offset commits, plus a producer for the
 * dead-letter topic (reason in headers) and the processed-readings and alerts topics.
 *
 * Delivery: offsets of a batch are committed synchronously only after the store committed it and
 * every dead letter / publication of the batch was acknowledged by the brokers; a rebalance drops
 * the messages polled but not yet processed (they are fetched again from the committed offsets,
 * by this worker or another). Only the eager assignment protocols are supported (range,
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
};

/* Fills o with the defaults above (brokers NULL, no extra properties). */
void mtr_kafka_opts_default(struct mtr_kafka_opts *o);

/*
 * Creates the consumer (subscribed to the non-empty topics) and the producer. Strings of o are
 * copied. On success *out is new; free it with (*out)->ops->close(*out), which commits nothing
 * and leaves the group. Returns MTR_EINVAL for a bad property or no topic (eb filled), MTR_EIO
 * when a client cannot be created.
 */
int mtr_kafka_source_open(const struct mtr_kafka_opts *o, struct mtr_msg_source **out,
                          struct mtr_errbuf *eb);

#endif
