/*
 * cmd_transform.c - `metrify transform run|test|compile|list`: builds and tests the dbt project
 * in dbt/ (or --project DIR) inside the store's database, reporting the way dbt does (one line
 * per node, a PASS/WARN/ERROR/SKIP summary), or as JSON with --json.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/dbt/project.h"
#include "adapters/store_open.h"
#include "app/ports.h"
#include "app/transform.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: metrify transform run|test|compile|list [--project DIR] [--select SEL]\n"
            "                         [--vars '{name: value}'] [--json]\n\n"
            "Builds the dbt project (default ./dbt) inside the store's database: seeds become\n"
            "tables, models become views or tables in dependency order; `test` runs the\n"
            "schema.yml tests (not_null, unique, accepted_values, relationships,\n"
            "dbt_utils.accepted_range). Models use the Jinja subset ref/source/var/config only\n"
            "(see docs/warehouse/dbt.md); the same project runs unchanged under dbt-postgres.\n\n"
            "  run       materialise the selected seeds and models\n"
            "  test      run the tests of the selected models (all tests without --select)\n"
            "  compile   print the compiled SQL of the selected models\n"
            "  list      print the selected nodes in build order\n\n"
            "  --project DIR   the dbt project directory (default: dbt)\n"
            "  --select SEL    node names, with dbt's graph operators: +name (and its parents),\n"
            "                  name+ (and its children), +name+; several separated by spaces\n"
            "  --vars YAML     override project vars, e.g. '{inactive_after_days: 3}'\n\n"
            "Exit codes: 0 all built / all tests pass, 1 a model failed or a test failed,\n"
            "2 the project does not load or compile, 4 store error.\n");
}

struct out {
    const struct mtr_cli *cli;
    json_t *results;
};

static const char *status_word(enum mtr_transform_status s)
{
    switch (s) {
    case MTR_TS_START:
        return "run";
    case MTR_TS_OK:
        return "success";
    case MTR_TS_PASS:
        return "pass";
    case MTR_TS_WARN:
        return "warn";
    case MTR_TS_FAIL:
        return "fail";
    case MTR_TS_ERROR:
        return "error";
    case MTR_TS_SKIP:
        return "skipped";
    }
    return "?";
}

/* "1 of 12 START sql view model stg_x ......... [RUN]" */
static void line(int index, int total, const char *left, const char *right)
{
    char head[300];
    snprintf(head, sizeof head, "%d of %d %s ", index, total, left);
    size_t len = strlen(head);
    printf("%s", head);
    for (size_t i = len; i < 72; i++)
        putchar('.');
    printf(" [%s]\n", right);
}

static void report(void *ctx, const struct mtr_transform_event *ev)
{
    struct out *o = ctx;
    if (o->cli->json) {
        if (ev->status == MTR_TS_START)
            return;
        json_t *r = json_pack("{s:i,s:s,s:s,s:s,s:f}", "index", ev->index, "name", ev->name,
                              "resource_type",
                              strcmp(ev->what, "test") == 0        ? "test"
                              : strcmp(ev->what, "seed file") == 0 ? "seed"
                                                                   : "model",
                              "status", status_word(ev->status), "execution_time", ev->seconds);
        if (strcmp(ev->what, "test") == 0)
            json_object_set_new(r, "failures", json_integer(ev->failures));
        if (ev->message)
            json_object_set_new(r, "message", json_string(ev->message));
        json_array_append_new(o->results, r);
        return;
    }
    char left[256], right[64];
    int test = strcmp(ev->what, "test") == 0;
    switch (ev->status) {
    case MTR_TS_START:
        snprintf(left, sizeof left, "START %s %s", test ? "test" : ev->what, ev->name);
        line(ev->index, ev->total, left, "RUN");
        break;
    case MTR_TS_OK:
        snprintf(left, sizeof left, "OK created %s %s", ev->what, ev->name);
        snprintf(right, sizeof right, "OK in %.2fs", ev->seconds);
        line(ev->index, ev->total, left, right);
        break;
    case MTR_TS_PASS:
        snprintf(left, sizeof left, "PASS %s", ev->name);
        snprintf(right, sizeof right, "PASS in %.2fs", ev->seconds);
        line(ev->index, ev->total, left, right);
        break;
    case MTR_TS_WARN:
    case MTR_TS_FAIL:
        snprintf(left, sizeof left, "%s %lld %s", ev->status == MTR_TS_WARN ? "WARN" : "FAIL",
                 (long long)ev->failures, ev->name);
        snprintf(right, sizeof right, "%s %lld in %.2fs",
                 ev->status == MTR_TS_WARN ? "WARN" : "FAIL", (long long)ev->failures, ev->seconds);
        line(ev->index, ev->total, left, right);
        break;
    case MTR_TS_ERROR:
        snprintf(left, sizeof left, "ERROR %s %s", test ? "test" : ev->what, ev->name);
        snprintf(right, sizeof right, "ERROR in %.2fs", ev->seconds);
        line(ev->index, ev->total, left, right);
        printf("  %s\n", ev->message ? ev->message : "");
        break;
    case MTR_TS_SKIP:
        snprintf(left, sizeof left, "SKIP relation %s (upstream %s failed)", ev->name,
                 ev->message ? ev->message : "?");
        line(ev->index, ev->total, left, "SKIP");
        break;
    }
    fflush(stdout);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count_nodes(const struct mtr_dbt_project *p, int *models, int *seeds)
{
    *models = *seeds = 0;
    for (int i = 0; i < p->nnodes; i++)
        (p->nodes[i].kind == MTR_DBT_MODEL ? (*models)++ : (*seeds)++);
}

static int do_list(struct mtr_cli *cli, struct mtr_dbt_project *p, const unsigned char *mask,
                   int with_sql)
{
    int *order = malloc(((size_t)p->nnodes + 1) * sizeof *order);
    if (!order)
        return MTR_EXIT_INTERNAL;
    int n = mtr_transform_order(p, order);
    json_t *arr = cli->json ? json_array() : NULL;
    for (int i = 0; i < n; i++) {
        const struct mtr_dbt_node *nd = &p->nodes[order[i]];
        if (!mask[order[i]])
            continue;
        const char *type = nd->kind == MTR_DBT_SEED ? "seed" : "model";
        const char *mat = nd->mat == MTR_DBT_VIEW ? "view" : "table";
        if (arr) {
            json_t *deps = json_array();
            for (int k = 0; k < nd->ndeps; k++)
                json_array_append_new(deps, json_string(p->nodes[nd->deps[k]].name));
            json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "name", nd->name, "unique_id",
                                  nd->fqn, "resource_type", type, "materialized", mat, "path",
                                  nd->path, "depends_on", deps);
            if (with_sql && nd->sql)
                json_object_set_new(o, "compiled_sql", json_string(nd->sql));
            json_array_append_new(arr, o);
        } else if (with_sql) {
            if (nd->kind == MTR_DBT_MODEL)
                printf("-- %s (%s)\n%s\n;\n\n", nd->path, mat, nd->sql);
        } else {
            printf("%s\n", nd->fqn);
        }
    }
    if (!with_sql) {
        for (int i = 0; i < p->ntests; i++) {
            const struct mtr_dbt_test *t = &p->tests[i];
            if (t->node < 0 || !mask[t->node])
                continue;
            if (arr)
                json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "name", t->name,
                                                     "resource_type", "test", "declared_in",
                                                     t->file, "compiled_sql", t->sql));
            else
                printf("%s.%s\n", p->name, t->name);
        }
    }
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    }
    free(order);
    return MTR_EXIT_OK;
}

int mtr_cmd_transform(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    const char *op = argv[1], *dir = "dbt", *sel = NULL, *vars = NULL;
    if (strcmp(op, "run") != 0 && strcmp(op, "test") != 0 && strcmp(op, "compile") != 0 &&
        strcmp(op, "list") != 0 && strcmp(op, "ls") != 0) {
        mtr_cli_error("transform: unknown operation '%s' (run, test, compile, list)", op);
        return MTR_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char **dst =
            strcmp(argv[i], "--project") == 0 || strcmp(argv[i], "--project-dir") == 0 ? &dir
            : strcmp(argv[i], "--select") == 0 || strcmp(argv[i], "-s") == 0           ? &sel
            : strcmp(argv[i], "--vars") == 0                                           ? &vars
                                                                                       : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return MTR_EXIT_OK;
        }
        if (!dst || i + 1 >= argc) {
            mtr_cli_error("transform: unknown option or missing value: '%s'", argv[i]);
            return MTR_EXIT_USAGE;
        }
        *dst = argv[++i];
    }

    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    unsigned char *mask = NULL;
    struct mtr_sql *db = NULL;
    int ec = MTR_EXIT_OK;
    int rc = mtr_dbt_project_load(dir, &p, &eb);
    if (rc == 0 && vars)
        rc = mtr_dbt_project_parse_vars(&p, vars, &eb);
    if (rc == 0)
        rc = mtr_transform_compile(&p, &eb);
    if (rc == 0 && !(mask = malloc((size_t)p.nnodes + 1)))
        rc = mtr_err(&eb, MTR_ENOMEM, "out of memory");
    if (rc == 0)
        rc = mtr_transform_select(&p, sel, mask, &eb);
    if (rc < 0) {
        mtr_cli_error("transform: %s", eb.msg[0] ? eb.msg : mtr_strerror(rc));
        ec = rc == MTR_ENOMEM ? MTR_EXIT_INTERNAL : rc == MTR_EIO ? MTR_EXIT_IO : MTR_EXIT_USAGE;
        goto out;
    }
    if (strcmp(op, "list") == 0 || strcmp(op, "ls") == 0 || strcmp(op, "compile") == 0) {
        ec = do_list(cli, &p, mask, strcmp(op, "compile") == 0);
        goto out;
    }

    const char *loc = cli->db;
    /* open the store once so that its tables exist and are migrated */
    struct mtr_store *store = NULL;
    rc = mtr_store_open(loc, &store, &eb);
    if (rc < 0) {
        mtr_cli_error("cannot open store %s: %s", loc, eb.msg[0] ? eb.msg : mtr_strerror(rc));
        ec = rc == MTR_EIO ? MTR_EXIT_IO : MTR_EXIT_STORE;
        goto out;
    }
    store->ops->close(store);
    memset(&eb, 0, sizeof eb);
    rc = mtr_sql_open(loc, &db, &eb);
    if (rc < 0) {
        mtr_cli_error("transform: %s", eb.msg);
        ec = MTR_EXIT_STORE;
        goto out;
    }

    struct out o = {cli, cli->json ? json_array() : NULL};
    int models, seeds;
    count_nodes(&p, &models, &seeds);
    int is_run = strcmp(op, "run") == 0;
    if (!cli->json) {
        printf("Running with metrify transform (dbt subset) on %s:%s\n", db->ops->dialect, loc);
        printf("Found %d model%s, %d seed%s, %d data test%s, %d source%s\n\n", models,
               models == 1 ? "" : "s", seeds, seeds == 1 ? "" : "s", p.ntests,
               p.ntests == 1 ? "" : "s", p.nsources, p.nsources == 1 ? "" : "s");
    }
    double t0 = now_s();
    struct mtr_transform_totals t;
    rc = is_run ? mtr_transform_run(&p, db, sel ? mask : NULL, report, &o, &t)
                : mtr_transform_test(&p, db, sel ? mask : NULL, report, &o, &t);
    double secs = now_s() - t0;
    if (rc == MTR_ENOMEM) {
        mtr_cli_error("transform: out of memory");
        ec = MTR_EXIT_INTERNAL;
    } else {
        ec = rc < 0 ? MTR_EXIT_PROBLEMS : MTR_EXIT_OK;
    }
    if (cli->json) {
        json_t *j = json_pack("{s:s,s:s,s:o,s:{s:i,s:i,s:i,s:i,s:i},s:f,s:b}", "command", op,
                              "database", db->ops->dialect, "results", o.results, "totals", "pass",
                              t.pass, "warn", t.warn, "error", t.error, "skip", t.skip, "total",
                              t.total, "elapsed", secs, "success", rc == 0);
        json_dumpf(j, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(j);
    } else {
        printf("\nFinished running %d %s in %.2fs.\n", t.total, is_run ? "nodes" : "data tests",
               secs);
        if (rc == 0 && t.warn == 0)
            printf("\nCompleted successfully\n");
        else if (rc == 0)
            printf("\nCompleted with %d warning%s\n", t.warn, t.warn == 1 ? "" : "s");
        else
            printf("\nCompleted with %d error%s and %d warning%s\n", t.error,
                   t.error == 1 ? "" : "s", t.warn, t.warn == 1 ? "" : "s");
        printf("\nDone. PASS=%d WARN=%d ERROR=%d SKIP=%d TOTAL=%d\n", t.pass, t.warn, t.error,
               t.skip, t.total);
    }
out:
    if (db)
        db->ops->close(db);
    free(mask);
    mtr_dbt_project_free(&p);
    return ec;
}
