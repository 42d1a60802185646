/* forecast.c - hour-of-week profile, weather-adjusted day-ahead forecast, naive, backtest. */
#include "core/forecast.h"

#include <math.h>
#include <string.h>

#include "core/stats.h"

static const char *const method_names[] = {"profile_only", "weather", "seasonal_naive"};

const char *mtr_forecast_method_name(enum mtr_forecast_method m)
{
    return (unsigned)m <= MTR_FC_SEASONAL_NAIVE ? method_names[m] : "unknown";
}

int mtr_hour_of_week(int64_t ts)
{
    /* 1970-01-01 was a Thursday: Monday 00:00 lies 72 hours before the epoch's week start. */
    int64_t h = ts >= 0 ? ts / 3600 : -((-ts + 3599) / 3600);
    int64_t w = (h + 72) % MTR_HOURS_PER_WEEK;
    return (int)(w < 0 ? w + MTR_HOURS_PER_WEEK : w);
}

static int check_day(int64_t start, size_t day, int weeks, struct mtr_errbuf *eb)
{
    if (start % 86400 != 0 || day % 24 != 0 || weeks < 1)
        return mtr_err(eb, MTR_EINVAL,
                       "forecast: series must start at midnight, the day on a day boundary, "
                       "weeks >= 1");
    return MTR_OK;
}

static void day_init(struct mtr_forecast_day *out, enum mtr_forecast_method m, int64_t start,
                     size_t day)
{
    memset(out, 0, sizeof *out);
    out->method = m;
    out->day_start = start + (int64_t)day * 3600;
    out->profile_kwh = NAN;
    out->profile_expected = NAN;
    out->forecast_expected = NAN;
    out->temp_c = NAN;
    for (int h = 0; h < 24; h++)
        out->kwh[h] = NAN;
}

int mtr_forecast_day(const double *kwh, size_t n, int64_t start, size_t day, int weeks,
                     const struct mtr_dd_model *model, const double *daily_temp,
                     double temp_forecast, struct mtr_forecast_day *out, struct mtr_errbuf *eb)
{
    int rc = check_day(start, day, weeks, eb);
    if (rc != MTR_OK)
        return rc;
    day_init(out, MTR_FC_PROFILE_ONLY, start, day);
    double total = 0;
    int complete = 1;
    for (int h = 0; h < 24; h++) {
        double s = 0;
        int c = 0;
        for (int w = 1; w <= weeks; w++) {
            size_t back = (size_t)w * MTR_HOURS_PER_WEEK;
            if (back > day)
                break;
            size_t i = day - back + (size_t)h;
            if (i < n && !isnan(kwh[i])) {
                s += kwh[i];
                c++;
            }
        }
        out->kwh[h] = c ? s / c : NAN;
        if (c)
            total += out->kwh[h];
        else
            complete = 0;
    }
    if (!complete)
        return MTR_OK;
    out->profile_kwh = total;
    if (!model || model->kind == MTR_DD_NONE || isnan(temp_forecast) || !daily_temp || !(total > 0))
        return MTR_OK;
    /* The profile mixes the weeks it averages, so its expected level is the mean of E over
     * those same days (not E of their mean temperature: E is piecewise linear). */
    double ep = 0;
    int c = 0;
    for (int w = 1; w <= weeks; w++) {
        size_t back = (size_t)w * MTR_HOURS_PER_WEEK;
        if (back > day)
            break;
        size_t d = (day - back) / 24;
        if ((day - back) < n && !isnan(daily_temp[d])) {
            ep += mtr_dd_predict(model, daily_temp[d]);
            c++;
        }
    }
    if (!c)
        return MTR_OK;
    ep /= c;
    double ef = mtr_dd_predict(model, temp_forecast);
    double scale = (total + ef - ep) / total;
    if (scale < 0)
        scale = 0; /* a model cannot predict negative consumption */
    for (int h = 0; h < 24; h++)
        out->kwh[h] *= scale;
    out->method = MTR_FC_WEATHER;
    out->profile_expected = ep;
    out->forecast_expected = ef;
    out->temp_c = temp_forecast;
    return MTR_OK;
}

int mtr_forecast_naive(const double *kwh, size_t n, int64_t start, size_t day,
                       struct mtr_forecast_day *out, struct mtr_errbuf *eb)
{
    int rc = check_day(start, day, 1, eb);
    if (rc != MTR_OK)
        return rc;
    day_init(out, MTR_FC_SEASONAL_NAIVE, start, day);
    if (day < MTR_HOURS_PER_WEEK)
        return MTR_OK;
    for (int h = 0; h < 24; h++) {
        size_t i = day - MTR_HOURS_PER_WEEK + (size_t)h;
        out->kwh[h] = i < n ? kwh[i] : NAN;
    }
    return MTR_OK;
}

int mtr_backtest_run(const double *kwh, size_t n, int64_t start, size_t test_start, int weeks,
                     const struct mtr_dd_model *model, const double *daily_temp,
                     struct mtr_backtest *out, struct mtr_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    int rc = check_day(start, test_start, weeks, eb);
    if (rc != MTR_OK)
        return rc;
    if (test_start < (size_t)weeks * MTR_HOURS_PER_WEEK)
        return mtr_err(eb, MTR_EINVAL,
                       "backtest: the held-out period starts before %d weeks of "
                       "history",
                       weeks);
    /* Running sums instead of arrays of forecasts: memory stays bounded by one day. */
    double ae_m = 0, ae_n = 0, pe_m = 0, pe_n = 0;
    size_t nh = 0, np = 0;
    for (size_t day = test_start; day + 24 <= n; day += 24) {
        struct mtr_forecast_day fm, fn;
        double t = daily_temp ? daily_temp[day / 24] : NAN;
        mtr_forecast_day(kwh, n, start, day, weeks, model, daily_temp, t, &fm, NULL);
        mtr_forecast_naive(kwh, n, start, day, &fn, NULL);
        out->days++;
        out->weather_days += fm.method == MTR_FC_WEATHER;
        for (int h = 0; h < 24; h++) {
            double a = kwh[day + (size_t)h];
            if (isnan(a) || isnan(fm.kwh[h]) || isnan(fn.kwh[h]))
                continue;
            ae_m += fabs(a - fm.kwh[h]);
            ae_n += fabs(a - fn.kwh[h]);
            nh++;
            if (a != 0) {
                pe_m += fabs(a - fm.kwh[h]) / fabs(a);
                pe_n += fabs(a - fn.kwh[h]) / fabs(a);
                np++;
            }
        }
    }
    out->hours = nh;
    out->mae_model = nh ? ae_m / (double)nh : NAN;
    out->mae_naive = nh ? ae_n / (double)nh : NAN;
    out->mape_model = np ? 100 * pe_m / (double)np : NAN;
    out->mape_naive = np ? 100 * pe_n / (double)np : NAN;
    return MTR_OK;
}
