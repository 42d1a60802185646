/*
 * server.h - the state of a running API server shared by the connection glue (server.c) and the
 * handlers: configuration, metrics, rate limiter, the write lock and the access log. Internal to
 * src/api.
 */
#ifndef MTR_API_SERVER_H
#define MTR_API_SERVER_H

#include <pthread.h>
#include <stdio.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/metrics.h"
#include "app/ingest.h"

struct mtr_api_server {
    struct mtr_api_config cfg;
    struct mtr_api_metrics metrics;
    struct mtr_ratelimit rl;
    /* one writer at a time in this process: requests queue here (cheap, fair) instead of spinning
     * in SQLite's busy handler */
    pthread_mutex_t write_mu;
    pthread_mutex_t log_mu;
    FILE *log;
    int log_owned;
    int64_t log_flushed_ns;
    pthread_key_t store_key;
    int draining;       /* SIGTERM: no new connections; in-flight requests finish */
    int stopping;       /* then the worker threads leave their loops */
    uint64_t write_gen; /* bumped after every write request (see the read snapshots in server.c) */
    int64_t started_at;
    uint64_t seq;
    struct mtr_params params; /* ingest parameters (defaults + --strict-meters) */
    /* The store figures of /metrics (row counts, size, anomalies by type) cost scans of whole
     * tables, so they are computed at most every cfg.metrics_cache_s by one request at a time;
     * meanwhile /metrics serves the last ones with their age. Guarded by fig_mu. */
    pthread_mutex_t fig_mu;
    struct mtr_api_store_fig {
        int64_t at_ns; /* when computed (monotonic); 0 = never */
        int have_stats, have_alerts;
        struct mtr_store_stats st;
        uint64_t alerts_by_type[MTR_RULE_COUNT];
    } fig;
    int fig_busy; /* a request is computing new figures */
};

/* Monotonic clock in nanoseconds. */
int64_t mtr_api_now_ns(void);

#endif
