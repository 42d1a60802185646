/*
 * weather_oracle.c - test driver for tests/integration/weather_oracle.sh: reads the London
 * households (half-hourly kWh) and the hourly Dark Sky weather, aggregates to daily kWh and daily
 * mean temperature per household and for the fleet (mean per household over the complete ones),
 * runs the analytics core (Pearson, degree-day fit, day-ahead backtest) and prints JSON for the
 * independent numpy/pandas check. Simple CSV reading on purpose: the production reader is
 * elsewhere. Usage: weather_oracle DATA_DIR
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/forecast.h"
#include "core/stats.h"
#include "core/weather_model.h"

#define START 1356998400 /* 2013-01-01 00:00 UTC */
#define HOURS 8760
#define DAYS  365
#define MAXH  16

static int64_t parse_ts(const char *s)
{
    struct tm tm = {0};
    if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static double temp_hourly[HOURS], temp_daily[DAYS];
static double hh_kwh[MAXH][HOURS * 2];
static char names[MAXH][32];
static double day_kwh[MAXH + 1][DAYS], fleet_hourly[HOURS];

static int read_weather(const char *dir)
{
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/weather_hourly_darksky.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    static int64_t ts[30000];
    static double val[30000];
    size_t n = 0;
    fgets(line, sizeof line, f);
    while (fgets(line, sizeof line, f) && n < 30000) {
        /* visibility,windBearing,temperature,"time",... */
        char *p = line, *fld[5];
        for (int i = 0; i < 5; i++) {
            fld[i] = p;
            p = strchr(p, ',');
            if (!p)
                break;
            *p++ = 0;
        }
        char *t = fld[3];
        if (*t == '"')
            t++;
        ts[n] = parse_ts(t);
        val[n] = strtod(fld[2], NULL);
        n++;
    }
    fclose(f);
    unsigned char flag[HOURS];
    struct mtr_align_counts c;
    mtr_align_hourly(ts, val, n, START, HOURS, 2, temp_hourly, flag, &c, NULL);
    printf("\"weather\": {\"observations\": %lld, \"outside\": %lld, \"observed_hours\": %lld, "
           "\"interpolated_hours\": %lld, \"missing_hours\": %lld, \"gaps_interpolated\": %lld, "
           "\"gaps_excluded\": %lld},\n",
           (long long)c.observations, (long long)c.outside, (long long)c.observed_hours,
           (long long)c.interpolated_hours, (long long)c.missing_hours,
           (long long)c.gaps_interpolated, (long long)c.gaps_excluded);
    for (int d = 0; d < DAYS; d++) {
        double s = 0;
        int ok = 1;
        for (int h = 0; h < 24; h++) {
            ok &= !isnan(temp_hourly[d * 24 + h]);
            s += temp_hourly[d * 24 + h];
        }
        temp_daily[d] = ok ? s / 24 : NAN;
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int read_households(const char *dir)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/halfhourly", dir);
    DIR *dd = opendir(path);
    if (!dd)
        return -1;
    int nh = 0;
    struct dirent *de;
    while ((de = readdir(dd)) && nh < MAXH)
        if (strstr(de->d_name, ".csv"))
            snprintf(names[nh++], sizeof names[0], "%.*s", (int)(strlen(de->d_name) - 4),
                     de->d_name);
    closedir(dd);
    qsort(names, (size_t)nh, sizeof names[0], cmp);
    for (int i = 0; i < nh; i++) {
        for (int k = 0; k < HOURS * 2; k++)
            hh_kwh[i][k] = NAN;
        snprintf(path, sizeof path, "%s/halfhourly/%s.csv", dir, names[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        fgets(line, sizeof line, f);
        while (fgets(line, sizeof line, f)) {
            char *a = strchr(line, ','), *b = a ? strchr(a + 1, ',') : NULL;
            if (!b)
                continue;
            *b = 0;
            int64_t ts = parse_ts(a + 1);
            char *end;
            double v = strtod(b + 1, &end); /* strtod skips the leading padding */
            if (end == b + 1 || ts < START || ts >= START + HOURS * 3600)
                continue;
            hh_kwh[i][(ts - START) / 1800] = v;
        }
        fclose(f);
        for (int d = 0; d < DAYS; d++) {
            double s = 0;
            int ok = 1;
            for (int k = 0; k < 48; k++) {
                ok &= !isnan(hh_kwh[i][d * 48 + k]);
                s += hh_kwh[i][d * 48 + k];
            }
            day_kwh[i][d] = ok ? s : NAN;
        }
    }
    for (int d = 0; d < DAYS; d++) {
        double s = 0;
        int c = 0;
        for (int i = 0; i < nh; i++)
            if (!isnan(day_kwh[i][d])) {
                s += day_kwh[i][d];
                c++;
            }
        day_kwh[nh][d] = c ? s / c : NAN;
    }
    for (int h = 0; h < HOURS; h++) {
        double s = 0;
        int c = 0;
        for (int i = 0; i < nh; i++) {
            double a = hh_kwh[i][2 * h], b = hh_kwh[i][2 * h + 1];
            if (!isnan(a) && !isnan(b)) {
                s += a + b;
                c++;
            }
        }
        fleet_hourly[h] = c ? s / c : NAN;
    }
    return nh;
}

static void print_fit(const char *id, const double *kwh, int last)
{
    struct mtr_corr c;
    struct mtr_dd_model m;
    struct mtr_errbuf eb;
    mtr_pearson(temp_daily, kwh, DAYS, &c);
    int rc = mtr_dd_fit(temp_daily, kwh, DAYS, NULL, &m, &eb);
    printf("  {\"id\": \"%s\", \"n\": %lld, \"r\": %.15g, \"t\": %.15g, \"p\": %.15g, \"rc\": %d, "
           "\"kind\": \"%s\", \"th\": %.15g, \"tc\": %.15g, \"b0\": %.15g, \"bh\": %.15g, "
           "\"bc\": %.15g, \"se_b0\": %.15g, \"se_bh\": %.15g, \"se_bc\": %.15g, \"r2\": %.15g, "
           "\"sse\": %.15g, \"bic\": %.15g, \"sensitivity\": %.15g, \"dd_n\": %lld}%s\n",
           id, (long long)c.n, c.r, c.t, c.p, rc, mtr_dd_kind_name(m.kind),
           isnan(m.th) ? -999.0 : m.th, isnan(m.tc) ? -999.0 : m.tc, m.b0, m.bh, m.bc, m.se_b0,
           m.se_bh, m.se_bc, m.r2, m.sse, m.bic, m.sensitivity, (long long)m.n, last ? "" : ",");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: weather_oracle DATA_DIR\n");
        return 2;
    }
    printf("{\n");
    if (read_weather(argv[1]) != 0) {
        fprintf(stderr, "cannot read weather\n");
        return 1;
    }
    int nh = read_households(argv[1]);
    if (nh <= 0) {
        fprintf(stderr, "cannot read households\n");
        return 1;
    }
    printf("\"series\": [\n");
    for (int i = 0; i < nh; i++)
        print_fit(names[i], day_kwh[i], 0);
    print_fit("fleet", day_kwh[nh], 1);
    printf("],\n");
    /* Backtest: model fitted on the fleet's days before the held-out period (1 July onwards,
     * 184 days); every held-out day is forecast from the hours before it. */
    const int test_day = 181;
    struct mtr_dd_model m;
    struct mtr_backtest b, bp;
    int rc = mtr_dd_fit(temp_daily, day_kwh[nh], (size_t)test_day, NULL, &m, NULL);
    rc |= mtr_backtest_run(fleet_hourly, HOURS, START, (size_t)test_day * 24, 4, &m, temp_daily, &b,
                           NULL);
    rc |= mtr_backtest_run(fleet_hourly, HOURS, START, (size_t)test_day * 24, 4, NULL, NULL, &bp,
                           NULL);
    printf("\"backtest\": {\"rc\": %d, \"train_kind\": \"%s\", \"train_th\": %.4g, "
           "\"train_bh\": %.6g, \"days\": %lld, \"hours\": %zu, \"weather_days\": %lld, "
           "\"mae_model\": %.6g, \"mape_model\": %.6g, \"mae_profile_only\": %.6g, "
           "\"mape_profile_only\": %.6g, \"mae_naive\": %.6g, \"mape_naive\": %.6g}\n}\n",
           rc, mtr_dd_kind_name(m.kind), m.th, m.bh, (long long)b.days, b.hours,
           (long long)b.weather_days, b.mae_model, b.mape_model, bp.mae_model, bp.mape_model,
           b.mae_naive, b.mape_naive);
    return 0;
}
