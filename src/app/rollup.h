/*
 * rollup.h - the rollup rules, in one place: how a stored reading counts into its meter-day and
 * meter-hour rows (ports.h). Used by ingest's streaming buckets and by every store adapter's
 * rebuild of a day from its readings, so both always agree.
 */
#ifndef MTR_ROLLUP_H
#define MTR_ROLLUP_H

#include "app/ports.h"

/* Sets d to an empty day of meter_key starting at `day`, and, when h is not NULL, h[0..23] to its
 * empty hours (min/max NAN). */
void mtr_rollup_day_init(struct mtr_rollup_day *d, struct mtr_rollup_hour h[24], int64_t meter_key,
                         int64_t day);

/*
 * Adds reading r to its day row d and hour row h: every reading counts by quality (valid/edited,
 * estimated, questionable) and as anomalous when an alert rule flagged it; only analytics-grade
 * values (not questionable, not NaN) add kWh, peak/off-peak (the windows of p, which may wrap
 * midnight) and min/max; h->n counts measured values, h->n_estimated estimates. `timeliness` is
 * the reading's factor (core/quality.h), summed for every reading that is not an estimate.
 */
void mtr_rollup_add(struct mtr_rollup_day *d, struct mtr_rollup_hour *h,
                    const struct mtr_stored_reading *r, const struct mtr_params *p,
                    double timeliness);

#endif
