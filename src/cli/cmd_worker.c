/*
 * cmd_worker.c - `metrify worker ingest|process|monitor`: the dispatcher, and the streaming
 * ingest worker `worker ingest [--kafka BROKERS | --mqtt HOST:PORT]`; process and monitor live in
 * cmd_worker_jobs.c. Takes its settings from the configuration (kafka, mqtt and worker.ingest_*
 * keys, METRIFY_* overrides, secrets from the environment), flags winning; opens the store and a
 * message source (adapters/kafka, adapters/mqtt), runs the stream use case (app/stream.h) until
 * SIGTERM/SIGINT, --max-messages or --idle-exit, prints counters while running (and to a
 * Prometheus-style --metrics-file) and a summary at the end.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/io/decode_msg.h"
#include "adapters/kafka/kafka_source.h"
#include "adapters/mqtt/mqtt_source.h"
#include "app/config.h"
#include "app/stream.h"
#include "base/timeparse.h"
#include "cli/cli.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void ingest_usage(FILE *f)
{
    fprintf(
        f,
        "usage: metrify [--config FILE | --env ENV] worker ingest\n"
        "                 [--kafka BROKERS | --mqtt HOST[:PORT] | --transport kafka|mqtt] "
        "[options]\n\n"
        "Consumes readings, grid status and weather from Kafka (as a consumer group: add\n"
        "workers to scale) or readings from MQTT (QoS 1, persistent session), runs them through\n"
        "the ingest pipeline in batches and commits each batch to the store before\n"
        "acknowledging it. Messages are JSON: an object, an array of objects, or\n"
        "{\"payload\": ..., \"metadata\": ...}. See docs/streaming.md.\n\n"
        "Settings come from the configuration (the kafka, mqtt and worker.ingest_* keys;\n"
        "METRIFY_* variables override the file; passwords only from METRIFY_KAFKA_SASL_PASSWORD\n"
        "and METRIFY_MQTT_PASSWORD); the options below override them. The transport:\n"
        "--kafka or --mqtt; else --transport with the configuration's kafka.brokers or\n"
        "mqtt.host; else the one of the two the configuration names (both named: give\n"
        "--transport).\n\n"
        "Kafka:\n"
        "  --kafka BROKERS        bootstrap servers host:port[,host:port] (kafka.brokers)\n"
        "  --group G              consumer group (kafka.group, default " MTR_KAFKA_GROUP_DEFAULT
        ")\n"
        "  --topic-readings T     (kafka.topic_readings, default " MTR_KAFKA_TOPIC_READINGS ")\n"
        "  --topic-grid T         (kafka.topic_grid, default " MTR_KAFKA_TOPIC_GRID ")\n"
        "  --topic-weather T      (kafka.topic_weather, default " MTR_KAFKA_TOPIC_WEATHER ")\n"
        "  --topic-dead-letter T  (kafka.topic_dead_letter, default " MTR_KAFKA_TOPIC_DEAD_LETTER
        ")\n"
        "  --topic-alerts T       (kafka.topic_alerts, default " MTR_KAFKA_TOPIC_ALERTS ")\n"
        "  --topic-processed T    (kafka.topic_processed, default " MTR_KAFKA_TOPIC_PROCESSED ")\n"
        "                         an empty name disables that topic\n"
        "  -X KEY=VALUE           a librdkafka property (repeatable), e.g. "
        "session.timeout.ms=6000;\n"
        "                         after kafka.client_id, security_protocol and sasl_*\n"
        "  --no-publish           do not publish processed readings and alerts\n"
        "MQTT:\n"
        "  --mqtt HOST[:PORT]     broker (mqtt.host, mqtt.port; default port 1883)\n"
        "  --mqtt-topic FILTER    topic filter, the first '+' level is the meter id\n"
        "                         (mqtt.topic, default " MTR_MQTT_FILTER_DEFAULT ")\n"
        "  --client-id ID         persistent session id (mqtt.client_id, "
        "default " MTR_MQTT_CLIENT_ID_DEFAULT ")\n"
        "                         mqtt.qos, mqtt.username and mqtt.tls: configuration only\n"
        "Both:\n"
        "  --transport T          kafka or mqtt: the broker named by the configuration\n"
        "  --batch N              messages per batch and store commit (worker.ingest_batch,\n"
        "                         default 5000)\n"
        "  --batch-ms MS          longest wait to fill a batch (worker.ingest_batch_ms, 500)\n"
        "  --max-messages N       stop after N messages\n"
        "  --idle-exit DUR        stop after DUR without messages since the last message or\n"
        "                         partition assignment (e.g. 10s)\n"
        "  --metrics-file PATH    rewrite Prometheus-style counters there every second\n"
        "  --strict-meters        quarantine readings of meters that are not registered\n"
        "  --now ISO              the clock for future-timestamp checks (default: now)\n"
        "  --json                 print the final summary as JSON on stdout\n\n"
        "SIGTERM/SIGINT: the current batch is finished and committed, then exit 0.\n"
        "Exit: 0 clean stop, 2 usage, 3 I/O (broker), 4 store.\n");
}

struct view {
    const struct mtr_cli *cli;
    const char *metrics_file;
    const char *transport;
    int64_t last_print;
};

static void write_metrics(const struct view *v, const struct mtr_stream_stats *st)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", v->metrics_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    const char *t = v->transport;
    fprintf(f, "# metrify worker ingest counters (transport %s)\n", t);
#define C(name, val)                                                                               \
    fprintf(f, "metrify_worker_" name "{transport=\"%s\"} %lld\n", t, (long long)(val))
    C("messages_total", st->messages);
    C("records_total", st->records);
    C("stored_total", st->stored);
    C("rejected_total", st->rejected);
    C("dead_lettered_total", st->dead_lettered);
    C("published_total", st->published);
    C("batches_total", st->batches);
    C("resets_total", st->resets);
    C("store_retries_total", st->store_retries);
    C("duplicates_total", st->ingest.duplicates);
    C("dropped_ahead_total", st->dropped_ahead);
    C("lag", st->lag);
    C("decoded_ahead", st->ahead);
    C("last_commit_timestamp_seconds", st->last_commit);
    C("heartbeat_timestamp_seconds", time(NULL));
#undef C
    fclose(f);
    rename(tmp, v->metrics_file);
}

static void on_tick(void *ctx, const struct mtr_stream_stats *st)
{
    struct view *v = ctx;
    if (v->metrics_file)
        write_metrics(v, st);
    int64_t now = time(NULL);
    if (v->cli->quiet || now - v->last_print < 5)
        return;
    v->last_print = now;
    fprintf(stderr,
            "worker: consumed %lld, stored %lld, rejected %lld, dead-lettered %lld, batches %lld, "
            "lag %lld\n",
            (long long)st->messages, (long long)st->stored, (long long)st->rejected,
            (long long)st->dead_lettered, (long long)st->batches, (long long)st->lag);
}

static void print_summary(const struct mtr_cli *cli, const char *transport,
                          const struct mtr_stream_stats *st)
{
    if (cli->json) {
        printf(
            "{\"transport\": \"%s\", \"messages\": %lld, \"records\": %lld, \"stored\": %lld, "
            "\"rejected\": %lld, \"dead_lettered\": %lld, \"published\": %lld, "
            "\"batches\": %lld, \"resets\": %lld, \"store_retries\": %lld, \"duplicates\": %lld, "
            "\"revisions\": %lld, \"estimated\": %lld, \"alerts\": %lld, \"lag\": %lld, "
            "\"ahead\": %lld, \"dropped_ahead\": %lld, \"busy_s\": %.3f}\n",
            transport, (long long)st->messages, (long long)st->records, (long long)st->stored,
            (long long)st->rejected, (long long)st->dead_lettered, (long long)st->published,
            (long long)st->batches, (long long)st->resets, (long long)st->store_retries,
            (long long)st->ingest.duplicates, (long long)st->ingest.revisions,
            (long long)st->ingest.estimated, (long long)st->ingest.alerts, (long long)st->lag,
            (long long)st->ahead, (long long)st->dropped_ahead, st->busy_s);
        return;
    }
    if (cli->quiet)
        return;
    printf("worker (%s): %lld messages, %lld records: %lld stored (%lld duplicates), %lld "
           "rejected, %lld dead-lettered, %lld published, %lld batches, %lld rebalances\n",
           transport, (long long)st->messages, (long long)st->records, (long long)st->stored,
           (long long)st->ingest.duplicates, (long long)st->rejected, (long long)st->dead_lettered,
           (long long)st->published, (long long)st->batches, (long long)st->resets);
}

static int parse_host_port(const char *s, struct mtr_mqtt_opts *m, char *host, size_t cap)
{
    const char *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n == 0 || n >= cap)
        return MTR_EINVAL;
    memcpy(host, s, n);
    host[n] = 0;
    m->host = host;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535)
            return MTR_EINVAL;
        m->port = (int)p;
    }
    return 0;
}

static int worker_ingest(struct mtr_cli *cli, int argc, char **argv)
{
    enum {
        O_KAFKA = 256,
        O_MQTT,
        O_GROUP,
        O_T_READ,
        O_T_GRID,
        O_T_WEATHER,
        O_T_DLQ,
        O_T_ALERTS,
        O_T_PROC,
        O_NO_PUB,
        O_MQTT_TOPIC,
        O_CLIENT_ID,
        O_BATCH,
        O_BATCH_MS,
        O_MAX,
        O_IDLE,
        O_METRICS,
        O_STRICT,
        O_NOW,
        O_TRANSPORT
    };
    static const struct option opts[] = {{"kafka", required_argument, 0, O_KAFKA},
                                         {"mqtt", required_argument, 0, O_MQTT},
                                         {"group", required_argument, 0, O_GROUP},
                                         {"topic-readings", required_argument, 0, O_T_READ},
                                         {"topic-grid", required_argument, 0, O_T_GRID},
                                         {"topic-weather", required_argument, 0, O_T_WEATHER},
                                         {"topic-dead-letter", required_argument, 0, O_T_DLQ},
                                         {"topic-alerts", required_argument, 0, O_T_ALERTS},
                                         {"topic-processed", required_argument, 0, O_T_PROC},
                                         {"no-publish", no_argument, 0, O_NO_PUB},
                                         {"mqtt-topic", required_argument, 0, O_MQTT_TOPIC},
                                         {"client-id", required_argument, 0, O_CLIENT_ID},
                                         {"batch", required_argument, 0, O_BATCH},
                                         {"batch-ms", required_argument, 0, O_BATCH_MS},
                                         {"max-messages", required_argument, 0, O_MAX},
                                         {"idle-exit", required_argument, 0, O_IDLE},
                                         {"metrics-file", required_argument, 0, O_METRICS},
                                         {"strict-meters", no_argument, 0, O_STRICT},
                                         {"now", required_argument, 0, O_NOW},
                                         {"transport", required_argument, 0, O_TRANSPORT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct mtr_kafka_opts ko;
    struct mtr_mqtt_opts mo;
    struct mtr_stream_opts so;
    struct mtr_format fmt;
    struct mtr_msg_decoder dec;
    struct mtr_errbuf eb = {{0}};
    struct view view = {.cli = cli};
    char host[256];
    const char *kafka = NULL, *mqtt = NULL, *transport = NULL;
    const char *xprops[MTR_KAFKA_PROPS_MAX];
    int nx = 0;
    static struct mtr_cli_kafka_props kp; /* the properties' text, borrowed by ko */
    int64_t v;
    int c;
    /* the configuration first (file, then METRIFY_* variables; cli.c loaded it), flags after */
    const struct mtr_config *cf = cli->config;
    mtr_kafka_opts_default(&ko);
    ko.group = cf->kafka.group;
    ko.topics[MTR_KIND_READING] = cf->kafka.topic_readings;
    ko.topics[MTR_KIND_GRID] = cf->kafka.topic_grid;
    ko.topics[MTR_KIND_WEATHER] = cf->kafka.topic_weather;
    ko.dead_letter = cf->kafka.topic_dead_letter;
    ko.alerts = cf->kafka.topic_alerts;
    ko.processed = cf->kafka.topic_processed;
    mtr_mqtt_opts_default(&mo);
    mo.port = (int)cf->mqtt.port;
    mo.filter = cf->mqtt.topic;
    mo.client_id = cf->mqtt.client_id;
    mo.qos = (int)cf->mqtt.qos;
    mo.username = cf->mqtt.username;
    mo.password = cf->secrets.mqtt_password;
    mo.tls = cf->mqtt.tls;
    memset(&so, 0, sizeof so);
    mtr_params_default(&so.ingest.params);
    so.publish = 1;
    so.batch_max = (size_t)cf->worker.ingest_batch;
    so.batch_ms = (int)cf->worker.ingest_batch_ms;
    mtr_format_init(&fmt);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case O_KAFKA:
            kafka = optarg;
            break;
        case O_MQTT:
            mqtt = optarg;
            break;
        case O_GROUP:
            ko.group = optarg;
            break;
        case O_T_READ:
            ko.topics[MTR_KIND_READING] = optarg;
            break;
        case O_T_GRID:
            ko.topics[MTR_KIND_GRID] = optarg;
            break;
        case O_T_WEATHER:
            ko.topics[MTR_KIND_WEATHER] = optarg;
            break;
        case O_T_DLQ:
            ko.dead_letter = optarg;
            break;
        case O_T_ALERTS:
            ko.alerts = optarg;
            break;
        case O_T_PROC:
            ko.processed = optarg;
            break;
        case O_NO_PUB:
            so.publish = 0;
            break;
        case 'X':
            if (nx >= MTR_KAFKA_PROPS_MAX || !strchr(optarg, '=')) {
                mtr_err(&eb, MTR_EINVAL, "-X: expected KEY=VALUE (at most %d): '%s'",
                        MTR_KAFKA_PROPS_MAX, optarg);
                goto usage_err;
            }
            xprops[nx++] = optarg;
            break;
        case O_TRANSPORT:
            if (strcmp(optarg, "kafka") != 0 && strcmp(optarg, "mqtt") != 0) {
                mtr_err(&eb, MTR_EINVAL, "--transport: kafka or mqtt, not '%s'", optarg);
                goto usage_err;
            }
            transport = optarg;
            break;
        case O_MQTT_TOPIC:
            mo.filter = optarg;
            break;
        case O_CLIENT_ID:
            mo.client_id = optarg;
            break;
        case O_BATCH:
            v = strtoll(optarg, NULL, 10);
            if (v <= 0 || v > 1000000) {
                mtr_err(&eb, MTR_EINVAL, "--batch: not a number of 1..1000000: '%s'", optarg);
                goto usage_err;
            }
            so.batch_max = (size_t)v;
            break;
        case O_BATCH_MS:
            v = strtoll(optarg, NULL, 10);
            if (v <= 0 || v > 600000) {
                mtr_err(&eb, MTR_EINVAL, "--batch-ms: not a number of 1..600000: '%s'", optarg);
                goto usage_err;
            }
            so.batch_ms = (int)v;
            break;
        case O_MAX:
            so.max_messages = strtoll(optarg, NULL, 10);
            if (so.max_messages <= 0) {
                mtr_err(&eb, MTR_EINVAL, "--max-messages: not a positive number: '%s'", optarg);
                goto usage_err;
            }
            break;
        case O_IDLE:
            if (mtr_cli_parse_duration(optarg, &v) < 0) {
                mtr_err(&eb, MTR_EINVAL, "--idle-exit: not a duration: '%s'", optarg);
                goto usage_err;
            }
            so.idle_exit_ms = (int)(v * 1000);
            break;
        case O_METRICS:
            view.metrics_file = optarg;
            break;
        case O_STRICT:
            so.ingest.params.strict_meters = 1;
            break;
        case O_NOW:
            if (mtr_time_parse(optarg, strlen(optarg), &so.ingest.params.now) < 0) {
                mtr_err(&eb, MTR_EINVAL, "--now: not an ISO-8601 date-time: '%s'", optarg);
                goto usage_err;
            }
            break;
        case 'h':
            ingest_usage(stdout);
            return MTR_EXIT_OK;
        default:
            mtr_err(&eb, MTR_EINVAL, "unknown option '%s'", argv[optind - 1]);
            goto usage_err;
        }
    }
    if (optind < argc) {
        mtr_err(&eb, MTR_EINVAL, "unexpected argument '%s'", argv[optind]);
        goto usage_err;
    }
    /* the transport: a flag naming a broker; else --transport or the one the configuration
     * names, with the configuration's broker */
    if (kafka && mqtt) {
        mtr_err(&eb, MTR_EINVAL, "give one of --kafka BROKERS or --mqtt HOST:PORT, not both");
        goto usage_err;
    }
    if ((kafka && transport && strcmp(transport, "kafka") != 0) ||
        (mqtt && transport && strcmp(transport, "mqtt") != 0)) {
        mtr_err(&eb, MTR_EINVAL, "--transport %s contradicts --%s", transport,
                kafka ? "kafka" : "mqtt");
        goto usage_err;
    }
    if (!kafka && !mqtt) {
        int has_k = cf->kafka.brokers[0] != 0, has_m = cf->mqtt.host[0] != 0;
        if (!transport && has_k && has_m) {
            mtr_err(&eb, MTR_EINVAL,
                    "the configuration names both kafka.brokers and mqtt.host: choose with "
                    "--transport kafka|mqtt");
            goto usage_err;
        }
        if (!transport)
            transport = has_k ? "kafka" : has_m ? "mqtt" : NULL;
        if (!transport) {
            mtr_err(&eb, MTR_EINVAL,
                    "no broker: give --kafka BROKERS or --mqtt HOST:PORT, or set kafka.brokers or "
                    "mqtt.host in the configuration");
            goto usage_err;
        }
        if (strcmp(transport, "kafka") == 0 && !has_k) {
            mtr_err(&eb, MTR_EINVAL, "--transport kafka: kafka.brokers is not set");
            goto usage_err;
        }
        if (strcmp(transport, "mqtt") == 0 && !has_m) {
            mtr_err(&eb, MTR_EINVAL, "--transport mqtt: mqtt.host is not set");
            goto usage_err;
        }
        if (strcmp(transport, "kafka") == 0)
            kafka = cf->kafka.brokers;
        else
            mo.host = cf->mqtt.host;
    }
    if (mqtt && parse_host_port(mqtt, &mo, host, sizeof host) < 0) {
        mtr_err(&eb, MTR_EINVAL, "--mqtt: expected HOST[:PORT], got '%s'", mqtt);
        goto usage_err;
    }
    ko.brokers = kafka;
    /* librdkafka properties: the configuration's, then -X (applied last, so they win) */
    if (mtr_cli_kafka_conf(cf, &kp, ko.props, &ko.nprops, MTR_KAFKA_PROPS_MAX) < 0 ||
        ko.nprops + nx > MTR_KAFKA_PROPS_MAX) {
        mtr_err(&eb, MTR_EINVAL, "too many -X properties (at most %d in all)", MTR_KAFKA_PROPS_MAX);
        goto usage_err;
    }
    for (int i = 0; i < nx; i++)
        ko.props[ko.nprops++] = xprops[i];
    mtr_msg_decoder_init(&dec, &fmt);
    ko.decode = mtr_decode_message; /* Kafka decodes on its fetch thread, a batch ahead */
    ko.decode_ctx = &dec;
    ko.ahead = so.batch_max ? so.batch_max : 5000;

    struct mtr_store *store = NULL;
    struct mtr_msg_source *src = NULL;
    struct mtr_stream_stats st;
    memset(&st, 0, sizeof st);
    int exit_code = mtr_cli_open_store(cli, &store);
    if (exit_code != MTR_EXIT_OK)
        return exit_code;
    int rc = kafka ? mtr_kafka_source_open(&ko, &src, &eb) : mtr_mqtt_source_open(&mo, &src, &eb);
    if (rc < 0) {
        mtr_cli_error("worker ingest: %s", eb.msg);
        store->ops->close(store);
        return rc == MTR_EINVAL ? MTR_EXIT_USAGE : MTR_EXIT_IO;
    }
    view.transport = kafka ? "kafka" : "mqtt";
    if (kafka && !cli->quiet)
        fprintf(stderr, "worker: kafka %s, group %s, topics '%s' '%s' '%s'\n", kafka, ko.group,
                ko.topics[MTR_KIND_READING], ko.topics[MTR_KIND_GRID], ko.topics[MTR_KIND_WEATHER]);
    else if (!cli->quiet)
        fprintf(stderr, "worker: mqtt %s:%d, filter %s, client id %s, qos %d%s\n", mo.host,
                mo.port ? mo.port : 1883, mo.filter, mo.client_id, mo.qos, mo.tls ? ", tls" : "");
    /* test seams (docs/streaming.md): die between the store commit and the acknowledgement;
     * a slow store */
    const char *crash = getenv("METRIFY_WORKER_CRASH_AFTER");
    so.crash_after_batches = crash ? strtoll(crash, NULL, 10) : 0;
    const char *pause = getenv("METRIFY_WORKER_PAUSE_MS");
    so.pause_ms = pause ? (int)strtol(pause, NULL, 10) : 0;
    so.decode = mtr_decode_message;
    so.decode_ctx = &dec;
    so.stop = &stop_flag;
    so.tick = on_tick;
    so.tick_ctx = &view;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    rc = mtr_stream_run(store, src, &so, &st, &eb);
    if (rc < 0) {
        mtr_cli_error("worker ingest: %s", eb.msg);
        exit_code = mtr_cli_exit_code(rc);
    }
    print_summary(cli, view.transport, &st);
    src->ops->close(src);
    store->ops->close(store);
    return exit_code;
usage_err:
    mtr_cli_error("worker ingest: %s", eb.msg);
    ingest_usage(stderr);
    return MTR_EXIT_USAGE;
}

/* Subcommands of `metrify worker`; the jobs (process, monitor) live in cmd_worker_jobs.c. */
static const struct {
    const char *name;
    mtr_cli_fn fn;
    const char *summary;
} subcommands[] = {
    {"ingest", worker_ingest, "consume Kafka topics or MQTT messages into the store"},
    {"process", mtr_cmd_worker_process,
     "run the scheduled jobs (rollups, reports, retention, ...)"},
    {"monitor", mtr_cmd_worker_monitor, "check store health and raise the monitor.* alerts"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: metrify worker SUBCOMMAND [options]\n\nSubcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\nSIGTERM or SIGINT: finish the current batch or job, commit, exit 0.\n"
               "Run `metrify worker SUBCOMMAND --help` for its options.\n");
}

int mtr_cmd_worker(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].fn(cli, argc - 1, argv + 1);
    mtr_cli_error("worker: unknown subcommand '%s'", argv[1]);
    usage(stderr);
    return MTR_EXIT_USAGE;
}
