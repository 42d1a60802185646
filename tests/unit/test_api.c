/*
 * test_api.c - the HTTP-free parts of the API: the router over the real route table (captures,
 * 404 vs 405 and the Allow list, trailing slash), the route table's own consistency, the JSON
 * writer, the generated OpenAPI document (valid JSON, one operation per route), API key format
 * and hashing (SHA-256 test vector), HS256 JWTs (sign, verify, expiry, forgery, algorithm,
 * role) and the token-bucket rate limiter.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "adapters/io/format.h"
#include "api/auth.h"
#include "api/batch.h"
#include "api/route.h"
#include "base/jsonw.h"
#include "t.h"

static int route_of(const char *method, const char *path, char vals[][MTR_API_PARAM_MAX],
                    char *allow)
{
    return mtr_api_route_match(method, path, (char(*)[MTR_API_PARAM_MAX])vals, allow, 64);
}

static void test_router(void)
{
    char v[MTR_API_MAX_PARAMS][MTR_API_PARAM_MAX], allow[64];
    int i = route_of("GET", "/api/v1/smart-meters/SM-1/readings", v, allow);
    T_CHECK(i >= 0);
    if (i >= 0) {
        T_EQ_STR(mtr_api_routes[i].pattern, "/api/v1/smart-meters/{meter_id}/readings");
        T_EQ_STR(mtr_api_routes[i].method, "GET");
    }
    T_EQ_STR(v[0], "SM-1");
    i = route_of("POST", "/api/v1/smart-meters/SM-2/readings/", v, allow); /* trailing slash */
    T_CHECK(i >= 0 && strcmp(mtr_api_routes[i].method, "POST") == 0);
    T_EQ_STR(v[0], "SM-2");
    T_EQ_INT(route_of("GET", "/api/v1/smart-meters/SM-1/nothing", v, allow), -1);
    T_EQ_INT(route_of("GET", "/api/v1/smart-meters//readings", v, allow), -1); /* empty id */
    T_EQ_INT(route_of("GET", "/api/v1", v, allow), -1);
    T_EQ_INT(route_of("PATCH", "/api/v1/smart-meters/X", v, allow), -2);
    T_EQ_STR(allow, "GET, PUT, DELETE");
    T_EQ_INT(route_of("DELETE", "/api/v1/smart-meters", v, allow), -2);
    T_EQ_STR(allow, "GET, POST");
    i = route_of("HEAD", "/health", v, allow); /* HEAD is served by GET */
    T_CHECK(i >= 0 && strcmp(mtr_api_routes[i].pattern, "/health") == 0);
    i = route_of("GET", "/", v, allow);
    T_CHECK(i >= 0 && strcmp(mtr_api_routes[i].pattern, "/") == 0);
    char longid[300];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    char path[400];
    snprintf(path, sizeof path, "/api/v1/smart-meters/%s", longid);
    T_EQ_INT(route_of("GET", path, v, allow), -1); /* too long to capture: no route */
}

/* Every route: unique (method, pattern); path parameters declared exactly as in the pattern;
 * body routes take POST/PUT; roles are in range. */
static void test_route_table(void)
{
    for (size_t i = 0; i < mtr_api_route_count; i++) {
        const struct mtr_api_route *r = &mtr_api_routes[i];
        for (size_t j = 0; j < i; j++)
            T_CHECK(strcmp(r->method, mtr_api_routes[j].method) != 0 ||
                    strcmp(r->pattern, mtr_api_routes[j].pattern) != 0);
        int in_pattern = 0, declared = 0;
        for (const char *p = r->pattern; (p = strchr(p, '{')); p++)
            in_pattern++;
        for (const struct mtr_api_param *p = r->params; p && p->name; p++)
            if (strcmp(p->in, "path") == 0) {
                declared++;
                char needle[80];
                snprintf(needle, sizeof needle, "{%s}", p->name);
                T_CHECK(strstr(r->pattern, needle) != NULL);
            }
        T_EQ_INT(declared, in_pattern);
        T_CHECK(r->role >= MTR_ROLE_NONE && r->role <= MTR_ROLE_ADMIN);
        if (r->flags & MTR_API_BODY)
            T_CHECK(strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0);
        /* writes need at least operator, reads at most viewer */
        if (strcmp(r->method, "GET") != 0)
            T_CHECK(r->role >= MTR_ROLE_OPERATOR);
        T_CHECK(r->fn != NULL && r->summary && r->tag);
    }
    T_CHECK(mtr_api_route_count >= 40);
}

static void test_jsonw(void)
{
    struct mtr_jw w;
    mtr_jw_init(&w);
    mtr_jw_obj(&w);
    mtr_jw_kstr(&w, "s", "a\"b\\c\n\x01");
    mtr_jw_kint(&w, "i", -42);
    mtr_jw_knum(&w, "n", 0.125);
    mtr_jw_knum(&w, "nan", NAN);
    mtr_jw_knum(&w, "big", 1e300);
    mtr_jw_knum(&w, "third", 1.0 / 3);
    mtr_jw_knum(&w, "neg", -0.5);
    mtr_jw_ktime(&w, "t", 1700000000);
    mtr_jw_ktime(&w, "t0", 0);
    mtr_jw_key(&w, "a");
    mtr_jw_arr(&w);
    mtr_jw_int(&w, 1);
    mtr_jw_bool(&w, 1);
    mtr_jw_null(&w);
    mtr_jw_obj(&w);
    mtr_jw_end_obj(&w);
    mtr_jw_end_arr(&w);
    mtr_jw_end_obj(&w);
    T_CHECK(!mtr_jw_failed(&w));
    T_EQ_STR(w.buf, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"i\":-42,\"n\":0.125,\"nan\":null,"
                    "\"big\":1e+300,\"third\":0.33333333333333331,\"neg\":-0.5,"
                    "\"t\":\"2023-11-14T22:13:20Z\",\"t0\":null,\"a\":[1,true,null,{}]}");
    /* every number reads back exactly */
    json_t *j = json_loads(w.buf, 0, NULL);
    T_CHECK(j != NULL);
    T_CHECK(json_number_value(json_object_get(j, "third")) == 1.0 / 3);
    json_decref(j);
    mtr_jw_free(&w);
    /* the fast decimal path: up to 6 decimals, trailing zeros dropped, signs, large values */
    static const struct {
        double v;
        const char *s;
    } nums[] = {{0.0391, "0.0391"},
                {226.7, "226.7"},
                {12.000001, "12.000001"},
                {-3.05, "-3.05"},
                {100, "100"},
                {-0.000001, "-0.000001"},
                {0, "0"},
                {123456789.5, "123456789.5"},
                {1e-7, "1e-07"},
                {1, "1"},
                {-7, "-7"},
                {-0.0, "0"},
                {0.1, "0.1"},
                {0.01, "0.01"},
                {50.024, "50.024"},
                {0.123456, "0.123456"},
                {0.1234567, "0.1234567"},
                {999999999999.0, "999999999999"},
                {1e12, "1000000000000"},
                {0.3, "0.3"},
                {0.1 + 0.2, "0.30000000000000004"}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        mtr_jw_init(&w);
        mtr_jw_num(&w, nums[i].v);
        T_EQ_STR(w.buf, nums[i].s);
        mtr_jw_free(&w);
    }
    /* cursor writing gives the text of the token writer, commas included */
    struct mtr_jw a, b;
    mtr_jw_init(&a);
    mtr_jw_init(&b);
    mtr_jw_arr(&a);
    mtr_jw_arr(&b);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        mtr_jw_obj(&a);
        mtr_jw_knum(&a, "v", nums[i].v);
        mtr_jw_kint(&a, "i", -(int64_t)i * 1000003);
        mtr_jw_ktime(&a, "t", 1700000000 + (int64_t)i * 86399);
        mtr_jw_end_obj(&a);
        char *p = mtr_jw_value_begin(&b, 3 * MTR_JW_NUM_MAX + MTR_JW_TIME_MAX + 16);
        T_CHECK(p != NULL);
        MTR_JW_LIT(p, "{\"v\":");
        p = mtr_jw_put_num(p, nums[i].v);
        MTR_JW_LIT(p, ",\"i\":");
        p = mtr_jw_put_int(p, -(int64_t)i * 1000003);
        MTR_JW_LIT(p, ",\"t\":");
        p = mtr_jw_put_time(p, 1700000000 + (int64_t)i * 86399);
        *p++ = '}';
        mtr_jw_value_end(&b, p);
    }
    mtr_jw_num(&a, NAN);
    mtr_jw_value_end(&b, mtr_jw_put_num(mtr_jw_value_begin(&b, MTR_JW_NUM_MAX), NAN));
    mtr_jw_end_arr(&a);
    mtr_jw_end_arr(&b);
    T_CHECK(!mtr_jw_failed(&a) && !mtr_jw_failed(&b));
    T_EQ_STR(b.buf, a.buf);
    mtr_jw_free(&a);
    mtr_jw_free(&b);
}

static void test_openapi(void)
{
    struct mtr_jw w;
    mtr_jw_init(&w);
    mtr_api_openapi(&w);
    json_error_t e;
    json_t *doc = json_loadb(w.buf, w.len, 0, &e);
    T_CHECK(doc != NULL);
    if (!doc) {
        printf("openapi: %s at %d\n", e.text, e.position);
        mtr_jw_free(&w);
        return;
    }
    json_t *paths = json_object_get(doc, "paths");
    size_t ops = 0;
    const char *k;
    json_t *item;
    json_object_foreach(paths, k, item) ops += json_object_size(item);
    T_EQ_INT(ops, mtr_api_route_count);
    for (size_t i = 0; i < mtr_api_route_count; i++) {
        char m[8];
        size_t n = 0;
        for (; mtr_api_routes[i].method[n]; n++)
            m[n] = (char)(mtr_api_routes[i].method[n] + 32);
        m[n] = 0;
        json_t *op = json_object_get(json_object_get(paths, mtr_api_routes[i].pattern), m);
        T_CHECK(op != NULL);
        T_EQ_STR(json_string_value(json_object_get(op, "x-required-role")),
                 mtr_api_role_name(mtr_api_routes[i].role));
    }
    json_decref(doc);
    mtr_jw_free(&w);
    mtr_jw_init(&w);
    mtr_api_docs_html(&w);
    T_CHECK(strstr(w.buf, "/api/v1/smart-meters/{meter_id}/readings") != NULL);
    mtr_jw_free(&w);
}

static void test_keys(void)
{
    char key[MTR_API_KEY_LEN], key2[MTR_API_KEY_LEN], id[16], id2[16], hex[65];
    T_EQ_INT(mtr_api_key_generate(key, id), 0);
    T_EQ_INT(mtr_api_key_generate(key2, id2), 0);
    T_EQ_INT(strlen(key), 4 + 8 + 1 + 32);
    T_CHECK(strncmp(key, "mtr_", 4) == 0 && strncmp(key + 4, id, 8) == 0 && key[12] == '_');
    T_CHECK(strcmp(key, key2) != 0);
    mtr_api_sha256_hex("abc", 3, hex); /* FIPS 180-2 test vector */
    T_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    T_EQ_INT(mtr_api_role_parse("operator"), MTR_ROLE_OPERATOR);
    T_EQ_INT(mtr_api_role_parse("root"), -1);
    T_EQ_STR(mtr_api_role_name(MTR_ROLE_ADMIN), "admin");
}

static void test_jwt(void)
{
    const char *secret = "a-test-secret-of-some-length";
    char tok[1024], sub[64];
    enum mtr_role role = MTR_ROLE_NONE;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_api_jwt_sign(secret, "svc", "operator", 2000, tok, sizeof tok), 0);
    T_EQ_INT(mtr_api_jwt_verify(tok, secret, 1000, &role, sub, sizeof sub, &eb), 0);
    T_EQ_INT(role, MTR_ROLE_OPERATOR);
    T_EQ_STR(sub, "svc");
    T_EQ_INT(mtr_api_jwt_verify(tok, secret, 2000, &role, sub, sizeof sub, &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "expired") != NULL);
    T_EQ_INT(mtr_api_jwt_verify(tok, "another-secret-entirely", 1000, &role, sub, sizeof sub, &eb),
             MTR_EINVAL);
    /* a changed payload (role admin) with the old signature */
    char forged[1024];
    char adm[1024];
    T_EQ_INT(mtr_api_jwt_sign(secret, "svc", "admin", 2000, adm, sizeof adm), 0);
    const char *sig = strrchr(tok, '.');
    snprintf(forged, sizeof forged, "%.*s%s", (int)(strrchr(adm, '.') - adm), adm, sig);
    T_EQ_INT(mtr_api_jwt_verify(forged, secret, 1000, &role, sub, sizeof sub, &eb), MTR_EINVAL);
    /* alg none is refused: {"alg":"none"} */
    T_EQ_INT(mtr_api_jwt_verify("eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4iLCJleHAiOjk5OTk5OTk5OTl9.",
                                secret, 1000, &role, sub, sizeof sub, &eb),
             MTR_EINVAL);
    T_EQ_INT(mtr_api_jwt_sign(secret, "svc", "superuser", 2000, tok, sizeof tok), 0);
    T_EQ_INT(mtr_api_jwt_verify(tok, secret, 1000, &role, sub, sizeof sub, &eb), MTR_EINVAL);
    T_EQ_INT(mtr_api_jwt_verify("not-a-jwt", secret, 1000, &role, sub, sizeof sub, &eb),
             MTR_EINVAL);
    T_EQ_INT(mtr_api_jwt_verify("a.b.c.d", secret, 1000, &role, sub, sizeof sub, &eb), MTR_EINVAL);
}

static void test_ratelimit(void)
{
    struct mtr_ratelimit rl;
    int retry = 0;
    const int64_t s = 1000000000;
    mtr_ratelimit_init(&rl, 2, 2); /* 2/s, burst 2 */
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 10 * s, &retry), 1);
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 10 * s, &retry), 1);
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 10 * s, &retry), 0);
    T_EQ_INT(retry, 1);
    T_EQ_INT(mtr_ratelimit_take(&rl, "k2", 10 * s, &retry), 1);         /* per key */
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 10 * s + s / 2, &retry), 1); /* refilled one */
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 10 * s + s / 2, &retry), 0);
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 20 * s, &retry), 1); /* capped at the burst */
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 20 * s, &retry), 1);
    T_EQ_INT(mtr_ratelimit_take(&rl, "k1", 20 * s, &retry), 0);
    mtr_ratelimit_destroy(&rl);
    mtr_ratelimit_init(&rl, 0, 0); /* unlimited */
    for (int i = 0; i < 1000; i++)
        T_EQ_INT(mtr_ratelimit_take(&rl, "k", 0, &retry), 1);
    mtr_ratelimit_destroy(&rl);
}

/* The jansson path for the same body: element by element through mtr_decode_json. */
static void slow_path(struct mtr_api_batch *b, const char *body, enum mtr_kind kind,
                      const struct mtr_format *fmt, const char *entity)
{
    json_t *doc = json_loads(body, JSON_DECODE_ANY, NULL); /* NULL: jansson refuses the body */
    size_t i;
    json_t *v;
    json_array_foreach(doc, i, v) mtr_api_batch_add_json(b, v, kind, fmt, entity, i + 1);
    json_decref(doc);
}

static int same_dbl(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Both paths give the same records and the same errors, in order. */
static void check_same(const char *body, const char *entity, int expect_fast)
{
    struct mtr_api_batch fast = {0}, slow = {0};
    struct mtr_format fmt;
    mtr_format_init(&fmt);
    if (entity)
        snprintf(fmt.meter_id, sizeof fmt.meter_id, "%s", entity);
    int rc = mtr_api_batch_fast(&fast, body, strlen(body), MTR_KIND_READING, &fmt, entity);
    T_EQ_INT(rc, expect_fast ? 1 : 0);
    slow_path(&slow, body, MTR_KIND_READING, &fmt, entity);
    if (rc == 1) {
        T_CHECK(fast.fast > 0);
        T_EQ_INT(fast.n, slow.n);
        for (size_t i = 0; i < fast.n && i < slow.n; i++) {
            const struct mtr_api_item *a = &fast.items[i], *b = &slow.items[i];
            T_EQ_INT(a->err >= 0, b->err >= 0);
            if (a->err >= 0 && b->err >= 0) {
                const struct mtr_record_error *x = &fast.errs[a->err], *y = &slow.errs[b->err];
                T_EQ_INT(x->rule, y->rule);
                T_EQ_INT(x->line, y->line);
                T_EQ_STR(x->field, y->field);
                T_EQ_STR(x->message, y->message);
            } else if (a->err < 0 && b->err < 0) {
                const struct mtr_reading *x = &a->rec.u.reading, *y = &b->rec.u.reading;
                T_EQ_STR(x->meter_id, y->meter_id);
                T_EQ_INT(x->ts, y->ts);
                T_EQ_INT(x->interval_s, y->interval_s);
                T_EQ_INT(x->line, y->line);
                T_CHECK(same_dbl(x->kwh, y->kwh) && same_dbl(x->voltage_v, y->voltage_v) &&
                        same_dbl(x->current_a, y->current_a) &&
                        same_dbl(x->power_factor, y->power_factor) &&
                        same_dbl(x->frequency_hz, y->frequency_hz));
            }
        }
    } else {
        T_EQ_INT(fast.n, 0);
    }
    mtr_api_batch_free(&fast);
    mtr_api_batch_free(&slow);
}

static void test_batch_fast_path(void)
{
    /* the common body: every object taken by the fast path */
    check_same(
        "[{\"meter_id\":\"M1\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"consumption_kwh\":0.5,"
        "\"voltage_v\":230.1},\n {\"meter_id\":\"M1\",\"timestamp\":\"2024-01-01T00:15:00Z\","
        "\"consumption_kwh\":1e-3,\"voltage_v\":-0}]",
        NULL, 1);
    /* objects the fast path must hand over, each with its exact jansson-path result */
    check_same(
        "[{\"ts\":\"2024-01-01T00:00:00Z\",\"kwh\":0.5,\"pf\":0.9,\"interval_s\":900},"
        "{\"ts\":\"2024-01-01T00:15:00Z\",\"kwh\":\"12.5\",\"pf\":0.9,\"interval_s\":900},"
        "{\"ts\":\"2024-01-01T00:30:00Z\",\"kwh\":0.5,\"pf\":null,\"interval_s\":900},"
        "{\"ts\":\"2024-01-01T00:45:00Z\",\"kwh\":0.5},"
        "{\"ts\":\"yesterday\",\"kwh\":0.5,\"pf\":0.9,\"interval_s\":900},"
        "{\"ts\":\"2024-01-01T01:00:00Z\",\"kwh\":0.5,\"pf\":0.9,\"interval_s\":901.5},"
        "{\"ts\":\"2024-01-01T01:15:00Z\",\"kwh\":0.5,\"pf\":0.9,\"interval_s\":900,\"x\":1},"
        "{\"meter_id\":\"OTHER\",\"ts\":\"2024-01-01T01:30:00Z\",\"kwh\":1},"
        "{\"meter_id\":7,\"ts\":\"2024-01-01T01:30:00Z\",\"kwh\":1},"
        "{\"ts\":\"2024-01-01T01:45:00Z\",\"kwh\":true,\"pf\":0.9,\"interval_s\":900},"
        "{\"ts\":\" 2024-01-01T02:00:00Z \",\"kwh\":2.5E+2,\"pf\":0.9,\"interval_s\":900},"
        "{\"ts\":\"2024-01-01T02:15:00Z\",\"kwh\":0.1,\"pf\":0.9,\"interval_s\":900}]",
        "M9", 1);
    /* bodies it leaves to the jansson path entirely */
    check_same("[{\"meter_id\":\"M\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"kwh\":1,"
               "\"interval_minutes\":15,\"interval_s\":60}]",
               NULL, 0);
    check_same(
        "[{\"payload\":{\"meter_id\":\"M\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"kwh\":1}}]",
        NULL, 0);
    check_same("[{\"meter_id\":\"M\",\"meter_id\":\"N\",\"timestamp\":\"2024-01-01T00:00:00Z\","
               "\"kwh\":1}]",
               NULL, 0);
    check_same("[{\"meter_id\":\"M\\u0041\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"kwh\":1}]",
               NULL, 0);
    check_same("[{\"meter_id\":\"M\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"kwh\":"
               "123456789012345678901}]",
               NULL, 0);
    check_same("[{\"kwh\":1}]", NULL, 0); /* no timestamp: the header does not bind */
    check_same("[{\"meter_id\":\"M\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"kwh\":1,\"x\":[1]}]",
               NULL, 0); /* not flat */
    check_same("[{\"meter_id\":\"M\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"kwh\":1}, 5]", NULL,
               0); /* not an object */
    check_same("[]", NULL, 0);
    struct mtr_api_batch b = {0};
    T_EQ_INT(mtr_api_batch_fast(&b, "{\"readings\":[]}", 15, MTR_KIND_READING, NULL, NULL), 0);
    T_EQ_INT(mtr_api_batch_fast(&b, "[{\"a\":1},", 9, MTR_KIND_READING, NULL, NULL), 0);
    T_EQ_INT(b.n, 0);
    mtr_api_batch_free(&b);
}

int main(void)
{
    T_RUN(test_router);
    T_RUN(test_route_table);
    T_RUN(test_jsonw);
    T_RUN(test_openapi);
    T_RUN(test_keys);
    T_RUN(test_jwt);
    T_RUN(test_ratelimit);
    T_RUN(test_batch_fast_path);
    return T_END();
}
