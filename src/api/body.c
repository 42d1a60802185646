/* body.c - typed JSON body fields with 422 errors naming the field (see body.h). */
#include "api/body.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/timeparse.h"

static int bad(struct mtr_api_req *r, const char *name, const char *what)
{
    struct mtr_jw d;
    mtr_jw_init(&d);
    mtr_jw_obj(&d);
    mtr_jw_kstr(&d, "field", name);
    mtr_jw_end_obj(&d);
    mtr_api_error(r, 422, "invalid_field", mtr_jw_failed(&d) ? NULL : d.buf, "%.100s: %s", name,
                  what);
    mtr_jw_free(&d);
    return -1;
}

int mtr_api_f_str(struct mtr_api_req *r, json_t *o, const char *name, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(r, name, "must be a string");
    if (json_string_length(v) >= cap) {
        char m[64];
        snprintf(m, sizeof m, "longer than %zu bytes", cap - 1);
        return bad(r, name, m);
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 1;
}

int mtr_api_f_num(struct mtr_api_req *r, json_t *o, const char *name, double lo, double hi,
                  double *dst)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return bad(r, name, "must be a number");
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) {
        char m[96];
        snprintf(m, sizeof m, "must be in [%g, %g]", lo, hi);
        return bad(r, name, m);
    }
    *dst = x;
    return 1;
}

int mtr_api_f_time(struct mtr_api_req *r, json_t *o, const char *name, int64_t *dst)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return 0;
    char msg[160];
    if (!json_is_string(v))
        return bad(r, name, "must be an ISO-8601 date-time string");
    if (mtr_time_parse_msg(json_string_value(v), json_string_length(v), dst, msg, sizeof msg) < 0)
        return bad(r, name, msg);
    return 1;
}

int mtr_api_f_enum(struct mtr_api_req *r, json_t *o, const char *name, int (*parse)(const char *),
                   const char *choices, int *dst)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return 0;
    int x = json_is_string(v) ? parse(json_string_value(v)) : -1;
    if (x < 0) {
        char m[200];
        snprintf(m, sizeof m, "must be one of %s", choices);
        return bad(r, name, m);
    }
    *dst = x;
    return 1;
}

int mtr_api_f_known(struct mtr_api_req *r, json_t *o, const char *allowed)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o)) {
        mtr_api_error(r, 422, "invalid_body", NULL, "the body must be a JSON object");
        return -1;
    }
    json_object_foreach(o, k, v)
    {
        size_t kl = strlen(k);
        int ok = 0;
        for (const char *p = allowed; *p && !ok;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            ok = n == kl && strncmp(p, k, n) == 0;
            p += n + (e != NULL);
        }
        if (!ok) {
            char m[400];
            snprintf(m, sizeof m, "unknown field (known: %s)", allowed);
            return bad(r, k, m);
        }
    }
    return 0;
}
