/*
 * cmd_demo.c - `metrify demo`: the main job end to end on the embedded store. Simulates a fleet
 * with labelled faults (master data, readings, grid status, weather), imports and ingests it,
 * then prints the quality, anomaly and daily summaries. It only chains the other commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: metrify [--db PATH] demo [--out DIR] [--meters N] [--days D] [--seed S]\n\n"
               "Simulates N meters (default 1000) over D days (default 30) at 15 minutes with\n"
               "labelled faults into DIR (default ./demo), imports and ingests everything into\n"
               "the store, and prints quality, anomaly and daily summaries.\n");
}

static int run(struct mtr_cli *cli, mtr_cli_fn fn, const char *title, int argc, const char **argv)
{
    if (title)
        printf("\n== %s\n", title);
    fflush(stdout);
    char *args[24];
    for (int i = 0; i < argc && i < 23; i++)
        args[i] = (char *)argv[i];
    args[argc] = NULL;
    int ec = fn(cli, argc, args);
    fflush(stdout);
    return ec == MTR_EXIT_PROBLEMS ? MTR_EXIT_OK : ec;
}

int mtr_cmd_demo(struct mtr_cli *cli, int argc, char **argv)
{
    const char *out = "demo", *meters = "1000", *days = "30", *seed = "1";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return MTR_EXIT_OK;
        } else if (i + 1 < argc && strcmp(argv[i], "--out") == 0) {
            out = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--meters") == 0) {
            meters = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--days") == 0) {
            days = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) {
            seed = argv[++i];
        } else {
            mtr_cli_error("demo: unknown argument '%s'", argv[i]);
            usage(stderr);
            return MTR_EXIT_USAGE;
        }
    }
    if (mkdir(out, 0755) < 0 && access(out, W_OK) != 0) {
        mtr_cli_error("demo: cannot create directory %s", out);
        return MTR_EXIT_IO;
    }
    char readings[512], labels[512], grid[512], weather[512], mfile[512], ofile[512], sfile[512];
    snprintf(readings, sizeof readings, "%s/readings.csv", out);
    snprintf(labels, sizeof labels, "%s/labels.csv", out);
    snprintf(grid, sizeof grid, "%s/grid.csv", out);
    snprintf(weather, sizeof weather, "%s/weather.csv", out);
    snprintf(mfile, sizeof mfile, "%s/meters.csv", out);
    snprintf(ofile, sizeof ofile, "%s/operators.csv", out);
    snprintf(sfile, sizeof sfile, "%s/stations.csv", out);
    int json = cli->json;
    cli->json = 0;
    int ec;
    const char *sim[] = {"simulate", "--meters",  meters,   "--days",   days,   "--seed",
                         seed,       "--out",     readings, "--labels", labels, "--grid",
                         grid,       "--weather", weather,  "--master", out};
    if ((ec = run(cli, mtr_cmd_simulate, "simulate", (int)(sizeof sim / sizeof sim[0]), sim)) !=
        MTR_EXIT_OK)
        return ec;
    const char *im[] = {"import", "meters", mfile};
    const char *io[] = {"import", "operators", ofile};
    const char *is[] = {"import", "stations", sfile};
    if ((ec = run(cli, mtr_cmd_import, "import master data", 3, im)) != MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_import, NULL, 3, io)) != MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_import, NULL, 3, is)) != MTR_EXIT_OK)
        return ec;
    const char *ir[] = {"ingest", "readings", readings};
    const char *ig[] = {"ingest", "grid", grid};
    const char *iw[] = {"ingest", "weather", weather};
    if ((ec = run(cli, mtr_cmd_ingest, "ingest readings", 3, ir)) != MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_ingest, "ingest grid status", 3, ig)) != MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_ingest, "ingest weather", 3, iw)) != MTR_EXIT_OK)
        return ec;
    const char *q[] = {"quality"};
    const char *a[] = {"anomalies", "--level", "critical", "--limit", "10"};
    const char *d[] = {"analytics", "daily", "--meter", "SM000000"};
    if ((ec = run(cli, mtr_cmd_quality, "data quality", 1, q)) != MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_anomalies, "critical anomalies (first 10)", 5, a)) != MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_analytics, "daily consumption of SM000000", 4, d)) != MTR_EXIT_OK)
        return ec;
    const char *g[] = {"analytics", "grid"};
    const char *w[] = {"analytics", "weather-impact", "--no-meters"};
    if ((ec = run(cli, mtr_cmd_analytics, "grid operators: health and daily performance", 2, g)) !=
            MTR_EXIT_OK ||
        (ec = run(cli, mtr_cmd_analytics, "weather impact (fleet)", 3, w)) != MTR_EXIT_OK)
        return ec;
    cli->json = json;
    printf("\nDone. Store: %s. Try: metrify --db %s anomalies --meter SM000001\n"
           "Fault labels for scoring: %s (python3 tests/tools/score_detection.py %s A.json)\n",
           cli->db, cli->db, labels, labels);
    return MTR_EXIT_OK;
}
