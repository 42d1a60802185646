/*
 * decode.c - field schema, header binding and record decoding (see decode.h). The CSV path is
 * the ingest hot path: one table lookup per bound column, the fast number parser, no allocation.
 */
#include "adapters/io/decode.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/num.h"
#include "base/text.h"
#include "base/timeparse.h"

enum {
    F_REQ = 1,  /* required */
    F_ID = 2,   /* entity id, copied into a char[MTR_ID_MAX] */
    F_TS = 4,   /* ISO-8601 timestamp -> int64_t */
    F_NUM = 8,  /* double; absent = NAN */
    F_INT = 16, /* interval seconds -> int32_t */
    F_MEAS = 32 /* counts as a measurement (grid/weather need at least one) */
};

struct field_def {
    const char *name;
    const char *aliases; /* '|'-separated, lower case, canonical name first */
    unsigned flags;
    size_t off; /* offset of the member inside the record union */
    double scale;
};

#define RD(m) offsetof(struct mtr_reading, m)
#define GR(m) offsetof(struct mtr_grid_status, m)
#define WE(m) offsetof(struct mtr_weather_obs, m)

static const struct field_def reading_fields[] = {
    {"meter_id", "meter_id|meterid|lclid|device_id|meter", F_REQ | F_ID, RD(meter_id), 1},
    {"timestamp", "timestamp|reading_timestamp|ts|tstp|time|interval_start|datetime", F_REQ | F_TS,
     RD(ts), 1},
    {"consumption_kwh", "consumption_kwh|energy_kwh|kwh|energy(kwh/hh)|consumption", F_REQ | F_NUM,
     RD(kwh), 1},
    {"voltage_v", "voltage_v|voltage", F_NUM, RD(voltage_v), 1},
    {"current_a", "current_a|current", F_NUM, RD(current_a), 1},
    {"power_factor", "power_factor|pf", F_NUM, RD(power_factor), 1},
    {"frequency_hz", "frequency_hz|frequency", F_NUM, RD(frequency_hz), 1},
    {"active_power_kw", "active_power_kw|active_power", F_NUM, RD(active_power_kw), 1},
    {"reactive_power_kvar", "reactive_power_kvar|reactive_power", F_NUM, RD(reactive_power_kvar),
     1},
    {"interval_s", "interval_s|interval_seconds", F_INT, RD(interval_s), 1},
    {"interval_minutes", "interval_minutes", F_INT, RD(interval_s), 60},
};
static const struct field_def grid_fields[] = {
    {"operator_id", "operator_id|tso|operator", F_REQ | F_ID, GR(operator_id), 1},
    {"timestamp", "timestamp", F_REQ | F_TS, GR(ts), 1},
    {"frequency_hz", "frequency_hz|frequency|grid_frequency_hz", F_NUM | F_MEAS, GR(frequency_hz),
     1},
    {"voltage_kv", "voltage_kv|voltage|grid_voltage_kv|voltage_level", F_NUM | F_MEAS,
     GR(voltage_kv), 1},
    {"load_mw", "load_mw|load|grid_load_mw", F_NUM | F_MEAS, GR(load_mw), 1},
    {"capacity_mw", "capacity_mw|capacity|grid_capacity_mw", F_NUM | F_MEAS, GR(capacity_mw), 1},
    {"stability", "stability|stability_score|grid_stability_score", F_NUM | F_MEAS, GR(stability),
     1},
};
static const struct field_def weather_fields[] = {
    {"station_id", "station_id|station", F_REQ | F_ID, WE(station_id), 1},
    {"timestamp", "timestamp|time", F_REQ | F_TS, WE(ts), 1},
    {"temperature_c", "temperature_c|temperature|temperature_celsius", F_NUM | F_MEAS,
     WE(temperature_c), 1},
    {"humidity_pct", "humidity_pct|humidity|humidity_percent", F_NUM | F_MEAS, WE(humidity_pct), 1},
    {"pressure_hpa", "pressure_hpa|pressure", F_NUM | F_MEAS, WE(pressure_hpa), 1},
    {"wind_speed_ms", "wind_speed_ms|wind_speed|windspeed", F_NUM | F_MEAS, WE(wind_speed_ms), 1},
    {"wind_direction_deg", "wind_direction_deg|wind_direction|windbearing", F_NUM | F_MEAS,
     WE(wind_direction_deg), 1},
    {"precipitation_mm", "precipitation_mm|precipitation", F_NUM | F_MEAS, WE(precipitation_mm), 1},
    {"cloud_cover_pct", "cloud_cover_pct|cloud_cover|cloudcover", F_NUM | F_MEAS,
     WE(cloud_cover_pct), 1},
};

static const struct field_def *fields_of(enum mtr_kind kind, int *n)
{
    switch (kind) {
    case MTR_KIND_GRID:
        *n = (int)(sizeof grid_fields / sizeof grid_fields[0]);
        return grid_fields;
    case MTR_KIND_WEATHER:
        *n = (int)(sizeof weather_fields / sizeof weather_fields[0]);
        return weather_fields;
    default:
        *n = (int)(sizeof reading_fields / sizeof reading_fields[0]);
        return reading_fields;
    }
}

static const char *default_id(enum mtr_kind kind, const struct mtr_format *fmt)
{
    if (!fmt)
        return "";
    const char *id = kind == MTR_KIND_READING ? fmt->meter_id
                     : kind == MTR_KIND_GRID  ? fmt->operator_id
                                              : fmt->station_id;
    if (!*id && kind == MTR_KIND_WEATHER && fmt->name == MTR_FORMAT_DARKSKY)
        return "LONDON";
    return id;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* 1 when name[0..len) equals one of the '|'-separated lower-case aliases, ignoring case. */
static int alias_match(const char *aliases, const char *name, size_t len)
{
    const char *a = aliases;
    for (;;) {
        const char *e = strchr(a, '|');
        size_t n = e ? (size_t)(e - a) : strlen(a);
        if (n == len && strncasecmp(a, name, len) == 0)
            return 1;
        if (!e)
            return 0;
        a = e + 1;
    }
}

static int eq_nocase(const char *z, const char *name, size_t len)
{
    return strlen(z) == len && strncasecmp(z, name, len) == 0;
}

static const char *map_column(const struct mtr_format *fmt, const char *field)
{
    if (!fmt)
        return NULL;
    for (int i = 0; i < fmt->nmap; i++)
        if (strcmp(fmt->map[i].field, field) == 0)
            return fmt->map[i].column;
    return NULL;
}

/* 1 when column name[0..len) is claimed by an entry of the map (so aliases must not bind it). */
static int mapped_away(const struct mtr_format *fmt, const char *name, size_t len)
{
    if (!fmt)
        return 0;
    for (int i = 0; i < fmt->nmap; i++)
        if (eq_nocase(fmt->map[i].column, name, len))
            return 1;
    return 0;
}

int mtr_decode_field_known(const char *name, size_t len)
{
    for (int k = 0; k < MTR_KIND_COUNT; k++) {
        int n;
        const struct field_def *fd = fields_of((enum mtr_kind)k, &n);
        for (int i = 0; i < n; i++)
            if (eq_nocase(fd[i].name, name, len))
                return 1;
    }
    return 0;
}

const char *mtr_decode_field_list(void)
{
    return "meter_id, timestamp, consumption_kwh, voltage_v, current_a, power_factor, "
           "frequency_hz, active_power_kw, reactive_power_kvar, interval_s, interval_minutes, "
           "operator_id, voltage_kv, load_mw, capacity_mw, stability, station_id, temperature_c, "
           "humidity_pct, pressure_hpa, wind_speed_ms, wind_direction_deg, precipitation_mm, "
           "cloud_cover_pct";
}

static double scale_for(const struct mtr_format *fmt, const struct field_def *f)
{
    if (fmt && fmt->name == MTR_FORMAT_DARKSKY &&
        (strcmp(f->name, "humidity_pct") == 0 || strcmp(f->name, "cloud_cover_pct") == 0))
        return 100.0; /* Dark Sky gives fractions 0..1 */
    return f->scale;
}

static void list_aliases(char *dst, size_t cap, const char *aliases)
{
    size_t o = 0;
    for (const char *a = aliases; *a && o + 3 < cap; a++) {
        if (*a == '|') {
            dst[o++] = ',';
            dst[o++] = ' ';
        } else {
            dst[o++] = *a;
        }
    }
    dst[o] = 0;
}

int mtr_decode_bind_header(struct mtr_csv_binding *b, enum mtr_kind kind,
                           const struct mtr_format *fmt, const struct mtr_csv_field *cols,
                           size_t ncols, const char *name, uint64_t line, struct mtr_errbuf *eb)
{
    int n;
    const struct field_def *fd = fields_of(kind, &n);
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->fmt = fmt;
    b->ncols = ncols;
    int nmeas = 0, nint = 0;
    for (int f = 0; f < n; f++) {
        const char *mc = map_column(fmt, fd[f].name);
        int col = -1;
        for (size_t c = 0; c < ncols && col < 0; c++) {
            const char *cn = cols[c].p;
            size_t cl = cols[c].len;
            trim(&cn, &cl);
            if (mc ? eq_nocase(mc, cn, cl)
                   : (!mapped_away(fmt, cn, cl) && alias_match(fd[f].aliases, cn, cl)))
                col = (int)c;
        }
        if (col >= 0 && (fd[f].flags & F_INT) && nint++)
            continue; /* interval_s and interval_minutes both present: the first wins */
        if (col < 0) {
            if (!(fd[f].flags & F_REQ) || ((fd[f].flags & F_ID) && *default_id(kind, fmt)))
                continue;
            char looked[256];
            if (mc)
                snprintf(looked, sizeof looked, "%s, from the column map", mc);
            else
                list_aliases(looked, sizeof looked, fd[f].aliases);
            return mtr_err(eb, MTR_EINVAL,
                           "%s:%llu: header has no column for '%s' (looked for: %s)", name,
                           (unsigned long long)line, fd[f].name, looked);
        }
        if (fd[f].flags & F_MEAS)
            nmeas++;
        b->bind[b->nbind].col = col;
        b->bind[b->nbind].field = f;
        b->bind[b->nbind].scale = scale_for(fmt, &fd[f]);
        b->nbind++;
    }
    if (kind != MTR_KIND_READING && nmeas == 0) {
        char looked[512];
        size_t o = 0;
        for (int f = 0; f < n; f++)
            if (fd[f].flags & F_MEAS)
                o += (size_t)snprintf(looked + o, sizeof looked - o, "%s%s", o ? ", " : "",
                                      fd[f].name);
        return mtr_err(eb, MTR_EINVAL,
                       "%s:%llu: header has no measurement column for %s (looked for: %s)", name,
                       (unsigned long long)line, mtr_kind_name(kind), looked);
    }
    return 0;
}

__attribute__((format(printf, 4, 5))) static int rec_error(struct mtr_record_error *err,
                                                           enum mtr_rule_id rule, const char *field,
                                                           const char *fmt, ...)
{
    err->rule = rule;
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return MTR_EPARSE;
}

static void init_record(struct mtr_record *rec, enum mtr_kind kind)
{
    rec->kind = kind;
    if (kind == MTR_KIND_GRID)
        mtr_grid_status_init(&rec->u.grid);
    else if (kind == MTR_KIND_WEATHER)
        mtr_weather_obs_init(&rec->u.weather);
    else
        mtr_reading_init(&rec->u.reading);
}

/* Decodes one text value v[0..len) of field f into the record. null_absent: the literal NULL in a
 * measurement means absent (Dark Sky's convention for missing pressure readings). */
static int decode_text(const struct field_def *f, double scale, int null_absent, const char *v,
                       size_t len, struct mtr_record *rec, struct mtr_record_error *err)
{
    char *dst = (char *)&rec->u + f->off;
    trim(&v, &len);
    if (null_absent && len == 4 && memcmp(v, "NULL", 4) == 0 && (f->flags & F_NUM))
        len = 0;
    if (len == 0) {
        if (f->flags & F_REQ)
            return rec_error(err, MTR_R_REQUIRED, f->name, "%s: required field is empty", f->name);
        return 0;
    }
    if (f->flags & F_ID) {
        if (len > MTR_ID_MAX - 1)
            return rec_error(err, MTR_R_REQUIRED, f->name, "%s longer than %d bytes", f->name,
                             MTR_ID_MAX - 1);
        memcpy(dst, v, len);
        dst[len] = 0;
        return 0;
    }
    if (f->flags & F_TS) {
        int64_t t;
        char msg[200];
        if (mtr_time_parse_msg(v, len, &t, msg, sizeof msg) < 0)
            return rec_error(err, MTR_R_TIMESTAMP, f->name, "%s: %s", f->name, msg);
        memcpy(dst, &t, sizeof t);
        return 0;
    }
    double x;
    int rc = mtr_parse_double(v, len, &x);
    if (rc < 0) {
        char ex[64];
        mtr_text_excerpt(ex, sizeof ex, v, len);
        const char *why = rc == MTR_ERANGE                    ? "out of range"
                          : mtr_num_is_nonfinite_word(v, len) ? "not a finite number"
                                                              : "not a number";
        return rec_error(err, MTR_R_NUMBER, f->name, "%s: %s: \"%s\"", f->name, why, ex);
    }
    if (f->flags & F_INT) {
        x *= scale;
        if (!(x >= 1 && x <= 31 * 86400.0) || x != (double)(int32_t)x) {
            char ex[64];
            mtr_text_excerpt(ex, sizeof ex, v, len);
            return rec_error(err, MTR_R_NUMBER, f->name,
                             "%s: not a whole number of seconds between 1 and 31 days: \"%s\"",
                             f->name, ex);
        }
        int32_t iv = (int32_t)x;
        memcpy(dst, &iv, sizeof iv);
        return 0;
    }
    x *= scale;
    memcpy(dst, &x, sizeof x);
    return 0;
}

static uint64_t *line_member(struct mtr_record *rec)
{
    switch (rec->kind) {
    case MTR_KIND_GRID:
        return &rec->u.grid.line;
    case MTR_KIND_WEATHER:
        return &rec->u.weather.line;
    default:
        return &rec->u.reading.line;
    }
}

/* Defaults and record-level checks after all fields are in. */
static int finish(enum mtr_kind kind, const struct mtr_format *fmt, struct mtr_record *rec,
                  struct mtr_record_error *err)
{
    int n;
    const struct field_def *fd = fields_of(kind, &n);
    char *id = (char *)&rec->u + fd[0].off;
    if (!*id) {
        const char *def = default_id(kind, fmt);
        if (!*def)
            return rec_error(err, MTR_R_REQUIRED, fd[0].name, "%s: required field is missing",
                             fd[0].name);
        snprintf(id, MTR_ID_MAX, "%s", def);
    }
    if (kind == MTR_KIND_READING) {
        struct mtr_reading *r = &rec->u.reading;
        if (r->interval_s == 0 && fmt)
            r->interval_s = fmt->interval_s               ? fmt->interval_s
                            : fmt->name == MTR_FORMAT_LCL ? 1800
                                                          : 0;
        return 0;
    }
    for (int f = 0; f < n; f++) {
        if (!(fd[f].flags & F_MEAS))
            continue;
        double x;
        memcpy(&x, (char *)&rec->u + fd[f].off, sizeof x);
        if (mtr_has(x))
            return 0;
    }
    return rec_error(err, MTR_R_REQUIRED, "", "%s record has no measurement",
                     kind == MTR_KIND_GRID ? "grid status" : "weather");
}

int mtr_decode_csv_row(const struct mtr_csv_binding *b, const struct mtr_csv_field *fields,
                       size_t nfields, uint64_t line, struct mtr_record *rec,
                       struct mtr_record_error *err)
{
    int n;
    const struct field_def *fd = fields_of(b->kind, &n);
    int null_absent = b->fmt && b->fmt->name == MTR_FORMAT_DARKSKY;
    init_record(rec, b->kind);
    *line_member(rec) = line;
    if (nfields != b->ncols)
        return rec_error(err, MTR_R_PARSE_COLUMNS, "", "expected %zu columns, got %zu", b->ncols,
                         nfields);
    for (int i = 0; i < b->nbind; i++) {
        const struct field_def *f = &fd[b->bind[i].field];
        const struct mtr_csv_field *v = &fields[b->bind[i].col];
        int rc = decode_text(f, b->bind[i].scale, null_absent, v->p, v->len, rec, err);
        if (rc < 0)
            return rc;
    }
    /* a row without the required timestamp column can only happen via finish(): columns for
     * F_REQ fields other than the id are guaranteed by the header binding */
    return finish(b->kind, b->fmt, rec, err);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "a number";
    }
}

/* Index of the field of kind named by JSON key, or -1. */
static int json_field(const struct field_def *fd, int n, const struct mtr_format *fmt,
                      const char *key)
{
    size_t kl = strlen(key);
    for (int f = 0; f < n; f++) {
        const char *mc = map_column(fmt, fd[f].name);
        if (mc ? eq_nocase(mc, key, kl)
               : (!mapped_away(fmt, key, kl) && alias_match(fd[f].aliases, key, kl)))
            return f;
    }
    return -1;
}

int mtr_decode_json(const json_t *obj, enum mtr_kind kind, const struct mtr_format *fmt,
                    struct mtr_record *rec, struct mtr_record_error *err)
{
    int n;
    const struct field_def *fd = fields_of(kind, &n);
    init_record(rec, kind);
    if (!json_is_object(obj))
        return rec_error(err, MTR_R_PARSE_JSON, "", "not a JSON object (got %s)",
                         json_type_name(obj));
    const json_t *payload = json_object_get(obj, "payload");
    if (json_is_object(payload))
        obj = payload;
    unsigned seen = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int f = json_field(fd, n, fmt, key);
        if (f < 0 || (seen & (1u << f)) || json_is_null(v))
            continue;
        seen |= 1u << f;
        double scale = scale_for(fmt, &fd[f]);
        if (fd[f].flags & (F_ID | F_TS)) {
            char tmp[32];
            const char *s;
            size_t len;
            if (json_is_string(v)) {
                s = json_string_value(v);
                len = json_string_length(v);
            } else if ((fd[f].flags & F_ID) && json_is_integer(v)) {
                len = (size_t)snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT,
                                       json_integer_value(v));
                s = tmp;
            } else {
                return rec_error(err, fd[f].flags & F_ID ? MTR_R_REQUIRED : MTR_R_TIMESTAMP,
                                 fd[f].name, "%s: expected a string, got %s", fd[f].name,
                                 json_type_name(v));
            }
            int rc = decode_text(&fd[f], scale, 0, s, len, rec, err);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!json_is_number(v)) {
            if (json_is_string(v)) {
                char ex[64];
                mtr_text_excerpt(ex, sizeof ex, json_string_value(v), json_string_length(v));
                return rec_error(err, MTR_R_NUMBER, fd[f].name,
                                 "%s: expected a JSON number, got the string \"%s\"", fd[f].name,
                                 ex);
            }
            return rec_error(err, MTR_R_NUMBER, fd[f].name, "%s: expected a JSON number, got %s",
                             fd[f].name, json_type_name(v));
        }
        double x = json_number_value(v) * scale;
        char *dst = (char *)&rec->u + fd[f].off;
        if (fd[f].flags & F_INT) {
            if (!(x >= 1 && x <= 31 * 86400.0) || x != (double)(int32_t)x)
                return rec_error(err, MTR_R_NUMBER, fd[f].name,
                                 "%s: not a whole number of seconds between 1 and 31 days: %g",
                                 fd[f].name, x);
            int32_t iv = (int32_t)x;
            memcpy(dst, &iv, sizeof iv);
        } else {
            memcpy(dst, &x, sizeof x);
        }
    }
    for (int f = 1; f < n; f++)
        if ((fd[f].flags & F_REQ) && !(seen & (1u << f)))
            return rec_error(err, MTR_R_REQUIRED, fd[f].name, "%s: required field is missing",
                             fd[f].name);
    return finish(kind, fmt, rec, err);
}
