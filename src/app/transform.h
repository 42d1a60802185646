/*
 * transform.h - `metrify transform`: a dbt project held in memory (models, seeds, sources,
 * schema tests, vars), its compilation through the Jinja subset, the dependency graph with dbt's
 * selection syntax, and the execution of models and tests through the SQL port (app/sql_port.h).
 * Loading the project from disk is the adapter's job (adapters/dbt/project.h); nothing here
 * touches files.
 */
#ifndef MTR_TRANSFORM_H
#define MTR_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "app/sql_port.h"
#include "base/err.h"

#define MTR_DBT_NAME_MAX 128
#define MTR_DBT_PATH_MAX 512

enum mtr_dbt_kind { MTR_DBT_MODEL, MTR_DBT_SEED };
enum mtr_dbt_mat { MTR_DBT_VIEW, MTR_DBT_TABLE };

/* A model or a seed: a node of the graph, materialised as a relation of the same name. */
struct mtr_dbt_node {
    enum mtr_dbt_kind kind;
    char name[MTR_DBT_NAME_MAX];
    char path[MTR_DBT_PATH_MAX]; /* relative to the project directory, for messages */
    char fqn[MTR_DBT_PATH_MAX];  /* "project.staging.stg_x", as dbt ls prints it */
    enum mtr_dbt_mat mat;        /* seeds: always table */
    char *raw;                   /* model: the .sql text (owned) */
    char *sql;                   /* model: the compiled SELECT, after mtr_transform_compile */
    int *deps;                   /* indices of the nodes it refs (owned) */
    int ndeps;
    /* seed: header and cells, row-major (owned strings) */
    int ncols, nrows;
    char **cols, **cells;
};

struct mtr_dbt_source {
    char source[MTR_DBT_NAME_MAX], table[MTR_DBT_NAME_MAX];
    char identifier[MTR_DBT_NAME_MAX]; /* the table's name in the database */
};

enum mtr_dbt_test_kind {
    MTR_TEST_NOT_NULL,
    MTR_TEST_UNIQUE,
    MTR_TEST_ACCEPTED_VALUES,
    MTR_TEST_RELATIONSHIPS,
    MTR_TEST_ACCEPTED_RANGE
};

/* One generic test of a schema.yml (or sources.yml) column. */
struct mtr_dbt_test {
    enum mtr_dbt_test_kind kind;
    char name[256];              /* dbt-style: not_null_dim_meters_meter_id */
    char file[MTR_DBT_PATH_MAX]; /* where it is declared, with line: "models/x.yml:12" */
    int node;                    /* the tested node, or -1 for a source table */
    int source;                  /* the tested source table when node is -1 */
    char column[MTR_DBT_NAME_MAX];
    char **values; /* accepted_values (owned) */
    int nvalues;
    int quote;                    /* accepted_values: quote the values (dbt default 1) */
    char to[MTR_DBT_NAME_MAX];    /* relationships: the referenced node's name */
    int to_node;                  /* its index, resolved by mtr_transform_compile */
    char field[MTR_DBT_NAME_MAX]; /* relationships: the referenced column */
    char min[64], max[64];        /* accepted_range bounds as written ("" = open) */
    int inclusive;                /* accepted_range: 1 (default) >= / <=, 0 > / < */
    int warn;                     /* severity: warn */
    char *sql;                    /* the failing-rows query, after compile (owned) */
};

struct mtr_dbt_var {
    char name[MTR_DBT_NAME_MAX];
    char value[512];
};

/* Materialisation defaults per directory, from dbt_project.yml models: <project>: <dir>: */
struct mtr_dbt_dir_config {
    char dir[MTR_DBT_PATH_MAX]; /* relative to the model path, "" = every model */
    enum mtr_dbt_mat mat;
};

struct mtr_dbt_project {
    char name[MTR_DBT_NAME_MAX];
    char dir[MTR_DBT_PATH_MAX];
    struct mtr_dbt_node *nodes;
    int nnodes;
    struct mtr_dbt_source *sources;
    int nsources;
    struct mtr_dbt_test *tests;
    int ntests;
    struct mtr_dbt_var *vars; /* project vars, then --vars overrides appended (last wins) */
    int nvars;
    struct mtr_dbt_dir_config *dirs;
    int ndirs;
    char schema[MTR_DBT_NAME_MAX];     /* relation prefix "schema." for models and seeds; "" none */
    char model_path[MTR_DBT_PATH_MAX]; /* relative to dir: "models" unless model-paths says */
    char seed_path[MTR_DBT_PATH_MAX];  /* relative to dir: "seeds" unless seed-paths says */
};

/* Frees everything the project owns (not p itself). NULL-safe. */
void mtr_dbt_project_free(struct mtr_dbt_project *p);

/* Adds or overrides a var (the last definition wins). MTR_ENOMEM. */
int mtr_dbt_project_set_var(struct mtr_dbt_project *p, const char *name, const char *value);

/* Index of the node called name, or -1. */
int mtr_dbt_find_node(const struct mtr_dbt_project *p, const char *name);

/*
 * Compiles every model through the Jinja subset (refs become relation names, deps are filled),
 * resolves test targets, builds each test's failing-rows query, and checks that the graph has no
 * cycle. Errors: MTR_EPARSE (a construct outside the subset: file:line:col), MTR_ENOTFOUND (ref
 * to an unknown model/seed, unknown source, test on an unknown model), MTR_EINVAL (a cycle,
 * naming it; a bad config value), MTR_ENOMEM. eb says which.
 */
int mtr_transform_compile(struct mtr_dbt_project *p, struct mtr_errbuf *eb);

/*
 * Selects nodes: sel is NULL/"" for all, else space- or comma-separated selectors, each a node
 * name optionally with dbt's graph operators: "+name" (with its ancestors), "name+" (with its
 * descendants), "+name+". mask (p->nnodes entries, caller-owned) is set to 1 for selected nodes.
 * MTR_ENOTFOUND when a selector names no node (eb names it). Needs mtr_transform_compile first.
 */
int mtr_transform_select(const struct mtr_dbt_project *p, const char *sel, unsigned char *mask,
                         struct mtr_errbuf *eb);

/* Fills order (p->nnodes entries, caller-owned) with a topological order of all nodes (every
 * node after its deps; ties by name, so the order is stable); returns the count. */
int mtr_transform_order(const struct mtr_dbt_project *p, int *order);

/* What happened to one node or test, reported as it happens. */
enum mtr_transform_status {
    MTR_TS_START,
    MTR_TS_OK,   /* model/seed built */
    MTR_TS_PASS, /* test found no failing row */
    MTR_TS_WARN, /* test with severity warn found failing rows */
    MTR_TS_FAIL, /* test found failing rows */
    MTR_TS_ERROR,
    MTR_TS_SKIP /* an upstream node failed */
};
struct mtr_transform_event {
    enum mtr_transform_status status;
    int index, total; /* 1-based position among the nodes/tests being run */
    const char *what; /* "view model", "table model", "seed file", "test" */
    const char *name;
    int64_t failures; /* tests: failing rows */
    double seconds;
    const char *message; /* ERROR: the database's message; SKIP: the failed upstream node */
};
typedef void (*mtr_transform_report_fn)(void *ctx, const struct mtr_transform_event *ev);

struct mtr_transform_totals {
    int pass, warn, error, skip, total;
};

/*
 * Materialises the selected nodes (mask from mtr_transform_select; NULL = all) in dependency
 * order: seeds as tables (dropped, created, filled), views by drop + CREATE VIEW, tables by
 * CREATE TABLE name__dbt_tmp AS, drop, rename, each in a transaction. A failed node is ERROR and
 * every selected node downstream of it SKIP. report (may be NULL) sees START and the outcome of
 * each node. Returns 0 when every node was built, MTR_ESTORE when any failed (totals filled
 * either way), MTR_ENOMEM.
 */
int mtr_transform_run(struct mtr_dbt_project *p, struct mtr_sql *db, const unsigned char *mask,
                      mtr_transform_report_fn report, void *ctx, struct mtr_transform_totals *t);

/*
 * Runs the tests of the selected nodes (NULL = all, tests on sources included only then):
 * counts the failing rows of each. PASS with 0 rows, else FAIL (WARN with severity warn); a
 * query that cannot run is ERROR. Returns 0 when no test failed or errored, MTR_ERANGE when a
 * test failed (exit 1 in the CLI), MTR_ENOMEM.
 */
int mtr_transform_test(struct mtr_dbt_project *p, struct mtr_sql *db, const unsigned char *mask,
                       mtr_transform_report_fn report, void *ctx, struct mtr_transform_totals *t);

#endif
