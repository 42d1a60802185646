/*
 * router.c - matches a request against the route table (route.h): segment by segment, "{name}"
 * capturing one non-empty segment. A trailing slash is ignored. Linear over the table, which is
 * small; no allocation.
 */
#include <stdio.h>
#include <string.h>

#include "api/route.h"

/* Matches path (plen bytes, a trailing slash already cut) against pattern; fills vals with the
 * captures. 1 = match. */
static int match(const char *pat, const char *path, size_t plen,
                 char vals[MTR_API_MAX_PARAMS][MTR_API_PARAM_MAX])
{
    int nv = 0;
    const char *p = path, *end = path + plen;
    while (*pat) {
        if (*pat != '/' || p >= end || *p != '/')
            return 0;
        pat++;
        p++;
        const char *ps = pat;
        while (*pat && *pat != '/')
            pat++;
        const char *ss = p;
        while (p < end && *p != '/')
            p++;
        size_t pn = (size_t)(pat - ps), sn = (size_t)(p - ss);
        if (pn >= 2 && ps[0] == '{' && ps[pn - 1] == '}') {
            if (!sn || sn >= MTR_API_PARAM_MAX || nv >= MTR_API_MAX_PARAMS)
                return 0;
            memcpy(vals[nv], ss, sn);
            vals[nv][sn] = 0;
            nv++;
        } else if (pn != sn || memcmp(ps, ss, sn) != 0) {
            return 0;
        }
    }
    return p == end;
}

int mtr_api_route_match(const char *method, const char *path,
                        char vals[MTR_API_MAX_PARAMS][MTR_API_PARAM_MAX], char *allow,
                        size_t allow_cap)
{
    static const char *const order[] = {"GET", "POST", "PUT", "DELETE"};
    char tmp[MTR_API_MAX_PARAMS][MTR_API_PARAM_MAX];
    unsigned seen = 0;
    if (allow && allow_cap)
        allow[0] = 0;
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    size_t plen = strlen(path);
    if (plen > 1 && path[plen - 1] == '/')
        plen--;
    /* the routes of this method first (the common case: one cheap compare per other route) */
    for (size_t i = 0; i < mtr_api_route_count; i++) {
        const struct mtr_api_route *rt = &mtr_api_routes[i];
        if (strcmp(rt->method, want) == 0 && match(rt->pattern, path, plen, vals))
            return (int)i;
    }
    /* none: which methods the path has (405 with Allow) or none at all (404) */
    for (size_t i = 0; i < mtr_api_route_count; i++) {
        const struct mtr_api_route *rt = &mtr_api_routes[i];
        if (!match(rt->pattern, path, plen, tmp))
            continue;
        for (unsigned m = 0; m < 4; m++)
            if (strcmp(rt->method, order[m]) == 0)
                seen |= 1u << m;
    }
    if (!seen)
        return -1;
    size_t an = 0; /* the Allow header, in a fixed order */
    for (unsigned m = 0; m < 4 && allow; m++) {
        if (!(seen & (1u << m)) || an >= allow_cap)
            continue;
        int n = snprintf(allow + an, allow_cap - an, "%s%s", an ? ", " : "", order[m]);
        if (n > 0)
            an += (size_t)n;
    }
    return -2;
}
