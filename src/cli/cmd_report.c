/*
 * cmd_report.c - the read-side commands: `metrify quality`, `metrify anomalies`,
 * `metrify analytics daily` and `metrify quarantine`. Each parses filters into a struct
 * mtr_query, runs a report use case or a store query, and prints a table or JSON.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/report.h"
#include "base/timeparse.h"
#include "cli/cli.h"

struct filters {
    struct mtr_query q;
    int days; /* quality: list meter-days */
};

static json_t *jnum(double x)
{
    return isnan(x) ? json_null() : json_real(x);
}

static json_t *jtime(int64_t t)
{
    char buf[24];
    mtr_time_format(t, buf);
    return json_string(buf);
}

static json_t *jdate(int64_t t)
{
    char buf[24];
    mtr_time_format(t, buf);
    buf[10] = 0;
    return json_string(buf);
}

static void dump(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(j);
}

/* Parses the common filter options; returns -1 to continue, or an exit code. */
static int parse_filters(const char *cmd, int argc, char **argv, struct filters *f,
                         void (*usage)(FILE *))
{
    static const struct option opts[] = {{"meter", required_argument, 0, 'm'},
                                         {"entity", required_argument, 0, 'm'},
                                         {"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},
                                         {"type", required_argument, 0, 'y'},
                                         {"level", required_argument, 0, 'l'},
                                         {"source", required_argument, 0, 's'},
                                         {"limit", required_argument, 0, 'n'},
                                         {"days", no_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    memset(f, 0, sizeof *f);
    f->q.kind = f->q.type = f->q.min_level = -1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            f->q.entity_id = optarg;
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
                f->q.from = t;
                f->q.has_from = 1;
            } else {
                f->q.to = t;
                f->q.has_to = 1;
            }
            break;
        }
        case 'y':
            if ((f->q.type = mtr_rule_parse(optarg)) < 0) {
                mtr_cli_error("%s: --type: unknown rule '%s' (see metrify rules)", cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 'l':
            if ((f->q.min_level = mtr_level_parse(optarg)) < 0) {
                mtr_cli_error("%s: --level: not low, medium, high or critical: '%s'", cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 's':
            f->q.kind = -1;
            for (int k = 0; k < MTR_KIND_COUNT; k++)
                if (strcmp(optarg, mtr_kind_name(k)) == 0)
                    f->q.kind = k;
            if (f->q.kind < 0) {
                mtr_cli_error("%s: --source: not readings, grid or weather: '%s'", cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 'n':
            f->q.limit = strtoll(optarg, NULL, 10);
            if (f->q.limit <= 0) {
                mtr_cli_error("%s: --limit: not a positive number: '%s'", cmd, optarg);
                return MTR_EXIT_USAGE;
            }
            break;
        case 'd':
            f->days = 1;
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
    return -1;
}

struct quality_out {
    const struct mtr_cli *cli;
    json_t *meters, *days;
    int list_days;
};

static int q_day(void *ctx, const struct mtr_day_report *d)
{
    struct quality_out *o = ctx;
    if (!o->list_days)
        return 0;
    if (o->days) {
        json_array_append_new(
            o->days,
            json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:s}", "meter_id",
                      d->meter_id, "date", jdate(d->day), "expected_intervals",
                      (json_int_t)d->q.expected, "received_intervals", (json_int_t)d->q.received,
                      "missing_intervals", (json_int_t)d->q.missing, "estimated_intervals",
                      (json_int_t)d->q.estimated, "flagged_intervals", (json_int_t)d->q.flagged,
                      "anomalous_intervals", (json_int_t)d->q.anomalous, "completeness",
                      jnum(d->q.completeness), "validity", jnum(d->q.validity), "consistency",
                      jnum(d->q.consistency), "timeliness", jnum(d->q.timeliness), "score",
                      jnum(d->q.score), "tier", mtr_tier_name(d->tier)));
    } else {
        char date[24];
        mtr_time_format(d->day, date);
        date[10] = 0;
        printf("%-14s %s %5lld %5lld %5lld %5lld  %.3f %-9s\n", d->meter_id, date,
               (long long)d->q.expected, (long long)d->q.received, (long long)d->q.missing,
               (long long)d->q.estimated, d->q.score, mtr_tier_name(d->tier));
    }
    return 0;
}

static int q_meter(void *ctx, const char *meter_id, const struct mtr_quality_total *t)
{
    struct quality_out *o = ctx;
    if (o->meters) {
        json_t *j = mtr_quality_total_json(t);
        json_object_del(j, "meters");
        json_object_set_new(j, "meter_id", json_string(meter_id));
        json_array_append_new(o->meters, j);
    }
    return 0;
}

static void quality_usage(FILE *f)
{
    fprintf(f, "usage: metrify quality [--meter ID] [--from DATE] [--to DATE] [--days] [--json]\n\n"
               "Data-quality report from the daily rollups: per fleet, per meter and (with\n"
               "--days or --meter) per meter-day: expected, received, missing and estimated\n"
               "intervals, completeness, validity, consistency, timeliness, score and tier.\n");
}

int mtr_cmd_quality(struct mtr_cli *cli, int argc, char **argv)
{
    struct filters f;
    int ec = parse_filters("quality", argc, argv, &f, quality_usage);
    if (ec >= 0)
        return ec;
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    struct quality_out o = {.cli = cli, .list_days = f.days || f.q.entity_id};
    if (cli->json) {
        o.meters = json_array();
        o.days = json_array();
    } else if (o.list_days) {
        printf("%-14s %-10s %5s %5s %5s %5s  %-5s %s\n", "meter_id", "date", "exp", "recv", "miss",
               "est", "score", "tier");
    }
    struct mtr_report_sink sink = {.day = q_day, .meter = q_meter, .ctx = &o};
    struct mtr_quality_total fleet;
    int rc = mtr_report_days(store, &f.q, &sink, &fleet);
    if (rc < 0) {
        mtr_cli_error("quality: %s", store->err.msg);
        json_decref(o.meters);
        json_decref(o.days);
        store->ops->close(store);
        return mtr_cli_exit_code(rc);
    }
    if (cli->json) {
        json_t *j =
            json_pack("{s:o,s:o}", "fleet", mtr_quality_total_json(&fleet), "meters", o.meters);
        if (o.list_days)
            json_object_set_new(j, "days", o.days);
        else
            json_decref(o.days);
        dump(j);
    } else {
        double s = mtr_quality_total_score(&fleet);
        printf("fleet: %lld meters, %lld meter-days, score %.3f (%s)\n", (long long)fleet.meters,
               (long long)fleet.days, isnan(s) ? 0.0 : s, mtr_tier_name(mtr_tier_from_score(s)));
        printf("intervals: expected %lld, received %lld, missing %lld, estimated %lld, flagged "
               "%lld, anomalous %lld\n",
               (long long)fleet.expected, (long long)fleet.received, (long long)fleet.missing,
               (long long)fleet.estimated, (long long)fleet.flagged, (long long)fleet.anomalous);
        printf("meter-days by tier: excellent %lld, good %lld, fair %lld, poor %lld\n",
               (long long)fleet.tier_days[MTR_TIER_EXCELLENT],
               (long long)fleet.tier_days[MTR_TIER_GOOD], (long long)fleet.tier_days[MTR_TIER_FAIR],
               (long long)fleet.tier_days[MTR_TIER_POOR]);
    }
    store->ops->close(store);
    return MTR_EXIT_OK;
}

struct alerts_out {
    json_t *arr;
    int64_t n;
};

static int on_alert(void *ctx, const struct mtr_alert *a)
{
    struct alerts_out *o = ctx;
    o->n++;
    if (o->arr) {
        json_array_append_new(
            o->arr,
            json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:f,s:i,s:f,s:s,s:s}", "source",
                      mtr_kind_name(a->source), "entity_id", a->entity_id, "meter_id",
                      a->source == MTR_KIND_READING ? a->entity_id : "", "start",
                      jtime(a->start_ts), "end", jtime(a->end_ts), "type", mtr_rule(a->type)->name,
                      "score", (double)a->score, "intervals", (int)a->count, "value",
                      (double)a->value, "level", mtr_level_name(a->level), "detail", a->detail));
        return 0;
    }
    char s[24], e[24];
    mtr_time_format(a->start_ts, s);
    mtr_time_format(a->end_ts, e);
    printf("%-14s %s %s %-22s %-8s %.2f %5d %g\n", a->entity_id, s, e, mtr_rule(a->type)->name,
           mtr_level_name(a->level), a->score, a->count, a->value);
    return 0;
}

static void anomalies_usage(FILE *f)
{
    fprintf(f, "usage: metrify anomalies [--meter ID] [--type RULE] [--level MIN] [--source "
               "readings|grid|weather]\n"
               "                         [--from DATE] [--to DATE] [--limit N] [--json]\n\n"
               "Lists stored anomaly alerts (one per contiguous run): entity, interval start and\n"
               "end, type (rule id), level (low, medium, high, critical), score, intervals.\n");
}

int mtr_cmd_anomalies(struct mtr_cli *cli, int argc, char **argv)
{
    struct filters f;
    int ec = parse_filters("anomalies", argc, argv, &f, anomalies_usage);
    if (ec >= 0)
        return ec;
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    struct alerts_out o = {.arr = cli->json ? json_array() : NULL};
    if (!o.arr)
        printf("%-14s %-20s %-20s %-22s %-8s %-4s %5s %s\n", "entity", "start", "end", "type",
               "level", "score", "n", "value");
    int rc = store->ops->alert_rows(store, &f.q, on_alert, &o);
    if (rc < 0) {
        mtr_cli_error("anomalies: %s", store->err.msg);
        json_decref(o.arr);
        store->ops->close(store);
        return mtr_cli_exit_code(rc);
    }
    if (o.arr)
        dump(o.arr);
    else
        printf("%lld alerts\n", (long long)o.n);
    store->ops->close(store);
    return MTR_EXIT_OK;
}

static int daily_row(void *ctx, const struct mtr_day_report *d)
{
    json_t *arr = ctx;
    char date[24];
    mtr_time_format(d->day, date);
    date[10] = 0;
    if (arr) {
        json_array_append_new(
            arr,
            json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:I,s:I}", "meter_id", d->meter_id,
                      "date", date, "total_kwh", jnum(d->kwh), "peak_kwh", jnum(d->peak_kwh),
                      "offpeak_kwh", jnum(d->offpeak_kwh), "min_interval_kwh", jnum(d->min_kwh),
                      "max_interval_kwh", jnum(d->max_kwh), "mean_interval_kwh", jnum(d->mean_kwh),
                      "completeness", jnum(d->q.completeness), "quality_tier",
                      mtr_tier_name(d->tier), "intervals", (json_int_t)d->q.received,
                      "estimated_intervals", (json_int_t)d->q.estimated));
        return 0;
    }
    printf("%-14s %s %10.3f %9.3f %9.3f %8.4f %8.4f %8.4f %6.3f %s\n", d->meter_id, date, d->kwh,
           d->peak_kwh, d->offpeak_kwh, d->min_kwh, d->max_kwh, d->mean_kwh, d->q.completeness,
           mtr_tier_name(d->tier));
    return 0;
}

static void analytics_usage(FILE *f)
{
    fprintf(f, "usage: metrify analytics daily [--meter ID] [--from DATE] [--to DATE] [--json]\n"
               "       metrify analytics weather-impact --help\n"
               "       metrify analytics grid --help\n\n"
               "Per meter-day consumption from the rollups: total, peak (17-21 h UTC) and\n"
               "off-peak (22-6 h UTC) kWh, min/max/mean interval kWh, completeness, quality "
               "tier.\nQuestionable readings are excluded; estimated intervals are included.\n");
}

int mtr_cmd_analytics(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        analytics_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    if (strcmp(argv[1], "weather-impact") == 0)
        return mtr_cli_analytics_weather(cli, argc - 1, argv + 1);
    if (strcmp(argv[1], "grid") == 0)
        return mtr_cli_analytics_grid(cli, argc - 1, argv + 1);
    if (strcmp(argv[1], "daily") != 0) {
        mtr_cli_error("analytics: unknown report '%s' (daily, weather-impact, grid)", argv[1]);
        return MTR_EXIT_USAGE;
    }
    struct filters f;
    int ec = parse_filters("analytics daily", argc - 1, argv + 1, &f, analytics_usage);
    if (ec >= 0)
        return ec;
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    json_t *arr = cli->json ? json_array() : NULL;
    if (!arr)
        printf("%-14s %-10s %10s %9s %9s %8s %8s %8s %6s %s\n", "meter_id", "date", "total_kwh",
               "peak", "offpeak", "min", "max", "mean", "compl", "tier");
    struct mtr_report_sink sink = {.day = daily_row, .ctx = arr};
    struct mtr_quality_total fleet;
    int rc = mtr_report_days(store, &f.q, &sink, &fleet);
    if (rc < 0) {
        mtr_cli_error("analytics: %s", store->err.msg);
        json_decref(arr);
        store->ops->close(store);
        return mtr_cli_exit_code(rc);
    }
    if (arr)
        dump(arr);
    store->ops->close(store);
    return MTR_EXIT_OK;
}

static int on_quarantine(void *ctx, const struct mtr_quarantine *q)
{
    json_t *arr = ctx;
    if (arr) {
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s}", "kind",
                                        mtr_kind_name(q->kind), "source", q->source, "line",
                                        (json_int_t)q->line, "rule", mtr_rule(q->rule)->name,
                                        "field", q->field, "message", q->message, "raw", q->raw));
        return 0;
    }
    printf("%s:%llu: [%s] %s\n", q->source, (unsigned long long)q->line, mtr_rule(q->rule)->name,
           q->message);
    return 0;
}

static void quarantine_usage(FILE *f)
{
    fprintf(f, "usage: metrify quarantine [--source readings|grid|weather|meters|...] [--limit N] "
               "[--json]\n\nLists rejected records with source, line, rule id and message.\n");
}

int mtr_cmd_quarantine(struct mtr_cli *cli, int argc, char **argv)
{
    struct filters f;
    int ec = parse_filters("quarantine", argc, argv, &f, quarantine_usage);
    if (ec >= 0)
        return ec;
    struct mtr_store *store;
    if ((ec = mtr_cli_open_store(cli, &store)) != MTR_EXIT_OK)
        return ec;
    json_t *arr = cli->json ? json_array() : NULL;
    int rc = store->ops->quarantine_rows(store, &f.q, on_quarantine, arr);
    if (rc < 0) {
        mtr_cli_error("quarantine: %s", store->err.msg);
        json_decref(arr);
        store->ops->close(store);
        return mtr_cli_exit_code(rc);
    }
    if (arr)
        dump(arr);
    store->ops->close(store);
    return MTR_EXIT_OK;
}
