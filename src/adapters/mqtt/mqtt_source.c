/*
 * mqtt_source.c - libmosquitto behind the message-source port (see mqtt_source.h). Runs the
 * client loop in the caller's thread inside poll: received messages are copied into one growable
 * arena (no allocation per message once it has grown) and handed out as a batch.
 */
#include "adapters/mqtt/mqtt_source.h"

#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct slot {
    size_t payload, len, topic, id; /* offsets into the arena; id == SIZE_MAX: none */
};

struct msrc {
    struct mtr_msg_source base;
    struct mosquitto *mosq;
    char filter[256];
    int id_level; /* topic level of the first '+' of the filter, -1 = none */
    enum mtr_kind kind;
    int qos, connected, was_connected, reset;
    int64_t next_retry, backoff;
    char *arena;
    size_t used, arena_cap;
    struct slot *slots;
    size_t n, slots_cap;
    struct mtr_stream_msg *msgs;
    size_t msgs_cap;
    int oom;
};

void mtr_mqtt_opts_default(struct mtr_mqtt_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = 1883;
    o->filter = MTR_MQTT_FILTER_DEFAULT;
    o->client_id = MTR_MQTT_CLIENT_ID_DEFAULT;
    o->kind = MTR_KIND_READING;
    o->keepalive_s = 30;
    o->qos = 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Appends len bytes and a NUL to the arena; returns the offset or SIZE_MAX when out of memory. */
static size_t arena_put(struct msrc *m, const void *p, size_t len)
{
    if (m->used + len + 1 > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap * 2 : 65536;
        while (cap < m->used + len + 1)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (!a)
            return SIZE_MAX;
        m->arena = a;
        m->arena_cap = cap;
    }
    size_t off = m->used;
    if (len)
        memcpy(m->arena + off, p, len);
    m->arena[off + len] = 0;
    m->used += len + 1;
    return off;
}

/* The id_level-th level of topic ("metrify/SM1/readings", 1 -> "SM1"). */
static size_t topic_level(const char *topic, int level, size_t *len)
{
    const char *p = topic;
    for (int i = 0; i < level; i++) {
        p = strchr(p, '/');
        if (!p)
            return SIZE_MAX;
        p++;
    }
    const char *e = strchr(p, '/');
    *len = e ? (size_t)(e - p) : strlen(p);
    return (size_t)(p - topic);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    struct msrc *m = obj;
    (void)mosq;
    if (m->n == m->slots_cap) {
        size_t cap = m->slots_cap ? m->slots_cap * 2 : 1024;
        struct slot *s = realloc(m->slots, cap * sizeof *s);
        if (!s) {
            m->oom = 1;
            return;
        }
        m->slots = s;
        m->slots_cap = cap;
    }
    struct slot sl = {.id = SIZE_MAX};
    sl.len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    sl.payload = arena_put(m, msg->payload, sl.len);
    sl.topic = arena_put(m, msg->topic, strlen(msg->topic));
    if (m->id_level >= 0) {
        size_t len = 0, at = topic_level(msg->topic, m->id_level, &len);
        if (at != SIZE_MAX && len > 0 && len < MTR_ID_MAX)
            sl.id = arena_put(m, msg->topic + at, len);
    }
    if (sl.payload == SIZE_MAX || sl.topic == SIZE_MAX) {
        m->oom = 1;
        return;
    }
    m->slots[m->n++] = sl;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct msrc *m = obj;
    if (rc != 0) {
        fprintf(stderr, "metrify: mqtt: connection refused: %s\n", mosquitto_connack_string(rc));
        return;
    }
    m->connected = 1;
    m->backoff = BACKOFF_MIN_MS;
    if (m->was_connected)
        m->reset = 1;
    m->was_connected = 1;
    /* the persistent session keeps the subscription; subscribing again is harmless */
    mosquitto_subscribe(mosq, NULL, m->filter, m->qos);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    struct msrc *m = obj;
    (void)mosq;
    m->connected = 0;
    if (rc != 0)
        fprintf(stderr, "metrify: mqtt: connection lost, reconnecting\n");
}

static int m_poll(struct mtr_msg_source *s, size_t cap, int timeout_ms,
                  const struct mtr_stream_msg **msgs, size_t *n, int *reset, struct mtr_errbuf *eb)
{
    struct msrc *m = (struct msrc *)s;
    m->n = 0;
    m->used = 0;
    *n = 0;
    *reset = 0;
    int64_t deadline = mono_ms() + timeout_ms;
    while (m->n < cap && !m->oom) {
        int64_t now = mono_ms(), left = deadline - now;
        if (left <= 0)
            break;
        int rc = mosquitto_loop(m->mosq, (int)(left < 100 ? left : 100), 1);
        if (rc == MOSQ_ERR_SUCCESS)
            continue;
        if (rc == MOSQ_ERR_NOMEM)
            return mtr_err(eb, MTR_ENOMEM, "mqtt: out of memory");
        /* disconnected: reconnect with exponential backoff, inside this poll's time budget */
        m->connected = 0;
        now = mono_ms();
        if (now < m->next_retry) {
            int64_t wait = m->next_retry - now;
            sleep_ms(wait < left ? wait : left);
            continue;
        }
        if (mosquitto_reconnect(m->mosq) != MOSQ_ERR_SUCCESS) {
            m->next_retry = mono_ms() + m->backoff;
            m->backoff = m->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff * 2;
        }
    }
    if (m->oom)
        return mtr_err(eb, MTR_ENOMEM, "mqtt: out of memory");
    if (m->n > m->msgs_cap) {
        struct mtr_stream_msg *a = realloc(m->msgs, m->n * sizeof *a);
        if (!a)
            return mtr_err(eb, MTR_ENOMEM, "mqtt: out of memory");
        m->msgs = a;
        m->msgs_cap = m->n;
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct slot *sl = &m->slots[i];
        m->msgs[i] =
            (struct mtr_stream_msg){.payload = m->arena + sl->payload,
                                    .len = sl->len,
                                    .kind = m->kind,
                                    .source = m->arena + sl->topic,
                                    .entity_id = sl->id == SIZE_MAX ? NULL : m->arena + sl->id};
    }
    *reset = m->reset;
    m->reset = 0;
    *msgs = m->msgs;
    *n = m->n;
    return 0;
}

static int m_dead_letter(struct mtr_msg_source *s, const struct mtr_stream_msg *msg,
                         const char *raw, size_t len, enum mtr_rule_id rule, const char *error)
{
    (void)s, (void)msg, (void)raw, (void)len, (void)rule, (void)error;
    return 1; /* no dead-letter channel: the quarantine holds the record */
}

static int m_publish(struct mtr_msg_source *s, enum mtr_stream_out out, const char *key,
                     const char *json, size_t len)
{
    (void)s, (void)out, (void)key, (void)json, (void)len;
    return 1;
}

static int m_commit(struct mtr_msg_source *s, struct mtr_errbuf *eb)
{
    (void)s, (void)eb;
    return 0; /* QoS 1 messages were acknowledged on receipt (see mqtt_source.h) */
}

static int64_t m_lag(struct mtr_msg_source *s)
{
    (void)s;
    return -1;
}

static void m_close(struct mtr_msg_source *s)
{
    struct msrc *m = (struct msrc *)s;
    if (!m)
        return;
    if (m->mosq) {
        /* No loop after this: a message read now would be acknowledged and then dropped.
         * Unread ones stay unacknowledged and the broker re-sends them to the session. */
        if (m->connected)
            mosquitto_disconnect(m->mosq);
        mosquitto_destroy(m->mosq);
    }
    mosquitto_lib_cleanup();
    free(m->arena);
    free(m->slots);
    free(m->msgs);
    free(m);
}

static const struct mtr_msg_source_ops mqtt_ops = {
    .poll = m_poll,
    .dead_letter = m_dead_letter,
    .publish = m_publish,
    .commit = m_commit,
    .lag = m_lag,
    .close = m_close,
};

int mtr_mqtt_source_open(const struct mtr_mqtt_opts *o, struct mtr_msg_source **out,
                         struct mtr_errbuf *eb)
{
    int rc = 0;
    *out = NULL;
    if (!o->host || !*o->host)
        return mtr_err(eb, MTR_EINVAL, "mqtt: no broker host");
    if (!o->filter || !*o->filter || strlen(o->filter) >= 256)
        return mtr_err(eb, MTR_EINVAL, "mqtt: bad topic filter");
    if (!o->client_id || !*o->client_id)
        return mtr_err(eb, MTR_EINVAL, "mqtt: a persistent session needs a client id");
    struct msrc *m = calloc(1, sizeof *m);
    if (!m)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    m->base.ops = &mqtt_ops;
    mosquitto_lib_init();
    snprintf(m->filter, sizeof m->filter, "%s", o->filter);
    m->kind = o->kind;
    m->qos = o->qos >= 0 && o->qos <= 2 ? o->qos : 1;
    m->backoff = BACKOFF_MIN_MS;
    m->id_level = -1;
    const char *p = m->filter;
    if (strncmp(p, "$share/", 7) == 0) { /* shared subscription: topics lack "$share/GROUP/" */
        p = strchr(p + 7, '/');
        p = p ? p + 1 : NULL;
    }
    for (int level = 0; p; level++) {
        if (p[0] == '+' && (p[1] == '/' || p[1] == 0)) {
            m->id_level = level;
            break;
        }
        p = strchr(p, '/');
        if (p)
            p++;
    }
    m->mosq = mosquitto_new(o->client_id, false, m);
    if (!m->mosq) {
        rc = mtr_err(eb, MTR_EIO, "mqtt: cannot create the client");
        goto fail;
    }
    if (o->username && *o->username &&
        mosquitto_username_pw_set(m->mosq, o->username,
                                  o->password && *o->password ? o->password : NULL) !=
            MOSQ_ERR_SUCCESS) {
        rc = mtr_err(eb, MTR_EINVAL, "mqtt: cannot set the user name");
        goto fail;
    }
    if (o->tls && mosquitto_int_option(m->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1) != MOSQ_ERR_SUCCESS) {
        rc = mtr_err(eb, MTR_EINVAL, "mqtt: this libmosquitto cannot use TLS");
        goto fail;
    }
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    int e = mosquitto_connect(m->mosq, o->host, o->port ? o->port : 1883,
                              o->keepalive_s ? o->keepalive_s : 30);
    if (e != MOSQ_ERR_SUCCESS) {
        /* not fatal: poll keeps retrying with backoff */
        fprintf(stderr, "metrify: mqtt: %s:%d: %s (retrying)\n", o->host, o->port,
                mosquitto_strerror(e));
        m->next_retry = mono_ms() + m->backoff;
    }
    *out = &m->base;
    return 0;
fail:
    m_close(&m->base);
    return rc;
}
