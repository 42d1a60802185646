/*
 * cmd_worker_jobs.c - `metrify worker process` and `metrify worker monitor`: wires the scheduler
 * and the monitor (src/app) to the real clock, the worker host (files, commands, state file), the
 * store and the log; handles SIGTERM/SIGINT (finish the current job or batch, exit 0) and writes
 * liveness counters in the Prometheus text format (--metrics-file).
 */
#include <ctype.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/kafka/kafka_alerts.h"
#include "adapters/worker/host.h"
#include "app/config.h"
#include "app/monitor.h"
#include "app/scheduler.h"
#include "base/timeparse.h"
#include "cli/cli.h"
#include "core/params.h"

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a sleep is interrupted and the loop sees the flag */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

struct opts {
    int once;
    int has_now;
    int64_t now;
    const char *metrics_file;
    const char *run_job;
    /* monitor: the Kafka alert sink (flags win over the configuration's kafka section) */
    const char *kafka, *topic_alerts;
    const char *props[MTR_KAFKA_PROPS_MAX];
    int nprops;
};

enum { OPTS_CONTINUE = -1, OPTS_HELP = 100 };

/* Parses the worker options into *o. Returns OPTS_CONTINUE, OPTS_HELP (usage printed, exit 0)
 * or an exit code (usage error, message printed). */
static int parse_opts(const char *worker, int argc, char **argv, struct opts *o, int allow_run,
                      int allow_kafka, void (*usage)(FILE *))
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return OPTS_HELP;
        } else if (strcmp(a, "--once") == 0) {
            o->once = 1;
        } else if (strcmp(a, "--now") == 0 && i + 1 < argc) {
            char msg[160];
            a = argv[++i];
            if (mtr_time_parse_msg(a, strlen(a), &o->now, msg, sizeof msg)) {
                mtr_cli_error("worker %s: --now: %s", worker, msg);
                return MTR_EXIT_USAGE;
            }
            o->has_now = 1;
        } else if (strcmp(a, "--metrics-file") == 0 && i + 1 < argc) {
            o->metrics_file = argv[++i];
        } else if (allow_run && strcmp(a, "--run") == 0 && i + 1 < argc) {
            o->run_job = argv[++i];
        } else if (allow_kafka && strcmp(a, "--kafka") == 0 && i + 1 < argc) {
            o->kafka = argv[++i];
        } else if (allow_kafka && strcmp(a, "--topic-alerts") == 0 && i + 1 < argc) {
            o->topic_alerts = argv[++i];
        } else if (allow_kafka && strcmp(a, "-X") == 0 && i + 1 < argc) {
            a = argv[++i];
            if (o->nprops >= MTR_KAFKA_PROPS_MAX || !strchr(a, '=')) {
                mtr_cli_error("worker %s: -X: expected KEY=VALUE (at most %d): '%s'", worker,
                              MTR_KAFKA_PROPS_MAX, a);
                return MTR_EXIT_USAGE;
            }
            o->props[o->nprops++] = a;
        } else {
            mtr_cli_error("worker %s: unexpected argument '%s'", worker, a);
            usage(stderr);
            return MTR_EXIT_USAGE;
        }
    }
    if (o->has_now && !o->once && !o->run_job) {
        mtr_cli_error("worker %s: --now needs --once (a fixed clock cannot wait)", worker);
        return MTR_EXIT_USAGE;
    }
    return OPTS_CONTINUE;
}

/* ---- logging: one line per event, JSON or text as logging.format says ---- */

static int level_rank(const char *l)
{
    return strcasecmp(l, "debug") == 0     ? 0
           : strcasecmp(l, "info") == 0    ? 1
           : strcasecmp(l, "warning") == 0 ? 2
                                           : 3;
}

/* Takes obj (a JSON object of the event's fields, consumed). */
static void log_event(const struct mtr_cli *cli, int64_t now, const char *level, const char *what,
                      json_t *obj)
{
    const struct mtr_config *c = cli->config;
    if (level_rank(level) < level_rank(c->logging.level)) {
        json_decref(obj);
        return;
    }
    char ts[24];
    mtr_time_format(now, ts);
    if (strcmp(c->logging.format, "json") == 0) {
        json_t *line = json_pack("{s:s,s:s,s:s}", "ts", ts, "level", level, "msg", what);
        json_object_update(line, obj);
        char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
        fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(line);
    } else {
        fprintf(stderr, "%s %s %s", ts, level, what);
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
            fprintf(stderr, " %s=%s", k, text);
            free(text);
        }
        fputc('\n', stderr);
    }
    json_decref(obj);
    fflush(stderr);
}

/* ---- metrics ---- */

static void write_metrics(const char *file, const char *text)
{
    if (!file)
        return;
    if (strcmp(file, "-") == 0) {
        fputs(text, stdout);
        fflush(stdout);
        return;
    }
    struct mtr_worker_host h;
    struct mtr_worker_host_ops ops;
    struct mtr_errbuf eb = {{0}};
    mtr_worker_host_init(&h, NULL, &ops);
    if (ops.write_file(ops.ctx, file, text, strlen(text), &eb))
        mtr_cli_error("metrics: %s", eb.msg);
}

struct buf {
    char *p;
    size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && b->n + (size_t)n < b->cap) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p)
            return;
        b->p = p;
        b->cap = cap;
    }
}

static char *process_metrics(const struct mtr_scheduler *s, int up)
{
    struct buf b = {0};
    const struct mtr_config *c = s->cfg;
    bprintf(&b,
            "# HELP metrify_worker_up 1 while the worker runs, 0 once it has stopped.\n"
            "# TYPE metrify_worker_up gauge\nmetrify_worker_up{worker=\"process\"} %d\n",
            up);
    bprintf(&b,
            "# HELP metrify_worker_passes_total Evaluations of the schedule.\n"
            "# TYPE metrify_worker_passes_total counter\n"
            "metrify_worker_passes_total{worker=\"process\"} %lld\n",
            (long long)s->passes);
    bprintf(&b, "# HELP metrify_worker_jobs_total Job runs by outcome.\n"
                "# TYPE metrify_worker_jobs_total counter\n");
    for (int j = 0; j < c->worker.n_jobs; j++)
        for (int st = 0; st < 3; st++)
            bprintf(&b, "metrify_worker_jobs_total{job=\"%s\",type=\"%s\",status=\"%s\"} %lld\n",
                    c->worker.jobs[j].name, mtr_job_type_name(c->worker.jobs[j].type),
                    mtr_job_status_name(st), (long long)s->stats[j].runs[st]);
    bprintf(&b, "# HELP metrify_worker_last_run_timestamp_seconds Start of the job's last run.\n"
                "# TYPE metrify_worker_last_run_timestamp_seconds gauge\n");
    for (int j = 0; j < c->worker.n_jobs; j++)
        bprintf(&b, "metrify_worker_last_run_timestamp_seconds{job=\"%s\"} %lld\n",
                c->worker.jobs[j].name, (long long)s->stats[j].last_run);
    bprintf(&b, "# HELP metrify_worker_last_duration_seconds Duration of the job's last run.\n"
                "# TYPE metrify_worker_last_duration_seconds gauge\n");
    for (int j = 0; j < c->worker.n_jobs; j++)
        bprintf(&b, "metrify_worker_last_duration_seconds{job=\"%s\"} %g\n", c->worker.jobs[j].name,
                s->stats[j].last_seconds);
    bprintf(&b, "# HELP metrify_worker_last_items What the job's last run handled (meter-days, "
                "meters, rows, exit status).\n"
                "# TYPE metrify_worker_last_items gauge\n");
    for (int j = 0; j < c->worker.n_jobs; j++)
        bprintf(&b, "metrify_worker_last_items{job=\"%s\"} %lld\n", c->worker.jobs[j].name,
                (long long)s->stats[j].last_items);
    return b.p;
}

/* ---- worker process ---- */

static void process_usage(FILE *f)
{
    fprintf(f,
            "usage: metrify worker process [--once] [--now TIME] [--run JOB] [--metrics-file F]\n\n"
            "Runs the jobs of worker.jobs (see `metrify config show`) at their cron times until\n"
            "SIGTERM/SIGINT, which lets the current job finish its batch and exits 0.\n\n"
            "  --once            run what is due now, then exit (1 if a job failed)\n"
            "  --now TIME        pretend the time is TIME (ISO-8601; with --once or --run)\n"
            "  --run JOB         run job JOB now, due or not, then exit\n"
            "  --metrics-file F  write Prometheus counters to F after every job (- = stdout, at\n"
            "                    exit)\n"
            "Each job's last cron slot is kept in worker.state_file, so a restart neither\n"
            "re-runs nor skips a job.\n");
}

struct process_ctx {
    const struct mtr_cli *cli;
    const struct mtr_scheduler *s;
    const char *metrics_file;
    int failed;
};

static void on_job(void *ctx, const struct mtr_job_event *e)
{
    struct process_ctx *p = ctx;
    const char *level = e->status == MTR_JOB_OK       ? "info"
                        : e->status == MTR_JOB_FAILED ? "error"
                                                      : "warning";
    if (e->status == MTR_JOB_FAILED)
        p->failed++;
    log_event(p->cli, e->finished, level, "job finished",
              json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "worker", "process", "job", e->job->name,
                        "type", mtr_job_type_name(e->job->type), "status",
                        mtr_job_status_name(e->status), "seconds",
                        (json_int_t)(e->finished - e->started), "items", (json_int_t)e->items,
                        "detail", e->detail));
    if (p->metrics_file && strcmp(p->metrics_file, "-") != 0) {
        char *text = process_metrics(p->s, 1);
        if (text)
            write_metrics(p->metrics_file, text);
        free(text);
    }
}

int mtr_cmd_worker_process(struct mtr_cli *cli, int argc, char **argv)
{
    struct opts o;
    int ec = parse_opts("process", argc, argv, &o, 1, 0, process_usage);
    if (ec != OPTS_CONTINUE)
        return ec == OPTS_HELP ? MTR_EXIT_OK : ec;
    const struct mtr_config *c = cli->config;
    int job = -1;
    if (o.run_job) {
        for (int j = 0; j < c->worker.n_jobs; j++)
            if (strcmp(c->worker.jobs[j].name, o.run_job) == 0)
                job = j;
        if (job < 0) {
            mtr_cli_error("worker process: no job named '%s' in worker.jobs", o.run_job);
            return MTR_EXIT_USAGE;
        }
    }
    struct mtr_store *st;
    if ((ec = mtr_cli_open_store(cli, &st)) != MTR_EXIT_OK)
        return ec;
    struct mtr_params params;
    mtr_params_default(&params);
    struct mtr_clock_ops clock;
    if (o.has_now)
        mtr_clock_fixed(&clock, &o.now);
    else
        mtr_clock_system(&clock);
    struct mtr_worker_host host;
    struct mtr_worker_host_ops host_ops;
    mtr_worker_host_init(&host, c->worker.state_file, &host_ops);
    static struct mtr_scheduler s; /* large (per-job stats): not on the stack */
    mtr_sched_init(&s, c, st, &params, &clock, &host_ops, &stop_requested);
    struct process_ctx pc = {cli, &s, o.metrics_file, 0};
    s.on_event = on_job;
    s.event_ctx = &pc;
    install_signals();
    struct mtr_errbuf eb = {{0}};
    int64_t t0 = clock.now(clock.ctx);
    log_event(cli, t0, "info", "worker started",
              json_pack("{s:s,s:i,s:s}", "worker", "process", "jobs", c->worker.n_jobs,
                        "state_file", c->worker.state_file));
    int rc;
    if (job >= 0) {
        int64_t now = clock.now(clock.ctx);
        rc = mtr_sched_run_job(&s, job, now, &eb);
        rc = rc < 0 ? rc : 0;
    } else if (o.once) {
        rc = mtr_sched_run_due(&s, NULL, &eb);
    } else {
        rc = mtr_sched_run(&s, &eb);
    }
    if (rc)
        mtr_cli_error("worker process: %s", eb.msg);
    log_event(cli, clock.now(clock.ctx), "info", "worker stopped",
              json_pack("{s:s,s:b}", "worker", "process", "signal", stop_requested));
    char *text = process_metrics(&s, 0);
    if (text)
        write_metrics(o.metrics_file, text);
    free(text);
    st->ops->close(st);
    if (rc)
        return mtr_cli_exit_code(rc);
    if (stop_requested)
        return MTR_EXIT_OK;
    return pc.failed ? MTR_EXIT_PROBLEMS : MTR_EXIT_OK;
}

/* ---- worker monitor ---- */

static void monitor_usage(FILE *f)
{
    fprintf(
        f,
        "usage: metrify worker monitor [--once] [--now TIME] [--metrics-file F]\n"
        "                              [--kafka BROKERS [--topic-alerts T] [-X K=V]...]\n\n"
        "Every monitor.interval: checks the store, then raises monitor.meter_silent,\n"
        "monitor.tier_drop, monitor.anomaly_rate and monitor.weather_stale alerts (see\n"
        "`metrify rules`) into the store, the log and - when Kafka brokers are configured\n"
        "(kafka.brokers or --kafka) - a Kafka topic, until SIGTERM/SIGINT (exit 0).\n\n"
        "  --once            one evaluation, then exit (4 if the store is unhealthy)\n"
        "  --now TIME        pretend the time is TIME (ISO-8601; with --once)\n"
        "  --metrics-file F  write Prometheus counters to F after every pass (- = stdout,\n"
        "                    at exit)\n"
        "  --kafka BROKERS   publish alerts to Kafka (default: kafka.brokers)\n"
        "  --topic-alerts T  the alerts topic (default: kafka.topic_alerts, " MTR_KAFKA_TOPIC_ALERTS
        ");\n"
        "                    key = meter or station id, value = the alert as JSON\n"
        "  -X KEY=VALUE      a librdkafka property for the alert producer (repeatable)\n");
}

struct log_sink_ctx {
    const struct mtr_cli *cli;
    const struct mtr_monitor *m;
};

static int log_publish(void *ctx, const struct mtr_alert *a, struct mtr_errbuf *eb)
{
    struct log_sink_ctx *l = ctx;
    char start[24], end[24];
    mtr_time_format(a->start_ts, start);
    mtr_time_format(a->end_ts, end);
    log_event(l->cli, l->m->clock.now(l->m->clock.ctx),
              a->level >= MTR_LEVEL_CRITICAL ? "error" : "warning", "alert",
              json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:s,s:s,s:i,s:f,s:s}", "worker", "monitor",
                        "rule", mtr_rule(a->type)->name, "source", mtr_kind_name(a->source),
                        "entity_id", a->entity_id, "alert_level", mtr_level_name(a->level), "score",
                        a->score, "start", start, "end", end, "count", (int)a->count, "value",
                        a->value, "detail", a->detail));
    return 0;
}

static char *monitor_metrics(const struct mtr_monitor *m, int up)
{
    struct buf b = {0};
    bprintf(&b,
            "# HELP metrify_worker_up 1 while the worker runs, 0 once it has stopped.\n"
            "# TYPE metrify_worker_up gauge\nmetrify_worker_up{worker=\"monitor\"} %d\n",
            up);
    bprintf(&b,
            "# HELP metrify_worker_passes_total Evaluations by outcome.\n"
            "# TYPE metrify_worker_passes_total counter\n"
            "metrify_worker_passes_total{worker=\"monitor\",status=\"ok\"} %lld\n"
            "metrify_worker_passes_total{worker=\"monitor\",status=\"failed\"} %lld\n",
            (long long)(m->stats.passes - m->stats.failed_passes),
            (long long)m->stats.failed_passes);
    bprintf(&b,
            "# HELP metrify_worker_last_run_timestamp_seconds Start of the last evaluation.\n"
            "# TYPE metrify_worker_last_run_timestamp_seconds gauge\n"
            "metrify_worker_last_run_timestamp_seconds{worker=\"monitor\"} %lld\n",
            (long long)m->stats.last_pass);
    bprintf(&b,
            "# HELP metrify_monitor_store_up 1 when the store answered the last health check.\n"
            "# TYPE metrify_monitor_store_up gauge\nmetrify_monitor_store_up %d\n",
            m->stats.store_up);
    bprintf(&b, "# HELP metrify_monitor_alerts_total Alerts published, by rule.\n"
                "# TYPE metrify_monitor_alerts_total counter\n");
    for (int r = 0; r < MTR_MONITOR_RULES; r++)
        bprintf(&b, "metrify_monitor_alerts_total{rule=\"%s\"} %lld\n",
                mtr_rule(MTR_R_MONITOR_METER_SILENT + r)->name, (long long)m->stats.alerts[r]);
    bprintf(&b, "# HELP metrify_monitor_sink_errors_total Alerts a sink failed to take.\n"
                "# TYPE metrify_monitor_sink_errors_total counter\n");
    for (int i = 0; i < m->nsinks; i++)
        bprintf(&b, "metrify_monitor_sink_errors_total{sink=\"%s\"} %lld\n", m->sinks[i].name,
                (long long)m->stats.sink_errors[i]);
    bprintf(&b,
            "# HELP metrify_monitor_judged Meters and stations judged in the last pass.\n"
            "# TYPE metrify_monitor_judged gauge\n"
            "metrify_monitor_judged{entity=\"meter\"} %lld\n"
            "metrify_monitor_judged{entity=\"station\"} %lld\n",
            (long long)m->stats.meters, (long long)m->stats.stations);
    return b.p;
}

struct monitor_err_ctx {
    const struct mtr_cli *cli;
    struct mtr_monitor *m;
};

static void on_monitor_error(void *ctx, const char *msg)
{
    struct monitor_err_ctx *e = ctx;
    log_event(e->cli, e->m->clock.now(e->m->clock.ctx), "error", "pass failed",
              json_pack("{s:s,s:s}", "worker", "monitor", "error", msg));
}

int mtr_cli_kafka_conf(const struct mtr_config *c, struct mtr_cli_kafka_props *kp,
                       const char **props, int *n, int max)
{
    int k = 0;
    snprintf(kp->kv[k++], sizeof kp->kv[0], "client.id=%s", c->kafka.client_id);
    snprintf(kp->kv[k++], sizeof kp->kv[0], "security.protocol=%s", c->kafka.security_protocol);
    if (strncmp(c->kafka.security_protocol, "sasl", 4) == 0) {
        char mech[32];
        size_t i = 0;
        for (; c->kafka.sasl_mechanism[i] && i + 1 < sizeof mech; i++) /* PLAIN, SCRAM-SHA-256 */
            mech[i] = (char)toupper((unsigned char)c->kafka.sasl_mechanism[i]);
        mech[i] = 0;
        snprintf(kp->kv[k++], sizeof kp->kv[0], "sasl.mechanism=%s", mech);
        snprintf(kp->kv[k++], sizeof kp->kv[0], "sasl.username=%s", c->kafka.sasl_username);
        snprintf(kp->kv[k++], sizeof kp->kv[0], "sasl.password=%s", c->secrets.kafka_sasl_password);
    }
    if (*n + k > max)
        return MTR_EINVAL;
    for (int i = 0; i < k; i++)
        props[(*n)++] = kp->kv[i];
    return 0;
}

/* The alert producer: brokers and topic from the flags, else the configuration's kafka section;
 * its properties from the configuration, then the user's -X list (which wins, being applied
 * last). */
static int kafka_alert_opts(const struct mtr_config *c, const struct opts *o,
                            struct mtr_kafka_alerts_opts *ko, struct mtr_cli_kafka_props *kp)
{
    memset(ko, 0, sizeof *ko);
    ko->brokers = o->kafka ? o->kafka : c->kafka.brokers;
    ko->topic = o->topic_alerts ? o->topic_alerts : c->kafka.topic_alerts;
    if (mtr_cli_kafka_conf(c, kp, ko->props, &ko->nprops, MTR_KAFKA_PROPS_MAX) < 0 ||
        ko->nprops + o->nprops > MTR_KAFKA_PROPS_MAX)
        return MTR_EINVAL;
    for (int i = 0; i < o->nprops; i++)
        ko->props[ko->nprops++] = o->props[i];
    return 0;
}

int mtr_cmd_worker_monitor(struct mtr_cli *cli, int argc, char **argv)
{
    struct opts o;
    int ec = parse_opts("monitor", argc, argv, &o, 0, 1, monitor_usage);
    if (ec != OPTS_CONTINUE)
        return ec == OPTS_HELP ? MTR_EXIT_OK : ec;
    const struct mtr_config *c = cli->config;
    struct mtr_store *st;
    if ((ec = mtr_cli_open_store(cli, &st)) != MTR_EXIT_OK)
        return ec;
    struct mtr_clock_ops clock;
    if (o.has_now)
        mtr_clock_fixed(&clock, &o.now);
    else
        mtr_clock_system(&clock);
    static struct mtr_monitor m;
    mtr_monitor_init(&m, c, st, &clock, &stop_requested);
    struct mtr_alert_sink store_sink;
    mtr_alert_sink_store(&store_sink, st);
    struct log_sink_ctx lc = {cli, &m};
    struct mtr_alert_sink log_sink = {.name = "log", .publish = log_publish, .ctx = &lc};
    mtr_monitor_add_sink(&m, &store_sink);
    mtr_monitor_add_sink(&m, &log_sink);
    struct mtr_kafka_alerts *ka = NULL;
    struct mtr_kafka_alerts_opts ko;
    static struct mtr_cli_kafka_props kp; /* the properties' text, borrowed by ko */
    struct mtr_alert_sink kafka_sink;
    if (kafka_alert_opts(c, &o, &ko, &kp) < 0) {
        mtr_cli_error("worker monitor: too many -X properties");
        st->ops->close(st);
        return MTR_EXIT_USAGE;
    }
    if (ko.brokers && *ko.brokers) {
        struct mtr_errbuf keb = {{0}};
        int krc = mtr_kafka_alerts_open(&ko, &ka, &keb);
        if (krc < 0) {
            mtr_cli_error("worker monitor: %s", keb.msg);
            st->ops->close(st);
            return krc == MTR_EINVAL ? MTR_EXIT_USAGE : MTR_EXIT_IO;
        }
        mtr_kafka_alerts_sink(&kafka_sink, ka);
        mtr_monitor_add_sink(&m, &kafka_sink);
    }
    install_signals();
    log_event(cli, clock.now(clock.ctx), "info", "worker started",
              json_pack("{s:s,s:I,s:s?}", "worker", "monitor", "interval_s",
                        (json_int_t)c->monitor.interval, "kafka_topic",
                        ka ? (ko.topic && *ko.topic ? ko.topic : MTR_KAFKA_TOPIC_ALERTS) : NULL));
    int rc = 0;
    struct mtr_errbuf eb = {{0}};
    if (o.once) {
        rc = mtr_monitor_pass(&m, &eb);
        if (rc)
            mtr_cli_error("worker monitor: %s", eb.msg);
    } else {
        struct monitor_err_ctx ectx = {cli, &m};
        /* metrics after each pass: run the loop pass by pass */
        while (!stop_requested) {
            int64_t start = clock.now(clock.ctx);
            struct mtr_errbuf peb = {{0}};
            if (mtr_monitor_pass(&m, &peb))
                on_monitor_error(&ectx, peb.msg);
            if (o.metrics_file && strcmp(o.metrics_file, "-") != 0) {
                char *text = monitor_metrics(&m, 1);
                if (text)
                    write_metrics(o.metrics_file, text);
                free(text);
            }
            if (clock.sleep_until(clock.ctx, start + c->monitor.interval, &stop_requested))
                break;
        }
    }
    log_event(cli, clock.now(clock.ctx), "info", "worker stopped",
              json_pack("{s:s,s:I,s:b}", "worker", "monitor", "passes", (json_int_t)m.stats.passes,
                        "signal", stop_requested));
    char *text = monitor_metrics(&m, 0);
    if (text)
        write_metrics(o.metrics_file, text);
    free(text);
    mtr_kafka_alerts_close(ka);
    st->ops->close(st);
    return rc ? mtr_cli_exit_code(rc) == MTR_EXIT_USAGE ? MTR_EXIT_STORE : mtr_cli_exit_code(rc)
              : MTR_EXIT_OK;
}
