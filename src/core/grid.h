/*
 * grid.h - grid stability analysis for one operator's status series: per-record conditions
 * (frequency deviation, over/under voltage against the operator's level in kV, high load, low
 * stability) with alert levels, an alert state machine that opens one alert when a condition
 * starts, keeps it (escalating its level) while it persists and closes it when it clears, and
 * windowed performance metrics (stability %, utilisation, frequency deviation, risk, health).
 * Pure and bounded: the state per operator is one slot per condition.
 */
#ifndef MTR_GRID_H
#define MTR_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/types.h"
#include "core/vocab.h"

enum mtr_grid_cond {
    MTR_GC_FREQUENCY = 0, /* grid.frequency_deviation */
    MTR_GC_VOLTAGE_HIGH,  /* grid.voltage_high */
    MTR_GC_VOLTAGE_LOW,   /* grid.voltage_low */
    MTR_GC_LOAD_HIGH,     /* grid.load_high */
    MTR_GC_STABILITY_LOW, /* grid.stability_low */
    MTR_GC_COUNT
};
enum mtr_rule_id mtr_grid_cond_rule(enum mtr_grid_cond c);

/* Thresholds; every condition has a "high" and a stricter "critical" level. */
struct mtr_grid_limits {
    double nominal_hz;                    /* 50.0 */
    double band_low_hz, band_high_hz;     /* normal band 49.8..50.2 (high outside) */
    double crit_dev_hz;                   /* critical when |f - nominal| > 0.5 Hz */
    double voltage_tol, voltage_crit_tol; /* 0.10, 0.15 of the operator's level */
    double load_high, load_crit;          /* load / capacity above 0.90, 0.95 */
    double stability_low, stability_crit; /* below 0.7, 0.5 */
};
void mtr_grid_limits_default(struct mtr_grid_limits *l);

/* The conditions of one record. known[c] = 0 when an input was missing (NAN), implausible
 * (frequency outside 45..55 Hz) or has no reference (no voltage level / capacity): the
 * condition is then neither started nor cleared by this record. */
struct mtr_grid_eval {
    int known[MTR_GC_COUNT];
    int active[MTR_GC_COUNT];
    enum mtr_level level[MTR_GC_COUNT]; /* high or critical when active */
    double value[MTR_GC_COUNT];         /* f - nominal (Hz), kV, kV, load/capacity, stability */
};
/*
 * Evaluates g. nominal_kv: the operator's voltage level (NAN: voltage not evaluated);
 * capacity_mw: used when g->capacity_mw is NAN (NAN/<= 0 both: load not evaluated).
 */
void mtr_grid_evaluate(const struct mtr_grid_status *g, double nominal_kv, double capacity_mw,
                       const struct mtr_grid_limits *l, struct mtr_grid_eval *e);

/* One alert: opened at start, closed at end (0 while open). */
struct mtr_grid_alert {
    char operator_id[MTR_ID_MAX];
    enum mtr_rule_id rule;
    enum mtr_level level; /* highest level reached */
    int64_t start;        /* first record where the condition held */
    int64_t last_seen;    /* last record where it held */
    int64_t end;          /* first record where it had cleared; 0 while open */
    int64_t records;      /* records during which it held */
    double worst;         /* the most extreme value (same unit as mtr_grid_eval.value) */
};
enum mtr_grid_event_kind { MTR_GA_OPENED = 0, MTR_GA_ESCALATED, MTR_GA_CLOSED };
const char *mtr_grid_event_name(enum mtr_grid_event_kind k); /* "opened", ... */
struct mtr_grid_event {
    enum mtr_grid_event_kind kind;
    struct mtr_grid_alert alert; /* snapshot after the event */
};

/* The state of one operator: at most one open alert per condition. Caller-owned. */
struct mtr_grid_alerter {
    char operator_id[MTR_ID_MAX];
    int open[MTR_GC_COUNT];
    struct mtr_grid_alert cur[MTR_GC_COUNT];
};
void mtr_grid_alerter_init(struct mtr_grid_alerter *a, const char *operator_id);
/*
 * Advances the state with one record (records in time order). Writes the resulting events into
 * ev (room for MTR_GC_COUNT events, caller-owned) and returns how many: a condition that starts
 * opens an alert; one that persists emits nothing unless its level rises (escalated); one that
 * clears closes the alert with end = ts. Unknown conditions leave their alert as it is.
 */
int mtr_grid_alerter_feed(struct mtr_grid_alerter *a, int64_t ts, const struct mtr_grid_eval *e,
                          struct mtr_grid_event ev[MTR_GC_COUNT]);

/* ---- windowed metrics ---- */
enum mtr_grid_risk { MTR_RISK_LOW = 0, MTR_RISK_MEDIUM, MTR_RISK_HIGH };
const char *mtr_grid_risk_name(enum mtr_grid_risk r); /* "low", "medium", "high" */
enum mtr_grid_health {
    MTR_HEALTH_HEALTHY = 0,
    MTR_HEALTH_UNSTABLE, /* stability % below 70 */
    MTR_HEALTH_WARNING,  /* >= 20 % of records at level high or worse */
    MTR_HEALTH_CRITICAL, /* >= 10 % of records at level critical */
    MTR_HEALTH_INACTIVE, /* no record in the last day before `now` */
    MTR_HEALTH_UNKNOWN   /* no records */
};
const char *mtr_grid_health_name(enum mtr_grid_health h);

struct mtr_grid_window {
    int64_t start, end; /* [start, end) */
    int64_t records, last_ts;
    int64_t freq_records, in_band; /* records with a plausible frequency; within the band */
    double stability_pct;          /* 100 x in_band / freq_records (NAN without frequency) */
    double f_dev_mean, f_dev_min, f_dev_max;   /* signed f - nominal, Hz */
    double util_mean, util_max;                /* load / capacity */
    double stability_mean, stability_min;      /* stability score */
    double voltage_mean;                       /* kV, over records with a voltage */
    int64_t warning_records, critical_records; /* any condition at high / at critical */
    double warning_pct, critical_pct;          /* of records */
    enum mtr_grid_risk risk;
    /* accumulators */
    double f_sum, u_sum, s_sum, v_sum;
    int64_t u_n, s_n, v_n;
};
void mtr_grid_window_init(struct mtr_grid_window *w, int64_t start, int64_t end);
void mtr_grid_window_add(struct mtr_grid_window *w, const struct mtr_grid_status *g,
                         const struct mtr_grid_eval *e);
/* Computes the means, percentages and the risk class: high when critical % >= 5, medium when
 * critical % >= 1 or warning % >= 10, else low. Empty windows: NAN means, risk low. */
void mtr_grid_window_finish(struct mtr_grid_window *w);
/* Health of an operator from a finished window covering its recent records. */
enum mtr_grid_health mtr_grid_health(const struct mtr_grid_window *w, int64_t now);

/*
 * Performance metrics of a finished window (the grid_performance_metrics and dim_grid_operators
 * rules of the reference, with grid voltage in kV relative to the operator's level):
 *  - frequency score from the mean frequency: 100 inside 49.8..50.2 Hz, 80 inside 49.5..50.5,
 *    60 inside 49..51, 40 inside 48.5..51.5, else 20;
 *  - voltage score from |mean kV / level - 1|: 100 <= 5 %, 80 <= 10 %, 60 <= 15 %, 40 <= 20 %,
 *    else 20 (NAN without a level or voltage);
 *  - score = 0.3 frequency + 0.3 voltage + 0.4 stability % (the voltage term is left out and the
 *    others rescaled to 1 when it is NAN); class >= 90 excellent, >= 80 good, >= 70 fair,
 *    >= 60 poor, else critical;
 *  - utilisation tier from mean load / capacity in %: 70..90 optimal, 60..95 good, 50..100
 *    acceptable, < 50 underutilized, else overutilized;
 *  - reliability: stability % >= 95 and no critical record excellent; >= 90 and critical <= 1 %
 *    good; >= 80 and <= 5 % fair; >= 70 and <= 10 % poor; else critical;
 *  - stability class: >= 95 very_stable, >= 90 stable, >= 80 moderately_stable, >= 70 unstable,
 *    else very_unstable.
 * Names are static strings; "unknown" when the input is missing.
 */
struct mtr_grid_perf {
    double frequency_score, voltage_score, score;
    const char *performance, *utilization_tier, *reliability, *stability_class;
};
void mtr_grid_performance(const struct mtr_grid_window *w, double nominal_kv,
                          struct mtr_grid_perf *out);

/*
 * Batch driver for one operator: evaluates recs (n records, time order, borrowed), fills windows
 * [window_start + i*window_s, +window_s) into wins (capacity wcap, *nwin = windows used up to the
 * last record) and the alerts (open ones with end 0) into alerts (capacity acap, *nalert).
 * op gives voltage level and capacity (may be NULL: record capacity only, no voltage check).
 * Errors: MTR_EINVAL (window_s <= 0, records out of order or before window_start),
 * MTR_ERANGE (wins or alerts too small; outputs hold what fitted).
 */
int mtr_grid_analyze(const struct mtr_grid_status *recs, size_t n, const struct mtr_operator *op,
                     const struct mtr_grid_limits *l, int64_t window_start, int64_t window_s,
                     struct mtr_grid_window *wins, size_t wcap, size_t *nwin,
                     struct mtr_grid_alert *alerts, size_t acap, size_t *nalert,
                     struct mtr_errbuf *eb);

#endif
