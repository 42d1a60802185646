/*
 * cmd_maintenance.c - `metrify maintenance vacuum|retention|check|backup`: store upkeep through
 * the maintenance ops of the store port.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/ports.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: metrify maintenance vacuum\n"
               "       metrify maintenance retention --older-than DURATION   (e.g. 365d, 90d)\n"
               "       metrify maintenance check\n"
               "       metrify maintenance backup FILE\n\n"
               "vacuum     reclaims space and refreshes the query planner's statistics\n"
               "retention  deletes readings, status, weather, rollups and alerts older than\n"
               "           now - DURATION, and quarantine entries rejected before it; prints\n"
               "           the number of deleted rows\n"
               "check      verifies integrity; exit 1 and one line per problem if any\n"
               "backup     writes a consistent copy of the store to FILE (online)\n");
}

static int print_problem(void *ctx, const char *problem)
{
    int *n = ctx;
    (*n)++;
    printf("problem: %s\n", problem);
    return 0;
}

int mtr_cmd_maintenance(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    const char *op = argv[1];
    int64_t older = 0;
    const char *path = NULL;
    if (strcmp(op, "retention") == 0) {
        if (argc != 4 || strcmp(argv[2], "--older-than") != 0 ||
            mtr_cli_parse_duration(argv[3], &older) < 0) {
            mtr_cli_error("maintenance retention: needs --older-than DURATION (e.g. 365d)");
            return MTR_EXIT_USAGE;
        }
    } else if (strcmp(op, "backup") == 0) {
        if (argc != 3) {
            mtr_cli_error("maintenance backup: needs a FILE");
            return MTR_EXIT_USAGE;
        }
        path = argv[2];
    } else if ((strcmp(op, "vacuum") != 0 && strcmp(op, "check") != 0) || argc != 2) {
        mtr_cli_error("maintenance: unknown operation or extra arguments: '%s'", op);
        usage(stderr);
        return MTR_EXIT_USAGE;
    }
    struct mtr_store *s;
    int ec = mtr_cli_open_store(cli, &s);
    if (ec != MTR_EXIT_OK)
        return ec;
    int rc = 0, problems = 0;
    int64_t deleted = 0;
    if (strcmp(op, "vacuum") == 0)
        rc = s->ops->vacuum(s);
    else if (strcmp(op, "retention") == 0)
        rc = s->ops->retention(s, (int64_t)time(NULL) - older, &deleted);
    else if (strcmp(op, "check") == 0)
        rc = s->ops->check(s, print_problem, &problems);
    else
        rc = s->ops->backup(s, path);
    if (rc < 0 && !(strcmp(op, "check") == 0 && problems)) {
        mtr_cli_error("maintenance %s: %s", op, s->err.msg);
        ec = mtr_cli_exit_code(rc);
    } else if (cli->json) {
        printf("{\"operation\": \"%s\", \"ok\": %s, \"problems\": %d, \"deleted\": %lld}\n", op,
               problems ? "false" : "true", problems, (long long)deleted);
    } else if (!cli->quiet) {
        if (strcmp(op, "retention") == 0)
            printf("retention: deleted %lld rows\n", (long long)deleted);
        else if (strcmp(op, "check") == 0)
            printf("check: %s\n", problems ? "problems found" : "ok");
        else
            printf("%s: ok\n", op);
    }
    if (problems && ec == MTR_EXIT_OK)
        ec = MTR_EXIT_PROBLEMS;
    s->ops->close(s);
    return ec;
}
