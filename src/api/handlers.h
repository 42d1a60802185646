/*
 * handlers.h - the route handlers (one h_*.c file per resource) and the helpers they share.
 * Every handler returns 0 after writing a response or an error into the request; the route table
 * in routes.c names them. Internal to src/api.
 */
#ifndef MTR_API_HANDLERS_H
#define MTR_API_HANDLERS_H

#include "api/route.h"
#include "app/report.h"

/* shared helpers (h_meters.c) */
int mtr_api_meter_key(struct mtr_api_req *r, int64_t *key);
int mtr_api_range(struct mtr_api_req *r, int64_t *from, int64_t *to, int dflt_period);
void mtr_api_write_day(struct mtr_jw *w, const struct mtr_day_report *d);
void mtr_api_write_quality_total(struct mtr_jw *w, const struct mtr_quality_total *t);

/* h_system.c */
int mtr_h_health(struct mtr_api_req *r);
int mtr_h_ready(struct mtr_api_req *r);
int mtr_h_metrics(struct mtr_api_req *r);
int mtr_h_openapi(struct mtr_api_req *r);
int mtr_h_docs(struct mtr_api_req *r);
int mtr_h_root(struct mtr_api_req *r);
int mtr_h_keys_list(struct mtr_api_req *r);
int mtr_h_keys_create(struct mtr_api_req *r);
int mtr_h_keys_revoke(struct mtr_api_req *r);
int mtr_h_maint_check(struct mtr_api_req *r);
int mtr_h_quarantine(struct mtr_api_req *r);

/* h_meters.c */
int mtr_h_meter_create(struct mtr_api_req *r);
int mtr_h_meter_list(struct mtr_api_req *r);
int mtr_h_meter_get(struct mtr_api_req *r);
int mtr_h_meter_update(struct mtr_api_req *r);
int mtr_h_meter_delete(struct mtr_api_req *r);
int mtr_h_meter_quality(struct mtr_api_req *r);
int mtr_h_meter_analytics(struct mtr_api_req *r);

/* h_readings.c */
int mtr_h_readings_post_meter(struct mtr_api_req *r);
int mtr_h_readings_post(struct mtr_api_req *r);
int mtr_h_readings_get(struct mtr_api_req *r);

/* h_sites.c */
int mtr_h_operator_create(struct mtr_api_req *r);
int mtr_h_operator_get(struct mtr_api_req *r);
int mtr_h_operator_update(struct mtr_api_req *r);
int mtr_h_operator_status_post(struct mtr_api_req *r);
int mtr_h_station_create(struct mtr_api_req *r);
int mtr_h_station_get(struct mtr_api_req *r);
int mtr_h_station_update(struct mtr_api_req *r);
int mtr_h_station_obs_post(struct mtr_api_req *r);
int mtr_h_operator_list(struct mtr_api_req *r);
int mtr_h_station_list(struct mtr_api_req *r);
int mtr_h_operator_status_get(struct mtr_api_req *r);
int mtr_h_station_obs_get(struct mtr_api_req *r);
int mtr_h_operator_analytics(struct mtr_api_req *r);
int mtr_h_station_analytics(struct mtr_api_req *r);

/* h_analytics.c */
int mtr_h_an_overview(struct mtr_api_req *r);
int mtr_h_an_anomalies(struct mtr_api_req *r);
int mtr_h_an_quality(struct mtr_api_req *r);
int mtr_h_an_daily(struct mtr_api_req *r);
int mtr_h_an_energy(struct mtr_api_req *r);

#endif
