/*
 * cli.h - the `metrify` command line: a table of subcommands (cli.c), one file per command group
 * (cmd_*.c). Exit codes: 0 ok, 1 the command ran but found problems (rejected records, failed
 * check), 2 usage error, 3 input/output error, 4 store error, 5 internal error.
 */
#ifndef MTR_CLI_H
#define MTR_CLI_H

#include <stdint.h>

#include "core/types.h"

enum {
    MTR_EXIT_OK = 0,
    MTR_EXIT_PROBLEMS = 1,
    MTR_EXIT_USAGE = 2,
    MTR_EXIT_IO = 3,
    MTR_EXIT_STORE = 4,
    MTR_EXIT_INTERNAL = 5
};

int mtr_cli_main(int argc, char **argv);

struct mtr_store;
struct mtr_config;

/* Global options, parsed before the subcommand; borrowed by every command. */
struct mtr_cli {
    const char *db;            /* --db PATH|URL, else $METRIFY_DB, else the config's store.url */
    int json;                  /* --json (also accepted after the subcommand) */
    int quiet;                 /* --quiet: no progress, no human summary on stderr */
    int progress;              /* stderr is a terminal and not quiet */
    const char *config_file;   /* --config FILE */
    const char *env;           /* --env development|staging|production (else $METRIFY_ENV) */
    struct mtr_config *config; /* the effective configuration (validated); owned by cli.c; NULL
                                * only inside `metrify config`, which loads it itself */
};

/* A subcommand: argv[0] is its name; returns an exit code (MTR_EXIT_*). */
typedef int (*mtr_cli_fn)(struct mtr_cli *cli, int argc, char **argv);

/* Opens (and migrates) the store named by cli->db; prints the error and returns an exit code
 * (MTR_EXIT_OK on success). The caller closes *out with (*out)->ops->close(*out). */
int mtr_cli_open_store(struct mtr_cli *cli, struct mtr_store **out);

/* Maps an MTR_E* code to an exit code. */
int mtr_cli_exit_code(int rc);

/* Prints "metrify: " + message to stderr. */
void mtr_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Removes a "--json" anywhere in argv (setting cli->json); returns the new argc. */
int mtr_cli_take_json(struct mtr_cli *cli, int argc, char **argv);

/* Parses a duration: "900", "900s", "15m", "1h", "1d" into seconds. 0 or MTR_EINVAL. */
int mtr_cli_parse_duration(const char *s, int64_t *out);

struct mtr_format;
struct mtr_ingest_opts;
struct mtr_ingest_stats;

/* Runs the ingest use case over files (shared by `ingest` and `demo`); returns an exit code. */
int mtr_cli_run_ingest(struct mtr_cli *cli, enum mtr_kind kind, const struct mtr_format *fmt,
                       struct mtr_ingest_opts *io, int nfiles, char **files);
/* Prints an ingest summary (JSON with --json). */
void mtr_cli_print_ingest(const struct mtr_cli *cli, const struct mtr_ingest_stats *st);

/* The subcommands, one per cmd_*.c file. */
int mtr_cmd_import(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_ingest(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_simulate(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_quality(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_anomalies(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_analytics(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_maintenance(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_demo(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_export(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_quarantine(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_rules(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_sql(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_forecast(struct mtr_cli *cli, int argc, char **argv);

/* `metrify analytics weather-impact|grid` (cmd_analytics.c; argv[0] is the report name). */
int mtr_cli_analytics_weather(struct mtr_cli *cli, int argc, char **argv);
int mtr_cli_analytics_grid(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_config(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_worker(struct mtr_cli *cli, int argc, char **argv);
/* `worker process` and `worker monitor` (cmd_worker_jobs.c); argv[0] is "process"/"monitor". */
int mtr_cmd_worker_process(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_worker_monitor(struct mtr_cli *cli, int argc, char **argv);

/* The text of the librdkafka properties the configuration's kafka section gives (client.id,
 * security.protocol; with SASL sasl.mechanism, sasl.username and sasl.password, the password from
 * METRIFY_KAFKA_SASL_PASSWORD only). */
struct mtr_cli_kafka_props {
    char kv[5][320];
};
/* Fills kp from c and appends pointers into it to props[*n..] (at most max in all; kp must
 * outlive props). Used by `worker ingest` and `worker monitor` (cmd_worker_jobs.c). Returns 0 or
 * MTR_EINVAL when they do not fit. */
int mtr_cli_kafka_conf(const struct mtr_config *c, struct mtr_cli_kafka_props *kp,
                       const char **props, int *n, int max);
int mtr_cmd_transform(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_serve(struct mtr_cli *cli, int argc, char **argv);
int mtr_cmd_apikey(struct mtr_cli *cli, int argc, char **argv);

#endif
