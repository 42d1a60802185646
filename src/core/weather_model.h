/*
 * weather_model.h - how consumption depends on temperature: the change-point degree-day model on
 * daily data (base load, heating slope below a balance temperature, cooling slope above another),
 * weather-normalised consumption, normal temperatures by day of year, and the alignment of an
 * hourly temperature series onto an hourly grid (short gaps interpolated and flagged, long gaps
 * excluded and counted). Pure functions over caller-owned arrays; no allocation.
 */
#ifndef MTR_WEATHER_MODEL_H
#define MTR_WEATHER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Which degree-day terms the chosen model has. */
enum mtr_dd_kind { MTR_DD_NONE = 0, MTR_DD_HEATING, MTR_DD_COOLING, MTR_DD_BOTH };
const char *mtr_dd_kind_name(enum mtr_dd_kind k); /* "none", "heating", "cooling", "both" */

struct mtr_dd_opts {
    double step_c;  /* grid step of the balance-temperature search: 0.1 C */
    int min_days;   /* days needed on the active side of each change point: 10 */
    double min_t;   /* a slope is kept only when slope / se >= this: 2.0 */
    int force_kind; /* -1: choose by BIC; else fit exactly this enum mtr_dd_kind */
};
void mtr_dd_opts_default(struct mtr_dd_opts *o);

/*
 * E = b0 + bh * max(0, th - T) + bc * max(0, T - tc), per day. Absent terms have slope 0, se 0
 * and balance temperature NAN. Standard errors are conditional on the change points.
 * sensitivity = kWh per C per day of the dominant term (the one with the larger share of the
 * modelled weather-dependent energy over the fitted days), 0 for MTR_DD_NONE; its sign is
 * positive for both (more kWh per degree colder when heating, warmer when cooling).
 */
struct mtr_dd_model {
    enum mtr_dd_kind kind;
    int64_t n;
    double th, tc;
    double b0, bh, bc;
    double se_b0, se_bh, se_bc;
    double r2, sse, bic;
    double sensitivity;
    double t_min, t_max; /* temperature range of the fitted days */
};

/*
 * Fits the model to n days (temp_c[i] daily mean temperature, kwh[i] daily consumption; borrowed;
 * days where either is NAN are skipped). Search: every th (and tc >= th) on the grid
 * i * step_c inside the observed temperature range with at least min_days days strictly on the
 * active side; minimum SSE among candidates whose slopes are positive. Choice among none /
 * heating / cooling / both: the variant with the lowest BIC = n ln(SSE/n) + p ln n (p counts the
 * change points as parameters) among those whose every slope has slope/se >= min_t.
 * Errors: MTR_EINVAL (fewer than 3 usable days). Constant kWh or temperature is not an error: it
 * gives MTR_DD_NONE (b0 = mean, r2 = 0).
 */
int mtr_dd_fit(const double *temp_c, const double *kwh, size_t n, const struct mtr_dd_opts *o,
               struct mtr_dd_model *out, struct mtr_errbuf *eb);

/* Fits the given kind at fixed change points (th, tc ignored when the term is absent); for the
 * oracle and for refits. Errors: MTR_EINVAL (too few days), MTR_ERANGE (singular design). */
int mtr_dd_fit_at(const double *temp_c, const double *kwh, size_t n, enum mtr_dd_kind kind,
                  double th, double tc, struct mtr_dd_model *out, struct mtr_errbuf *eb);

/* Predicted daily kWh at daily mean temperature t (NAN in, NAN out). */
double mtr_dd_predict(const struct mtr_dd_model *m, double t);

/* Weather-normalised consumption of a period of n days. */
struct mtr_dd_normalized {
    int64_t n;               /* days with actual temperature, kWh and normal temperature */
    double actual_kwh;       /* sum of kwh */
    double predicted_actual; /* sum of E(actual temperature) */
    double predicted_normal; /* sum of E(normal temperature) */
    double normalized_kwh;   /* predicted_normal + (actual_kwh - predicted_actual) */
};
/* Borrows all arrays. Never fails; days with a NAN in any input are left out (n counts the rest).
 */
void mtr_dd_normalize(const struct mtr_dd_model *m, const double *t_actual, const double *kwh,
                      const double *t_normal, size_t n, struct mtr_dd_normalized *out);

/*
 * Normal temperature per day of year (index 0..365, 365 = 31 Dec of leap years) from daily
 * means over any number of years: day_ts[i] is any time in day i (UTC). Mean per day of year;
 * days of year without data are filled by linear interpolation between the nearest filled days
 * around the year (circular). Returns the number of days of year that had data; 0 leaves
 * normal[] all NAN.
 */
int mtr_dd_normal_temps(const int64_t *day_ts, const double *temp_c, size_t n, double normal[366]);
/* Day of year 0..365 of a UTC timestamp. */
int mtr_day_of_year(int64_t ts);

/* Great-circle distance in km between two points in degrees (haversine, mean Earth radius
 * 6371.0 km). NAN when any input is NAN. */
double mtr_haversine_km(double lat1, double lon1, double lat2, double lon2);

/* ---- hourly alignment of a temperature series ---- */
enum mtr_align_flag {
    MTR_ALIGN_OBSERVED = 0,     /* at least one observation fell in the hour (mean of them) */
    MTR_ALIGN_INTERPOLATED = 1, /* inside a gap of <= max_gap_h hours: linear interpolation */
    MTR_ALIGN_MISSING = 2       /* inside a longer gap or at an edge: NAN, excluded */
};
struct mtr_align_counts {
    int64_t observations; /* observations placed into hours */
    int64_t outside;      /* observations before start or after the last hour */
    int64_t skipped;      /* observations with a NAN value */
    int64_t observed_hours, interpolated_hours, missing_hours;
    int64_t gaps_interpolated, gaps_excluded; /* runs of empty hours */
};
/*
 * Places n observations (ts[i], value[i]; any order; borrowed) onto hours start + h * 3600,
 * h = 0..hours-1 (start should be on the hour). An observation belongs to the hour containing it.
 * Runs of at most max_gap_h empty hours between two observed hours are interpolated linearly
 * between their neighbours; longer runs and runs touching either edge stay NAN. out_value and
 * out_flag (hours entries, caller-owned) receive the values and enum mtr_align_flag. counts may
 * be NULL. Errors: MTR_EINVAL (start not on the hour, or max_gap_h < 0).
 */
int mtr_align_hourly(const int64_t *ts, const double *value, size_t n, int64_t start, size_t hours,
                     int max_gap_h, double *out_value, unsigned char *out_flag,
                     struct mtr_align_counts *counts, struct mtr_errbuf *eb);

#endif
