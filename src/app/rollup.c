/* rollup.c - the rollup rules (see rollup.h). */
#include "app/rollup.h"

#include <math.h>
#include <string.h>

#include "core/quality.h"
#include "core/vocab.h"

void mtr_rollup_day_init(struct mtr_rollup_day *d, struct mtr_rollup_hour h[24], int64_t meter_key,
                         int64_t day)
{
    memset(d, 0, sizeof *d);
    d->meter_key = meter_key;
    d->day = day;
    d->min_kwh = d->max_kwh = NAN;
    for (int i = 0; h && i < 24; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].meter_key = meter_key;
        h[i].hour = day + 3600 * i;
        h[i].min_kwh = h[i].max_kwh = NAN;
    }
}

static int in_window(double hour, double start, double end)
{
    return start <= end ? (hour >= start && hour < end) : (hour >= start || hour < end);
}

static void min_max(double *mn, double *mx, double v)
{
    if (isnan(*mn) || v < *mn)
        *mn = v;
    if (isnan(*mx) || v > *mx)
        *mx = v;
}

void mtr_rollup_add(struct mtr_rollup_day *d, struct mtr_rollup_hour *h,
                    const struct mtr_stored_reading *r, const struct mtr_params *p,
                    double timeliness)
{
    int est = mtr_quality_code_is_estimate(r->quality_code);
    d->interval_s = r->interval_s;
    if (!d->first_ts || r->ts < d->first_ts)
        d->first_ts = r->ts;
    if (r->ts > d->last_ts)
        d->last_ts = r->ts;
    if (r->flags & mtr_alert_mask())
        d->n_anomalous++;
    if (!est)
        d->timeliness_sum += timeliness;
    if (r->quality_code == MTR_Q_QUESTIONABLE) {
        d->n_flagged++;
        return;
    }
    if (est)
        d->n_estimated++;
    else if (r->quality_code == MTR_Q_VALID || r->quality_code == MTR_Q_EDITED)
        d->n_valid++;
    if (isnan(r->kwh))
        return;
    double v = r->kwh, hod = (double)(((r->ts % 86400) + 86400) % 86400) / 3600.0;
    d->kwh += v;
    if (in_window(hod, p->peak_start_hour, p->peak_end_hour))
        d->peak_kwh += v;
    if (in_window(hod, p->offpeak_start_hour, p->offpeak_end_hour))
        d->offpeak_kwh += v;
    min_max(&d->min_kwh, &d->max_kwh, v);
    h->kwh += v;
    min_max(&h->min_kwh, &h->max_kwh, v);
    if (est)
        h->n_estimated++;
    else
        h->n++;
}
