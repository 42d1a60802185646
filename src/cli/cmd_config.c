/*
 * cmd_config.c - `metrify config check|show`: loads the configuration the way every command does
 * (defaults, file from --config/--env/METRIFY_ENV, METRIFY_* overrides, validation) and prints the
 * effective values with secrets redacted, as YAML-like text or JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/config/config_yaml.h"
#include "app/config.h"
#include "base/timeparse.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: metrify config check [--config FILE | --env ENV] [--json]\n"
            "       metrify config show  [--config FILE | --env ENV] [--json]\n\n"
            "check  validates the configuration; prints the effective values (secrets shown as\n"
            "       \"(set)\") and exits 0, or prints FILE:LINE:COLUMN: KEY: PROBLEM and exits 2\n"
            "show   prints the effective configuration\n\n"
            "The file is --config FILE, else config/environments/ENV.yaml for --env ENV or\n"
            "$METRIFY_ENV, else none (built-in defaults); METRIFY_<SECTION>_<KEY> variables\n"
            "override it. See docs/configuration.md.\n");
}

struct printer {
    json_t *root; /* --json: {section: {key: value}} */
    char section[32];
};

static int print_key(void *ctx, const char *path, const char *value, int is_number, int secret)
{
    struct printer *p = ctx;
    const char *dot = strchr(path, '.');
    char section[32];
    snprintf(section, sizeof section, "%.*s", (int)(dot - path), path);
    if (p->root) {
        json_t *sec = json_object_get(p->root, section);
        if (!sec) {
            sec = json_object();
            json_object_set_new(p->root, section, sec);
        }
        json_t *v;
        if (secret)
            v = value[0] ? json_string(value) : json_null();
        else if (!is_number)
            v = json_string(value);
        else if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
            v = json_boolean(value[0] == 't');
        else
            v = json_loads(value, JSON_DECODE_ANY, NULL);
        json_object_set_new(sec, dot + 1, v ? v : json_string(value));
        return 0;
    }
    if (strcmp(section, p->section) != 0) {
        printf("%s:\n", section);
        snprintf(p->section, sizeof p->section, "%s", section);
    }
    if (secret)
        printf("  %s: %s\n", dot + 1, value[0] ? value : "(not set)");
    else if (is_number)
        printf("  %s: %s\n", dot + 1, value);
    else
        printf("  %s: \"%s\"\n", dot + 1, value);
    return 0;
}

static void print_jobs(const struct mtr_config *c, json_t *root)
{
    json_t *jobs = root ? json_array() : NULL;
    if (!root)
        printf("worker.jobs:\n");
    for (int i = 0; i < c->worker.n_jobs; i++) {
        const struct mtr_config_job *j = &c->worker.jobs[i];
        const char *type = mtr_job_type_name(j->type);
        if (jobs) {
            json_t *o =
                json_pack("{s:s,s:s,s:s}", "name", j->name, "type", type, "schedule", j->schedule);
            if (j->type == MTR_JOB_ROLLUP_CATCHUP)
                json_object_set_new(o, "days", json_integer(j->days));
            if (j->type == MTR_JOB_QUALITY_REPORT)
                json_object_set_new(o, "dir", json_string(j->dir));
            if (j->type == MTR_JOB_RETENTION)
                json_object_set_new(o, "older_than_s", json_integer(j->older_than));
            if (j->type == MTR_JOB_COMMAND)
                json_object_set_new(o, "command", json_string(j->command));
            json_array_append_new(jobs, o);
            continue;
        }
        printf("  - name: %s\n    type: %s\n    schedule: \"%s\"\n", j->name, type, j->schedule);
        if (j->type == MTR_JOB_ROLLUP_CATCHUP)
            printf("    days: %lld\n", (long long)j->days);
        if (j->type == MTR_JOB_QUALITY_REPORT)
            printf("    dir: \"%s\"\n", j->dir);
        if (j->type == MTR_JOB_RETENTION)
            printf("    older_than: %lldd\n", (long long)(j->older_than / 86400));
        if (j->type == MTR_JOB_COMMAND)
            printf("    command: \"%s\"\n", j->command);
    }
    if (jobs)
        json_object_set_new(json_object_get(root, "worker"), "jobs", jobs);
}

int mtr_cmd_config(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    const char *op = argv[1];
    if (strcmp(op, "check") != 0 && strcmp(op, "show") != 0) {
        mtr_cli_error("config: unknown operation '%s' (check, show)", op);
        return MTR_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            cli->config_file = argv[++i];
        else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc)
            cli->env = argv[++i];
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return MTR_EXIT_OK;
        } else {
            mtr_cli_error("config %s: unexpected argument '%s'", op, argv[i]);
            return MTR_EXIT_USAGE;
        }
    }
    struct mtr_config *c = malloc(sizeof *c);
    struct mtr_errbuf eb = {{0}};
    if (!c)
        return MTR_EXIT_INTERNAL;
    int rc = mtr_config_load(c, cli->config_file, cli->env, &eb);
    if (rc) {
        if (cli->json) {
            json_t *doc = json_pack("{s:b,s:s}", "ok", 0, "error", eb.msg);
            json_dumpf(doc, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(doc);
        }
        mtr_cli_error("config %s: %s", op, eb.msg);
        free(c);
        return rc == MTR_EIO ? MTR_EXIT_IO : MTR_EXIT_USAGE;
    }
    struct printer p = {0};
    if (cli->json) {
        json_t *cfg = json_object();
        p.root = cfg;
        mtr_config_each(c, print_key, &p);
        print_jobs(c, cfg);
        json_t *doc = json_pack("{s:b,s:s?,s:s?,s:o}", "ok", 1, "file", c->file[0] ? c->file : NULL,
                                "env", c->env[0] ? c->env : NULL, "config", cfg);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        putchar('\n');
        json_decref(doc);
    } else {
        printf("# %s%s%s%s\n", c->file[0] ? c->file : "built-in defaults",
               c->env[0] ? " (environment " : "", c->env, c->env[0] ? ")" : "");
        mtr_config_each(c, print_key, &p);
        print_jobs(c, NULL);
        if (strcmp(op, "check") == 0 && !cli->quiet)
            fprintf(stderr, "metrify: configuration ok: %s\n",
                    c->file[0] ? c->file : "built-in defaults");
    }
    free(c);
    return MTR_EXIT_OK;
}
