/* test_scheduler.c - `worker process` scheduling with a manual clock: jobs fire at their cron
 * times, a restart neither re-runs nor skips, missed runs collapse, failures and stops are
 * recorded as they should be, and the jobs' effects on a real SQLite store. */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/sqlite/sqlite_store.h"
#include "app/config.h"
#include "app/ingest.h"
#include "app/scheduler.h"
#include "base/timeparse.h"

static char dir[64];

static int64_t at(const char *iso)
{
    int64_t t = 0;
    mtr_time_parse(iso, strlen(iso), &t);
    return t;
}

/* ---- a manual clock: sleep_until jumps to the target; beyond `until` it stops the loop ---- */
struct manual_clock {
    int64_t t, until;
};
static int64_t mc_now(void *ctx)
{
    return ((struct manual_clock *)ctx)->t;
}
static int mc_sleep_until(void *ctx, int64_t t, volatile int *stop)
{
    struct manual_clock *c = ctx;
    if (t > c->until) {
        c->t = c->until;
        *stop = 1;
        return 1;
    }
    c->t = t;
    return 0;
}

/* ---- an in-memory worker host ---- */
struct fake_host {
    char names[8][64];
    int64_t at[8];
    int n;
    char last_path[512];
    char *last_data;
    int writes, commands, command_status;
    char last_command[256];
};
static int fh_write(void *ctx, const char *path, const char *data, size_t len,
                    struct mtr_errbuf *eb)
{
    struct fake_host *h = ctx;
    snprintf(h->last_path, sizeof h->last_path, "%s", path);
    free(h->last_data);
    h->last_data = strndup(data, len);
    h->writes++;
    return 0;
}
static int fh_run(void *ctx, const char *cmd, int *status, struct mtr_errbuf *eb)
{
    struct fake_host *h = ctx;
    h->commands++;
    snprintf(h->last_command, sizeof h->last_command, "%s", cmd);
    *status = h->command_status;
    return 0;
}
static int fh_get(void *ctx, const char *name, int64_t *t)
{
    struct fake_host *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0)
            return *t = h->at[i], 0;
    return MTR_ENOTFOUND;
}
static int fh_put(void *ctx, const char *name, int64_t t, struct mtr_errbuf *eb)
{
    struct fake_host *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0)
            return h->at[i] = t, 0;
    snprintf(h->names[h->n], 64, "%s", name);
    h->at[h->n++] = t;
    return 0;
}

/* ---- events, recorded as "name@ISO" ---- */
struct log {
    char lines[128][128];
    int n;
};
static void on_event(void *ctx, const struct mtr_job_event *e)
{
    struct log *l = ctx;
    char t[24];
    mtr_time_format(e->started, t);
    if (l->n < 128)
        snprintf(l->lines[l->n++], 128, "%s@%s:%s", e->job->name, t,
                 mtr_job_status_name(e->status));
}
static int count(const struct log *l, const char *prefix)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        n += strncmp(l->lines[i], prefix, strlen(prefix)) == 0;
    return n;
}

/* A store with `meters` meters of hourly readings over three days from 2024-03-01. */
static struct mtr_store *make_store(const char *name, int meters)
{
    char path[128];
    struct mtr_store *s;
    struct mtr_errbuf eb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mtr_sqlite_open(path, &s, &eb) != 0) {
        t_fail(__FILE__, __LINE__, "open: %s", eb.msg);
        return NULL;
    }
    struct mtr_ingest_opts o = {0};
    struct mtr_ingest *ing;
    mtr_params_default(&o.params);
    o.params.now = at("2024-03-04T00:00:00Z");
    if (mtr_ingest_create(s, &o, &ing, &eb) != 0) {
        t_fail(__FILE__, __LINE__, "ingest: %s", eb.msg);
        return s;
    }
    for (int m = 0; m < meters; m++)
        for (int h = 0; h < 72; h++) {
            struct mtr_record r = {.kind = MTR_KIND_READING};
            mtr_reading_init(&r.u.reading);
            snprintf(r.u.reading.meter_id, MTR_ID_MAX, "SM%06d", m);
            r.u.reading.ts = at("2024-03-01T00:00:00Z") + 3600 * h;
            r.u.reading.interval_s = 3600;
            r.u.reading.kwh = 0.5 + 0.1 * (h % 5);
            mtr_ingest_record(ing, &r, "test");
        }
    mtr_ingest_commit(ing);
    mtr_ingest_destroy(ing);
    return s;
}

static void config_jobs(struct mtr_config *c)
{
    char msg[200];
    mtr_config_defaults(c);
    c->worker.n_jobs = 3;
    const char *jobs[3][4] = {{"rollups", "rollup_catchup", "0 * * * *", NULL},
                              {"report", "quality_report", "30 0 * * *", "reports"},
                              {"export", "command", "@daily", "metrify export lake --to x"}};
    for (int j = 0; j < 3; j++) {
        memset(&c->worker.jobs[j], 0, sizeof c->worker.jobs[j]);
        c->worker.jobs[j].days = 2;
        T_EQ_INT(mtr_config_job_set(c, j, "name", jobs[j][0], msg, sizeof msg), 0);
        T_EQ_INT(mtr_config_job_set(c, j, "type", jobs[j][1], msg, sizeof msg), 0);
        T_EQ_INT(mtr_config_job_set(c, j, "schedule", jobs[j][2], msg, sizeof msg), 0);
        if (j == 1)
            T_EQ_INT(mtr_config_job_set(c, j, "dir", jobs[j][3], msg, sizeof msg), 0);
        if (j == 2)
            T_EQ_INT(mtr_config_job_set(c, j, "command", jobs[j][3], msg, sizeof msg), 0);
    }
    struct mtr_errbuf eb;
    T_EQ_INT(mtr_config_validate(c, &eb), 0);
}

static struct mtr_config cfg;

static void setup(struct mtr_scheduler *s, struct mtr_store *st, struct manual_clock *mc,
                  struct fake_host *fh, struct log *l, volatile int *stop,
                  const struct mtr_params *p)
{
    struct mtr_clock_ops clock = {mc_now, mc_sleep_until, mc};
    struct mtr_worker_host_ops host = {fh_write, fh_run, fh_get, fh_put, fh};
    mtr_sched_init(s, &cfg, st, p, &clock, &host, stop);
    s->on_event = on_event;
    s->event_ctx = l;
}

static void test_fires_at_cron_times_and_restart(void)
{
    struct mtr_store *st = make_store("sched.db", 3);
    struct mtr_params p;
    mtr_params_default(&p);
    config_jobs(&cfg);
    struct manual_clock mc = {at("2024-03-04T00:10:00Z"), at("2024-03-05T00:10:00Z")};
    struct fake_host fh = {0};
    struct log l = {0};
    volatile int stop = 0;
    struct mtr_scheduler s;
    struct mtr_errbuf eb;
    setup(&s, st, &mc, &fh, &l, &stop, &p);
    T_EQ_INT(mtr_sched_run(&s, &eb), 0);
    /* first sight at 00:10: each job honours its latest slot at once, then follows its schedule */
    T_EQ_INT(count(&l, "rollups@"), 1 + 24);
    T_EQ_INT(count(&l, "rollups@2024-03-04T00:10:00Z"), 1);
    T_EQ_INT(count(&l, "rollups@2024-03-04T01:00:00Z:ok"), 1);
    T_EQ_INT(count(&l, "rollups@2024-03-04T23:00:00Z:ok"), 1);
    T_EQ_INT(count(&l, "rollups@2024-03-05T00:00:00Z:ok"), 1);
    T_EQ_INT(count(&l, "report@"), 2);
    T_EQ_INT(count(&l, "report@2024-03-04T00:10:00Z:ok"), 1);
    T_EQ_INT(count(&l, "report@2024-03-04T00:30:00Z:ok"), 1);
    T_EQ_INT(count(&l, "export@"), 2);
    T_EQ_INT(count(&l, "export@2024-03-05T00:00:00Z:ok"), 1);
    T_EQ_INT(fh.commands, 2);
    T_EQ_STR(fh.last_command, "metrify export lake --to x");
    /* the 00:30 run reports 2024-03-03 (the day before its slot), with the three meters */
    T_EQ_STR(fh.last_path, "reports/quality-2024-03-03.json");
    T_CHECK(fh.last_data && strstr(fh.last_data, "\"date\": \"2024-03-03\""));
    T_CHECK(fh.last_data && strstr(fh.last_data, "\"meters\": 3"));
    T_CHECK(fh.last_data && strstr(fh.last_data, "\"meter_id\": \"SM000002\""));
    T_EQ_INT(s.stats[0].runs[MTR_JOB_OK], 25);
    T_EQ_INT(s.stats[0].last_items, 3 * 2); /* three meters x two days */

    /* a restart at the same time runs nothing again */
    int ran = -1;
    stop = 0;
    struct log l2 = {0};
    setup(&s, st, &mc, &fh, &l2, &stop, &p);
    T_EQ_INT(mtr_sched_run_due(&s, &ran, &eb), 0);
    T_EQ_INT(ran, 0);

    /* down for a day and five hours: every job runs once for its latest slot, none is skipped */
    mc.t = at("2024-03-06T05:00:00Z");
    T_EQ_INT(mtr_sched_run_due(&s, &ran, &eb), 0);
    T_EQ_INT(ran, 3);
    T_EQ_STR(fh.last_path, "reports/quality-2024-03-05.json");
    int64_t last;
    T_EQ_INT(fh_get(&fh, "rollups", &last), 0);
    T_EQ_INT(last, at("2024-03-06T05:00:00Z"));
    T_EQ_INT(fh_get(&fh, "report", &last), 0);
    T_EQ_INT(last, at("2024-03-06T00:30:00Z"));
    mc.t += 59 * 60;
    T_EQ_INT(mtr_sched_run_due(&s, &ran, &eb), 0);
    T_EQ_INT(ran, 0);
    mc.t += 60;
    T_EQ_INT(mtr_sched_run_due(&s, &ran, &eb), 0);
    T_EQ_INT(ran, 1); /* 06:00 rollups */
    free(fh.last_data);
    st->ops->close(st);
}

static void test_failure_is_recorded_and_not_retried_at_once(void)
{
    struct mtr_store *st = make_store("fail.db", 1);
    struct mtr_params p;
    mtr_params_default(&p);
    config_jobs(&cfg);
    struct manual_clock mc = {at("2024-03-04T12:00:00Z"), at("2024-03-04T12:00:00Z")};
    struct fake_host fh = {.command_status = 3};
    struct log l = {0};
    volatile int stop = 0;
    struct mtr_scheduler s;
    struct mtr_errbuf eb;
    setup(&s, st, &mc, &fh, &l, &stop, &p);
    int ran;
    T_EQ_INT(mtr_sched_run_due(&s, &ran, &eb), 0);
    T_EQ_INT(ran, 3);
    T_EQ_INT(count(&l, "export@2024-03-04T12:00:00Z:failed"), 1);
    T_EQ_INT(s.stats[2].runs[MTR_JOB_FAILED], 1);
    T_EQ_INT(s.stats[2].last_items, 3);
    T_EQ_INT(mtr_sched_run_due(&s, &ran, &eb), 0);
    T_EQ_INT(ran, 0);
    free(fh.last_data);
    st->ops->close(st);
}

static void test_stop_interrupts_between_batches(void)
{
    struct mtr_store *st = make_store("stop.db", 5);
    struct mtr_params p;
    mtr_params_default(&p);
    config_jobs(&cfg);
    cfg.worker.batch = 2;
    struct manual_clock mc = {at("2024-03-04T12:00:00Z"), at("2024-03-04T12:00:00Z")};
    struct fake_host fh = {0};
    struct log l = {0};
    volatile int stop = 1; /* already asked to stop: the job does no batch */
    struct mtr_scheduler s;
    struct mtr_errbuf eb;
    setup(&s, st, &mc, &fh, &l, &stop, &p);
    T_EQ_INT(mtr_sched_run_job(&s, 0, mc.t, &eb), MTR_JOB_INTERRUPTED);
    int64_t last;
    T_EQ_INT(fh_get(&fh, "rollups", &last), MTR_ENOTFOUND); /* not recorded: runs after restart */
    stop = 0;
    T_EQ_INT(mtr_sched_run_job(&s, 0, mc.t, &eb), MTR_JOB_OK);
    T_EQ_INT(s.stats[0].last_items, 5 * 2); /* three pages of 2, 2 and 1 meters */
    T_EQ_INT(fh_get(&fh, "rollups", &last), 0);
    free(fh.last_data);
    st->ops->close(st);
}

struct sum {
    int n;
    double kwh;
};
static int sum_cb(void *ctx, const struct mtr_day_row *r)
{
    struct sum *a = ctx;
    a->n++;
    a->kwh += r->d.kwh;
    return 0;
}

static void test_rollup_catchup_rebuilds_missing_days(void)
{
    struct mtr_store *st = make_store("rebuild.db", 2);
    struct mtr_params p;
    mtr_params_default(&p);
    config_jobs(&cfg);
    cfg.worker.jobs[0].days = 3;
    struct mtr_query q = {.kind = -1, .type = -1, .min_level = -1};
    struct sum before = {0, 0}, lost = {0, 0}, after = {0, 0};
    T_EQ_INT(st->ops->day_rows(st, &q, sum_cb, &before), 0);
    /* lose two days of rollups behind the store's back */
    char path[128];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/rebuild.db", dir);
    T_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    T_EQ_INT(sqlite3_exec(db, "DELETE FROM rollup_daily WHERE day >= 1709337600", NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    T_EQ_INT(st->ops->day_rows(st, &q, sum_cb, &lost), 0);
    T_EQ_INT(lost.n, 2);
    struct manual_clock mc = {at("2024-03-03T18:00:00Z"), at("2024-03-03T18:00:00Z")};
    struct fake_host fh = {0};
    struct log l = {0};
    volatile int stop = 0;
    struct mtr_scheduler s;
    struct mtr_errbuf eb;
    setup(&s, st, &mc, &fh, &l, &stop, &p);
    T_EQ_INT(mtr_sched_run_job(&s, 0, mc.t, &eb), MTR_JOB_OK);
    T_EQ_INT(s.stats[0].last_items, 2 * 3);
    T_EQ_INT(st->ops->day_rows(st, &q, sum_cb, &after), 0);
    T_EQ_INT(before.n, 6);
    T_EQ_INT(after.n, before.n);
    T_EQ_DBL(after.kwh, before.kwh, 1e-9);
    free(fh.last_data);
    st->ops->close(st);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/metrify-test-sched-%d", (int)getpid());
    mkdir(dir, 0700);
    T_RUN(test_fires_at_cron_times_and_restart);
    T_RUN(test_failure_is_recorded_and_not_retried_at_once);
    T_RUN(test_stop_interrupts_between_batches);
    T_RUN(test_rollup_catchup_rebuilds_missing_days);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return T_END();
}
