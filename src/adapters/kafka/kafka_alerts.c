/*
 * kafka_alerts.c - the monitor's alert sink on a librdkafka producer (see kafka_alerts.h). One
 * thread: delivery reports are served inside our own produce/flush calls.
 */
#include "adapters/kafka/kafka_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/kafka/kafka_conf.h"

#define FLUSH_TIMEOUT_MS 30000

struct mtr_kafka_alerts {
    rd_kafka_t *producer;
    char topic[256];
    int64_t failed; /* deliveries that failed since the last flush (delivery callback) */
    char json[2048];
};

static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct mtr_kafka_alerts *ka = opaque;
    if (m->err) {
        if (ka->failed == 0)
            fprintf(stderr, "metrify: kafka: alert to %s not delivered: %s\n",
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        ka->failed++;
    }
    (void)rk;
}

int mtr_kafka_alerts_open(const struct mtr_kafka_alerts_opts *o, struct mtr_kafka_alerts **out,
                          struct mtr_errbuf *eb)
{
    char err[512];
    int rc = 0;
    struct mtr_kafka_alerts *ka = calloc(1, sizeof *ka);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    *out = NULL;
    if (!ka || !c) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto fail;
    }
    if (!o->brokers || !*o->brokers) {
        rc = mtr_err(eb, MTR_EINVAL, "kafka: no bootstrap servers");
        goto fail;
    }
    snprintf(ka->topic, sizeof ka->topic, "%s",
             o->topic && *o->topic ? o->topic : MTR_KAFKA_TOPIC_ALERTS);
    if ((rc = mtr_kafka_conf_set(c, "bootstrap.servers", o->brokers, eb)) < 0 ||
        (rc = mtr_kafka_conf_set(c, "acks", "all", eb)) < 0 ||
        (rc = mtr_kafka_conf_set(c, "linger.ms", "20", eb)) < 0 ||
        (rc = mtr_kafka_conf_props(c, o->props, o->nprops, eb)) < 0)
        goto fail;
    rd_kafka_conf_set_log_cb(c, mtr_kafka_log);
    rd_kafka_conf_set_dr_msg_cb(c, delivered);
    rd_kafka_conf_set_opaque(c, ka);
    if (!(ka->producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err))) {
        rc = mtr_err(eb, MTR_EIO, "kafka producer: %s", err);
        goto fail;
    }
    *out = ka;
    return 0;
fail:
    if (c)
        rd_kafka_conf_destroy(c);
    free(ka);
    return rc;
}

static int publish(void *ctx, const struct mtr_alert *a, struct mtr_errbuf *eb)
{
    struct mtr_kafka_alerts *ka = ctx;
    size_t len = mtr_stream_alert_json(ka->json, sizeof ka->json, a);
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            ka->producer, RD_KAFKA_V_TOPIC(ka->topic), RD_KAFKA_V_VALUE(ka->json, len),
            RD_KAFKA_V_KEY((void *)a->entity_id, strlen(a->entity_id)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 300)
            return mtr_err(eb, MTR_EIO, "kafka: produce to %s: %s", ka->topic,
                           rd_kafka_err2str(err));
        rd_kafka_poll(ka->producer, 100); /* serve delivery reports to make room */
    }
    rd_kafka_poll(ka->producer, 0);
    return 0;
}

static int64_t flush(void *ctx)
{
    struct mtr_kafka_alerts *ka = ctx;
    rd_kafka_flush(ka->producer, FLUSH_TIMEOUT_MS);
    int64_t lost = ka->failed + rd_kafka_outq_len(ka->producer);
    if (rd_kafka_outq_len(ka->producer) > 0)
        fprintf(stderr, "metrify: kafka: %d alerts to %s not delivered after %d ms\n",
                rd_kafka_outq_len(ka->producer), ka->topic, FLUSH_TIMEOUT_MS);
    ka->failed = 0;
    return lost;
}

void mtr_kafka_alerts_sink(struct mtr_alert_sink *out, struct mtr_kafka_alerts *ka)
{
    *out = (struct mtr_alert_sink){.name = "kafka", .publish = publish, .ctx = ka, .flush = flush};
}

void mtr_kafka_alerts_close(struct mtr_kafka_alerts *ka)
{
    if (!ka)
        return;
    rd_kafka_flush(ka->producer, 5000);
    rd_kafka_destroy(ka->producer);
    free(ka);
}
