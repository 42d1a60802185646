/*
 * host.h - the real implementations of the worker ports (app/ports.h): the system clock, a fixed
 * clock for `--now`, files written atomically, /bin/sh commands, and the job state file that
 * remembers each scheduled job's last run across restarts.
 */
#ifndef MTR_WORKER_HOST_H
#define MTR_WORKER_HOST_H

#include "app/ports.h"

/* The system clock (CLOCK_REALTIME); sleep_until sleeps in steps of at most one second. */
void mtr_clock_system(struct mtr_clock_ops *out);

/* A clock stopped at *t (borrowed, must outlive the ops): now() = *t; sleep_until returns 1 at
 * once (there is nothing to wait for). */
void mtr_clock_fixed(struct mtr_clock_ops *out, int64_t *t);

/* The worker host over the filesystem. state_file is borrowed (kept by pointer): lines of
 * "<job name> <unix seconds>", rewritten atomically by state_put. */
struct mtr_worker_host {
    const char *state_file;
};
void mtr_worker_host_init(struct mtr_worker_host *h, const char *state_file,
                          struct mtr_worker_host_ops *out);

/* Creates directory path and its parents (like mkdir -p). 0 or MTR_EIO (eb). */
int mtr_mkdirs(const char *path, struct mtr_errbuf *eb);

#endif
