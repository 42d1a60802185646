/*
 * meters.h - read-side use cases over meters for the API: search (store filters + radius +
 * quality tier + paging), a meter's quality tier, and a meter's analytics over a time range
 * (reference-spec 3.5 SmartMeterAnalytics, from the stored readings).
 *
 * Quality tier of a meter: the tier of the mean meter-day score over every stored day of the meter
 * (app/report.c, the figures of `metrify quality --meter ID`); `unknown` when it has no days.
 */
#ifndef MTR_APP_METERS_H
#define MTR_APP_METERS_H

#include "app/ports.h"

struct mtr_meter_search {
    struct mtr_meter_filter f; /* store-side filters and order; its limit/offset are ignored */
    int has_radius;            /* within radius_km of (lat, lon), great-circle distance */
    double lat, lon, radius_km;
    int tier;                /* enum mtr_tier, -1 = any */
    int64_t page, page_size; /* 1-based page; page_size > 0 */
};

/* A search result row: the meter, its tier and mean day score (NAN when unknown), and its
 * distance in km from the search centre (NAN without a radius). Borrowed for the callback. */
typedef int (*mtr_meter_row_fn)(void *ctx, const struct mtr_meter *m, enum mtr_tier tier,
                                double score, double distance_km);

/* Runs q; calls cb for each meter of the requested page in order; *total = every match. The
 * radius adds a bounding-box prefilter in the store and an exact great-circle check here.
 * Returns 0, a callback's non-zero value, or a store error (MTR_ENOMEM). */
int mtr_meter_search_run(struct mtr_store *s, const struct mtr_meter_search *q, int64_t *total,
                         mtr_meter_row_fn cb, void *ctx);

/* The tier and mean day score of one meter (see above). */
int mtr_meter_tier(struct mtr_store *s, const char *id, enum mtr_tier *tier, double *score);

/* Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
double mtr_geo_distance_km(double lat1, double lon1, double lat2, double lon2);

/* Analytics of one meter over [from, to), from its stored readings (reference-spec 3.5). */
struct mtr_meter_analytics {
    int64_t from, to;
    int64_t total_readings; /* stored intervals, estimates included */
    int64_t measured, estimated, flagged, anomalous;
    double avg_voltage, avg_current, avg_power_factor, avg_frequency; /* NAN without values */
    double total_kwh;         /* analytics-grade values (estimates in, questionable out) */
    double avg_quality_score; /* mean reading score */
    double anomaly_rate;      /* anomalous / total_readings x 100 (percent) */
    double peak_kwh;          /* largest analytics-grade interval value, NAN when none */
    int64_t peak_ts;
};
int mtr_meter_analytics_run(struct mtr_store *s, int64_t meter_key, int64_t from, int64_t to,
                            struct mtr_meter_analytics *out);

#endif
