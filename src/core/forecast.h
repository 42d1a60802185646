/*
 * forecast.h - day-ahead consumption forecasts over an hourly series: the hour-of-week profile
 * (mean of the same hour in the last K weeks), its weather adjustment through the degree-day
 * model, the seasonal-naive baseline (same hour one week earlier), and a rolling-origin backtest
 * reporting MAE and MAPE of both. The series is one meter, one operator or the fleet: the caller
 * aggregates. Pure functions over caller-owned arrays; no allocation.
 */
#ifndef MTR_FORECAST_H
#define MTR_FORECAST_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/weather_model.h"

#define MTR_HOURS_PER_WEEK 168

/* Hour of week 0..167 of a UTC timestamp, 0 = Monday 00:00-01:00 UTC. */
int mtr_hour_of_week(int64_t ts);

enum mtr_forecast_method {
    MTR_FC_PROFILE_ONLY = 0, /* hour-of-week profile, no temperature information */
    MTR_FC_WEATHER,          /* profile scaled by the degree-day model's temperature response */
    MTR_FC_SEASONAL_NAIVE    /* the same hour one week earlier (baseline) */
};
const char *mtr_forecast_method_name(enum mtr_forecast_method m); /* "profile_only", ... */

/* A day-ahead forecast of 24 hourly values. kwh[h] is NAN when the method had no data. */
struct mtr_forecast_day {
    enum mtr_forecast_method method;
    int64_t day_start; /* UTC midnight of the forecast day */
    double kwh[24];
    double profile_kwh;       /* sum of the profile's 24 hours (NAN if incomplete) */
    double profile_expected;  /* mean degree-day prediction over the profile's days */
    double forecast_expected; /* degree-day prediction at the forecast temperature */
    double temp_c;            /* the forecast daily mean temperature used (NAN: none) */
};

/*
 * Forecasts the 24 hours starting at hour index `day` of the hourly series kwh[0..n) whose
 * first hour starts at `start` (UTC, on a midnight: day and start are day-aligned). The forecast
 * day may lie beyond the series (day >= n: a true day-ahead forecast). Only hours before `day`
 * are used.
 *  - Profile: for each hour, the mean of the same hour of the week over the last `weeks` weeks
 *    (NAN values skipped; NAN when none).
 *  - Weather (when model is non-NULL, model->kind != MTR_DD_NONE, temp_forecast is not NAN and
 *    daily_temp is non-NULL): daily_temp[d] is the daily mean temperature of day d of the series
 *    (d = hour index / 24, borrowed, n/24 entries rounded up). Let P = profile's daily sum,
 *    Ep = mean of E(daily_temp) over the profile's days (same weekday, `weeks` weeks back) and
 *    Ef = E(temp_forecast). Every profile hour is scaled by (P + Ef - Ep) / P: the day's total
 *    moves by the model's temperature response, the hourly shape is kept. Falls back to
 *    profile_only (labelled so) when a condition is missing or P <= 0.
 * Errors: MTR_EINVAL (start not midnight, day not a multiple of 24, weeks < 1).
 */
int mtr_forecast_day(const double *kwh, size_t n, int64_t start, size_t day, int weeks,
                     const struct mtr_dd_model *model, const double *daily_temp,
                     double temp_forecast, struct mtr_forecast_day *out, struct mtr_errbuf *eb);

/* Seasonal-naive baseline for the same day: kwh[day - 168 + h]. Errors as mtr_forecast_day. */
int mtr_forecast_naive(const double *kwh, size_t n, int64_t start, size_t day,
                       struct mtr_forecast_day *out, struct mtr_errbuf *eb);

struct mtr_backtest {
    int64_t days;                 /* held-out days forecast */
    size_t hours;                 /* hours scored (actual, model and baseline all present) */
    double mae_model, mape_model; /* the weather (or profile-only) forecast */
    double mae_naive, mape_naive; /* seasonal naive */
    int64_t weather_days;         /* days the weather adjustment was applied */
};
/*
 * Rolling origin: for every day d from hour index test_start to n (step 24), forecasts day d from
 * the hours before d (mtr_forecast_day with daily_temp[d] as the temperature forecast, i.e. a
 * perfect forecast - we have no archived forecasts) and the naive baseline, and scores both on
 * the same hours: those where the actual and both forecasts are present. MAPE skips zero actuals.
 * model and daily_temp may be NULL (profile only). Errors: as mtr_forecast_day; MTR_EINVAL when
 * test_start < 168 * weeks (no history for the first forecast).
 */
int mtr_backtest_run(const double *kwh, size_t n, int64_t start, size_t test_start, int weeks,
                     const struct mtr_dd_model *model, const double *daily_temp,
                     struct mtr_backtest *out, struct mtr_errbuf *eb);

#endif
