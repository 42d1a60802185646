/*
 * server.c - the HTTP glue of `metrify serve` on libmicrohttpd: worker threads each running a
 * daemon on epoll over one listening socket (each thread has its own store handle, opened lazily,
 * and answers the GETs of an event-loop pass from one read snapshot), the request life cycle
 * (route, auth, rate limit, body, dispatch, respond), request ids, CORS, the JSON access log,
 * metrics and the graceful stop on SIGTERM/SIGINT.
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/store_open.h"
#include "api/route.h"
#include "base/timeparse.h"

void mtr_api_config_default(struct mtr_api_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen_host = "127.0.0.1";
    c->port = 8080;
    c->threads = 4;
    c->max_body = 16 << 20;
    c->timeout_s = 30;
    c->request_timeout_ms = 30000;
    c->metrics_cache_s = 10;
}

int64_t mtr_api_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* libmicrohttpd's per-connection memory pool (headers, read buffer). It is cleared between
 * requests (libmicrohttpd zeroes all of it), so a large pool costs a memset per request: at
 * 256 KiB that was 16 % of a GET's CPU, at 32 KiB 3 %. 16 KiB holds any sane header block (a
 * larger one is refused by libmicrohttpd); bodies stream through it. */
#define MHD_POOL_BYTES ((size_t)16 * 1024)

/* One request in flight (MHD's per-request context). */
struct creq {
    struct mtr_api_req r;
    char *body;
    size_t len, cap;
    int too_large, answered, early;
    int64_t start_ns;
    size_t resp_bytes;
    char path[1024];
};

/* ---------------- the worker thread's store ---------------- */

static __thread struct mtr_store *tls_store;

static void close_thread_store(void *p)
{
    struct mtr_store *s = p;
    if (s)
        s->ops->close(s);
}

static struct mtr_store *thread_store(struct mtr_api_server *srv, struct mtr_errbuf *eb)
{
    if (!tls_store) {
        if (mtr_store_open(srv->cfg.db, &tls_store, eb) < 0) {
            tls_store = NULL;
            return NULL;
        }
        pthread_setspecific(srv->store_key, tls_store);
    }
    return tls_store;
}

/* ---------------- the worker thread's read snapshot ---------------- */

/* A worker thread answers the GETs of one event-loop pass from one read snapshot of its store
 * (read_hold): SQLite's read lock then costs one lock round per pass, not one per request (three
 * system calls and a contended mutex, 15-20 % of a GET's CPU). What a GET sees stays fresh:
 * - the pass's snapshot is released when the pass ends, and replaced once it is SNAP_MAX_NS
 *   old, so writes by other processes are visible to requests read after that;
 * - every write through this server bumps srv->write_gen before its answer goes out, and a GET
 *   that finds the generation moved takes a new snapshot: what a client was told is stored,
 *   its next request sees, whichever thread serves it. */
#define SNAP_MAX_NS ((int64_t)1000000)

static __thread int tls_snap;          /* a snapshot is held */
static __thread uint64_t tls_snap_gen; /* srv->write_gen when it was taken */
static __thread int64_t tls_snap_ns;   /* and the start of the request that took it */

static void snapshot_release(void)
{
    if (tls_snap && tls_store)
        tls_store->ops->read_release(tls_store);
    tls_snap = 0;
}

/* Only GET routes read and nothing else; every other method may write. */
static int route_reads(const struct mtr_api_route *rt)
{
    return rt->method[0] == 'G';
}

/* Before the handler of request q runs: a snapshot for a GET, none for a write. */
static void snapshot_for(struct mtr_api_server *srv, struct creq *q)
{
    struct mtr_store *st = q->r.store;
    if (!st->ops->read_hold)
        return;
    if (!route_reads(q->r.route)) {
        snapshot_release();
        return;
    }
    uint64_t gen = __atomic_load_n(&srv->write_gen, __ATOMIC_ACQUIRE);
    if (tls_snap && (gen != tls_snap_gen || q->start_ns - tls_snap_ns > SNAP_MAX_NS))
        snapshot_release();
    if (!tls_snap && st->ops->read_hold(st) == 0) {
        tls_snap = 1;
        tls_snap_gen = gen;
        tls_snap_ns = q->start_ns;
    }
}

/* ---------------- the processing deadline ---------------- */

static __thread struct mtr_api_req *tls_req; /* the request this worker thread is handling */

int mtr_api_over_now(struct mtr_api_req *r)
{
    if (!r->timed_out && mtr_api_now_ns() >= r->deadline_ns)
        r->timed_out = 1;
    return r->timed_out;
}

int mtr_api_over(void)
{
    struct mtr_api_req *r = tls_req;
    if (!r)
        return 0;
    if (r->timed_out)
        return 1;
    if (++r->ticks & 63)
        return 0;
    return mtr_api_over_now(r);
}

int mtr_api_write_lock(struct mtr_api_req *r)
{
    struct timespec ts = {.tv_sec = (time_t)(r->deadline_ns / 1000000000),
                          .tv_nsec = (long)(r->deadline_ns % 1000000000)};
    /* CLOCK_MONOTONIC, as mtr_api_now_ns: a wall-clock step moves no deadline */
    int e = pthread_mutex_clocklock(&r->srv->write_mu, CLOCK_MONOTONIC, &ts);
    if (e == 0)
        return 0;
    r->timed_out = 1;
    return -1;
}

void mtr_api_write_unlock(struct mtr_api_req *r)
{
    pthread_mutex_unlock(&r->srv->write_mu);
}

/* ---------------- response buffers ---------------- */

/* Response bodies are recycled per worker thread: a GET of a day of readings writes ~20 KB, and
 * growing a fresh buffer for each costs more in page faults than writing the JSON. MHD frees a
 * response on the thread of its connection, so the pool needs no lock. */
#define POOL_MAX     8
#define POOL_BUF_MAX ((size_t)1 << 20)
static __thread struct {
    char *buf[POOL_MAX];
    int n;
} pool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int pool_off; /* set while stopping: buffers are then freed, not kept */

static void pool_destroy(void *unused)
{
    for (int i = 0; i < pool.n; i++)
        free(pool.buf[i]);
    pool.n = 0;
}

static void pool_init(void)
{
    pthread_key_create(&pool_key, pool_destroy);
}

static void pool_give(void *p)
{
    if (!p)
        return;
    if (__atomic_load_n(&pool_off, __ATOMIC_RELAXED) || pool.n == POOL_MAX ||
        malloc_usable_size(p) > POOL_BUF_MAX) {
        free(p);
        return;
    }
    if (!pool.n)
        pthread_setspecific(pool_key, &pool); /* so that thread exit frees the pool */
    pool.buf[pool.n++] = p;
}

static void pool_take(struct mtr_jw *w)
{
    if (pool.n && !__atomic_load_n(&pool_off, __ATOMIC_RELAXED)) {
        char *b = pool.buf[--pool.n];
        mtr_jw_adopt(w, b, malloc_usable_size(b));
    } else {
        mtr_jw_init(w);
    }
}

/* ---------------- errors ---------------- */

int mtr_api_error(struct mtr_api_req *r, int status, const char *code, const char *details,
                  const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mtr_jw_reset(&r->out);
    r->resp_type = NULL;
    r->status = status;
    mtr_jw_obj(&r->out);
    mtr_jw_key(&r->out, "error");
    mtr_jw_obj(&r->out);
    mtr_jw_kstr(&r->out, "code", code);
    mtr_jw_kstr(&r->out, "message", msg);
    mtr_jw_key(&r->out, "details");
    if (details)
        mtr_jw_raw(&r->out, details, strlen(details));
    else
        mtr_jw_raw(&r->out, "{}", 2);
    mtr_jw_end_obj(&r->out);
    mtr_jw_end_obj(&r->out);
    mtr_jw_append(&r->out, "\n", 1);
    return 0;
}

int mtr_api_fail(struct mtr_api_req *r, int rc, const char *what)
{
    const char *m = r->store && r->store->err.msg[0] ? r->store->err.msg : mtr_strerror(rc);
    switch (rc) {
    case MTR_ENOTFOUND:
        return mtr_api_error(r, 404, "not_found", NULL, "%s", m);
    case MTR_EEXIST:
        return mtr_api_error(r, 409, "conflict", NULL, "%s", m);
    case MTR_ECONFLICT:
        return mtr_api_error(r, 409, "conflict", NULL, "%s", m);
    case MTR_EINVAL:
    case MTR_ERANGE:
    case MTR_EPARSE:
        return mtr_api_error(r, 422, "invalid", NULL, "%s", m);
    case MTR_EUNSUPPORTED:
        return mtr_api_error(r, 501, "unsupported", NULL, "%s", m);
    default:
        return mtr_api_error(r, 500, "internal", NULL, "%s failed: %s", what, m);
    }
}

/* ---------------- query parameters ---------------- */

const char *mtr_api_query(struct mtr_api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int mtr_api_q_int(struct mtr_api_req *r, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = mtr_api_query(r, name);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) {
        mtr_api_error(r, 400, "bad_parameter", NULL,
                      "query parameter %s must be an integer in [%lld, %lld], got '%s'", name,
                      (long long)lo, (long long)hi, v);
        return -1;
    }
    *out = x;
    return 1;
}

int mtr_api_q_num(struct mtr_api_req *r, const char *name, double lo, double hi, double *out)
{
    const char *v = mtr_api_query(r, name);
    if (!v)
        return 0;
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi)) {
        mtr_api_error(r, 400, "bad_parameter", NULL,
                      "query parameter %s must be a number in [%g, %g], got '%s'", name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 1;
}

int mtr_api_q_time(struct mtr_api_req *r, const char *name, int64_t *out)
{
    const char *v = mtr_api_query(r, name);
    if (!v)
        return 0;
    char msg[160];
    if (mtr_time_parse_msg(v, strlen(v), out, msg, sizeof msg) < 0) {
        mtr_api_error(r, 400, "bad_parameter", NULL,
                      "query parameter %s must be an ISO-8601 date or date-time: %s", name, msg);
        return -1;
    }
    return 1;
}

int mtr_api_q_bool(struct mtr_api_req *r, const char *name, int *out)
{
    const char *v = mtr_api_query(r, name);
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else {
        mtr_api_error(r, 400, "bad_parameter", NULL,
                      "query parameter %s must be true or false, got '%s'", name, v);
        return -1;
    }
    return 1;
}

int mtr_api_q_choice(struct mtr_api_req *r, const char *name, const char *choices, int *out)
{
    const char *v = mtr_api_query(r, name);
    if (!v)
        return 0;
    size_t vl = strlen(v);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == vl && strncasecmp(p, v, n) == 0) {
            *out = i;
            return 1;
        }
        p += n + (e != NULL);
    }
    mtr_api_error(r, 400, "bad_parameter", NULL, "query parameter %s must be one of %s, got '%s'",
                  name, choices, v);
    return -1;
}

json_t *mtr_api_body_json(struct mtr_api_req *r)
{
    json_error_t je;
    if (r->content_type && strncasecmp(r->content_type, "application/json", 16) != 0) {
        mtr_api_error(r, 415, "unsupported_media_type", NULL,
                      "the body must be application/json, not %s", r->content_type);
        return NULL;
    }
    if (!r->body_len) {
        mtr_api_error(r, 400, "bad_request", NULL, "a JSON body is required");
        return NULL;
    }
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j) {
        char det[256];
        snprintf(det, sizeof det, "{\"line\":%d,\"column\":%d}", je.line, je.column);
        mtr_api_error(r, 400, "malformed_json", det, "the body is not valid JSON: %s", je.text);
        return NULL;
    }
    return j;
}

/* ---------------- access log ---------------- */

static void log_request(struct mtr_api_server *srv, struct creq *q, int64_t dur_ns)
{
    if (!srv->log)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char tq[MTR_JW_TIME_MAX], ts[32];
    mtr_jw_put_time(tq, (int64_t)now.tv_sec); /* "\"YYYY-MM-DDTHH:MM:SSZ\"" */
    int ms = (int)(now.tv_nsec / 1000000);
    memcpy(ts, tq + 1, 19);
    ts[19] = '.';
    ts[20] = (char)('0' + ms / 100);
    ts[21] = (char)('0' + ms / 10 % 10);
    ts[22] = (char)('0' + ms % 10);
    ts[23] = 'Z';
    ts[24] = 0;
    struct mtr_jw w;
    pool_take(&w); /* a recycled buffer: no allocation per line */
    mtr_jw_obj(&w);
    mtr_jw_kstr(&w, "time", ts);
    mtr_jw_kstr(&w, "method", q->r.method);
    mtr_jw_kstr(&w, "path", q->path);
    mtr_jw_kint(&w, "status", q->r.status);
    mtr_jw_kint(&w, "bytes", (int64_t)q->resp_bytes);
    mtr_jw_knum(&w, "duration_ms", (double)(dur_ns / 1000) / 1000.0);
    mtr_jw_kstr(&w, "request_id", q->r.request_id);
    if (q->r.key_id[0])
        mtr_jw_kstr(&w, "key", q->r.key_id);
    mtr_jw_end_obj(&w);
    mtr_jw_append(&w, "\n", 1);
    if (!mtr_jw_failed(&w)) {
        int64_t t = mtr_api_now_ns();
        pthread_mutex_lock(&srv->log_mu);
        fwrite(w.buf, 1, w.len, srv->log);
        if (t - srv->log_flushed_ns > 1000000000) { /* at most ~1 s behind, flushed at exit */
            fflush(srv->log);
            srv->log_flushed_ns = t;
        }
        pthread_mutex_unlock(&srv->log_mu);
    }
    pool_give(mtr_jw_take(&w, NULL));
}

/* Copies the string s into dst (cap bytes), cut to fit; the per-request copies of ids and paths
 * without printf's format parsing. */
static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* ---------------- request life cycle ---------------- */

/* A generated request id: "%08llx-%08llx" of the start time and the request's sequence number
 * (the sequence at least 8 hex digits, more once it outgrows them). */
static void gen_request_id(char out[72], uint64_t started, uint64_t seq)
{
    static const char hx[] = "0123456789abcdef";
    int n = 0;
    for (int i = 7; i >= 0; i--)
        out[n++] = hx[started >> (4 * i) & 15];
    out[n++] = '-';
    int nd = 8;
    while (nd < 16 && seq >> (4 * nd))
        nd++;
    for (int i = nd - 1; i >= 0; i--)
        out[n++] = hx[seq >> (4 * i) & 15];
    out[n] = 0;
}

static int id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(s[n] == '-' || s[n] == '_' || s[n] == '.' || (s[n] >= '0' && s[n] <= '9') ||
              (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')))
            return 0;
    return n > 0 && n <= 64;
}

/* The Access-Control-Allow-Origin value for this request: "*" when any origin is allowed, the
 * request's Origin when it is in the list, NULL otherwise (then no CORS headers). */
static const char *cors_allowed(struct mtr_api_server *srv, struct MHD_Connection *c)
{
    const char *list = srv->cfg.cors_origin;
    if (!list || !*list)
        return NULL;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    size_t ol = origin ? strlen(origin) : 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 1 && *p == '*')
            return "*";
        if (origin && n == ol && strncasecmp(p, origin, n) == 0)
            return origin;
        p = e;
    }
    return NULL;
}

static enum MHD_Result respond(struct mtr_api_server *srv, struct MHD_Connection *c, struct creq *q)
{
    struct mtr_api_req *r = &q->r;
    size_t len = 0;
    if (mtr_jw_failed(&r->out)) {
        mtr_jw_free(&r->out);
        mtr_api_error(r, 500, "internal", NULL, "out of memory writing the response");
    }
    if (!r->status)
        r->status = 200;
    char *body = mtr_jw_take(&r->out, &len);
    struct MHD_Response *resp;
    if (r->status == 204) {
        pool_give(body);
        body = NULL;
        len = 0;
    }
    if (body)
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, pool_give);
    else
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        pool_give(body);
        return MHD_NO;
    }
    q->resp_bytes = len;
    if (r->status != 204)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->resp_type ? r->resp_type : "application/json");
    MHD_add_response_header(resp, "X-Request-ID", r->request_id);
    const char *origin = cors_allowed(srv, c);
    if (origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Vary", "Origin");
        if (r->status == 204 && strcmp(r->method, "OPTIONS") == 0) { /* pre-flight */
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", r->allow);
            MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                    "Authorization, X-API-Key, Content-Type, X-Request-ID");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        }
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Request-ID, Retry-After");
    }
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"metrify\"");
    if (__atomic_load_n(&srv->draining, __ATOMIC_RELAXED))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    q->answered = 1;
    return ret;
}

/* Per-thread cache of recently verified keys, so a busy client costs a compare, not a hash and a
 * query. It holds the key itself (the store keeps only its hash) for at most 1 s, in memory,
 * compared in constant time and wiped when replaced; longer tokens are not cached. */
#define KEY_CACHE     16
#define KEY_CACHE_TOK 96
static __thread struct {
    char tok[KEY_CACHE_TOK];
    size_t len;
    enum mtr_role role;
    char id[32];
    int64_t at_ns;
} key_cache[KEY_CACHE];
static __thread unsigned key_cache_next;
#define KEY_CACHE_TTL_NS 1000000000 /* a revoked key stops working within 1 s */

/* Authenticates r from its headers; 0 = go on (r->role set), 1 = an error was written. */
static int authenticate(struct mtr_api_server *srv, struct MHD_Connection *c, struct mtr_api_req *r)
{
    const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    int need = r->route->role != MTR_ROLE_NONE &&
               !(srv->cfg.public_health && (r->route->flags & MTR_API_HEALTH));
    if (!need)
        return 0; /* public: credentials, good or bad, are not looked at */
    if (!tok && auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0)
            return mtr_api_error(r, 401, "unauthorized", NULL,
                                 "Authorization must be 'Bearer <key or token>'"),
                   1;
        tok = auth + 7;
        while (*tok == ' ')
            tok++;
    }
    if (!tok || !*tok) {
        mtr_api_error(r, 401, "unauthorized", NULL,
                      "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key'");
        return 1;
    }
    if (srv->cfg.jwt_secret && strncmp(tok, "mtr_", 4) != 0 && strchr(tok, '.')) {
        struct mtr_errbuf eb = {{0}};
        char sub[48];
        if (mtr_api_jwt_verify(tok, srv->cfg.jwt_secret, (int64_t)time(NULL), &r->role, sub,
                               sizeof sub, &eb) < 0) {
            mtr_api_error(r, 401, "unauthorized", NULL, "invalid token: %s", eb.msg);
            return 1;
        }
        snprintf(r->key_id, sizeof r->key_id, "jwt:%s", sub);
    } else {
        size_t tl = strlen(tok);
        int64_t now = mtr_api_now_ns();
        int found = 0;
        for (int i = 0; i < KEY_CACHE && tl < KEY_CACHE_TOK; i++)
            if (key_cache[i].at_ns && now - key_cache[i].at_ns < KEY_CACHE_TTL_NS &&
                key_cache[i].len == tl && CRYPTO_memcmp(key_cache[i].tok, tok, tl) == 0) {
                r->role = key_cache[i].role;
                copy_str(r->key_id, sizeof r->key_id, key_cache[i].id);
                found = 1;
                break;
            }
        if (!found) {
            char hash[65];
            mtr_api_sha256_hex(tok, tl, hash);
            struct mtr_apikey k;
            int rc = r->store->ops->apikey_find(r->store, hash, &k);
            if (rc == MTR_ENOTFOUND || (rc == 0 && k.revoked_at)) {
                mtr_api_error(r, 401, "unauthorized", NULL,
                              rc == 0 ? "the API key was revoked" : "unknown API key");
                return 1;
            }
            if (rc < 0) {
                mtr_api_fail(r, rc, "authentication");
                return 1;
            }
            r->role = k.role;
            snprintf(r->key_id, sizeof r->key_id, "%s", k.id);
            if (tl < KEY_CACHE_TOK) {
                unsigned i = key_cache_next++ % KEY_CACHE;
                OPENSSL_cleanse(key_cache[i].tok, sizeof key_cache[i].tok);
                memcpy(key_cache[i].tok, tok, tl);
                key_cache[i].len = tl;
                key_cache[i].role = k.role;
                copy_str(key_cache[i].id, sizeof key_cache[i].id, k.id);
                key_cache[i].at_ns = now;
            }
        }
    }
    if (r->role < r->route->role) {
        mtr_api_error(r, 403, "forbidden", NULL, "role %s may not %s %s (needs %s)",
                      mtr_api_role_name(r->role), r->method, r->route->pattern,
                      mtr_api_role_name(r->route->role));
        return 1;
    }
    int retry = 0;
    if (!mtr_ratelimit_take(&srv->rl, r->key_id, mtr_api_now_ns(), &retry)) {
        r->retry_after = retry;
        mtr_api_error(r, 429, "rate_limited", NULL,
                      "more than %g requests per second for key %s; retry after %d s",
                      srv->cfg.rate_limit, r->key_id, retry);
        return 1;
    }
    return 0;
}

struct qcheck {
    const struct mtr_api_route *route;
    const char *bad;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct qcheck *qc = cls;
    const struct mtr_api_param *p = qc->route->params;
    for (; p && p->name; p++)
        if (strcmp(p->in, "query") == 0 && strcmp(p->name, key) == 0)
            return MHD_YES;
    qc->bad = key;
    return MHD_NO;
}

/* Everything that can be decided from the request line and headers; 1 = answered already. */
static int admit(struct mtr_api_server *srv, struct MHD_Connection *c, struct creq *q)
{
    struct mtr_api_req *r = &q->r;
    char allow[64] = "";
    int idx = mtr_api_route_match(r->method, q->path, r->pv, allow, sizeof allow);
    if (idx == -2 && strcmp(r->method, "OPTIONS") == 0 && srv->cfg.cors_origin) {
        r->status = 204; /* CORS preflight: no auth, as browsers send none */
        snprintf(r->allow, sizeof r->allow, "%s", allow);
        return 1;
    }
    if (idx == -1)
        return mtr_api_error(r, 404, "route_not_found", NULL, "no route %s", q->path), 1;
    if (idx == -2) {
        snprintf(r->allow, sizeof r->allow, "%s", allow);
        return mtr_api_error(r, 405, "method_not_allowed", NULL,
                             "%s is not allowed on %s (allowed: %s)", r->method, q->path, allow),
               1;
    }
    r->route_index = idx;
    r->route = &mtr_api_routes[idx];
    struct qcheck qc = {r->route, NULL};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, &qc);
    if (qc.bad) {
        mtr_api_error(r, 400, "bad_parameter", NULL, "unknown query parameter '%s' for %s %s",
                      qc.bad, r->method, r->route->pattern);
        return 1;
    }
    struct mtr_errbuf eb = {{0}};
    if (!(r->store = thread_store(srv, &eb))) {
        mtr_api_error(r, 503, "store_unavailable", NULL, "cannot open the store: %s", eb.msg);
        return 1;
    }
    if (authenticate(srv, c, r))
        return 1;
    if (r->route->flags & MTR_API_BODY) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > srv->cfg.max_body) {
            mtr_api_error(r, 413, "payload_too_large", NULL, "the body exceeds %lld bytes",
                          (long long)srv->cfg.max_body);
            return 1;
        }
        r->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct mtr_api_server *srv = cls;
    struct creq *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q)
            return MHD_NO;
        *con_cls = q;
        __atomic_fetch_add(&srv->metrics.in_flight, 1, __ATOMIC_RELAXED);
        q->start_ns = mtr_api_now_ns();
        q->r.route_index = -1;
        q->r.method = method;
        q->r.conn = c;
        q->r.srv = srv;
        copy_str(q->path, sizeof q->path, url);
        q->r.path = q->path;
        const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-ID");
        if (rid && id_ok(rid))
            copy_str(q->r.request_id, sizeof q->r.request_id, rid);
        else
            gen_request_id(q->r.request_id, (uint64_t)srv->started_at,
                           (uint64_t)__atomic_add_fetch(&srv->seq, 1, __ATOMIC_RELAXED));
        pool_take(&q->r.out);
        /* Answers wait for MHD's next call: a response queued in this first call makes MHD
         * close the connection (it cannot know whether a body follows), which would cost every
         * keep-alive client a new connection. An early error with a body on the way is the
         * exception: answering at once spares reading a body that will be thrown away. */
        if (admit(srv, c, q)) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
            if (te || (cl && strtoll(cl, NULL, 10) > 0))
                return respond(srv, c, q);
            q->early = 1;
        }
        return MHD_YES;
    }
    if (q->answered) { /* answered early: discard the rest of the body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->early) {
        *upload_size = 0;
        return respond(srv, c, q);
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (q->too_large || q->len + n > (size_t)srv->cfg.max_body) {
            q->too_large = 1;
            return MHD_YES;
        }
        if (q->len + n + 1 > q->cap) {
            size_t cap = q->cap ? q->cap : 64 * 1024;
            while (cap < q->len + n + 1)
                cap *= 2;
            char *b = realloc(q->body, cap);
            if (!b)
                return MHD_NO;
            q->body = b;
            q->cap = cap;
        }
        memcpy(q->body + q->len, upload, n);
        q->len += n;
        q->body[q->len] = 0;
        return MHD_YES;
    }
    if (q->too_large) {
        mtr_api_error(&q->r, 413, "payload_too_large", NULL, "the body exceeds %lld bytes",
                      (long long)srv->cfg.max_body);
        return respond(srv, c, q);
    }
    q->r.body = q->body ? q->body : "";
    q->r.body_len = q->len;
    q->r.status = q->r.route->status;
    /* the deadline counts from the complete request: a slow upload is the idle timeout's */
    q->r.deadline_ns = mtr_api_now_ns() + srv->cfg.request_timeout_ms * 1000000;
    tls_req = &q->r;
    snapshot_for(srv, q);
    int hrc = q->r.route->fn(&q->r);
    if (!route_reads(q->r.route)) /* committed (or not): later GETs take a new snapshot */
        __atomic_add_fetch(&srv->write_gen, 1, __ATOMIC_RELEASE);
    tls_req = NULL;
    if (q->r.timed_out) {
        q->r.retry_after = 1;
        mtr_api_error(&q->r, 503, "request_timeout", NULL,
                      "the request was stopped at the server's processing limit of %lld ms; "
                      "nothing of it was stored or changed; retry later or ask for less",
                      (long long)srv->cfg.request_timeout_ms);
    } else if (hrc < 0 && q->r.status < 400) {
        mtr_api_error(&q->r, 500, "internal", NULL, "the handler failed");
    }
    return respond(srv, c, q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct mtr_api_server *srv = cls;
    struct creq *q = *con_cls;
    if (!q)
        return;
    int64_t dur = mtr_api_now_ns() - q->start_ns;
    if (!q->answered)
        q->r.status = 499; /* the client went away (or the server stopped) before the answer */
    mtr_api_metrics_request(&srv->metrics, q->r.route_index, q->r.status, dur / 1000);
    log_request(srv, q, dur);
    pool_give(mtr_jw_take(&q->r.out, NULL));
    free(q->body);
    free(q);
    *con_cls = NULL;
    __atomic_fetch_sub(&srv->metrics.in_flight, 1, __ATOMIC_RELAXED);
}

/* ---------------- start, run, stop ---------------- */

/* One libmicrohttpd daemon per worker thread, all on one listening socket (listen_on). The
 * threads are ours rather than libmicrohttpd's pool so that each knows where its event-loop pass
 * ends: there it releases its read snapshot. */
struct worker {
    struct mtr_api_server *srv;
    struct MHD_Daemon *d;
    pthread_t th;
    int running;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct mtr_api_server *srv = w->srv;
    int quiesced = 0;
    while (!__atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE)) {
        if (!quiesced && __atomic_load_n(&srv->draining, __ATOMIC_ACQUIRE)) {
            MHD_quiesce_daemon(w->d); /* no new connections here; the socket stays open */
            quiesced = 1;
        }
        /* waits at most 100 ms, so that draining and stopping are seen without a wake-up; a
         * failing daemon (its epoll broken) is retried, not spun on */
        if (MHD_run_wait(w->d, 100) != MHD_YES)
            usleep(100000);
        snapshot_release();
    }
    snapshot_release();
    return NULL;
}

/* The listening socket on cfg's address, shared by the workers' daemons (whichever wakes first
 * accepts, as in libmicrohttpd's own pool). Not SO_REUSEPORT, which would balance connections but
 * let a second server on the same port take half of them unnoticed. MTR_EIO with a message. */
static int listen_on(const struct mtr_api_config *cfg, int *fd_out, struct mtr_errbuf *eb)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->listen_host, &sa.sin_addr) != 1)
        return mtr_err(eb, MTR_EINVAL, "--listen: not an IPv4 address: %s", cfg->listen_host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return mtr_err(eb, MTR_EIO, "socket: %s", strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        close(fd);
        return mtr_err(eb, MTR_EIO, "cannot listen on %s:%d: %s", cfg->listen_host, cfg->port,
                       strerror(e));
    }
    *fd_out = fd;
    return 0;
}

int mtr_api_serve(const struct mtr_api_config *cfg, struct mtr_errbuf *eb)
{
    struct mtr_api_server *srv = calloc(1, sizeof *srv);
    struct worker *workers = NULL;
    struct mtr_store *s = NULL;
    int rc = 0, mu = 0, lfd = -1, port = cfg->port, stopped = 0;
    if (!srv)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    srv->cfg = *cfg;
    if (srv->cfg.threads <= 0)
        srv->cfg.threads = 4;
    if (srv->cfg.max_body <= 0)
        srv->cfg.max_body = 16 << 20;
    if (srv->cfg.timeout_s <= 0)
        srv->cfg.timeout_s = 30;
    if (srv->cfg.request_timeout_ms <= 0)
        srv->cfg.request_timeout_ms = 30000;
    if (!(srv->cfg.metrics_cache_s >= 0))
        srv->cfg.metrics_cache_s = 10;
    mtr_params_default(&srv->params);
    srv->params.strict_meters = cfg->strict_meters;
    srv->started_at = (int64_t)time(NULL);
    pthread_once(&pool_once, pool_init);
    __atomic_store_n(&pool_off, 0, __ATOMIC_RELAXED);
    /* open (and migrate) once here, so a bad store fails the start, not the first request */
    if ((rc = mtr_store_open(cfg->db, &s, eb)) < 0)
        goto out;
    s->ops->close(s);
    mtr_ratelimit_init(&srv->rl, cfg->rate_limit,
                       cfg->rate_burst > 0 ? cfg->rate_burst : cfg->rate_limit);
    pthread_mutex_init(&srv->write_mu, NULL);
    pthread_mutex_init(&srv->log_mu, NULL);
    pthread_mutex_init(&srv->fig_mu, NULL);
    pthread_key_create(&srv->store_key, close_thread_store);
    mu = 1;
    if (cfg->access_log && strcmp(cfg->access_log, "-") == 0) {
        srv->log = stdout;
    } else if (cfg->access_log && *cfg->access_log) {
        if (!(srv->log = fopen(cfg->access_log, "a"))) {
            rc = mtr_err(eb, MTR_EIO, "access log %s: %s", cfg->access_log, strerror(errno));
            goto out;
        }
        srv->log_owned = 1;
    }
    if (srv->log)
        setvbuf(srv->log, NULL, _IOFBF, 1 << 16);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the worker threads */

    if ((rc = listen_on(cfg, &lfd, eb)) < 0)
        goto out;
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (getsockname(lfd, (struct sockaddr *)&bound, &blen) == 0)
        port = ntohs(bound.sin_port); /* --listen HOST:0 asks for any free port */
    if (!(workers = calloc((size_t)srv->cfg.threads, sizeof *workers))) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < srv->cfg.threads; i++) {
        struct worker *w = &workers[i];
        w->srv = srv;
        w->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO, 0, NULL, NULL,
                                on_request, srv, MHD_OPTION_LISTEN_SOCKET, lfd,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.timeout_s,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, MHD_POOL_BYTES, MHD_OPTION_END);
        if (!w->d) {
            rc = mtr_err(eb, MTR_EIO, "cannot start the HTTP server on %s:%d", cfg->listen_host,
                         port);
            goto out;
        }
        if (pthread_create(&w->th, NULL, worker_run, w) != 0) {
            rc = mtr_err(eb, MTR_EIO, "cannot start worker thread %d", i);
            goto out;
        }
        w->running = 1;
    }
    if (cfg->announce) {
        fprintf(cfg->announce, "metrify: listening on http://%s:%d (%d threads)\n",
                cfg->listen_host, port, srv->cfg.threads);
        fflush(cfg->announce);
    }
    int sig = 0;
    sigwait(&set, &sig);
    while (sig == SIGPIPE)
        sigwait(&set, &sig);
    /* stop accepting (each worker quiesces its daemon); let in-flight requests finish; then
     * stop the workers and close the idle connections */
    __atomic_store_n(&srv->draining, 1, __ATOMIC_RELEASE);
    int64_t deadline = mtr_api_now_ns() + 30 * (int64_t)1000000000;
    while (__atomic_load_n(&srv->metrics.in_flight, __ATOMIC_RELAXED) > 0 &&
           mtr_api_now_ns() < deadline)
        usleep(5000);
    stopped = sig;
out:
    __atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
    for (int i = 0; workers && i < srv->cfg.threads; i++)
        if (workers[i].running)
            pthread_join(workers[i].th, NULL);
    __atomic_store_n(&pool_off, 1, __ATOMIC_RELAXED);
    for (int i = 0; workers && i < srv->cfg.threads; i++)
        if (workers[i].d) {
            MHD_quiesce_daemon(workers[i].d); /* so that it leaves the shared socket open */
            MHD_stop_daemon(workers[i].d);
        }
    free(workers);
    if (lfd >= 0)
        close(lfd);
    if (stopped && cfg->announce) {
        fprintf(cfg->announce, "metrify: stopped (signal %d), in-flight requests finished\n",
                stopped);
        fflush(cfg->announce);
    }
    if (srv->log) {
        fflush(srv->log);
        if (srv->log_owned)
            fclose(srv->log);
    }
    if (mu) {
        pthread_key_delete(srv->store_key);
        pthread_mutex_destroy(&srv->write_mu);
        pthread_mutex_destroy(&srv->log_mu);
        pthread_mutex_destroy(&srv->fig_mu);
        mtr_ratelimit_destroy(&srv->rl);
    }
    free(srv);
    return rc;
}
