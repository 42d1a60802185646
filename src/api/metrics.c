/* metrics.c - Prometheus counters and histograms of the API server (see metrics.h). */
#include "api/metrics.h"

#include <stdio.h>
#include <string.h>

#include "api/route.h"

static const int statuses[MTR_METRICS_STATUSES] = {200, 201, 204, 207, 400, 401, 403, 404, 405,
                                                   409, 413, 415, 422, 429, 500, 503, 0,   0};
/* upper bounds in microseconds; the last bucket is +Inf */
static const int64_t bounds_us[MTR_METRICS_BUCKETS - 1] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 2500000, 10000000};

static int status_slot(int status)
{
    for (int i = 0; i < MTR_METRICS_STATUSES; i++)
        if (statuses[i] == status)
            return i;
    return MTR_METRICS_STATUSES - 1; /* "other" */
}

void mtr_api_metrics_request(struct mtr_api_metrics *m, int route, int status, int64_t dur_us)
{
    int r = route < 0 || route >= MTR_METRICS_ROUTES - 1 ? MTR_METRICS_ROUTES - 1 : route;
    int s = status_slot(status);
    int b = 0;
    while (b < MTR_METRICS_BUCKETS - 1 && dur_us > bounds_us[b])
        b++;
    __atomic_fetch_add(&m->req[r][s], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->hist[r][s][b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->sum_us[r][s], (uint64_t)(dur_us < 0 ? 0 : dur_us), __ATOMIC_RELAXED);
}

void mtr_api_metrics_ingest(struct mtr_api_metrics *m, enum mtr_kind kind,
                            const struct mtr_ingest_stats *st)
{
    if ((unsigned)kind >= MTR_KIND_COUNT)
        return;
    __atomic_fetch_add(&m->accepted[kind], (uint64_t)st->accepted, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->rejected[kind], (uint64_t)st->rejected, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->estimated, (uint64_t)st->estimated, __ATOMIC_RELAXED);
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (st->by_rule[i])
            __atomic_fetch_add(&m->by_rule[i], (uint64_t)st->by_rule[i], __ATOMIC_RELAXED);
}

#define line mtr_jw_appendf

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void mtr_api_metrics_text(const struct mtr_api_metrics *m, const struct mtr_store_stats *st,
                          const uint64_t *alerts_by_type, double figures_age_s, struct mtr_jw *w)
{
    line(w, "# HELP metrify_http_requests_total HTTP requests by route, method and status.\n"
            "# TYPE metrify_http_requests_total counter\n");
    for (int r = 0; r < MTR_METRICS_ROUTES; r++) {
        const char *meth = "", *pat = "unmatched";
        if (r < MTR_METRICS_ROUTES - 1) {
            if ((size_t)r >= mtr_api_route_count)
                continue;
            meth = mtr_api_routes[r].method;
            pat = mtr_api_routes[r].pattern;
        }
        for (int s = 0; s < MTR_METRICS_STATUSES; s++) {
            uint64_t n = ld(&m->req[r][s]);
            if (!n)
                continue;
            char st_s[8];
            snprintf(st_s, sizeof st_s, "%d", statuses[s] ? statuses[s] : 0);
            line(w, "metrify_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                 pat, meth, statuses[s] ? st_s : "other", (unsigned long long)n);
        }
    }
    line(w, "# HELP metrify_http_request_duration_seconds Request latency by route and status.\n"
            "# TYPE metrify_http_request_duration_seconds histogram\n");
    for (int r = 0; r < MTR_METRICS_ROUTES; r++) {
        const char *meth = "", *pat = "unmatched";
        if (r < MTR_METRICS_ROUTES - 1) {
            if ((size_t)r >= mtr_api_route_count)
                continue;
            meth = mtr_api_routes[r].method;
            pat = mtr_api_routes[r].pattern;
        }
        for (int s = 0; s < MTR_METRICS_STATUSES; s++) {
            uint64_t n = ld(&m->req[r][s]);
            if (!n)
                continue;
            char st_s[8];
            snprintf(st_s, sizeof st_s, "%d", statuses[s]);
            const char *sv = statuses[s] ? st_s : "other";
            uint64_t cum = 0;
            for (int b = 0; b < MTR_METRICS_BUCKETS; b++) {
                cum += ld(&m->hist[r][s][b]);
                char le[24];
                if (b < MTR_METRICS_BUCKETS - 1)
                    snprintf(le, sizeof le, "%g", (double)bounds_us[b] / 1e6);
                else
                    snprintf(le, sizeof le, "+Inf");
                line(w,
                     "metrify_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                     "status=\"%s\",le=\"%s\"} %llu\n",
                     pat, meth, sv, le, (unsigned long long)cum);
            }
            line(w,
                 "metrify_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\","
                 "status=\"%s\"} %.6f\n",
                 pat, meth, sv, (double)ld(&m->sum_us[r][s]) / 1e6);
            line(w,
                 "metrify_http_request_duration_seconds_count{route=\"%s\",method=\"%s\","
                 "status=\"%s\"} %llu\n",
                 pat, meth, sv, (unsigned long long)n);
        }
    }
    line(w, "# HELP metrify_http_requests_in_flight Requests being served.\n"
            "# TYPE metrify_http_requests_in_flight gauge\n");
    line(w, "metrify_http_requests_in_flight %llu\n", (unsigned long long)ld(&m->in_flight));
    line(w, "# HELP metrify_ingested_records_total Records accepted over HTTP, by series.\n"
            "# TYPE metrify_ingested_records_total counter\n");
    for (int k = 0; k < MTR_KIND_WEATHER + 1; k++)
        line(w, "metrify_ingested_records_total{kind=\"%s\"} %llu\n", mtr_kind_name(k),
             (unsigned long long)ld(&m->accepted[k]));
    line(w, "# HELP metrify_rejected_records_total Records rejected (quarantined) over HTTP.\n"
            "# TYPE metrify_rejected_records_total counter\n");
    for (int k = 0; k < MTR_KIND_WEATHER + 1; k++)
        line(w, "metrify_rejected_records_total{kind=\"%s\"} %llu\n", mtr_kind_name(k),
             (unsigned long long)ld(&m->rejected[k]));
    line(w,
         "# HELP metrify_estimated_intervals_total Intervals created by estimation.\n"
         "# TYPE metrify_estimated_intervals_total counter\n"
         "metrify_estimated_intervals_total %llu\n",
         (unsigned long long)ld(&m->estimated));
    line(w, "# HELP metrify_rule_hits_total Records rejected or flagged over HTTP, by rule id.\n"
            "# TYPE metrify_rule_hits_total counter\n");
    for (int i = 0; i < MTR_RULE_COUNT; i++) {
        const struct mtr_rule *ru = mtr_rule(i);
        if (!ru)
            continue;
        line(w, "metrify_rule_hits_total{rule=\"%s\",action=\"%s\"} %llu\n", ru->name,
             ru->action == MTR_ACT_QUARANTINE ? "quarantine"
             : ru->action == MTR_ACT_FLAG     ? "flag"
             : ru->action == MTR_ACT_ALERT    ? "alert"
                                              : "info",
             (unsigned long long)ld(&m->by_rule[i]));
    }
    line(w,
         "# HELP metrify_store_figures_age_seconds Age of the store figures below (anomalies, "
         "store size and rows): they are computed at most every --metrics-cache seconds.\n"
         "# TYPE metrify_store_figures_age_seconds gauge\n"
         "metrify_store_figures_age_seconds %.3f\n",
         figures_age_s);
    if (alerts_by_type) {
        line(w, "# HELP metrify_anomalies Anomaly alerts in the store, by type.\n"
                "# TYPE metrify_anomalies gauge\n");
        for (int i = 0; i < MTR_RULE_COUNT; i++)
            if (alerts_by_type[i])
                line(w, "metrify_anomalies{type=\"%s\"} %llu\n", mtr_rule(i)->name,
                     (unsigned long long)alerts_by_type[i]);
    }
    if (st) {
        line(w,
             "# HELP metrify_store_bytes Size of the store.\n"
             "# TYPE metrify_store_bytes gauge\nmetrify_store_bytes %lld\n",
             (long long)st->bytes);
        line(w, "# HELP metrify_store_rows Rows in the store, by table.\n"
                "# TYPE metrify_store_rows gauge\n");
        line(w, "metrify_store_rows{table=\"meters\"} %lld\n", (long long)st->meters);
        line(w, "metrify_store_rows{table=\"readings\"} %lld\n", (long long)st->readings);
        line(w, "metrify_store_rows{table=\"grid_status\"} %lld\n", (long long)st->grid_status);
        line(w, "metrify_store_rows{table=\"weather\"} %lld\n", (long long)st->weather);
        line(w, "metrify_store_rows{table=\"alerts\"} %lld\n", (long long)st->alerts);
        line(w, "metrify_store_rows{table=\"quarantine\"} %lld\n", (long long)st->quarantined);
    }
}
