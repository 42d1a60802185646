/*
 * scheduler.h - `metrify worker process`: runs the configured jobs (rollup catch-up, daily quality
 * report, retention, external commands such as the lake export) at their cron times. Time comes
 * through the clock port and every side effect through the store and worker-host ports, so tests
 * drive days of schedules with a manual clock.
 *
 * Due rule: each job remembers the cron time (slot) it last honoured. It is due when the first
 * slot after that one has come; runs missed while the worker was down collapse into one run for
 * the latest slot. A job that never ran honours its latest slot within the past 366 days at once.
 * The slot is recorded (host->state_put) after the job finished, ok or failed; a job cut short by
 * a stop request is not recorded, so it runs again after a restart. The quality report of slot S
 * covers the UTC day before S's day, whenever it actually runs.
 */
#ifndef MTR_SCHEDULER_H
#define MTR_SCHEDULER_H

#include "app/config.h"
#include "app/ports.h"
#include "core/params.h"

enum mtr_job_status { MTR_JOB_OK = 0, MTR_JOB_FAILED, MTR_JOB_INTERRUPTED };
const char *mtr_job_status_name(enum mtr_job_status s); /* "ok", "failed", "interrupted" */

/* Counters of one job, the liveness figures `--metrics-file` exposes. */
struct mtr_job_stats {
    int64_t runs[3];     /* by enum mtr_job_status */
    int64_t last_run;    /* start of the last run, Unix seconds (0 = never in this process) */
    double last_seconds; /* duration of the last run (clock time) */
    int64_t last_items;  /* meter-days rebuilt, meters reported, rows deleted, exit status */
};

/* What happened in one run, passed to the event callback (borrowed for the call). */
struct mtr_job_event {
    const struct mtr_config_job *job;
    enum mtr_job_status status;
    int64_t started, finished;
    int64_t items;
    const char *detail; /* a human summary or the error */
};

struct mtr_scheduler {
    const struct mtr_config *cfg;    /* borrowed */
    struct mtr_store *store;         /* borrowed */
    const struct mtr_params *params; /* borrowed (rollup rebuild) */
    struct mtr_clock_ops clock;
    struct mtr_worker_host_ops host;
    volatile int *stop; /* set by a signal handler: finish the current batch and return */
    void (*on_event)(void *ctx, const struct mtr_job_event *e); /* may be NULL */
    void *event_ctx;
    struct mtr_job_stats stats[MTR_CONFIG_JOBS_MAX];
    int64_t passes; /* evaluations of the schedule */
};

/* Fills s (all members; stats zeroed). Everything passed is borrowed and must outlive s. */
void mtr_sched_init(struct mtr_scheduler *s, const struct mtr_config *cfg, struct mtr_store *store,
                    const struct mtr_params *params, const struct mtr_clock_ops *clock,
                    const struct mtr_worker_host_ops *host, volatile int *stop);

/* When job j is next due, relative to now: *due = 1 when it should run now, *slot = the cron time
 * it then honours; *next = the time it becomes (or became) due (INT64_MAX: never). Returns 0 or
 * MTR_EIO (state unreadable). */
int mtr_sched_due(struct mtr_scheduler *s, int j, int64_t now, int *due, int64_t *next,
                  int64_t *slot);

/*
 * Runs job j once now (whether due or not) for cron time `slot` and records the slot unless
 * interrupted. Returns the job's status (>= 0), or a negative MTR_E* when even its state could not
 * be written (eb).
 */
int mtr_sched_run_job(struct mtr_scheduler *s, int j, int64_t slot, struct mtr_errbuf *eb);

/* One pass: runs every job due at clock.now(), in configuration order, stopping early on *stop.
 * *ran (may be NULL) = jobs run. Returns 0, or a negative MTR_E* on a state error (eb). */
int mtr_sched_run_due(struct mtr_scheduler *s, int *ran, struct mtr_errbuf *eb);

/* The worker loop: run_due, then sleep until the earliest next due time; returns 0 when *stop is
 * set or the clock's sleep_until returns non-zero, or the first state error. */
int mtr_sched_run(struct mtr_scheduler *s, struct mtr_errbuf *eb);

#endif
