/* grid.c - grid conditions, the alert state machine and windowed metrics (see grid.h). */
#include "core/grid.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const enum mtr_rule_id cond_rules[MTR_GC_COUNT] = {
    MTR_R_GRID_FREQUENCY_DEVIATION, MTR_R_GRID_VOLTAGE_HIGH, MTR_R_GRID_VOLTAGE_LOW,
    MTR_R_GRID_LOAD_HIGH, MTR_R_GRID_STABILITY_LOW};
/* +1: a larger value is worse; -1: a smaller one; 0: the larger magnitude. */
static const int cond_worse[MTR_GC_COUNT] = {0, 1, -1, 1, -1};

enum mtr_rule_id mtr_grid_cond_rule(enum mtr_grid_cond c)
{
    return (unsigned)c < MTR_GC_COUNT ? cond_rules[c] : MTR_RULE_COUNT;
}

void mtr_grid_limits_default(struct mtr_grid_limits *l)
{
    l->nominal_hz = 50.0;
    l->band_low_hz = MTR_FREQ_BAND_LOW_HZ;
    l->band_high_hz = MTR_FREQ_BAND_HIGH_HZ;
    l->crit_dev_hz = 0.5;
    l->voltage_tol = 0.10;
    l->voltage_crit_tol = 0.15;
    l->load_high = 0.90;
    l->load_crit = 0.95;
    l->stability_low = 0.7;
    l->stability_crit = 0.5;
}

static void set(struct mtr_grid_eval *e, int c, double v, int active, int critical)
{
    e->known[c] = 1;
    e->value[c] = v;
    e->active[c] = active;
    e->level[c] = critical ? MTR_LEVEL_CRITICAL : MTR_LEVEL_HIGH;
}

void mtr_grid_evaluate(const struct mtr_grid_status *g, double nominal_kv, double capacity_mw,
                       const struct mtr_grid_limits *l, struct mtr_grid_eval *e)
{
    memset(e, 0, sizeof *e);
    for (int c = 0; c < MTR_GC_COUNT; c++)
        e->value[c] = NAN;
    double f = g->frequency_hz;
    if (mtr_has(f) && f >= MTR_GRID_FREQ_MIN_HZ && f <= MTR_GRID_FREQ_MAX_HZ) {
        double dev = f - l->nominal_hz;
        set(e, MTR_GC_FREQUENCY, dev, f < l->band_low_hz || f > l->band_high_hz,
            fabs(dev) > l->crit_dev_hz);
    }
    double v = g->voltage_kv;
    if (mtr_has(v) && mtr_has(nominal_kv) && nominal_kv > 0) {
        set(e, MTR_GC_VOLTAGE_HIGH, v, v > nominal_kv * (1 + l->voltage_tol),
            v > nominal_kv * (1 + l->voltage_crit_tol));
        set(e, MTR_GC_VOLTAGE_LOW, v, v < nominal_kv * (1 - l->voltage_tol),
            v < nominal_kv * (1 - l->voltage_crit_tol));
    }
    double cap = mtr_has(g->capacity_mw) && g->capacity_mw > 0 ? g->capacity_mw : capacity_mw;
    if (mtr_has(g->load_mw) && mtr_has(cap) && cap > 0) {
        double u = g->load_mw / cap;
        set(e, MTR_GC_LOAD_HIGH, u, u > l->load_high, u > l->load_crit);
    }
    if (mtr_has(g->stability)) {
        set(e, MTR_GC_STABILITY_LOW, g->stability, g->stability < l->stability_low,
            g->stability < l->stability_crit);
    }
}

static const char *const event_names[] = {"opened", "escalated", "closed"};
const char *mtr_grid_event_name(enum mtr_grid_event_kind k)
{
    return (unsigned)k <= MTR_GA_CLOSED ? event_names[k] : "unknown";
}

void mtr_grid_alerter_init(struct mtr_grid_alerter *a, const char *operator_id)
{
    memset(a, 0, sizeof *a);
    if (operator_id)
        snprintf(a->operator_id, sizeof a->operator_id, "%s", operator_id);
}

static int worse(int c, double v, double than)
{
    if (cond_worse[c] > 0)
        return v > than;
    if (cond_worse[c] < 0)
        return v < than;
    return fabs(v) > fabs(than);
}

int mtr_grid_alerter_feed(struct mtr_grid_alerter *a, int64_t ts, const struct mtr_grid_eval *e,
                          struct mtr_grid_event ev[MTR_GC_COUNT])
{
    int k = 0;
    for (int c = 0; c < MTR_GC_COUNT; c++) {
        if (!e->known[c])
            continue;
        struct mtr_grid_alert *al = &a->cur[c];
        if (e->active[c] && !a->open[c]) {
            memset(al, 0, sizeof *al);
            memcpy(al->operator_id, a->operator_id, MTR_ID_MAX);
            al->rule = cond_rules[c];
            al->level = e->level[c];
            al->start = al->last_seen = ts;
            al->records = 1;
            al->worst = e->value[c];
            a->open[c] = 1;
            ev[k].kind = MTR_GA_OPENED;
            ev[k++].alert = *al;
        } else if (e->active[c]) {
            al->last_seen = ts;
            al->records++;
            if (worse(c, e->value[c], al->worst))
                al->worst = e->value[c];
            if (e->level[c] > al->level) {
                al->level = e->level[c];
                ev[k].kind = MTR_GA_ESCALATED;
                ev[k++].alert = *al;
            }
        } else if (a->open[c]) {
            al->end = ts;
            a->open[c] = 0;
            ev[k].kind = MTR_GA_CLOSED;
            ev[k++].alert = *al;
        }
    }
    return k;
}

static const char *const risk_names[] = {"low", "medium", "high"};
const char *mtr_grid_risk_name(enum mtr_grid_risk r)
{
    return (unsigned)r <= MTR_RISK_HIGH ? risk_names[r] : "unknown";
}
static const char *const health_names[] = {"healthy",  "unstable", "warning",
                                           "critical", "inactive", "unknown"};
const char *mtr_grid_health_name(enum mtr_grid_health h)
{
    return (unsigned)h <= MTR_HEALTH_UNKNOWN ? health_names[h] : "unknown";
}

void mtr_grid_window_init(struct mtr_grid_window *w, int64_t start, int64_t end)
{
    memset(w, 0, sizeof *w);
    w->start = start;
    w->end = end;
    w->f_dev_min = INFINITY;
    w->f_dev_max = -INFINITY;
    w->util_max = -INFINITY;
    w->stability_min = INFINITY;
}

void mtr_grid_window_add(struct mtr_grid_window *w, const struct mtr_grid_status *g,
                         const struct mtr_grid_eval *e)
{
    w->records++;
    if (g->ts > w->last_ts)
        w->last_ts = g->ts;
    if (e->known[MTR_GC_FREQUENCY]) {
        double d = e->value[MTR_GC_FREQUENCY];
        w->freq_records++;
        w->in_band += !e->active[MTR_GC_FREQUENCY];
        w->f_sum += d;
        w->f_dev_min = fmin(w->f_dev_min, d);
        w->f_dev_max = fmax(w->f_dev_max, d);
    }
    if (e->known[MTR_GC_LOAD_HIGH]) {
        w->u_sum += e->value[MTR_GC_LOAD_HIGH];
        w->u_n++;
        w->util_max = fmax(w->util_max, e->value[MTR_GC_LOAD_HIGH]);
    }
    if (mtr_has(g->voltage_kv)) {
        w->v_sum += g->voltage_kv;
        w->v_n++;
    }
    if (e->known[MTR_GC_STABILITY_LOW]) {
        w->s_sum += e->value[MTR_GC_STABILITY_LOW];
        w->s_n++;
        w->stability_min = fmin(w->stability_min, e->value[MTR_GC_STABILITY_LOW]);
    }
    int warn = 0, crit = 0;
    for (int c = 0; c < MTR_GC_COUNT; c++) {
        if (e->known[c] && e->active[c]) {
            warn = 1;
            crit |= e->level[c] == MTR_LEVEL_CRITICAL;
        }
    }
    w->warning_records += warn;
    w->critical_records += crit;
}

void mtr_grid_window_finish(struct mtr_grid_window *w)
{
    w->stability_pct = w->freq_records ? 100.0 * w->in_band / (double)w->freq_records : NAN;
    w->f_dev_mean = w->freq_records ? w->f_sum / (double)w->freq_records : NAN;
    if (!w->freq_records)
        w->f_dev_min = w->f_dev_max = NAN;
    w->util_mean = w->u_n ? w->u_sum / (double)w->u_n : NAN;
    if (!w->u_n)
        w->util_max = NAN;
    w->stability_mean = w->s_n ? w->s_sum / (double)w->s_n : NAN;
    if (!w->s_n)
        w->stability_min = NAN;
    w->voltage_mean = w->v_n ? w->v_sum / (double)w->v_n : NAN;
    w->warning_pct = w->records ? 100.0 * w->warning_records / (double)w->records : 0;
    w->critical_pct = w->records ? 100.0 * w->critical_records / (double)w->records : 0;
    if (w->critical_pct >= 5)
        w->risk = MTR_RISK_HIGH;
    else if (w->critical_pct >= 1 || w->warning_pct >= 10)
        w->risk = MTR_RISK_MEDIUM;
    else
        w->risk = MTR_RISK_LOW;
}

enum mtr_grid_health mtr_grid_health(const struct mtr_grid_window *w, int64_t now)
{
    if (!w->records)
        return MTR_HEALTH_UNKNOWN;
    if (now - w->last_ts > 86400)
        return MTR_HEALTH_INACTIVE;
    if (w->critical_pct >= 10)
        return MTR_HEALTH_CRITICAL;
    if (w->warning_pct >= 20)
        return MTR_HEALTH_WARNING;
    if (w->freq_records && w->stability_pct < 70)
        return MTR_HEALTH_UNSTABLE;
    return MTR_HEALTH_HEALTHY;
}

static double band_score(double dev, const double *lim, int n)
{
    static const double scores[] = {100, 80, 60, 40};
    for (int i = 0; i < n; i++)
        if (dev <= lim[i] + 1e-9) /* 50.2 - 50 is 0.2000000000000028 */
            return scores[i];
    return 20;
}

void mtr_grid_performance(const struct mtr_grid_window *w, double nominal_kv,
                          struct mtr_grid_perf *out)
{
    static const double f_lim[] = {0.2, 0.5, 1.0, 1.5}, v_lim[] = {0.05, 0.10, 0.15, 0.20};
    double fmean = w->f_dev_mean, sp = w->stability_pct, crit = w->critical_pct;
    out->frequency_score = isnan(fmean) ? NAN : band_score(fabs(fmean), f_lim, 4);
    out->voltage_score = isnan(w->voltage_mean) || !(nominal_kv > 0)
                             ? NAN
                             : band_score(fabs(w->voltage_mean / nominal_kv - 1), v_lim, 4);
    if (isnan(out->frequency_score) || isnan(sp))
        out->score = NAN;
    else if (isnan(out->voltage_score))
        out->score = (0.3 * out->frequency_score + 0.4 * sp) / 0.7;
    else
        out->score = 0.3 * out->frequency_score + 0.3 * out->voltage_score + 0.4 * sp;
    double s = out->score;
    out->performance = isnan(s)  ? "unknown"
                       : s >= 90 ? "excellent"
                       : s >= 80 ? "good"
                       : s >= 70 ? "fair"
                       : s >= 60 ? "poor"
                                 : "critical";
    double u = 100 * w->util_mean;
    out->utilization_tier = isnan(u)              ? "unknown"
                            : u >= 70 && u <= 90  ? "optimal"
                            : u >= 60 && u <= 95  ? "good"
                            : u >= 50 && u <= 100 ? "acceptable"
                            : u < 50              ? "underutilized"
                                                  : "overutilized";
    out->reliability = isnan(sp)                ? "unknown"
                       : sp >= 95 && crit <= 0  ? "excellent"
                       : sp >= 90 && crit <= 1  ? "good"
                       : sp >= 80 && crit <= 5  ? "fair"
                       : sp >= 70 && crit <= 10 ? "poor"
                                                : "critical";
    out->stability_class = isnan(sp)  ? "unknown"
                           : sp >= 95 ? "very_stable"
                           : sp >= 90 ? "stable"
                           : sp >= 80 ? "moderately_stable"
                           : sp >= 70 ? "unstable"
                                      : "very_unstable";
}

int mtr_grid_analyze(const struct mtr_grid_status *recs, size_t n, const struct mtr_operator *op,
                     const struct mtr_grid_limits *l, int64_t window_start, int64_t window_s,
                     struct mtr_grid_window *wins, size_t wcap, size_t *nwin,
                     struct mtr_grid_alert *alerts, size_t acap, size_t *nalert,
                     struct mtr_errbuf *eb)
{
    struct mtr_grid_limits def;
    struct mtr_grid_alerter st;
    struct mtr_grid_event ev[MTR_GC_COUNT];
    size_t slot[MTR_GC_COUNT]; /* index in alerts[] of each open alert */
    int rc = MTR_OK;
    for (int c = 0; c < MTR_GC_COUNT; c++)
        slot[c] = (size_t)-1;
    *nwin = 0;
    *nalert = 0;
    if (!l) {
        mtr_grid_limits_default(&def);
        l = &def;
    }
    if (window_s <= 0)
        return mtr_err(eb, MTR_EINVAL, "grid: window length must be positive");
    mtr_grid_alerter_init(&st, op ? op->id : (n ? recs[0].operator_id : ""));
    double kv = op ? op->voltage_kv : NAN, cap = op ? op->capacity_mw : NAN;
    for (size_t i = 0; i < n; i++) {
        const struct mtr_grid_status *g = &recs[i];
        if (g->ts < window_start || (i > 0 && g->ts < recs[i - 1].ts))
            return mtr_err(eb, MTR_EINVAL, "grid: record %zu is out of time order", i);
        size_t wi = (size_t)((g->ts - window_start) / window_s);
        if (wi >= wcap) {
            rc = mtr_err(eb, MTR_ERANGE, "grid: more than %zu windows", wcap);
            break;
        }
        while (*nwin <= wi) {
            int64_t s = window_start + (int64_t)*nwin * window_s;
            mtr_grid_window_init(&wins[*nwin], s, s + window_s);
            (*nwin)++;
        }
        struct mtr_grid_eval e;
        mtr_grid_evaluate(g, kv, cap, l, &e);
        mtr_grid_window_add(&wins[wi], g, &e);
        int k = mtr_grid_alerter_feed(&st, g->ts, &e, ev);
        for (int j = 0; j < k; j++) {
            int c = 0;
            while (c < MTR_GC_COUNT && cond_rules[c] != ev[j].alert.rule)
                c++;
            if (ev[j].kind == MTR_GA_OPENED) {
                if (*nalert >= acap) {
                    rc = mtr_err(eb, MTR_ERANGE, "grid: more than %zu alerts", acap);
                    goto out;
                }
                slot[c] = (*nalert)++;
            }
            alerts[slot[c]] = ev[j].alert;
        }
    }
out:
    /* Open alerts carry their running state (records, worst) up to the last record. */
    for (int c = 0; c < MTR_GC_COUNT; c++)
        if (st.open[c] && slot[c] < *nalert)
            alerts[slot[c]] = st.cur[c];
    for (size_t w = 0; w < *nwin; w++)
        mtr_grid_window_finish(&wins[w]);
    return rc;
}
