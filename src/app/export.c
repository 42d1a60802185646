/*
 * export.c - the data lake export (see export.h): per dataset, the changed days from the store,
 * per day one part file, rows streamed from the store's change scans into column batches of
 * BATCH rows, encoded by the Parquet writer and written through the lake port. Memory: one batch
 * plus the writer's current row group, whatever the size of the store.
 */
#include "app/export.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeparse.h"
#include "core/quality.h"

#define BATCH    8192
#define MAX_COLS 24

/* ======================= schemas ======================= */

#define REQ(n, t)                                                                                  \
    {                                                                                              \
        n, t, false, MTR_PQ_DICT_AUTO                                                              \
    }
#define OPT(n, t)                                                                                  \
    {                                                                                              \
        n, t, true, MTR_PQ_DICT_AUTO                                                               \
    }

/* Column order here is the order of the setters in the row callbacks below. */
static const struct mtr_pq_column_def readings_cols[] = {
    REQ("meter_id", MTR_PQ_STRING),
    REQ("ts", MTR_PQ_TIMESTAMP_US),
    REQ("interval_s", MTR_PQ_INT32),
    OPT("kwh", MTR_PQ_DOUBLE), /* final value: raw, edited or estimated */
    OPT("raw_kwh", MTR_PQ_DOUBLE),
    OPT("voltage_v", MTR_PQ_DOUBLE),
    OPT("current_a", MTR_PQ_DOUBLE),
    OPT("power_factor", MTR_PQ_DOUBLE),
    OPT("frequency_hz", MTR_PQ_DOUBLE),
    OPT("active_power_kw", MTR_PQ_DOUBLE),
    OPT("reactive_power_kvar", MTR_PQ_DOUBLE),
    REQ("quality_code", MTR_PQ_INT32),
    REQ("quality", MTR_PQ_STRING),
    REQ("flags", MTR_PQ_INT64),
    REQ("anomaly", MTR_PQ_BOOLEAN),
    OPT("flag_names", MTR_PQ_STRING),
    OPT("score", MTR_PQ_DOUBLE),
    OPT("ingested_at", MTR_PQ_TIMESTAMP_US),
    REQ("change_seq", MTR_PQ_INT64),
};
static const struct mtr_pq_column_def grid_cols[] = {
    REQ("operator_id", MTR_PQ_STRING),  REQ("ts", MTR_PQ_TIMESTAMP_US),
    OPT("frequency_hz", MTR_PQ_DOUBLE), OPT("voltage_kv", MTR_PQ_DOUBLE),
    OPT("load_mw", MTR_PQ_DOUBLE),      OPT("capacity_mw", MTR_PQ_DOUBLE),
    OPT("stability", MTR_PQ_DOUBLE),    REQ("flags", MTR_PQ_INT64),
    OPT("flag_names", MTR_PQ_STRING),   OPT("score", MTR_PQ_DOUBLE),
    REQ("change_seq", MTR_PQ_INT64),
};
static const struct mtr_pq_column_def weather_cols[] = {
    REQ("station_id", MTR_PQ_STRING),         REQ("ts", MTR_PQ_TIMESTAMP_US),
    OPT("temperature_c", MTR_PQ_DOUBLE),      OPT("humidity_pct", MTR_PQ_DOUBLE),
    OPT("pressure_hpa", MTR_PQ_DOUBLE),       OPT("wind_speed_ms", MTR_PQ_DOUBLE),
    OPT("wind_direction_deg", MTR_PQ_DOUBLE), OPT("precipitation_mm", MTR_PQ_DOUBLE),
    OPT("cloud_cover_pct", MTR_PQ_DOUBLE),    REQ("flags", MTR_PQ_INT64),
    OPT("flag_names", MTR_PQ_STRING),         OPT("score", MTR_PQ_DOUBLE),
    REQ("change_seq", MTR_PQ_INT64),
};
static const struct mtr_pq_column_def daily_cols[] = {
    REQ("meter_id", MTR_PQ_STRING),       REQ("day", MTR_PQ_DATE),
    REQ("interval_s", MTR_PQ_INT32),      REQ("kwh", MTR_PQ_DOUBLE),
    REQ("peak_kwh", MTR_PQ_DOUBLE),       REQ("offpeak_kwh", MTR_PQ_DOUBLE),
    OPT("min_kwh", MTR_PQ_DOUBLE),        OPT("max_kwh", MTR_PQ_DOUBLE),
    REQ("n_valid", MTR_PQ_INT32),         REQ("n_estimated", MTR_PQ_INT32),
    REQ("n_flagged", MTR_PQ_INT32),       REQ("n_anomalous", MTR_PQ_INT32),
    OPT("first_ts", MTR_PQ_TIMESTAMP_US), OPT("last_ts", MTR_PQ_TIMESTAMP_US),
    REQ("timeliness_sum", MTR_PQ_DOUBLE), REQ("change_seq", MTR_PQ_INT64),
};

#define NCOLS(a) (sizeof a / sizeof a[0])
static const struct mtr_pq_schema schemas[MTR_DS_COUNT] = {
    [MTR_DS_READINGS] = {readings_cols, NCOLS(readings_cols)},
    [MTR_DS_GRID] = {grid_cols, NCOLS(grid_cols)},
    [MTR_DS_WEATHER] = {weather_cols, NCOLS(weather_cols)},
    [MTR_DS_DAILY] = {daily_cols, NCOLS(daily_cols)},
};
static const char *const ds_names[MTR_DS_COUNT] = {"readings", "grid", "weather", "daily"};

const char *mtr_dataset_name(enum mtr_dataset ds)
{
    return (unsigned)ds < MTR_DS_COUNT ? ds_names[ds] : NULL;
}

int mtr_dataset_parse(const char *s)
{
    for (int i = 0; i < MTR_DS_COUNT; i++)
        if (s && strcmp(s, ds_names[i]) == 0)
            return i;
    return -1;
}

const struct mtr_pq_schema *mtr_export_schema(enum mtr_dataset ds)
{
    return (unsigned)ds < MTR_DS_COUNT ? &schemas[ds] : NULL;
}

void mtr_export_opts_default(struct mtr_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->codec = MTR_EXPORT_ZSTD;
}

/* ======================= column batches ======================= */

/* One column's values for up to BATCH rows. Strings are kept as offsets into the batch arena
 * until the batch is written (the arena may move while it grows). */
struct colbuf {
    union {
        int32_t *i32;
        int64_t *i64;
        double *f64;
        bool *b;
        struct mtr_pq_bytes *s;
        void *p;
    } v;
    uint8_t *nulls;
    int any_null;
};

struct run; /* the state of one export run, below */

struct batch {
    const struct mtr_pq_schema *schema;
    struct colbuf c[MAX_COLS];
    size_t n;
    char *arena;
    size_t alen, acap;
};

static size_t type_size(enum mtr_pq_type t)
{
    switch (t) {
    case MTR_PQ_INT32:
    case MTR_PQ_DATE:
        return sizeof(int32_t);
    case MTR_PQ_BOOLEAN:
        return sizeof(bool);
    case MTR_PQ_STRING:
        return sizeof(struct mtr_pq_bytes);
    default:
        return 8;
    }
}

static void batch_free(struct batch *b)
{
    for (int i = 0; i < MAX_COLS; i++) {
        free(b->c[i].v.p);
        free(b->c[i].nulls);
    }
    free(b->arena);
    memset(b, 0, sizeof *b);
}

static int batch_init(struct batch *b, const struct mtr_pq_schema *schema)
{
    memset(b, 0, sizeof *b);
    b->schema = schema;
    for (size_t i = 0; i < schema->ncolumns; i++) {
        b->c[i].v.p = calloc(BATCH, type_size(schema->columns[i].type));
        b->c[i].nulls = calloc(BATCH, 1);
        if (!b->c[i].v.p || !b->c[i].nulls) {
            batch_free(b);
            return MTR_ENOMEM;
        }
    }
    return 0;
}

static void set_i32(struct batch *b, int c, int32_t v)
{
    b->c[c].v.i32[b->n] = v;
}
static void set_i64(struct batch *b, int c, int64_t v)
{
    b->c[c].v.i64[b->n] = v;
}
static void set_bool(struct batch *b, int c, bool v)
{
    b->c[c].v.b[b->n] = v;
}
static void set_null(struct batch *b, int c)
{
    b->c[c].nulls[b->n] = 1;
    b->c[c].any_null = 1;
}
/* NAN (not delivered) is a null. */
static void set_dbl(struct batch *b, int c, double v)
{
    if (isnan(v))
        set_null(b, c);
    else
        b->c[c].v.f64[b->n] = v;
}
/* Seconds to microseconds; 0 (unknown) is a null for nullable columns. */
static void set_ts(struct batch *b, int c, int64_t t)
{
    if (t == 0 && b->schema->columns[c].nullable)
        set_null(b, c);
    else
        b->c[c].v.i64[b->n] = t * 1000000;
}
static int set_str(struct batch *b, int c, const char *s, size_t len)
{
    if (b->alen + len > b->acap) {
        size_t cap = b->acap ? b->acap * 2 : 65536;
        while (cap < b->alen + len)
            cap *= 2;
        char *a = realloc(b->arena, cap);
        if (!a)
            return MTR_ENOMEM;
        b->arena = a;
        b->acap = cap;
    }
    memcpy(b->arena + b->alen, s, len);
    b->c[c].v.s[b->n] = (struct mtr_pq_bytes){(const char *)(uintptr_t)b->alen, len};
    b->alen += len;
    return 0;
}

/* Writes the batch to w and empties it. */
static int batch_flush(struct batch *b, struct mtr_pq_writer *w, struct mtr_errbuf *eb)
{
    if (!b->n)
        return 0;
    struct mtr_pq_column_data cols[MAX_COLS];
    for (size_t i = 0; i < b->schema->ncolumns; i++) {
        if (b->schema->columns[i].type == MTR_PQ_STRING)
            for (size_t r = 0; r < b->n; r++)
                if (!b->c[i].nulls[r])
                    b->c[i].v.s[r].ptr = b->arena + (uintptr_t)b->c[i].v.s[r].ptr;
        cols[i].values = b->c[i].v.p;
        cols[i].nulls = b->c[i].any_null ? b->c[i].nulls : NULL;
    }
    int rc = mtr_pq_write_batch(w, cols, b->n, eb);
    for (size_t i = 0; i < b->schema->ncolumns; i++) {
        if (b->c[i].any_null)
            memset(b->c[i].nulls, 0, b->n);
        b->c[i].any_null = 0;
    }
    b->n = 0;
    b->alen = 0;
    return rc;
}

/* ======================= the encoder thread ======================= */

/* Scanning the store and encoding Parquet take about as long as each other, so they overlap: the
 * scan fills one batch while this thread encodes (and writes) the other. `job` is the batch
 * handed over, NULL once taken and done; the scan waits for that before handing over the next,
 * so each batch is touched by one thread at a time. */
struct encoder {
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *job;
    struct mtr_pq_writer *w; /* set by the scan thread while no job is pending */
    int quit, rc;
    struct mtr_errbuf eb;
};

static void *encoder_main(void *arg)
{
    struct encoder *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->job && !e->quit)
            pthread_cond_wait(&e->cv, &e->mu);
        if (!e->job)
            break;
        struct batch *b = e->job;
        struct mtr_pq_writer *w = e->w;
        int failed = e->rc;
        pthread_mutex_unlock(&e->mu);
        int rc = failed ? 0 : batch_flush(b, w, &e->eb);
        if (failed) { /* after an error the batches are only emptied */
            b->n = 0;
            b->alen = 0;
        }
        pthread_mutex_lock(&e->mu);
        if (rc && !e->rc)
            e->rc = rc;
        e->job = NULL;
        pthread_cond_broadcast(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static int encoder_start(struct encoder *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (pthread_create(&e->th, NULL, encoder_main, e) != 0)
        return MTR_ENOMEM;
    e->started = 1;
    return 0;
}

static void encoder_stop(struct encoder *e)
{
    if (e->started) {
        pthread_mutex_lock(&e->mu);
        e->quit = 1;
        pthread_cond_broadcast(&e->cv);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->th, NULL);
        e->started = 0;
    }
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
}

/* Waits until the encoder is idle; returns its first error (and its message in eb). */
static int encoder_drain(struct encoder *e, struct mtr_errbuf *eb)
{
    pthread_mutex_lock(&e->mu);
    while (e->job)
        pthread_cond_wait(&e->cv, &e->mu);
    int rc = e->rc;
    pthread_mutex_unlock(&e->mu);
    if (rc && eb)
        *eb = e->eb;
    return rc;
}

/* Hands b over for writer w once the previous batch is done. */
static int encoder_post(struct encoder *e, struct batch *b, struct mtr_pq_writer *w,
                        struct mtr_errbuf *eb)
{
    int rc = encoder_drain(e, eb);
    if (rc)
        return rc;
    pthread_mutex_lock(&e->mu);
    e->w = w;
    e->job = b;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

/* Forgets an error after the file it concerned was dropped. */
static void encoder_reset(struct encoder *e)
{
    pthread_mutex_lock(&e->mu);
    e->rc = 0;
    pthread_mutex_unlock(&e->mu);
}

/* ======================= one run ======================= */

struct run {
    struct mtr_store *s;
    struct mtr_lake *l;
    const struct mtr_export_opts *o;
    struct mtr_pq_options pqo;
    struct mtr_errbuf *eb;
    enum mtr_dataset ds;
    struct mtr_export_ds_stats *st;
    int64_t day;
    /* the open part file of the current day, if any */
    struct mtr_lake_file *f;
    struct mtr_pq_writer *w;
    char key[256];
    struct batch bb[2], *b; /* b: the one being filled */
    struct encoder enc;
    int rc; /* first error inside a row callback */
    /* flag_names cache: flags repeat, names are built once per distinct word */
    uint64_t names_for;
    char names[1024];
    size_t names_len;
    uint64_t alert_mask;
};

static int lake_sink(void *ctx, const void *buf, size_t len)
{
    struct run *r = ctx;
    return r->l->ops->write(r->f, buf, len);
}

static void partition_of(const struct run *r, char *buf, size_t cap)
{
    int y, m, d;
    mtr_civil_from_days(r->day / 86400, &y, &m, &d);
    snprintf(buf, cap, "dataset=%s/date=%04d-%02d-%02d", ds_names[r->ds], y, m, d);
}

/* Opens the day's part file on its first row. */
static int open_part(struct run *r)
{
    char part[128];
    int next = 0, rc;
    partition_of(r, part, sizeof part);
    if ((rc = r->l->ops->next_part(r->l, part, &next, r->eb)))
        return rc;
    snprintf(r->key, sizeof r->key, "%s/part-%04d.parquet", part, next);
    if ((rc = r->l->ops->create(r->l, r->key, &r->f, r->eb)))
        return rc;
    rc = mtr_pq_writer_open(&schemas[r->ds], &r->pqo, lake_sink, r, &r->w, r->eb);
    if (rc) {
        r->l->ops->discard(r->f);
        r->f = NULL;
        if (!r->eb->msg[0])
            mtr_err(r->eb, rc, "%s: cannot start the Parquet file", r->key);
    }
    return rc;
}

static void drop_part(struct run *r)
{
    encoder_drain(&r->enc, NULL);
    encoder_reset(&r->enc);
    mtr_pq_writer_abort(r->w);
    r->w = NULL;
    if (r->f)
        r->l->ops->discard(r->f);
    r->f = NULL;
    for (int i = 0; i < 2; i++) {
        r->bb[i].n = 0;
        r->bb[i].alen = 0;
    }
}

/* Finishes the day's file, if one was started, and makes it visible. */
static int close_part(struct run *r)
{
    if (!r->w)
        return 0;
    int rc = encoder_post(&r->enc, r->b, r->w, r->eb);
    if (rc == 0)
        rc = encoder_drain(&r->enc, r->eb);
    uint64_t rows = rc ? 0 : mtr_pq_writer_rows(r->w);
    if (rc) {
        drop_part(r);
        return rc;
    }
    rc = mtr_pq_writer_close(r->w, r->eb);
    r->w = NULL;
    if (rc) {
        drop_part(r);
        return rc;
    }
    uint64_t bytes = 0;
    rc = r->l->ops->commit(r->f, &bytes, r->eb);
    r->f = NULL;
    if (rc)
        return rc;
    r->st->files++;
    r->st->rows += rows;
    r->st->bytes += bytes;
    r->st->partitions++;
    if (r->o->progress) {
        struct mtr_export_file ef = {r->ds, r->key, rows, bytes};
        r->o->progress(r->o->progress_ctx, &ef);
    }
    return 0;
}

/* Called before each row is set: opens the file, flushes a full batch. Non-zero stops the scan. */
static int row_begin(struct run *r)
{
    if (!r->w && (r->rc = open_part(r)))
        return r->rc;
    if (r->b->n == BATCH) {
        if ((r->rc = encoder_post(&r->enc, r->b, r->w, r->eb)))
            return r->rc;
        r->b = r->b == &r->bb[0] ? &r->bb[1] : &r->bb[0];
    }
    return 0;
}

static int row_end(struct run *r)
{
    r->b->n++;
    return 0;
}

/* Comma-separated rule names of a flags word; null when no flag is set. */
static int set_flag_names(struct run *r, int c, uint64_t flags)
{
    if (!flags) {
        set_null(r->b, c);
        return 0;
    }
    if (flags != r->names_for || !r->names_len) {
        size_t n = 0;
        r->names[0] = 0;
        for (int i = 0; i < 64 && i < MTR_RULE_COUNT; i++) {
            if (!(flags & ((uint64_t)1 << i)))
                continue;
            const struct mtr_rule *rule = mtr_rule((enum mtr_rule_id)i);
            int k = snprintf(r->names + n, sizeof r->names - n, "%s%s", n ? "," : "",
                             rule ? rule->name : "?");
            if (k < 0 || (size_t)k >= sizeof r->names - n)
                break;
            n += (size_t)k;
        }
        r->names_for = flags;
        r->names_len = n;
    }
    return set_str(r->b, c, r->names, r->names_len);
}

static int reading_row(void *ctx, const char *meter_id, const struct mtr_stored_reading *x,
                       int64_t seq)
{
    struct run *r = ctx;
    if (row_begin(r))
        return r->rc;
    struct batch *b = r->b;
    const char *q = mtr_quality_code_name(x->quality_code);
    if ((r->rc = set_str(b, 0, meter_id, strlen(meter_id))))
        return r->rc;
    set_ts(b, 1, x->ts);
    set_i32(b, 2, x->interval_s);
    set_dbl(b, 3, x->kwh);
    set_dbl(b, 4, x->raw_kwh);
    set_dbl(b, 5, x->voltage_v);
    set_dbl(b, 6, x->current_a);
    set_dbl(b, 7, x->power_factor);
    set_dbl(b, 8, x->frequency_hz);
    set_dbl(b, 9, x->active_power_kw);
    set_dbl(b, 10, x->reactive_power_kvar);
    set_i32(b, 11, x->quality_code);
    if ((r->rc = set_str(b, 12, q, strlen(q))))
        return r->rc;
    set_i64(b, 13, (int64_t)x->flags);
    set_bool(b, 14, (x->flags & r->alert_mask) != 0);
    if ((r->rc = set_flag_names(r, 15, x->flags)))
        return r->rc;
    set_dbl(b, 16, x->score);
    set_ts(b, 17, x->ingested_at);
    set_i64(b, 18, seq);
    return row_end(r);
}

static int grid_row(void *ctx, const struct mtr_grid_row *x, int64_t seq)
{
    struct run *r = ctx;
    if (row_begin(r))
        return r->rc;
    struct batch *b = r->b;
    if ((r->rc = set_str(b, 0, x->g.operator_id, strlen(x->g.operator_id))))
        return r->rc;
    set_ts(b, 1, x->g.ts);
    set_dbl(b, 2, x->g.frequency_hz);
    set_dbl(b, 3, x->g.voltage_kv);
    set_dbl(b, 4, x->g.load_mw);
    set_dbl(b, 5, x->g.capacity_mw);
    set_dbl(b, 6, x->g.stability);
    set_i64(b, 7, (int64_t)x->flags);
    if ((r->rc = set_flag_names(r, 8, x->flags)))
        return r->rc;
    set_dbl(b, 9, x->score);
    set_i64(b, 10, seq);
    return row_end(r);
}

static int weather_row(void *ctx, const struct mtr_weather_row *x, int64_t seq)
{
    struct run *r = ctx;
    if (row_begin(r))
        return r->rc;
    struct batch *b = r->b;
    if ((r->rc = set_str(b, 0, x->w.station_id, strlen(x->w.station_id))))
        return r->rc;
    set_ts(b, 1, x->w.ts);
    set_dbl(b, 2, x->w.temperature_c);
    set_dbl(b, 3, x->w.humidity_pct);
    set_dbl(b, 4, x->w.pressure_hpa);
    set_dbl(b, 5, x->w.wind_speed_ms);
    set_dbl(b, 6, x->w.wind_direction_deg);
    set_dbl(b, 7, x->w.precipitation_mm);
    set_dbl(b, 8, x->w.cloud_cover_pct);
    set_i64(b, 9, (int64_t)x->flags);
    if ((r->rc = set_flag_names(r, 10, x->flags)))
        return r->rc;
    set_dbl(b, 11, x->score);
    set_i64(b, 12, seq);
    return row_end(r);
}

static int daily_row(void *ctx, const struct mtr_day_row *x, int64_t seq)
{
    struct run *r = ctx;
    if (row_begin(r))
        return r->rc;
    struct batch *b = r->b;
    const struct mtr_rollup_day *d = &x->d;
    if ((r->rc = set_str(b, 0, x->meter_id, strlen(x->meter_id))))
        return r->rc;
    set_i32(b, 1, (int32_t)(d->day / 86400));
    set_i32(b, 2, d->interval_s);
    b->c[3].v.f64[b->n] = d->kwh;
    b->c[4].v.f64[b->n] = d->peak_kwh;
    b->c[5].v.f64[b->n] = d->offpeak_kwh;
    set_dbl(b, 6, d->min_kwh);
    set_dbl(b, 7, d->max_kwh);
    set_i32(b, 8, d->n_valid);
    set_i32(b, 9, d->n_estimated);
    set_i32(b, 10, d->n_flagged);
    set_i32(b, 11, d->n_anomalous);
    set_ts(b, 12, d->first_ts);
    set_ts(b, 13, d->last_ts);
    b->c[14].v.f64[b->n] = d->timeliness_sum;
    set_i64(b, 15, seq);
    return row_end(r);
}

/* The changed days of a dataset, collected first: the scans below must not nest in the days
 * query's iteration. */
struct days {
    int64_t *v;
    size_t n, cap;
};
static int collect_day(void *ctx, int64_t day)
{
    struct days *d = ctx;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        int64_t *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return MTR_ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = day;
    return 0;
}

static int scan_day(struct run *r, int64_t after, int64_t upto)
{
    struct mtr_store *s = r->s;
    switch (r->ds) {
    case MTR_DS_READINGS:
        return s->ops->readings_changed(s, r->day, after, upto, reading_row, r);
    case MTR_DS_GRID:
        return s->ops->grid_changed(s, r->day, after, upto, grid_row, r);
    case MTR_DS_WEATHER:
        return s->ops->weather_changed(s, r->day, after, upto, weather_row, r);
    default:
        return s->ops->days_changed(s, r->day, after, upto, daily_row, r);
    }
}

static int export_dataset(struct run *r, int64_t upto)
{
    struct mtr_store *s = r->s;
    const char *name = ds_names[r->ds];
    struct days days = {0};
    int64_t after = -1; /* rows from before change tracking carry 0 */
    int rc = 0;
    if (!r->o->full) {
        rc = s->ops->export_watermark_get(s, name, r->l->name, &after);
        if (rc == MTR_ENOTFOUND)
            after = -1;
        else if (rc)
            return mtr_err(r->eb, rc, "%s: reading the watermark: %s", name, s->err.msg);
    }
    r->st->ran = 1;
    r->st->after = after;
    r->st->upto = upto;
    if (upto <= after)
        return 0; /* nothing changed since the last run */
    if ((rc = s->ops->changed_days(s, r->ds, after, collect_day, &days))) {
        mtr_err(r->eb, rc, "%s: listing changed days: %s", name,
                rc == MTR_ENOMEM ? "out of memory" : s->err.msg);
        goto out;
    }
    if ((rc = batch_init(&r->bb[0], &schemas[r->ds])) ||
        (rc = batch_init(&r->bb[1], &schemas[r->ds])) || (rc = encoder_start(&r->enc))) {
        mtr_err(r->eb, rc, "out of memory");
        goto out;
    }
    r->b = &r->bb[0];
    for (size_t i = 0; i < days.n; i++) {
        r->day = days.v[i];
        r->rc = 0;
        rc = scan_day(r, after, upto);
        if (rc) {
            if (!r->rc)
                mtr_err(r->eb, rc, "%s: scanning changed rows: %s", name, s->err.msg);
            drop_part(r);
            goto out;
        }
        if ((rc = close_part(r)))
            goto out;
    }
    /* every file of the dataset is visible: only now may the watermark move */
    if ((rc = s->ops->begin(s)) || (rc = s->ops->export_watermark_put(s, name, r->l->name, upto)) ||
        (rc = s->ops->commit(s))) {
        mtr_err(r->eb, rc, "%s: storing the watermark: %s", name, s->err.msg);
        s->ops->rollback(s);
    }
out:
    encoder_stop(&r->enc);
    batch_free(&r->bb[0]);
    batch_free(&r->bb[1]);
    free(days.v);
    return rc;
}

int mtr_export_lake(struct mtr_store *s, struct mtr_lake *l, const struct mtr_export_opts *o,
                    struct mtr_export_stats *st, struct mtr_errbuf *eb)
{
    struct mtr_export_opts defaults;
    struct mtr_export_stats local;
    struct run *r = NULL;
    int64_t upto = 0;
    int rc;
    if (!o) {
        mtr_export_opts_default(&defaults);
        o = &defaults;
    }
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    unsigned want = o->datasets ? o->datasets : (1u << MTR_DS_COUNT) - 1;
    if (want >> MTR_DS_COUNT)
        return mtr_err(eb, MTR_EINVAL, "unknown dataset in the selection");
    r = calloc(1, sizeof *r);
    if (!r)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    r->s = s;
    r->l = l;
    r->o = o;
    r->eb = eb;
    r->alert_mask = mtr_alert_mask();
    mtr_pq_options_default(&r->pqo);
    r->pqo.codec = o->codec == MTR_EXPORT_NONE ? MTR_PQ_UNCOMPRESSED : MTR_PQ_ZSTD;
    if (o->zstd_level)
        r->pqo.zstd_level = o->zstd_level;
    if (o->row_group_rows)
        r->pqo.row_group_rows = o->row_group_rows;
    if ((rc = l->ops->recover(l, eb)))
        goto out;
    /* one upper bound for every dataset, read once: units committing during the run are left
     * for the next one */
    if ((rc = s->ops->change_seq(s, &upto))) {
        mtr_err(eb, rc, "reading the change number: %s", s->err.msg);
        goto out;
    }
    for (int ds = 0; ds < MTR_DS_COUNT; ds++) {
        if (!(want & (1u << ds)))
            continue;
        r->ds = (enum mtr_dataset)ds;
        r->st = &st->ds[ds];
        if ((rc = export_dataset(r, upto)))
            goto out;
    }
out:
    free(r);
    return rc;
}
