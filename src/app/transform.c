/*
 * transform.c - the `metrify transform` use case: compiles a dbt project held in memory through
 * the Jinja subset, orders and selects its graph, materialises models and seeds and runs schema
 * tests through the SQL port. No file access here (the adapter loads the project).
 */
#include "app/transform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jinja_subset.h"

/* ======================= project ======================= */

static void free_strv(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void mtr_dbt_project_free(struct mtr_dbt_project *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nnodes; i++) {
        struct mtr_dbt_node *n = &p->nodes[i];
        free(n->raw);
        free(n->sql);
        free(n->deps);
        free_strv(n->cols, n->ncols);
        free_strv(n->cells, n->ncols * n->nrows);
    }
    for (int i = 0; i < p->ntests; i++) {
        free_strv(p->tests[i].values, p->tests[i].nvalues);
        free(p->tests[i].sql);
    }
    free(p->nodes);
    free(p->sources);
    free(p->tests);
    free(p->vars);
    free(p->dirs);
    memset(p, 0, sizeof *p);
}

int mtr_dbt_project_set_var(struct mtr_dbt_project *p, const char *name, const char *value)
{
    struct mtr_dbt_var *v = realloc(p->vars, (size_t)(p->nvars + 1) * sizeof *v);
    if (!v)
        return MTR_ENOMEM;
    p->vars = v;
    snprintf(v[p->nvars].name, sizeof v->name, "%s", name);
    snprintf(v[p->nvars].value, sizeof v->value, "%s", value);
    p->nvars++;
    return 0;
}

int mtr_dbt_find_node(const struct mtr_dbt_project *p, const char *name)
{
    for (int i = 0; i < p->nnodes; i++)
        if (strcmp(p->nodes[i].name, name) == 0)
            return i;
    return -1;
}

static void relation(const struct mtr_dbt_project *p, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s", p->schema, p->schema[0] ? "." : "", name);
}

/* ======================= compile ======================= */

struct compile_ctx {
    struct mtr_dbt_project *p;
    int node;
    int *deps, ndeps;
    int oom;
};

static int hook_ref(void *vctx, const char *name, char *out, size_t cap, struct mtr_errbuf *eb)
{
    struct compile_ctx *c = vctx;
    int i = mtr_dbt_find_node(c->p, name);
    if (i < 0)
        return mtr_err(eb, MTR_ENOTFOUND, "ref('%s'): no model or seed of that name", name);
    if (i == c->node)
        return mtr_err(eb, MTR_EINVAL, "ref('%s'): a model cannot ref itself", name);
    int seen = 0;
    for (int k = 0; k < c->ndeps; k++)
        seen |= c->deps[k] == i;
    if (!seen) {
        int *d = realloc(c->deps, (size_t)(c->ndeps + 1) * sizeof *d);
        if (!d)
            return mtr_err(eb, MTR_ENOMEM, "out of memory");
        c->deps = d;
        c->deps[c->ndeps++] = i;
    }
    relation(c->p, name, out, cap);
    return 0;
}

static int hook_source(void *vctx, const char *src, const char *table, char *out, size_t cap,
                       struct mtr_errbuf *eb)
{
    struct compile_ctx *c = vctx;
    for (int i = 0; i < c->p->nsources; i++) {
        const struct mtr_dbt_source *s = &c->p->sources[i];
        if (strcmp(s->source, src) == 0 && strcmp(s->table, table) == 0) {
            snprintf(out, cap, "%s", s->identifier);
            return 0;
        }
    }
    return mtr_err(eb, MTR_ENOTFOUND, "source('%s', '%s'): not declared in any sources yml", src,
                   table);
}

static int hook_var(void *vctx, const char *name, char *out, size_t cap)
{
    struct compile_ctx *c = vctx;
    for (int i = c->p->nvars - 1; i >= 0; i--) {
        if (strcmp(c->p->vars[i].name, name) == 0) {
            snprintf(out, cap, "%s", c->p->vars[i].value);
            return 1;
        }
    }
    return 0;
}

static int hook_config(void *vctx, const char *key, const char *value, struct mtr_errbuf *eb)
{
    struct compile_ctx *c = vctx;
    if (strcmp(key, "materialized") == 0) {
        if (strcmp(value, "view") == 0)
            c->p->nodes[c->node].mat = MTR_DBT_VIEW;
        else if (strcmp(value, "table") == 0)
            c->p->nodes[c->node].mat = MTR_DBT_TABLE;
        else
            return mtr_err(eb, MTR_EINVAL,
                           "config(materialized='%s'): only 'view' and 'table' are supported",
                           value);
        return 0;
    }
    if (strcmp(key, "tags") == 0 || strcmp(key, "alias") == 0)
        return mtr_err(eb, MTR_EINVAL, "config(%s=...) is not supported by metrify transform", key);
    return mtr_err(eb, MTR_EINVAL, "config key '%s' is not supported (only materialized)", key);
}

/* Appends s to a malloc'd string builder; returns 0 or MTR_ENOMEM. */
struct sb {
    char *p;
    size_t len, cap;
};
static int sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sb_printf(struct sb *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return MTR_EINVAL;
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return 0;
        }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return MTR_ENOMEM;
        b->p = q;
        b->cap = cap;
    }
}

/* Writes a SQL string literal for s ('' doubled). */
static int sb_quote(struct sb *b, const char *s)
{
    int rc = sb_printf(b, "'");
    for (const char *q = s; rc == 0 && *q; q++)
        rc = *q == '\'' ? sb_printf(b, "''") : sb_printf(b, "%c", *q);
    return rc ? rc : sb_printf(b, "'");
}

static int build_test_sql(struct mtr_dbt_project *p, struct mtr_dbt_test *t)
{
    char rel[2 * MTR_DBT_NAME_MAX + 2], to[2 * MTR_DBT_NAME_MAX + 2];
    if (t->node >= 0)
        relation(p, p->nodes[t->node].name, rel, sizeof rel);
    else
        snprintf(rel, sizeof rel, "%s", p->sources[t->source].identifier);
    struct sb b = {0};
    int rc = 0;
    const char *c = t->column;
    switch (t->kind) {
    case MTR_TEST_NOT_NULL:
        rc = sb_printf(&b, "select %s from %s where %s is null", c, rel, c);
        break;
    case MTR_TEST_UNIQUE:
        rc = sb_printf(&b,
                       "select %s as unique_field, count(*) as n_records from %s where %s is not "
                       "null group by %s having count(*) > 1",
                       c, rel, c, c);
        break;
    case MTR_TEST_ACCEPTED_VALUES:
        rc = sb_printf(&b,
                       "select %s as value_field, count(*) as n_records from %s where %s is not "
                       "null and %s not in (",
                       c, rel, c, c);
        for (int i = 0; rc == 0 && i < t->nvalues; i++) {
            if (i)
                rc = sb_printf(&b, ", ");
            if (rc == 0)
                rc = t->quote ? sb_quote(&b, t->values[i]) : sb_printf(&b, "%s", t->values[i]);
        }
        if (rc == 0)
            rc = sb_printf(&b, ") group by %s", c);
        break;
    case MTR_TEST_RELATIONSHIPS:
        relation(p, p->nodes[t->to_node].name, to, sizeof to);
        rc = sb_printf(&b,
                       "select child.%s as from_field from %s as child left join %s as parent on "
                       "child.%s = parent.%s where child.%s is not null and parent.%s is null",
                       c, rel, to, c, t->field, c, t->field);
        break;
    case MTR_TEST_ACCEPTED_RANGE: {
        const char *ge = t->inclusive ? ">=" : ">", *le = t->inclusive ? "<=" : "<";
        rc = sb_printf(&b, "select %s from %s where not (1 = 1", c, rel);
        if (rc == 0 && t->min[0])
            rc = sb_printf(&b, " and %s %s %s", c, ge, t->min);
        if (rc == 0 && t->max[0])
            rc = sb_printf(&b, " and %s %s %s", c, le, t->max);
        if (rc == 0)
            rc = sb_printf(&b, ")");
        break;
    }
    }
    if (rc < 0) {
        free(b.p);
        return rc;
    }
    free(t->sql);
    t->sql = b.p;
    return 0;
}

/* Kahn's algorithm, picking the smallest name among ready nodes. Returns the count ordered. */
int mtr_transform_order(const struct mtr_dbt_project *p, int *order)
{
    int n = p->nnodes, done = 0;
    unsigned char *placed = calloc((size_t)n + 1, 1);
    if (!placed)
        return 0;
    while (done < n) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            if (placed[i])
                continue;
            int ready = 1;
            for (int k = 0; k < p->nodes[i].ndeps && ready; k++)
                ready = placed[p->nodes[i].deps[k]];
            if (ready && (best < 0 || strcmp(p->nodes[i].name, p->nodes[best].name) < 0))
                best = i;
        }
        if (best < 0)
            break;
        placed[best] = 1;
        order[done++] = best;
    }
    free(placed);
    return done;
}

/* Names one cycle among the unplaced nodes for the error message. */
static void describe_cycle(const struct mtr_dbt_project *p, const int *order, int done, char *out,
                           size_t cap)
{
    unsigned char *placed = calloc((size_t)p->nnodes + 1, 1);
    if (!placed) {
        snprintf(out, cap, "(cycle)");
        return;
    }
    for (int i = 0; i < done; i++)
        placed[order[i]] = 1;
    int start = 0;
    while (start < p->nnodes && placed[start])
        start++;
    /* walk unplaced deps until a node repeats; that node is on a cycle */
    int *seen = calloc((size_t)p->nnodes, sizeof *seen);
    int cur = start, step = 1;
    while (seen && start < p->nnodes && !seen[cur]) {
        seen[cur] = step++;
        int next = -1;
        for (int k = 0; k < p->nodes[cur].ndeps; k++)
            if (!placed[p->nodes[cur].deps[k]])
                next = p->nodes[cur].deps[k];
        if (next < 0)
            break;
        cur = next;
    }
    size_t len = 0;
    out[0] = '\0';
    int first = cur;
    do {
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s -> ", p->nodes[cur].name);
        int next = -1;
        for (int k = 0; k < p->nodes[cur].ndeps; k++)
            if (!placed[p->nodes[cur].deps[k]] && seen && seen[p->nodes[cur].deps[k]])
                next = p->nodes[cur].deps[k];
        cur = next;
    } while (cur >= 0 && cur != first && len < cap);
    if (len < cap)
        snprintf(out + len, cap - len, "%s", p->nodes[first].name);
    free(seen);
    free(placed);
}

int mtr_transform_compile(struct mtr_dbt_project *p, struct mtr_errbuf *eb)
{
    for (int i = 0; i < p->nnodes; i++) {
        struct mtr_dbt_node *n = &p->nodes[i];
        if (n->kind != MTR_DBT_MODEL)
            continue;
        struct compile_ctx c = {p, i, NULL, 0, 0};
        struct mtr_jinja_hooks h = {&c, hook_ref, hook_source, hook_var, hook_config};
        char *sql = NULL;
        int rc = mtr_jinja_compile(n->path, n->raw ? n->raw : "", &h, &sql, eb);
        if (rc < 0) {
            free(c.deps);
            return rc;
        }
        /* a trailing ';' would end the CREATE ... AS statement early */
        size_t len = strlen(sql);
        while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
                       sql[len - 1] == '\t' || sql[len - 1] == '\r'))
            sql[--len] = '\0';
        free(n->sql);
        free(n->deps);
        n->sql = sql;
        n->deps = c.deps;
        n->ndeps = c.ndeps;
    }
    for (int i = 0; i < p->ntests; i++) {
        struct mtr_dbt_test *t = &p->tests[i];
        if (t->kind == MTR_TEST_RELATIONSHIPS) {
            t->to_node = mtr_dbt_find_node(p, t->to);
            if (t->to_node < 0)
                return mtr_err(eb, MTR_ENOTFOUND, "%s: test %s: ref('%s'): no model or seed",
                               t->file, t->name, t->to);
        }
        int rc = build_test_sql(p, t);
        if (rc < 0)
            return mtr_err(eb, rc, "out of memory");
    }
    int *order = malloc(((size_t)p->nnodes + 1) * sizeof *order);
    if (!order)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    int done = mtr_transform_order(p, order);
    int rc = 0;
    if (done < p->nnodes) {
        char cyc[400];
        describe_cycle(p, order, done, cyc, sizeof cyc);
        rc = mtr_err(eb, MTR_EINVAL, "dependency cycle: %s", cyc);
    }
    free(order);
    return rc;
}

/* ======================= select ======================= */

static void mark(const struct mtr_dbt_project *p, int i, int up, unsigned char *mask)
{
    if (mask[i] & (up ? 2 : 4))
        return;
    mask[i] |= (unsigned char)(1 | (up ? 2 : 4));
    if (up) {
        for (int k = 0; k < p->nodes[i].ndeps; k++)
            mark(p, p->nodes[i].deps[k], 1, mask);
    } else {
        for (int j = 0; j < p->nnodes; j++)
            for (int k = 0; k < p->nodes[j].ndeps; k++)
                if (p->nodes[j].deps[k] == i)
                    mark(p, j, 0, mask);
    }
}

int mtr_transform_select(const struct mtr_dbt_project *p, const char *sel, unsigned char *mask,
                         struct mtr_errbuf *eb)
{
    int all = !sel || !*sel;
    memset(mask, all, (size_t)p->nnodes);
    if (all)
        return 0;
    const char *s = sel;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && *e != ' ' && *e != ',')
            e++;
        int up = *s == '+';
        int down = e > s + up && e[-1] == '+';
        const char *a = s + up, *b = e - down;
        char name[MTR_DBT_NAME_MAX];
        if (b <= a || (size_t)(b - a) >= sizeof name)
            return mtr_err(eb, MTR_EINVAL, "bad selector '%.*s'", (int)(e - s), s);
        memcpy(name, a, (size_t)(b - a));
        name[b - a] = '\0';
        int i = mtr_dbt_find_node(p, name);
        if (i < 0)
            return mtr_err(eb, MTR_ENOTFOUND, "--select %s: no model or seed called '%s'", sel,
                           name);
        mask[i] |= 1;
        if (up)
            mark(p, i, 1, mask);
        if (down)
            mark(p, i, 0, mask);
        s = e;
    }
    for (int i = 0; i < p->nnodes; i++)
        mask[i] = mask[i] ? 1 : 0;
    return 0;
}

/* ======================= run ======================= */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(mtr_transform_report_fn report, void *ctx, enum mtr_transform_status st, int index,
                 int total, const char *what, const char *name, int64_t failures, double secs,
                 const char *msg)
{
    if (!report)
        return;
    struct mtr_transform_event ev = {st, index, total, what, name, failures, secs, msg};
    report(ctx, &ev);
}

static int exec_or_rollback(struct mtr_sql *db, const char *sql)
{
    int rc = db->ops->exec(db, sql);
    if (rc < 0) {
        struct mtr_errbuf keep = db->err;
        db->ops->exec(db, "rollback");
        db->err = keep;
    }
    return rc;
}

/* Builds a seed: drop, create with inferred column types, insert every row, in one transaction. */
static int build_seed(struct mtr_dbt_project *p, struct mtr_dbt_node *n, struct mtr_sql *db)
{
    char rel[2 * MTR_DBT_NAME_MAX + 2];
    relation(p, n->name, rel, sizeof rel);
    struct sb b = {0};
    int rc = sb_printf(&b, "create table %s (", rel);
    for (int c = 0; rc == 0 && c < n->ncols; c++) {
        /* BIGINT / DOUBLE PRECISION / TEXT: the same spelling works on SQLite and PostgreSQL */
        int is_int = 1, is_num = 1;
        for (int r = 0; r < n->nrows; r++) {
            const char *v = n->cells[r * n->ncols + c], *end;
            if (!*v)
                continue;
            strtoll(v, (char **)&end, 10);
            is_int &= *end == '\0';
            strtod(v, (char **)&end);
            is_num &= *end == '\0';
        }
        rc = sb_printf(&b, "%s%s %s", c ? ", " : "", n->cols[c],
                       is_int   ? "BIGINT"
                       : is_num ? "DOUBLE PRECISION"
                                : "TEXT");
    }
    if (rc == 0)
        rc = sb_printf(&b, ")");
    for (int r = 0; rc == 0 && r < n->nrows; r++) {
        rc = sb_printf(&b, ";\ninsert into %s values (", rel);
        for (int c = 0; rc == 0 && c < n->ncols; c++) {
            const char *v = n->cells[r * n->ncols + c];
            if (c)
                rc = sb_printf(&b, ", ");
            if (rc == 0)
                rc = *v ? sb_quote(&b, v) : sb_printf(&b, "null");
        }
        if (rc == 0)
            rc = sb_printf(&b, ")");
    }
    if (rc < 0) {
        free(b.p);
        return mtr_err(&db->err, rc, "out of memory");
    }
    enum mtr_sql_relation kind = MTR_REL_NONE;
    rc = db->ops->exec(db, "begin");
    if (rc == 0)
        rc = db->ops->relation_kind(db, rel, &kind);
    if (rc == 0 && kind != MTR_REL_NONE)
        rc = db->ops->drop(db, rel, kind);
    if (rc == 0)
        rc = db->ops->exec(db, b.p);
    if (rc == 0)
        rc = db->ops->exec(db, "commit");
    if (rc < 0) {
        struct mtr_errbuf keep = db->err;
        db->ops->exec(db, "rollback");
        db->err = keep;
    }
    free(b.p);
    return rc;
}

static int build_model(struct mtr_dbt_project *p, struct mtr_dbt_node *n, struct mtr_sql *db)
{
    char rel[2 * MTR_DBT_NAME_MAX + 2], tmp[2 * MTR_DBT_NAME_MAX + 16];
    relation(p, n->name, rel, sizeof rel);
    snprintf(tmp, sizeof tmp, "%s__dbt_tmp", rel);
    struct sb b = {0};
    enum mtr_sql_relation kind = MTR_REL_NONE, tkind = MTR_REL_NONE;
    int rc = db->ops->exec(db, "begin");
    if (rc < 0)
        return rc;
    rc = db->ops->relation_kind(db, rel, &kind);
    if (rc == 0 && n->mat == MTR_DBT_VIEW) {
        if (kind != MTR_REL_NONE)
            rc = db->ops->drop(db, rel, kind);
        if (rc == 0)
            rc = sb_printf(&b, "create view %s as\n%s\n", rel, n->sql) < 0 ? MTR_ENOMEM : 0;
        if (rc == 0)
            rc = db->ops->exec(db, b.p);
    } else if (rc == 0) {
        /* build aside, then swap: readers never see a half-built table */
        rc = db->ops->relation_kind(db, tmp, &tkind);
        if (rc == 0 && tkind != MTR_REL_NONE)
            rc = db->ops->drop(db, tmp, tkind);
        if (rc == 0)
            rc = sb_printf(&b, "create table %s as\n%s\n", tmp, n->sql) < 0 ? MTR_ENOMEM : 0;
        if (rc == 0)
            rc = db->ops->exec(db, b.p);
        if (rc == 0 && kind != MTR_REL_NONE)
            rc = db->ops->drop(db, rel, kind);
        if (rc == 0) {
            b.len = 0;
            /* ALTER ... RENAME TO takes an unqualified name on both databases */
            rc = sb_printf(&b, "alter table %s rename to %s", tmp, n->name) < 0 ? MTR_ENOMEM : 0;
            if (rc == 0)
                rc = db->ops->exec(db, b.p);
        }
    }
    if (rc == MTR_ENOMEM)
        mtr_err(&db->err, rc, "out of memory");
    if (rc == 0)
        rc = exec_or_rollback(db, "commit");
    else {
        struct mtr_errbuf keep = db->err;
        db->ops->exec(db, "rollback");
        db->err = keep;
    }
    free(b.p);
    return rc;
}

int mtr_transform_run(struct mtr_dbt_project *p, struct mtr_sql *db, const unsigned char *mask,
                      mtr_transform_report_fn report, void *ctx, struct mtr_transform_totals *t)
{
    memset(t, 0, sizeof *t);
    int *order = malloc(((size_t)p->nnodes + 1) * sizeof *order);
    int *failed = calloc((size_t)p->nnodes + 1, sizeof *failed); /* 1 error, 2 skipped */
    if (!order || !failed) {
        free(order);
        free(failed);
        return MTR_ENOMEM;
    }
    int n = mtr_transform_order(p, order), total = 0, idx = 0;
    for (int i = 0; i < n; i++)
        total += !mask || mask[order[i]];
    t->total = total;
    for (int i = 0; i < n; i++) {
        int k = order[i];
        if (mask && !mask[k])
            continue;
        struct mtr_dbt_node *node = &p->nodes[k];
        const char *what = node->kind == MTR_DBT_SEED  ? "seed file"
                           : node->mat == MTR_DBT_VIEW ? "sql view model"
                                                       : "sql table model";
        idx++;
        const char *up = NULL;
        for (int d = 0; d < node->ndeps && !up; d++)
            if (failed[node->deps[d]])
                up = p->nodes[node->deps[d]].name;
        if (up) {
            failed[k] = 2;
            t->skip++;
            emit(report, ctx, MTR_TS_SKIP, idx, total, what, node->name, 0, 0, up);
            continue;
        }
        emit(report, ctx, MTR_TS_START, idx, total, what, node->name, 0, 0, NULL);
        double t0 = now_s();
        int rc = node->kind == MTR_DBT_SEED ? build_seed(p, node, db) : build_model(p, node, db);
        double secs = now_s() - t0;
        if (rc < 0) {
            failed[k] = 1;
            t->error++;
            emit(report, ctx, MTR_TS_ERROR, idx, total, what, node->name, 0, secs, db->err.msg);
        } else {
            t->pass++;
            emit(report, ctx, MTR_TS_OK, idx, total, what, node->name, 0, secs, NULL);
        }
    }
    free(order);
    free(failed);
    return t->error || t->skip ? MTR_ESTORE : 0;
}

int mtr_transform_test(struct mtr_dbt_project *p, struct mtr_sql *db, const unsigned char *mask,
                       mtr_transform_report_fn report, void *ctx, struct mtr_transform_totals *t)
{
    memset(t, 0, sizeof *t);
    int total = 0, idx = 0;
    for (int i = 0; i < p->ntests; i++) {
        const struct mtr_dbt_test *x = &p->tests[i];
        total += !mask || (x->node >= 0 && mask[x->node]);
    }
    t->total = total;
    struct sb b = {0};
    for (int i = 0; i < p->ntests; i++) {
        struct mtr_dbt_test *x = &p->tests[i];
        if (mask && (x->node < 0 || !mask[x->node]))
            continue;
        idx++;
        emit(report, ctx, MTR_TS_START, idx, total, "test", x->name, 0, 0, NULL);
        b.len = 0;
        if (sb_printf(&b, "select count(*) from (\n%s\n) as dbt_test", x->sql) < 0) {
            free(b.p);
            return MTR_ENOMEM;
        }
        double t0 = now_s();
        int64_t failures = 0;
        int rc = db->ops->query_int(db, b.p, &failures);
        double secs = now_s() - t0;
        if (rc < 0) {
            t->error++;
            emit(report, ctx, MTR_TS_ERROR, idx, total, "test", x->name, 0, secs, db->err.msg);
        } else if (failures == 0) {
            t->pass++;
            emit(report, ctx, MTR_TS_PASS, idx, total, "test", x->name, 0, secs, NULL);
        } else if (x->warn) {
            t->warn++;
            emit(report, ctx, MTR_TS_WARN, idx, total, "test", x->name, failures, secs, NULL);
        } else {
            t->error++;
            emit(report, ctx, MTR_TS_FAIL, idx, total, "test", x->name, failures, secs, NULL);
        }
    }
    free(b.p);
    return t->error ? MTR_ERANGE : 0;
}
