/*
 * api.h - the REST API server behind `metrify serve`: HTTP/1.1 + JSON over libmicrohttpd (its
 * internal thread pool on epoll), on the same store and use cases as the CLI. Routes, auth,
 * errors, metrics, the access log and the OpenAPI document are described in docs/api.md.
 */
#ifndef MTR_API_H
#define MTR_API_H

#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

struct mtr_api_config {
    const char *db;             /* store location (borrowed), as for the CLI's --db */
    const char *listen_host;    /* "127.0.0.1" */
    int port;                   /* 0 = any free port (the bound one is printed) */
    int threads;                /* worker threads of the pool; 0 = 4 */
    int64_t max_body;           /* request body limit in bytes; 0 = 16 MiB */
    double rate_limit;          /* requests per second per key; 0 = unlimited */
    double rate_burst;          /* requests a key may burst; 0 = rate_limit */
    int timeout_s;              /* idle connection timeout; 0 = 30 */
    int64_t request_timeout_ms; /* processing deadline of one request; 0 = 30 s */
    double metrics_cache_s;     /* max age of the store figures of /metrics; default 10, 0 = none */
    const char *cors_origin;    /* allowed origins, comma separated, "*" = any; NULL = no CORS */
    int public_health;          /* /health, /ready and /metrics need no key */
    const char *jwt_secret;     /* HS256 secret for JWT bearer tokens, NULL = JWT off */
    const char *access_log;     /* file path, "-" = stdout, NULL = none */
    int strict_meters;          /* quarantine readings of unregistered meters */
    FILE *announce;             /* where "listening on http://HOST:PORT" goes (borrowed) */
};

/* Fills c with the defaults above (db and announce NULL). */
void mtr_api_config_default(struct mtr_api_config *c);

/*
 * Runs the server until SIGTERM or SIGINT: then it stops accepting connections, lets in-flight
 * requests finish (up to 30 s), flushes the access log and returns 0. Every ingest request is
 * committed before it is answered, so nothing acknowledged is lost. Blocks SIGTERM/SIGINT/SIGPIPE
 * in the calling thread (and so in the server's threads). Returns a negative MTR_E* with eb filled
 * when the store cannot be opened or the port cannot be bound.
 */
int mtr_api_serve(const struct mtr_api_config *c, struct mtr_errbuf *eb);

#endif
