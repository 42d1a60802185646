/*
 * cmd_sql.c - `metrify sql QUERY`: ad-hoc SQL on the store's database, through the same SQL port
 * as `metrify transform`. On SQLite this connection has the row views `readings` and
 * `rollup_hourly` (the blocks behind them are not readable by a plain sqlite3 shell). Output like
 * the sqlite3 shell's default: values separated by '|', NULL as empty; or --header, or --json.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store_open.h"
#include "app/ports.h"
#include "app/sql_port.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: metrify [--db PATH|URL] sql [--header] [--json] QUERY\n\n"
               "Runs one SQL query on the store's database and prints its rows: values\n"
               "separated by '|' (NULL prints empty), a header line with --header, or a JSON\n"
               "array of objects (values as text, null for NULL) with --json. Readings and\n"
               "hourly rollups are the views `readings` and `rollup_hourly`; see ARCHITECTURE.md.\n"
               "Exit codes: 0 ok, 2 usage, 4 store error (the message names the problem).\n");
}

struct out {
    int header, done_header;
    json_t *rows;
};

static int print_row(void *ctx, int n, const char *const *names, const char *const *values)
{
    struct out *o = ctx;
    if (o->rows) {
        json_t *row = json_object();
        for (int i = 0; i < n; i++)
            json_object_set_new(row, names[i], values[i] ? json_string(values[i]) : json_null());
        json_array_append_new(o->rows, row);
        return 0;
    }
    if (o->header && !o->done_header) {
        for (int i = 0; i < n; i++)
            printf("%s%s", i ? "|" : "", names[i]);
        putchar('\n');
        o->done_header = 1;
    }
    for (int i = 0; i < n; i++)
        printf("%s%s", i ? "|" : "", values[i] ? values[i] : "");
    putchar('\n');
    return 0;
}

int mtr_cmd_sql(struct mtr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"header", no_argument, NULL, 'H'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    struct out o = {0};
    int c;
    argc = mtr_cli_take_json(cli, argc, argv);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'H') {
            o.header = 1;
        } else if (c == 'h') {
            usage(stdout);
            return MTR_EXIT_OK;
        } else {
            usage(stderr);
            return MTR_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        mtr_cli_error("sql: expected one QUERY argument");
        usage(stderr);
        return MTR_EXIT_USAGE;
    }
    /* open the store first: it creates and migrates the schema the query expects */
    struct mtr_store *store = NULL;
    int ec = mtr_cli_open_store(cli, &store);
    if (ec != MTR_EXIT_OK)
        return ec;
    store->ops->close(store);
    struct mtr_sql *db = NULL;
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_sql_open(cli->db, &db, &eb);
    if (rc < 0) {
        mtr_cli_error("sql: %s", eb.msg);
        return MTR_EXIT_STORE;
    }
    if (cli->json)
        o.rows = json_array();
    rc = db->ops->query_rows(db, argv[optind], print_row, &o);
    if (rc < 0) {
        mtr_cli_error("sql: %s", db->err.msg);
        ec = MTR_EXIT_STORE;
    } else if (o.rows) {
        json_dumpf(o.rows, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    json_decref(o.rows);
    db->ops->close(db);
    return ec;
}
