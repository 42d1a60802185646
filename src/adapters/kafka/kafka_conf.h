/*
 * kafka_conf.h - librdkafka configuration shared by the Kafka clients of Metrify (the ingest
 * worker's consumer and producers, the monitor's alert producer): setting properties with a
 * clear error, the user's -X key=value list, and the log callback.
 */
#ifndef MTR_KAFKA_CONF_H
#define MTR_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "base/err.h"

/* Sets key=val on c. Returns 0, or MTR_EINVAL naming the property and librdkafka's reason. */
int mtr_kafka_conf_set(rd_kafka_conf_t *c, const char *key, const char *val, struct mtr_errbuf *eb);

/*
 * Applies "key=value" properties (borrowed) to c; a key meant for the other client type is only
 * warned about by librdkafka (silenced by mtr_kafka_log). The cooperative assignor is refused:
 * the ingest worker supports the eager protocols only. Returns 0 or MTR_EINVAL.
 */
int mtr_kafka_conf_props(rd_kafka_conf_t *c, const char *const *props, int nprops,
                         struct mtr_errbuf *eb);

/* librdkafka's log callback: configuration warnings dropped, the rest to stderr. */
void mtr_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif
