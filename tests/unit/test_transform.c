/*
 * test_transform.c - the transform use case on projects built in memory: compilation and
 * dependencies, topological order, cycles, dbt's --select operators, the failing-rows query of
 * each test kind, and run/test against a fake SQL port that records statements (materialisation
 * sequences, ERROR and SKIP propagation, PASS/FAIL/WARN/ERROR of tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <unistd.h>

#include "adapters/sqlite/sqlite_sql.h"
#include "app/transform.h"
#include "t.h"

/* ---- building projects ---- */

static void add_model(struct mtr_dbt_project *p, const char *name, const char *sql)
{
    p->nodes = realloc(p->nodes, (size_t)(p->nnodes + 1) * sizeof *p->nodes);
    struct mtr_dbt_node *n = &p->nodes[p->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = MTR_DBT_MODEL;
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->path, sizeof n->path, "models/%s.sql", name);
    n->raw = strdup(sql);
}

static void add_seed(struct mtr_dbt_project *p, const char *name)
{
    p->nodes = realloc(p->nodes, (size_t)(p->nnodes + 1) * sizeof *p->nodes);
    struct mtr_dbt_node *n = &p->nodes[p->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = MTR_DBT_SEED;
    n->mat = MTR_DBT_TABLE;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->ncols = 2;
    n->nrows = 2;
    n->cols = calloc(2, sizeof *n->cols);
    n->cols[0] = strdup("code");
    n->cols[1] = strdup("label");
    n->cells = calloc(4, sizeof *n->cells);
    n->cells[0] = strdup("1");
    n->cells[1] = strdup("it's");
    n->cells[2] = strdup("2");
    n->cells[3] = strdup("");
}

static struct mtr_dbt_test *add_test(struct mtr_dbt_project *p, enum mtr_dbt_test_kind kind,
                                     int node, const char *column)
{
    p->tests = realloc(p->tests, (size_t)(p->ntests + 1) * sizeof *p->tests);
    struct mtr_dbt_test *t = &p->tests[p->ntests++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->node = node;
    t->quote = 1;
    t->inclusive = 1;
    t->to_node = -1;
    snprintf(t->column, sizeof t->column, "%s", column);
    snprintf(t->name, sizeof t->name, "t%d_%s", p->ntests, column);
    return t;
}

/* a -> b -> d, a -> c -> d, e alone; sources and one seed */
static void diamond(struct mtr_dbt_project *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "proj");
    p->sources = calloc(1, sizeof *p->sources);
    p->nsources = 1;
    snprintf(p->sources[0].source, sizeof p->sources[0].source, "metrify");
    snprintf(p->sources[0].table, sizeof p->sources[0].table, "readings");
    snprintf(p->sources[0].identifier, sizeof p->sources[0].identifier, "readings");
    add_model(p, "d", "select * from {{ ref('b') }} join {{ ref('c') }} using (k)");
    add_model(p, "b", "{{ config(materialized='table') }}select k from {{ ref('a') }};\n");
    add_model(p, "c", "select k from {{ ref('a') }} join {{ ref('codes') }} on 1 = 1");
    add_model(p, "a", "select meter_key as k from {{ source('metrify', 'readings') }}");
    add_model(p, "e", "select {{ var('x', 7) }} as k");
    add_seed(p, "codes");
}

static int idx(const struct mtr_dbt_project *p, const char *name)
{
    return mtr_dbt_find_node(p, name);
}

static void test_compile_fills_sql_deps_and_materialisation(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    struct mtr_dbt_node *b = &p.nodes[idx(&p, "b")], *d = &p.nodes[idx(&p, "d")];
    T_EQ_STR(b->sql, "select k from a"); /* config gone, trailing ';' stripped */
    T_EQ_INT(b->mat, MTR_DBT_TABLE);
    T_EQ_INT(d->mat, MTR_DBT_VIEW);
    T_EQ_INT(d->ndeps, 2);
    T_EQ_STR(p.nodes[idx(&p, "a")].sql, "select meter_key as k from readings");
    T_EQ_STR(p.nodes[idx(&p, "e")].sql, "select 7 as k");
    T_EQ_INT(mtr_dbt_project_set_var(&p, "x", "42"), 0);
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    T_EQ_STR(p.nodes[idx(&p, "e")].sql, "select 42 as k");
    snprintf(p.schema, sizeof p.schema, "analytics");
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    T_EQ_STR(b->sql, "select k from analytics.a");
    mtr_dbt_project_free(&p);
}

static void test_order_is_topological_and_stable(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    int order[8];
    T_EQ_INT(mtr_transform_order(&p, order), 6);
    const char *want[] = {"a", "b", "codes", "c", "d", "e"};
    for (int i = 0; i < 6; i++)
        T_EQ_STR(p.nodes[order[i]].name, want[i]);
    mtr_dbt_project_free(&p);
}

static void test_cycles_and_unknown_refs_are_errors(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    memset(&p, 0, sizeof p);
    add_model(&p, "x", "select * from {{ ref('y') }}");
    add_model(&p, "y", "select * from {{ ref('z') }}");
    add_model(&p, "z", "select * from {{ ref('x') }}");
    add_model(&p, "w", "select 1");
    T_EQ_INT(mtr_transform_compile(&p, &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "dependency cycle: ") != NULL);
    T_CHECK(strstr(eb.msg, "x -> ") && strstr(eb.msg, "y -> ") && strstr(eb.msg, "z"));
    mtr_dbt_project_free(&p);

    memset(&p, 0, sizeof p);
    add_model(&p, "x", "select *\nfrom {{ ref('nope') }}");
    T_EQ_INT(mtr_transform_compile(&p, &eb), MTR_ENOTFOUND);
    T_EQ_STR(eb.msg, "models/x.sql:2:9: ref('nope'): no model or seed of that name");
    mtr_dbt_project_free(&p);

    memset(&p, 0, sizeof p);
    add_model(&p, "x", "select * from {{ ref('x') }}");
    T_EQ_INT(mtr_transform_compile(&p, &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "cannot ref itself") != NULL);
    mtr_dbt_project_free(&p);

    memset(&p, 0, sizeof p);
    add_model(&p, "x", "select * from {{ source('metrify', 'nope') }}");
    T_EQ_INT(mtr_transform_compile(&p, &eb), MTR_ENOTFOUND);
    T_CHECK(strstr(eb.msg, "source('metrify', 'nope'): not declared") != NULL);
    mtr_dbt_project_free(&p);

    memset(&p, 0, sizeof p);
    add_model(&p, "x", "{{ config(materialized='ephemeral') }}select 1");
    T_EQ_INT(mtr_transform_compile(&p, &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "only 'view' and 'table'") != NULL);
    mtr_dbt_project_free(&p);
}

/* The selected node names in name order, space-separated. */
static void selected(const struct mtr_dbt_project *p, const char *sel, char *out, size_t cap,
                     int *rc)
{
    unsigned char mask[16];
    struct mtr_errbuf eb = {{0}};
    *rc = mtr_transform_select(p, sel, mask, &eb);
    int order[16];
    int n = mtr_transform_order(p, order);
    out[0] = '\0';
    for (int i = 0; i < n && *rc == 0; i++)
        if (mask[order[i]])
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "",
                     p->nodes[order[i]].name);
}

static void test_select_graph_operators(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    char got[256];
    int rc;
    selected(&p, NULL, got, sizeof got, &rc);
    T_EQ_STR(got, "a b codes c d e");
    selected(&p, "c", got, sizeof got, &rc);
    T_EQ_STR(got, "c");
    selected(&p, "+c", got, sizeof got, &rc);
    T_EQ_STR(got, "a codes c");
    selected(&p, "b+", got, sizeof got, &rc);
    T_EQ_STR(got, "b d");
    selected(&p, "+b+", got, sizeof got, &rc);
    T_EQ_STR(got, "a b d");
    selected(&p, "a+", got, sizeof got, &rc);
    T_EQ_STR(got, "a b c d");
    selected(&p, "codes+ e", got, sizeof got, &rc);
    T_EQ_STR(got, "codes c d e");
    selected(&p, "e,b", got, sizeof got, &rc);
    T_EQ_STR(got, "b e");
    selected(&p, "+nope", got, sizeof got, &rc);
    T_EQ_INT(rc, MTR_ENOTFOUND);
    selected(&p, "+", got, sizeof got, &rc);
    T_EQ_INT(rc, MTR_EINVAL);
    mtr_dbt_project_free(&p);
}

static void test_failing_rows_queries(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    int a = idx(&p, "a");
    add_test(&p, MTR_TEST_NOT_NULL, a, "k");
    add_test(&p, MTR_TEST_UNIQUE, a, "k");
    struct mtr_dbt_test *t = add_test(&p, MTR_TEST_ACCEPTED_VALUES, a, "k");
    t->values = calloc(2, sizeof *t->values);
    t->values[0] = strdup("x'y");
    t->values[1] = strdup("z");
    t->nvalues = 2;
    t = add_test(&p, MTR_TEST_RELATIONSHIPS, a, "k");
    snprintf(t->to, sizeof t->to, "codes");
    snprintf(t->field, sizeof t->field, "code");
    t = add_test(&p, MTR_TEST_ACCEPTED_RANGE, a, "k");
    snprintf(t->min, sizeof t->min, "0");
    snprintf(t->max, sizeof t->max, "1.5");
    t = add_test(&p, MTR_TEST_ACCEPTED_RANGE, a, "k");
    snprintf(t->max, sizeof t->max, "9");
    t->inclusive = 0;
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    T_EQ_STR(p.tests[0].sql, "select k from a where k is null");
    T_EQ_STR(p.tests[1].sql, "select k as unique_field, count(*) as n_records from a where k is "
                             "not null group by k having count(*) > 1");
    T_EQ_STR(p.tests[2].sql, "select k as value_field, count(*) as n_records from a where k is not "
                             "null and k not in ('x''y', 'z') group by k");
    T_EQ_STR(p.tests[3].sql, "select child.k as from_field from a as child left join codes as "
                             "parent on child.k = parent.code where child.k is not null and "
                             "parent.code is null");
    T_EQ_STR(p.tests[4].sql, "select k from a where not (1 = 1 and k >= 0 and k <= 1.5)");
    T_EQ_STR(p.tests[5].sql, "select k from a where not (1 = 1 and k < 9)");
    p.tests[2].quote = 0;
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    T_CHECK(strstr(p.tests[2].sql, "not in (x'y, z)") != NULL);
    snprintf(p.tests[3].to, sizeof p.tests[3].to, "gone");
    T_EQ_INT(mtr_transform_compile(&p, &eb), MTR_ENOTFOUND);
    mtr_dbt_project_free(&p);
}

/* ---- a fake SQL port ---- */

struct fake {
    struct mtr_sql base;
    char log[8192];
    const char *fail_on;  /* exec fails when the SQL contains this */
    int64_t count;        /* what query_int answers */
    const char *existing; /* a relation that exists as a table */
};

static void fake_close(struct mtr_sql *c)
{
}

static void logf_(struct fake *f, const char *s)
{
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "%s|", s);
}

static int fake_exec(struct mtr_sql *c, const char *sql)
{
    struct fake *f = (struct fake *)c;
    char first[80];
    snprintf(first, sizeof first, "%s", sql);
    char *nl = strchr(first, '\n');
    if (nl)
        *nl = '\0';
    logf_(f, first);
    if (f->fail_on && strstr(sql, f->fail_on))
        return mtr_err(&c->err, MTR_ESTORE, "no such column: %s", f->fail_on);
    return 0;
}

static int fake_query(struct mtr_sql *c, const char *sql, int64_t *out)
{
    struct fake *f = (struct fake *)c;
    if (f->fail_on && strstr(sql, f->fail_on))
        return mtr_err(&c->err, MTR_ESTORE, "no such table");
    *out = f->count;
    return 0;
}

static int fake_kind(struct mtr_sql *c, const char *name, enum mtr_sql_relation *kind)
{
    struct fake *f = (struct fake *)c;
    *kind = f->existing && strcmp(name, f->existing) == 0 ? MTR_REL_TABLE : MTR_REL_NONE;
    return 0;
}

static int fake_drop(struct mtr_sql *c, const char *name, enum mtr_sql_relation kind)
{
    char s[200];
    snprintf(s, sizeof s, "DROP %s %s", kind == MTR_REL_VIEW ? "VIEW" : "TABLE", name);
    logf_((struct fake *)c, s);
    return 0;
}

static const struct mtr_sql_ops fake_ops = {"fake",     fake_close, fake_exec,
                                            fake_query, fake_kind,  fake_drop};

struct events {
    char log[4096];
};
static void on_event(void *ctx, const struct mtr_transform_event *ev)
{
    struct events *e = ctx;
    static const char *const names[] = {"START", "OK", "PASS", "WARN", "FAIL", "ERROR", "SKIP"};
    size_t n = strlen(e->log);
    snprintf(e->log + n, sizeof e->log - n, "%d/%d %s %s %lld;", ev->index, ev->total,
             names[ev->status], ev->name, (long long)ev->failures);
}

static void test_run_materialises_in_order(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    struct fake f = {{&fake_ops, {{0}}}, "", NULL, 0, "b"};
    struct events ev = {""};
    struct mtr_transform_totals t;
    unsigned char mask[8];
    T_EQ_INT(mtr_transform_select(&p, "+b codes", mask, &eb), 0);
    T_EQ_INT(mtr_transform_run(&p, &f.base, mask, on_event, &ev, &t), 0);
    T_EQ_INT(t.total, 3);
    T_EQ_INT(t.pass, 3);
    T_EQ_STR(ev.log, "1/3 START a 0;1/3 OK a 0;2/3 START b 0;2/3 OK b 0;3/3 START codes 0;3/3 OK "
                     "codes 0;");
    /* view: create view; table b exists: build aside, drop, rename; seed: typed create + rows */
    T_EQ_STR(f.log, "begin|create view a as|commit|"
                    "begin|create table b__dbt_tmp as|DROP TABLE b|alter table b__dbt_tmp rename "
                    "to b|commit|"
                    "begin|create table codes (code BIGINT, label TEXT);|commit|");
    mtr_dbt_project_free(&p);
}

static void test_run_error_skips_descendants(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    struct fake f = {{&fake_ops, {{0}}}, "", "from a join codes", 0, NULL};
    struct events ev = {""};
    struct mtr_transform_totals t;
    T_EQ_INT(mtr_transform_run(&p, &f.base, NULL, on_event, &ev, &t), MTR_ESTORE);
    T_EQ_INT(t.total, 6);
    T_EQ_INT(t.pass, 4);
    T_EQ_INT(t.error, 1);
    T_EQ_INT(t.skip, 1);
    T_CHECK(strstr(ev.log, "4/6 ERROR c 0;5/6 SKIP d 0;6/6 START e") != NULL);
    T_CHECK(strstr(f.log, "rollback|") != NULL);
    mtr_dbt_project_free(&p);
}

static void test_tests_pass_fail_warn_error(void)
{
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    add_test(&p, MTR_TEST_NOT_NULL, idx(&p, "a"), "k");
    add_test(&p, MTR_TEST_UNIQUE, idx(&p, "b"), "k")->warn = 1;
    add_test(&p, MTR_TEST_NOT_NULL, idx(&p, "c"), "zz");
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    struct fake f = {{&fake_ops, {{0}}}, "", NULL, 0, NULL};
    struct events ev = {""};
    struct mtr_transform_totals t;
    T_EQ_INT(mtr_transform_test(&p, &f.base, NULL, on_event, &ev, &t), 0);
    T_EQ_INT(t.pass, 3);
    f.count = 4;
    ev.log[0] = '\0';
    T_EQ_INT(mtr_transform_test(&p, &f.base, NULL, on_event, &ev, &t), MTR_ERANGE);
    T_EQ_INT(t.error, 2);
    T_EQ_INT(t.warn, 1);
    T_CHECK(strstr(ev.log, "1/3 FAIL t1_k 4;") && strstr(ev.log, "2/3 WARN t2_k 4;"));
    f.count = 0;
    f.fail_on = "zz";
    ev.log[0] = '\0';
    T_EQ_INT(mtr_transform_test(&p, &f.base, NULL, on_event, &ev, &t), MTR_ERANGE);
    T_CHECK(strstr(ev.log, "3/3 ERROR t3_zz 0;") != NULL);
    /* --select: only the tests of selected nodes */
    unsigned char mask[8];
    T_EQ_INT(mtr_transform_select(&p, "b", mask, &eb), 0);
    T_EQ_INT(mtr_transform_test(&p, &f.base, mask, on_event, &ev, &t), 0);
    T_EQ_INT(t.total, 1);
    mtr_dbt_project_free(&p);
}

/* On a real SQLite file: seed, view over a source, table over the view, a view over that table;
 * rebuilding the table swaps it under the dependent view; tests pass, then fail on bad data. */
static void test_sqlite_end_to_end(void)
{
    char path[] = "/tmp/mtr_transform_XXXXXX";
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    close(fd);
    sqlite3 *raw = NULL;
    T_EQ_INT(sqlite3_open(path, &raw), SQLITE_OK);
    T_EQ_INT(sqlite3_exec(raw,
                          "create table readings(meter_key integer, kwh real);"
                          "insert into readings values (1, 0.5), (1, 1.5), (2, 2.0);",
                          NULL, NULL, NULL),
             SQLITE_OK);
    struct mtr_dbt_project p;
    struct mtr_errbuf eb = {{0}};
    diamond(&p);
    /* d is a view over table b: rebuilding b must not break d */
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    int codes = idx(&p, "codes");
    add_test(&p, MTR_TEST_UNIQUE, idx(&p, "a"), "k"); /* k = meter_key: 1 twice */
    struct mtr_dbt_test *rel = add_test(&p, MTR_TEST_RELATIONSHIPS, idx(&p, "b"), "k");
    snprintf(rel->to, sizeof rel->to, "codes");
    snprintf(rel->field, sizeof rel->field, "code");
    add_test(&p, MTR_TEST_NOT_NULL, codes, "code");
    T_EQ_INT(mtr_transform_compile(&p, &eb), 0);
    struct mtr_sql *db = NULL;
    T_EQ_INT(mtr_sqlite_sql_open(path, &db, &eb), 0);
    struct mtr_transform_totals t;
    if (db) {
        for (int round = 0; round < 2; round++) {
            T_EQ_INT(mtr_transform_run(&p, db, NULL, NULL, NULL, &t), 0);
            T_EQ_INT(t.pass, 6);
            int64_t n = -1;
            T_EQ_INT(db->ops->query_int(db, "select count(*) from d", &n), 0);
            T_EQ_INT(n, 10); /* b (k 1, 1, 2) join c (a x 2 codes: k 1 x4, 2 x2) on k: 8 + 2 */
            T_EQ_INT(db->ops->query_int(db, "select count(*) from codes where label is null", &n),
                     0);
            T_EQ_INT(n, 1);
            T_EQ_INT(db->ops->query_int(
                         db, "select count(*) from sqlite_master where name like '%dbt_tmp%'", &n),
                     0);
            T_EQ_INT(n, 0);
        }
        enum mtr_sql_relation kind;
        T_EQ_INT(db->ops->relation_kind(db, "b", &kind), 0);
        T_EQ_INT(kind, MTR_REL_TABLE);
        T_EQ_INT(db->ops->relation_kind(db, "d", &kind), 0);
        T_EQ_INT(kind, MTR_REL_VIEW);
        /* unique(a.k) fails (meter 1 twice); relationships b.k -> codes.code: 1, 2 exist */
        T_EQ_INT(mtr_transform_test(&p, db, NULL, NULL, NULL, &t), MTR_ERANGE);
        T_EQ_INT(t.error, 1);
        T_EQ_INT(t.pass, 2);
        T_EQ_INT(db->ops->exec(db, "delete from readings where kwh = 0.5"), 0);
        T_EQ_INT(mtr_transform_test(&p, db, NULL, NULL, NULL, &t), 0);
        T_EQ_INT(db->ops->exec(db, "insert into readings values (7, 1.0)"), 0);
        T_EQ_INT(mtr_transform_run(&p, db, NULL, NULL, NULL, &t), 0);
        T_EQ_INT(mtr_transform_test(&p, db, NULL, NULL, NULL, &t), MTR_ERANGE); /* 7: no code */
        T_EQ_INT(t.error, 1);
        T_EQ_INT(db->ops->exec(db, "select * from no_such_table"), MTR_ESTORE);
        T_CHECK(strstr(db->err.msg, "no such table") != NULL);
        db->ops->close(db);
    }
    sqlite3_close(raw);
    mtr_dbt_project_free(&p);
    unlink(path);
    T_EQ_INT(mtr_sqlite_sql_open("/nonexistent/dir/x.db", &db, &eb), MTR_EIO);
}

int main(void)
{
    T_RUN(test_compile_fills_sql_deps_and_materialisation);
    T_RUN(test_order_is_topological_and_stable);
    T_RUN(test_cycles_and_unknown_refs_are_errors);
    T_RUN(test_select_graph_operators);
    T_RUN(test_failing_rows_queries);
    T_RUN(test_run_materialises_in_order);
    T_RUN(test_run_error_skips_descendants);
    T_RUN(test_tests_pass_fail_warn_error);
    T_RUN(test_sqlite_end_to_end);
    return T_END();
}
