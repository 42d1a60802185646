/*
 * config.c - the configuration key table (type, place in struct mtr_config, bounds, secrecy),
 * defaults, value parsing, environment overrides and cross-key validation. One table drives
 * parsing, overrides and printing, so a key cannot be parseable but unprintable.
 */
#include "app/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ktype { K_STR, K_INT, K_DBL, K_BOOL, K_DUR, K_ENUM };

struct key {
    const char *path;
    enum ktype type;
    size_t off, size;
    double lo, hi;       /* numeric bounds */
    const char *choices; /* K_ENUM: "a|b|c" */
    int secret;          /* only from the environment */
};

#define OFF(m) offsetof(struct mtr_config, m), sizeof(((struct mtr_config *)0)->m)
static const struct key keys[] = {
    {"store.url", K_STR, OFF(store.url), 0, 0, NULL, 0},
    {"store.password", K_STR, OFF(secrets.store_password), 0, 0, NULL, 1},
    {"api.listen", K_STR, OFF(api.listen), 0, 0, NULL, 0},
    {"api.threads", K_INT, OFF(api.threads), 1, 256, NULL, 0},
    {"api.max_body", K_INT, OFF(api.max_body), 1024, 1073741824.0, NULL, 0},
    {"api.rate_limit", K_DBL, OFF(api.rate_limit), 0, 1e6, NULL, 0},
    {"api.rate_burst", K_INT, OFF(api.rate_burst), 1, 1e6, NULL, 0},
    {"api.cors", K_STR, OFF(api.cors), 0, 0, NULL, 0},
    {"api.public_health", K_BOOL, OFF(api.public_health), 0, 0, NULL, 0},
    {"api.jwt_secret", K_STR, OFF(secrets.jwt_secret), 0, 0, NULL, 1},
    {"kafka.brokers", K_STR, OFF(kafka.brokers), 0, 0, NULL, 0},
    {"kafka.group", K_STR, OFF(kafka.group), 0, 0, NULL, 0},
    {"kafka.client_id", K_STR, OFF(kafka.client_id), 0, 0, NULL, 0},
    {"kafka.topic_readings", K_STR, OFF(kafka.topic_readings), 0, 0, NULL, 0},
    {"kafka.topic_grid", K_STR, OFF(kafka.topic_grid), 0, 0, NULL, 0},
    {"kafka.topic_weather", K_STR, OFF(kafka.topic_weather), 0, 0, NULL, 0},
    {"kafka.topic_alerts", K_STR, OFF(kafka.topic_alerts), 0, 0, NULL, 0},
    {"kafka.topic_dead_letter", K_STR, OFF(kafka.topic_dead_letter), 0, 0, NULL, 0},
    {"kafka.topic_processed", K_STR, OFF(kafka.topic_processed), 0, 0, NULL, 0},
    {"kafka.security_protocol", K_ENUM, OFF(kafka.security_protocol), 0, 0,
     "plaintext|ssl|sasl_plaintext|sasl_ssl", 0},
    {"kafka.sasl_mechanism", K_ENUM, OFF(kafka.sasl_mechanism), 0, 0,
     "plain|scram-sha-256|scram-sha-512", 0},
    {"kafka.sasl_username", K_STR, OFF(kafka.sasl_username), 0, 0, NULL, 0},
    {"kafka.sasl_password", K_STR, OFF(secrets.kafka_sasl_password), 0, 0, NULL, 1},
    {"mqtt.host", K_STR, OFF(mqtt.host), 0, 0, NULL, 0},
    {"mqtt.port", K_INT, OFF(mqtt.port), 1, 65535, NULL, 0},
    {"mqtt.topic", K_STR, OFF(mqtt.topic), 0, 0, NULL, 0},
    {"mqtt.qos", K_INT, OFF(mqtt.qos), 0, 2, NULL, 0},
    {"mqtt.client_id", K_STR, OFF(mqtt.client_id), 0, 0, NULL, 0},
    {"mqtt.username", K_STR, OFF(mqtt.username), 0, 0, NULL, 0},
    {"mqtt.password", K_STR, OFF(secrets.mqtt_password), 0, 0, NULL, 1},
    {"mqtt.tls", K_BOOL, OFF(mqtt.tls), 0, 0, NULL, 0},
    {"worker.state_file", K_STR, OFF(worker.state_file), 0, 0, NULL, 0},
    {"worker.batch", K_INT, OFF(worker.batch), 1, 1e6, NULL, 0},
    {"worker.ingest_batch", K_INT, OFF(worker.ingest_batch), 1, 1e6, NULL, 0},
    {"worker.ingest_batch_ms", K_INT, OFF(worker.ingest_batch_ms), 1, 600000, NULL, 0},
    {"monitor.silent_hours", K_DBL, OFF(monitor.silent_hours), 0.25, 8760, NULL, 0},
    {"monitor.tier_drop", K_INT, OFF(monitor.tier_drop), 1, 3, NULL, 0},
    {"monitor.anomaly_rate", K_DBL, OFF(monitor.anomaly_rate), 0, 1, NULL, 0},
    {"monitor.anomaly_min_intervals", K_INT, OFF(monitor.anomaly_min_intervals), 1, 1e6, NULL, 0},
    {"monitor.stale_weather_hours", K_DBL, OFF(monitor.stale_weather_hours), 0.25, 8760, NULL, 0},
    {"monitor.interval", K_DUR, OFF(monitor.interval), 1, 86400, NULL, 0},
    {"lake.dir", K_STR, OFF(lake.dir), 0, 0, NULL, 0},
    {"lake.s3_url", K_STR, OFF(lake.s3_url), 0, 0, NULL, 0},
    {"lake.region", K_STR, OFF(lake.region), 0, 0, NULL, 0},
    {"lake.endpoint", K_STR, OFF(lake.endpoint), 0, 0, NULL, 0},
    {"lake.access_key", K_STR, OFF(secrets.s3_access_key), 0, 0, NULL, 1},
    {"lake.secret_key", K_STR, OFF(secrets.s3_secret_key), 0, 0, NULL, 1},
    {"logging.level", K_ENUM, OFF(logging.level), 0, 0, "debug|info|warning|error", 0},
    {"logging.format", K_ENUM, OFF(logging.format), 0, 0, "json|text", 0},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const job_type_names[MTR_JOB_TYPE_COUNT] = {"rollup_catchup", "quality_report",
                                                               "retention", "command"};

const char *mtr_job_type_name(enum mtr_job_type t)
{
    return (unsigned)t < MTR_JOB_TYPE_COUNT ? job_type_names[t] : "?";
}

int mtr_job_type_parse(const char *s)
{
    for (int i = 0; i < MTR_JOB_TYPE_COUNT; i++)
        if (strcasecmp(s, job_type_names[i]) == 0)
            return i;
    return -1;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

static void add_job(struct mtr_config *c, const char *name, enum mtr_job_type t,
                    const char *schedule)
{
    struct mtr_config_job *j = &c->worker.jobs[c->worker.n_jobs++];
    memset(j, 0, sizeof *j);
    copy(j->name, sizeof j->name, name);
    j->type = t;
    copy(j->schedule, sizeof j->schedule, schedule);
    mtr_cron_parse(schedule, &j->cron, NULL, 0);
    j->days = 2;
    copy(j->dir, sizeof j->dir, "reports");
}

void mtr_config_defaults(struct mtr_config *c)
{
    memset(c, 0, sizeof *c);
    copy(c->store.url, sizeof c->store.url, "metrify.db");
    copy(c->api.listen, sizeof c->api.listen, "127.0.0.1:8080");
    c->api.threads = 4;
    c->api.max_body = 16 << 20;
    c->api.rate_limit = 0;
    c->api.rate_burst = 20;
    c->api.public_health = 1;
    /* the topic names of docs/streaming.md (one vocabulary: metrify.*), the worker's group */
    copy(c->kafka.group, sizeof c->kafka.group, "metrify-ingest");
    copy(c->kafka.client_id, sizeof c->kafka.client_id, "metrify");
    copy(c->kafka.topic_readings, sizeof c->kafka.topic_readings, "metrify.readings");
    copy(c->kafka.topic_grid, sizeof c->kafka.topic_grid, "metrify.grid-status");
    copy(c->kafka.topic_weather, sizeof c->kafka.topic_weather, "metrify.weather");
    copy(c->kafka.topic_alerts, sizeof c->kafka.topic_alerts, "metrify.alerts");
    copy(c->kafka.topic_dead_letter, sizeof c->kafka.topic_dead_letter, "metrify.dead-letter");
    copy(c->kafka.topic_processed, sizeof c->kafka.topic_processed, "metrify.readings.processed");
    copy(c->kafka.security_protocol, sizeof c->kafka.security_protocol, "plaintext");
    copy(c->kafka.sasl_mechanism, sizeof c->kafka.sasl_mechanism, "plain");
    c->mqtt.port = 1883;
    c->mqtt.qos = 1;
    copy(c->mqtt.topic, sizeof c->mqtt.topic, "metrify/+/readings"); /* '+': the meter id */
    copy(c->mqtt.client_id, sizeof c->mqtt.client_id, "metrify-ingest");
    copy(c->worker.state_file, sizeof c->worker.state_file, "metrify-worker.state");
    c->worker.batch = 200;
    c->worker.ingest_batch = 5000;
    c->worker.ingest_batch_ms = 500;
    add_job(c, "rollup_catchup", MTR_JOB_ROLLUP_CATCHUP, "15 * * * *");
    add_job(c, "quality_report", MTR_JOB_QUALITY_REPORT, "30 0 * * *");
    c->monitor.silent_hours = 6;
    c->monitor.tier_drop = 2;
    c->monitor.anomaly_rate = 0.1;
    c->monitor.anomaly_min_intervals = 24;
    c->monitor.stale_weather_hours = 3;
    c->monitor.interval = 300;
    copy(c->logging.level, sizeof c->logging.level, "info");
    copy(c->logging.format, sizeof c->logging.format, "json");
}

int mtr_config_is_secret_name(const char *key)
{
    static const char *const words[] = {"password",   "passwd",      "secret",  "token",
                                        "access_key", "private_key", "api_key", "credential"};
    char low[128];
    size_t n = 0;
    for (; key[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)key[n]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i]))
            return 1;
    return 0;
}

static void env_name(const char *path, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "METRIFY_");
    for (; *path && n + 1 < cap; path++)
        out[n++] = *path == '.' ? '_' : (char)toupper((unsigned char)*path);
    out[n] = 0;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

static int parse_dbl(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* "90", "90s", "15m", "6h", "365d" -> seconds */
static int parse_dur(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    int64_t mul = 1;
    if (*end) {
        if (end[1])
            return -1;
        switch (*end) {
        case 's':
            break;
        case 'm':
            mul = 60;
            break;
        case 'h':
            mul = 3600;
            break;
        case 'd':
            mul = 86400;
            break;
        default:
            return -1;
        }
    }
    if (v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"}, *const f[] = {"false", "no", "off",
                                                                             "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, f[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

static int check_range(double v, double lo, double hi, const char *text, char *msg, size_t cap)
{
    if (v < lo || v > hi) {
        snprintf(msg, cap, "%s is outside %g..%g", text, lo, hi);
        return MTR_EINVAL;
    }
    return 0;
}

static int set_str(char *dst, size_t size, const char *value, char *msg, size_t cap)
{
    if (strlen(value) >= size) {
        snprintf(msg, cap, "longer than %zu characters", size - 1);
        return MTR_EINVAL;
    }
    copy(dst, size, value);
    return 0;
}

/* A URL with user:password@ must not be in a file: the password belongs in the environment. */
static int url_has_password(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (!at || (slash && slash < at))
        return 0;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    return colon != NULL;
}

static int set_key(struct mtr_config *c, const struct key *k, const char *value, int from_env,
                   char *msg, size_t cap)
{
    char *base = (char *)c + k->off;
    if (k->secret && !from_env) {
        char env[96];
        env_name(k->path, env, sizeof env);
        snprintf(msg, cap, "is a secret: set it in the environment variable %s, never in a file",
                 env);
        return MTR_EINVAL;
    }
    switch (k->type) {
    case K_STR:
        if (!k->secret && url_has_password(value)) {
            snprintf(msg, cap,
                     "contains a password: give the URL without it and set the password "
                     "in the environment (see docs/configuration.md)");
            return MTR_EINVAL;
        }
        return set_str(base, k->size, value, msg, cap);
    case K_ENUM: {
        size_t n = strlen(value);
        for (const char *p = k->choices; *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == n && strncasecmp(p, value, n) == 0) {
                for (size_t i = 0; i < n; i++)
                    base[i] = (char)tolower((unsigned char)p[i]);
                base[n] = 0;
                return 0;
            }
            p += len + (bar != NULL);
        }
        snprintf(msg, cap, "\"%s\" is not one of %s", value, k->choices);
        return MTR_EINVAL;
    }
    case K_INT: {
        int64_t v;
        if (parse_int(value, &v)) {
            snprintf(msg, cap, "expected an integer, got \"%s\"", value);
            return MTR_EINVAL;
        }
        if (check_range((double)v, k->lo, k->hi, value, msg, cap))
            return MTR_EINVAL;
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case K_DBL: {
        double v;
        if (parse_dbl(value, &v)) {
            snprintf(msg, cap, "expected a number, got \"%s\"", value);
            return MTR_EINVAL;
        }
        if (check_range(v, k->lo, k->hi, value, msg, cap))
            return MTR_EINVAL;
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case K_DUR: {
        int64_t v;
        if (parse_dur(value, &v)) {
            snprintf(msg, cap, "expected a duration such as 90s, 15m, 6h or 2d, got \"%s\"", value);
            return MTR_EINVAL;
        }
        if (check_range((double)v, k->lo, k->hi, value, msg, cap))
            return MTR_EINVAL;
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case K_BOOL: {
        int v;
        if (parse_bool(value, &v)) {
            snprintf(msg, cap, "expected true or false, got \"%s\"", value);
            return MTR_EINVAL;
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    }
    return MTR_EINVAL;
}

int mtr_config_has_key(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, path) == 0)
            return 1;
    return 0;
}

int mtr_config_set(struct mtr_config *c, const char *path, const char *value, int from_env,
                   char *msg, size_t cap)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, path) == 0)
            return set_key(c, &keys[i], value, from_env, msg, cap);
    const char *last = strrchr(path, '.');
    if (mtr_config_is_secret_name(last ? last + 1 : path)) {
        snprintf(msg, cap,
                 "looks like a secret: secrets are only read from the environment "
                 "(see docs/configuration.md)");
        return MTR_EINVAL;
    }
    snprintf(msg, cap, "unknown key");
    return MTR_ENOTFOUND;
}

int mtr_config_job_set(struct mtr_config *c, int j, const char *key, const char *value, char *msg,
                       size_t cap)
{
    struct mtr_config_job *job = &c->worker.jobs[j];
    if (strcmp(key, "name") == 0) {
        if (!*value) {
            snprintf(msg, cap, "must not be empty");
            return MTR_EINVAL;
        }
        for (const char *p = value; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
                snprintf(msg, cap, "\"%s\": use letters, digits, '_' and '-' only", value);
                return MTR_EINVAL;
            }
        return set_str(job->name, sizeof job->name, value, msg, cap);
    }
    if (strcmp(key, "type") == 0) {
        int t = mtr_job_type_parse(value);
        if (t < 0) {
            snprintf(msg, cap,
                     "\"%s\" is not one of rollup_catchup|quality_report|retention|command", value);
            return MTR_EINVAL;
        }
        job->type = (enum mtr_job_type)t;
        return 0;
    }
    if (strcmp(key, "schedule") == 0) {
        char why[160];
        if (mtr_cron_parse(value, &job->cron, why, sizeof why)) {
            snprintf(msg, cap, "bad cron expression \"%s\": %s", value, why);
            return MTR_EINVAL;
        }
        return set_str(job->schedule, sizeof job->schedule, value, msg, cap);
    }
    if (strcmp(key, "older_than") == 0) {
        if (parse_dur(value, &job->older_than) || job->older_than < 86400) {
            snprintf(msg, cap, "expected a duration of at least 1d (e.g. 365d), got \"%s\"", value);
            return MTR_EINVAL;
        }
        return 0;
    }
    if (strcmp(key, "days") == 0) {
        if (parse_int(value, &job->days) || job->days < 1 || job->days > 366) {
            snprintf(msg, cap, "expected an integer in 1..366, got \"%s\"", value);
            return MTR_EINVAL;
        }
        return 0;
    }
    if (strcmp(key, "dir") == 0)
        return set_str(job->dir, sizeof job->dir, value, msg, cap);
    if (strcmp(key, "command") == 0) {
        if (url_has_password(value)) {
            snprintf(msg, cap, "contains a password: pass secrets through the environment");
            return MTR_EINVAL;
        }
        return set_str(job->command, sizeof job->command, value, msg, cap);
    }
    if (mtr_config_is_secret_name(key)) {
        snprintf(msg, cap, "looks like a secret: secrets are only read from the environment");
        return MTR_EINVAL;
    }
    snprintf(msg, cap, "unknown key (name, type, schedule, older_than, days, dir, command)");
    return MTR_ENOTFOUND;
}

int mtr_config_apply_env(struct mtr_config *c, const char *(*get)(void *ctx, const char *name),
                         void *ctx, struct mtr_errbuf *eb)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char env[96], msg[400];
        env_name(keys[i].path, env, sizeof env);
        const char *v = get(ctx, env);
        if (!v)
            continue;
        if (set_key(c, &keys[i], v, 1, msg, sizeof msg))
            return mtr_err(eb, MTR_EINVAL, "environment %s: %s: %s", env, keys[i].path, msg);
    }
    return 0;
}

static int bad_job(const struct mtr_config *c, const struct mtr_config_job *j, int idx,
                   struct mtr_errbuf *eb, const char *what)
{
    if (c->file[0] && j->line)
        return mtr_err(eb, MTR_EINVAL, "%s:%d: worker.jobs[%d]: %s", c->file, j->line, idx, what);
    return mtr_err(eb, MTR_EINVAL, "%s: worker.jobs[%d]: %s", c->file[0] ? c->file : "config", idx,
                   what);
}

int mtr_config_validate(const struct mtr_config *c, struct mtr_errbuf *eb)
{
    const char *f = c->file[0] ? c->file : "config";
    const char *colon = strrchr(c->api.listen, ':');
    int64_t port;
    if (!colon || colon == c->api.listen || parse_int(colon + 1, &port) || port < 1 || port > 65535)
        return mtr_err(eb, MTR_EINVAL, "%s: api.listen: expected HOST:PORT, got \"%s\"", f,
                       c->api.listen);
    if (!c->store.url[0])
        return mtr_err(eb, MTR_EINVAL, "%s: store.url: must not be empty", f);
    if (c->lake.dir[0] && c->lake.s3_url[0])
        return mtr_err(eb, MTR_EINVAL, "%s: lake: give either lake.dir or lake.s3_url, not both",
                       f);
    if (c->lake.s3_url[0] && strncmp(c->lake.s3_url, "s3://", 5) != 0)
        return mtr_err(eb, MTR_EINVAL, "%s: lake.s3_url: expected s3://BUCKET/PREFIX, got \"%s\"",
                       f, c->lake.s3_url);
    if (strcmp(c->kafka.security_protocol, "sasl_plaintext") == 0 ||
        strcmp(c->kafka.security_protocol, "sasl_ssl") == 0) {
        if (!c->kafka.sasl_username[0])
            return mtr_err(eb, MTR_EINVAL, "%s: kafka.sasl_username: required with %s", f,
                           c->kafka.security_protocol);
    }
    for (int i = 0; i < c->worker.n_jobs; i++) {
        const struct mtr_config_job *j = &c->worker.jobs[i];
        char what[200];
        if (!j->name[0])
            return bad_job(c, j, i, eb, "name: required");
        if (!j->schedule[0])
            return bad_job(c, j, i, eb, "schedule: required (a cron expression)");
        for (int k = 0; k < i; k++)
            if (strcmp(c->worker.jobs[k].name, j->name) == 0) {
                snprintf(what, sizeof what, "name: \"%s\" is used twice", j->name);
                return bad_job(c, j, i, eb, what);
            }
        if (j->type == MTR_JOB_RETENTION && j->older_than <= 0)
            return bad_job(c, j, i, eb, "older_than: required for a retention job");
        if (j->type == MTR_JOB_COMMAND && !j->command[0])
            return bad_job(c, j, i, eb, "command: required for a command job");
        if (j->type == MTR_JOB_QUALITY_REPORT && !j->dir[0])
            return bad_job(c, j, i, eb, "dir: required for a quality_report job");
    }
    return 0;
}

int mtr_config_each(const struct mtr_config *c,
                    int (*cb)(void *ctx, const char *path, const char *value, int is_number,
                              int is_secret),
                    void *ctx)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        const char *base = (const char *)c + k->off;
        char text[600];
        int num = 0;
        switch (k->type) {
        case K_STR:
        case K_ENUM:
            copy(text, sizeof text, k->secret ? (*base ? "(set)" : "") : base);
            break;
        case K_INT:
        case K_DUR: {
            int64_t v;
            memcpy(&v, base, sizeof v);
            snprintf(text, sizeof text, "%lld", (long long)v);
            num = 1;
            break;
        }
        case K_DBL: {
            double v;
            memcpy(&v, base, sizeof v);
            snprintf(text, sizeof text, "%g", v);
            num = 1;
            break;
        }
        case K_BOOL: {
            int v;
            memcpy(&v, base, sizeof v);
            copy(text, sizeof text, v ? "true" : "false");
            num = 1;
            break;
        }
        }
        int rc = cb(ctx, k->path, text, num, k->secret);
        if (rc)
            return rc;
    }
    return 0;
}
