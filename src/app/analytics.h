/*
 * analytics.h - the analytics use cases behind `metrify analytics weather-impact`,
 * `metrify analytics grid`, `metrify forecast` and the station linking of `metrify import`:
 * they read master data, hourly rollups, grid status and weather through the store port and run
 * the pure analytics core (core/stats, weather_model, forecast, grid). Consumption is read from
 * the rollups, never by rescanning readings: the weather impact (a model of DAILY consumption)
 * from the daily rollups, the forecast (hourly) from the hourly rollups.
 *
 * Which consumption counts: a day when all its intervals were measured and valid (n_valid =
 * intervals per day, nothing estimated or flagged); an hour when all its intervals were measured
 * and valid (n equals the meter's usual intervals per hour, none estimated). Weather: a station's
 * hourly temperatures are aligned with mtr_align_hourly (gaps of at most max_gap_h hours
 * interpolated and flagged, longer ones excluded and counted); a day has a temperature when all 24
 * of its hours have one. Operator and fleet series are the mean per meter over the meters with a
 * complete day (or hour), and the mean of those meters' station temperatures.
 */
#ifndef MTR_ANALYTICS_H
#define MTR_ANALYTICS_H

#include "app/ports.h"
#include "core/forecast.h"
#include "core/grid.h"
#include "core/stats.h"
#include "core/weather_model.h"

/* ======================= nearest-station linking ======================= */

struct mtr_link_stats {
    int64_t meters;    /* meters considered (all, or those without a station) */
    int64_t linked;    /* given their nearest active station */
    int64_t none;      /* no active station within max_km */
    int64_t unlocated; /* no coordinates */
    int64_t stations;  /* active stations with coordinates */
};
/*
 * Links every meter without a station (relink != 0: every meter) to its nearest ACTIVE station
 * within max_km (haversine), inside one unit of work. Returns 0 or a store error (rolled back).
 */
int mtr_link_stations(struct mtr_store *s, double max_km, int relink, struct mtr_link_stats *out,
                      struct mtr_errbuf *eb);

/* ======================= weather impact ======================= */

struct mtr_wi_opts {
    const char *meter_id;    /* only this meter (no operator or fleet series), or NULL */
    const char *operator_id; /* only this operator's meters and the operator series, or NULL */
    int64_t from, to;        /* [from, to) of the days analysed, when has_from / has_to */
    int has_from, has_to;
    int max_gap_h; /* weather gaps interpolated up to this many hours: 2 */
    int meters;    /* 1: emit a series per meter (default); 0: only operators and fleet */
};
void mtr_wi_opts_default(struct mtr_wi_opts *o);

enum mtr_wi_scope { MTR_WI_METER = 0, MTR_WI_OPERATOR, MTR_WI_FLEET };
const char *mtr_wi_scope_name(enum mtr_wi_scope s); /* "meter", "operator", "fleet" */

/* One analysed series (borrowed for the duration of the callback). */
struct mtr_wi_series {
    enum mtr_wi_scope scope;
    const char *id;         /* meter id, operator id or "fleet" */
    const char *station_id; /* the meter's station; "" for operators and the fleet */
    int64_t meters;         /* meters with at least one usable day */
    int64_t days;           /* days with both a complete kWh total and a temperature */
    int64_t first_day, last_day;
    struct mtr_corr corr; /* daily kWh vs daily mean temperature */
    int fit_rc;           /* 0, or MTR_EINVAL / MTR_ERANGE when no model could be fitted */
    struct mtr_dd_model model;
    struct mtr_dd_normalized normalized; /* over the analysed days, with the station's normals */
};

/* Per station: how its hourly temperatures were aligned. */
struct mtr_wi_station {
    const char *id;
    int64_t first_ts, last_ts; /* observations seen */
    struct mtr_align_counts align;
    int normal_days; /* days of year with a normal temperature */
};

struct mtr_wi_summary {
    int64_t meters;            /* meters selected */
    int64_t meters_unlinked;   /* without a station: left out */
    int64_t meters_no_weather; /* their station has no weather: left out */
    int64_t meters_no_data;    /* no complete day with a temperature */
    int64_t stations;
    int64_t day_rows; /* daily rollup rows read */
};

struct mtr_wi_sink {
    int (*station)(void *ctx, const struct mtr_wi_station *st); /* may be NULL */
    int (*series)(void *ctx, const struct mtr_wi_series *r);    /* meters, operators, fleet */
    void *ctx;
};

/*
 * Runs the weather-impact analysis: per meter (unless o->meters is 0), per operator (all, or
 * o->operator_id; none with o->meter_id) and fleet-wide (only without a filter). Returns 0, a
 * callback's non-zero value, MTR_ENOTFOUND (unknown meter/operator, message in eb), MTR_ENOMEM
 * or a store error.
 */
int mtr_weather_impact(struct mtr_store *s, const struct mtr_wi_opts *o,
                       const struct mtr_wi_sink *sink, struct mtr_wi_summary *sum,
                       struct mtr_errbuf *eb);

/* ======================= grid ======================= */

struct mtr_grid_report_opts {
    const char *operator_id; /* or NULL: every operator */
    int64_t from, to;
    int has_from, has_to;
    int64_t now;      /* for health (inactive when nothing in the last day); 0 = the real time */
    int64_t window_s; /* length of the metric windows, aligned on UTC midnight of the first
                       * day; 0 = 86400 (daily grid performance) */
};

/* One operator's report (borrowed for the callback): the whole range and each window. */
struct mtr_grid_report {
    const struct mtr_operator *op; /* NAN level/capacity when not registered */
    int registered;
    struct mtr_grid_window total;
    struct mtr_grid_perf perf;
    enum mtr_grid_health health;
    const struct mtr_grid_window *days; /* the windows (days by default) */
    const struct mtr_grid_perf *day_perf;
    size_t n_days;
    const struct mtr_grid_alert *alerts; /* recomputed from the history; end 0 = still open */
    size_t n_alerts;
    int64_t flagged; /* records flagged implausible: not evaluated */
};

/* Runs mtr_grid_analyze over each operator's stored status (flagged values left out) with
 * windows of o->window_s and calls cb per operator that has records (or was asked for). Returns 0,
 * cb's value, MTR_ENOTFOUND, MTR_ENOMEM or a store error. */
int mtr_grid_report(struct mtr_store *s, const struct mtr_grid_report_opts *o,
                    int (*cb)(void *ctx, const struct mtr_grid_report *r), void *ctx,
                    struct mtr_errbuf *eb);

/* ======================= forecast ======================= */

struct mtr_fc_opts {
    const char *meter_id, *operator_id; /* at most one; neither: the fleet */
    int64_t day;                        /* UTC midnight to forecast; 0 = the day after the data */
    const double *temp_forecast;        /* daily mean forecast temperature for `day`, or NULL */
    int weeks;                          /* profile depth: 4 */
    int backtest_days;                  /* > 0: backtest over the last N days instead */
    int max_gap_h;                      /* 2 */
};
void mtr_fc_opts_default(struct mtr_fc_opts *o);

struct mtr_fc_result {
    int64_t meters;            /* meters in the series */
    int64_t start, hours;      /* the hourly series read */
    struct mtr_dd_model model; /* fitted on the days before the forecast (or the test) */
    int model_rc;
    struct mtr_forecast_day fc;    /* the forecast (mean kWh per meter and hour) */
    struct mtr_forecast_day naive; /* seasonal naive for the same day */
    /* backtest */
    struct mtr_backtest bt, bt_profile; /* weather-adjusted (perfect temperature), profile only */
};

/* Builds the hourly series (ratio estimate of the mean per meter) and daily temperature of the
 * selection and forecasts o->day or backtests. Errors: MTR_ENOTFOUND (unknown meter/operator or
 * no data), MTR_EINVAL (not enough history: message in eb), MTR_ENOMEM, store errors. */
int mtr_forecast_run(struct mtr_store *s, const struct mtr_fc_opts *o, struct mtr_fc_result *out,
                     struct mtr_errbuf *eb);

#endif
