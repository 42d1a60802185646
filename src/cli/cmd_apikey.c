/*
 * cmd_apikey.c - `metrify apikey create|list|revoke`: API keys for `metrify serve`. A key is
 * printed once at creation; the store keeps only its SHA-256 (api/auth.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "app/ports.h"
#include "base/timeparse.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: metrify apikey create --role viewer|operator|admin [--name NAME]\n"
               "       metrify apikey list\n"
               "       metrify apikey revoke KEY_ID\n\n"
               "create  prints the new key once (store it: only its hash is kept)\n"
               "list    every key: id, role, name, created, revoked\n"
               "revoke  the key stops working (within 1 s on a running server)\n"
               "Roles: viewer reads (GET); operator also ingests and writes; admin also manages\n"
               "keys and maintenance.\n");
}

static int print_key(void *ctx, const struct mtr_apikey *k)
{
    const struct mtr_cli *cli = ctx;
    char c[24] = "", r[24] = "";
    mtr_time_format(k->created_at, c);
    if (k->revoked_at)
        mtr_time_format(k->revoked_at, r);
    if (cli->json)
        printf("{\"key_id\": \"%s\", \"role\": \"%s\", \"name\": \"%s\", \"created_at\": \"%s\", "
               "\"revoked_at\": %s%s%s}\n",
               k->id, mtr_api_role_name(k->role), k->name, c, r[0] ? "\"" : "", r[0] ? r : "null",
               r[0] ? "\"" : "");
    else
        printf("%-10s %-9s %-20s %s%s%s\n", k->id, mtr_api_role_name(k->role), k->name, c,
               r[0] ? "  revoked " : "", r);
    return 0;
}

int mtr_cmd_apikey(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MTR_EXIT_USAGE : MTR_EXIT_OK;
    }
    const char *op = argv[1];
    struct mtr_apikey k;
    memset(&k, 0, sizeof k);
    if (strcmp(op, "create") == 0) {
        static const struct option opts[] = {
            {"role", required_argument, 0, 'r'}, {"name", required_argument, 0, 'n'}, {0, 0, 0, 0}};
        int ch, role = -1;
        optind = 2;
        opterr = 0;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
            if (ch == 'r')
                role = mtr_api_role_parse(optarg);
            else if (ch == 'n')
                snprintf(k.name, sizeof k.name, "%s", optarg);
            else {
                mtr_cli_error("apikey create: unknown option '%s'", argv[optind - 1]);
                return MTR_EXIT_USAGE;
            }
        }
        if (role < 0 || optind < argc) {
            mtr_cli_error("apikey create: needs --role viewer|operator|admin");
            return MTR_EXIT_USAGE;
        }
        k.role = (enum mtr_role)role;
    } else if (strcmp(op, "revoke") == 0) {
        if (argc != 3) {
            mtr_cli_error("apikey revoke: needs a KEY_ID (see metrify apikey list)");
            return MTR_EXIT_USAGE;
        }
    } else if (strcmp(op, "list") != 0 || argc != 2) {
        mtr_cli_error("apikey: unknown operation or extra arguments: '%s'", op);
        usage(stderr);
        return MTR_EXIT_USAGE;
    }
    struct mtr_store *s;
    int ec = mtr_cli_open_store(cli, &s);
    if (ec != MTR_EXIT_OK)
        return ec;
    int rc = 0;
    if (strcmp(op, "create") == 0) {
        char key[MTR_API_KEY_LEN];
        if ((rc = mtr_api_key_generate(key, k.id)) == 0) {
            mtr_api_sha256_hex(key, strlen(key), k.hash);
            k.created_at = (int64_t)time(NULL);
            rc = s->ops->apikey_put(s, &k);
        }
        if (rc == 0) {
            if (cli->json)
                printf("{\"key\": \"%s\", \"key_id\": \"%s\", \"role\": \"%s\"}\n", key, k.id,
                       mtr_api_role_name(k.role));
            else
                printf("%s\n", key);
            if (!cli->quiet && !cli->json)
                fprintf(stderr, "metrify: created %s key %s; it is shown only now\n",
                        mtr_api_role_name(k.role), k.id);
        }
    } else if (strcmp(op, "revoke") == 0) {
        rc = s->ops->apikey_revoke(s, argv[2], (int64_t)time(NULL));
        if (rc == 0 && !cli->quiet)
            fprintf(stderr, "metrify: revoked key %s\n", argv[2]);
    } else {
        rc = s->ops->apikey_list(s, print_key, cli);
    }
    if (rc < 0) {
        mtr_cli_error("apikey %s: %s", op, s->err.msg[0] ? s->err.msg : mtr_strerror(rc));
        ec = mtr_cli_exit_code(rc);
    }
    s->ops->close(s);
    return ec;
}
