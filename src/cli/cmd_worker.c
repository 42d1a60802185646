/*
 * cmd_worker.c - `metrify worker process|monitor`: dispatches to the background workers
 * (cmd_worker_jobs.c). `worker ingest` (Kafka/MQTT) joins this table when it is merged.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: metrify worker process [--once] [--now TIME] [--run JOB] [--metrics-file F]\n"
            "       metrify worker monitor [--once] [--now TIME] [--metrics-file F]\n\n"
            "process  runs the scheduled jobs of the configuration (worker.jobs) at their cron\n"
            "         times: rollup catch-up, daily quality report, retention, commands\n"
            "monitor  checks the store's health and raises the monitor.* alerts every\n"
            "         monitor.interval\n\n"
            "SIGTERM or SIGINT: finish the current job or batch, commit, exit 0.\n"
            "Run `metrify worker process --help` for the options.\n");
}

int mtr_cmd_worker(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    if (strcmp(argv[1], "process") == 0)
        return mtr_cmd_worker_process(cli, argc - 1, argv + 1);
    if (strcmp(argv[1], "monitor") == 0)
        return mtr_cmd_worker_monitor(cli, argc - 1, argv + 1);
    mtr_cli_error("worker: unknown worker '%s' (process, monitor)", argv[1]);
    usage(stderr);
    return MTR_EXIT_USAGE;
}
