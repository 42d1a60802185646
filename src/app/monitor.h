/*
 * monitor.h - `metrify worker monitor`: checks the store's health and evaluates the fleet alert
 * rules every monitor.interval: meters gone silent, quality tier drops, high anomaly rates, stale
 * weather stations (rule ids monitor.* in core/vocab.h, thresholds in the `monitor:` section of the
 * configuration). Alerts go to every registered sink: the store (deduplicated by its upsert on
 * (source, entity, type, start)), the log, and a Kafka topic when brokers are configured.
 *
 * Alerts are keyed so that re-evaluating the same condition updates one alert instead of adding
 * another: a silent meter's alert starts at the end of its last interval and grows until data
 * comes back; the day rules start at the day they judge. Only meters and stations with some data
 * in the last 8 days are judged (one that fell silent earlier was reported when it did).
 */
#ifndef MTR_MONITOR_H
#define MTR_MONITOR_H

#include "app/config.h"
#include "app/ports.h"

/* Where alerts go. publish gets each alert once per evaluation (borrowed for the call). */
struct mtr_alert_sink {
    const char *name; /* "store", "log", "kafka": used in metrics */
    int (*publish)(void *ctx, const struct mtr_alert *a, struct mtr_errbuf *eb);
    void *ctx;
    /* Optional, for a sink that publishes asynchronously: called at the end of every pass, waits
     * until the pass's alerts are delivered; returns how many were not (counted as errors). */
    int64_t (*flush)(void *ctx);
};

#define MTR_MONITOR_SINKS_MAX 4
#define MTR_MONITOR_RULES     4 /* meter_silent, tier_drop, anomaly_rate, weather_stale */

struct mtr_monitor_stats {
    int64_t passes, failed_passes;
    int64_t alerts[MTR_MONITOR_RULES]; /* published, by rule (index = rule - first monitor rule) */
    int64_t sink_errors[MTR_MONITOR_SINKS_MAX];
    int64_t meters, stations; /* judged in the last pass */
    int64_t last_pass;        /* start of the last pass (Unix seconds) */
    double last_seconds;
    int store_up; /* 1 when the last health check passed */
};

struct mtr_monitor {
    const struct mtr_config *cfg; /* borrowed */
    struct mtr_store *store;      /* borrowed */
    struct mtr_clock_ops clock;
    volatile int *stop;
    struct mtr_alert_sink sinks[MTR_MONITOR_SINKS_MAX];
    int nsinks;
    struct mtr_monitor_stats stats;
};

/* Fills m with no sinks; everything passed is borrowed and must outlive m. */
void mtr_monitor_init(struct mtr_monitor *m, const struct mtr_config *cfg, struct mtr_store *store,
                      const struct mtr_clock_ops *clock, volatile int *stop);

/* Adds a sink (copied). Returns 0 or MTR_ERANGE when MTR_MONITOR_SINKS_MAX are registered. */
int mtr_monitor_add_sink(struct mtr_monitor *m, const struct mtr_alert_sink *sink);

/* A sink that upserts each alert into store in its own unit of work. s is borrowed. */
void mtr_alert_sink_store(struct mtr_alert_sink *out, struct mtr_store *s);

/*
 * One evaluation at clock.now(): health check, then every rule over every meter and station,
 * page by page (worker.batch meters). A failing sink is counted and the others still get the
 * alert. Returns 0, or MTR_ESTORE when the store is unhealthy or a query failed (eb; the pass is
 * counted as failed). Stops early, returning 0, when *stop is set.
 */
int mtr_monitor_pass(struct mtr_monitor *m, struct mtr_errbuf *eb);

/* Passes every monitor.interval until *stop (or the clock's sleep_until returns non-zero); a failed
 * pass is reported through on_error (may be
 * NULL) and retried at the next interval. Returns 0. */
int mtr_monitor_run(struct mtr_monitor *m, void (*on_error)(void *ctx, const char *msg), void *ctx);

#endif
