/*
 * config_yaml.c - the YAML reader behind mtr_config_load: loads the document with libyaml, walks
 * `section: {key: scalar}` and the `worker.jobs` list, and hands each scalar to mtr_config_set
 * with its position, so errors point at the exact place in the file.
 */
#include "adapters/config/config_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct walk {
    struct mtr_config *c;
    yaml_document_t *doc;
    const char *path;
    struct mtr_errbuf *eb;
};

static int at(struct walk *w, const yaml_node_t *n, const char *key, const char *problem)
{
    return mtr_err(w->eb, MTR_EINVAL, "%s:%zu:%zu: %s: %s", w->path, n->start_mark.line + 1,
                   n->start_mark.column + 1, key, problem);
}

static const char *scalar(const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;
    /* a plain null is an empty value */
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0))
        return "";
    return v;
}

static const char *type_name(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a scalar";
}

/* Rejects a key that appears twice in one mapping (libyaml keeps both silently). */
static int duplicate(struct walk *w, const yaml_node_t *map, const yaml_node_pair_t *upto,
                     const char *name)
{
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
        const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, name) == 0)
            return 1;
    }
    return 0;
}

static int walk_jobs(struct walk *w, const yaml_node_t *seq)
{
    char key[160], msg[400];
    if (seq->type != YAML_SEQUENCE_NODE)
        return at(w, seq, "worker.jobs", "expected a list of jobs");
    int n = (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > MTR_CONFIG_JOBS_MAX) {
        snprintf(msg, sizeof msg, "at most %d jobs, got %d", MTR_CONFIG_JOBS_MAX, n);
        return at(w, seq, "worker.jobs", msg);
    }
    w->c->worker.n_jobs = 0;
    for (int i = 0; i < n; i++) {
        const yaml_node_t *job = yaml_document_get_node(w->doc, seq->data.sequence.items.start[i]);
        snprintf(key, sizeof key, "worker.jobs[%d]", i);
        if (job->type != YAML_MAPPING_NODE) {
            snprintf(msg, sizeof msg, "expected a mapping (name, type, schedule, ...), got %s",
                     type_name(job));
            return at(w, job, key, msg);
        }
        struct mtr_config_job *j = &w->c->worker.jobs[i];
        memset(j, 0, sizeof *j);
        j->days = 2;
        snprintf(j->dir, sizeof j->dir, "reports");
        j->line = (int)job->start_mark.line + 1;
        w->c->worker.n_jobs = i + 1;
        for (yaml_node_pair_t *p = job->data.mapping.pairs.start; p < job->data.mapping.pairs.top;
             p++) {
            const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
            const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
            if (k->type != YAML_SCALAR_NODE)
                return at(w, k, key, "keys must be plain names");
            const char *name = (const char *)k->data.scalar.value;
            snprintf(key, sizeof key, "worker.jobs[%d].%s", i, name);
            if (duplicate(w, job, p, name))
                return at(w, k, key, "duplicate key");
            if (v->type != YAML_SCALAR_NODE) {
                snprintf(msg, sizeof msg, "expected a scalar value, got %s", type_name(v));
                return at(w, v, key, msg);
            }
            int rc = mtr_config_job_set(w->c, i, name, scalar(v), msg, sizeof msg);
            if (rc)
                return at(w, rc == MTR_ENOTFOUND || mtr_config_is_secret_name(name) ? k : v, key,
                          msg);
        }
        /* a job without a type takes its name as type when that is one ("retention") */
        if (mtr_job_type_parse(j->name) >= 0 && j->type == MTR_JOB_ROLLUP_CATCHUP) {
            int has_type = 0;
            for (yaml_node_pair_t *p = job->data.mapping.pairs.start;
                 p < job->data.mapping.pairs.top; p++)
                if (strcmp((const char *)yaml_document_get_node(w->doc, p->key)->data.scalar.value,
                           "type") == 0)
                    has_type = 1;
            if (!has_type)
                j->type = (enum mtr_job_type)mtr_job_type_parse(j->name);
        }
    }
    return 0;
}

static int walk_section(struct walk *w, const char *section, const yaml_node_t *map)
{
    char key[200], msg[400];
    if (map->type != YAML_MAPPING_NODE) {
        snprintf(msg, sizeof msg, "expected a mapping of keys, got %s", type_name(map));
        return at(w, map, section, msg);
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return at(w, k, section, "keys must be plain names");
        const char *name = (const char *)k->data.scalar.value;
        snprintf(key, sizeof key, "%s.%s", section, name);
        if (duplicate(w, map, p, name))
            return at(w, k, key, "duplicate key");
        if (strcmp(key, "worker.jobs") == 0) {
            int rc = walk_jobs(w, v);
            if (rc)
                return rc;
            continue;
        }
        if (v->type != YAML_SCALAR_NODE) {
            /* an unknown key is reported as unknown whatever its value */
            if (mtr_config_is_secret_name(name))
                return at(w, k, key,
                          "looks like a secret: secrets are only read from the environment");
            if (!mtr_config_has_key(key))
                return at(w, k, key, "unknown key");
            snprintf(msg, sizeof msg, "expected a scalar value, got %s", type_name(v));
            return at(w, v, key, msg);
        }
        int rc = mtr_config_set(w->c, key, scalar(v), 0, msg, sizeof msg);
        if (rc)
            return at(w, rc == MTR_ENOTFOUND || mtr_config_is_secret_name(name) ? k : v, key, msg);
    }
    return 0;
}

int mtr_config_load_file(struct mtr_config *c, const char *path, struct mtr_errbuf *eb)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0, have_doc = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mtr_err(eb, MTR_EIO, "%s: cannot read the configuration file: %m", path);
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return mtr_err(eb, MTR_ENOMEM, "%s: cannot initialise the YAML parser", path);
    }
    yaml_parser_set_input_file(&parser, f);
    snprintf(c->file, sizeof c->file, "%s", path);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = mtr_err(eb, MTR_EINVAL, "%s:%zu:%zu: YAML syntax error: %s%s%s", path,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "invalid document",
                     parser.context ? " " : "", parser.context ? parser.context : "");
        goto out;
    }
    have_doc = 1;
    struct walk w = {c, &doc, path, eb};
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        goto out; /* an empty file: the defaults */
    if (root->type != YAML_MAPPING_NODE) {
        rc = at(&w, root, "(top level)", "expected a mapping of sections (store, api, ...)");
        goto out;
    }
    static const char *const sections[] = {"store",  "api",     "kafka", "mqtt",
                                           "worker", "monitor", "lake",  "logging"};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            rc = at(&w, k, "(top level)", "section names must be plain names");
            goto out;
        }
        const char *name = (const char *)k->data.scalar.value;
        int known = 0;
        for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
            known |= strcmp(name, sections[i]) == 0;
        if (!known) {
            rc = at(&w, k, name,
                    mtr_config_is_secret_name(name)
                        ? "looks like a secret: secrets are only read from the environment"
                        : "unknown section (store, api, kafka, mqtt, worker, monitor, lake, "
                          "logging)");
            goto out;
        }
        if (duplicate(&w, root, p, name)) {
            rc = at(&w, k, name, "duplicate section");
            goto out;
        }
        if ((rc = walk_section(&w, name, v)))
            goto out;
    }
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static const char *process_env(void *ctx, const char *name)
{
    (void)ctx;
    const char *v = getenv(name);
    return v;
}

int mtr_config_load(struct mtr_config *c, const char *file, const char *env, struct mtr_errbuf *eb)
{
    int rc;
    mtr_config_defaults(c);
    if (!env || !*env)
        env = getenv("METRIFY_ENV");
    if (env && *env) {
        if (strcmp(env, "development") != 0 && strcmp(env, "staging") != 0 &&
            strcmp(env, "production") != 0)
            return mtr_err(eb, MTR_EINVAL,
                           "environment \"%s\": expected development, staging or production", env);
        snprintf(c->env, sizeof c->env, "%s", env);
    }
    if (file && *file) {
        if ((rc = mtr_config_load_file(c, file, eb)))
            return rc;
    } else if (c->env[0]) {
        char path[512];
        const char *dir = getenv("METRIFY_CONFIG_DIR");
        snprintf(path, sizeof path, "%s%sconfig/environments/%s.yaml", dir && *dir ? dir : "",
                 dir && *dir ? "/" : "", c->env);
        if ((rc = mtr_config_load_file(c, path, eb)))
            return rc;
    }
    if ((rc = mtr_config_apply_env(c, process_env, NULL, eb)))
        return rc;
    return mtr_config_validate(c, eb);
}
