/*
 * metrics.h - the server's Prometheus metrics: requests and a latency histogram per route and
 * status, ingested/rejected/flagged records by kind and rule. Counters are lock-free atomics in
 * fixed arrays sized by the route table, so recording costs a few atomic adds per request.
 */
#ifndef MTR_API_METRICS_H
#define MTR_API_METRICS_H

#include <stdint.h>

#include "app/ingest.h"
#include "base/jsonw.h"

#define MTR_METRICS_ROUTES   96 /* >= route count + 1 (the last slot counts unmatched paths) */
#define MTR_METRICS_STATUSES 18
#define MTR_METRICS_BUCKETS  14

struct mtr_api_metrics {
    uint64_t req[MTR_METRICS_ROUTES][MTR_METRICS_STATUSES];
    uint64_t hist[MTR_METRICS_ROUTES][MTR_METRICS_STATUSES][MTR_METRICS_BUCKETS];
    uint64_t sum_us[MTR_METRICS_ROUTES][MTR_METRICS_STATUSES];
    uint64_t accepted[MTR_KIND_COUNT], rejected[MTR_KIND_COUNT], estimated;
    uint64_t by_rule[MTR_RULE_COUNT]; /* rejections and flags per rule (ingest stats) */
    uint64_t in_flight;
};

/* Records one finished request: route index (-1 = unmatched), HTTP status, duration. */
void mtr_api_metrics_request(struct mtr_api_metrics *m, int route, int status, int64_t dur_us);

/* Adds the totals of one committed ingest request. */
void mtr_api_metrics_ingest(struct mtr_api_metrics *m, enum mtr_kind kind,
                            const struct mtr_ingest_stats *st);

/* Writes the Prometheus text exposition (version 0.0.4) of m into w (raw text), plus the store
 * figures given by the caller (st, alerts_by_type may be NULL when the store could not be read)
 * and their age in seconds (they are cached). */
void mtr_api_metrics_text(const struct mtr_api_metrics *m, const struct mtr_store_stats *st,
                          const uint64_t *alerts_by_type, double figures_age_s, struct mtr_jw *w);

#endif
