/*
 * config.h - Metrify's typed configuration: every section and key with its default, the rules a
 * value must obey, environment overrides (METRIFY_<SECTION>_<KEY>) and the secrets that may only
 * come from the environment. Pure data and validation; reading YAML files is the job of
 * adapters/config/config_yaml.c, which feeds values in through mtr_config_set.
 * Every key is documented in docs/configuration.md.
 */
#ifndef MTR_CONFIG_H
#define MTR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/cron.h"

#define MTR_CONFIG_JOBS_MAX 16

/* What a scheduled job of `metrify worker process` does. */
enum mtr_job_type {
    MTR_JOB_ROLLUP_CATCHUP = 0, /* rebuild the rollups of the last `days` days of every meter */
    MTR_JOB_QUALITY_REPORT,     /* write yesterday's quality report as JSON into `dir` */
    MTR_JOB_RETENTION,          /* delete time series older than `older_than` */
    MTR_JOB_COMMAND,            /* run `command` with /bin/sh (lake export, anything else) */
    MTR_JOB_TYPE_COUNT
};
const char *mtr_job_type_name(enum mtr_job_type t); /* "rollup_catchup", ... */
int mtr_job_type_parse(const char *s);              /* -1 when unknown */

struct mtr_config_job {
    char name[64];
    enum mtr_job_type type;
    char schedule[64]; /* cron expression as written */
    struct mtr_cron cron;
    int64_t older_than; /* retention: seconds */
    int64_t days;       /* rollup_catchup: days back, today included */
    char dir[256];      /* quality_report: output directory */
    char command[1024]; /* command: a /bin/sh command line */
    int line;           /* 1-based line in the file it came from; 0 = default */
};

struct mtr_config {
    char file[256]; /* the file it was read from; "" = built-in defaults only */
    char env[32];   /* development|staging|production|"" */
    struct {
        char url[512]; /* a path, sqlite:PATH or postgresql://user@host/db (no password) */
    } store;
    struct {
        char listen[128];
        int64_t threads, max_body, rate_burst;
        double rate_limit; /* requests per second per client; 0 = off */
        char cors[256];    /* allowed origins, comma separated; "" = no CORS headers */
        int public_health; /* /health without authentication */
    } api;
    struct {
        char brokers[512];
        char group[128], client_id[128];
        char topic_readings[128], topic_grid[128], topic_weather[128], topic_alerts[128];
        char topic_dead_letter[128], topic_processed[128];
        char security_protocol[32], sasl_mechanism[32], sasl_username[128];
    } kafka;
    struct {
        char host[256];
        int64_t port, qos;
        char topic[256], client_id[128], username[128];
        int tls;
    } mqtt;
    struct {
        char state_file[256];    /* last run of every job, so a restart neither re-runs nor skips */
        int64_t batch;           /* meters per transaction in rollup catch-up */
        int64_t ingest_batch;    /* worker ingest: messages per batch and store commit */
        int64_t ingest_batch_ms; /* worker ingest: longest wait to fill a batch */
        int n_jobs;
        struct mtr_config_job jobs[MTR_CONFIG_JOBS_MAX];
    } worker;
    struct {
        double silent_hours; /* monitor.meter_silent after this many hours without data */
        int64_t tier_drop;   /* tiers lost against the previous 7 days */
        double anomaly_rate; /* anomalous share of a meter's intervals in a day */
        int64_t anomaly_min_intervals;
        double stale_weather_hours; /* a station without observations this long */
        int64_t interval;           /* seconds between two evaluations */
    } monitor;
    struct {
        char dir[256], s3_url[512], region[64], endpoint[256];
    } lake;
    struct {
        char level[16], format[16];
    } logging;
    /* Only ever from the environment (METRIFY_STORE_PASSWORD, ...); never printed. */
    struct {
        char store_password[256], kafka_sasl_password[256], mqtt_password[256];
        char s3_access_key[256], s3_secret_key[256], jwt_secret[256];
    } secrets;
};

/* Fills c with the built-in defaults (see docs/configuration.md). */
void mtr_config_defaults(struct mtr_config *c);

/*
 * Sets the key `path` ("api.rate_limit") from its text form. from_env says where the value comes
 * from: secrets are accepted only from the environment. Returns 0; MTR_ENOTFOUND for an unknown
 * key; MTR_EINVAL for a bad value, a secret outside the environment or a key that looks like a
 * secret. msg (capacity cap) gets the problem without the key, e.g. "expected a number, got
 * \"fast\"".
 */
int mtr_config_set(struct mtr_config *c, const char *path, const char *value, int from_env,
                   char *msg, size_t cap);

/* As mtr_config_set for one key of job j (0-based, < MTR_CONFIG_JOBS_MAX) of worker.jobs:
 * name, type, schedule, older_than, days, dir, command. */
int mtr_config_job_set(struct mtr_config *c, int j, const char *key, const char *value, char *msg,
                       size_t cap);

/* 1 when path ("api.listen") is a configuration key (worker.jobs excepted). */
int mtr_config_has_key(const char *path);

/* 1 when a key name (the last path element) looks like a secret: password, secret, token, ... */
int mtr_config_is_secret_name(const char *key);

/*
 * Applies METRIFY_<SECTION>_<KEY> overrides for every key (upper case, '.' -> '_'), reading the
 * environment through get (returns NULL when unset; ctx is passed through). On a bad value returns
 * MTR_EINVAL with "environment METRIFY_API_THREADS: api.threads: <problem>" in eb.
 */
int mtr_config_apply_env(struct mtr_config *c, const char *(*get)(void *ctx, const char *name),
                         void *ctx, struct mtr_errbuf *eb);

/* Checks the rules between keys (jobs complete and uniquely named, listen address, lake target).
 * Returns 0 or MTR_EINVAL with "FILE:LINE: key: problem" in eb. */
int mtr_config_validate(const struct mtr_config *c, struct mtr_errbuf *eb);

/*
 * Walks every scalar key in documentation order, with its value as text; secrets are given as
 * "(set)" or "" and flagged. Jobs are not included (read c->worker.jobs). Returns 0 or the first
 * non-zero value of cb.
 */
int mtr_config_each(const struct mtr_config *c,
                    int (*cb)(void *ctx, const char *path, const char *value, int is_number,
                              int is_secret),
                    void *ctx);

#endif
