/*
 * kafka_alerts.h - the Kafka alert sink of `metrify worker monitor` (app/monitor.h) on a
 * librdkafka producer: every alert is produced to one topic (default metrify.alerts, the topic
 * the ingest worker publishes its alerts to), keyed by its entity id (meter or station id, so an
 * entity's alerts stay in order in one partition), with the JSON body of the alerts output
 * (mtr_stream_alert_json). acks=all; the sink's flush waits at the end of every monitor pass
 * until the brokers acknowledged the pass's alerts and reports those that were not delivered.
 */
#ifndef MTR_KAFKA_ALERTS_H
#define MTR_KAFKA_ALERTS_H

#include "adapters/kafka/kafka_source.h"
#include "app/monitor.h"

struct mtr_kafka_alerts;

struct mtr_kafka_alerts_opts {
    const char *brokers; /* bootstrap servers "host:port[,host:port]"; required */
    const char *topic;   /* NULL or "" = MTR_KAFKA_TOPIC_ALERTS */
    /* librdkafka properties "key=value" (client.id, security.protocol, sasl.*, ...) */
    const char *props[MTR_KAFKA_PROPS_MAX];
    int nprops;
};

/* Creates the producer into *out (new; close with mtr_kafka_alerts_close). Strings of o are
 * copied. Returns MTR_EINVAL for no brokers or a bad property (eb filled), MTR_EIO when the
 * client cannot be created. */
int mtr_kafka_alerts_open(const struct mtr_kafka_alerts_opts *o, struct mtr_kafka_alerts **out,
                          struct mtr_errbuf *eb);

/* Fills *out with the sink named "kafka" over ka (borrowed: must outlive the sink's use). */
void mtr_kafka_alerts_sink(struct mtr_alert_sink *out, struct mtr_kafka_alerts *ka);

/* Waits up to 5 s for alerts still in flight, then frees ka (NULL is fine). */
void mtr_kafka_alerts_close(struct mtr_kafka_alerts *ka);

#endif
