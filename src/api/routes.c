/*
 * routes.c - THE route table of the API, and the two documents generated from it: the OpenAPI
 * 3.1 description (/openapi.json) and the HTML reference (/docs). A route exists for clients
 * exactly when it is in this table, so the router, the document and the docs cannot disagree.
 */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/handlers.h"

/* ---- parameters ---- */

#define P_PATH(n, d)                                                                               \
    {                                                                                              \
        n, "path", "string", 1, d, NULL, NULL                                                      \
    }
#define P_END                                                                                      \
    {                                                                                              \
        NULL, NULL, NULL, 0, NULL, NULL, NULL                                                      \
    }
#define P_FROM                                                                                     \
    {                                                                                              \
        "from", "query", "string", 0, "start of the range (ISO-8601, inclusive)", NULL,            \
            "date-time"                                                                            \
    }
#define P_TO                                                                                       \
    {                                                                                              \
        "to", "query", "string", 0, "end of the range (ISO-8601, exclusive)", NULL, "date-time"    \
    }
#define P_PERIOD                                                                                   \
    {                                                                                              \
        "period", "query", "string", 0, "range ending now when from/to are absent", "24h,7d,30d",  \
            NULL                                                                                   \
    }
#define P_PAGE                                                                                     \
    {                                                                                              \
        "page", "query", "integer", 0, "1-based page (default 1)", NULL, NULL                      \
    }
#define P_PAGE_SIZE                                                                                \
    {                                                                                              \
        "page_size", "query", "integer", 0, "items per page, 1..1000 (default 20)", NULL, NULL     \
    }

static const struct mtr_api_param p_meter[] = {P_PATH("meter_id", "meter id"), P_END};
static const struct mtr_api_param p_operator[] = {P_PATH("operator_id", "grid operator id"), P_END};
static const struct mtr_api_param p_station[] = {P_PATH("station_id", "weather station id"), P_END};
static const struct mtr_api_param p_key[] = {P_PATH("key_id", "the key's public id"), P_END};
static const struct mtr_api_param p_meter_list[] = {
    {"status", "query", "string", 0, "meter status",
     "pending,active,inactive,maintenance,faulty,decommissioned", NULL},
    {"type", "query", "string", 0, "meter type", "residential,commercial,industrial", NULL},
    {"quality_tier", "query", "string", 0, "quality tier (mean day score over all stored days)",
     "unknown,poor,fair,good,excellent", NULL},
    {"manufacturer", "query", "string", 0, "manufacturer (exact, any case)", NULL, NULL},
    {"grid_operator", "query", "string", 0, "grid operator id", NULL, NULL},
    {"weather_station", "query", "string", 0, "weather station id", NULL, NULL},
    {"lat", "query", "number", 0, "centre latitude for radius_km", NULL, NULL},
    {"lon", "query", "number", 0, "centre longitude for radius_km", NULL, NULL},
    {"radius_km", "query", "number", 0, "great-circle radius around lat/lon, km", NULL, NULL},
    {"bbox", "query", "string", 0, "bounding box min_lon,min_lat,max_lon,max_lat", NULL, NULL},
    P_PAGE,
    P_PAGE_SIZE,
    {"sort", "query", "string", 0, "sort key (ties by meter_id)",
     "meter_id,created_at,updated_at,installed_at,status,manufacturer", NULL},
    {"order", "query", "string", 0, "sort order", "asc,desc", NULL},
    P_END};
static const struct mtr_api_param p_readings_get[] = {
    P_PATH("meter_id", "meter id"),
    P_FROM,
    P_TO,
    P_PERIOD,
    {"resolution", "query", "string", 0, "raw intervals or resampled", "raw,hourly,daily", NULL},
    {"limit", "query", "integer", 0, "at most this many raw readings", NULL, NULL},
    P_END};
static const struct mtr_api_param p_meter_quality[] = {
    P_PATH("meter_id", "meter id"),
    P_FROM,
    P_TO,
    {"days", "query", "boolean", 0, "include every meter-day", NULL, NULL},
    P_END};
static const struct mtr_api_param p_meter_range[] = {P_PATH("meter_id", "meter id"), P_FROM, P_TO,
                                                     P_PERIOD, P_END};
static const struct mtr_api_param p_quarantine[] = {
    P_FROM, P_TO,        {"kind", "query", "string", 0, "series", "readings,grid,weather", NULL},
    P_PAGE, P_PAGE_SIZE, P_END};
static const struct mtr_api_param p_anomalies[] = {
    P_FROM,
    P_TO,
    P_PERIOD,
    {"source", "query", "string", 0, "series", "readings,grid,weather", NULL},
    {"type", "query", "string", 0, "anomaly type (rule id, see metrify rules)", NULL, NULL},
    {"level", "query", "string", 0, "minimum level", "low,medium,high,critical", NULL},
    {"entity_id", "query", "string", 0, "meter, operator or station id", NULL, NULL},
    {"limit", "query", "integer", 0, "recent alerts listed (default 10)", NULL, NULL},
    P_END};
static const struct mtr_api_param p_range[] = {P_FROM, P_TO, P_PERIOD, P_END};
static const struct mtr_api_param p_site_list[] = {
    {"status", "query", "string", 0, "status", "active,inactive,maintenance", NULL},
    P_PAGE,
    P_PAGE_SIZE,
    P_END};
static const struct mtr_api_param p_op_series[] = {
    P_PATH("operator_id", "grid operator id"),
    P_FROM,
    P_TO,
    P_PERIOD,
    P_PAGE,
    {"page_size", "query", "integer", 0, "items per page, 1..1000 (default 100)", NULL, NULL},
    P_END};
static const struct mtr_api_param p_st_series[] = {
    P_PATH("station_id", "weather station id"),
    P_FROM,
    P_TO,
    P_PERIOD,
    P_PAGE,
    {"page_size", "query", "integer", 0, "items per page, 1..1000 (default 100)", NULL, NULL},
    P_END};
static const struct mtr_api_param p_op_range[] = {P_PATH("operator_id", "grid operator id"), P_FROM,
                                                  P_TO, P_PERIOD, P_END};
static const struct mtr_api_param p_st_range[] = {P_PATH("station_id", "weather station id"),
                                                  P_FROM, P_TO, P_PERIOD, P_END};
static const struct mtr_api_param p_daily[] = {
    {"date", "query", "string", 0, "the day (YYYY-MM-DD, default today UTC)", NULL, "date"}, P_END};
static const struct mtr_api_param p_energy[] = {
    P_FROM,
    P_TO,
    P_PERIOD,
    {"group_by", "query", "string", 0, "aggregate per meter, grid operator or day",
     "meter,grid_operator,day", NULL},
    {"meter_id", "query", "string", 0, "only this meter", NULL, NULL},
    {"grid_operator", "query", "string", 0, "only meters of this grid operator", NULL, NULL},
    P_END};

#define V     MTR_ROLE_VIEWER
#define O     MTR_ROLE_OPERATOR
#define A     MTR_ROLE_ADMIN
#define PUB   MTR_ROLE_NONE
#define BODY  MTR_API_BODY
#define BATCH (MTR_API_BODY | MTR_API_NDJSON)
#define HL    MTR_API_HEALTH

const struct mtr_api_route mtr_api_routes[] = {
    {"GET", "/", PUB, mtr_h_root, "system", "Service information", NULL, NULL, 200, "Root", NULL,
     0},
    {"GET", "/health", V, mtr_h_health, "system", "Health: queries the store", NULL, NULL, 200,
     "Health", NULL, HL},
    {"GET", "/ready", V, mtr_h_ready, "system", "Readiness (503 while stopping)", NULL, NULL, 200,
     "Ready", NULL, HL},
    {"GET", "/metrics", V, mtr_h_metrics, "system", "Prometheus metrics", NULL, NULL, 200, NULL,
     "text/plain", HL},
    {"GET", "/openapi.json", PUB, mtr_h_openapi, "system", "This OpenAPI 3.1 document", NULL, NULL,
     200, "OpenApi", NULL, 0},
    {"GET", "/docs", PUB, mtr_h_docs, "system", "HTML API reference", NULL, NULL, 200, NULL,
     "text/html", 0},

    {"POST", "/api/v1/smart-meters", O, mtr_h_meter_create, "smart-meters", "Register a meter",
     NULL, "MeterInput", 201, "Meter", NULL, BODY},
    {"GET", "/api/v1/smart-meters", V, mtr_h_meter_list, "smart-meters",
     "Search meters: filters, radius or bounding box, paging, sorting", p_meter_list, NULL, 200,
     "MeterPage", NULL, 0},
    {"GET", "/api/v1/smart-meters/{meter_id}", V, mtr_h_meter_get, "smart-meters", "Get a meter",
     p_meter, NULL, 200, "Meter", NULL, 0},
    {"PUT", "/api/v1/smart-meters/{meter_id}", O, mtr_h_meter_update, "smart-meters",
     "Update a meter (status moves as in docs/domain.md, else 409)", p_meter, "MeterUpdate", 200,
     "Meter", NULL, BODY},
    {"DELETE", "/api/v1/smart-meters/{meter_id}", O, mtr_h_meter_delete, "smart-meters",
     "Deactivate (decommission) a meter; its readings are kept", p_meter, NULL, 200, "Meter", NULL,
     0},
    {"POST", "/api/v1/smart-meters/{meter_id}/readings", O, mtr_h_readings_post_meter, "readings",
     "Ingest a batch of one meter's readings", p_meter, "ReadingBatch", 200, "IngestResult", NULL,
     BATCH},
    {"GET", "/api/v1/smart-meters/{meter_id}/readings", V, mtr_h_readings_get, "readings",
     "A meter's readings over a range: raw, hourly or daily, with quality codes", p_readings_get,
     NULL, 200, "ReadingSeries", NULL, 0},
    {"GET", "/api/v1/smart-meters/{meter_id}/analytics", V, mtr_h_meter_analytics, "smart-meters",
     "A meter's analytics over a range", p_meter_range, NULL, 200, "MeterAnalytics", NULL, 0},
    {"GET", "/api/v1/smart-meters/{meter_id}/quality", V, mtr_h_meter_quality, "smart-meters",
     "A meter's data-quality report", p_meter_quality, NULL, 200, "QualityReport", NULL, 0},
    {"POST", "/api/v1/readings", O, mtr_h_readings_post, "readings",
     "Ingest a batch of readings of any meters", NULL, "ReadingBatch", 200, "IngestResult", NULL,
     BATCH},

    {"POST", "/api/v1/grid-operators", O, mtr_h_operator_create, "grid-operators",
     "Register a grid operator", NULL, "OperatorInput", 201, "Operator", NULL, BODY},
    {"GET", "/api/v1/grid-operators", V, mtr_h_operator_list, "grid-operators",
     "List grid operators", p_site_list, NULL, 200, "OperatorPage", NULL, 0},
    {"GET", "/api/v1/grid-operators/{operator_id}/status", V, mtr_h_operator_status_get,
     "grid-operators", "Grid status history over a range", p_op_series, NULL, 200, "GridSeries",
     NULL, 0},
    {"GET", "/api/v1/grid-operators/{operator_id}/analytics", V, mtr_h_operator_analytics,
     "grid-operators", "Averages, peak load and when, minimum stability and when, anomaly rate",
     p_op_range, NULL, 200, "OperatorAnalytics", NULL, 0},
    {"GET", "/api/v1/grid-operators/{operator_id}", V, mtr_h_operator_get, "grid-operators",
     "Get a grid operator", p_operator, NULL, 200, "Operator", NULL, 0},
    {"PUT", "/api/v1/grid-operators/{operator_id}", O, mtr_h_operator_update, "grid-operators",
     "Update a grid operator", p_operator, "OperatorUpdate", 200, "Operator", NULL, BODY},
    {"POST", "/api/v1/grid-operators/{operator_id}/status", O, mtr_h_operator_status_post,
     "grid-operators", "Ingest a batch of grid status records", p_operator, "GridStatusBatch", 200,
     "IngestResult", NULL, BATCH},

    {"POST", "/api/v1/weather/stations", O, mtr_h_station_create, "weather",
     "Register a weather station", NULL, "StationInput", 201, "Station", NULL, BODY},
    {"GET", "/api/v1/weather/stations", V, mtr_h_station_list, "weather", "List weather stations",
     p_site_list, NULL, 200, "StationPage", NULL, 0},
    {"GET", "/api/v1/weather/stations/{station_id}/observations", V, mtr_h_station_obs_get,
     "weather", "Observations over a range", p_st_series, NULL, 200, "WeatherSeries", NULL, 0},
    {"GET", "/api/v1/weather/stations/{station_id}/analytics", V, mtr_h_station_analytics,
     "weather", "Averages, extremes and total precipitation over a range", p_st_range, NULL, 200,
     "StationAnalytics", NULL, 0},
    {"GET", "/api/v1/weather/stations/{station_id}", V, mtr_h_station_get, "weather",
     "Get a weather station", p_station, NULL, 200, "Station", NULL, 0},
    {"PUT", "/api/v1/weather/stations/{station_id}", O, mtr_h_station_update, "weather",
     "Update a weather station", p_station, "StationUpdate", 200, "Station", NULL, BODY},
    {"POST", "/api/v1/weather/stations/{station_id}/observations", O, mtr_h_station_obs_post,
     "weather", "Ingest a batch of weather observations", p_station, "WeatherBatch", 200,
     "IngestResult", NULL, BATCH},

    {"GET", "/api/v1/analytics/overview", V, mtr_h_an_overview, "analytics",
     "Fleet overview: counts, data quality, anomalies", p_range, NULL, 200, "Overview", NULL, 0},
    {"GET", "/api/v1/analytics/energy-consumption", V, mtr_h_an_energy, "analytics",
     "Energy consumption per meter, grid operator or day", p_energy, NULL, 200, "Energy", NULL, 0},
    {"GET", "/api/v1/analytics/anomalies", V, mtr_h_an_anomalies, "analytics",
     "Anomalies by type, level and source, with the most recent", p_anomalies, NULL, 200,
     "Anomalies", NULL, 0},
    {"GET", "/api/v1/analytics/data-quality", V, mtr_h_an_quality, "analytics",
     "Fleet data-quality report", p_range, NULL, 200, "QualityReport", NULL, 0},
    {"GET", "/api/v1/analytics/reports/daily", V, mtr_h_an_daily, "analytics",
     "Daily report for one date", p_daily, NULL, 200, "DailyReport", NULL, 0},
    {"GET", "/api/v1/quarantine", V, mtr_h_quarantine, "analytics",
     "Rejected records with their rule and reason", p_quarantine, NULL, 200, "QuarantinePage", NULL,
     0},

    {"GET", "/api/v1/admin/keys", A, mtr_h_keys_list, "admin", "List API keys (never the keys)",
     NULL, NULL, 200, "KeyList", NULL, 0},
    {"POST", "/api/v1/admin/keys", A, mtr_h_keys_create, "admin", "Create an API key (shown once)",
     NULL, "KeyInput", 201, "KeyCreated", NULL, BODY},
    {"DELETE", "/api/v1/admin/keys/{key_id}", A, mtr_h_keys_revoke, "admin", "Revoke an API key",
     p_key, NULL, 204, NULL, NULL, 0},
    {"POST", "/api/v1/admin/maintenance/check", A, mtr_h_maint_check, "admin",
     "Check the store's integrity and rollups", NULL, NULL, 200, "CheckResult", NULL, 0},
};
const size_t mtr_api_route_count = sizeof mtr_api_routes / sizeof mtr_api_routes[0];
