/* meters.c - meter search, tiers and analytics for the API (see meters.h). */
#include "app/meters.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/report.h"
#include "core/quality.h"

double mtr_geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(fmin(1.0, sqrt(a)));
}

struct one_total {
    struct mtr_quality_total t;
    int seen;
};

static int on_meter_total(void *ctx, const char *id, const struct mtr_quality_total *t)
{
    struct one_total *o = ctx;
    o->t = *t;
    o->seen = 1;
    return 0;
}

int mtr_meter_tier(struct mtr_store *s, const char *id, enum mtr_tier *tier, double *score)
{
    struct mtr_query q;
    memset(&q, 0, sizeof q);
    q.kind = q.type = q.min_level = -1;
    q.entity_id = id;
    struct one_total o = {0};
    struct mtr_quality_total fleet;
    struct mtr_report_sink sink = {.meter = on_meter_total, .ctx = &o};
    int rc = mtr_report_days(s, &q, &sink, &fleet);
    if (rc)
        return rc;
    *score = o.seen ? mtr_quality_total_score(&o.t) : NAN;
    *tier = mtr_tier_from_score(*score);
    return 0;
}

/* ---- fleet tiers: id -> score, open addressing, built once per tier-filtered search ---- */

struct tier_entry {
    char id[MTR_ID_MAX];
    double score;
};
struct tier_map {
    struct tier_entry *e;
    size_t cap, n;
    int oom;
};

static size_t tm_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct tier_entry *tm_slot(struct tier_map *m, const char *id)
{
    size_t i = tm_hash(id) & (m->cap - 1);
    while (m->e[i].id[0] && strcmp(m->e[i].id, id) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->e[i];
}

static int on_fleet_meter(void *ctx, const char *id, const struct mtr_quality_total *t)
{
    struct tier_map *m = ctx;
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        struct tier_entry *old = m->e;
        size_t ocap = m->cap;
        m->e = calloc(ncap, sizeof *m->e);
        if (!m->e) {
            m->e = old;
            return MTR_ENOMEM;
        }
        m->cap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].id[0])
                *tm_slot(m, old[i].id) = old[i];
        free(old);
    }
    struct tier_entry *e = tm_slot(m, id);
    if (!e->id[0])
        m->n++;
    memcpy(e->id, id, strnlen(id, MTR_ID_MAX - 1));
    e->id[strnlen(id, MTR_ID_MAX - 1)] = 0;
    e->score = mtr_quality_total_score(t);
    return 0;
}

struct search {
    const struct mtr_meter_search *q;
    struct tier_map tiers;
    struct mtr_store *s;
    int64_t matched, first, last; /* page window [first, last) over matches */
    mtr_meter_row_fn cb;
    void *ctx;
    int use_map, paged_in_store;
    int rc;
};

static int on_found(void *ctx, const struct mtr_meter *m)
{
    struct search *se = ctx;
    const struct mtr_meter_search *q = se->q;
    double dist = NAN, score = NAN;
    enum mtr_tier tier = MTR_TIER_UNKNOWN;
    if (q->has_radius) {
        if (isnan(m->latitude) || isnan(m->longitude))
            return 0;
        dist = mtr_geo_distance_km(q->lat, q->lon, m->latitude, m->longitude);
        if (dist > q->radius_km)
            return 0;
    }
    if (se->use_map) {
        struct tier_entry *e = se->tiers.cap ? tm_slot(&se->tiers, m->id) : NULL;
        score = e && e->id[0] ? e->score : NAN;
        tier = mtr_tier_from_score(score);
        if (q->tier >= 0 && (int)tier != q->tier)
            return 0;
    }
    int64_t idx = se->matched++;
    if (!se->paged_in_store && (idx < se->first || idx >= se->last))
        return 0;
    if (!se->use_map) {
        int rc = mtr_meter_tier(se->s, m->id, &tier, &score);
        if (rc)
            return rc;
    }
    return se->cb(se->ctx, m, tier, score, dist);
}

int mtr_meter_search_run(struct mtr_store *s, const struct mtr_meter_search *q, int64_t *total,
                         mtr_meter_row_fn cb, void *ctx)
{
    struct search se;
    memset(&se, 0, sizeof se);
    se.q = q;
    se.s = s;
    se.cb = cb;
    se.ctx = ctx;
    int64_t size = q->page_size > 0 ? q->page_size : 20, page = q->page > 0 ? q->page : 1;
    se.first = (page - 1) * size;
    se.last = se.first + size;
    struct mtr_meter_filter f = q->f;
    if (q->has_radius) {
        /* bounding box around the circle: 1 degree of latitude ~ 111.2 km */
        double dlat = q->radius_km / 111.195, c = cos(q->lat * M_PI / 180.0);
        double dlon = c > 1e-6 ? dlat / c : 360;
        if (f.has_bbox) { /* both: intersect */
            f.min_lat = fmax(f.min_lat, q->lat - dlat);
            f.max_lat = fmin(f.max_lat, q->lat + dlat);
            f.min_lon = fmax(f.min_lon, q->lon - dlon);
            f.max_lon = fmin(f.max_lon, q->lon + dlon);
        } else {
            f.min_lat = q->lat - dlat;
            f.max_lat = q->lat + dlat;
            f.min_lon = q->lon - dlon;
            f.max_lon = q->lon + dlon;
        }
        f.has_bbox = 1;
    }
    int rc;
    if (q->tier >= 0) {
        struct mtr_query rq;
        struct mtr_quality_total fleet;
        memset(&rq, 0, sizeof rq);
        rq.kind = rq.type = rq.min_level = -1;
        struct mtr_report_sink sink = {.meter = on_fleet_meter, .ctx = &se.tiers};
        if ((rc = mtr_report_days(s, &rq, &sink, &fleet)) != 0)
            goto out;
        se.use_map = 1;
    }
    if (!q->has_radius && q->tier < 0) {
        /* every filter is in the store: let it page and count */
        se.paged_in_store = 1;
        f.limit = size;
        f.offset = se.first;
        rc = s->ops->meter_find(s, &f, total, on_found, &se);
    } else {
        f.limit = f.offset = 0;
        rc = s->ops->meter_find(s, &f, NULL, on_found, &se);
        if (total)
            *total = se.matched;
    }
out:
    free(se.tiers.e);
    return rc;
}

struct analytics {
    struct mtr_meter_analytics *a;
    uint64_t alert_mask;
    double v_sum, i_sum, pf_sum, f_sum, score_sum;
    int64_t v_n, i_n, pf_n, f_n;
};

static int on_reading(void *ctx, const struct mtr_stored_reading *r)
{
    struct analytics *x = ctx;
    struct mtr_meter_analytics *a = x->a;
    a->total_readings++;
    int est = mtr_quality_code_is_estimate(r->quality_code);
    if (est)
        a->estimated++;
    else
        a->measured++;
    if (r->quality_code == MTR_Q_QUESTIONABLE)
        a->flagged++;
    if (r->flags & x->alert_mask)
        a->anomalous++;
    x->score_sum += r->score;
#define ACC(v, s, n)                                                                               \
    if (!isnan(v)) {                                                                               \
        s += v;                                                                                    \
        n++;                                                                                       \
    }
    ACC(r->voltage_v, x->v_sum, x->v_n);
    ACC(r->current_a, x->i_sum, x->i_n);
    ACC(r->power_factor, x->pf_sum, x->pf_n);
    ACC(r->frequency_hz, x->f_sum, x->f_n);
#undef ACC
    if (r->quality_code != MTR_Q_QUESTIONABLE && !isnan(r->kwh)) {
        a->total_kwh += r->kwh;
        if (isnan(a->peak_kwh) || r->kwh > a->peak_kwh) {
            a->peak_kwh = r->kwh;
            a->peak_ts = r->ts;
        }
    }
    return 0;
}

int mtr_meter_analytics_run(struct mtr_store *s, int64_t meter_key, int64_t from, int64_t to,
                            struct mtr_meter_analytics *out)
{
    memset(out, 0, sizeof *out);
    out->from = from;
    out->to = to;
    out->peak_kwh = NAN;
    struct analytics x = {.a = out, .alert_mask = mtr_alert_mask()};
    int rc = s->ops->readings_range(s, meter_key, from, to, on_reading, &x);
    if (rc)
        return rc;
    out->avg_voltage = x.v_n ? x.v_sum / (double)x.v_n : NAN;
    out->avg_current = x.i_n ? x.i_sum / (double)x.i_n : NAN;
    out->avg_power_factor = x.pf_n ? x.pf_sum / (double)x.pf_n : NAN;
    out->avg_frequency = x.f_n ? x.f_sum / (double)x.f_n : NAN;
    out->avg_quality_score = out->total_readings ? x.score_sum / (double)out->total_readings : NAN;
    out->anomaly_rate =
        out->total_readings ? 100.0 * (double)out->anomalous / (double)out->total_readings : 0;
    return 0;
}
