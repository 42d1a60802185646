/*
 * cmd_ingest.c - `metrify ingest readings|grid|weather FILE...|-` and
 * `metrify import meters|operators|stations FILE`: thin wrappers that open sources, run the
 * ingest use case (app/ingest.h) or store master data, and print a summary.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/io/master.h"
#include "adapters/io/source_file.h"
#include "adapters/io/source_thread.h"
#include "app/analytics.h"
#include "app/ingest.h"
#include "base/heap.h"
#include "base/timeparse.h"
#include "cli/cli.h"

#define SHOW_REJECTS 20

struct reject_view {
    const char *source;
    int64_t shown, quiet;
};

static void on_reject(void *ctx, uint64_t line, enum mtr_rule_id rule, const char *field,
                      const char *message)
{
    struct reject_view *v = ctx;
    if (v->quiet || v->shown++ >= SHOW_REJECTS)
        return;
    fprintf(stderr, "%s:%llu: rejected [%s] %s\n", v->source, (unsigned long long)line,
            mtr_rule(rule)->name, message);
}

static void on_progress(void *ctx, const struct mtr_ingest_stats *st)
{
    (void)ctx;
    fprintf(stderr, "\ringest: %lld records read, %lld accepted, %lld rejected",
            (long long)st->read, (long long)st->accepted, (long long)st->rejected);
    fflush(stderr);
}

static void ingest_usage(FILE *f)
{
    fprintf(f,
            "usage: metrify ingest readings|grid|weather [options] FILE...|-\n\n"
            "Validates, scores, checks for anomalies and stores every record; malformed or\n"
            "implausible records go to the quarantine with file:line and rule id.\n"
            "Files may be plain or gzip; CSV with a header, or NDJSON.\n\n"
            "Options:\n"
            "  --format NAME       auto (default), csv, ndjson, lcl (London LCL readings),\n"
            "                      darksky (Dark Sky hourly weather)\n"
            "  --map FIELD=COL,..  read FIELD from column COL (e.g. meter_id=device,timestamp=t)\n"
            "  --meter-id ID       meter id for rows that carry none (also --operator-id, "
            "--station-id)\n"
            "  --interval DUR      interval length when rows carry none: 15m, 30m, 1h, 900\n"
            "  --strict-meters     quarantine readings of meters that are not registered\n"
            "  --commit-every N    records per transaction (default: at least 1000000 and\n"
            "                      300 per meter in the transaction, at most 10000000)\n"
            "  --now ISO           the clock for future-timestamp checks (default: now)\n"
            "  --json              print the summary as JSON on stdout\n\n"
            "Exit: 0 all accepted, 1 some records rejected, 2 usage, 3 I/O, 4 store.\n");
}

int mtr_cli_parse_duration(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return MTR_EINVAL;
    double mul = 1;
    if (*end == 'm' && end[1] == 0)
        mul = 60;
    else if (*end == 'h' && end[1] == 0)
        mul = 3600;
    else if (*end == 'd' && end[1] == 0)
        mul = 86400;
    else if (*end == 's' && end[1] == 0)
        mul = 1;
    else if (*end)
        return MTR_EINVAL;
    *out = (int64_t)(v * mul + 0.5);
    return 0;
}

static json_t *stats_json(const struct mtr_ingest_stats *st)
{
    json_t *by_rule = json_object();
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (st->by_rule[i])
            json_object_set_new(by_rule, mtr_rule(i)->name, json_integer(st->by_rule[i]));
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "read",
                     (json_int_t)st->read, "accepted", (json_int_t)st->accepted, "rejected",
                     (json_int_t)st->rejected, "estimated", (json_int_t)st->estimated, "duplicates",
                     (json_int_t)st->duplicates, "revisions", (json_int_t)st->revisions, "late",
                     (json_int_t)st->late, "replaced_estimates", (json_int_t)st->replaced_estimates,
                     "flagged", (json_int_t)st->flagged, "new_meters", (json_int_t)st->new_meters,
                     "alerts", (json_int_t)st->alerts, "by_rule", by_rule);
}

void mtr_cli_print_ingest(const struct mtr_cli *cli, const struct mtr_ingest_stats *st)
{
    if (cli->json) {
        json_t *j = stats_json(st);
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
        return;
    }
    if (cli->quiet)
        return;
    printf("read %lld, accepted %lld, rejected %lld (quarantined), estimated %lld intervals\n",
           (long long)st->read, (long long)st->accepted, (long long)st->rejected,
           (long long)st->estimated);
    printf("duplicates %lld, revisions %lld, late %lld, replaced estimates %lld, flagged %lld, "
           "new meters %lld, alert updates %lld\n",
           (long long)st->duplicates, (long long)st->revisions, (long long)st->late,
           (long long)st->replaced_estimates, (long long)st->flagged, (long long)st->new_meters,
           (long long)st->alerts);
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (st->by_rule[i])
            printf("  %-28s %lld\n", mtr_rule(i)->name, (long long)st->by_rule[i]);
}

int mtr_cmd_ingest(struct mtr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"map", required_argument, 0, 'm'},
                                         {"meter-id", required_argument, 0, 'M'},
                                         {"operator-id", required_argument, 0, 'O'},
                                         {"station-id", required_argument, 0, 'S'},
                                         {"interval", required_argument, 0, 'i'},
                                         {"strict-meters", no_argument, 0, 's'},
                                         {"commit-every", required_argument, 0, 'c'},
                                         {"now", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct mtr_format fmt;
    struct mtr_ingest_opts io;
    struct mtr_errbuf eb = {{0}};
    int64_t v;
    int c;
    mtr_format_init(&fmt);
    memset(&io, 0, sizeof io);
    mtr_params_default(&io.params);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (mtr_format_set_name(&fmt, optarg, &eb) < 0)
                goto usage_err;
            break;
        case 'm':
            if (mtr_format_set_map(&fmt, optarg, &eb) < 0)
                goto usage_err;
            break;
        case 'M':
            snprintf(fmt.meter_id, sizeof fmt.meter_id, "%s", optarg);
            break;
        case 'O':
            snprintf(fmt.operator_id, sizeof fmt.operator_id, "%s", optarg);
            break;
        case 'S':
            snprintf(fmt.station_id, sizeof fmt.station_id, "%s", optarg);
            break;
        case 'i':
            if (mtr_cli_parse_duration(optarg, &v) < 0 || v < 60 || v > 86400) {
                mtr_err(&eb, MTR_EINVAL, "--interval: not a duration of 1m..24h: '%s'", optarg);
                goto usage_err;
            }
            fmt.interval_s = (int32_t)v;
            break;
        case 's':
            io.params.strict_meters = 1;
            break;
        case 'c':
            io.commit_every = strtoll(optarg, NULL, 10);
            if (io.commit_every <= 0) {
                mtr_err(&eb, MTR_EINVAL, "--commit-every: not a positive number: '%s'", optarg);
                goto usage_err;
            }
            break;
        case 'n':
            if (mtr_time_parse(optarg, strlen(optarg), &io.params.now) < 0) {
                mtr_err(&eb, MTR_EINVAL, "--now: not an ISO-8601 date-time: '%s'", optarg);
                goto usage_err;
            }
            break;
        case 'h':
            ingest_usage(stdout);
            return MTR_EXIT_OK;
        default:
            mtr_err(&eb, MTR_EINVAL, "unknown option '%s'", argv[optind - 1]);
            goto usage_err;
        }
    }
    if (optind >= argc) {
        mtr_err(&eb, MTR_EINVAL, "which series? readings, grid or weather");
        goto usage_err;
    }
    enum mtr_kind kind;
    if (strcmp(argv[optind], "readings") == 0)
        kind = MTR_KIND_READING;
    else if (strcmp(argv[optind], "grid") == 0)
        kind = MTR_KIND_GRID;
    else if (strcmp(argv[optind], "weather") == 0)
        kind = MTR_KIND_WEATHER;
    else {
        mtr_err(&eb, MTR_EINVAL, "unknown series '%s': readings, grid or weather", argv[optind]);
        goto usage_err;
    }
    if (++optind >= argc) {
        mtr_err(&eb, MTR_EINVAL, "no input files (use - for stdin)");
        goto usage_err;
    }
    if (fmt.name == MTR_FORMAT_LCL && !fmt.interval_s)
        fmt.interval_s = 1800;
    return mtr_cli_run_ingest(cli, kind, &fmt, &io, argc - optind, argv + optind);
usage_err:
    mtr_cli_error("ingest: %s", eb.msg);
    ingest_usage(stderr);
    return MTR_EXIT_USAGE;
}

int mtr_cli_run_ingest(struct mtr_cli *cli, enum mtr_kind kind, const struct mtr_format *fmt,
                       struct mtr_ingest_opts *io, int nfiles, char **files)
{
    struct mtr_store *store = NULL;
    struct mtr_ingest *ing = NULL;
    struct mtr_errbuf eb = {{0}};
    struct reject_view view = {.quiet = cli->quiet};
    /* the working set (meter states, cached meter-days, the store's pages) is touched within
     * seconds: fewer, larger page faults (best effort; base/heap.h) */
    mtr_heap_bulk(MTR_INGEST_HEAP_STEP);
    int exit_code = mtr_cli_open_store(cli, &store);
    if (exit_code != MTR_EXIT_OK)
        return exit_code;
    io->on_reject = on_reject;
    io->reject_ctx = &view;
    if (cli->progress) {
        io->progress = on_progress;
    }
    int rc = mtr_ingest_create(store, io, &ing, &eb);
    for (int i = 0; rc == 0 && i < nfiles; i++) {
        struct mtr_source *src = NULL;
        view.source = files[i];
        rc = mtr_source_open(files[i], kind, fmt, &src, &eb);
        if (rc == 0)
            rc = mtr_source_threaded(src, &src, &eb); /* decode on the other core */
        if (rc == 0) {
            rc = mtr_ingest_source(ing, src, &eb);
            src->ops->close(src);
        }
    }
    if (rc == 0)
        rc = mtr_ingest_commit(ing);
    if (cli->progress)
        fputc('\n', stderr);
    if (rc < 0) {
        mtr_cli_error("ingest: %s", eb.msg[0] ? eb.msg : store->err.msg);
        exit_code = mtr_cli_exit_code(rc);
    }
    const struct mtr_ingest_stats *st = mtr_ingest_get_stats(ing);
    if (view.shown > SHOW_REJECTS && !cli->quiet)
        fprintf(stderr, "... and %lld more rejected (see `metrify quarantine`)\n",
                (long long)(view.shown - SHOW_REJECTS));
    if (ing)
        mtr_cli_print_ingest(cli, st);
    if (exit_code == MTR_EXIT_OK && st->rejected > 0)
        exit_code = MTR_EXIT_PROBLEMS;
    mtr_ingest_destroy(ing);
    store->ops->close(store);
    return exit_code;
}

static void import_usage(FILE *f)
{
    fprintf(f, "usage: metrify import meters|operators|stations FILE [--max-station-km KM] "
               "[--json]\n\n"
               "Loads master data (upsert by id) from CSV in the reference layout\n"
               "(smart_meters.csv, grid_operators.csv, weather_stations.csv). Bad rows are\n"
               "reported with file:line and kept in the quarantine; the others are stored.\n"
               "After meters or stations, every meter without a weather station is linked to\n"
               "its nearest active station within KM (great-circle distance; default 50); the\n"
               "summary says how many were linked and how many had no station in range.\n"
               "Exit: 0 all stored, 1 some rows rejected, 2 usage, 3 I/O, 4 store.\n");
}

int mtr_cmd_import(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        import_usage(stdout);
        return MTR_EXIT_OK;
    }
    double max_km = 50;
    if (argc == 5 && strcmp(argv[3], "--max-station-km") == 0) {
        char *end;
        max_km = strtod(argv[4], &end);
        if (*end || !(max_km > 0)) {
            mtr_cli_error("import: --max-station-km: a positive distance in km: '%s'", argv[4]);
            return MTR_EXIT_USAGE;
        }
        argc = 3;
    }
    if (argc != 3) {
        mtr_cli_error("import: expected a kind and one FILE");
        import_usage(stderr);
        return MTR_EXIT_USAGE;
    }
    enum mtr_kind kind;
    if (strcmp(argv[1], "meters") == 0)
        kind = MTR_KIND_METER;
    else if (strcmp(argv[1], "operators") == 0)
        kind = MTR_KIND_OPERATOR;
    else if (strcmp(argv[1], "stations") == 0)
        kind = MTR_KIND_STATION;
    else {
        mtr_cli_error("import: unknown kind '%s': meters, operators or stations", argv[1]);
        return MTR_EXIT_USAGE;
    }
    struct mtr_store *store = NULL;
    struct mtr_master_reader *rd = NULL;
    struct mtr_errbuf eb = {{0}};
    int exit_code = mtr_cli_open_store(cli, &store);
    if (exit_code != MTR_EXIT_OK)
        return exit_code;
    int rc = mtr_master_open(argv[2], kind, &rd, &eb);
    int64_t read = 0, stored = 0, rejected = 0;
    if (rc == 0)
        rc = store->ops->begin(store);
    while (rc == 0) {
        struct mtr_master_record rec;
        struct mtr_record_error err;
        memset(&err, 0, sizeof err);
        int n = mtr_master_next(rd, &rec, &err);
        if (n == 0)
            break;
        read++;
        if (n == MTR_EPARSE) {
            struct mtr_quarantine q = {.kind = kind,
                                       .source = argv[2],
                                       .line = err.line,
                                       .rule = err.rule,
                                       .field = err.field,
                                       .message = err.message,
                                       .raw = err.raw};
            rc = store->ops->quarantine_put(store, &q);
            rejected++;
            if (!cli->quiet)
                fprintf(stderr, "%s:%llu: rejected [%s] %s\n", argv[2],
                        (unsigned long long)err.line, mtr_rule(err.rule)->name, err.message);
            continue;
        }
        if (n < 0) {
            rc = mtr_err(&eb, n, "%s: read error", argv[2]);
            break;
        }
        if (kind == MTR_KIND_METER)
            rc = store->ops->meter_put(store, &rec.u.meter);
        else if (kind == MTR_KIND_OPERATOR)
            rc = store->ops->operator_put(store, &rec.u.op);
        else
            rc = store->ops->station_put(store, &rec.u.station);
        stored += rc == 0;
    }
    if (rc == 0)
        rc = store->ops->commit(store);
    else
        store->ops->rollback(store);
    struct mtr_link_stats ls = {0};
    int link = rc == 0 && (kind == MTR_KIND_METER || kind == MTR_KIND_STATION);
    if (link)
        rc = mtr_link_stations(store, max_km, 0, &ls, &eb);
    if (rc < 0) {
        mtr_cli_error("import: %s", eb.msg[0] ? eb.msg : store->err.msg);
        exit_code = mtr_cli_exit_code(rc);
    } else if (cli->json) {
        printf("{\"kind\": \"%s\", \"read\": %lld, \"stored\": %lld, \"rejected\": %lld",
               mtr_kind_name(kind), (long long)read, (long long)stored, (long long)rejected);
        if (link)
            printf(", \"station_linking\": {\"max_km\": %g, \"meters_without_station\": %lld, "
                   "\"linked\": %lld, \"none_in_range\": %lld, \"no_coordinates\": %lld, "
                   "\"active_stations\": %lld}",
                   max_km, (long long)ls.meters, (long long)ls.linked, (long long)ls.none,
                   (long long)ls.unlocated, (long long)ls.stations);
        printf("}\n");
    } else if (!cli->quiet) {
        printf("%s: read %lld, stored %lld, rejected %lld\n", mtr_kind_name(kind), (long long)read,
               (long long)stored, (long long)rejected);
        if (link && ls.meters)
            printf("stations: %lld meters without a station: %lld linked to the nearest active "
                   "station, %lld with none within %g km, %lld without coordinates\n",
                   (long long)ls.meters, (long long)ls.linked, (long long)ls.none, max_km,
                   (long long)ls.unlocated);
    }
    if (exit_code == MTR_EXIT_OK && rejected)
        exit_code = MTR_EXIT_PROBLEMS;
    mtr_master_close(rd);
    store->ops->close(store);
    return exit_code;
}
