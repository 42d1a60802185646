/*
 * openapi.c - generates the OpenAPI 3.1 document and the HTML reference from the route table
 * (routes.c). Paths, methods, parameters, roles, bodies and statuses come from the table; the
 * component schemas below describe the JSON the handlers write (tests/js/check_openapi.mjs
 * validates the document and checks every documented route against a running server).
 */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/route.h"

static const struct {
    const char *name, *json;
} schemas[] = {
    {"Error", "{\"type\":\"object\",\"required\":[\"error\"],\"properties\":{\"error\":{\"type\""
              ":\"object\",\"required\":[\"code\",\"message\",\"details\"],\"properties\":{\"co"
              "de\":{\"type\":\"string\",\"description\":\"stable machine-readable code: bad_pa"
              "rameter, malformed_json, invalid_field, unauthorized, forbidden, not_found, rout"
              "e_not_found, method_not_allowed, conflict, invalid_transition, payload_too_large"
              ", unsupported_media_type, rate_limited, internal, ...\"},\"message\":{\"type\":\""
              "string\"},\"details\":{\"type\":\"object\"}}}}}"},
    {"Root", "{\"type\":\"object\",\"properties\":{\"service\":{\"type\":\"string\"},\"version"
             "\":{\"type\":\"string\"},\"docs\":{\"type\":\"string\"},\"openapi\":{\"type\":\""
             "string\"},\"health\":{\"type\":\"string\"}}}"},
    {"Health", "{\"type\":\"object\",\"required\":[\"status\",\"store\"],\"properties\":{\"statu"
               "s\":{\"enum\":[\"ok\",\"unhealthy\"]},\"store\":{\"type\":\"object\",\"propertie"
               "s\":{\"adapter\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},\"error\""
               ":{\"type\":\"string\"},\"latency_ms\":{\"type\":\"number\"}}},\"version\":{\"typ"
               "e\":\"string\"},\"uptime_s\":{\"type\":\"integer\"}}}"},
    {"Ready", "{\"type\":\"object\",\"properties\":{\"ready\":{\"type\":\"boolean\"}}}"},
    {"OpenApi", "{\"type\":\"object\",\"description\":\"this document\"}"},
    {"MeterStatus",
     "{\"enum\":[\"pending\",\"active\",\"inactive\",\"maintenance\",\"faulty\",\"deco"
     "mmissioned\"]}"},
    {"MeterType", "{\"enum\":[\"residential\",\"commercial\",\"industrial\"]}"},
    {"Tier", "{\"enum\":[\"unknown\",\"poor\",\"fair\",\"good\",\"excellent\"]}"},
    {"Meter", "{\"type\":\"object\",\"required\":[\"meter_id\",\"status\",\"type\"],\"propertie"
              "s\":{\"meter_id\":{\"type\":\"string\"},\"status\":{\"$ref\":\"#/components/sche"
              "mas/MeterStatus\"},\"type\":{\"$ref\":\"#/components/schemas/MeterType\"},\"qual"
              "ity_tier\":{\"$ref\":\"#/components/schemas/Tier\"},\"quality_score\":{\"type\":"
              "[\"number\",\"null\"]},\"distance_km\":{\"type\":\"number\"},\"latitude\":{\"typ"
              "e\":[\"number\",\"null\"]},\"longitude\":{\"type\":[\"number\",\"null\"]},\"addr"
              "ess\":{\"type\":\"string\"},\"manufacturer\":{\"type\":\"string\"},\"model\":{\""
              "type\":\"string\"},\"firmware\":{\"type\":\"string\"},\"tariff\":{\"type\":\"str"
              "ing\"},\"installed_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\""
              "},\"operator_id\":{\"type\":\"string\"},\"station_id\":{\"type\":\"string\"},\"b"
              "ase_kwh\":{\"type\":[\"number\",\"null\"]}}}"},
    {"MeterUpdate",
     "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"meter_id\""
     ":{\"type\":\"string\",\"description\":\"must equal the path's id\"},\"status\":{"
     "\"$ref\":\"#/components/schemas/MeterStatus\"},\"type\":{\"$ref\":\"#/components"
     "/schemas/MeterType\"},\"latitude\":{\"type\":\"number\",\"minimum\":-90,\"maximu"
     "m\":90},\"longitude\":{\"type\":\"number\",\"minimum\":-180,\"maximum\":180},\"a"
     "ddress\":{\"type\":\"string\"},\"manufacturer\":{\"type\":\"string\"},\"model\":"
     "{\"type\":\"string\"},\"firmware\":{\"type\":\"string\"},\"tariff\":{\"type\":\""
     "string\"},\"installed_at\":{\"type\":\"string\",\"format\":\"date-time\"},\"oper"
     "ator_id\":{\"type\":\"string\"},\"station_id\":{\"type\":\"string\"},\"base_kwh\""
     ":{\"type\":\"number\",\"minimum\":0}}}"},
    {"MeterInput",
     "{\"allOf\":[{\"$ref\":\"#/components/schemas/MeterUpdate\"},{\"type\":\"object\""
     ",\"required\":[\"meter_id\"]}]}"},
    {"MeterPage",
     "{\"type\":\"object\",\"required\":[\"items\",\"total\",\"page\",\"page_size\"],\""
     "properties\":{\"items\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/s"
     "chemas/Meter\"}},\"total\":{\"type\":\"integer\"},\"page\":{\"type\":\"integer\""
     "},\"page_size\":{\"type\":\"integer\"},\"has_next\":{\"type\":\"boolean\"},\"has"
     "_previous\":{\"type\":\"boolean\"}}}"},
    {"ReadingInput",
     "{\"type\":\"object\",\"required\":[\"timestamp\",\"consumption_kwh\"],\"descript"
     "ion\":\"field names and aliases as for metrify ingest (docs/domain.md); meter_id"
     " defaults to the path's\",\"properties\":{\"meter_id\":{\"type\":\"string\"},\"t"
     "imestamp\":{\"type\":\"string\",\"format\":\"date-time\"},\"consumption_kwh\":{\""
     "type\":\"number\"},\"interval_s\":{\"type\":\"integer\"},\"voltage_v\":{\"type\""
     ":\"number\"},\"current_a\":{\"type\":\"number\"},\"power_factor\":{\"type\":\"nu"
     "mber\"},\"frequency_hz\":{\"type\":\"number\"},\"active_power_kw\":{\"type\":\"n"
     "umber\"},\"reactive_power_kvar\":{\"type\":\"number\"}}}"},
    {"ReadingBatch",
     "{\"description\":\"a JSON array of readings, one reading, {\\\"readings\\\": [.."
     ".]}, or NDJSON (application/x-ndjson)\",\"oneOf\":[{\"type\":\"array\",\"items\""
     ":{\"$ref\":\"#/components/schemas/ReadingInput\"}},{\"$ref\":\"#/components/sche"
     "mas/ReadingInput\"},{\"type\":\"object\",\"required\":[\"readings\"],\"propertie"
     "s\":{\"readings\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas"
     "/ReadingInput\"}}}}]}"},
    {"GridStatusBatch",
     "{\"description\":\"a JSON array of grid status records (operator_id defaults to "
     "the path's; timestamp, frequency_hz, voltage_kv, load_mw, capacity_mw, stability"
     "), one record, {\\\"statuses\\\": [...]}, or NDJSON\",\"oneOf\":[{\"type\":\"arr"
     "ay\",\"items\":{\"type\":\"object\"}},{\"type\":\"object\"}]}"},
    {"WeatherBatch",
     "{\"description\":\"a JSON array of observations (station_id defaults to the path"
     "'s; timestamp, temperature_c, humidity_pct, pressure_hpa, wind_speed_ms, wind_di"
     "rection_deg, precipitation_mm, cloud_cover_pct), one, {\\\"observations\\\": [.."
     ".]}, or NDJSON\",\"oneOf\":[{\"type\":\"array\",\"items\":{\"type\":\"object\"}}"
     ",{\"type\":\"object\"}]}"},
    {"IngestResult",
     "{\"type\":\"object\",\"required\":[\"accepted\",\"rejected\",\"estimated\",\"rej"
     "ections\"],\"properties\":{\"received\":{\"type\":\"integer\"},\"accepted\":{\"t"
     "ype\":\"integer\"},\"rejected\":{\"type\":\"integer\"},\"estimated\":{\"type\":\""
     "integer\"},\"flagged\":{\"type\":\"integer\"},\"duplicates\":{\"type\":\"integer"
     "\"},\"revisions\":{\"type\":\"integer\"},\"new_meters\":{\"type\":\"integer\"},\""
     "alerts\":{\"type\":\"integer\"},\"rejections\":{\"type\":\"array\",\"items\":{\""
     "type\":\"object\",\"properties\":{\"line\":{\"type\":\"integer\",\"description\""
     ":\"1-based element or NDJSON line\"},\"rule\":{\"type\":\"string\"},\"field\":{\""
     "type\":\"string\"},\"message\":{\"type\":\"string\"}}}},\"rejections_truncated\""
     ":{\"type\":\"boolean\"}}}"},
    {"ReadingSeries",
     "{\"type\":\"object\",\"required\":[\"meter_id\",\"resolution\",\"readings\",\"co"
     "unt\"],\"properties\":{\"meter_id\":{\"type\":\"string\"},\"from\":{\"type\":\"s"
     "tring\",\"format\":\"date-time\"},\"to\":{\"type\":\"string\",\"format\":\"date-"
     "time\"},\"resolution\":{\"enum\":[\"raw\",\"hourly\",\"daily\"]},\"count\":{\"ty"
     "pe\":\"integer\"},\"readings\":{\"type\":\"array\",\"items\":{\"type\":\"object\""
     ",\"description\":\"raw: timestamp, interval_s, kwh, raw_kwh, quality_code, quali"
     "ty, score, delivered measurements, flags; hourly: timestamp, kwh, min_kwh, max_k"
     "wh, measured, estimated, flagged; daily: date, kwh, peak/off-peak, quality compo"
     "nents, score, tier\"}}}}"},
    {"MeterAnalytics",
     "{\"type\":\"object\",\"properties\":{\"meter_id\":{\"type\":\"string\"},\"analys"
     "is_period\":{\"type\":\"object\",\"properties\":{\"from\":{\"type\":\"string\"},"
     "\"to\":{\"type\":\"string\"}}},\"total_readings\":{\"type\":\"integer\"},\"measu"
     "red_readings\":{\"type\":\"integer\"},\"estimated_readings\":{\"type\":\"integer"
     "\"},\"flagged_readings\":{\"type\":\"integer\"},\"avg_voltage\":{\"type\":[\"num"
     "ber\",\"null\"]},\"avg_current\":{\"type\":[\"number\",\"null\"]},\"avg_power_fa"
     "ctor\":{\"type\":[\"number\",\"null\"]},\"avg_frequency\":{\"type\":[\"number\","
     "\"null\"]},\"total_energy_consumed\":{\"type\":\"number\",\"description\":\"kWh\""
     "},\"avg_quality_score\":{\"type\":[\"number\",\"null\"]},\"anomaly_count\":{\"ty"
     "pe\":\"integer\"},\"anomaly_rate\":{\"type\":\"number\",\"description\":\"percen"
     "t\"},\"peak_consumption\":{\"type\":[\"number\",\"null\"]},\"peak_consumption_ti"
     "me\":{\"type\":[\"string\",\"null\"]}}}"},
    {"QualityReport",
     "{\"type\":\"object\",\"properties\":{\"meter_id\":{\"type\":\"string\"},\"meters"
     "\":{\"type\":\"integer\"},\"days\":{\"type\":\"integer\"},\"score\":{\"type\":[\""
     "number\",\"null\"]},\"tier\":{\"$ref\":\"#/components/schemas/Tier\"},\"expected"
     "\":{\"type\":\"integer\"},\"received\":{\"type\":\"integer\"},\"missing\":{\"typ"
     "e\":\"integer\"},\"estimated\":{\"type\":\"integer\"},\"valid\":{\"type\":\"inte"
     "ger\"},\"flagged\":{\"type\":\"integer\"},\"anomalous\":{\"type\":\"integer\"},\""
     "completeness\":{\"type\":[\"number\",\"null\"]},\"tiers\":{\"type\":\"object\"},"
     "\"daily\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}}}"},
    {"SiteStatus", "{\"enum\":[\"active\",\"inactive\",\"maintenance\"]}"},
    {"Operator", "{\"type\":\"object\",\"required\":[\"operator_id\",\"status\"],\"properties\":{\""
                 "operator_id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"type\":{\"t"
                 "ype\":\"string\"},\"region\":{\"type\":\"string\"},\"capacity_mw\":{\"type\":[\""
                 "number\",\"null\"]},\"voltage_kv\":{\"type\":[\"number\",\"null\"]},\"latitude\""
                 ":{\"type\":[\"number\",\"null\"]},\"longitude\":{\"type\":[\"number\",\"null\"]}"
                 ",\"status\":{\"$ref\":\"#/components/schemas/SiteStatus\"}}}"},
    {"OperatorUpdate",
     "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"operator_i"
     "d\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"st"
     "ring\"},\"region\":{\"type\":\"string\"},\"capacity_mw\":{\"type\":\"number\"},\""
     "voltage_kv\":{\"type\":\"number\"},\"latitude\":{\"type\":\"number\"},\"longitud"
     "e\":{\"type\":\"number\"},\"status\":{\"$ref\":\"#/components/schemas/SiteStatus"
     "\"}}}"},
    {"OperatorInput",
     "{\"allOf\":[{\"$ref\":\"#/components/schemas/OperatorUpdate\"},{\"type\":\"objec"
     "t\",\"required\":[\"operator_id\"]}]}"},
    {"Station", "{\"type\":\"object\",\"required\":[\"station_id\",\"status\"],\"properties\":{\""
                "station_id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"type\":{\"ty"
                "pe\":\"string\"},\"latitude\":{\"type\":[\"number\",\"null\"]},\"longitude\":{\""
                "type\":[\"number\",\"null\"]},\"elevation_m\":{\"type\":[\"number\",\"null\"]},\""
                "status\":{\"$ref\":\"#/components/schemas/SiteStatus\"}}}"},
    {"StationUpdate",
     "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"station_id"
     "\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"str"
     "ing\"},\"latitude\":{\"type\":\"number\"},\"longitude\":{\"type\":\"number\"},\""
     "elevation_m\":{\"type\":\"number\"},\"status\":{\"$ref\":\"#/components/schemas/"
     "SiteStatus\"}}}"},
    {"StationInput",
     "{\"allOf\":[{\"$ref\":\"#/components/schemas/StationUpdate\"},{\"type\":\"object"
     "\",\"required\":[\"station_id\"]}]}"},
    {"OperatorPage",
     "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\""
     "$ref\":\"#/components/schemas/Operator\"}},\"total\":{\"type\":\"integer\"},\"pa"
     "ge\":{\"type\":\"integer\"},\"page_size\":{\"type\":\"integer\"},\"has_next\":{\""
     "type\":\"boolean\"},\"has_previous\":{\"type\":\"boolean\"}}}"},
    {"StationPage",
     "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\""
     "$ref\":\"#/components/schemas/Station\"}},\"total\":{\"type\":\"integer\"},\"pag"
     "e\":{\"type\":\"integer\"},\"page_size\":{\"type\":\"integer\"},\"has_next\":{\""
     "type\":\"boolean\"},\"has_previous\":{\"type\":\"boolean\"}}}"},
    {"GridSeries",
     "{\"type\":\"object\",\"properties\":{\"operator_id\":{\"type\":\"string\"},\"fro"
     "m\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"items\":{\"type\":\"arr"
     "ay\",\"items\":{\"type\":\"object\",\"properties\":{\"timestamp\":{\"type\":\"st"
     "ring\"},\"frequency_hz\":{\"type\":[\"number\",\"null\"]},\"voltage_kv\":{\"type"
     "\":[\"number\",\"null\"]},\"load_mw\":{\"type\":[\"number\",\"null\"]},\"capacit"
     "y_mw\":{\"type\":[\"number\",\"null\"]},\"stability\":{\"type\":[\"number\",\"nu"
     "ll\"]},\"score\":{\"type\":[\"number\",\"null\"]},\"flags\":{\"type\":\"array\","
     "\"items\":{\"type\":\"string\"}}}}},\"page\":{\"type\":\"integer\"},\"page_size\""
     ":{\"type\":\"integer\"}}}"},
    {"WeatherSeries",
     "{\"type\":\"object\",\"properties\":{\"station_id\":{\"type\":\"string\"},\"from"
     "\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"items\":{\"type\":\"arra"
     "y\",\"items\":{\"type\":\"object\"}},\"page\":{\"type\":\"integer\"},\"page_size"
     "\":{\"type\":\"integer\"}}}"},
    {"OperatorAnalytics",
     "{\"type\":\"object\",\"properties\":{\"operator_id\":{\"type\":\"string\"},\"ana"
     "lysis_period\":{\"type\":\"object\"},\"total_statuses\":{\"type\":\"integer\"},\""
     "flagged\":{\"type\":\"integer\"},\"avg_quality_score\":{\"type\":[\"number\",\"n"
     "ull\"]},\"anomaly_count\":{\"type\":\"integer\"},\"anomaly_rate\":{\"type\":\"nu"
     "mber\"},\"avg_frequency_hz\":{\"type\":[\"number\",\"null\"]},\"min_frequency_hz"
     "\":{\"type\":[\"number\",\"null\"]},\"max_frequency_hz\":{\"type\":[\"number\",\""
     "null\"]},\"avg_voltage_kv\":{\"type\":[\"number\",\"null\"]},\"avg_load_mw\":{\""
     "type\":[\"number\",\"null\"]},\"avg_stability\":{\"type\":[\"number\",\"null\"]}"
     ",\"peak_load_mw\":{\"type\":[\"number\",\"null\"]},\"peak_load_time\":{\"type\":"
     "[\"string\",\"null\"]},\"min_stability\":{\"type\":[\"number\",\"null\"]},\"min_"
     "stability_time\":{\"type\":[\"string\",\"null\"]}}}"},
    {"StationAnalytics",
     "{\"type\":\"object\",\"properties\":{\"station_id\":{\"type\":\"string\"},\"anal"
     "ysis_period\":{\"type\":\"object\"},\"total_observations\":{\"type\":\"integer\""
     "},\"flagged\":{\"type\":\"integer\"},\"avg_quality_score\":{\"type\":[\"number\""
     ",\"null\"]},\"anomaly_count\":{\"type\":\"integer\"},\"anomaly_rate\":{\"type\":"
     "\"number\"},\"avg_temperature_c\":{\"type\":[\"number\",\"null\"]},\"min_tempera"
     "ture_c\":{\"type\":[\"number\",\"null\"]},\"max_temperature_c\":{\"type\":[\"num"
     "ber\",\"null\"]},\"avg_humidity_pct\":{\"type\":[\"number\",\"null\"]},\"avg_pre"
     "ssure_hpa\":{\"type\":[\"number\",\"null\"]},\"avg_wind_speed_ms\":{\"type\":[\""
     "number\",\"null\"]},\"min_wind_speed_ms\":{\"type\":[\"number\",\"null\"]},\"max"
     "_wind_speed_ms\":{\"type\":[\"number\",\"null\"]},\"avg_cloud_cover_pct\":{\"typ"
     "e\":[\"number\",\"null\"]},\"total_precipitation_mm\":{\"type\":\"number\"}}}"},
    {"Overview", "{\"type\":\"object\",\"description\":\"store counts, fleet quality, anomaly coun"
                 "ts by level and source, ingest totals of this server\"}"},
    {"Energy", "{\"type\":\"object\",\"properties\":{\"group_by\":{\"type\":\"string\"},\"total_"
               "kwh\":{\"type\":\"number\"},\"items\":{\"type\":\"array\",\"items\":{\"type\":\""
               "object\"}}}}"},
    {"Anomalies", "{\"type\":\"object\",\"properties\":{\"total_anomalies\":{\"type\":\"integer\"},"
                  "\"by_type\":{\"type\":\"object\"},\"by_level\":{\"type\":\"object\"},\"by_source"
                  "\":{\"type\":\"object\"},\"recent\":{\"type\":\"array\",\"items\":{\"type\":\"ob"
                  "ject\"}}}}"},
    {"DailyReport",
     "{\"type\":\"object\",\"properties\":{\"report_date\":{\"type\":\"string\"},\"sum"
     "mary\":{\"type\":\"object\"},\"meters\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"object\"}}}}"},
    {"QuarantinePage",
     "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\""
     "type\":\"object\",\"properties\":{\"kind\":{\"type\":\"string\"},\"source\":{\"t"
     "ype\":\"string\"},\"line\":{\"type\":\"integer\"},\"rule\":{\"type\":\"string\"}"
     ",\"field\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},\"raw\":{\"ty"
     "pe\":\"string\"},\"at\":{\"type\":\"string\"}}}},\"page\":{\"type\":\"integer\"}"
     ",\"page_size\":{\"type\":\"integer\"}}}"},
    {"Key", "{\"type\":\"object\",\"properties\":{\"key_id\":{\"type\":\"string\"},\"name\":{"
            "\"type\":\"string\"},\"role\":{\"enum\":[\"viewer\",\"operator\",\"admin\"]},\"c"
            "reated_at\":{\"type\":[\"string\",\"null\"]},\"revoked_at\":{\"type\":[\"string\""
            ",\"null\"]}}}"},
    {"KeyList", "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\""
                "$ref\":\"#/components/schemas/Key\"}}}}"},
    {"KeyInput", "{\"type\":\"object\",\"required\":[\"role\"],\"additionalProperties\":false,\"pr"
                 "operties\":{\"role\":{\"enum\":[\"viewer\",\"operator\",\"admin\"]},\"name\":{\""
                 "type\":\"string\"}}}"},
    {"KeyCreated",
     "{\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\",\"description\""
     ":\"the secret, shown only here\"},\"key_id\":{\"type\":\"string\"},\"role\":{\"t"
     "ype\":\"string\"},\"name\":{\"type\":\"string\"}}}"},
    {"CheckResult",
     "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},\"problems\":"
     "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}"},
};

static const struct {
    int status;
    const char *desc;
} errors[] = {{400, "bad request or query parameter"},
              {401, "missing or invalid credentials"},
              {403, "the key's role may not do this"},
              {404, "not found"},
              {405, "method not allowed"},
              {409, "conflict"},
              {413, "body too large"},
              {415, "unsupported media type"},
              {422, "invalid body"},
              {429, "rate limited (see Retry-After)"},
              {500, "internal error"},
              {503, "stopped at the server's processing limit (request_timeout, see Retry-After; "
                    "nothing stored) or the store is unavailable"}};

/* Which error statuses a route can answer. */
static int route_can(const struct mtr_api_route *rt, int status)
{
    int body = rt->flags & MTR_API_BODY;
    int has_path = strchr(rt->pattern, '{') != NULL;
    switch (status) {
    case 401:
    case 403:
    case 429:
        return rt->role != MTR_ROLE_NONE;
    case 404:
        return has_path;
    case 503: /* the health routes have their own 503 */
        return rt->role != MTR_ROLE_NONE && !(rt->flags & MTR_API_HEALTH);
    case 409:
        return strcmp(rt->method, "GET") != 0 && rt->tag && strcmp(rt->tag, "readings") != 0;
    case 413:
    case 415:
    case 422:
        return body;
    default:
        return 1;
    }
}

static void op_id(const struct mtr_api_route *rt, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *p = rt->method; *p && n + 1 < cap; p++)
        buf[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    int up = 1;
    for (const char *p = rt->pattern; *p && n + 1 < cap; p++) {
        if (*p == '/' || *p == '-' || *p == '{' || *p == '}' || *p == '.' || *p == '_') {
            up = 1;
            continue;
        }
        buf[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        up = 0;
    }
    buf[n] = 0;
}

static void write_param(struct mtr_jw *w, const struct mtr_api_param *p)
{
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "name", p->name);
    mtr_jw_kstr(w, "in", p->in);
    mtr_jw_kbool(w, "required", p->required);
    mtr_jw_kstr(w, "description", p->desc);
    mtr_jw_key(w, "schema");
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "type", p->type);
    if (p->format)
        mtr_jw_kstr(w, "format", p->format);
    if (p->choices) {
        mtr_jw_key(w, "enum");
        mtr_jw_arr(w);
        for (const char *c = p->choices; *c;) {
            const char *e = strchr(c, ',');
            size_t n = e ? (size_t)(e - c) : strlen(c);
            mtr_jw_strn(w, c, n);
            c += n + (e != NULL);
        }
        mtr_jw_end_arr(w);
    }
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
}

static void ref(struct mtr_jw *w, const char *kind, const char *name)
{
    char b[160];
    snprintf(b, sizeof b, "#/components/%s/%s", kind, name);
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "$ref", b);
    mtr_jw_end_obj(w);
}

static void write_op(struct mtr_jw *w, const struct mtr_api_route *rt)
{
    char id[160], code[8];
    char lower[8];
    size_t i = 0;
    for (; rt->method[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(rt->method[i] + 32);
    lower[i] = 0;
    mtr_jw_key(w, lower);
    mtr_jw_obj(w);
    op_id(rt, id, sizeof id);
    mtr_jw_kstr(w, "operationId", id);
    mtr_jw_kstr(w, "summary", rt->summary);
    mtr_jw_key(w, "tags");
    mtr_jw_arr(w);
    mtr_jw_str(w, rt->tag);
    mtr_jw_end_arr(w);
    mtr_jw_kstr(w, "x-required-role", mtr_api_role_name(rt->role));
    mtr_jw_key(w, "security");
    mtr_jw_arr(w);
    if (rt->role != MTR_ROLE_NONE) {
        mtr_jw_obj(w);
        mtr_jw_key(w, "bearer");
        mtr_jw_arr(w);
        mtr_jw_end_arr(w);
        mtr_jw_end_obj(w);
        mtr_jw_obj(w);
        mtr_jw_key(w, "apiKey");
        mtr_jw_arr(w);
        mtr_jw_end_arr(w);
        mtr_jw_end_obj(w);
    }
    mtr_jw_end_arr(w);
    if (rt->params) {
        mtr_jw_key(w, "parameters");
        mtr_jw_arr(w);
        for (const struct mtr_api_param *p = rt->params; p->name; p++)
            write_param(w, p);
        mtr_jw_end_arr(w);
    }
    if (rt->body_schema) {
        mtr_jw_key(w, "requestBody");
        mtr_jw_obj(w);
        mtr_jw_kbool(w, "required", 1);
        mtr_jw_key(w, "content");
        mtr_jw_obj(w);
        mtr_jw_key(w, "application/json");
        mtr_jw_obj(w);
        mtr_jw_key(w, "schema");
        ref(w, "schemas", rt->body_schema);
        mtr_jw_end_obj(w);
        if (rt->flags & MTR_API_NDJSON) {
            mtr_jw_key(w, "application/x-ndjson");
            mtr_jw_obj(w);
            mtr_jw_key(w, "schema");
            mtr_jw_obj(w);
            mtr_jw_kstr(w, "type", "string");
            mtr_jw_kstr(w, "description", "one JSON record per line");
            mtr_jw_end_obj(w);
            mtr_jw_end_obj(w);
        }
        mtr_jw_end_obj(w);
        mtr_jw_end_obj(w);
    }
    mtr_jw_key(w, "responses");
    mtr_jw_obj(w);
    snprintf(code, sizeof code, "%d", rt->status);
    mtr_jw_key(w, code);
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "description", rt->status == 204 ? "done, no content" : "success");
    if (rt->status != 204) {
        mtr_jw_key(w, "content");
        mtr_jw_obj(w);
        mtr_jw_key(w, rt->resp_type ? rt->resp_type : "application/json");
        mtr_jw_obj(w);
        mtr_jw_key(w, "schema");
        if (rt->resp_schema) {
            ref(w, "schemas", rt->resp_schema);
        } else {
            mtr_jw_obj(w);
            mtr_jw_kstr(w, "type", "string");
            mtr_jw_end_obj(w);
        }
        mtr_jw_end_obj(w);
        mtr_jw_end_obj(w);
    }
    mtr_jw_end_obj(w);
    if (rt->body_schema && (rt->flags & MTR_API_NDJSON)) {
        mtr_jw_key(w, "207");
        mtr_jw_obj(w);
        mtr_jw_kstr(w, "description", "stored, some records rejected (listed with their rule)");
        mtr_jw_key(w, "content");
        mtr_jw_obj(w);
        mtr_jw_key(w, "application/json");
        mtr_jw_obj(w);
        mtr_jw_key(w, "schema");
        ref(w, "schemas", "IngestResult");
        mtr_jw_end_obj(w);
        mtr_jw_end_obj(w);
        mtr_jw_end_obj(w);
    }
    if ((rt->flags & MTR_API_HEALTH) && strcmp(rt->pattern, "/metrics") != 0) {
        mtr_jw_key(w, "503");
        ref(w, "responses", "Unavailable");
    }
    for (size_t e = 0; e < sizeof errors / sizeof errors[0]; e++) {
        if (!route_can(rt, errors[e].status))
            continue;
        snprintf(code, sizeof code, "%d", errors[e].status);
        mtr_jw_key(w, code);
        ref(w, "responses", code);
    }
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
}

void mtr_api_openapi(struct mtr_jw *w)
{
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "openapi", "3.1.0");
    mtr_jw_key(w, "info");
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "title", "Metrify API");
    mtr_jw_kstr(w, "version", "1.0.0");
    mtr_jw_kstr(w, "description",
                "Smart-meter data platform: meters, readings (the same VEE pipeline as `metrify "
                "ingest`), grid operators, weather, analytics. Authenticate with an API key "
                "(`metrify apikey create --role viewer|operator|admin`) as `Authorization: Bearer "
                "<key>` or `X-API-Key: <key>`. viewer: GET; operator: + ingest and writes; admin: "
                "+ keys and maintenance. Every error is {\"error\":{\"code\",\"message\","
                "\"details\"}}.");
    mtr_jw_key(w, "license");
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "name", "see the repository");
    mtr_jw_kstr(w, "identifier", "MIT");
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "servers");
    mtr_jw_arr(w);
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "url", "/");
    mtr_jw_end_obj(w);
    mtr_jw_end_arr(w);

    mtr_jw_key(w, "paths");
    mtr_jw_obj(w);
    for (size_t i = 0; i < mtr_api_route_count; i++) {
        const struct mtr_api_route *rt = &mtr_api_routes[i];
        int first = 1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(mtr_api_routes[j].pattern, rt->pattern) == 0)
                first = 0;
        if (!first)
            continue;
        mtr_jw_key(w, rt->pattern);
        mtr_jw_obj(w);
        for (size_t j = i; j < mtr_api_route_count; j++)
            if (strcmp(mtr_api_routes[j].pattern, rt->pattern) == 0)
                write_op(w, &mtr_api_routes[j]);
        mtr_jw_end_obj(w);
    }
    mtr_jw_end_obj(w);

    mtr_jw_key(w, "components");
    mtr_jw_obj(w);
    mtr_jw_key(w, "securitySchemes");
    mtr_jw_obj(w);
    mtr_jw_key(w, "bearer");
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "type", "http");
    mtr_jw_kstr(w, "scheme", "bearer");
    mtr_jw_kstr(w, "description", "an API key, or an HS256 JWT with a role claim when enabled");
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "apiKey");
    mtr_jw_obj(w);
    mtr_jw_kstr(w, "type", "apiKey");
    mtr_jw_kstr(w, "in", "header");
    mtr_jw_kstr(w, "name", "X-API-Key");
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "responses");
    mtr_jw_obj(w);
    for (size_t e = 0; e <= sizeof errors / sizeof errors[0]; e++) {
        char code[16];
        const char *desc = e < sizeof errors / sizeof errors[0] ? errors[e].desc : "unavailable";
        if (e < sizeof errors / sizeof errors[0])
            snprintf(code, sizeof code, "%d", errors[e].status);
        else
            snprintf(code, sizeof code, "Unavailable");
        mtr_jw_key(w, code);
        mtr_jw_obj(w);
        mtr_jw_kstr(w, "description", desc);
        mtr_jw_key(w, "content");
        mtr_jw_obj(w);
        mtr_jw_key(w, "application/json");
        mtr_jw_obj(w);
        mtr_jw_key(w, "schema");
        ref(w, "schemas", "Error");
        mtr_jw_end_obj(w);
        mtr_jw_end_obj(w);
        mtr_jw_end_obj(w);
    }
    mtr_jw_end_obj(w);
    mtr_jw_key(w, "schemas");
    mtr_jw_obj(w);
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
        mtr_jw_key(w, schemas[i].name);
        mtr_jw_raw(w, schemas[i].json, strlen(schemas[i].json));
    }
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
    mtr_jw_end_obj(w);
}

static void html(struct mtr_jw *w, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            mtr_jw_append(w, "&lt;", 4);
            break;
        case '>':
            mtr_jw_append(w, "&gt;", 4);
            break;
        case '&':
            mtr_jw_append(w, "&amp;", 5);
            break;
        default:
            mtr_jw_append(w, s, 1);
        }
    }
}

void mtr_api_docs_html(struct mtr_jw *w)
{
    mtr_jw_appendf(
        w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>Metrify API</title>"
           "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
           "code{background:#f4f4f4;padding:0 .2em}table{border-collapse:collapse;width:100%%}"
           "td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:left;vertical-align:top}"
           ".m{font-weight:bold;font-family:monospace}</style></head><body>"
           "<h1>Metrify API</h1><p>Generated from the server's route table, like "
           "<a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1). Send an API key as "
           "<code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key</code>; create one "
           "with <code>metrify apikey create --role viewer|operator|admin</code>. Roles: "
           "<b>viewer</b> reads, <b>operator</b> also ingests and writes, <b>admin</b> also "
           "manages keys and maintenance. Errors: <code>{\"error\":{\"code\",\"message\","
           "\"details\"}}</code>.</p>");
    const char *tag = "";
    for (size_t i = 0; i < mtr_api_route_count; i++) {
        const struct mtr_api_route *rt = &mtr_api_routes[i];
        if (strcmp(rt->tag, tag) != 0) {
            if (*tag)
                mtr_jw_appendf(w, "</table>");
            tag = rt->tag;
            mtr_jw_appendf(w,
                           "<h2>%s</h2><table><tr><th>method</th><th>path</th><th>role</th>"
                           "<th>what</th><th>parameters</th><th>body / answer</th></tr>",
                           tag);
        }
        mtr_jw_appendf(w, "<tr><td class=\"m\">%s</td><td><code>", rt->method);
        html(w, rt->pattern);
        mtr_jw_appendf(w, "</code></td><td>%s</td><td>", mtr_api_role_name(rt->role));
        html(w, rt->summary);
        mtr_jw_appendf(w, "</td><td>");
        for (const struct mtr_api_param *p = rt->params; p && p->name; p++) {
            mtr_jw_appendf(w, "<code>%s</code> (%s %s%s): ", p->name, p->in, p->type,
                           p->required ? ", required" : "");
            html(w, p->desc);
            if (p->choices) {
                mtr_jw_appendf(w, " [");
                html(w, p->choices);
                mtr_jw_appendf(w, "]");
            }
            mtr_jw_appendf(w, "<br>");
        }
        mtr_jw_appendf(w, "</td><td>%s%s&rarr; %d %s</td></tr>",
                       rt->body_schema ? rt->body_schema : "", rt->body_schema ? " " : "",
                       rt->status,
                       rt->resp_schema ? rt->resp_schema : (rt->resp_type ? rt->resp_type : ""));
    }
    mtr_jw_appendf(w, "</table></body></html>\n");
}
