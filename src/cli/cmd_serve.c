/*
 * cmd_serve.c - `metrify serve`: runs the REST API (src/api) on the store, until SIGTERM/SIGINT.
 * Defaults come from the configuration's api section (docs/configuration.md: file, then
 * METRIFY_API_* environment overrides); the command line wins.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app/config.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fputs(
        "usage: metrify serve [--listen HOST:PORT] [--threads N] [--max-body SIZE]\n"
        "                     [--rate-limit N/s [--rate-burst N]] [--cors ORIGINS]\n"
        "                     [--public-health | --no-public-health] [--jwt-secret-env VAR]\n"
        "                     [--access-log FILE|-|none] [--timeout SECS]\n"
        "                     [--request-timeout TIME] [--metrics-cache SECS] [--strict-meters]\n\n"
        "Serves the REST API (docs/api.md; /docs and /openapi.json on the server) until\n"
        "SIGTERM or SIGINT, then finishes in-flight requests and exits 0. Defaults come from\n"
        "the configuration (api.* keys, METRIFY_API_* variables; docs/configuration.md).\n\n"
        "  --listen HOST:PORT    IPv4 address and port (api.listen, 127.0.0.1:8080); port 0 =\n"
        "                        any free port; the bound one is printed on stderr\n"
        "  --threads N           worker threads (api.threads, 4)\n"
        "  --max-body SIZE       request body limit, e.g. 16m, 512k (api.max_body, 16m)\n"
        "  --rate-limit N/s      requests per second per API key (api.rate_limit, off)\n"
        "  --rate-burst N        requests a key may burst (api.rate_burst; with --rate-limit\n"
        "                        and without this option: as many as the rate)\n"
        "  --cors ORIGINS        allowed origins, comma separated, * = any (api.cors, off)\n"
        "  --public-health       /health, /ready and /metrics need no key (api.public_health)\n"
        "  --no-public-health    they need a viewer key\n"
        "  --jwt-secret-env VAR  accept HS256 JWTs signed with the secret in $VAR (default:\n"
        "                        $METRIFY_API_JWT_SECRET when set); claims role, exp, sub, nbf\n"
        "  --access-log FILE|-|none  one JSON line per request (METRIFY_API_ACCESS_LOG;\n"
        "                        default -: stdout)\n"
        "  --timeout SECS        idle connection timeout (METRIFY_API_TIMEOUT, 30)\n"
        "  --request-timeout TIME  processing limit of one request, e.g. 30s, 500ms\n"
        "                        (METRIFY_API_REQUEST_TIMEOUT, 30s): past it a request is\n"
        "                        stopped and answered 503 request_timeout, nothing stored\n"
        "  --metrics-cache SECS  how old the store figures of /metrics may be (anomalies,\n"
        "                        rows, size; METRIFY_API_METRICS_CACHE, 10)\n"
        "  --strict-meters       quarantine readings of unregistered meters\n"
        "Keys: metrify apikey create --role viewer|operator|admin\n",
        f);
}

static int parse_size(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    int64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024 * 1024 * 1024, end++;
    if (end == s || *end || v <= 0)
        return -1;
    *out = (int64_t)(v * (double)mul);
    return 0;
}

static int parse_listen(const char *s, struct mtr_api_config *c, char *host, size_t cap)
{
    const char *colon = strrchr(s, ':');
    char *end;
    if (!colon || (size_t)(colon - s) >= cap)
        return -1;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    c->listen_host = host[0] ? host : "127.0.0.1";
    c->port = (int)port;
    return 0;
}

/* A duration: a number of seconds, or with the unit s or ms ("30", "30s", "500ms"). */
static int parse_ms(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    double mul = 1000;
    if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    if (end == s || !(v > 0) || v * mul < 1 || v * mul > 86400e3)
        return -1;
    *out = (int64_t)(v * mul);
    return 0;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int mtr_cmd_serve(struct mtr_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"threads", required_argument, 0, 't'},
                                         {"max-body", required_argument, 0, 'b'},
                                         {"rate-limit", required_argument, 0, 'r'},
                                         {"rate-burst", required_argument, 0, 'B'},
                                         {"cors", required_argument, 0, 'c'},
                                         {"public-health", no_argument, 0, 'p'},
                                         {"no-public-health", no_argument, 0, 'P'},
                                         {"jwt-secret-env", required_argument, 0, 'j'},
                                         {"access-log", required_argument, 0, 'a'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"request-timeout", required_argument, 0, 'R'},
                                         {"metrics-cache", required_argument, 0, 'M'},
                                         {"strict-meters", no_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct mtr_api_config c;
    char host[64];
    const char *listen = NULL, *threads = NULL, *max_body = NULL, *rate = NULL, *burst = NULL,
               *jwt_env = NULL, *timeout = env("METRIFY_API_TIMEOUT"),
               *req_timeout = env("METRIFY_API_REQUEST_TIMEOUT"),
               *metrics_cache = env("METRIFY_API_METRICS_CACHE");
    mtr_api_config_default(&c);
    c.db = cli->db;
    c.announce = stderr;
    c.access_log = env("METRIFY_API_ACCESS_LOG") ? env("METRIFY_API_ACCESS_LOG") : "-";
    if (cli->config) { /* the configuration's api section: file, then METRIFY_API_* */
        const struct mtr_config *cf = cli->config;
        listen = cf->api.listen[0] ? cf->api.listen : NULL;
        c.threads = (int)cf->api.threads;
        c.max_body = cf->api.max_body;
        c.rate_limit = cf->api.rate_limit;
        c.rate_burst = (double)cf->api.rate_burst;
        c.cors_origin = cf->api.cors[0] ? cf->api.cors : NULL;
        c.public_health = cf->api.public_health;
        c.jwt_secret = cf->secrets.jwt_secret[0] ? cf->secrets.jwt_secret : NULL;
    }
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            listen = optarg;
            break;
        case 't':
            threads = optarg;
            break;
        case 'b':
            max_body = optarg;
            break;
        case 'r':
            rate = optarg;
            break;
        case 'B':
            burst = optarg;
            break;
        case 'c':
            c.cors_origin = optarg;
            break;
        case 'p':
            c.public_health = 1;
            break;
        case 'P':
            c.public_health = 0;
            break;
        case 'j':
            jwt_env = optarg;
            break;
        case 'a':
            c.access_log = strcmp(optarg, "none") == 0 ? NULL : optarg;
            break;
        case 'T':
            timeout = optarg;
            break;
        case 'R':
            req_timeout = optarg;
            break;
        case 'M':
            metrics_cache = optarg;
            break;
        case 's':
            c.strict_meters = 1;
            break;
        case 'h':
            usage(stdout);
            return MTR_EXIT_OK;
        default:
            mtr_cli_error("serve: unknown option or missing value '%s' (see --help)",
                          argv[optind - 1]);
            return MTR_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        mtr_cli_error("serve: unexpected argument '%s'", argv[optind]);
        return MTR_EXIT_USAGE;
    }
    if (listen && parse_listen(listen, &c, host, sizeof host) < 0) {
        mtr_cli_error("serve: --listen must be HOST:PORT, got '%s'", listen);
        return MTR_EXIT_USAGE;
    }
    if (threads && ((c.threads = atoi(threads)) < 1 || c.threads > 256)) {
        mtr_cli_error("serve: --threads must be 1..256, got '%s'", threads);
        return MTR_EXIT_USAGE;
    }
    if (max_body && parse_size(max_body, &c.max_body) < 0) {
        mtr_cli_error("serve: --max-body must be a size such as 16m or 512k, got '%s'", max_body);
        return MTR_EXIT_USAGE;
    }
    if (rate) {
        char *end;
        c.rate_limit = strtod(rate, &end);
        if (end == rate || (*end && strcmp(end, "/s") != 0) || c.rate_limit <= 0) {
            mtr_cli_error("serve: --rate-limit must be N/s (N > 0), got '%s'", rate);
            return MTR_EXIT_USAGE;
        }
        c.rate_burst = 0; /* a rate from the command line: a burst of the same size */
    }
    if (burst && ((c.rate_burst = atof(burst)) < 1)) {
        mtr_cli_error("serve: --rate-burst must be a number of requests >= 1, got '%s'", burst);
        return MTR_EXIT_USAGE;
    }
    if (timeout && ((c.timeout_s = atoi(timeout)) < 1)) {
        mtr_cli_error("serve: --timeout must be a positive number of seconds, got '%s'", timeout);
        return MTR_EXIT_USAGE;
    }
    if (req_timeout && parse_ms(req_timeout, &c.request_timeout_ms) < 0) {
        mtr_cli_error("serve: --request-timeout must be a duration such as 30s or 500ms "
                      "(1 ms .. 24 h), got '%s'",
                      req_timeout);
        return MTR_EXIT_USAGE;
    }
    if (metrics_cache) {
        char *end;
        c.metrics_cache_s = strtod(metrics_cache, &end);
        if (end == metrics_cache || *end || !(c.metrics_cache_s >= 0) || c.metrics_cache_s > 3600) {
            mtr_cli_error("serve: --metrics-cache must be seconds in 0..3600, got '%s'",
                          metrics_cache);
            return MTR_EXIT_USAGE;
        }
    }
    if (jwt_env) {
        c.jwt_secret = env(jwt_env);
        if (!c.jwt_secret || strlen(c.jwt_secret) < 16) {
            mtr_cli_error("serve: --jwt-secret-env: $%s must hold a secret of at least 16 bytes",
                          jwt_env);
            return MTR_EXIT_USAGE;
        }
    }
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_api_serve(&c, &eb);
    if (rc < 0) {
        mtr_cli_error("serve: %s", eb.msg[0] ? eb.msg : mtr_strerror(rc));
        return mtr_cli_exit_code(rc);
    }
    return MTR_EXIT_OK;
}
