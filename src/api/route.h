/*
 * route.h - the API's one route table and what a handler sees. The table (routes.c) is a static
 * array from which the router matches requests, /openapi.json is generated and /docs rendered,
 * so the served routes and the document cannot drift. Handlers are thin: they read the request
 * through the accessors below, call use cases (src/app) and store ops, and write JSON.
 */
#ifndef MTR_API_ROUTE_H
#define MTR_API_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "app/ports.h"
#include "base/jsonw.h"

#define MTR_API_MAX_PARAMS 3

/* One declared parameter; the server rejects undeclared query parameters with 400. */
struct mtr_api_param {
    const char *name;
    const char *in;   /* "path" or "query" */
    const char *type; /* "string", "integer", "number", "boolean" */
    int required;
    const char *desc;
    const char *choices; /* comma-separated enum values, or NULL */
    const char *format;  /* OpenAPI format ("date-time"), or NULL */
};

struct mtr_api_req;
typedef int (*mtr_api_handler)(struct mtr_api_req *r);

/* Route flags */
#define MTR_API_HEALTH 1 /* public when the server runs with --public-health */
#define MTR_API_BODY   2 /* takes a request body */
#define MTR_API_NDJSON 4 /* the body may also be application/x-ndjson */

struct mtr_api_route {
    const char *method;  /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern; /* "/api/v1/smart-meters/{meter_id}" */
    enum mtr_role role;  /* least role allowed; MTR_ROLE_NONE = public */
    mtr_api_handler fn;
    const char *tag, *summary;
    const struct mtr_api_param *params; /* terminated by an entry with name NULL; may be NULL */
    const char *body_schema;            /* components/schemas name of the body, or NULL */
    int status;                         /* success status */
    const char *resp_schema;            /* components/schemas name of the success body, or NULL */
    const char *resp_type;              /* success media type; NULL = application/json */
    int flags;
};

/* The table and its size. */
extern const struct mtr_api_route mtr_api_routes[];
extern const size_t mtr_api_route_count;

/*
 * Finds the route for method + path (no query string). Returns its index and fills the path
 * parameters (percent-decoded, each at most MTR_API_PARAM_MAX-1 bytes) into vals; returns -1 when
 * no pattern matches the path (404) and -2 when a pattern matches but not for this method (405;
 * *allow then lists the methods, comma-separated, into a buffer of allow_cap bytes).
 */
#define MTR_API_PARAM_MAX 128
int mtr_api_route_match(const char *method, const char *path,
                        char vals[MTR_API_MAX_PARAMS][MTR_API_PARAM_MAX], char *allow,
                        size_t allow_cap);

/* The request as a handler sees it (built by server.c). */
struct mtr_api_server;
struct mtr_api_req {
    const struct mtr_api_route *route;
    int route_index;
    const char *method, *path;
    char pv[MTR_API_MAX_PARAMS][MTR_API_PARAM_MAX]; /* path parameter values, in pattern order */
    const char *body;
    size_t body_len;
    const char *content_type; /* NULL when absent */
    enum mtr_role role;
    char key_id[64];
    char request_id[72];
    struct mtr_store *store; /* the worker thread's own handle */
    struct mtr_api_server *srv;
    void *conn; /* struct MHD_Connection */
    /* response */
    int status;
    struct mtr_jw out;     /* the JSON body */
    const char *resp_type; /* NULL = application/json */
    int retry_after;       /* > 0: a Retry-After header */
    char allow[64];        /* 405: the Allow header */
    /* processing deadline (--request-timeout), monotonic ns; see mtr_api_over() */
    int64_t deadline_ns;
    unsigned ticks;
    int timed_out;
};

/*
 * The processing deadline. Handlers call mtr_api_over() in every loop over stored rows (it reads
 * the clock on every 64th call only) and stop when it returns 1; mtr_api_over_now() reads the
 * clock every time (between stages of a write). Once either returned 1 the server replaces
 * whatever the handler wrote with 503 request_timeout (+ Retry-After), so a handler only stops:
 * it must not have committed anything (an ingest checks before its commit, never after).
 * mtr_api_over() needs no argument: it applies to the request the calling worker thread serves.
 */
int mtr_api_over(void);
int mtr_api_over_now(struct mtr_api_req *r);
/* Takes the server's write lock, waiting at most until r's deadline: 0 when taken, -1 when the
 * deadline passed first (r has timed out; nothing was done). */
int mtr_api_write_lock(struct mtr_api_req *r);
void mtr_api_write_unlock(struct mtr_api_req *r);

/* A query parameter's value (NULL when absent). */
const char *mtr_api_query(struct mtr_api_req *r, const char *name);

/*
 * Writes the one error shape {"error":{"code","message","details"}} with HTTP status `status`
 * into r (replacing anything written). `details` is raw JSON text or NULL (then {}). Returns 0 so
 * handlers can `return mtr_api_error(...)`.
 */
int mtr_api_error(struct mtr_api_req *r, int status, const char *code, const char *details,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Maps a store/use-case error code to an API error (404 not_found, 409 conflict, ...). */
int mtr_api_fail(struct mtr_api_req *r, int rc, const char *what);

/* Query parameter helpers: 0 when absent (default kept), 1 when set, or -1 after writing a 400
 * error into r (wrong type, out of range). */
int mtr_api_q_int(struct mtr_api_req *r, const char *name, int64_t lo, int64_t hi, int64_t *out);
int mtr_api_q_num(struct mtr_api_req *r, const char *name, double lo, double hi, double *out);
int mtr_api_q_time(struct mtr_api_req *r, const char *name, int64_t *out);
int mtr_api_q_bool(struct mtr_api_req *r, const char *name, int *out);
/* A choice from a comma-separated list: *out = its index. */
int mtr_api_q_choice(struct mtr_api_req *r, const char *name, const char *choices, int *out);

/* Parses the JSON body into a new jansson value (caller decrefs); on failure writes 400/415 into
 * r and returns NULL. */
struct json_t;
struct json_t *mtr_api_body_json(struct mtr_api_req *r);

/* Serialises meters, operators and stations the same way everywhere. */
void mtr_api_write_meter(struct mtr_jw *w, const struct mtr_meter *m, const char *tier);
void mtr_api_write_operator(struct mtr_jw *w, const struct mtr_operator *o);
void mtr_api_write_station(struct mtr_jw *w, const struct mtr_station *s);

/* Runs a batch body (JSON array/object or NDJSON) of `kind` through the ingest use case and
 * writes the result; `entity` (may be NULL) is the id taken from the path. */
int mtr_api_ingest(struct mtr_api_req *r, enum mtr_kind kind, const char *entity);

/* The generated documents (for handlers of /openapi.json and /docs). */
void mtr_api_openapi(struct mtr_jw *w);
void mtr_api_docs_html(struct mtr_jw *w); /* raw HTML written through the buffer */

#endif
