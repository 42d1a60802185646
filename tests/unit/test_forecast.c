/* test_forecast.c - hour of week, profile, weather adjustment, naive baseline and backtest on
 * series whose forecasts can be computed by hand. */
#include "core/forecast.h"

#include "t.h"

#define MON 1357516800 /* 2013-01-07 00:00 UTC, a Monday */

static void test_hour_of_week(void)
{
    T_EQ_INT(mtr_hour_of_week(MON), 0);
    T_EQ_INT(mtr_hour_of_week(MON + 3599), 0);
    T_EQ_INT(mtr_hour_of_week(MON - 3600), 167); /* Sunday 23:00 */
    T_EQ_INT(mtr_hour_of_week(MON + 3 * 86400 + 5 * 3600), 77);
    T_EQ_INT(mtr_hour_of_week(0), 72); /* Thursday 1970-01-01 */
}

/* 5 weeks of hourly data; week w (0-based) has value w + 1 + hour/100 in every hour. */
static double series[5 * 168];
static void fill(void)
{
    for (int i = 0; i < 5 * 168; i++)
        series[i] = (i / 168) + 1 + (i % 24) / 100.0;
}

static void test_profile_and_naive(void)
{
    fill();
    struct mtr_forecast_day f;
    size_t day = 4 * 168; /* Monday of week 5 */
    T_EQ_INT(mtr_forecast_day(series, 5 * 168, MON, day, 4, NULL, NULL, NAN, &f, NULL), MTR_OK);
    T_EQ_INT(f.method, MTR_FC_PROFILE_ONLY);
    T_EQ_DBL(f.kwh[0], 2.5, 1e-12); /* mean of weeks 1..4 */
    T_EQ_DBL(f.kwh[7], 2.57, 1e-12);
    T_EQ_DBL(f.profile_kwh, 24 * 2.5 + 2.76, 1e-9);
    T_EQ_INT(f.day_start, MON + 4 * 7 * 86400);
    /* fewer weeks of history than asked: averages what exists */
    T_EQ_INT(mtr_forecast_day(series, 5 * 168, MON, 168 + 24, 4, NULL, NULL, NAN, &f, NULL), 0);
    T_EQ_DBL(f.kwh[0], 1, 1e-12);
    /* beyond the series: a true day-ahead forecast */
    T_EQ_INT(mtr_forecast_day(series, 5 * 168, MON, 5 * 168, 1, NULL, NULL, NAN, &f, NULL), 0);
    T_EQ_DBL(f.kwh[3], 5.03, 1e-12);
    T_EQ_INT(mtr_forecast_naive(series, 5 * 168, MON, day, &f, NULL), MTR_OK);
    T_EQ_INT(f.method, MTR_FC_SEASONAL_NAIVE);
    T_EQ_DBL(f.kwh[5], 4.05, 1e-12);
    T_EQ_INT(mtr_forecast_naive(series, 5 * 168, MON, 24, &f, NULL), MTR_OK);
    T_CHECK(isnan(f.kwh[0])); /* no week of history */
    T_EQ_INT(mtr_forecast_day(series, 5 * 168, MON + 1, day, 4, NULL, NULL, NAN, &f, NULL),
             MTR_EINVAL);
    T_EQ_INT(mtr_forecast_day(series, 5 * 168, MON, day + 1, 4, NULL, NULL, NAN, &f, NULL),
             MTR_EINVAL);
}

static void test_weather_adjusted(void)
{
    double flat[5 * 168], temps[35];
    for (int i = 0; i < 5 * 168; i++)
        flat[i] = 2.5;
    for (int d = 0; d < 35; d++)
        temps[d] = 10;
    struct mtr_dd_model m = {.kind = MTR_DD_HEATING, .b0 = 10, .bh = 1, .th = 15, .tc = NAN};
    struct mtr_forecast_day f;
    /* profile P = 60 kWh at E(10) = 15; forecast 5 C: E = 20, so P scales by (60 + 5) / 60 */
    T_EQ_INT(mtr_forecast_day(flat, 5 * 168, MON, 4 * 168, 4, &m, temps, 5, &f, NULL), 0);
    T_EQ_INT(f.method, MTR_FC_WEATHER);
    T_EQ_DBL(f.kwh[10], 2.5 * 65 / 60, 1e-12);
    T_EQ_DBL(f.profile_expected, 15, 1e-12);
    T_EQ_DBL(f.forecast_expected, 20, 1e-12);
    /* without a temperature forecast: profile only, labelled so */
    T_EQ_INT(mtr_forecast_day(flat, 5 * 168, MON, 4 * 168, 4, &m, temps, NAN, &f, NULL), 0);
    T_EQ_INT(f.method, MTR_FC_PROFILE_ONLY);
    T_EQ_DBL(f.kwh[10], 2.5, 1e-12);
    /* warmer than the balance point on both sides: no change */
    for (int d = 0; d < 35; d++)
        temps[d] = 18;
    T_EQ_INT(mtr_forecast_day(flat, 5 * 168, MON, 4 * 168, 4, &m, temps, 20, &f, NULL), 0);
    T_EQ_DBL(f.kwh[0], 2.5, 1e-12);
}

static void test_backtest(void)
{
    /* weeks alternate 1 and 2: naive is always off by 1, a 2-week profile by 0.5 */
    static double alt[10 * 168];
    for (int i = 0; i < 10 * 168; i++)
        alt[i] = 1 + (i / 168) % 2;
    struct mtr_backtest b;
    T_EQ_INT(mtr_backtest_run(alt, 10 * 168, MON, 4 * 168, 2, NULL, NULL, &b, NULL), MTR_OK);
    T_EQ_INT(b.days, 42);
    T_EQ_INT(b.hours, 42 * 24);
    T_EQ_DBL(b.mae_naive, 1, 1e-12);
    T_EQ_DBL(b.mae_model, 0.5, 1e-12);
    /* MAPE: naive |1-2|/1 and |2-1|/2 alternate -> 75 %; model 0.5/1, 0.5/2 -> 37.5 % */
    T_EQ_DBL(b.mape_naive, 75, 1e-9);
    T_EQ_DBL(b.mape_model, 37.5, 1e-9);
    T_EQ_INT(b.weather_days, 0);
    T_EQ_INT(mtr_backtest_run(alt, 10 * 168, MON, 168, 2, NULL, NULL, &b, NULL), MTR_EINVAL);
}

int main(void)
{
    T_RUN(test_hour_of_week);
    T_RUN(test_profile_and_naive);
    T_RUN(test_weather_adjusted);
    T_RUN(test_backtest);
    return T_END();
}
