/*
 * report.h - the reporting use cases behind `metrify quality` and `metrify analytics daily` (and
 * the API's quality and daily endpoints): meter-day quality and consumption figures computed from
 * the daily rollups only, never by rescanning readings.
 *
 * Expected intervals: a meter is expected to deliver every interval from its first to its last
 * reading in the queried range; a whole day without any row inside that span counts as fully
 * missing. Days before a meter's first or after its last reading are not expected.
 */
#ifndef MTR_REPORT_H
#define MTR_REPORT_H

#include <jansson.h>

#include "app/ports.h"
#include "core/quality.h"

struct mtr_day_report {
    const char *meter_id; /* borrowed for the duration of the callback */
    int64_t day;
    int32_t interval_s;
    struct mtr_day_quality q;
    enum mtr_tier tier;
    double kwh, peak_kwh, offpeak_kwh, min_kwh, max_kwh, mean_kwh; /* NAN when no usable value */
};

/* Totals over a set of meter-days (a meter, or the fleet). */
struct mtr_quality_total {
    int64_t meters, days, expected, received, missing, estimated, valid, flagged, anomalous;
    double score_sum; /* mean score = score_sum / days */
    int64_t tier_days[MTR_TIER_EXCELLENT + 1];
};

struct mtr_report_sink {
    /* every meter-day (may be NULL) */
    int (*day)(void *ctx, const struct mtr_day_report *d);
    /* every meter, after its days (may be NULL) */
    int (*meter)(void *ctx, const char *meter_id, const struct mtr_quality_total *t);
    void *ctx;
};

/* Walks the day rollups selected by q (entity_id, from, to) through sink and fills *fleet.
 * Returns 0, a callback's non-zero value, or a store error. */
int mtr_report_days(struct mtr_store *s, const struct mtr_query *q,
                    const struct mtr_report_sink *sink, struct mtr_quality_total *fleet);

/* Mean score and tier of a total (unknown when it has no days). */
double mtr_quality_total_score(const struct mtr_quality_total *t);

/* The fleet/meter quality totals as the JSON object every report prints (`metrify quality
 * --json`, the worker's daily report file): counts, score, tier and days per tier. Returns a new
 * reference (caller decrefs), NULL when out of memory. */
json_t *mtr_quality_total_json(const struct mtr_quality_total *t);

#endif
