/*
 * project.c - reads a dbt project (see project.h): YAML through libyaml's document API, model
 * and properties files found by walking the model path in name order (so loading is
 * deterministic), seeds through the CSV reader of base/csv.h.
 */
#include "adapters/dbt/project.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "base/csv.h"

/* snprintf that may truncate (names and paths are bounded; a cut message is acceptable) */
static void bprintf(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bprintf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* ======================= YAML helpers ======================= */

struct ydoc {
    yaml_document_t doc;
    const char *file;
    int loaded;
};

static int yaml_load_text(struct ydoc *y, const char *file, const char *text, struct mtr_errbuf *eb)
{
    yaml_parser_t parser;
    y->file = file;
    y->loaded = 0;
    if (!yaml_parser_initialize(&parser))
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    int rc = 0;
    if (!yaml_parser_load(&parser, &y->doc)) {
        rc = mtr_err(eb, MTR_EPARSE, "%s:%zu:%zu: YAML: %s", file, parser.problem_mark.line + 1,
                     parser.problem_mark.column + 1, parser.problem ? parser.problem : "error");
    } else {
        y->loaded = 1;
    }
    yaml_parser_delete(&parser);
    return rc;
}

static void yaml_free(struct ydoc *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = 0;
}

static yaml_node_t *ynode(struct ydoc *y, int id)
{
    return yaml_document_get_node(&y->doc, id);
}

static size_t yline(const yaml_node_t *n)
{
    return n ? n->start_mark.line + 1 : 0;
}

static const char *yscalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *yget(struct ydoc *y, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        const char *k = yscalar(ynode(y, pr->key));
        if (k && strcmp(k, key) == 0)
            return ynode(y, pr->value);
    }
    return NULL;
}

static int ybad(struct ydoc *y, const yaml_node_t *n, struct mtr_errbuf *eb, int rc,
                const char *what)
{
    return mtr_err(eb, rc, "%s:%zu: %s", y->file, yline(n), what);
}

/* Copies a required scalar into out; MTR_EINVAL naming key when missing or not a scalar. */
static int yget_str(struct ydoc *y, yaml_node_t *map, const char *key, char *out, size_t cap,
                    struct mtr_errbuf *eb)
{
    const char *s = yscalar(yget(y, map, key));
    if (!s) {
        char msg[160];
        bprintf(msg, sizeof msg, "'%s' is required and must be a string", key);
        return ybad(y, map, eb, MTR_EINVAL, msg);
    }
    if (strlen(s) >= cap)
        return ybad(y, map, eb, MTR_EINVAL, "value too long");
    bprintf(out, cap, "%s", s);
    return 0;
}

/* A path list ("models" or [models]) with one entry. */
static int yget_path(struct ydoc *y, yaml_node_t *root, const char *key, char *out, size_t cap,
                     struct mtr_errbuf *eb)
{
    yaml_node_t *n = yget(y, root, key);
    if (!n)
        return 0;
    if (n->type == YAML_SEQUENCE_NODE) {
        if (n->data.sequence.items.top - n->data.sequence.items.start != 1)
            return ybad(y, n, eb, MTR_EINVAL, "only one path is supported here");
        n = ynode(y, *n->data.sequence.items.start);
    }
    const char *s = yscalar(n);
    if (!s || strlen(s) >= cap)
        return ybad(y, n, eb, MTR_EINVAL, "expected a directory name");
    bprintf(out, cap, "%s", s);
    return 0;
}

/* ======================= dbt_project.yml ======================= */

static int parse_mat(struct ydoc *y, yaml_node_t *n, enum mtr_dbt_mat *mat, struct mtr_errbuf *eb)
{
    const char *s = yscalar(n);
    if (s && strcmp(s, "view") == 0)
        *mat = MTR_DBT_VIEW;
    else if (s && strcmp(s, "table") == 0)
        *mat = MTR_DBT_TABLE;
    else
        return ybad(y, n, eb, MTR_EINVAL, "materialized must be 'view' or 'table'");
    return 0;
}

static int add_dir(struct mtr_dbt_project *p, const char *dir, enum mtr_dbt_mat mat)
{
    struct mtr_dbt_dir_config *d = realloc(p->dirs, (size_t)(p->ndirs + 1) * sizeof *d);
    if (!d)
        return MTR_ENOMEM;
    p->dirs = d;
    bprintf(d[p->ndirs].dir, sizeof d->dir, "%s", dir);
    d[p->ndirs].mat = mat;
    p->ndirs++;
    return 0;
}

/* models: <project>: {+materialized, <dir>: {...}}: '+' keys are configs, others directories. */
static int walk_model_config(struct mtr_dbt_project *p, struct ydoc *y, yaml_node_t *map,
                             const char *dir, struct mtr_errbuf *eb)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return ybad(y, map, eb, MTR_EINVAL, "models: expected a mapping");
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *kn = ynode(y, pr->key), *vn = ynode(y, pr->value);
        const char *k = yscalar(kn);
        if (!k)
            return ybad(y, kn, eb, MTR_EINVAL, "models: expected string keys");
        const char *key = k[0] == '+' ? k + 1 : k;
        if (strcmp(key, "materialized") == 0) {
            enum mtr_dbt_mat mat = MTR_DBT_VIEW;
            int rc = parse_mat(y, vn, &mat, eb);
            if (rc == 0)
                rc = add_dir(p, dir, mat) < 0 ? mtr_err(eb, MTR_ENOMEM, "out of memory") : 0;
            if (rc < 0)
                return rc;
        } else if (k[0] == '+' || strcmp(key, "schema") == 0 || strcmp(key, "tags") == 0) {
            /* other configs (docs, persist_docs, ...) change nothing we build; but schema and
             * tags would, and we do not implement them */
            if (strcmp(key, "schema") == 0 || strcmp(key, "tags") == 0 ||
                strcmp(key, "alias") == 0) {
                char msg[160];
                bprintf(msg, sizeof msg, "model config '%s' is not supported by metrify transform",
                        k);
                return ybad(y, kn, eb, MTR_EINVAL, msg);
            }
        } else {
            char sub[MTR_DBT_PATH_MAX];
            int n = snprintf(sub, sizeof sub, "%s%s%s", dir, dir[0] ? "/" : "", k);
            if (n < 0 || (size_t)n >= sizeof sub)
                return ybad(y, kn, eb, MTR_EINVAL, "directory name too long");
            int rc = walk_model_config(p, y, vn, sub, eb);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int set_vars_from(struct mtr_dbt_project *p, struct ydoc *y, yaml_node_t *map,
                         struct mtr_errbuf *eb)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return ybad(y, map, eb, MTR_EINVAL, "vars: expected a mapping of names to values");
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *kn = ynode(y, pr->key), *vn = ynode(y, pr->value);
        const char *k = yscalar(kn), *v = yscalar(vn);
        if (!k)
            return ybad(y, kn, eb, MTR_EINVAL, "vars: expected string names");
        if (!v) {
            char msg[200];
            bprintf(msg, sizeof msg,
                    "var '%s': only scalar values (nested vars need attribute access, which is "
                    "not in the Jinja subset)",
                    k);
            return ybad(y, vn, eb, MTR_EINVAL, msg);
        }
        if (mtr_dbt_project_set_var(p, k, v) < 0)
            return mtr_err(eb, MTR_ENOMEM, "out of memory");
    }
    return 0;
}

int mtr_dbt_project_parse_config(struct mtr_dbt_project *p, const char *file, const char *text,
                                 struct mtr_errbuf *eb)
{
    struct ydoc y;
    int rc = yaml_load_text(&y, file, text, eb);
    if (rc < 0)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = ybad(&y, root, eb, MTR_EINVAL, "expected a mapping at the top level");
        goto out;
    }
    if ((rc = yget_str(&y, root, "name", p->name, sizeof p->name, eb)) < 0)
        goto out;
    bprintf(p->model_path, sizeof p->model_path, "models");
    bprintf(p->seed_path, sizeof p->seed_path, "seeds");
    if ((rc = yget_path(&y, root, "model-paths", p->model_path, sizeof p->model_path, eb)) < 0 ||
        (rc = yget_path(&y, root, "seed-paths", p->seed_path, sizeof p->seed_path, eb)) < 0)
        goto out;
    yaml_node_t *vars = yget(&y, root, "vars");
    if (vars && (rc = set_vars_from(p, &y, vars, eb)) < 0)
        goto out;
    yaml_node_t *models = yget(&y, root, "models");
    if (models) {
        yaml_node_t *mine = yget(&y, models, p->name);
        if (!mine) {
            rc = ybad(&y, models, eb, MTR_EINVAL,
                      "models: expected the project name as the first key");
            goto out;
        }
        rc = walk_model_config(p, &y, mine, "", eb);
    }
out:
    yaml_free(&y);
    return rc;
}

int mtr_dbt_project_parse_vars(struct mtr_dbt_project *p, const char *text, struct mtr_errbuf *eb)
{
    struct ydoc y;
    int rc = yaml_load_text(&y, "--vars", text, eb);
    if (rc < 0)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    rc = root ? set_vars_from(p, &y, root, eb)
              : mtr_err(eb, MTR_EINVAL, "--vars: expected a mapping such as '{name: value}'");
    yaml_free(&y);
    return rc;
}

/* ======================= properties (schema.yml, sources.yml) ======================= */

static int add_test(struct mtr_dbt_project *p, struct mtr_dbt_test **out)
{
    struct mtr_dbt_test *t = realloc(p->tests, (size_t)(p->ntests + 1) * sizeof *t);
    if (!t)
        return MTR_ENOMEM;
    p->tests = t;
    *out = &t[p->ntests++];
    memset(*out, 0, sizeof **out);
    (*out)->quote = 1;
    (*out)->inclusive = 1;
    (*out)->to_node = -1;
    return 0;
}

/* "ref('x')" or ref("x") -> x */
static int parse_ref_text(const char *s, char *out, size_t cap)
{
    while (*s == ' ')
        s++;
    if (strncmp(s, "ref(", 4) != 0)
        return -1;
    s += 4;
    while (*s == ' ')
        s++;
    char q = *s;
    if (q != '\'' && q != '"')
        return -1;
    const char *e = strchr(s + 1, q);
    if (!e || (size_t)(e - s - 1) >= cap)
        return -1;
    memcpy(out, s + 1, (size_t)(e - s - 1));
    out[e - s - 1] = '\0';
    return 0;
}

static int scalar_text(const yaml_node_t *n, char *out, size_t cap)
{
    const char *s = yscalar(n);
    if (!s || strlen(s) >= cap)
        return -1;
    bprintf(out, cap, "%s", s);
    return 0;
}

/* Reads `config: {severity: warn|error}` of a test's argument map. */
static int parse_test_config(struct ydoc *y, yaml_node_t *args, struct mtr_dbt_test *t,
                             struct mtr_errbuf *eb)
{
    yaml_node_t *cfg = yget(y, args, "config");
    if (!cfg)
        return 0;
    const char *sev = yscalar(yget(y, cfg, "severity"));
    if (!sev)
        return ybad(y, cfg, eb, MTR_EINVAL, "test config: only 'severity' is supported");
    if (strcmp(sev, "warn") == 0 || strcmp(sev, "WARN") == 0)
        t->warn = 1;
    else if (strcmp(sev, "error") != 0 && strcmp(sev, "ERROR") != 0)
        return ybad(y, cfg, eb, MTR_EINVAL, "severity must be warn or error");
    return 0;
}

static void name_append(char *name, size_t cap, const char *s)
{
    size_t len = strlen(name);
    for (; *s && len + 1 < cap; s++)
        name[len++] = (isalnum((unsigned char)*s) || *s == '_') ? *s : '_';
    name[len] = '\0';
}

/* One entry of a column's tests list. owner is the model name or "source_table". */
static int parse_test(struct mtr_dbt_project *p, struct ydoc *y, yaml_node_t *tn, int node,
                      int source, const char *owner, const char *column, struct mtr_errbuf *eb)
{
    const char *kind = yscalar(tn);
    yaml_node_t *args = NULL;
    if (!kind) {
        if (tn->type != YAML_MAPPING_NODE ||
            tn->data.mapping.pairs.top - tn->data.mapping.pairs.start != 1)
            return ybad(y, tn, eb, MTR_EINVAL, "a test is a name or a one-key mapping");
        kind = yscalar(ynode(y, tn->data.mapping.pairs.start->key));
        args = ynode(y, tn->data.mapping.pairs.start->value);
        if (!kind)
            return ybad(y, tn, eb, MTR_EINVAL, "a test is a name or a one-key mapping");
    }
    struct mtr_dbt_test *t;
    if (add_test(p, &t) < 0)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    t->node = node;
    t->source = source;
    bprintf(t->column, sizeof t->column, "%s", column);
    bprintf(t->file, sizeof t->file, "%s:%zu", y->file, yline(tn));
    int rc = args ? parse_test_config(y, args, t, eb) : 0;
    if (rc < 0)
        return rc;
    const char *prefix = node < 0 ? "source_" : "";
    char name[256];
    if (strcmp(kind, "not_null") == 0 || strcmp(kind, "unique") == 0) {
        t->kind = kind[0] == 'n' ? MTR_TEST_NOT_NULL : MTR_TEST_UNIQUE;
        bprintf(name, sizeof name, "%s%s_%s_%s", prefix, kind, owner, column);
    } else if (strcmp(kind, "accepted_values") == 0) {
        t->kind = MTR_TEST_ACCEPTED_VALUES;
        yaml_node_t *vals = yget(y, args, "values");
        if (!vals || vals->type != YAML_SEQUENCE_NODE)
            return ybad(y, tn, eb, MTR_EINVAL, "accepted_values needs a 'values' list");
        int n = (int)(vals->data.sequence.items.top - vals->data.sequence.items.start);
        t->values = calloc((size_t)n + 1, sizeof *t->values);
        if (!t->values)
            return mtr_err(eb, MTR_ENOMEM, "out of memory");
        bprintf(name, sizeof name, "%saccepted_values_%s_%s_", prefix, owner, column);
        for (int i = 0; i < n; i++) {
            const char *v = yscalar(ynode(y, vals->data.sequence.items.start[i]));
            if (!v)
                return ybad(y, vals, eb, MTR_EINVAL, "accepted_values: values must be scalars");
            if (!(t->values[i] = strdup(v)))
                return mtr_err(eb, MTR_ENOMEM, "out of memory");
            t->nvalues++;
            name_append(name, sizeof name, "_");
            name_append(name, sizeof name, v);
        }
        const char *q = yscalar(yget(y, args, "quote"));
        if (q)
            t->quote = !(strcmp(q, "false") == 0 || strcmp(q, "False") == 0);
    } else if (strcmp(kind, "relationships") == 0) {
        t->kind = MTR_TEST_RELATIONSHIPS;
        if (scalar_text(yget(y, args, "field"), t->field, sizeof t->field) < 0)
            return ybad(y, tn, eb, MTR_EINVAL, "relationships needs 'field'");
        const char *to = yscalar(yget(y, args, "to"));
        if (!to || parse_ref_text(to, t->to, sizeof t->to) < 0)
            return ybad(y, tn, eb, MTR_EINVAL,
                        "relationships needs to: ref('model') (source() targets are not "
                        "supported)");
        bprintf(name, sizeof name, "%srelationships_%s_%s__%s__ref_%s_", prefix, owner, column,
                t->field, t->to);
    } else if (strcmp(kind, "dbt_utils.accepted_range") == 0 ||
               strcmp(kind, "accepted_range") == 0) {
        t->kind = MTR_TEST_ACCEPTED_RANGE;
        yaml_node_t *mn = yget(y, args, "min_value"), *mx = yget(y, args, "max_value");
        if (!mn && !mx)
            return ybad(y, tn, eb, MTR_EINVAL, "accepted_range needs min_value and/or max_value");
        char *end;
        if (mn && (scalar_text(mn, t->min, sizeof t->min) < 0 ||
                   (strtod(t->min, &end), *end != '\0' || !t->min[0])))
            return ybad(y, mn, eb, MTR_EINVAL, "min_value must be a number");
        if (mx && (scalar_text(mx, t->max, sizeof t->max) < 0 ||
                   (strtod(t->max, &end), *end != '\0' || !t->max[0])))
            return ybad(y, mx, eb, MTR_EINVAL, "max_value must be a number");
        const char *inc = yscalar(yget(y, args, "inclusive"));
        if (inc)
            t->inclusive = !(strcmp(inc, "false") == 0 || strcmp(inc, "False") == 0);
        bprintf(name, sizeof name, "%sdbt_utils_accepted_range_%s_%s_", prefix, owner, column);
        if (t->min[0]) {
            name_append(name, sizeof name, "_");
            name_append(name, sizeof name, t->min);
        }
        if (t->max[0]) {
            name_append(name, sizeof name, "_");
            name_append(name, sizeof name, t->max);
        }
    } else {
        char msg[256];
        bprintf(msg, sizeof msg,
                "test '%.64s' is not supported (not_null, unique, accepted_values, "
                "relationships, dbt_utils.accepted_range)",
                kind);
        return ybad(y, tn, eb, MTR_EINVAL, msg);
    }
    bprintf(t->name, sizeof t->name, "%s", name);
    return 0;
}

static int parse_columns(struct mtr_dbt_project *p, struct ydoc *y, yaml_node_t *owner_node,
                         int node, int source, const char *owner, struct mtr_errbuf *eb)
{
    yaml_node_t *cols = yget(y, owner_node, "columns");
    if (!cols)
        return 0;
    if (cols->type != YAML_SEQUENCE_NODE)
        return ybad(y, cols, eb, MTR_EINVAL, "columns: expected a list");
    for (yaml_node_item_t *it = cols->data.sequence.items.start; it < cols->data.sequence.items.top;
         it++) {
        yaml_node_t *cn = ynode(y, *it);
        char col[MTR_DBT_NAME_MAX];
        int rc = yget_str(y, cn, "name", col, sizeof col, eb);
        if (rc < 0)
            return rc;
        yaml_node_t *tests = yget(y, cn, "data_tests");
        if (!tests)
            tests = yget(y, cn, "tests");
        if (!tests)
            continue;
        if (tests->type != YAML_SEQUENCE_NODE)
            return ybad(y, tests, eb, MTR_EINVAL, "tests: expected a list");
        for (yaml_node_item_t *ti = tests->data.sequence.items.start;
             ti < tests->data.sequence.items.top; ti++)
            if ((rc = parse_test(p, y, ynode(y, *ti), node, source, owner, col, eb)) < 0)
                return rc;
    }
    return 0;
}

static int parse_sources(struct mtr_dbt_project *p, struct ydoc *y, yaml_node_t *list,
                         struct mtr_errbuf *eb)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return ybad(y, list, eb, MTR_EINVAL, "sources: expected a list");
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        yaml_node_t *sn = ynode(y, *it);
        char src[MTR_DBT_NAME_MAX];
        int rc = yget_str(y, sn, "name", src, sizeof src, eb);
        if (rc < 0)
            return rc;
        yaml_node_t *tables = yget(y, sn, "tables");
        if (!tables || tables->type != YAML_SEQUENCE_NODE)
            return ybad(y, sn, eb, MTR_EINVAL, "a source needs a 'tables' list");
        for (yaml_node_item_t *ti = tables->data.sequence.items.start;
             ti < tables->data.sequence.items.top; ti++) {
            yaml_node_t *tn = ynode(y, *ti);
            struct mtr_dbt_source s;
            memset(&s, 0, sizeof s);
            bprintf(s.source, sizeof s.source, "%s", src);
            if ((rc = yget_str(y, tn, "name", s.table, sizeof s.table, eb)) < 0)
                return rc;
            if (scalar_text(yget(y, tn, "identifier"), s.identifier, sizeof s.identifier) < 0)
                bprintf(s.identifier, sizeof s.identifier, "%s", s.table);
            for (int k = 0; k < p->nsources; k++)
                if (strcmp(p->sources[k].source, s.source) == 0 &&
                    strcmp(p->sources[k].table, s.table) == 0)
                    return ybad(y, tn, eb, MTR_EINVAL, "source table declared twice");
            struct mtr_dbt_source *v = realloc(p->sources, (size_t)(p->nsources + 1) * sizeof *v);
            if (!v)
                return mtr_err(eb, MTR_ENOMEM, "out of memory");
            p->sources = v;
            v[p->nsources++] = s;
            char owner[2 * MTR_DBT_NAME_MAX + 2];
            bprintf(owner, sizeof owner, "%s_%s", s.source, s.table);
            if ((rc = parse_columns(p, y, tn, -1, p->nsources - 1, owner, eb)) < 0)
                return rc;
        }
    }
    return 0;
}

/* The models: or seeds: list of a properties file: each entry names an existing node of that
 * kind; its column tests are added. */
static int parse_described(struct mtr_dbt_project *p, struct ydoc *y, yaml_node_t *list, int seeds,
                           struct mtr_errbuf *eb)
{
    const char *what = seeds ? "seed" : "model";
    if (!list)
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return ybad(y, list, eb, MTR_EINVAL,
                    seeds ? "seeds: expected a list" : "models: expected a list");
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        yaml_node_t *mn = ynode(y, *it);
        char name[MTR_DBT_NAME_MAX];
        int rc = yget_str(y, mn, "name", name, sizeof name, eb);
        if (rc < 0)
            return rc;
        int node = mtr_dbt_find_node(p, name);
        if (node < 0 || (p->nodes[node].kind == MTR_DBT_SEED) != seeds) {
            char msg[200];
            bprintf(msg, sizeof msg, "%s '%s' is described but there is no %s.%s", what, name, name,
                    seeds ? "csv" : "sql");
            return ybad(y, mn, eb, MTR_ENOTFOUND, msg);
        }
        if (yget(y, mn, "tests") || yget(y, mn, "data_tests")) {
            char msg[200];
            bprintf(msg, sizeof msg, "%s-level tests are not supported (put tests under a column)",
                    what);
            return ybad(y, mn, eb, MTR_EINVAL, msg);
        }
        if ((rc = parse_columns(p, y, mn, node, -1, name, eb)) < 0)
            return rc;
    }
    return 0;
}

int mtr_dbt_project_parse_properties(struct mtr_dbt_project *p, const char *file, const char *text,
                                     struct mtr_errbuf *eb)
{
    struct ydoc y;
    int rc = yaml_load_text(&y, file, text, eb);
    if (rc < 0)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    if (!root) /* an empty file */
        goto out;
    if (root->type != YAML_MAPPING_NODE) {
        rc = ybad(&y, root, eb, MTR_EINVAL, "expected a mapping at the top level");
        goto out;
    }
    const char *ver = yscalar(yget(&y, root, "version"));
    if (!ver || strcmp(ver, "2") != 0) {
        rc = ybad(&y, root, eb, MTR_EINVAL, "properties files need 'version: 2'");
        goto out;
    }
    yaml_node_t *sources = yget(&y, root, "sources");
    if (sources && (rc = parse_sources(p, &y, sources, eb)) < 0)
        goto out;
    static const char *const kinds[] = {"models", "seeds"};
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = parse_described(p, &y, yget(&y, root, kinds[k]), k == 1, eb);
out:
    yaml_free(&y);
    return rc;
}

/* ======================= files ======================= */

static int read_file(const char *path, char **out, struct mtr_errbuf *eb)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f)
        return mtr_err(eb, errno == ENOENT ? MTR_ENOTFOUND : MTR_EIO, "cannot open %s: %s", path,
                       strerror(errno));
    int rc = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *q = realloc(buf, cap);
            if (!q) {
                rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
                break;
            }
            buf = q;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rc = mtr_err(eb, MTR_EIO, "cannot read %s", path);
            break;
        }
    }
    fclose(f);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int add_node(struct mtr_dbt_project *p, struct mtr_dbt_node **out, const char *name,
                    struct mtr_errbuf *eb)
{
    if (mtr_dbt_find_node(p, name) >= 0)
        return mtr_err(eb, MTR_EINVAL, "two models or seeds are called '%s'", name);
    struct mtr_dbt_node *n = realloc(p->nodes, (size_t)(p->nnodes + 1) * sizeof *n);
    if (!n)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    p->nodes = n;
    *out = &n[p->nnodes++];
    memset(*out, 0, sizeof **out);
    bprintf((*out)->name, sizeof(*out)->name, "%s", name);
    return 0;
}

/* The materialisation a model in rel_dir gets from dbt_project.yml (deepest matching dir). */
static enum mtr_dbt_mat dir_mat(const struct mtr_dbt_project *p, const char *rel_dir)
{
    enum mtr_dbt_mat mat = MTR_DBT_VIEW; /* dbt's default */
    size_t best = 0;
    int found = 0;
    for (int i = 0; i < p->ndirs; i++) {
        const char *d = p->dirs[i].dir;
        size_t n = strlen(d);
        int match =
            n == 0 || (strncmp(rel_dir, d, n) == 0 && (rel_dir[n] == '\0' || rel_dir[n] == '/'));
        if (match && (!found || n >= best)) {
            mat = p->dirs[i].mat;
            best = n;
            found = 1;
        }
    }
    return mat;
}

static int filter_visible(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Collects every .sql (pass 0) or .yml/.yaml (pass 1) under model_path/rel. */
static int walk_models(struct mtr_dbt_project *p, const char *rel, int pass, struct mtr_errbuf *eb)
{
    char dirpath[2 * MTR_DBT_PATH_MAX + 8];
    bprintf(dirpath, sizeof dirpath, "%s/%s%s%s", p->dir, p->model_path, rel[0] ? "/" : "", rel);
    struct dirent **ents = NULL;
    int n = scandir(dirpath, &ents, filter_visible, alphasort);
    if (n < 0)
        return mtr_err(eb, errno == ENOENT ? MTR_ENOTFOUND : MTR_EIO, "cannot read %s: %s", dirpath,
                       strerror(errno));
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *nm = ents[i]->d_name;
        char relpath[MTR_DBT_PATH_MAX], full[3 * MTR_DBT_PATH_MAX];
        int w = snprintf(relpath, sizeof relpath, "%s%s%s", rel, rel[0] ? "/" : "", nm);
        if (w < 0 || (size_t)w >= sizeof relpath) {
            rc = mtr_err(eb, MTR_EINVAL, "path too long under %s", dirpath);
            break;
        }
        bprintf(full, sizeof full, "%s/%s", dirpath, nm);
        struct stat st;
        if (stat(full, &st) != 0) {
            rc = mtr_err(eb, MTR_EIO, "cannot stat %s: %s", full, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_models(p, relpath, pass, eb);
        } else if (pass == 0 && has_suffix(nm, ".sql")) {
            char name[MTR_DBT_NAME_MAX];
            bprintf(name, sizeof name, "%.*s", (int)(strlen(nm) - 4), nm);
            struct mtr_dbt_node *node;
            if ((rc = add_node(p, &node, name, eb)) < 0)
                break;
            node->kind = MTR_DBT_MODEL;
            bprintf(node->path, sizeof node->path, "%s/%s", p->model_path, relpath);
            node->mat = dir_mat(p, rel);
            bprintf(node->fqn, sizeof node->fqn, "%s.%s%s%s", p->name, rel, rel[0] ? "." : "",
                    name);
            for (char *c = node->fqn; *c; c++)
                if (*c == '/')
                    *c = '.';
            rc = read_file(full, &node->raw, eb);
        } else if (pass == 1 && (has_suffix(nm, ".yml") || has_suffix(nm, ".yaml"))) {
            char *text = NULL, shown[2 * MTR_DBT_PATH_MAX];
            bprintf(shown, sizeof shown, "%s/%s", p->model_path, relpath);
            if ((rc = read_file(full, &text, eb)) == 0)
                rc = mtr_dbt_project_parse_properties(p, shown, text, eb);
            free(text);
        }
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

static ssize_t file_read(void *ctx, void *buf, size_t n)
{
    FILE *f = ctx;
    size_t got = fread(buf, 1, n, f);
    return got == 0 && ferror(f) ? -1 : (ssize_t)got;
}

static int load_seed(struct mtr_dbt_project *p, const char *file, const char *shown,
                     const char *name, struct mtr_errbuf *eb)
{
    struct mtr_dbt_node *n;
    int rc = add_node(p, &n, name, eb);
    if (rc < 0)
        return rc;
    n->kind = MTR_DBT_SEED;
    n->mat = MTR_DBT_TABLE;
    bprintf(n->path, sizeof n->path, "%s", shown);
    bprintf(n->fqn, sizeof n->fqn, "%s.%s", p->name, name);
    FILE *f = fopen(file, "rb");
    if (!f)
        return mtr_err(eb, MTR_EIO, "cannot open %s: %s", file, strerror(errno));
    struct mtr_csv *csv = NULL;
    if ((rc = mtr_csv_open(file_read, f, 0, &csv)) < 0) {
        fclose(f);
        return mtr_err(eb, rc, "out of memory");
    }
    struct mtr_csv_row row;
    size_t cap = 0;
    while ((rc = mtr_csv_next(csv, &row)) == 1) {
        int header = n->cols == NULL;
        if (!header && (int)row.nfields != n->ncols) {
            rc = mtr_err(eb, MTR_EPARSE, "%s:%llu: %zu fields, the header has %d", shown,
                         (unsigned long long)row.line, row.nfields, n->ncols);
            break;
        }
        char **dst;
        if (header) {
            n->cols = calloc(row.nfields + 1, sizeof *n->cols);
            n->ncols = (int)row.nfields;
            dst = n->cols;
        } else {
            size_t need = (size_t)(n->nrows + 1) * (size_t)n->ncols;
            if (need > cap) {
                size_t nc = cap ? cap * 2 : (size_t)n->ncols * 16;
                while (nc < need)
                    nc *= 2;
                char **q = realloc(n->cells, nc * sizeof *q);
                if (!q) {
                    rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
                    break;
                }
                n->cells = q;
                cap = nc;
            }
            dst = n->cells + (size_t)n->nrows * (size_t)n->ncols;
            memset(dst, 0, (size_t)n->ncols * sizeof *dst);
            n->nrows++;
        }
        if (!dst) {
            rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
            break;
        }
        for (size_t c = 0; c < row.nfields; c++) {
            dst[c] = strndup(row.fields[c].p, row.fields[c].len);
            if (!dst[c]) {
                rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
                break;
            }
            if (header) {
                for (const char *q = dst[c]; *q; q++)
                    if (!(isalnum((unsigned char)*q) || *q == '_'))
                        rc = mtr_err(eb, MTR_EPARSE, "%s:1: column name '%s' is not an identifier",
                                     shown, dst[c]);
            }
        }
        if (rc < 0)
            break;
    }
    if (rc == MTR_EPARSE && !eb->msg[0])
        rc = mtr_err(eb, MTR_EPARSE, "%s:%llu: %s", shown, (unsigned long long)row.line,
                     row.message);
    else if (rc == MTR_EPARSE && strncmp(eb->msg, shown, strlen(shown)) != 0)
        rc = mtr_err(eb, MTR_EPARSE, "%s:%llu: %s", shown, (unsigned long long)row.line,
                     row.message);
    if (rc == 0 && !n->cols)
        rc = mtr_err(eb, MTR_EPARSE, "%s: empty seed (no header)", shown);
    mtr_csv_close(csv);
    fclose(f);
    return rc < 0 ? rc : 0;
}

static int load_seeds(struct mtr_dbt_project *p, struct mtr_errbuf *eb)
{
    char dirpath[2 * MTR_DBT_PATH_MAX + 8];
    bprintf(dirpath, sizeof dirpath, "%s/%s", p->dir, p->seed_path);
    struct dirent **ents = NULL;
    int n = scandir(dirpath, &ents, filter_visible, alphasort);
    if (n < 0)
        return errno == ENOENT
                   ? 0
                   : mtr_err(eb, MTR_EIO, "cannot read %s: %s", dirpath, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *nm = ents[i]->d_name;
        if (!has_suffix(nm, ".csv"))
            continue;
        char full[3 * MTR_DBT_PATH_MAX], shown[2 * MTR_DBT_PATH_MAX], name[MTR_DBT_NAME_MAX];
        bprintf(full, sizeof full, "%s/%s", dirpath, nm);
        bprintf(shown, sizeof shown, "%s/%s", p->seed_path, nm);
        bprintf(name, sizeof name, "%.*s", (int)(strlen(nm) - 4), nm);
        rc = load_seed(p, full, shown, name, eb);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

/* Properties files (.yml) beside the seeds, as dbt reads them from the seed path too. */
static int load_seed_properties(struct mtr_dbt_project *p, struct mtr_errbuf *eb)
{
    char dirpath[2 * MTR_DBT_PATH_MAX + 8];
    bprintf(dirpath, sizeof dirpath, "%s/%s", p->dir, p->seed_path);
    struct dirent **ents = NULL;
    int n = scandir(dirpath, &ents, filter_visible, alphasort);
    if (n < 0)
        return errno == ENOENT
                   ? 0
                   : mtr_err(eb, MTR_EIO, "cannot read %s: %s", dirpath, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *nm = ents[i]->d_name;
        if (!has_suffix(nm, ".yml") && !has_suffix(nm, ".yaml"))
            continue;
        char full[3 * MTR_DBT_PATH_MAX], shown[2 * MTR_DBT_PATH_MAX], *text = NULL;
        bprintf(full, sizeof full, "%s/%s", dirpath, nm);
        bprintf(shown, sizeof shown, "%s/%s", p->seed_path, nm);
        if ((rc = read_file(full, &text, eb)) == 0)
            rc = mtr_dbt_project_parse_properties(p, shown, text, eb);
        free(text);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

int mtr_dbt_project_load(const char *dir, struct mtr_dbt_project *p, struct mtr_errbuf *eb)
{
    memset(p, 0, sizeof *p);
    if (strlen(dir) >= sizeof p->dir)
        return mtr_err(eb, MTR_EINVAL, "project path too long");
    bprintf(p->dir, sizeof p->dir, "%s", dir);
    char path[MTR_DBT_PATH_MAX + 32], *text = NULL;
    bprintf(path, sizeof path, "%s/dbt_project.yml", dir);
    int rc = read_file(path, &text, eb);
    if (rc == MTR_ENOTFOUND)
        return mtr_err(eb, rc, "%s: not a dbt project (no dbt_project.yml)", dir);
    if (rc < 0)
        return rc;
    rc = mtr_dbt_project_parse_config(p, "dbt_project.yml", text, eb);
    free(text);
    if (rc == 0)
        rc = load_seeds(p, eb);
    if (rc == 0)
        rc = walk_models(p, "", 0, eb);
    if (rc == 0)
        rc = walk_models(p, "", 1, eb);
    if (rc == 0)
        rc = load_seed_properties(p, eb);
    return rc;
}
