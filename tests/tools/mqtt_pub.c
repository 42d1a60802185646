/*
 * mqtt_pub.c - test publisher for the MQTT ingest worker (tests/integration/mqtt_worker.sh):
 * publishes METERS x INTERVALS readings (15 min from 2026-01-01) as QoS 1 messages to
 * metrify/<meter>/readings (the id only in the topic for every other message), plus BAD bad
 * messages, one at a time, each retried until the broker acknowledged it, so a broker restart in
 * the middle loses nothing (a retry may duplicate a message: the store absorbs that).
 *
 *   mqtt_pub HOST PORT METERS INTERVALS BAD PACE_MS
 * MQTT_PUB_TOPIC: the topic, '+' standing for the meter id (default metrify/+/readings);
 * MQTT_PUB_USER, MQTT_PUB_PASSWORD: credentials.
 * Prints {"readings": N, "bad": N, "retries": N} and exits 0 when everything was acknowledged.
 */
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int acked_mid = -1;

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m, (void)obj;
    atomic_store(&acked_mid, mid);
}

/* Publishes until acknowledged; returns the number of retries. */
static int publish(struct mosquitto *mosq, const char *topic, const char *payload)
{
    int retries = 0;
    for (int attempt = 0; attempt < 600; attempt++) {
        int mid = 0;
        int rc = mosquitto_publish(mosq, &mid, topic, (int)strlen(payload), payload, 1, false);
        if (rc == MOSQ_ERR_SUCCESS) {
            for (int i = 0; i < 2000; i++) { /* up to 2 s for the PUBACK */
                if (atomic_load(&acked_mid) == mid)
                    return retries;
                usleep(1000);
            }
        } else {
            usleep(100000); /* disconnected: the loop thread reconnects */
        }
        retries++;
    }
    fprintf(stderr, "mqtt_pub: %s: never acknowledged\n", topic);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: mqtt_pub HOST PORT METERS INTERVALS BAD PACE_MS\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), meters = atoi(argv[3]), intervals = atoi(argv[4]);
    int bad = atoi(argv[5]), pace_ms = atoi(argv[6]);
    mosquitto_lib_init();
    struct mosquitto *mosq = mosquitto_new("metrify-test-publisher", false, NULL);
    if (mosq && getenv("MQTT_PUB_USER")) /* a broker that wants credentials */
        mosquitto_username_pw_set(mosq, getenv("MQTT_PUB_USER"), getenv("MQTT_PUB_PASSWORD"));
    if (!mosq)
        return 1;
    mosquitto_publish_callback_set(mosq, on_publish);
    mosquitto_reconnect_delay_set(mosq, 1, 2, false);
    for (int i = 0; mosquitto_connect(mosq, host, port, 10) != MOSQ_ERR_SUCCESS; i++) {
        if (i > 50)
            return 1;
        usleep(100000);
    }
    mosquitto_loop_start(mosq);
    const long long t0 = 1767225600; /* 2026-01-01T00:00:00Z */
    long long readings = 0, retries = 0, nbad = 0;
    int every = bad ? (meters * intervals) / bad : 0;
    char topic[256], payload[512], iso[32];
    /* MQTT_PUB_TOPIC: the topic with '+' for the meter id (default metrify/+/readings) */
    const char *pattern = getenv("MQTT_PUB_TOPIC");
    if (!pattern || !strchr(pattern, '+') || strlen(pattern) > 200)
        pattern = "metrify/+/readings";
    for (int i = 0; i < intervals; i++) {
        for (int m = 0; m < meters; m++) {
            time_t tt = (time_t)(t0 + (long long)i * 900);
            struct tm tm;
            gmtime_r(&tt, &tm);
            strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
            const char *plus = strchr(pattern, '+');
            snprintf(topic, sizeof topic, "%.*sMQ%04d%s", (int)(plus - pattern), pattern, m,
                     plus + 1);
            double kwh = 0.3 + 0.01 * ((i + m) % 5);
            if ((i + m) % 2)
                snprintf(payload, sizeof payload, "{\"timestamp\":\"%s\",\"consumption_kwh\":%.3f}",
                         iso, kwh);
            else
                snprintf(payload, sizeof payload,
                         "{\"meter_id\":\"MQ%04d\",\"timestamp\":\"%s\",\"consumption_kwh\":%.3f}",
                         m, iso, kwh);
            retries += publish(mosq, topic, payload);
            readings++;
            if (every && nbad < bad && readings % every == 0) {
                snprintf(payload, sizeof payload,
                         nbad % 2 ? "{\"timestamp\":\"%s\",\"consumption_kwh\":\"bad\"}"
                                  : "not json at all %s",
                         iso);
                retries += publish(mosq, topic, payload);
                nbad++;
            }
            if (pace_ms)
                usleep((useconds_t)pace_ms * 1000);
        }
    }
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    printf("{\"readings\": %lld, \"bad\": %lld, \"retries\": %lld}\n", readings, nbad, retries);
    return 0;
}
