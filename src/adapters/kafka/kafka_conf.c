/* kafka_conf.c - librdkafka configuration helpers of the Kafka clients (see kafka_conf.h). */
#include "adapters/kafka/kafka_conf.h"

#include <stdio.h>
#include <string.h>

int mtr_kafka_conf_set(rd_kafka_conf_t *c, const char *key, const char *val, struct mtr_errbuf *eb)
{
    char err[256];
    if (rd_kafka_conf_set(c, key, val, err, sizeof err) != RD_KAFKA_CONF_OK)
        return mtr_err(eb, MTR_EINVAL, "kafka property %s=%s: %s", key, val, err);
    return 0;
}

int mtr_kafka_conf_props(rd_kafka_conf_t *c, const char *const *props, int nprops,
                         struct mtr_errbuf *eb)
{
    for (int i = 0; i < nprops; i++) {
        char key[128];
        const char *eq = strchr(props[i], '=');
        if (!eq || eq == props[i] || (size_t)(eq - props[i]) >= sizeof key)
            return mtr_err(eb, MTR_EINVAL, "kafka property '%s': expected key=value", props[i]);
        memcpy(key, props[i], (size_t)(eq - props[i]));
        key[eq - props[i]] = 0;
        if (strcmp(key, "partition.assignment.strategy") == 0 && strstr(eq + 1, "cooperative"))
            return mtr_err(eb, MTR_EINVAL,
                           "kafka property %s: only eager assignors (range, roundrobin) are "
                           "supported",
                           props[i]);
        int rc = mtr_kafka_conf_set(c, key, eq + 1, eb);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Its warning that a consumer property means nothing to a producer (the workers give every
 * client the same -X list) is noise. */
void mtr_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (strcmp(fac, "CONFWARN") == 0)
        return;
    fprintf(stderr, "metrify: kafka: %d %s: %s\n", level, fac, buf);
}
