/* report.c - meter-day quality and daily consumption reports from the rollups (see report.h). */
#include "app/report.h"

#include <math.h>
#include <string.h>

#include "core/detect.h"

struct walk {
    const struct mtr_report_sink *sink;
    struct mtr_quality_total *fleet;
    char meter[MTR_ID_MAX];
    struct mtr_quality_total cur;
    int64_t last_day;
    int32_t interval_s;
    /* one day of lookahead: a day's expected count depends on whether it is the meter's last */
    struct mtr_day_row pending;
    int has_pending, first_of_meter;
    int rc;
};

static void total_add(struct mtr_quality_total *t, const struct mtr_day_quality *q)
{
    t->days++;
    t->expected += q->expected;
    t->received += q->received;
    t->missing += q->missing;
    t->estimated += q->estimated;
    t->valid += q->valid;
    t->flagged += q->flagged;
    t->anomalous += q->anomalous;
    t->score_sum += q->score;
    t->tier_days[mtr_tier_from_score(q->score)]++;
}

double mtr_quality_total_score(const struct mtr_quality_total *t)
{
    return t->days ? t->score_sum / (double)t->days : NAN;
}

static int emit_day(struct walk *w, const char *meter, int64_t day, const struct mtr_rollup_day *d,
                    int64_t expected)
{
    struct mtr_day_report r = {.meter_id = meter, .day = day, .interval_s = w->interval_s};
    if (d) {
        mtr_day_quality_compute(&r.q, expected, d->n_valid, d->n_flagged, d->n_estimated,
                                d->n_anomalous, d->timeliness_sum);
        int64_t usable = d->n_valid + d->n_estimated;
        r.kwh = usable ? d->kwh : NAN;
        r.peak_kwh = usable ? d->peak_kwh : NAN;
        r.offpeak_kwh = usable ? d->offpeak_kwh : NAN;
        r.min_kwh = usable ? d->min_kwh : NAN;
        r.max_kwh = usable ? d->max_kwh : NAN;
        r.mean_kwh = usable ? d->kwh / (double)usable : NAN;
    } else {
        mtr_day_quality_compute(&r.q, expected, 0, 0, 0, 0, 0);
        r.kwh = r.peak_kwh = r.offpeak_kwh = r.min_kwh = r.max_kwh = r.mean_kwh = NAN;
    }
    r.tier = mtr_tier_from_score(r.q.score);
    total_add(&w->cur, &r.q);
    total_add(w->fleet, &r.q);
    return w->sink && w->sink->day ? w->sink->day(w->sink->ctx, &r) : 0;
}

/* Emits the pending day; `last` says whether it is the meter's last day in range. */
static int emit_pending(struct walk *w, int last)
{
    const struct mtr_rollup_day *d = &w->pending.d;
    int32_t iv = d->interval_s > 0 ? d->interval_s : 900;
    w->interval_s = iv;
    int64_t start = w->first_of_meter ? d->first_ts : d->day;
    int64_t end = last ? d->last_ts + iv : d->day + 86400;
    int64_t expected = (end - start) / iv;
    if (expected < 1)
        expected = 1;
    int rc = emit_day(w, w->meter, d->day, d, expected);
    w->first_of_meter = 0;
    w->has_pending = 0;
    return rc;
}

static int end_meter(struct walk *w)
{
    int rc = 0;
    if (w->has_pending && (rc = emit_pending(w, 1)) != 0)
        return rc;
    if (w->meter[0]) {
        w->fleet->meters++;
        if (w->sink && w->sink->meter)
            rc = w->sink->meter(w->sink->ctx, w->meter, &w->cur);
    }
    memset(&w->cur, 0, sizeof w->cur);
    w->cur.meters = 1;
    return rc;
}

static int on_row(void *ctx, const struct mtr_day_row *row)
{
    struct walk *w = ctx;
    int rc;
    if (strcmp(row->meter_id, w->meter) != 0) {
        if ((rc = end_meter(w)) != 0)
            return rc;
        memcpy(w->meter, row->meter_id, sizeof w->meter);
        w->first_of_meter = 1;
        w->last_day = 0;
    }
    if (w->has_pending && (rc = emit_pending(w, 0)) != 0)
        return rc;
    /* whole days without a row inside the meter's span are fully missing */
    if (w->last_day) {
        int32_t iv = w->interval_s > 0 ? w->interval_s : 900;
        for (int64_t d = w->last_day + 86400; d < row->d.day; d += 86400)
            if ((rc = emit_day(w, w->meter, d, NULL, 86400 / iv)) != 0)
                return rc;
    }
    w->pending = *row;
    w->has_pending = 1;
    w->last_day = row->d.day;
    return 0;
}

int mtr_report_days(struct mtr_store *s, const struct mtr_query *q,
                    const struct mtr_report_sink *sink, struct mtr_quality_total *fleet)
{
    struct walk w;
    memset(&w, 0, sizeof w);
    memset(fleet, 0, sizeof *fleet);
    w.sink = sink;
    w.fleet = fleet;
    int rc = s->ops->day_rows(s, q, on_row, &w);
    if (rc != 0)
        return rc;
    return end_meter(&w);
}

static json_t *jnum(double x)
{
    return isnan(x) ? json_null() : json_real(x);
}

json_t *mtr_quality_total_json(const struct mtr_quality_total *t)
{
    double score = mtr_quality_total_score(t);
    json_t *tiers = json_object();
    for (int i = MTR_TIER_POOR; i <= MTR_TIER_EXCELLENT; i++)
        json_object_set_new(tiers, mtr_tier_name(i), json_integer(t->tier_days[i]));
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:s,s:o}", "meters",
                     (json_int_t)t->meters, "days", (json_int_t)t->days, "expected_intervals",
                     (json_int_t)t->expected, "received_intervals", (json_int_t)t->received,
                     "missing_intervals", (json_int_t)t->missing, "estimated_intervals",
                     (json_int_t)t->estimated, "valid_intervals", (json_int_t)t->valid,
                     "flagged_intervals", (json_int_t)t->flagged, "anomalous_intervals",
                     (json_int_t)t->anomalous, "score", jnum(score), "tier",
                     mtr_tier_name(mtr_tier_from_score(score)), "tier_days", tiers);
}
