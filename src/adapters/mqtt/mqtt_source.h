/*
 * mqtt_source.h - the MQTT message source of the ingest worker (app/stream.h port) on libmosquitto:
 * a persistent session (clean_session=false, fixed client id) subscribed with QoS 1 to a topic
 * filter whose first '+' level is the meter id (default metrify/+/readings). Reconnects with
 * exponential backoff; while disconnected the broker keeps the session's QoS 1 messages.
 *
 * Guarantee: libmosquitto acknowledges (PUBACK) a QoS 1 message when it is received, before the
 * worker stores it. Messages are therefore safe across broker restarts and network loss (the
 * broker re-sends unacknowledged ones), but a worker that crashes loses the messages of its
 * current, uncommitted batch: at most --batch messages or --batch-ms of traffic. There is no
 * dead-letter topic: rejected records are in the store's quarantine with the MQTT topic as source.
 */
#ifndef MTR_MQTT_SOURCE_H
#define MTR_MQTT_SOURCE_H

#include "app/stream.h"

#define MTR_MQTT_FILTER_DEFAULT    "metrify/+/readings"
#define MTR_MQTT_CLIENT_ID_DEFAULT "metrify-ingest"

struct mtr_mqtt_opts {
    const char *host;      /* broker host; required */
    int port;              /* 1883 when 0 */
    const char *filter;    /* topic filter; the level of its first '+' is the entity id (a
                              "$share/GROUP/" prefix is skipped: shared subscriptions work) */
    const char *client_id; /* fixed: the broker keeps the session's messages under this id */
    enum mtr_kind kind;    /* series carried (readings) */
    int keepalive_s;       /* 30 when 0 */
    int qos;               /* subscription QoS 0..2 (1 by default; 0 forfeits the re-sending) */
    const char *username;  /* NULL or "": no credentials */
    const char *password;  /* with username; from the environment only (METRIFY_MQTT_PASSWORD) */
    int tls;               /* TLS, the server verified against the system's CA certificates
                              (OpenSSL's default paths; SSL_CERT_FILE / SSL_CERT_DIR apply) */
};

/* Fills o with the defaults (host NULL, port 1883, readings, QoS 1, no credentials, no TLS). */
void mtr_mqtt_opts_default(struct mtr_mqtt_opts *o);

/*
 * Creates the client and starts connecting; a broker that is not reachable yet is not an error:
 * poll keeps reconnecting with backoff and subscribes on every connection. Strings of o are
 * copied. On success *out is new; free it with (*out)->ops->close(*out) (disconnects cleanly;
 * the broker keeps the session). Returns MTR_EINVAL for a missing host, filter or client id,
 * MTR_EIO when the client cannot be created (eb filled).
 */
int mtr_mqtt_source_open(const struct mtr_mqtt_opts *o, struct mtr_msg_source **out,
                         struct mtr_errbuf *eb);

#endif
