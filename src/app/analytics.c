/*
 * analytics.c - weather impact, grid report, forecast and station linking (see analytics.h).
 *
 * Memory is bounded by the selection, not by the data: per meter a few arrays over the analysed
 * days (reused from meter to meter), per station its aligned hourly temperatures, per operator
 * and for the fleet day (and, for the forecast, hour) accumulators. The hourly rollups stream
 * through in the store's order (meter, hour) and each meter is finished when the next starts.
 */
#include "app/analytics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/grow.h"
#include "core/detect.h"

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    return mtr_grow(arr, cap, need, elem, 64);
}

/* ======================= nearest-station linking ======================= */

struct link_ctx {
    struct mtr_station *st;
    size_t n, cap;
    struct mtr_meter *todo;
    size_t n_todo, cap_todo;
    int relink, oom;
    struct mtr_link_stats *out;
};

static int link_station(void *ctx, const struct mtr_station *st)
{
    struct link_ctx *c = ctx;
    if (st->status != MTR_SITE_ACTIVE || !mtr_has(st->latitude) || !mtr_has(st->longitude))
        return 0;
    if (grow((void **)&c->st, &c->cap, c->n + 1, sizeof *c->st)) {
        c->oom = 1;
        return 1;
    }
    c->st[c->n++] = *st;
    return 0;
}

static int link_meter(void *ctx, const struct mtr_meter *m)
{
    struct link_ctx *c = ctx;
    if (m->station_id[0] && !c->relink)
        return 0;
    if (grow((void **)&c->todo, &c->cap_todo, c->n_todo + 1, sizeof *c->todo)) {
        c->oom = 1;
        return 1;
    }
    c->todo[c->n_todo++] = *m;
    return 0;
}

int mtr_link_stations(struct mtr_store *s, double max_km, int relink, struct mtr_link_stats *out,
                      struct mtr_errbuf *eb)
{
    struct link_ctx c = {.relink = relink, .out = out};
    memset(out, 0, sizeof *out);
    int rc = s->ops->station_list(s, NULL, link_station, &c);
    if (rc == 0)
        rc = s->ops->meter_list(s, NULL, link_meter, &c);
    if (c.oom)
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
    if (rc < 0)
        goto out;
    out->stations = (int64_t)c.n;
    out->meters = (int64_t)c.n_todo;
    if (!c.n_todo)
        goto out;
    if ((rc = s->ops->begin(s)) < 0)
        goto out;
    for (size_t i = 0; i < c.n_todo; i++) {
        struct mtr_meter *m = &c.todo[i];
        if (!mtr_has(m->latitude) || !mtr_has(m->longitude)) {
            out->unlocated++;
            continue;
        }
        double best = INFINITY;
        size_t bi = 0;
        for (size_t j = 0; j < c.n; j++) {
            double d =
                mtr_haversine_km(m->latitude, m->longitude, c.st[j].latitude, c.st[j].longitude);
            if (d < best) {
                best = d;
                bi = j;
            }
        }
        if (!(best <= max_km)) {
            out->none++;
            continue;
        }
        if (strcmp(m->station_id, c.st[bi].id) != 0) {
            memcpy(m->station_id, c.st[bi].id, MTR_ID_MAX);
            if ((rc = s->ops->meter_put(s, m)) < 0) {
                s->ops->rollback(s);
                goto out;
            }
        }
        out->linked++;
    }
    rc = s->ops->commit(s);
out:
    if (rc < 0 && !eb->msg[0])
        mtr_err(eb, rc, "%s", s->err.msg);
    free(c.st);
    free(c.todo);
    return rc;
}

/* ======================= the selection: meters, stations, day axis ======================= */

struct meter_ref {
    char id[MTR_ID_MAX];
    int station; /* index into sel.st, -1 none */
    int op;      /* index into sel.ops, -1 none */
};

struct station_data {
    char id[MTR_ID_MAX];
    int64_t day0; /* first day of its aligned series */
    size_t ndays;
    double *tday; /* daily mean temperature, NAN when incomplete */
    double normal[366];
    struct mtr_wi_station info;
};

/*
 * Accumulators of one aggregate series (operator or fleet) over the day (or hour) axis: a ratio
 * estimator, so the series does not jump when the meters that report change from day to day.
 * Each meter m has a level L_m (its mean over its usable days); a day's value is
 * mean(L) x sum(y_m) / sum(L_m) over the meters usable that day, which is the plain mean per
 * meter when every meter reports. Temperatures are weighted by L_m the same way.
 */
struct agg {
    double *y, *t, *tn, *w; /* sums of y_m, L_m T_m, L_m Tnormal_m, L_m */
    int64_t *n;
    int64_t meters;
    double level_sum;
};

struct sel {
    struct mtr_store *s;
    struct mtr_errbuf *eb;
    const char *meter_id, *operator_id;
    struct meter_ref *m;
    size_t nm, cap_m;
    size_t *slots; /* hash: index + 1 */
    size_t nslots;
    struct station_data *st;
    size_t nst, cap_st;
    char (*ops)[MTR_ID_MAX];
    size_t nops, cap_ops;
    int64_t day0; /* the day axis: every station's days */
    size_t G;
    int max_gap_h;
    int oom;
    /* weather loading scratch */
    int64_t *wts;
    double *wval;
    size_t wn, wcap, wcap2;
};

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int meter_find(const struct sel *c, const char *id)
{
    if (!c->nslots)
        return -1;
    size_t mask = c->nslots - 1, i = hash_id(id) & mask;
    while (c->slots[i]) {
        if (strcmp(c->m[c->slots[i] - 1].id, id) == 0)
            return (int)(c->slots[i] - 1);
        i = (i + 1) & mask;
    }
    return -1;
}

static int intern(char (**arr)[MTR_ID_MAX], size_t *n, size_t *cap, const char *id)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i], id) == 0)
            return (int)i;
    if (grow((void **)arr, cap, *n + 1, MTR_ID_MAX))
        return MTR_ENOMEM;
    snprintf((*arr)[*n], MTR_ID_MAX, "%s", id);
    return (int)(*n)++;
}

static int station_index(struct sel *c, const char *id)
{
    for (size_t i = 0; i < c->nst; i++)
        if (strcmp(c->st[i].id, id) == 0)
            return (int)i;
    if (grow((void **)&c->st, &c->cap_st, c->nst + 1, sizeof *c->st))
        return MTR_ENOMEM;
    struct station_data *d = &c->st[c->nst];
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "%s", id);
    return (int)c->nst++;
}

static int sel_meter(void *ctx, const struct mtr_meter *m)
{
    struct sel *c = ctx;
    if (c->operator_id && strcmp(m->operator_id, c->operator_id) != 0)
        return 0;
    if (grow((void **)&c->m, &c->cap_m, c->nm + 1, sizeof *c->m)) {
        c->oom = 1;
        return 1;
    }
    struct meter_ref *r = &c->m[c->nm];
    memcpy(r->id, m->id, MTR_ID_MAX);
    r->station = r->op = -1;
    if (m->station_id[0]) {
        int i = station_index(c, m->station_id);
        if (i < 0) {
            c->oom = 1;
            return 1;
        }
        r->station = i;
    }
    if (m->operator_id[0]) {
        int i = intern(&c->ops, &c->nops, &c->cap_ops, m->operator_id);
        if (i < 0) {
            c->oom = 1;
            return 1;
        }
        r->op = i;
    }
    c->nm++;
    return 0;
}

static int sel_weather(void *ctx, const struct mtr_weather_row *r)
{
    struct sel *c = ctx;
    if (r->flags || !mtr_has(r->w.temperature_c))
        return 0; /* implausible (weather.range) or not delivered */
    if (grow((void **)&c->wts, &c->wcap, c->wn + 1, sizeof *c->wts) ||
        grow((void **)&c->wval, &c->wcap2, c->wn + 1, sizeof *c->wval)) {
        c->oom = 1;
        return 1;
    }
    c->wts[c->wn] = r->w.ts;
    c->wval[c->wn++] = r->w.temperature_c;
    return 0;
}

/* Loads and aligns one station's temperatures; daily means and normals. */
static int load_station(struct sel *c, struct station_data *d)
{
    struct mtr_query q = {.entity_id = d->id, .kind = -1, .type = -1, .min_level = -1};
    c->wn = 0;
    int rc = c->s->ops->weather_rows(c->s, &q, sel_weather, c);
    if (c->oom)
        return mtr_err(c->eb, MTR_ENOMEM, "out of memory");
    if (rc < 0)
        return mtr_err(c->eb, rc, "%s", c->s->err.msg);
    d->info.id = d->id;
    if (!c->wn)
        return 0;
    int64_t lo = c->wts[0], hi = c->wts[0];
    for (size_t i = 1; i < c->wn; i++) {
        lo = c->wts[i] < lo ? c->wts[i] : lo;
        hi = c->wts[i] > hi ? c->wts[i] : hi;
    }
    d->info.first_ts = lo;
    d->info.last_ts = hi;
    d->day0 = mtr_day_start(lo);
    d->ndays = (size_t)((mtr_day_start(hi) - d->day0) / 86400 + 1);
    size_t hours = d->ndays * 24;
    double *hv = malloc(hours * sizeof *hv);
    unsigned char *hf = malloc(hours);
    int64_t *dts = malloc(d->ndays * sizeof *dts);
    d->tday = malloc(d->ndays * sizeof *d->tday);
    if (!hv || !hf || !dts || !d->tday) {
        rc = mtr_err(c->eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    rc = mtr_align_hourly(c->wts, c->wval, c->wn, d->day0, hours, c->max_gap_h, hv, hf,
                          &d->info.align, c->eb);
    if (rc < 0)
        goto out;
    for (size_t k = 0; k < d->ndays; k++) {
        double sum = 0;
        int ok = 1;
        for (int h = 0; h < 24; h++) {
            ok &= !isnan(hv[k * 24 + h]);
            sum += hv[k * 24 + h];
        }
        d->tday[k] = ok ? sum / 24 : NAN;
        dts[k] = d->day0 + (int64_t)k * 86400;
    }
    d->info.normal_days = mtr_dd_normal_temps(dts, d->tday, d->ndays, d->normal);
out:
    free(hv);
    free(hf);
    free(dts);
    return rc;
}

static void sel_free(struct sel *c)
{
    for (size_t i = 0; i < c->nst; i++)
        free(c->st[i].tday);
    free(c->st);
    free(c->m);
    free(c->slots);
    free(c->ops);
    free(c->wts);
    free(c->wval);
}

/* Loads the selected meters, their stations' weather and the day axis. */
static int sel_load(struct sel *c)
{
    struct mtr_query q = {.entity_id = c->meter_id, .kind = -1, .type = -1, .min_level = -1};
    int rc = c->s->ops->meter_list(c->s, &q, sel_meter, c);
    if (c->oom)
        return mtr_err(c->eb, MTR_ENOMEM, "out of memory");
    if (rc < 0)
        return mtr_err(c->eb, rc, "%s", c->s->err.msg);
    if (c->meter_id && !c->nm)
        return mtr_err(c->eb, MTR_ENOTFOUND, "meter %s is not registered", c->meter_id);
    if (c->operator_id && !c->nm)
        return mtr_err(c->eb, MTR_ENOTFOUND, "no meter belongs to operator %s", c->operator_id);
    c->nslots = 16;
    while (c->nslots < 2 * c->nm)
        c->nslots *= 2;
    if (!(c->slots = calloc(c->nslots, sizeof *c->slots)))
        return mtr_err(c->eb, MTR_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->nm; i++) {
        size_t mask = c->nslots - 1, k = hash_id(c->m[i].id) & mask;
        while (c->slots[k])
            k = (k + 1) & mask;
        c->slots[k] = i + 1;
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < c->nst; i++) {
        if ((rc = load_station(c, &c->st[i])) < 0)
            return rc;
        if (c->st[i].ndays) {
            lo = c->st[i].day0 < lo ? c->st[i].day0 : lo;
            int64_t end = c->st[i].day0 + (int64_t)c->st[i].ndays * 86400;
            hi = end > hi ? end : hi;
        }
    }
    c->day0 = lo == INT64_MAX ? 0 : lo;
    c->G = lo == INT64_MAX ? 0 : (size_t)((hi - lo) / 86400);
    return 0;
}

/* Temperature of station st on axis day g (NAN outside its series). */
static double station_temp(const struct sel *c, int st, size_t g, double *normal)
{
    const struct station_data *d = &c->st[st];
    int64_t k = ((int64_t)c->day0 - d->day0) / 86400 + (int64_t)g;
    if (normal)
        *normal =
            d->info.normal_days ? d->normal[mtr_day_of_year(c->day0 + (int64_t)g * 86400)] : NAN;
    if (k < 0 || (size_t)k >= d->ndays)
        return NAN;
    return d->tday[k];
}

/* ======================= per-meter accumulation from the hourly rollups ======================= */

struct meter_days {
    double *kwh;
    int32_t *hours, *min_n, *est;
    int32_t iph; /* intervals per hour: the most frequent count of the meter's hours */
    int64_t hist[64];
    double *hkwh; /* forecast only: per axis hour, NAN unless complete */
    int32_t *hn;
};

static int days_alloc(struct meter_days *d, size_t G, int hourly)
{
    memset(d, 0, sizeof *d);
    d->kwh = malloc(G * sizeof *d->kwh);
    d->hours = malloc(G * sizeof *d->hours);
    d->min_n = malloc(G * sizeof *d->min_n);
    d->est = malloc(G * sizeof *d->est);
    if (hourly) {
        d->hkwh = malloc(G * 24 * sizeof *d->hkwh);
        d->hn = malloc(G * 24 * sizeof *d->hn);
    }
    if (!d->kwh || !d->hours || !d->min_n || !d->est || (hourly && (!d->hkwh || !d->hn)))
        return MTR_ENOMEM;
    return 0;
}

static void days_reset(struct meter_days *d, size_t G)
{
    memset(d->kwh, 0, G * sizeof *d->kwh);
    memset(d->hours, 0, G * sizeof *d->hours);
    memset(d->est, 0, G * sizeof *d->est);
    for (size_t i = 0; i < G; i++)
        d->min_n[i] = INT32_MAX;
    if (d->hkwh) {
        for (size_t i = 0; i < G * 24; i++)
            d->hkwh[i] = NAN;
        memset(d->hn, 0, G * 24 * sizeof *d->hn);
    }
    d->iph = 0;
    memset(d->hist, 0, sizeof d->hist);
}

/* Sets iph from the histogram: the usual number of intervals in an hour of this meter. */
static void days_settle(struct meter_days *d)
{
    int best = 0;
    for (int i = 1; i < 64; i++)
        if (d->hist[i] >= d->hist[best])
            best = i;
    d->iph = d->hist[best] ? best : 0;
}

static void days_free(struct meter_days *d)
{
    free(d->kwh);
    free(d->hours);
    free(d->min_n);
    free(d->est);
    free(d->hkwh);
    free(d->hn);
}

static void days_add(struct meter_days *d, int64_t day0, size_t G, const struct mtr_rollup_hour *h)
{
    int32_t all = h->n + h->n_estimated;
    d->hist[all < 63 ? (all > 0 ? all : 0) : 63]++;
    if (h->hour < day0)
        return;
    size_t g = (size_t)((h->hour - day0) / 86400);
    if (g >= G)
        return;
    d->kwh[g] += h->kwh;
    d->hours[g]++;
    d->est[g] |= h->n_estimated > 0;
    if (h->n < d->min_n[g])
        d->min_n[g] = h->n;
    if (d->hkwh) {
        size_t k = (size_t)((h->hour - day0) / 3600);
        d->hkwh[k] = h->n_estimated ? NAN : h->kwh;
        d->hn[k] = h->n;
    }
}

static int day_complete(const struct meter_days *d, size_t g)
{
    return d->hours[g] == 24 && !d->est[g] && d->min_n[g] == d->iph && d->iph > 0;
}

static int agg_alloc(struct agg *a, size_t G)
{
    a->y = calloc(G, sizeof *a->y);
    a->t = calloc(G, sizeof *a->t);
    a->tn = calloc(G, sizeof *a->tn);
    a->n = calloc(G, sizeof *a->n);
    a->w = calloc(G, sizeof *a->w);
    a->meters = 0;
    a->level_sum = 0;
    return a->y && a->t && a->tn && a->n && a->w ? 0 : MTR_ENOMEM;
}

static void agg_free(struct agg *a)
{
    free(a->y);
    free(a->w);
    free(a->t);
    free(a->tn);
    free(a->n);
}

/* ======================= weather impact ======================= */

void mtr_wi_opts_default(struct mtr_wi_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_gap_h = 2;
    o->meters = 1;
}

static const char *const scope_names[] = {"meter", "operator", "fleet"};
const char *mtr_wi_scope_name(enum mtr_wi_scope s)
{
    return (unsigned)s <= MTR_WI_FLEET ? scope_names[s] : "unknown";
}

struct wi {
    struct sel c;
    const struct mtr_wi_opts *o;
    const struct mtr_wi_sink *sink;
    struct mtr_wi_summary *sum;
    double *day_kwh; /* the current meter's complete days, NAN otherwise */
    struct agg fleet, *ops;
    double *T, *Y, *TN; /* scratch series of G days */
    int cur;            /* meter being accumulated, -1 none */
    int rc;
};

static int in_range(const struct mtr_wi_opts *o, int64_t day)
{
    return (!o->has_from || day >= mtr_day_start(o->from)) && (!o->has_to || day < o->to);
}

/* Fits and emits one series over T/Y/TN (NAN = not usable). */
static int emit(struct wi *w, enum mtr_wi_scope scope, const char *id, const char *station,
                int64_t meters)
{
    struct mtr_wi_series r;
    memset(&r, 0, sizeof r);
    r.scope = scope;
    r.id = id;
    r.station_id = station;
    r.meters = meters;
    for (size_t g = 0; g < w->c.G; g++) {
        if (isnan(w->T[g]) || isnan(w->Y[g]))
            continue;
        int64_t day = w->c.day0 + (int64_t)g * 86400;
        if (!r.days++)
            r.first_day = day;
        r.last_day = day;
    }
    mtr_pearson(w->T, w->Y, w->c.G, &r.corr);
    struct mtr_errbuf eb;
    r.fit_rc = mtr_dd_fit(w->T, w->Y, w->c.G, NULL, &r.model, &eb);
    if (r.fit_rc == 0)
        mtr_dd_normalize(&r.model, w->T, w->Y, w->TN, w->c.G, &r.normalized);
    return w->sink->series(w->sink->ctx, &r);
}

static int finish_meter(struct wi *w)
{
    if (w->cur < 0)
        return 0;
    const struct meter_ref *m = &w->c.m[w->cur];
    w->cur = -1;
    int64_t used = 0;
    double level = 0;
    for (size_t g = 0; g < w->c.G; g++) {
        double tn;
        double t = station_temp(&w->c, m->station, g, &tn);
        int ok =
            !isnan(w->day_kwh[g]) && !isnan(t) && in_range(w->o, w->c.day0 + (int64_t)g * 86400);
        w->T[g] = ok ? t : NAN;
        w->Y[g] = ok ? w->day_kwh[g] : NAN;
        w->TN[g] = ok ? tn : NAN;
        if (ok) {
            used++;
            level += w->Y[g];
        }
    }
    if (!used) {
        w->sum->meters_no_data++;
        return 0;
    }
    level /= (double)used;
    struct agg *a[2] = {&w->fleet, m->op >= 0 && w->ops ? &w->ops[m->op] : NULL};
    for (int i = 0; i < 2; i++) {
        if (!a[i] || !a[i]->y)
            continue;
        a[i]->meters++;
        a[i]->level_sum += level;
        for (size_t g = 0; g < w->c.G; g++) {
            if (isnan(w->Y[g]))
                continue;
            a[i]->y[g] += w->Y[g];
            a[i]->w[g] += level;
            a[i]->t[g] += level * w->T[g];
            a[i]->tn[g] += level * w->TN[g];
            a[i]->n[g]++;
        }
    }
    if (!w->o->meters)
        return 0;
    return emit(w, MTR_WI_METER, m->id, w->c.st[m->station].id, 1);
}

/* A day counts when every interval of it was measured and valid: nothing estimated, nothing
 * flagged, n_valid = the intervals of a day at the meter's interval. */
static int wi_day(void *ctx, const struct mtr_day_row *r)
{
    struct wi *w = ctx;
    w->sum->day_rows++;
    if (w->cur < 0 || strcmp(w->c.m[w->cur].id, r->meter_id) != 0) {
        int rc = finish_meter(w);
        if (rc)
            return w->rc = rc;
        int i = meter_find(&w->c, r->meter_id);
        if (i < 0 || w->c.m[i].station < 0 || !w->c.st[w->c.m[i].station].ndays)
            return 0; /* not selected, unlinked or no weather: counted elsewhere */
        w->cur = i;
        for (size_t g = 0; g < w->c.G; g++)
            w->day_kwh[g] = NAN;
    }
    const struct mtr_rollup_day *d = &r->d;
    if (d->day < w->c.day0 || d->interval_s <= 0 || 86400 % d->interval_s)
        return 0;
    size_t g = (size_t)((d->day - w->c.day0) / 86400);
    if (g < w->c.G && d->n_estimated == 0 && d->n_flagged == 0 &&
        d->n_valid == 86400 / d->interval_s)
        w->day_kwh[g] = d->kwh;
    return 0;
}

static int emit_agg(struct wi *w, struct agg *a, enum mtr_wi_scope scope, const char *id)
{
    double mean_level = a->meters ? a->level_sum / (double)a->meters : NAN;
    for (size_t g = 0; g < w->c.G; g++) {
        int ok = a->n[g] && a->w[g] > 0;
        w->T[g] = ok ? a->t[g] / a->w[g] : NAN;
        w->Y[g] = ok ? mean_level * a->y[g] / a->w[g] : NAN;
        w->TN[g] = ok ? a->tn[g] / a->w[g] : NAN;
    }
    return emit(w, scope, id, "", a->meters);
}

int mtr_weather_impact(struct mtr_store *s, const struct mtr_wi_opts *o,
                       const struct mtr_wi_sink *sink, struct mtr_wi_summary *sum,
                       struct mtr_errbuf *eb)
{
    struct wi w;
    memset(&w, 0, sizeof w);
    memset(sum, 0, sizeof *sum);
    w.c.s = s;
    w.c.eb = eb;
    w.c.meter_id = o->meter_id;
    w.c.operator_id = o->meter_id ? NULL : o->operator_id;
    w.c.max_gap_h = o->max_gap_h;
    w.o = o;
    w.sink = sink;
    w.sum = sum;
    w.cur = -1;
    int rc = sel_load(&w.c);
    if (rc < 0)
        goto out;
    sum->meters = (int64_t)w.c.nm;
    sum->stations = (int64_t)w.c.nst;
    for (size_t i = 0; i < w.c.nm; i++) {
        if (w.c.m[i].station < 0)
            sum->meters_unlinked++;
        else if (!w.c.st[w.c.m[i].station].ndays)
            sum->meters_no_weather++;
    }
    for (size_t i = 0; sink->station && i < w.c.nst; i++)
        if ((rc = sink->station(sink->ctx, &w.c.st[i].info)) != 0)
            goto out;
    size_t G = w.c.G ? w.c.G : 1;
    w.T = malloc(G * sizeof *w.T);
    w.Y = malloc(G * sizeof *w.Y);
    w.TN = malloc(G * sizeof *w.TN);
    w.day_kwh = malloc(G * sizeof *w.day_kwh);
    if (!w.T || !w.Y || !w.TN || !w.day_kwh) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    if (!o->meter_id) {
        if (!o->operator_id && agg_alloc(&w.fleet, G) < 0) {
            rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
            goto out;
        }
        if (w.c.nops && !(w.ops = calloc(w.c.nops, sizeof *w.ops))) {
            rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < w.c.nops; i++)
            if (agg_alloc(&w.ops[i], G) < 0) {
                rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
                goto out;
            }
    }
    struct mtr_query q = {.kind = -1, .type = -1, .min_level = -1};
    if (o->has_from) {
        q.from = mtr_day_start(o->from);
        q.has_from = 1;
    }
    if (o->has_to) {
        q.to = o->to;
        q.has_to = 1;
    }
    if (o->meter_id || o->operator_id) {
        /* one indexed query per selected meter */
        for (size_t i = 0; i < w.c.nm && rc == 0; i++) {
            if (w.c.m[i].station < 0)
                continue;
            q.entity_id = w.c.m[i].id;
            rc = s->ops->day_rows(s, &q, wi_day, &w);
        }
    } else {
        rc = s->ops->day_rows(s, &q, wi_day, &w); /* the fleet in one scan */
    }
    if (rc == 0)
        rc = finish_meter(&w);
    if (rc != 0) {
        if (w.rc == 0 && rc < 0)
            mtr_err(eb, rc, "%s", s->err.msg);
        goto out;
    }
    for (size_t i = 0; w.ops && i < w.c.nops && rc == 0; i++)
        if (!o->operator_id || strcmp(w.c.ops[i], o->operator_id) == 0)
            rc = emit_agg(&w, &w.ops[i], MTR_WI_OPERATOR, w.c.ops[i]);
    if (rc == 0 && w.fleet.y)
        rc = emit_agg(&w, &w.fleet, MTR_WI_FLEET, "fleet");
out:
    free(w.T);
    free(w.Y);
    free(w.TN);
    free(w.day_kwh);
    agg_free(&w.fleet);
    for (size_t i = 0; w.ops && i < w.c.nops; i++)
        agg_free(&w.ops[i]);
    free(w.ops);
    sel_free(&w.c);
    return rc;
}

/* ======================= grid report ======================= */

struct grid_ctx {
    struct mtr_store *s;
    const struct mtr_grid_report_opts *o;
    struct mtr_errbuf *eb;
    int (*cb)(void *ctx, const struct mtr_grid_report *r);
    void *cb_ctx;
    struct mtr_grid_status *recs;
    size_t n, cap;
    int64_t flagged;
    char cur[MTR_ID_MAX];
    int oom, rc, seen;
};

static int grid_flush(struct grid_ctx *c)
{
    if (!c->n)
        return 0;
    struct mtr_operator op;
    memset(&op, 0, sizeof op);
    int registered = c->s->ops->operator_get(c->s, c->cur, &op) == 0;
    if (!registered) {
        snprintf(op.id, sizeof op.id, "%s", c->cur);
        op.voltage_kv = op.capacity_mw = op.latitude = op.longitude = NAN;
    }
    struct mtr_grid_limits lim;
    mtr_grid_limits_default(&lim);
    int64_t start = mtr_day_start(c->o->has_from ? c->o->from : c->recs[0].ts);
    int64_t ws = c->o->window_s > 0 ? c->o->window_s : 86400;
    size_t wcap = (size_t)((c->recs[c->n - 1].ts - start) / ws + 1), nwin = 0, nal = 0;
    struct mtr_grid_window *wins = calloc(wcap, sizeof *wins);
    struct mtr_grid_perf *perf = calloc(wcap, sizeof *perf);
    struct mtr_grid_alert *al = calloc(c->n, sizeof *al);
    int rc = 0;
    if (!wins || !perf || !al) {
        rc = mtr_err(c->eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    rc = mtr_grid_analyze(c->recs, c->n, registered ? &op : NULL, &lim, start, ws, wins, wcap,
                          &nwin, al, c->n, &nal, c->eb);
    if (rc < 0)
        goto out;
    struct mtr_grid_report r = {.op = &op,
                                .registered = registered,
                                .days = wins,
                                .day_perf = perf,
                                .n_days = nwin,
                                .alerts = al,
                                .n_alerts = nal,
                                .flagged = c->flagged};
    mtr_grid_window_init(&r.total, start, c->recs[c->n - 1].ts + 1);
    for (size_t i = 0; i < c->n; i++) {
        struct mtr_grid_eval e;
        mtr_grid_evaluate(&c->recs[i], registered ? op.voltage_kv : NAN,
                          registered ? op.capacity_mw : NAN, &lim, &e);
        mtr_grid_window_add(&r.total, &c->recs[i], &e);
    }
    mtr_grid_window_finish(&r.total);
    mtr_grid_performance(&r.total, op.voltage_kv, &r.perf);
    for (size_t i = 0; i < nwin; i++)
        mtr_grid_performance(&wins[i], op.voltage_kv, &perf[i]);
    r.health = mtr_grid_health(&r.total, c->o->now ? c->o->now : (int64_t)time(NULL));
    rc = c->cb(c->cb_ctx, &r);
out:
    free(wins);
    free(perf);
    free(al);
    c->n = 0;
    c->flagged = 0;
    c->seen++;
    return rc;
}

static int grid_row(void *ctx, const struct mtr_grid_row *r)
{
    struct grid_ctx *c = ctx;
    if (c->n && strcmp(c->cur, r->g.operator_id) != 0) {
        int rc = grid_flush(c);
        if (rc)
            return c->rc = rc;
    }
    if (!c->n)
        memcpy(c->cur, r->g.operator_id, MTR_ID_MAX);
    if (grow((void **)&c->recs, &c->cap, c->n + 1, sizeof *c->recs)) {
        c->oom = 1;
        return 1;
    }
    /* flagged values are implausible: not evaluated (as in ingest) */
    struct mtr_grid_status g = r->g;
    if (r->flags & mtr_rule_bit(MTR_R_GRID_FREQUENCY_RANGE))
        g.frequency_hz = NAN;
    if (r->flags & mtr_rule_bit(MTR_R_GRID_VOLTAGE_RANGE))
        g.voltage_kv = NAN;
    if (r->flags & mtr_rule_bit(MTR_R_GRID_LOAD_RANGE))
        g.load_mw = NAN;
    if (r->flags & mtr_rule_bit(MTR_R_GRID_STABILITY_RANGE))
        g.stability = NAN;
    c->flagged += r->flags != 0;
    c->recs[c->n++] = g;
    return 0;
}

int mtr_grid_report(struct mtr_store *s, const struct mtr_grid_report_opts *o,
                    int (*cb)(void *ctx, const struct mtr_grid_report *r), void *ctx,
                    struct mtr_errbuf *eb)
{
    struct grid_ctx c = {.s = s, .o = o, .eb = eb, .cb = cb, .cb_ctx = ctx};
    struct mtr_query q = {.entity_id = o->operator_id,
                          .from = o->from,
                          .to = o->to,
                          .has_from = o->has_from,
                          .has_to = o->has_to,
                          .kind = -1,
                          .type = -1,
                          .min_level = -1};
    int rc = s->ops->grid_rows(s, &q, grid_row, &c);
    if (c.oom)
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
    else if (rc < 0 && !c.rc)
        mtr_err(eb, rc, "%s", s->err.msg);
    if (rc == 0)
        rc = grid_flush(&c);
    if (rc == 0 && o->operator_id && !c.seen) {
        struct mtr_operator op;
        rc = s->ops->operator_get(s, o->operator_id, &op) == 0
                 ? mtr_err(eb, MTR_ENOTFOUND, "operator %s has no grid status in the range",
                           o->operator_id)
                 : mtr_err(eb, MTR_ENOTFOUND,
                           "operator %s is not registered and has no grid "
                           "status",
                           o->operator_id);
    }
    free(c.recs);
    return rc;
}

/* ======================= forecast ======================= */

void mtr_fc_opts_default(struct mtr_fc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->weeks = 4;
    o->max_gap_h = 2;
}

struct fc {
    struct sel c;
    struct meter_days d;
    double *hsum, *hw, *tsum; /* hourly ratio estimator: sums of kWh and of meter levels */
    double how_level[MTR_HOURS_PER_WEEK]; /* sum over meters of their hour-of-week level */
    int64_t how_meters[MTR_HOURS_PER_WEEK];
    int64_t *hn, *tn;
    struct agg day; /* daily kWh (mean per meter over complete days) */
    int64_t meters;
    int cur;
};

/* Adds the finished meter to the hourly and daily ratio estimators (see struct agg). */
static void fc_finish(struct fc *f)
{
    if (f->cur < 0)
        return;
    const struct meter_ref *m = &f->c.m[f->cur];
    f->cur = -1;
    days_settle(&f->d);
    double dl = 0;
    int64_t hn = 0, dn = 0;
    for (size_t g = 0; g < f->c.G; g++) {
        double t = station_temp(&f->c, m->station, g, NULL);
        if (day_complete(&f->d, g) && !isnan(t)) {
            dl += f->d.kwh[g];
            dn++;
        } else {
            f->d.kwh[g] = NAN;
        }
        for (int h = 0; h < 24; h++) {
            size_t k = g * 24 + (size_t)h;
            if (!isnan(f->d.hkwh[k]) && f->d.hn[k] == f->d.iph) {
                hn++;
            } else {
                f->d.hkwh[k] = NAN;
            }
        }
    }
    if (dn) {
        dl /= (double)dn;
        f->day.meters++;
        f->day.level_sum += dl;
        for (size_t g = 0; g < f->c.G; g++)
            if (!isnan(f->d.kwh[g])) {
                f->day.y[g] += f->d.kwh[g];
                f->day.w[g] += dl;
                f->day.n[g]++;
            }
    }
    if (hn) {
        /* hourly levels per hour of the week: meters' daily shapes differ (shift work, shops),
         * so the ratio is taken hour-of-week by hour-of-week */
        double lv[MTR_HOURS_PER_WEEK] = {0};
        int64_t ln[MTR_HOURS_PER_WEEK] = {0};
        for (size_t k = 0; k < f->c.G * 24; k++)
            if (!isnan(f->d.hkwh[k])) {
                int w = mtr_hour_of_week(f->c.day0 + (int64_t)k * 3600);
                lv[w] += f->d.hkwh[k];
                ln[w]++;
            }
        for (int w = 0; w < MTR_HOURS_PER_WEEK; w++)
            if (ln[w]) {
                lv[w] /= (double)ln[w];
                f->how_level[w] += lv[w];
                f->how_meters[w]++;
            }
        f->meters++;
        for (size_t k = 0; k < f->c.G * 24; k++)
            if (!isnan(f->d.hkwh[k])) {
                f->hsum[k] += f->d.hkwh[k];
                f->hw[k] += lv[mtr_hour_of_week(f->c.day0 + (int64_t)k * 3600)];
                f->hn[k]++;
            }
    }
}

static int fc_hour(void *ctx, const struct mtr_hour_row *r)
{
    struct fc *f = ctx;
    if (f->cur < 0 || strcmp(f->c.m[f->cur].id, r->meter_id) != 0) {
        fc_finish(f);
        int i = meter_find(&f->c, r->meter_id);
        if (i < 0 || f->c.m[i].station < 0 || !f->c.st[f->c.m[i].station].ndays)
            return 0;
        f->cur = i;
        days_reset(&f->d, f->c.G);
    }
    days_add(&f->d, f->c.day0, f->c.G, &r->h);
    return 0;
}

int mtr_forecast_run(struct mtr_store *s, const struct mtr_fc_opts *o, struct mtr_fc_result *out,
                     struct mtr_errbuf *eb)
{
    struct fc f;
    memset(&f, 0, sizeof f);
    memset(out, 0, sizeof *out);
    f.c.s = s;
    f.c.eb = eb;
    f.c.meter_id = o->meter_id;
    f.c.operator_id = o->meter_id ? NULL : o->operator_id;
    f.c.max_gap_h = o->max_gap_h;
    f.cur = -1;
    double *kwh = NULL, *temp = NULL;
    int rc = sel_load(&f.c);
    if (rc < 0)
        goto out;
    size_t G = f.c.G;
    if (!G) {
        rc = mtr_err(eb, MTR_ENOTFOUND,
                     "no weather for the selected meters' stations (link "
                     "stations and ingest weather first)");
        goto out;
    }
    f.hsum = calloc(G * 24, sizeof *f.hsum);
    f.hn = calloc(G * 24, sizeof *f.hn);
    f.hw = calloc(G * 24, sizeof *f.hw);
    f.tsum = calloc(G, sizeof *f.tsum);
    f.tn = calloc(G, sizeof *f.tn);
    if (!f.hsum || !f.hn || !f.hw || !f.tsum || !f.tn || days_alloc(&f.d, G, 1) < 0 ||
        agg_alloc(&f.day, G) < 0) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    struct mtr_query q = {.kind = -1, .type = -1, .min_level = -1};
    if (o->meter_id || o->operator_id) {
        for (size_t i = 0; i < f.c.nm && rc == 0; i++) {
            if (f.c.m[i].station < 0)
                continue;
            q.entity_id = f.c.m[i].id;
            rc = s->ops->hour_rows(s, &q, fc_hour, &f);
        }
    } else {
        rc = s->ops->hour_rows(s, &q, fc_hour, &f);
    }
    if (rc < 0) {
        mtr_err(eb, rc, "%s", s->err.msg);
        goto out;
    }
    fc_finish(&f);
    /* daily temperature of the selection: mean over its meters' stations */
    for (size_t i = 0; i < f.c.nm; i++) {
        if (f.c.m[i].station < 0)
            continue;
        for (size_t g = 0; g < G; g++) {
            double t = station_temp(&f.c, f.c.m[i].station, g, NULL);
            if (!isnan(t)) {
                f.tsum[g] += t;
                f.tn[g]++;
            }
        }
    }
    /* the series: from the first to the last day with consumption */
    size_t first = G, last = 0;
    for (size_t k = 0; k < G * 24; k++)
        if (f.hn[k]) {
            first = first < k / 24 ? first : k / 24;
            last = k / 24;
        }
    if (first == G) {
        rc = mtr_err(eb, MTR_ENOTFOUND, "no complete hour of consumption for the selection");
        goto out;
    }
    size_t ndays = last - first + 1, n = ndays * 24;
    kwh = malloc(n * sizeof *kwh);
    temp = malloc((ndays + 1) * sizeof *temp);
    double *dk = malloc(ndays * sizeof *dk);
    if (!kwh || !temp || !dk) {
        free(dk);
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    double dmean = f.day.meters ? f.day.level_sum / (double)f.day.meters : NAN;
    for (size_t k = 0; k < n; k++) {
        size_t a = first * 24 + k;
        int w = mtr_hour_of_week(f.c.day0 + (int64_t)a * 3600);
        double hmean = f.how_meters[w] ? f.how_level[w] / (double)f.how_meters[w] : NAN;
        kwh[k] = f.hn[a] && f.hw[a] > 0 ? hmean * f.hsum[a] / f.hw[a] : NAN;
    }
    for (size_t d = 0; d <= ndays; d++) {
        size_t g = first + d;
        temp[d] = g < G && f.tn[g] ? f.tsum[g] / (double)f.tn[g] : NAN;
        if (d < ndays)
            dk[d] = f.day.n[g] && f.day.w[g] > 0 ? dmean * f.day.y[g] / f.day.w[g] : NAN;
    }
    out->meters = f.meters;
    out->start = f.c.day0 + (int64_t)first * 86400;
    out->hours = (int64_t)n;
    size_t fit_days = ndays;
    if (o->backtest_days > 0) {
        if ((size_t)o->backtest_days >= ndays) {
            free(dk);
            rc = mtr_err(eb, MTR_EINVAL, "--days %d: the series has only %zu days",
                         o->backtest_days, ndays);
            goto out;
        }
        fit_days = ndays - (size_t)o->backtest_days;
    } else if (o->day) {
        int64_t dd = (o->day - out->start) / 86400;
        if (o->day % 86400 || dd < 7 || dd > (int64_t)ndays) {
            free(dk);
            rc = mtr_err(eb, MTR_EINVAL,
                         "the forecast day must be a date from 7 days after the first day of "
                         "data to the day after the last");
            goto out;
        }
        fit_days = (size_t)dd;
    }
    out->model_rc = mtr_dd_fit(temp, dk, fit_days, NULL, &out->model, NULL);
    free(dk);
    const struct mtr_dd_model *model = out->model_rc == 0 ? &out->model : NULL;
    if (o->backtest_days > 0) {
        rc = mtr_backtest_run(kwh, n, out->start, fit_days * 24, o->weeks, model, temp, &out->bt,
                              eb);
        if (rc == 0)
            rc = mtr_backtest_run(kwh, n, out->start, fit_days * 24, o->weeks, NULL, NULL,
                                  &out->bt_profile, eb);
        goto out;
    }
    double tf = o->temp_forecast ? *o->temp_forecast : NAN;
    rc = mtr_forecast_day(kwh, n, out->start, fit_days * 24, o->weeks, model, temp, tf, &out->fc,
                          eb);
    if (rc == 0)
        rc = mtr_forecast_naive(kwh, n, out->start, fit_days * 24, &out->naive, eb);
out:
    free(kwh);
    free(temp);
    free(f.hsum);
    free(f.hn);
    free(f.hw);
    free(f.tsum);
    free(f.tn);
    days_free(&f.d);
    agg_free(&f.day);
    sel_free(&f.c);
    return rc;
}
