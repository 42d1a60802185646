/*
 * scheduler.c - the job runner of `metrify worker process`: due-time computation from cron and the
 * recorded last run, and the four job types. Long jobs work in batches of worker.batch meters,
 * one transaction each, and look at the stop flag between batches.
 */
#include "app/scheduler.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/report.h"
#include "base/timeparse.h"

static const char *const status_names[] = {"ok", "failed", "interrupted"};

const char *mtr_job_status_name(enum mtr_job_status st)
{
    return (unsigned)st < 3 ? status_names[st] : "?";
}

void mtr_sched_init(struct mtr_scheduler *s, const struct mtr_config *cfg, struct mtr_store *store,
                    const struct mtr_params *params, const struct mtr_clock_ops *clock,
                    const struct mtr_worker_host_ops *host, volatile int *stop)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->store = store;
    s->params = params;
    s->clock = *clock;
    s->host = *host;
    s->stop = stop;
}

int mtr_sched_due(struct mtr_scheduler *s, int j, int64_t now, int *due, int64_t *next,
                  int64_t *slot)
{
    const struct mtr_config_job *job = &s->cfg->worker.jobs[j];
    int64_t last;
    *due = 0;
    *slot = 0;
    int rc = s->host.state_get(s->host.ctx, job->name, &last);
    if (rc == MTR_ENOTFOUND) {
        if (mtr_cron_prev(&job->cron, now, (int64_t)366 * 86400, slot) == 0) {
            *due = 1;
            *next = *slot;
        } else if (mtr_cron_next(&job->cron, now, next) != 0) {
            *next = INT64_MAX;
        }
        return 0;
    }
    if (rc)
        return rc;
    if (mtr_cron_next(&job->cron, last, next) != 0) {
        *next = INT64_MAX; /* never fires again */
        return 0;
    }
    if (*next <= now) {
        *due = 1;
        /* the latest slot: missed runs collapse into one */
        if (mtr_cron_prev(&job->cron, now, now - last, slot) != 0)
            *slot = *next;
    }
    return 0;
}

/* ---- rollup catch-up: rebuild the last `days` days of every meter, batch by batch ---- */

struct id_page {
    char (*ids)[MTR_ID_MAX];
    int64_t n, cap;
};

static int collect_id(void *ctx, const struct mtr_meter *m)
{
    struct id_page *p = ctx;
    if (p->n < p->cap)
        snprintf(p->ids[p->n++], MTR_ID_MAX, "%s", m->id);
    return 0;
}

static int job_rollup(struct mtr_scheduler *s, const struct mtr_config_job *job, int64_t now,
                      int64_t *items, char *detail, size_t cap)
{
    struct mtr_store *st = s->store;
    int64_t batch = s->cfg->worker.batch > 0 ? s->cfg->worker.batch : 200;
    int64_t today = now - ((now % 86400) + 86400) % 86400;
    struct id_page page = {calloc((size_t)batch, MTR_ID_MAX), 0, batch};
    int rc = 0;
    if (!page.ids)
        return MTR_ENOMEM;
    for (int64_t offset = 0;; offset += batch) {
        if (*s->stop) {
            rc = 1; /* interrupted between two committed batches */
            break;
        }
        struct mtr_query q = {
            .kind = -1, .type = -1, .min_level = -1, .limit = batch, .offset = offset};
        page.n = 0;
        if ((rc = st->ops->meter_list(st, &q, collect_id, &page)))
            break;
        if (page.n == 0)
            break;
        if ((rc = st->ops->begin(st)))
            break;
        for (int64_t i = 0; i < page.n && !rc; i++) {
            int64_t key;
            int created;
            if ((rc = st->ops->meter_key(st, page.ids[i], 0, &key, &created)))
                break;
            for (int64_t d = 0; d < job->days && !rc; d++) {
                rc = st->ops->rollup_recompute(st, key, today - d * 86400, s->params);
                (*items)++;
            }
        }
        if (rc) {
            st->ops->rollback(st);
            break;
        }
        if ((rc = st->ops->commit(st)))
            break;
        if (page.n < batch)
            break;
    }
    free(page.ids);
    if (rc < 0)
        snprintf(detail, cap, "rollup rebuild failed: %s", st->err.msg);
    else
        snprintf(detail, cap, "rebuilt %lld meter-days (%lld days back)", (long long)*items,
                 (long long)job->days);
    return rc;
}

/* ---- quality report of yesterday, as JSON ---- */

struct report_acc {
    json_t *meters;
};

static int report_meter(void *ctx, const char *meter_id, const struct mtr_quality_total *t)
{
    struct report_acc *a = ctx;
    json_t *m = mtr_quality_total_json(t);
    json_object_del(m, "meters");
    json_object_del(m, "days");
    json_object_del(m, "tier_days");
    json_object_set_new(m, "meter_id", json_string(meter_id));
    json_array_append_new(a->meters, m);
    return 0;
}

static int job_quality_report(struct mtr_scheduler *s, const struct mtr_config_job *job,
                              int64_t slot, int64_t now, int64_t *items, char *detail, size_t cap)
{
    int64_t day = slot - ((slot % 86400) + 86400) % 86400 - 86400;
    struct mtr_query q = {.kind = -1,
                          .type = -1,
                          .min_level = -1,
                          .from = day,
                          .to = day + 86400,
                          .has_from = 1,
                          .has_to = 1};
    struct report_acc acc = {json_array()};
    struct mtr_report_sink sink = {NULL, report_meter, &acc};
    struct mtr_quality_total fleet;
    char date[24], gen[24], path[512];
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_report_days(s->store, &q, &sink, &fleet);
    if (rc) {
        snprintf(detail, cap, "quality report failed: %s", s->store->err.msg);
        json_decref(acc.meters);
        return rc;
    }
    mtr_time_format(day, date);
    date[10] = 0;
    mtr_time_format(now, gen);
    json_t *doc = json_pack("{s:s,s:s,s:o,s:o}", "date", date, "generated_at", gen, "fleet",
                            mtr_quality_total_json(&fleet), "meters", acc.meters);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!text)
        return MTR_ENOMEM;
    snprintf(path, sizeof path, "%s/quality-%s.json", job->dir, date);
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps' terminator becomes the final newline */
    rc = s->host.write_file(s->host.ctx, path, text, len + 1, &eb);
    free(text);
    *items = fleet.meters;
    if (rc)
        snprintf(detail, cap, "%s", eb.msg);
    else
        snprintf(detail, cap, "wrote %s (%lld meters)", path, (long long)fleet.meters);
    return rc;
}

/* ---- retention and commands ---- */

static int job_retention(struct mtr_scheduler *s, const struct mtr_config_job *job, int64_t now,
                         int64_t *items, char *detail, size_t cap)
{
    struct mtr_store *st = s->store;
    int64_t before = now - job->older_than;
    int rc = st->ops->begin(st);
    if (!rc && (rc = st->ops->retention(st, before, items)) != 0)
        st->ops->rollback(st);
    else if (!rc)
        rc = st->ops->commit(st);
    char b[24];
    mtr_time_format(before, b);
    if (rc)
        snprintf(detail, cap, "retention failed: %s", st->err.msg);
    else
        snprintf(detail, cap, "deleted %lld rows older than %s", (long long)*items, b);
    return rc;
}

static int job_command(struct mtr_scheduler *s, const struct mtr_config_job *job, int64_t *items,
                       char *detail, size_t cap)
{
    struct mtr_errbuf eb = {{0}};
    int status = 0;
    int rc = s->host.run_command(s->host.ctx, job->command, &status, &eb);
    *items = status;
    if (rc) {
        snprintf(detail, cap, "%s", eb.msg);
        return rc;
    }
    snprintf(detail, cap, "exit status %d", status);
    return status == 0 ? 0 : MTR_EIO;
}

int mtr_sched_run_job(struct mtr_scheduler *s, int j, int64_t slot, struct mtr_errbuf *eb)
{
    const struct mtr_config_job *job = &s->cfg->worker.jobs[j];
    struct mtr_job_stats *stt = &s->stats[j];
    int64_t started = s->clock.now(s->clock.ctx), items = 0;
    char detail[600] = "";
    int rc;
    switch (job->type) {
    case MTR_JOB_ROLLUP_CATCHUP:
        rc = job_rollup(s, job, started, &items, detail, sizeof detail);
        break;
    case MTR_JOB_QUALITY_REPORT:
        rc = job_quality_report(s, job, slot, started, &items, detail, sizeof detail);
        break;
    case MTR_JOB_RETENTION:
        rc = job_retention(s, job, started, &items, detail, sizeof detail);
        break;
    case MTR_JOB_COMMAND:
        rc = job_command(s, job, &items, detail, sizeof detail);
        break;
    default:
        rc = MTR_EINVAL;
        snprintf(detail, sizeof detail, "unknown job type %d", (int)job->type);
    }
    enum mtr_job_status status = rc == 0  ? MTR_JOB_OK
                                 : rc > 0 ? MTR_JOB_INTERRUPTED
                                          : MTR_JOB_FAILED;
    int64_t finished = s->clock.now(s->clock.ctx);
    stt->runs[status]++;
    stt->last_run = started;
    stt->last_seconds = (double)(finished - started);
    stt->last_items = items;
    if (status == MTR_JOB_INTERRUPTED)
        snprintf(detail, sizeof detail, "stopped between batches; runs again after a restart");
    if (s->on_event) {
        struct mtr_job_event e = {job, status, started, finished, items, detail};
        s->on_event(s->event_ctx, &e);
    }
    if (status != MTR_JOB_INTERRUPTED) {
        int src = s->host.state_put(s->host.ctx, job->name, slot, eb);
        if (src)
            return src;
    }
    return (int)status;
}

int mtr_sched_run_due(struct mtr_scheduler *s, int *ran, struct mtr_errbuf *eb)
{
    int n = 0;
    s->passes++;
    for (int j = 0; j < s->cfg->worker.n_jobs && !*s->stop; j++) {
        int due;
        int64_t next, slot;
        int rc = mtr_sched_due(s, j, s->clock.now(s->clock.ctx), &due, &next, &slot);
        if (rc)
            return mtr_err(eb, rc, "cannot read the last run of job %s",
                           s->cfg->worker.jobs[j].name);
        if (!due)
            continue;
        rc = mtr_sched_run_job(s, j, slot, eb);
        if (rc < 0)
            return rc;
        n++;
    }
    if (ran)
        *ran = n;
    return 0;
}

int mtr_sched_run(struct mtr_scheduler *s, struct mtr_errbuf *eb)
{
    while (!*s->stop) {
        int rc = mtr_sched_run_due(s, NULL, eb);
        if (rc)
            return rc;
        int64_t now = s->clock.now(s->clock.ctx), wake = now + 3600;
        for (int j = 0; j < s->cfg->worker.n_jobs; j++) {
            int due;
            int64_t next, slot;
            if ((rc = mtr_sched_due(s, j, now, &due, &next, &slot)))
                return mtr_err(eb, rc, "cannot read the last run of job %s",
                               s->cfg->worker.jobs[j].name);
            if (next < wake)
                wake = next;
        }
        if (wake > now && s->clock.sleep_until(s->clock.ctx, wake, s->stop))
            break; /* stopped, or a clock that cannot wait */
    }
    return 0;
}
