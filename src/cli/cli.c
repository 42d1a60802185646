/*
 * cli.c - the `metrify` dispatcher: global options, the subcommand table, help, and the helpers
 * every command shares (opening the store, exit codes, error printing).
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/config/config_yaml.h"
#include "adapters/store_open.h"
#include "app/config.h"
#include "app/ports.h"
#include "base/err.h"

#define METRIFY_VERSION "0.1.0"

static const struct {
    const char *name;
    mtr_cli_fn fn;
    const char *summary;
} commands[] = {
    {"import", mtr_cmd_import, "load master data: meters, operators, stations (CSV)"},
    {"ingest", mtr_cmd_ingest, "validate, score, detect and store readings, grid status, weather"},
    {"quality", mtr_cmd_quality, "data-quality report per fleet, meter and day"},
    {"anomalies", mtr_cmd_anomalies, "list anomaly alerts"},
    {"analytics", mtr_cmd_analytics, "analytics: daily, weather-impact, grid"},
    {"forecast", mtr_cmd_forecast, "day-ahead consumption forecast and backtest"},
    {"quarantine", mtr_cmd_quarantine, "list rejected records with their reasons"},
    {"maintenance", mtr_cmd_maintenance, "vacuum, retention, check, backup"},
    {"export", mtr_cmd_export, "incremental Parquet data lake export (directory or S3)"},
    {"demo", mtr_cmd_demo, "simulate a fleet, ingest it, print quality/anomaly/daily summaries"},
    {"sql", mtr_cmd_sql, "run one SQL query on the store (readings and rollup_hourly views)"},
    {"rules", mtr_cmd_rules, "list every validation/detection rule with its id and action"},
    {"simulate", mtr_cmd_simulate, "generate a realistic fleet with labelled faults"},
    {"config", mtr_cmd_config, "check or show the effective configuration"},
    {"worker", mtr_cmd_worker,
     "workers: ingest (Kafka/MQTT), process (scheduled jobs), monitor (alerts)"},
    {"transform", mtr_cmd_transform, "build and test the dbt warehouse models (dbt/) in the store"},
    {"serve", mtr_cmd_serve, "run the REST API server (HTTP/1.1 + JSON)"},
    {"apikey", mtr_cmd_apikey, "create, list and revoke API keys for serve"},
};

static void usage(FILE *f)
{
    fprintf(
        f, "usage: metrify [--db PATH] [--config FILE | --env ENV] [--json] [--quiet] COMMAND "
           "[ARGS]\n\n"
           "Smart-meter data platform: ingest, validate (VEE), score, detect anomalies, report.\n\n"
           "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nGlobal options:\n"
            "  --db PATH    the store (default $METRIFY_DB, else the configuration's store.url,\n"
            "               else ./metrify.db)\n"
            "  --config FILE  the configuration file (YAML; see docs/configuration.md)\n"
            "  --env ENV    development|staging|production: config/environments/ENV.yaml\n"
            "               (default $METRIFY_ENV; no file: built-in defaults)\n"
            "  --json       machine-readable output on stdout\n"
            "  --quiet      no progress or summaries on stderr\n"
            "  --version    print the version\n\n"
            "Run `metrify COMMAND --help` for a command's options.\n"
            "Exit codes: 0 ok, 1 problems found (e.g. rejected records), 2 usage, 3 I/O,\n"
            "4 store, 5 internal.\n");
}

void mtr_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("metrify: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int mtr_cli_exit_code(int rc)
{
    switch (rc) {
    case MTR_OK:
        return MTR_EXIT_OK;
    case MTR_EINVAL:
    case MTR_ERANGE:
    case MTR_ECONFLICT:
    case MTR_ENOTFOUND:
    case MTR_EEXIST:
        return MTR_EXIT_USAGE;
    case MTR_EIO:
    case MTR_EPARSE:
        return MTR_EXIT_IO;
    case MTR_ESTORE:
        return MTR_EXIT_STORE;
    default:
        return MTR_EXIT_INTERNAL;
    }
}

int mtr_cli_open_store(struct mtr_cli *cli, struct mtr_store **out)
{
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_store_open(cli->db, out, &eb);
    if (rc < 0) {
        mtr_cli_error("cannot open store %s: %s", cli->db, eb.msg[0] ? eb.msg : mtr_strerror(rc));
        return rc == MTR_EIO ? MTR_EXIT_IO : MTR_EXIT_STORE;
    }
    return MTR_EXIT_OK;
}

int mtr_cli_take_json(struct mtr_cli *cli, int argc, char **argv)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--json") == 0)
            cli->json = 1;
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
}

/* Loads the effective configuration into cli->config and takes the store from it unless --db or
 * METRIFY_DB said otherwise. Returns an exit code. */
static int load_config(struct mtr_cli *cli, const char *db_flag)
{
    struct mtr_errbuf eb = {{0}};
    cli->config = malloc(sizeof *cli->config);
    if (!cli->config)
        return MTR_EXIT_INTERNAL;
    int rc = mtr_config_load(cli->config, cli->config_file, cli->env, &eb);
    if (rc) {
        mtr_cli_error("configuration: %s", eb.msg);
        return rc == MTR_EIO ? MTR_EXIT_IO : MTR_EXIT_USAGE;
    }
    const char *env_db = getenv("METRIFY_DB");
    cli->db = db_flag ? db_flag : env_db && *env_db ? env_db : cli->config->store.url;
    /* libpq reads its password from PGPASSWORD: the secret never appears in a URL */
    if (cli->config->secrets.store_password[0] && !getenv("PGPASSWORD"))
        setenv("PGPASSWORD", cli->config->secrets.store_password, 0);
    return MTR_EXIT_OK;
}

int mtr_cli_main(int argc, char **argv)
{
    struct mtr_cli cli = {0};
    const char *db_flag = NULL;
    const char *env = getenv("METRIFY_DB");
    cli.db = env && *env ? env : "metrify.db";
    int i = 1, ec;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            cli.db = db_flag = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            cli.db = db_flag = argv[i] + 5;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            cli.config_file = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            cli.config_file = argv[i] + 9;
        } else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
            cli.env = argv[++i];
        } else if (strncmp(argv[i], "--env=", 6) == 0) {
            cli.env = argv[i] + 6;
        } else if (strcmp(argv[i], "--json") == 0) {
            cli.json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            cli.quiet = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return MTR_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("metrify %s\n", METRIFY_VERSION);
            return MTR_EXIT_OK;
        } else {
            mtr_cli_error("unknown global option '%s' (see metrify --help)", argv[i]);
            return MTR_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return MTR_EXIT_USAGE;
    }
    cli.progress = !cli.quiet && isatty(STDERR_FILENO);
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return MTR_EXIT_OK;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            int n = mtr_cli_take_json(&cli, argc - i, argv + i);
            /* `config` reports configuration errors itself */
            if (strcmp(commands[c].name, "config") != 0 &&
                (ec = load_config(&cli, db_flag)) != MTR_EXIT_OK) {
                free(cli.config);
                return ec;
            }
            ec = commands[c].fn(&cli, n, argv + i);
            free(cli.config);
            return ec;
        }
    }
    mtr_cli_error("unknown command '%s' (see metrify --help)", argv[i]);
    return MTR_EXIT_USAGE;
}
