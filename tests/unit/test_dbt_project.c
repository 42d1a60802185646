/*
 * test_dbt_project.c - loading dbt projects: dbt_project.yml settings and their errors,
 * properties files (tests of every kind, sources) and their errors with file:line, --vars,
 * a project on disk with a seed, and the shipped dbt/ project, which must load and compile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/dbt/project.h"
#include "t.h"

static struct mtr_errbuf EB;

static void expect_msg(const char *want)
{
    if (!strstr(EB.msg, want))
        t_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", EB.msg, want);
}

static void test_project_config(void)
{
    struct mtr_dbt_project p;
    memset(&p, 0, sizeof p);
    const char *yml = "name: shop\nmodel-paths: [\"m\"]\nvars:\n  a: 1\n  b: text\n"
                      "models:\n  shop:\n    +materialized: table\n    staging:\n"
                      "      +materialized: view\n      deep:\n        materialized: table\n"
                      "    +persist_docs: {relation: true}\n";
    T_EQ_INT(mtr_dbt_project_parse_config(&p, "dbt_project.yml", yml, &EB), 0);
    T_EQ_STR(p.name, "shop");
    T_EQ_STR(p.model_path, "m");
    T_EQ_STR(p.seed_path, "seeds");
    T_EQ_INT(p.nvars, 2);
    T_EQ_STR(p.vars[1].name, "b");
    T_EQ_STR(p.vars[1].value, "text");
    T_EQ_INT(p.ndirs, 3);
    T_EQ_STR(p.dirs[0].dir, "");
    T_EQ_INT(p.dirs[0].mat, MTR_DBT_TABLE);
    T_EQ_STR(p.dirs[2].dir, "staging/deep");
    T_EQ_INT(mtr_dbt_project_parse_vars(&p, "{a: 5, c: 'x y'}", &EB), 0);
    T_EQ_INT(p.nvars, 4);
    T_EQ_STR(p.vars[2].value, "5");
    T_EQ_STR(p.vars[3].value, "x y");
    mtr_dbt_project_free(&p);
}

static void test_project_config_errors(void)
{
    struct mtr_dbt_project p;
    static const struct {
        const char *yml, *want;
        int rc;
    } cases[] = {
        {"name: [x\n", "dbt_project.yml:2:1: YAML:", MTR_EPARSE},
        {"- a\n", "dbt_project.yml:1: expected a mapping", MTR_EINVAL},
        {"version: 2\n", "'name' is required", MTR_EINVAL},
        {"name: a\nvars:\n  br:\n    peak: 17\n", "dbt_project.yml:4: var 'br': only scalar",
         MTR_EINVAL},
        {"name: a\nmodels:\n  a:\n    +materialized: incremental\n",
         "dbt_project.yml:4: materialized must be 'view' or 'table'", MTR_EINVAL},
        {"name: a\nmodels:\n  other:\n    +materialized: view\n", "project name", MTR_EINVAL},
        {"name: a\nmodels:\n  a:\n    +schema: marts\n", "'+schema' is not supported", MTR_EINVAL},
        {"name: a\nmodel-paths: [x, y]\n", "only one path", MTR_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&p, 0, sizeof p);
        memset(&EB, 0, sizeof EB);
        T_EQ_INT(mtr_dbt_project_parse_config(&p, "dbt_project.yml", cases[i].yml, &EB),
                 cases[i].rc);
        expect_msg(cases[i].want);
        mtr_dbt_project_free(&p);
    }
    memset(&p, 0, sizeof p);
    T_EQ_INT(mtr_dbt_project_parse_vars(&p, "{a: [1, 2]}", &EB), MTR_EINVAL);
    T_EQ_INT(mtr_dbt_project_parse_vars(&p, "{a: ", &EB), MTR_EPARSE);
    mtr_dbt_project_free(&p);
}

/* A project with models m1, m2 in memory, for properties files. */
static void two_models(struct mtr_dbt_project *p)
{
    memset(p, 0, sizeof *p);
    p->nodes = calloc(2, sizeof *p->nodes);
    p->nnodes = 2;
    snprintf(p->nodes[0].name, sizeof p->nodes[0].name, "m1");
    snprintf(p->nodes[1].name, sizeof p->nodes[1].name, "m2");
}

static void test_properties_tests_and_sources(void)
{
    struct mtr_dbt_project p;
    two_models(&p);
    const char *yml = "version: 2\n"
                      "sources:\n"
                      "  - name: raw\n"
                      "    tables:\n"
                      "      - name: readings\n"
                      "      - name: meters\n"
                      "        identifier: meter_master\n"
                      "        columns:\n"
                      "          - name: id\n"
                      "            tests: [unique]\n"
                      "models:\n"
                      "  - name: m1\n"
                      "    columns:\n"
                      "      - name: id\n"
                      "        data_tests:\n"
                      "          - not_null\n"
                      "          - unique:\n"
                      "              config: {severity: warn}\n"
                      "          - accepted_values:\n"
                      "              values: [0, 1]\n"
                      "              quote: false\n"
                      "          - relationships:\n"
                      "              to: ref('m2')\n"
                      "              field: key\n"
                      "          - dbt_utils.accepted_range:\n"
                      "              min_value: -1.5\n"
                      "              inclusive: false\n"
                      "      - name: undocumented_column\n";
    T_EQ_INT(mtr_dbt_project_parse_properties(&p, "models/s.yml", yml, &EB), 0);
    T_EQ_INT(p.nsources, 2);
    T_EQ_STR(p.sources[0].identifier, "readings");
    T_EQ_STR(p.sources[1].identifier, "meter_master");
    T_EQ_INT(p.ntests, 6);
    T_EQ_STR(p.tests[0].name, "source_unique_raw_meters_id");
    T_EQ_INT(p.tests[0].node, -1);
    T_EQ_INT(p.tests[0].source, 1);
    T_EQ_STR(p.tests[1].name, "not_null_m1_id");
    T_EQ_STR(p.tests[1].file, "models/s.yml:16");
    T_EQ_INT(p.tests[2].warn, 1);
    T_EQ_STR(p.tests[3].name, "accepted_values_m1_id__0_1");
    T_EQ_INT(p.tests[3].nvalues, 2);
    T_EQ_INT(p.tests[3].quote, 0);
    T_EQ_STR(p.tests[4].to, "m2");
    T_EQ_STR(p.tests[4].field, "key");
    T_EQ_STR(p.tests[4].name, "relationships_m1_id__key__ref_m2_");
    T_EQ_INT(p.tests[5].kind, MTR_TEST_ACCEPTED_RANGE);
    T_EQ_STR(p.tests[5].min, "-1.5");
    T_EQ_STR(p.tests[5].max, "");
    T_EQ_INT(p.tests[5].inclusive, 0);
    mtr_dbt_project_free(&p);
}

static void test_properties_errors(void)
{
    static const struct {
        const char *yml, *want;
        int rc;
    } cases[] = {
        {"models: []\n", "s.yml:1: properties files need 'version: 2'", MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: ghost\n", "s.yml:3: model 'ghost' is described but",
         MTR_ENOTFOUND},
        {"version: 2\nmodels:\n  - name: m1\n    columns:\n      - name: a\n        tests:\n"
         "          - dbt_expectations.expect_column_values_to_be_between\n",
         "s.yml:7: test 'dbt_expectations.expect_column_values_to_be_between' is not supported",
         MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: m1\n    columns:\n      - name: a\n        tests:\n"
         "          - accepted_values: {quote: false}\n",
         "s.yml:7: accepted_values needs a 'values' list", MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: m1\n    columns:\n      - name: a\n        tests:\n"
         "          - relationships: {to: \"source('a', 'b')\", field: x}\n",
         "relationships needs to: ref('model')", MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: m1\n    columns:\n      - name: a\n        tests:\n"
         "          - dbt_utils.accepted_range: {min_value: low}\n",
         "s.yml:7: min_value must be a number", MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: m1\n    columns:\n      - name: a\n        tests:\n"
         "          - not_null: {config: {severity: fatal}}\n",
         "severity must be warn or error", MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: m1\n    tests: [x]\n", "model-level tests are not",
         MTR_EINVAL},
        {"version: 2\nseeds:\n  - name: m1\n",
         "s.yml:3: seed 'm1' is described but there is no "
         "m1.csv",
         MTR_ENOTFOUND},
        {"version: 2\nsources:\n  - name: raw\n    tables:\n      - name: t\n      - name: t\n",
         "s.yml:6: source table declared twice", MTR_EINVAL},
        {"version: 2\nmodels:\n  - name: m1\n    columns:\n  - bad: [\n", "s.yml:", MTR_EPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mtr_dbt_project p;
        two_models(&p);
        memset(&EB, 0, sizeof EB);
        T_EQ_INT(mtr_dbt_project_parse_properties(&p, "s.yml", cases[i].yml, &EB), cases[i].rc);
        expect_msg(cases[i].want);
        mtr_dbt_project_free(&p);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_load_from_disk(void)
{
    char dir[] = "/tmp/mtr_dbt_XXXXXX", path[256];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/dbt_project.yml", dir);
    write_file(path, "name: p\nmodels:\n  p:\n    marts:\n      +materialized: table\n");
    snprintf(path, sizeof path, "%s/models", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/models/marts", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/seeds", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/seeds/kinds.csv", dir);
    write_file(path, "kind,weight\nsmall,1.5\n\"big, really\",\n");
    snprintf(path, sizeof path, "%s/models/stg.sql", dir);
    write_file(path, "select kind from {{ ref('kinds') }}\n");
    snprintf(path, sizeof path, "%s/models/marts/fct.sql", dir);
    write_file(path, "select * from {{ ref('stg') }}\n");
    snprintf(path, sizeof path, "%s/models/marts/schema.yml", dir);
    write_file(path, "version: 2\nmodels:\n  - name: fct\n    columns:\n      - name: kind\n"
                     "        data_tests: [not_null]\n");
    snprintf(path, sizeof path, "%s/seeds/props.yml", dir);
    write_file(path, "version: 2\nseeds:\n  - name: kinds\n    columns:\n      - name: kind\n"
                     "        data_tests: [unique]\n");
    struct mtr_dbt_project p;
    T_EQ_INT(mtr_dbt_project_load(dir, &p, &EB), 0);
    T_EQ_INT(p.nnodes, 3);
    int fct = mtr_dbt_find_node(&p, "fct"), stg = mtr_dbt_find_node(&p, "stg"),
        kinds = mtr_dbt_find_node(&p, "kinds");
    T_CHECK(fct >= 0 && stg >= 0 && kinds >= 0);
    if (fct >= 0 && stg >= 0 && kinds >= 0) {
        T_EQ_INT(p.nodes[fct].mat, MTR_DBT_TABLE);
        T_EQ_INT(p.nodes[stg].mat, MTR_DBT_VIEW);
        T_EQ_STR(p.nodes[fct].fqn, "p.marts.fct");
        T_EQ_STR(p.nodes[fct].path, "models/marts/fct.sql");
        T_EQ_INT(p.nodes[kinds].kind, MTR_DBT_SEED);
        T_EQ_INT(p.nodes[kinds].nrows, 2);
        T_EQ_STR(p.nodes[kinds].cells[2], "big, really");
        T_EQ_STR(p.nodes[kinds].cells[3], "");
    }
    T_EQ_INT(p.ntests, 2);
    if (p.ntests == 2) {
        T_EQ_STR(p.tests[1].name, "unique_kinds_kind");
        T_EQ_INT(p.tests[1].node, kinds);
    }
    T_EQ_INT(mtr_transform_compile(&p, &EB), 0);
    mtr_dbt_project_free(&p);

    /* a ragged seed row is an error with its line */
    snprintf(path, sizeof path, "%s/seeds/kinds.csv", dir);
    write_file(path, "kind,weight\nsmall\n");
    T_EQ_INT(mtr_dbt_project_load(dir, &p, &EB), MTR_EPARSE);
    expect_msg("seeds/kinds.csv:2: 1 fields, the header has 2");
    mtr_dbt_project_free(&p);
    /* two nodes with one name */
    write_file(path, "kind\nx\n");
    snprintf(path, sizeof path, "%s/models/marts/kinds.sql", dir);
    write_file(path, "select 1\n");
    T_EQ_INT(mtr_dbt_project_load(dir, &p, &EB), MTR_EINVAL);
    expect_msg("two models or seeds are called 'kinds'");
    mtr_dbt_project_free(&p);
    T_EQ_INT(mtr_dbt_project_load("/nonexistent/dbt", &p, &EB), MTR_ENOTFOUND);
    expect_msg("not a dbt project");
    mtr_dbt_project_free(&p);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    T_EQ_INT(system(cmd), 0);
}

/* The project shipped in dbt/ loads, compiles, and has the models the issue names. */
static void test_shipped_project(void)
{
    struct mtr_dbt_project p;
    int rc = mtr_dbt_project_load("dbt", &p, &EB);
    T_EQ_INT(rc, 0);
    if (rc == 0) {
        T_EQ_INT(mtr_transform_compile(&p, &EB), 0);
        static const char *const models[] = {"stg_smart_meter_readings",
                                             "stg_grid_status",
                                             "stg_weather_data",
                                             "fct_smart_meter_analytics",
                                             "dim_meters",
                                             "dim_grid_operators",
                                             "dim_weather_stations",
                                             "daily_consumption_metrics",
                                             "energy_efficiency_metrics",
                                             "grid_performance_metrics",
                                             "weather_correlation_metrics",
                                             "meter_types"};
        for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
            int k = mtr_dbt_find_node(&p, models[i]);
            if (k < 0)
                t_fail(__FILE__, __LINE__, "model %s missing", models[i]);
            else if (p.nodes[k].kind == MTR_DBT_MODEL)
                T_CHECK(strstr(p.nodes[k].sql, "{{") == NULL);
        }
        T_CHECK(p.ntests > 100);
        int fct = mtr_dbt_find_node(&p, "fct_smart_meter_analytics");
        if (fct >= 0)
            T_EQ_INT(p.nodes[fct].mat, MTR_DBT_TABLE);
    }
    if (rc < 0)
        printf("%s\n", EB.msg);
    mtr_dbt_project_free(&p);
}

int main(void)
{
    T_RUN(test_project_config);
    T_RUN(test_project_config_errors);
    T_RUN(test_properties_tests_and_sources);
    T_RUN(test_properties_errors);
    T_RUN(test_load_from_disk);
    T_RUN(test_shipped_project);
    return T_END();
}
