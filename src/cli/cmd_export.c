/*
 * cmd_export.c - `metrify export lake` (the incremental Parquet data lake export to a directory
 * or an S3-compatible object store) and `metrify export schema` (the Parquet columns each
 * dataset is written with, for warehouse DDL and its tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/lake/lake_dir.h"
#include "adapters/s3/lake_s3.h"
#include "app/export.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: metrify export lake --to DIR|s3://BUCKET[/PREFIX] [options]\n"
        "       metrify export schema [DATASET]\n\n"
        "lake    writes what changed since the last export to DIR (or the bucket) as Parquet,\n"
        "        partitioned dataset=NAME/date=YYYY-MM-DD/part-NNNN.parquet; a re-run without\n"
        "        new data writes nothing. See docs/lake.md.\n"
        "  --datasets LIST          readings,grid,weather,daily (default: all)\n"
        "  --compression C          zstd (default) or none\n"
        "  --zstd-level N           1..19 (default 3)\n"
        "  --row-group-rows N       rows per row group (default 1000000)\n"
        "  --full                   ignore the watermark: export every row again (new parts)\n"
        "  --s3-endpoint URL        S3-compatible endpoint, path-style (default "
        "$METRIFY_S3_ENDPOINT,\n"
        "                           $AWS_ENDPOINT_URL, else https://s3.REGION.amazonaws.com)\n"
        "  --s3-region R            default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1\n"
        "  --s3-profile P           profile of ~/.aws/credentials (default $AWS_PROFILE, default)\n"
        "  --multipart-threshold N  bytes from which uploads are multipart (default 8388608)\n"
        "  --part-size N            multipart part size in bytes (default 8388608, min 5242880\n"
        "                           on AWS; smaller values are for tests against local servers)\n"
        "  --retries N              attempts per S3 request (default 5)\n"
        "schema  prints the columns and Parquet types of DATASET (default: all)\n");
}

static int parse_datasets(const char *list, unsigned *out)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *out = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int ds = mtr_dataset_parse(t);
        if (ds < 0) {
            mtr_cli_error("export lake: unknown dataset '%s' (readings, grid, weather, daily)", t);
            return -1;
        }
        *out |= 1u << ds;
    }
    return *out ? 0 : -1;
}

static const char *type_name(enum mtr_pq_type t)
{
    switch (t) {
    case MTR_PQ_INT32:
        return "INT32";
    case MTR_PQ_INT64:
        return "INT64";
    case MTR_PQ_DOUBLE:
        return "DOUBLE";
    case MTR_PQ_BOOLEAN:
        return "BOOLEAN";
    case MTR_PQ_STRING:
        return "STRING";
    case MTR_PQ_TIMESTAMP_US:
        return "TIMESTAMP_MICROS_UTC";
    default:
        return "DATE";
    }
}

static int cmd_schema(struct mtr_cli *cli, int argc, char **argv)
{
    int only = -1;
    if (argc > 2 && (only = mtr_dataset_parse(argv[2])) < 0) {
        mtr_cli_error("export schema: unknown dataset '%s'", argv[2]);
        return MTR_EXIT_USAGE;
    }
    if (cli->json)
        printf("{");
    int first = 1;
    for (int ds = 0; ds < MTR_DS_COUNT; ds++) {
        if (only >= 0 && ds != only)
            continue;
        const struct mtr_pq_schema *s = mtr_export_schema((enum mtr_dataset)ds);
        if (cli->json)
            printf("%s\"%s\": [", first ? "" : ", ", mtr_dataset_name((enum mtr_dataset)ds));
        else
            printf("%s%s\n", first ? "" : "\n", mtr_dataset_name((enum mtr_dataset)ds));
        for (size_t i = 0; i < s->ncolumns; i++) {
            const struct mtr_pq_column_def *c = &s->columns[i];
            if (cli->json)
                printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"nullable\": %s}", i ? ", " : "",
                       c->name, type_name(c->type), c->nullable ? "true" : "false");
            else
                printf("  %-22s %-22s %s\n", c->name, type_name(c->type),
                       c->nullable ? "nullable" : "required");
        }
        if (cli->json)
            printf("]");
        first = 0;
    }
    if (cli->json)
        printf("}\n");
    return MTR_EXIT_OK;
}

static void on_file(void *ctx, const struct mtr_export_file *f)
{
    (void)ctx;
    fprintf(stderr, "  %s: %llu rows, %llu bytes\n", f->key, (unsigned long long)f->rows,
            (unsigned long long)f->bytes);
}

static int need_value(int i, int argc, char **argv)
{
    if (i + 1 >= argc) {
        mtr_cli_error("export lake: %s needs a value", argv[i]);
        return -1;
    }
    return 0;
}

static int cmd_lake(struct mtr_cli *cli, int argc, char **argv)
{
    struct mtr_export_opts o;
    struct mtr_s3_config s3;
    const char *to = NULL;
    mtr_export_opts_default(&o);
    mtr_s3_config_default(&s3);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--full") == 0) {
            o.full = 1;
            continue;
        }
        if (need_value(i, argc, argv))
            return MTR_EXIT_USAGE;
        const char *v = argv[++i];
        if (strcmp(a, "--to") == 0) {
            to = v;
        } else if (strcmp(a, "--datasets") == 0) {
            if (parse_datasets(v, &o.datasets))
                return MTR_EXIT_USAGE;
        } else if (strcmp(a, "--compression") == 0) {
            if (strcmp(v, "zstd") == 0) {
                o.codec = MTR_EXPORT_ZSTD;
            } else if (strcmp(v, "none") == 0) {
                o.codec = MTR_EXPORT_NONE;
            } else {
                mtr_cli_error("export lake: --compression %s: zstd or none (snappy is not built "
                              "in: Debian ships no libsnappy C headers by default)",
                              v);
                return MTR_EXIT_USAGE;
            }
        } else if (strcmp(a, "--zstd-level") == 0) {
            o.zstd_level = atoi(v);
            if (o.zstd_level < 1 || o.zstd_level > 19) {
                mtr_cli_error("export lake: --zstd-level must be 1..19");
                return MTR_EXIT_USAGE;
            }
        } else if (strcmp(a, "--row-group-rows") == 0) {
            long long n = atoll(v);
            if (n < 1) {
                mtr_cli_error("export lake: --row-group-rows must be positive");
                return MTR_EXIT_USAGE;
            }
            o.row_group_rows = (size_t)n;
        } else if (strcmp(a, "--s3-endpoint") == 0) {
            s3.endpoint = v;
        } else if (strcmp(a, "--s3-region") == 0) {
            s3.region = v;
        } else if (strcmp(a, "--s3-profile") == 0) {
            s3.profile = v;
        } else if (strcmp(a, "--multipart-threshold") == 0) {
            s3.multipart_threshold = (size_t)atoll(v);
        } else if (strcmp(a, "--part-size") == 0) {
            s3.part_size = (size_t)atoll(v);
        } else if (strcmp(a, "--retries") == 0) {
            s3.max_attempts = atoi(v);
        } else {
            mtr_cli_error("export lake: unknown option '%s'", a);
            usage(stderr);
            return MTR_EXIT_USAGE;
        }
    }
    if (!to || !*to) {
        mtr_cli_error("export lake: --to DIR|s3://BUCKET/PREFIX is required");
        return MTR_EXIT_USAGE;
    }
    struct mtr_errbuf eb = {{0}};
    struct mtr_lake *l = NULL;
    int rc;
    if (strncmp(to, "s3://", 5) == 0) {
        s3.url = to;
        rc = mtr_lake_s3_open(&s3, &l, &eb);
    } else {
        rc = mtr_lake_dir_open(to, &l, &eb);
    }
    if (rc) {
        mtr_cli_error("export lake: %s", eb.msg);
        return mtr_cli_exit_code(rc);
    }
    struct mtr_store *s;
    int ec = mtr_cli_open_store(cli, &s);
    if (ec != MTR_EXIT_OK) {
        l->ops->close(l);
        return ec;
    }
    if (cli->progress) {
        o.progress = on_file;
        fprintf(stderr, "exporting to %s\n", l->name);
    }
    struct mtr_export_stats st;
    rc = mtr_export_lake(s, l, &o, &st, &eb);
    if (rc) {
        mtr_cli_error("export lake: %s", eb.msg);
        ec = mtr_cli_exit_code(rc);
    }
    uint64_t files = 0, rows = 0, bytes = 0;
    for (int ds = 0; ds < MTR_DS_COUNT; ds++) {
        files += st.ds[ds].files;
        rows += st.ds[ds].rows;
        bytes += st.ds[ds].bytes;
    }
    if (cli->json) {
        printf("{\"destination\": \"%s\", \"ok\": %s, \"files\": %llu, \"rows\": %llu, "
               "\"bytes\": %llu, \"retries\": %llu, \"datasets\": {",
               l->name, rc ? "false" : "true", (unsigned long long)files, (unsigned long long)rows,
               (unsigned long long)bytes, (unsigned long long)l->retries);
        int first = 1;
        for (int ds = 0; ds < MTR_DS_COUNT; ds++) {
            const struct mtr_export_ds_stats *d = &st.ds[ds];
            if (!d->ran)
                continue;
            printf("%s\"%s\": {\"after\": %lld, \"upto\": %lld, \"files\": %llu, \"rows\": %llu, "
                   "\"bytes\": %llu}",
                   first ? "" : ", ", mtr_dataset_name((enum mtr_dataset)ds), (long long)d->after,
                   (long long)d->upto, (unsigned long long)d->files, (unsigned long long)d->rows,
                   (unsigned long long)d->bytes);
            first = 0;
        }
        printf("}}\n");
    } else if (!cli->quiet) {
        for (int ds = 0; ds < MTR_DS_COUNT; ds++) {
            const struct mtr_export_ds_stats *d = &st.ds[ds];
            if (d->ran)
                printf("%-9s %6llu files %12llu rows %14llu bytes  (changes %lld..%lld)\n",
                       mtr_dataset_name((enum mtr_dataset)ds), (unsigned long long)d->files,
                       (unsigned long long)d->rows, (unsigned long long)d->bytes,
                       (long long)d->after + 1, (long long)d->upto);
        }
        printf("total     %6llu files %12llu rows %14llu bytes to %s%s\n",
               (unsigned long long)files, (unsigned long long)rows, (unsigned long long)bytes,
               l->name, files ? "" : " (nothing new)");
        if (l->retries)
            printf("retried   %llu transient failures\n", (unsigned long long)l->retries);
    }
    s->ops->close(s);
    l->ops->close(l);
    return ec;
}

int mtr_cmd_export(struct mtr_cli *cli, int argc, char **argv)
{
    argc = mtr_cli_take_json(cli, argc, argv);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return MTR_EXIT_OK;
        }
    if (strcmp(argv[1], "lake") == 0)
        return cmd_lake(cli, argc, argv);
    if (strcmp(argv[1], "schema") == 0)
        return cmd_schema(cli, argc, argv);
    mtr_cli_error("export: unknown target '%s' (lake, schema)", argv[1]);
    return MTR_EXIT_USAGE;
}
