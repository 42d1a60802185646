/*
 * cmd_analytics.c - `metrify analytics weather-impact` and `metrify analytics grid` (dispatched
 * from `metrify analytics` in cmd_report.c) and `metrify forecast`: option parsing and output
 * (table or JSON) around the use cases of app/analytics.h.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/analytics.h"
#include "base/timeparse.h"
#include "cli/cli.h"

static json_t *num(double x)
{
    return isnan(x) || isinf(x) ? json_null() : json_real(x);
}

static json_t *when(int64_t t, int date_only)
{
    char buf[24];
    mtr_time_format(t, buf);
    if (date_only)
        buf[10] = 0;
    return json_string(buf);
}

static void dump17(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', stdout);
    json_decref(j);
}

/* Common options: --meter, --operator, --from, --to (dates or ISO-8601). */
struct opts {
    const char *meter, *op;
    int64_t from, to;
    int has_from, has_to;
    int no_meters, backtest, days, max_gap_h;
    const char *date, *tfile, *now;
    int64_t window_s;
};

static int parse(const char *cmd, int argc, char **argv, struct opts *o, void (*usage)(FILE *))
{
    static const struct option lo[] = {
        {"meter", required_argument, 0, 'm'}, {"operator", required_argument, 0, 'o'},
        {"from", required_argument, 0, 'f'},  {"to", required_argument, 0, 't'},
        {"no-meters", no_argument, 0, 'N'},   {"max-gap-h", required_argument, 0, 'g'},
        {"date", required_argument, 0, 'd'},  {"temperature-forecast", required_argument, 0, 'T'},
        {"backtest", no_argument, 0, 'b'},    {"days", required_argument, 0, 'n'},
        {"now", required_argument, 0, 'w'},   {"window", required_argument, 0, 'W'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->max_gap_h = 2;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->meter = optarg;
            break;
        case 'o':
            o->op = optarg;
            break;
        case 'f':
        case 't': {
            int64_t t;
            if (mtr_time_parse(optarg, strlen(optarg), &t) < 0) {
                mtr_cli_error("%s: --%s: not a date (YYYY-MM-DD or ISO-8601): '%s'", cmd,
                              c == 'f' ? "from" : "to", optarg);
                return MTR_EXIT_USAGE;
            }
            if (c == 'f') {
                o->from = t;
                o->has_from = 1;
            } else {
                o->to = t;
                o->has_to = 1;
            }
            break;
        }
        case 'N':
            o->no_meters = 1;
            break;
        case 'g':
            o->max_gap_h = atoi(optarg);
            if (o->max_gap_h < 0 || o->max_gap_h > 48) {
                mtr_cli_error("%s: --max-gap-h: 0..48 hours: '%s'", cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 'd':
            o->date = optarg;
            break;
        case 'T':
            o->tfile = optarg;
            break;
        case 'b':
            o->backtest = 1;
            break;
        case 'n':
            o->days = atoi(optarg);
            if (o->days <= 0) {
                mtr_cli_error("%s: --days: a positive number of days: '%s'", cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 'w':
            o->now = optarg;
            break;
        case 'W':
            if (mtr_cli_parse_duration(optarg, &o->window_s) < 0 || o->window_s < 60 ||
                o->window_s > 366 * 86400) {
                mtr_cli_error("%s: --window: a duration from 1m to 366d (15m, 1h, 1d, 7d): '%s'",
                              cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return MTR_EXIT_OK;
        default:
            mtr_cli_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
            usage(stderr);
            return MTR_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        mtr_cli_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        usage(stderr);
        return MTR_EXIT_USAGE;
    }
    if (o->meter && o->op) {
        mtr_cli_error("%s: --meter and --operator exclude each other", cmd);
        return MTR_EXIT_USAGE;
    }
    return -1;
}

/* ======================= weather impact ======================= */

struct wi_out {
    const struct mtr_cli *cli;
    json_t *stations, *meters, *operators, *fleet;
    int header;
    int64_t nst;
    struct mtr_align_counts all; /* text mode: summed over the stations */
};

static json_t *model_json(const struct mtr_dd_model *m, int rc)
{
    if (rc != 0)
        return json_null();
    return json_pack("{s:s,s:I,s:o,s:o,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:o,s:o}", "kind",
                     mtr_dd_kind_name(m->kind), "n", (json_int_t)m->n, "balance_heating_c",
                     num(m->th), "balance_cooling_c", num(m->tc), "base_kwh_per_day", m->b0,
                     "heating_slope", m->bh, "cooling_slope", m->bc, "se_base", m->se_b0,
                     "se_heating", m->se_bh, "se_cooling", m->se_bc, "r2", m->r2, "sse", m->sse,
                     "bic", m->bic, "sensitivity_kwh_per_c_day", m->sensitivity, "t_min",
                     num(m->t_min), "t_max", num(m->t_max));
}

static int wi_station(void *ctx, const struct mtr_wi_station *st)
{
    struct wi_out *o = ctx;
    const struct mtr_align_counts *c = &st->align;
    if (o->stations) {
        json_array_append_new(
            o->stations,
            json_pack("{s:s,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:i}", "station_id", st->id, "first",
                      st->first_ts ? when(st->first_ts, 0) : json_null(), "last",
                      st->last_ts ? when(st->last_ts, 0) : json_null(), "observed_hours",
                      (json_int_t)c->observed_hours, "interpolated_hours",
                      (json_int_t)c->interpolated_hours, "missing_hours",
                      (json_int_t)c->missing_hours, "gaps_interpolated",
                      (json_int_t)c->gaps_interpolated, "gaps_excluded",
                      (json_int_t)c->gaps_excluded, "normal_days", st->normal_days));
    } else {
        o->nst++;
        o->all.observed_hours += c->observed_hours;
        o->all.interpolated_hours += c->interpolated_hours;
        o->all.gaps_interpolated += c->gaps_interpolated;
        o->all.missing_hours += c->missing_hours;
        o->all.gaps_excluded += c->gaps_excluded;
    }
    return 0;
}

static int wi_series(void *ctx, const struct mtr_wi_series *r)
{
    struct wi_out *o = ctx;
    const struct mtr_dd_model *m = &r->model;
    if (o->stations) {
        json_t *j =
            json_pack("{s:s,s:I,s:I,s:o,s:o,s:{s:I,s:b,s:f,s:f,s:f},s:o}", "id", r->id, "meters",
                      (json_int_t)r->meters, "days", (json_int_t)r->days, "first_day",
                      r->days ? when(r->first_day, 1) : json_null(), "last_day",
                      r->days ? when(r->last_day, 1) : json_null(), "correlation", "n",
                      (json_int_t)r->corr.n, "defined", r->corr.defined, "r", r->corr.r, "t",
                      r->corr.t, "p", r->corr.p, "model", model_json(m, r->fit_rc));
        if (r->scope == MTR_WI_METER)
            json_object_set_new(j, "station_id", json_string(r->station_id));
        if (r->fit_rc == 0)
            json_object_set_new(j, "normalized",
                                json_pack("{s:I,s:f,s:f,s:f,s:f}", "days",
                                          (json_int_t)r->normalized.n, "actual_kwh",
                                          r->normalized.actual_kwh, "predicted_actual_kwh",
                                          r->normalized.predicted_actual, "predicted_normal_kwh",
                                          r->normalized.predicted_normal, "normalized_kwh",
                                          r->normalized.normalized_kwh));
        if (r->scope == MTR_WI_METER)
            json_array_append_new(o->meters, j);
        else if (r->scope == MTR_WI_OPERATOR)
            json_array_append_new(o->operators, j);
        else
            o->fleet = j;
        return 0;
    }
    if (!o->header++)
        printf("%-8s %-14s %5s %7s %8s %-8s %6s %6s %8s %7s %7s %6s %9s\n", "scope", "id", "days",
               "r", "p", "model", "Th", "Tc", "base", "heat", "cool", "R2", "kWh/C/day");
    printf("%-8s %-14s %5lld %+7.3f %8.2g %-8s ", mtr_wi_scope_name(r->scope), r->id,
           (long long)r->days, r->corr.r, r->corr.p, r->fit_rc ? "-" : mtr_dd_kind_name(m->kind));
    if (r->fit_rc) {
        printf("(too few days for a model)\n");
        return 0;
    }
    printf("%6.1f %6.1f %8.3f %7.3f %7.3f %6.3f %9.3f\n", m->th, m->tc, m->b0, m->bh, m->bc, m->r2,
           m->sensitivity);
    return 0;
}

static void wi_usage(FILE *f)
{
    fprintf(f,
            "usage: metrify analytics weather-impact [--meter ID|--operator ID] [--from DATE]\n"
            "                                        [--to DATE] [--no-meters] [--json]\n\n"
            "How consumption depends on temperature, per meter, per grid operator and fleet-wide,\n"
            "from the daily rollups and the weather of each meter's linked station (see\n"
            "`metrify import meters --max-station-km`): Pearson r of daily kWh with the daily\n"
            "mean temperature (n, p-value), the change-point degree-day model (base load,\n"
            "heating slope below a fitted balance temperature, cooling slope above another;\n"
            "coefficients, standard errors, R2), the temperature sensitivity in kWh per degC\n"
            "per day and the weather-normalised consumption of the period. Only complete,\n"
            "measured days count; weather gaps <= 2 h are interpolated (--max-gap-h), longer\n"
            "ones excluded. docs/analytics.md explains each method.\n\n"
            "  --no-meters   only the operator and fleet series\n");
}

int mtr_cli_analytics_weather(struct mtr_cli *cli, int argc, char **argv)
{
    struct opts op;
    int ec = parse("analytics weather-impact", argc, argv, &op, wi_usage);
    if (ec >= 0)
        return ec;
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    struct mtr_wi_opts o;
    mtr_wi_opts_default(&o);
    o.meter_id = op.meter;
    o.operator_id = op.op;
    o.from = op.from;
    o.to = op.to;
    o.has_from = op.has_from;
    o.has_to = op.has_to;
    o.max_gap_h = op.max_gap_h;
    o.meters = !op.no_meters;
    struct wi_out out = {.cli = cli};
    if (cli->json) {
        out.stations = json_array();
        out.meters = json_array();
        out.operators = json_array();
    }
    struct mtr_wi_sink sink = {.station = wi_station, .series = wi_series, .ctx = &out};
    struct mtr_wi_summary sum;
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_weather_impact(store, &o, &sink, &sum, &eb);
    store->ops->close(store);
    if (rc < 0) {
        mtr_cli_error("analytics weather-impact: %s", eb.msg[0] ? eb.msg : mtr_strerror(rc));
        json_decref(out.stations);
        json_decref(out.meters);
        json_decref(out.operators);
        json_decref(out.fleet);
        return mtr_cli_exit_code(rc);
    }
    if (cli->json) {
        json_t *j =
            json_pack("{s:{s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o}", "summary", "meters",
                      (json_int_t)sum.meters, "meters_unlinked", (json_int_t)sum.meters_unlinked,
                      "meters_no_weather", (json_int_t)sum.meters_no_weather, "meters_no_data",
                      (json_int_t)sum.meters_no_data, "stations", (json_int_t)sum.stations,
                      "day_rows", (json_int_t)sum.day_rows, "stations", out.stations, "meters",
                      out.meters, "operators", out.operators);
        json_object_set_new(j, "fleet", out.fleet ? out.fleet : json_null());
        dump17(j);
    } else if (!cli->quiet) {
        const struct mtr_align_counts *c = &out.all;
        fprintf(stderr,
                "weather of %lld stations: %lld hours observed, %lld interpolated (%lld gaps <= "
                "%d h), %lld excluded (%lld longer gaps)\n",
                (long long)out.nst, (long long)c->observed_hours, (long long)c->interpolated_hours,
                (long long)c->gaps_interpolated, o.max_gap_h, (long long)c->missing_hours,
                (long long)c->gaps_excluded);
        fprintf(stderr,
                "%lld meters: %lld without a station, %lld whose station has no weather, "
                "%lld without a complete day\n",
                (long long)sum.meters, (long long)sum.meters_unlinked,
                (long long)sum.meters_no_weather, (long long)sum.meters_no_data);
    }
    return MTR_EXIT_OK;
}

/* ======================= grid ======================= */

static json_t *window_json(const struct mtr_grid_window *w, const struct mtr_grid_perf *p)
{
    return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:f,s:f,s:s,s:o,s:o,s:o,s:s,s:s,"
                     "s:s,s:s}",
                     "records", (json_int_t)w->records, "stability_pct", num(w->stability_pct),
                     "frequency_deviation_mean_hz", num(w->f_dev_mean),
                     "frequency_deviation_min_hz", num(w->f_dev_min), "frequency_deviation_max_hz",
                     num(w->f_dev_max), "utilization_mean", num(w->util_mean), "utilization_max",
                     num(w->util_max), "stability_mean", num(w->stability_mean), "stability_min",
                     num(w->stability_min), "voltage_mean_kv", num(w->voltage_mean), "warning_pct",
                     w->warning_pct, "critical_pct", w->critical_pct, "risk",
                     mtr_grid_risk_name(w->risk), "frequency_score", num(p->frequency_score),
                     "voltage_score", num(p->voltage_score), "performance_score", num(p->score),
                     "performance", p->performance, "utilization_tier", p->utilization_tier,
                     "reliability", p->reliability, "stability_class", p->stability_class);
}

struct grid_view {
    json_t *arr; /* NULL: text */
    int operators;
};

static int grid_out(void *ctx, const struct mtr_grid_report *r)
{
    struct grid_view *v = ctx;
    json_t *arr = v->arr;
    v->operators++;
    const struct mtr_grid_window *t = &r->total;
    if (arr) {
        json_t *days = json_array(), *alerts = json_array();
        for (size_t i = 0; i < r->n_days; i++) {
            if (!r->days[i].records)
                continue;
            json_t *d = window_json(&r->days[i], &r->day_perf[i]);
            json_object_set_new(d, "start", when(r->days[i].start, 0));
            json_object_set_new(d, "date", when(r->days[i].start, 1));
            json_array_append_new(days, d);
        }
        for (size_t i = 0; i < r->n_alerts; i++) {
            const struct mtr_grid_alert *a = &r->alerts[i];
            json_array_append_new(
                alerts,
                json_pack("{s:s,s:s,s:o,s:o,s:o,s:I,s:o}", "type", mtr_rule(a->rule)->name, "level",
                          mtr_level_name(a->level), "start", when(a->start, 0), "last",
                          when(a->last_seen, 0), "cleared", a->end ? when(a->end, 0) : json_null(),
                          "records", (json_int_t)a->records, "worst", num(a->worst)));
        }
        json_t *j = window_json(t, &r->perf);
        json_object_set_new(j, "operator_id", json_string(r->op->id));
        json_object_set_new(j, "registered", json_boolean(r->registered));
        json_object_set_new(j, "voltage_level_kv", num(r->op->voltage_kv));
        json_object_set_new(j, "capacity_mw", num(r->op->capacity_mw));
        json_object_set_new(j, "health", json_string(mtr_grid_health_name(r->health)));
        json_object_set_new(j, "flagged_records", json_integer(r->flagged));
        json_object_set_new(j, "first", when(t->start, 1));
        json_object_set_new(j, "last", when(t->last_ts, 0));
        json_object_set_new(j, "windows", days);
        json_object_set_new(j, "alerts", alerts);
        json_array_append_new(arr, j);
        return 0;
    }
    printf("%s: health %s, %lld records (%lld flagged), stability %.1f %%, utilisation %.1f %% "
           "(max %.1f %%), risk %s, performance %.1f (%s), reliability %s, %zu alerts\n",
           r->op->id, mtr_grid_health_name(r->health), (long long)t->records, (long long)r->flagged,
           t->stability_pct, 100 * t->util_mean, 100 * t->util_max, mtr_grid_risk_name(t->risk),
           r->perf.score, r->perf.performance, r->perf.reliability, r->n_alerts);
    printf("  %-16s %6s %7s %7s %7s %6s %6s %-7s %6s %s\n", "window start", "recs", "stab%",
           "util%", "umax%", "warn%", "crit%", "risk", "score", "performance");
    for (size_t i = 0; i < r->n_days; i++) {
        const struct mtr_grid_window *w = &r->days[i];
        if (!w->records)
            continue;
        char d[24];
        mtr_time_format(w->start, d);
        d[16] = 0;
        printf("  %-16s %6lld %7.2f %7.2f %7.2f %6.2f %6.2f %-7s %6.1f %s\n", d,
               (long long)w->records, w->stability_pct, 100 * w->util_mean, 100 * w->util_max,
               w->warning_pct, w->critical_pct, mtr_grid_risk_name(w->risk), r->day_perf[i].score,
               r->day_perf[i].performance);
    }
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct mtr_grid_alert *a = &r->alerts[i];
        char s[24], e[24];
        mtr_time_format(a->start, s);
        mtr_time_format(a->last_seen, e);
        printf("  alert %-24s %-8s %s .. %s %s\n", mtr_rule(a->rule)->name,
               mtr_level_name(a->level), s, e, a->end ? "" : "(open)");
    }
    return 0;
}

static void grid_usage(FILE *f)
{
    fprintf(
        f, "usage: metrify analytics grid [--operator ID] [--from DATE] [--to DATE] [--now ISO]\n"
           "                              [--window DUR] [--json]\n\n"
           "Grid operator health and grid performance per window (--window: 15m, 1h, 1d, 7d;\n"
           "default 1d, the daily grid performance) from the stored grid status:\n"
           "stability %% (records inside 49.8..50.2 Hz), frequency deviation, utilisation (load /\n"
           "capacity), stability score, share of records at warning / critical level, risk\n"
           "class, performance score and class, reliability, and the stability alerts of the\n"
           "range (recomputed from the history). Health is inactive when the last record is\n"
           "more than a day before --now (default: the current time). Rules: docs/analytics.md.\n");
}

int mtr_cli_analytics_grid(struct mtr_cli *cli, int argc, char **argv)
{
    struct opts op;
    int ec = parse("analytics grid", argc, argv, &op, grid_usage);
    if (ec >= 0)
        return ec;
    if (op.meter) {
        mtr_cli_error("analytics grid: --meter does not apply (use --operator)");
        return MTR_EXIT_USAGE;
    }
    struct mtr_grid_report_opts o = {.operator_id = op.op,
                                     .window_s = op.window_s,
                                     .from = op.from,
                                     .to = op.to,
                                     .has_from = op.has_from,
                                     .has_to = op.has_to};
    if (op.now && mtr_time_parse(op.now, strlen(op.now), &o.now) < 0) {
        mtr_cli_error("analytics grid: --now: not a time: '%s'", op.now);
        return MTR_EXIT_USAGE;
    }
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    struct grid_view v = {.arr = cli->json ? json_array() : NULL};
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_grid_report(store, &o, grid_out, &v, &eb);
    store->ops->close(store);
    if (rc < 0) {
        mtr_cli_error("analytics grid: %s", eb.msg[0] ? eb.msg : mtr_strerror(rc));
        json_decref(v.arr);
        return mtr_cli_exit_code(rc);
    }
    if (v.arr)
        dump17(v.arr);
    else if (!v.operators && !cli->quiet)
        fprintf(stderr,
                "analytics grid: no grid status in the range (see `metrify ingest grid`)\n");
    return MTR_EXIT_OK;
}

/* ======================= forecast ======================= */

static void fc_usage(FILE *f)
{
    fprintf(f,
            "usage: metrify forecast [--meter ID|--operator ID] [--date DATE]\n"
            "                        [--temperature-forecast FILE] [--json]\n"
            "       metrify forecast [--meter ID|--operator ID] --backtest [--days N] [--json]\n\n"
            "Day-ahead consumption forecast (24 hourly values, mean kWh per meter and the total\n"
            "for the meters) of a meter, an operator's meters or the fleet, for DATE (default:\n"
            "the day after the last data): the hour-of-week profile of the last 4 weeks, scaled\n"
            "by the degree-day model's response to the forecast temperature. FILE is CSV with\n"
            "a header: date,temperature_c (daily mean) or timestamp,temperature_c (hourly; the\n"
            "day's values are averaged). Without it the forecast is the profile alone, labelled\n"
            "profile_only. --backtest forecasts each of the last N days (default 28) from the\n"
            "data before it and reports MAE and MAPE against the seasonal-naive baseline (same\n"
            "hour one week earlier), with the observed temperature standing in for a forecast.\n");
}

/* Reads the mean temperature of `day` from a CSV of daily or hourly values. */
static int read_temp_forecast(const char *path, int64_t day, double *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        mtr_cli_error("forecast: cannot open %s", path);
        return MTR_EXIT_IO;
    }
    char line[512];
    double sum = 0;
    int n = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *comma = strchr(line, ',');
        if (!comma)
            continue;
        *comma = 0;
        int64_t t;
        if (mtr_time_parse(line, strlen(line), &t) < 0) {
            if (lineno == 1)
                continue; /* header */
            mtr_cli_error("forecast: %s:%d: not a date or time: '%s'", path, lineno, line);
            fclose(f);
            return MTR_EXIT_IO;
        }
        char *end;
        double v = strtod(comma + 1, &end);
        if (end == comma + 1 || isnan(v)) {
            mtr_cli_error("forecast: %s:%d: not a temperature", path, lineno);
            fclose(f);
            return MTR_EXIT_IO;
        }
        if (t >= day && t < day + 86400) {
            sum += v;
            n++;
        }
    }
    fclose(f);
    char d[24];
    mtr_time_format(day, d);
    d[10] = 0;
    if (!n) {
        mtr_cli_error("forecast: %s has no temperature for %s", path, d);
        return MTR_EXIT_USAGE;
    }
    *out = sum / n;
    return MTR_EXIT_OK;
}

static json_t *day_json(const struct mtr_forecast_day *d, int64_t meters)
{
    json_t *h = json_array(), *tot = json_array();
    double s = 0;
    for (int i = 0; i < 24; i++) {
        json_array_append_new(h, num(d->kwh[i]));
        json_array_append_new(tot, num(d->kwh[i] * (double)meters));
        s += d->kwh[i];
    }
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "method", mtr_forecast_method_name(d->method),
                     "date", when(d->day_start, 1), "temperature_c", num(d->temp_c),
                     "kwh_per_meter", h, "kwh_total", tot, "day_kwh_per_meter", num(s));
}

int mtr_cmd_forecast(struct mtr_cli *cli, int argc, char **argv)
{
    struct opts op;
    int ec = parse("forecast", argc, argv, &op, fc_usage);
    if (ec >= 0)
        return ec;
    struct mtr_fc_opts o;
    mtr_fc_opts_default(&o);
    o.meter_id = op.meter;
    o.operator_id = op.op;
    o.max_gap_h = op.max_gap_h;
    if (op.backtest)
        o.backtest_days = op.days ? op.days : 28;
    else if (op.days) {
        mtr_cli_error("forecast: --days goes with --backtest");
        return MTR_EXIT_USAGE;
    }
    if (op.date && (mtr_time_parse(op.date, strlen(op.date), &o.day) < 0 || o.day % 86400)) {
        mtr_cli_error("forecast: --date: not a date (YYYY-MM-DD): '%s'", op.date);
        return MTR_EXIT_USAGE;
    }
    if (op.backtest && (op.date || op.tfile)) {
        mtr_cli_error("forecast: --backtest takes no --date or --temperature-forecast");
        return MTR_EXIT_USAGE;
    }
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    struct mtr_fc_result r;
    struct mtr_errbuf eb = {{0}};
    double tf = NAN;
    int rc = 0;
    if (op.tfile && !o.day) {
        /* the forecast day is only known after reading the data: a first pass finds it */
        rc = mtr_forecast_run(store, &o, &r, &eb);
        if (rc == 0)
            o.day = r.fc.day_start;
    }
    if (rc == 0 && op.tfile) {
        if ((ec = read_temp_forecast(op.tfile, o.day, &tf)) != MTR_EXIT_OK) {
            store->ops->close(store);
            return ec;
        }
        o.temp_forecast = &tf;
    }
    if (rc == 0)
        rc = mtr_forecast_run(store, &o, &r, &eb);
    store->ops->close(store);
    if (rc < 0) {
        mtr_cli_error("forecast: %s", eb.msg[0] ? eb.msg : mtr_strerror(rc));
        return mtr_cli_exit_code(rc);
    }
    const char *scope = op.meter ? op.meter : op.op ? op.op : "fleet";
    if (op.backtest) {
        const struct mtr_backtest *b = &r.bt, *p = &r.bt_profile;
        if (cli->json) {
            dump17(json_pack(
                "{s:s,s:I,s:I,s:I,s:s,s:{s:f,s:f},s:{s:f,s:f},s:{s:f,s:f},s:I,s:o}", "scope", scope,
                "meters", (json_int_t)r.meters, "days", (json_int_t)b->days, "hours",
                (json_int_t)b->hours, "model", r.model_rc ? "none" : mtr_dd_kind_name(r.model.kind),
                "weather", "mae", b->mae_model, "mape", b->mape_model, "profile_only", "mae",
                p->mae_model, "mape", p->mape_model, "seasonal_naive", "mae", b->mae_naive, "mape",
                b->mape_naive, "weather_days", (json_int_t)b->weather_days, "beats_naive_by_mae",
                json_boolean(b->mae_model < b->mae_naive)));
        } else {
            printf("backtest %s: %lld meters, %lld held-out days, %zu hours scored (kWh per "
                   "meter and hour)\n",
                   scope, (long long)r.meters, (long long)b->days, b->hours);
            printf("  %-16s MAE %.4f  MAPE %6.2f %%  (weather-adjusted on %lld days)\n", "weather",
                   b->mae_model, b->mape_model, (long long)b->weather_days);
            printf("  %-16s MAE %.4f  MAPE %6.2f %%\n", "profile_only", p->mae_model,
                   p->mape_model);
            printf("  %-16s MAE %.4f  MAPE %6.2f %%\n", "seasonal_naive", b->mae_naive,
                   b->mape_naive);
        }
        return MTR_EXIT_OK;
    }
    int profile_only = r.fc.method == MTR_FC_PROFILE_ONLY;
    const char *note = !op.tfile      ? "no temperature forecast given: profile-only forecast "
                                        "(pass --temperature-forecast FILE for the weather model)"
                       : profile_only ? "temperature forecast given but no usable degree-day "
                                        "model: profile-only forecast"
                                      : "";
    if (cli->json) {
        json_t *j = json_pack("{s:s,s:I,s:o,s:o,s:s}", "scope", scope, "meters",
                              (json_int_t)r.meters, "forecast", day_json(&r.fc, r.meters),
                              "seasonal_naive", day_json(&r.naive, r.meters), "note", note);
        dump17(j);
        return MTR_EXIT_OK;
    }
    if (*note && !cli->quiet)
        fprintf(stderr, "forecast: %s\n", note);
    char d[24];
    mtr_time_format(r.fc.day_start, d);
    d[10] = 0;
    printf("forecast %s for %s (%s%s), %lld meters\n", scope, d,
           mtr_forecast_method_name(r.fc.method), profile_only ? ", PROFILE ONLY" : "",
           (long long)r.meters);
    if (!isnan(r.fc.temp_c))
        printf("forecast daily mean temperature %.1f C\n", r.fc.temp_c);
    printf("  %-5s %12s %12s %14s\n", "hour", "kWh/meter", "kWh total", "naive/meter");
    for (int h = 0; h < 24; h++)
        printf("  %02d:00 %12.4f %12.3f %14.4f\n", h, r.fc.kwh[h], r.fc.kwh[h] * (double)r.meters,
               r.naive.kwh[h]);
    return MTR_EXIT_OK;
}
