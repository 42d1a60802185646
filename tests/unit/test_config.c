/* test_config.c - configuration: defaults, YAML files, errors with file:line:column and key path,
 * secrets only from the environment, environment overrides, cross-key validation, and the three
 * shipped environment files. */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/config/config_yaml.h"
#include "app/config.h"

static char path[64];

/* Writes text to a fresh temporary file (path in `path`). */
static void write_yaml(const char *text)
{
    snprintf(path, sizeof path, "/tmp/metrify-test-config-%d.yaml", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Loads text on top of the defaults; returns rc, message in eb. */
static int load(const char *text, struct mtr_config *c, struct mtr_errbuf *eb)
{
    write_yaml(text);
    mtr_config_defaults(c);
    eb->msg[0] = 0;
    int rc = mtr_config_load_file(c, path, eb);
    if (rc == 0)
        rc = mtr_config_validate(c, eb);
    unlink(path);
    return rc;
}

/* Expects load to fail with a message that starts with path + where and contains what. */
static void expect_error(const char *text, const char *where, const char *what)
{
    static struct mtr_config c;
    struct mtr_errbuf eb;
    int rc = load(text, &c, &eb);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s%s", path, where);
    if (rc == 0 || strncmp(eb.msg, prefix, strlen(prefix)) != 0 || !strstr(eb.msg, what))
        t_fail(__FILE__, __LINE__, "rc %d, message \"%s\"; expected \"%s...%s\"", rc, eb.msg,
               prefix, what);
}

static void test_defaults_are_valid(void)
{
    static struct mtr_config c;
    struct mtr_errbuf eb;
    mtr_config_defaults(&c);
    T_EQ_INT(mtr_config_validate(&c, &eb), 0);
    T_EQ_STR(c.store.url, "metrify.db");
    T_EQ_INT(c.api.threads, 4);
    T_EQ_INT(c.worker.n_jobs, 2);
    T_EQ_INT(c.worker.jobs[1].type, MTR_JOB_QUALITY_REPORT);
}

static void test_file_values(void)
{
    static struct mtr_config c;
    struct mtr_errbuf eb;
    int rc = load("# comment\n"
                  "store:\n  url: postgresql://metrify@db:5432/metrify\n"
                  "api:\n  listen: 0.0.0.0:9000\n  threads: 8\n  rate_limit: 12.5\n"
                  "  public_health: no\n"
                  "monitor:\n  interval: 2m\n  silent_hours: 4\n"
                  "logging:\n  level: WARNING\n"
                  "worker:\n  jobs:\n"
                  "    - name: nightly\n      type: retention\n      schedule: '0 3 * * *'\n"
                  "      older_than: 400d\n"
                  "    - name: lake\n      type: command\n      schedule: '@daily'\n"
                  "      command: metrify export lake --to /srv/lake\n",
                  &c, &eb);
    T_EQ_INT(rc, 0);
    if (rc)
        printf("%s\n", eb.msg);
    T_EQ_STR(c.store.url, "postgresql://metrify@db:5432/metrify");
    T_EQ_STR(c.api.listen, "0.0.0.0:9000");
    T_EQ_INT(c.api.threads, 8);
    T_EQ_DBL(c.api.rate_limit, 12.5, 0);
    T_EQ_INT(c.api.public_health, 0);
    T_EQ_INT(c.monitor.interval, 120);
    T_EQ_DBL(c.monitor.silent_hours, 4, 0);
    T_EQ_STR(c.logging.level, "warning");
    T_EQ_INT(c.worker.n_jobs, 2); /* the list replaces the default jobs */
    T_EQ_STR(c.worker.jobs[0].name, "nightly");
    T_EQ_INT(c.worker.jobs[0].type, MTR_JOB_RETENTION);
    T_EQ_INT(c.worker.jobs[0].older_than, 400 * 86400);
    T_EQ_INT(c.worker.jobs[0].line, 16);
    T_EQ_INT(c.worker.jobs[1].type, MTR_JOB_COMMAND);
    T_EQ_STR(c.worker.jobs[1].command, "metrify export lake --to /srv/lake");
    /* untouched keys keep their defaults */
    T_EQ_INT(c.mqtt.port, 1883);
}

static void test_syntax_error(void)
{
    expect_error("api:\n  listen: [1, 2\n", ":3:", "YAML syntax error");
    expect_error("api: {\n", ":2:", "YAML syntax error");
}

static void test_unknown_keys(void)
{
    expect_error("api:\n  threads: 2\n  thraeds: 3\n", ":3:3: api.thraeds: ", "unknown key");
    expect_error("apis:\n  threads: 2\n", ":1:1: apis: ", "unknown section");
    expect_error("worker:\n  jobs:\n    - name: x\n      schedul: '@daily'\n",
                 ":4:7: worker.jobs[0].schedul: ", "unknown key");
    expect_error("- a\n- b\n", ":1:1: (top level): ", "expected a mapping of sections");
}

static void test_wrong_types_and_values(void)
{
    expect_error("api:\n  threads: many\n",
                 ":2:12: api.threads: ", "expected an integer, got \"many\"");
    expect_error("api:\n  threads: 0\n", ":2:12: api.threads: ", "0 is outside 1..256");
    expect_error("api:\n  rate_limit: fast\n",
                 ":2:15: api.rate_limit: ", "expected a number, got \"fast\"");
    expect_error("api:\n  public_health: maybe\n",
                 ":2:18: api.public_health: ", "expected true or false");
    expect_error("api:\n  listen:\n    host: x\n",
                 ":3:5: api.listen: ", "expected a scalar value, got a mapping");
    expect_error("api: 3\n", ":1:6: api: ", "expected a mapping of keys, got a scalar");
    expect_error("logging:\n  level: loud\n",
                 ":2:10: logging.level: ", "\"loud\" is not one of debug|info|warning|error");
    expect_error("monitor:\n  interval: soon\n",
                 ":2:13: monitor.interval: ", "expected a duration");
    expect_error("mqtt:\n  port: 70000\n", ":2:9: mqtt.port: ", "outside 1..65535");
    expect_error("api:\n  threads: 2\n  threads: 3\n", ":3:3: api.threads: ", "duplicate key");
    expect_error("worker:\n  jobs:\n    - name: x\n      schedule: '61 * * * *'\n",
                 ":4:17: worker.jobs[0].schedule: ", "minute: 61 is outside 0..59");
    expect_error("worker:\n  jobs:\n    - name: x\n      type: backup\n",
                 ":4:13: worker.jobs[0].type: ", "\"backup\" is not one of");
}

static void test_secrets_only_from_environment(void)
{
    expect_error("store:\n  password: hunter2\n", ":2:3: store.password: ",
                 "is a secret: set it in the environment variable METRIFY_STORE_PASSWORD");
    expect_error("api:\n  jwt_secret: x\n", ":2:3: api.jwt_secret: ", "METRIFY_API_JWT_SECRET");
    expect_error("lake:\n  secret_key: abc\n", ":2:3: lake.secret_key: ", "is a secret");
    expect_error("kafka:\n  api_token: abc\n", ":2:3: kafka.api_token: ", "looks like a secret");
    expect_error("store:\n  url: postgresql://u:pw@db/metrify\n",
                 ":2:8: store.url: ", "contains a password");
    expect_error("worker:\n  jobs:\n    - name: x\n      password: y\n",
                 ":4:7: worker.jobs[0].password: ", "looks like a secret");
}

static void test_validation_across_keys(void)
{
    expect_error("worker:\n  jobs:\n    - name: old\n      type: retention\n"
                 "      schedule: '@daily'\n",
                 ":3: worker.jobs[0]: ", "older_than: required for a retention job");
    expect_error("worker:\n  jobs:\n    - name: a\n      schedule: '@daily'\n"
                 "    - name: a\n      schedule: '@hourly'\n",
                 ":5: worker.jobs[1]: ", "\"a\" is used twice");
    expect_error("worker:\n  jobs:\n    - name: a\n", ":3: worker.jobs[0]: ", "schedule: required");
    expect_error("api:\n  listen: localhost\n", ": api.listen: ", "expected HOST:PORT");
    expect_error("lake:\n  dir: /srv/lake\n  s3_url: s3://b/p\n", ": lake: ", "not both");
}

struct fake_env {
    const char *names[4], *values[4];
};
static const char *fake_get(void *ctx, const char *name)
{
    struct fake_env *e = ctx;
    for (int i = 0; i < 4 && e->names[i]; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    return NULL;
}

static void test_environment_overrides(void)
{
    static struct mtr_config c;
    struct mtr_errbuf eb;
    T_EQ_INT(load("api:\n  listen: 0.0.0.0:9000\n", &c, &eb), 0);
    struct fake_env e = {
        {"METRIFY_API_LISTEN", "METRIFY_STORE_PASSWORD", "METRIFY_MONITOR_TIER_DROP"},
        {"127.0.0.1:7000", "s3cret", "3"}};
    T_EQ_INT(mtr_config_apply_env(&c, fake_get, &e, &eb), 0);
    T_EQ_STR(c.api.listen, "127.0.0.1:7000");
    T_EQ_STR(c.secrets.store_password, "s3cret");
    T_EQ_INT(c.monitor.tier_drop, 3);
    struct fake_env bad = {{"METRIFY_API_THREADS"}, {"lots"}};
    T_EQ_INT(mtr_config_apply_env(&c, fake_get, &bad, &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "environment METRIFY_API_THREADS: api.threads: expected an integer") ==
            eb.msg);
}

static int count_cb(void *ctx, const char *p, const char *v, int num, int secret)
{
    int *n = ctx;
    if (secret && strcmp(v, "(set)") != 0 && strcmp(v, "") != 0)
        return -1; /* a secret value leaked */
    if (strcmp(p, "store.password") == 0 && strcmp(v, "(set)") != 0)
        return -2;
    (*n)++;
    return 0;
}

static void test_printing_redacts_secrets(void)
{
    static struct mtr_config c;
    mtr_config_defaults(&c);
    strcpy(c.secrets.store_password, "hunter2");
    int n = 0;
    T_EQ_INT(mtr_config_each(&c, count_cb, &n), 0);
    T_CHECK(n > 40);
}

static void test_shipped_environment_files(void)
{
    static const char *const envs[] = {"development", "staging", "production"};
    for (int i = 0; i < 3; i++) {
        static struct mtr_config c;
        struct mtr_errbuf eb = {{0}};
        char p[128];
        snprintf(p, sizeof p, "config/environments/%s.yaml", envs[i]);
        mtr_config_defaults(&c);
        int rc = mtr_config_load_file(&c, p, &eb);
        if (rc == 0)
            rc = mtr_config_validate(&c, &eb);
        if (rc)
            t_fail(__FILE__, __LINE__, "%s: %s", p, eb.msg);
        if (i == 0) {
            T_EQ_STR(c.store.url, "metrify.db");
            T_EQ_STR(c.kafka.brokers, "");
        } else {
            T_CHECK(strncmp(c.store.url, "postgresql://", 13) == 0);
            T_CHECK(c.kafka.brokers[0] != 0);
        }
    }
}

int main(void)
{
    T_RUN(test_defaults_are_valid);
    T_RUN(test_file_values);
    T_RUN(test_syntax_error);
    T_RUN(test_unknown_keys);
    T_RUN(test_wrong_types_and_values);
    T_RUN(test_secrets_only_from_environment);
    T_RUN(test_validation_across_keys);
    T_RUN(test_environment_overrides);
    T_RUN(test_printing_redacts_secrets);
    T_RUN(test_shipped_environment_files);
    return T_END();
}
