/* master.c - master-data CSV reader (see master.h). */
#include "adapters/io/master.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "base/csv.h"
#include "base/num.h"
#include "base/text.h"
#include "base/timeparse.h"
#include "core/vocab.h"

/* Column roles; a column is found by any of its |-separated names. */
enum col {
    C_ID,
    C_NAME,
    C_TYPE,
    C_LAT,
    C_LON,
    C_ADDRESS,
    C_MANUFACTURER,
    C_MODEL,
    C_FIRMWARE,
    C_TARIFF,
    C_STATUS,
    C_INSTALLED,
    C_OPERATOR,
    C_STATION,
    C_BASE,
    C_CAPACITY,
    C_VOLTAGE,
    C_REGION,
    C_ELEVATION,
    C_COUNT
};

static const char *const meter_cols[C_COUNT] = {
    [C_ID] = "meter_id",
    [C_TYPE] = "meter_type",
    [C_LAT] = "latitude",
    [C_LON] = "longitude",
    [C_ADDRESS] = "address",
    [C_MANUFACTURER] = "manufacturer",
    [C_MODEL] = "model",
    [C_FIRMWARE] = "firmware_version|firmware",
    [C_TARIFF] = "tariff_type|tariff",
    [C_STATUS] = "status",
    [C_INSTALLED] = "installation_date|installed_at",
    [C_OPERATOR] = "operator_id|grid_operator|grid_operator_id",
    [C_STATION] = "station_id|weather_station|weather_station_id",
    [C_BASE] = "base_consumption|base_kwh",
};
static const char *const operator_cols[C_COUNT] = {
    [C_ID] = "operator_id",
    [C_NAME] = "name",
    [C_TYPE] = "operator_type|type",
    [C_LAT] = "latitude",
    [C_LON] = "longitude",
    [C_STATUS] = "status",
    [C_CAPACITY] = "grid_capacity_mw|capacity_mw",
    [C_VOLTAGE] = "voltage_level_kv|voltage_kv",
    [C_REGION] = "grid_region|region",
};
static const char *const station_cols[C_COUNT] = {
    [C_ID] = "station_id",
    [C_NAME] = "name",
    [C_TYPE] = "station_type|type",
    [C_LAT] = "latitude",
    [C_LON] = "longitude",
    [C_STATUS] = "status",
    [C_ELEVATION] = "elevation_m|elevation",
};

struct mtr_master_reader {
    gzFile gz;
    struct mtr_csv *csv;
    enum mtr_kind kind;
    const char *const *names;
    int idx[C_COUNT]; /* column index of each role, -1 when absent */
    size_t ncols;
};

static ssize_t gz_read(void *ctx, void *buf, size_t n)
{
    int got = gzread((gzFile)ctx, buf, (unsigned)n);
    return got < 0 ? -1 : got;
}

static int name_matches(const char *alts, const char *p, size_t len)
{
    while (*alts) {
        const char *bar = strchr(alts, '|');
        size_t n = bar ? (size_t)(bar - alts) : strlen(alts);
        if (n == len && strncasecmp(alts, p, len) == 0)
            return 1;
        if (!bar)
            break;
        alts = bar + 1;
    }
    return 0;
}

static void trimmed(const struct mtr_csv_field *f, const char **p, size_t *len)
{
    const char *s = f->p;
    size_t n = f->len;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *p = s;
    *len = n;
}

void mtr_master_close(struct mtr_master_reader *r)
{
    if (!r)
        return;
    mtr_csv_close(r->csv);
    if (r->gz)
        gzclose(r->gz);
    free(r);
}

int mtr_master_open(const char *path, enum mtr_kind kind, struct mtr_master_reader **out,
                    struct mtr_errbuf *eb)
{
    int rc;
    struct mtr_csv_row row;
    struct mtr_master_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    r->kind = kind;
    r->names = kind == MTR_KIND_METER      ? meter_cols
               : kind == MTR_KIND_OPERATOR ? operator_cols
                                           : station_cols;
    r->gz = strcmp(path, "-") == 0 ? gzdopen(0, "rb") : gzopen(path, "rb");
    if (!r->gz) {
        rc = mtr_err(eb, MTR_EIO, "%s: cannot open", path);
        goto fail;
    }
    if ((rc = mtr_csv_open(gz_read, r->gz, 0, &r->csv)) < 0) {
        mtr_err(eb, rc, "out of memory");
        goto fail;
    }
    rc = mtr_csv_next(r->csv, &row);
    if (rc != 1) {
        rc = mtr_err(eb, rc < 0 && rc != MTR_EPARSE ? rc : MTR_EINVAL, "%s:1: no header row", path);
        goto fail;
    }
    for (int c = 0; c < C_COUNT; c++) {
        r->idx[c] = -1;
        for (size_t i = 0; r->names[c] && i < row.nfields; i++) {
            const char *p;
            size_t len;
            trimmed(&row.fields[i], &p, &len);
            if (name_matches(r->names[c], p, len)) {
                r->idx[c] = (int)i;
                break;
            }
        }
    }
    r->ncols = row.nfields;
    if (r->idx[C_ID] < 0) {
        rc = mtr_err(eb, MTR_EINVAL, "%s:%llu: header has no column '%s'", path,
                     (unsigned long long)row.line, r->names[C_ID]);
        goto fail;
    }
    *out = r;
    return 0;
fail:
    mtr_master_close(r);
    return rc;
}

static int bad(struct mtr_record_error *err, const struct mtr_csv_row *row, enum mtr_rule_id rule,
               const char *field, const char *fmt, const char *value, size_t len)
{
    err->line = row->line;
    err->rule = rule;
    snprintf(err->field, sizeof err->field, "%s", field);
    char v[80];
    mtr_text_excerpt(v, sizeof v, value, len);
    snprintf(err->message, sizeof err->message, fmt, field, v);
    mtr_text_excerpt(err->raw, sizeof err->raw, row->raw, row->raw_len);
    return MTR_EPARSE;
}

/* Copies column c (trimmed) into dst; returns its length, or -1 when the column is absent. */
static int text_of(const struct mtr_master_reader *r, const struct mtr_csv_row *row, int c,
                   char *dst, size_t cap)
{
    if (r->idx[c] < 0 || (size_t)r->idx[c] >= row->nfields)
        return -1;
    const char *p;
    size_t len;
    trimmed(&row->fields[r->idx[c]], &p, &len);
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, p, len);
    dst[len] = 0;
    return (int)len;
}

static int num_of(const struct mtr_master_reader *r, const struct mtr_csv_row *row, int c,
                  const char *field, double *out, struct mtr_record_error *err)
{
    char buf[64];
    *out = NAN;
    int n = text_of(r, row, c, buf, sizeof buf);
    if (n <= 0)
        return 0;
    if (mtr_parse_double(buf, (size_t)n, out) < 0)
        return bad(err, row, MTR_R_NUMBER, field, "%s: not a number: \"%s\"", buf, (size_t)n);
    return 0;
}

int mtr_master_next(struct mtr_master_reader *r, struct mtr_master_record *rec,
                    struct mtr_record_error *err)
{
    struct mtr_csv_row row;
    char buf[MTR_TEXT_MAX];
    int rc = mtr_csv_next(r->csv, &row);
    if (rc <= 0 && rc != MTR_EPARSE)
        return rc;
    memset(rec, 0, sizeof *rec);
    rec->kind = r->kind;
    rec->line = row.line;
    if (rc == MTR_EPARSE) {
        enum mtr_rule_id rule = row.error == MTR_CSV_E_QUOTE      ? MTR_R_PARSE_QUOTE
                                : row.error == MTR_CSV_E_ENCODING ? MTR_R_PARSE_ENCODING
                                : row.error == MTR_CSV_E_LENGTH   ? MTR_R_PARSE_LINE_LENGTH
                                                                  : MTR_R_PARSE_COLUMNS;
        return bad(err, &row, rule, "", "%s%s", row.message, strlen(row.message));
    }
    if (row.nfields != r->ncols)
        return bad(err, &row, MTR_R_PARSE_COLUMNS, "", "%s%s", "wrong number of columns", 23);
    const char *idname = r->names[C_ID];
    char *id = r->kind == MTR_KIND_METER      ? rec->u.meter.id
               : r->kind == MTR_KIND_OPERATOR ? rec->u.op.id
                                              : rec->u.station.id;
    int n = text_of(r, &row, C_ID, buf, sizeof buf);
    if (n <= 0)
        return bad(err, &row, MTR_R_REQUIRED, idname, "%s: required field is empty%s", "", 0);
    if (n >= MTR_ID_MAX)
        return bad(err, &row, MTR_R_REQUIRED, idname, "%s: longer than 63 bytes: \"%s\"", buf,
                   (size_t)n);
    memcpy(id, buf, (size_t)n + 1);
    double lat, lon;
    if (num_of(r, &row, C_LAT, "latitude", &lat, err) ||
        num_of(r, &row, C_LON, "longitude", &lon, err))
        return MTR_EPARSE;
    if (mtr_outside(lat, -90, 90) || mtr_outside(lon, -180, 180))
        return bad(err, &row, MTR_R_VALUE, "latitude", "%s: coordinates out of range%s", "", 0);
    char status[32] = "";
    int has_status = text_of(r, &row, C_STATUS, status, sizeof status) > 0;

    if (r->kind == MTR_KIND_METER) {
        struct mtr_meter *m = &rec->u.meter;
        char id_copy[MTR_ID_MAX];
        memcpy(id_copy, m->id, sizeof id_copy);
        mtr_meter_init(m);
        memcpy(m->id, id_copy, sizeof id_copy);
        m->latitude = lat;
        m->longitude = lon;
        text_of(r, &row, C_ADDRESS, m->address, sizeof m->address);
        text_of(r, &row, C_MANUFACTURER, m->manufacturer, sizeof m->manufacturer);
        text_of(r, &row, C_MODEL, m->model, sizeof m->model);
        text_of(r, &row, C_FIRMWARE, m->firmware, sizeof m->firmware);
        text_of(r, &row, C_TARIFF, m->tariff, sizeof m->tariff);
        text_of(r, &row, C_OPERATOR, m->operator_id, sizeof m->operator_id);
        text_of(r, &row, C_STATION, m->station_id, sizeof m->station_id);
        if (num_of(r, &row, C_BASE, "base_consumption", &m->base_kwh, err))
            return MTR_EPARSE;
        if (text_of(r, &row, C_TYPE, buf, sizeof buf) > 0) {
            int t = mtr_meter_type_parse(buf);
            if (t < 0)
                return bad(err, &row, MTR_R_VALUE, "meter_type",
                           "%s: not residential, commercial or industrial: \"%s\"", buf,
                           strlen(buf));
            m->type = (enum mtr_meter_type)t;
        }
        if (has_status) {
            int s = mtr_meter_status_parse(status);
            if (s < 0)
                return bad(err, &row, MTR_R_VALUE, "status", "%s: unknown meter status \"%s\"",
                           status, strlen(status));
            m->status = (enum mtr_meter_status)s;
        }
        int64_t t;
        n = text_of(r, &row, C_INSTALLED, buf, sizeof buf);
        if (n > 0) {
            if (mtr_time_parse(buf, (size_t)n, &t) < 0)
                return bad(err, &row, MTR_R_TIMESTAMP, "installation_date",
                           "%s: not an ISO-8601 date-time: \"%s\"", buf, (size_t)n);
            m->installed_at = t;
        }
        return 1;
    }
    int site = MTR_SITE_ACTIVE;
    if (has_status && (site = mtr_site_status_parse(status)) < 0)
        return bad(err, &row, MTR_R_VALUE, "status",
                   "%s: not active, inactive or maintenance: \"%s\"", status, strlen(status));
    if (r->kind == MTR_KIND_OPERATOR) {
        struct mtr_operator *o = &rec->u.op;
        o->latitude = lat;
        o->longitude = lon;
        o->status = (enum mtr_site_status)site;
        text_of(r, &row, C_NAME, o->name, sizeof o->name);
        text_of(r, &row, C_TYPE, o->type, sizeof o->type);
        text_of(r, &row, C_REGION, o->region, sizeof o->region);
        if (num_of(r, &row, C_CAPACITY, "grid_capacity_mw", &o->capacity_mw, err) ||
            num_of(r, &row, C_VOLTAGE, "voltage_level_kv", &o->voltage_kv, err))
            return MTR_EPARSE;
        return 1;
    }
    struct mtr_station *st = &rec->u.station;
    st->latitude = lat;
    st->longitude = lon;
    st->status = (enum mtr_site_status)site;
    text_of(r, &row, C_NAME, st->name, sizeof st->name);
    text_of(r, &row, C_TYPE, st->type, sizeof st->type);
    if (num_of(r, &row, C_ELEVATION, "elevation_m", &st->elevation_m, err))
        return MTR_EPARSE;
    return 1;
}
