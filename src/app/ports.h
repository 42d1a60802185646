/*
 * ports.h - how the use cases reach the world: the record source port (files, stdin, later
 * HTTP/Kafka/MQTT bodies) and the store port (SQLite now, PostgreSQL later). Adapters implement
 * these ops tables; use cases never include an adapter header.
 *
 * Conventions: every op returns int rc (0 or a negative MTR_E*), and fills a caller-owned struct
 * mtr_errbuf where one is passed. Strings passed in are borrowed for the duration of the call.
 * Row callbacks receive rows borrowed for the duration of the callback; a non-zero return from a
 * callback stops the iteration and is returned by the op.
 */
#ifndef MTR_PORTS_H
#define MTR_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/params.h"
#include "core/types.h"
#include "core/vocab.h"

/* ======================= record source ======================= */

/* Why one record could not be decoded. Filled by source->next when it returns MTR_EPARSE. */
struct mtr_record_error {
    uint64_t line;         /* 1-based line (CSV/NDJSON); 0 when unknown */
    enum mtr_rule_id rule; /* MTR_R_PARSE_*, MTR_R_REQUIRED, MTR_R_NUMBER, MTR_R_TIMESTAMP */
    char field[48];        /* the offending column/field name, "" when not field-specific */
    char message[256];     /* human-readable: what is wrong, e.g. "not a number: \"abc\"" */
    char raw[256];         /* the start of the offending line/message, for quarantine */
};

/* Empties e before a source call: the header and the strings' first bytes (clearing all 576
 * bytes per record was measurable on both threads of a bulk ingest). */
static inline void mtr_record_error_clear(struct mtr_record_error *e)
{
    e->line = 0;
    e->rule = (enum mtr_rule_id)0;
    e->field[0] = e->message[0] = e->raw[0] = '\0';
}

struct mtr_source;
struct mtr_source_ops {
    /*
     * Decodes the next record into *rec. Returns 1 when a record was produced, 0 at end of input,
     * MTR_EPARSE when this record is malformed (err filled; the source has skipped it and the
     * caller may continue), or another negative code on a fatal error (I/O; err->message filled).
     */
    int (*next)(struct mtr_source *src, struct mtr_record *rec, struct mtr_record_error *err);
    /* Frees the source and everything it owns. */
    void (*close)(struct mtr_source *src);
};
struct mtr_source {
    const struct mtr_source_ops *ops;
    char name[256]; /* what messages call it: the file path, "-" for stdin, "http", ... */
};

/* ======================= store ======================= */

/* A reading as stored: delivered values plus the pipeline's verdict. */
struct mtr_stored_reading {
    int64_t meter_key;
    int64_t ts;
    int32_t interval_s;
    double raw_kwh; /* as delivered; NAN for an estimate */
    double kwh;     /* final value used by analytics (estimate or raw) */
    double voltage_v, current_a, power_factor, frequency_hz, active_power_kw, reactive_power_kvar;
    int quality_code; /* enum mtr_quality_code */
    uint64_t flags;   /* mtr_rule_bit() of every rule that fired on this interval */
    double score;     /* reading quality score 0..1 */
    int64_t ingested_at;
};

/* Per meter and hour; merged (summed) on write. Only analytics-grade values (not questionable). */
struct mtr_rollup_hour {
    int64_t meter_key, hour; /* hour = start, UTC */
    double kwh, min_kwh, max_kwh;
    int32_t n, n_estimated; /* measured values; estimates (kwh and min/max include both) */
};

/* Per meter and UTC day; merged on write (sums and counts add, min/max/first/last combine). */
struct mtr_rollup_day {
    int64_t meter_key, day; /* day = 00:00 UTC */
    int32_t interval_s;
    double kwh, peak_kwh, offpeak_kwh, min_kwh, max_kwh; /* analytics-grade values only */
    int32_t n_valid, n_estimated, n_flagged, n_anomalous;
    int64_t first_ts, last_ts; /* first and last interval start seen that day (any quality) */
    double timeliness_sum;     /* sum of per-reading timeliness factors (core/quality.h) */
};

/* Per grid operator and UTC day. */
struct mtr_rollup_grid_day {
    int64_t day;
    char operator_id[MTR_ID_MAX];
    int32_t n, n_flagged;
    double freq_sum, freq_min, freq_max, voltage_sum, load_sum, load_max, stability_sum,
        stability_min;
};

struct mtr_alert {
    enum mtr_kind source;
    char entity_id[MTR_ID_MAX];
    enum mtr_rule_id type; /* MTR_R_* with action ALERT or FLAG */
    enum mtr_level level;
    double score;             /* 0..1 */
    int64_t start_ts, end_ts; /* end = start of the last interval concerned */
    int32_t count;            /* intervals concerned */
    double value;             /* the most extreme value seen */
    char detail[MTR_TEXT_MAX];
};

struct mtr_quarantine {
    enum mtr_kind kind;
    const char *source; /* file name or channel */
    uint64_t line;
    enum mtr_rule_id rule;
    const char *field;
    const char *message;
    const char *raw;
    int64_t at;
};

/* Filters for the query ops; zero/NULL/"" members mean "no filter". */
struct mtr_query {
    const char *entity_id; /* meter, operator or station id */
    int64_t from, to;      /* [from, to) on interval/day start; 0 = open */
    int has_from, has_to;
    int kind;      /* enum mtr_kind for quarantine/alerts; -1 = any */
    int type;      /* rule id for alerts; -1 = any */
    int min_level; /* alerts: level >= this; -1 = any */
    int64_t limit, offset;
};

struct mtr_day_row {
    char meter_id[MTR_ID_MAX];
    struct mtr_rollup_day d;
};
struct mtr_hour_row {
    char meter_id[MTR_ID_MAX];
    struct mtr_rollup_hour h;
};
/* Grid status and weather as stored: the record plus the pipeline's verdict (line is 0). */
struct mtr_grid_row {
    struct mtr_grid_status g;
    uint64_t flags;
    double score;
};
struct mtr_weather_row {
    struct mtr_weather_obs w;
    uint64_t flags;
    double score;
};
/* The datasets an export tracks changes of (ops change_seq .. days_changed). */
enum mtr_dataset { MTR_DS_READINGS = 0, MTR_DS_GRID, MTR_DS_WEATHER, MTR_DS_DAILY, MTR_DS_COUNT };

struct mtr_store_stats {
    int64_t meters, operators, stations, readings, estimated, revisions, grid_status, weather,
        alerts, quarantined, bytes;
};

/* Meter search (meter_find). Zero/NULL/"" members and -1 enums mean "no filter". */
enum mtr_meter_sort {
    MTR_METER_SORT_ID = 0,
    MTR_METER_SORT_CREATED,
    MTR_METER_SORT_UPDATED,
    MTR_METER_SORT_INSTALLED,
    MTR_METER_SORT_STATUS,
    MTR_METER_SORT_MANUFACTURER,
    MTR_METER_SORT_COUNT
};
struct mtr_meter_filter {
    int status, type; /* enum mtr_meter_status / mtr_meter_type, -1 = any */
    const char *manufacturer, *operator_id, *station_id; /* exact match, case-insensitive */
    int has_bbox; /* latitude in [min_lat, max_lat] and longitude in [min_lon, max_lon] */
    double min_lat, max_lat, min_lon, max_lon;
    int sort, desc;        /* enum mtr_meter_sort; ties are broken by meter id (ascending) */
    int64_t limit, offset; /* limit <= 0: every match */
};

/* API key roles, in increasing power: each role may do what the ones below it may. */
enum mtr_role { MTR_ROLE_NONE = 0, MTR_ROLE_VIEWER, MTR_ROLE_OPERATOR, MTR_ROLE_ADMIN };

/* An API key as stored: never the key itself, only its SHA-256. */
struct mtr_apikey {
    char id[32];   /* public id (the key's prefix), unique */
    char hash[65]; /* lower-case hex SHA-256 of the whole key, unique */
    char name[MTR_TEXT_MAX];
    enum mtr_role role;
    int64_t created_at;
    int64_t revoked_at; /* 0 = active */
};

struct mtr_store;
struct mtr_store_ops {
    int abi_version; /* 1; ops are only ever appended */
    const char *name;
    void (*close)(struct mtr_store *s);

    /* Units of work: every write happens inside begin..commit; reads see uncommitted writes. */
    int (*begin)(struct mtr_store *s);
    int (*commit)(struct mtr_store *s);
    int (*rollback)(struct mtr_store *s);

    /* Master data. *_put upserts by id. meter_key: returns the surrogate key of meter id; with
     * create != 0 an unknown id is registered as pending (status pending, type residential). */
    int (*meter_put)(struct mtr_store *s, const struct mtr_meter *m);
    int (*meter_get)(struct mtr_store *s, const char *id, struct mtr_meter *out, int64_t *key);
    int (*meter_key)(struct mtr_store *s, const char *id, int create, int64_t *key, int *created);
    int (*meter_list)(struct mtr_store *s, const struct mtr_query *q,
                      int (*cb)(void *ctx, const struct mtr_meter *m), void *ctx);
    int (*operator_put)(struct mtr_store *s, const struct mtr_operator *o);
    int (*operator_get)(struct mtr_store *s, const char *id, struct mtr_operator *out);
    int (*station_put)(struct mtr_store *s, const struct mtr_station *st);
    int (*station_get)(struct mtr_store *s, const char *id, struct mtr_station *out);

    /* Detector state of a meter, an opaque blob owned by core/detect. ENOTFOUND when none. */
    int (*state_get)(struct mtr_store *s, int64_t meter_key, void *buf, size_t cap, size_t *len);
    int (*state_put)(struct mtr_store *s, int64_t meter_key, const void *buf, size_t len);

    /* Readings, keyed (meter_key, ts). put inserts or replaces; revise appends the given (old)
     * reading to the revision history; flag ORs flags into [from, to] and, when set_code >= 0,
     * sets the quality code of the valid ones (valid, edited) among them, and recomputes the score
     * of each (mtr_reading_score); range yields [from, to) in ascending ts. */
    int (*reading_get)(struct mtr_store *s, int64_t meter_key, int64_t ts,
                       struct mtr_stored_reading *out);
    int (*reading_put)(struct mtr_store *s, const struct mtr_stored_reading *r);
    /* Optional (NULL: none). A hint that a reading of meter_key is probably put next: the store
     * may start loading what that put will touch. Never fails; no effect on any result. */
    void (*reading_prefetch)(struct mtr_store *s, int64_t meter_key);
    int (*reading_revise)(struct mtr_store *s, const struct mtr_stored_reading *old,
                          int64_t revised_at);
    int (*readings_flag)(struct mtr_store *s, int64_t meter_key, int64_t from, int64_t to,
                         uint64_t flags, int set_code);
    int (*readings_range)(struct mtr_store *s, int64_t meter_key, int64_t from, int64_t to,
                          int (*cb)(void *ctx, const struct mtr_stored_reading *r), void *ctx);

    /* Rollups: merge adds to an existing row; recompute rebuilds one meter-day (and its hours)
     * from the stored readings, for days touched by revisions or retroactive flags. */
    int (*rollup_hour_merge)(struct mtr_store *s, const struct mtr_rollup_hour *h);
    int (*rollup_day_merge)(struct mtr_store *s, const struct mtr_rollup_day *d);
    int (*rollup_recompute)(struct mtr_store *s, int64_t meter_key, int64_t day,
                            const struct mtr_params *p);
    int (*rollup_grid_merge)(struct mtr_store *s, const struct mtr_rollup_grid_day *g);

    /* Grid status and weather, upserted by (entity, ts); flags as for readings. */
    int (*grid_put)(struct mtr_store *s, const struct mtr_grid_status *g, uint64_t flags,
                    double score);
    int (*weather_put)(struct mtr_store *s, const struct mtr_weather_obs *w, uint64_t flags,
                       double score);

    /* Alerts are upserted by (source, entity, type, start_ts): end, count, score, value grow. */
    int (*alert_put)(struct mtr_store *s, const struct mtr_alert *a);
    int (*quarantine_put)(struct mtr_store *s, const struct mtr_quarantine *q);

    /* Queries for reports, ordered by entity then time. */
    int (*day_rows)(struct mtr_store *s, const struct mtr_query *q,
                    int (*cb)(void *ctx, const struct mtr_day_row *r), void *ctx);
    int (*alert_rows)(struct mtr_store *s, const struct mtr_query *q,
                      int (*cb)(void *ctx, const struct mtr_alert *a), void *ctx);
    int (*quarantine_rows)(struct mtr_store *s, const struct mtr_query *q,
                           int (*cb)(void *ctx, const struct mtr_quarantine *r), void *ctx);
    int (*stats)(struct mtr_store *s, struct mtr_store_stats *out);

    /* Maintenance. retention deletes readings/status/weather/rollups older than `before`, alerts
     * that ended and quarantine entries rejected (`at`) before it; *deleted = rows. check
     * reports problems through cb (one message each) and returns MTR_ESTORE if any. */
    int (*vacuum)(struct mtr_store *s);
    int (*retention)(struct mtr_store *s, int64_t before, int64_t *deleted);
    int (*check)(struct mtr_store *s, int (*cb)(void *ctx, const char *problem), void *ctx);
    int (*backup)(struct mtr_store *s, const char *path);

    /* Rebuilds one operator-day of rollup_grid_daily from grid_status (idempotent re-delivery). */
    int (*rollup_grid_recompute)(struct mtr_store *s, const char *operator_id, int64_t day);

    /* Master-data lists, ordered by id; q (may be NULL) filters one entity_id and pages with
     * limit/offset. */
    int (*operator_list)(struct mtr_store *s, const struct mtr_query *q,
                         int (*cb)(void *ctx, const struct mtr_operator *o), void *ctx);
    int (*station_list)(struct mtr_store *s, const struct mtr_query *q,
                        int (*cb)(void *ctx, const struct mtr_station *st), void *ctx);

    /* Series queries; q (may be NULL) filters entity_id and [from, to) on ts/hour/day, and pages.
     * grid_rows, weather_rows and grid_day_rows are ordered by entity id then time; hour_rows is
     * grouped by meter (meters in key order, i.e. registration order) with hours ascending, so a
     * fleet-wide scan streams in the rollup's own order. */
    int (*grid_rows)(struct mtr_store *s, const struct mtr_query *q,
                     int (*cb)(void *ctx, const struct mtr_grid_row *r), void *ctx);
    int (*weather_rows)(struct mtr_store *s, const struct mtr_query *q,
                        int (*cb)(void *ctx, const struct mtr_weather_row *r), void *ctx);
    int (*hour_rows)(struct mtr_store *s, const struct mtr_query *q,
                     int (*cb)(void *ctx, const struct mtr_hour_row *r), void *ctx);
    int (*grid_day_rows)(struct mtr_store *s, const struct mtr_query *q,
                         int (*cb)(void *ctx, const struct mtr_rollup_grid_day *g), void *ctx);

    /* ---- change tracking, for incremental exports (app/export.c) ----
     * Every committed unit of work that writes readings (put, flag), grid status, weather or
     * daily rollups gets a change number greater than that of every unit committed before it,
     * and each row it writes carries that number (an adapter may keep it per block of rows, e.g.
     * per meter-day of readings: then a changed reading brings its unchanged neighbours along).
     * change_seq returns the highest committed number
     * (0 for a store without tracked writes): any unit committing later gets a higher one, so the
     * rows whose number is in (after, upto] for upto <= change_seq are a stable set (a row
     * rewritten later moves above upto and is found by the next range). Deletions (retention)
     * are not tracked. */
    int (*change_seq)(struct mtr_store *s, int64_t *seq);
    /* Calls cb with each UTC day (00:00) holding rows of dataset ds last changed after `after`
     * (a superset: a day may turn out to have no row in a narrower range), ascending. */
    int (*changed_days)(struct mtr_store *s, enum mtr_dataset ds, int64_t after,
                        int (*cb)(void *ctx, int64_t day), void *ctx);
    /* The rows of one UTC day whose change number is in (after, upto], with that number, ordered
     * by entity id (meter, operator, station) then time. */
    int (*readings_changed)(struct mtr_store *s, int64_t day, int64_t after, int64_t upto,
                            int (*cb)(void *ctx, const char *meter_id,
                                      const struct mtr_stored_reading *r, int64_t seq),
                            void *ctx);
    int (*grid_changed)(struct mtr_store *s, int64_t day, int64_t after, int64_t upto,
                        int (*cb)(void *ctx, const struct mtr_grid_row *r, int64_t seq), void *ctx);
    int (*weather_changed)(struct mtr_store *s, int64_t day, int64_t after, int64_t upto,
                           int (*cb)(void *ctx, const struct mtr_weather_row *r, int64_t seq),
                           void *ctx);
    int (*days_changed)(struct mtr_store *s, int64_t day, int64_t after, int64_t upto,
                        int (*cb)(void *ctx, const struct mtr_day_row *r, int64_t seq), void *ctx);
    /* The export watermark of (dataset name, destination): the change number up to which that
     * destination holds the dataset. get: MTR_ENOTFOUND when none was stored. put upserts. */
    int (*export_watermark_get)(struct mtr_store *s, const char *dataset, const char *destination,
                                int64_t *seq);
    int (*export_watermark_put)(struct mtr_store *s, const char *dataset, const char *destination,
                                int64_t seq);
    /* Meter search: every meter matching f (bounding box included), ordered by f->sort and then
     * id, from f->offset, at most f->limit (all when <= 0). *total (may be NULL) gets the number
     * of matches before paging. */
    int (*meter_find)(struct mtr_store *s, const struct mtr_meter_filter *f, int64_t *total,
                      int (*cb)(void *ctx, const struct mtr_meter *m), void *ctx);
    /* API keys. put inserts a new key (MTR_EEXIST when the id or hash is taken); find looks a
     * key up by hash (MTR_ENOTFOUND when unknown; revoked keys are found, revoked_at set); list
     * yields every key by creation; revoke sets revoked_at (MTR_ENOTFOUND for an unknown id). */
    int (*apikey_put)(struct mtr_store *s, const struct mtr_apikey *k);
    int (*apikey_find)(struct mtr_store *s, const char *hash, struct mtr_apikey *out);
    int (*apikey_list)(struct mtr_store *s, int (*cb)(void *ctx, const struct mtr_apikey *k),
                       void *ctx);
    int (*apikey_revoke)(struct mtr_store *s, const char *id, int64_t at);
    /* Read snapshots, optional (NULL when the store has none). read_hold opens one unless one is
     * held or a unit of work is open: the reads until read_release then all see the store as of
     * the first of them, and pay for one lock round instead of one per query (the API server
     * holds one across the requests of an event-loop pass). Only reads may happen while it is
     * held; begin releases it first. read_release ends it; a no-op when none is held. */
    int (*read_hold)(struct mtr_store *s);
    void (*read_release)(struct mtr_store *s);
};
struct mtr_store {
    const struct mtr_store_ops *ops;
    struct mtr_errbuf err; /* message of the last failed op */
};

/* ======================= data lake destination ======================= */

/* Where `metrify export lake` puts files: a local directory or an object store. Keys are
 * '/'-separated paths relative to the destination root ("dataset=readings/date=2024-01-01/
 * part-0000.parquet"). A file is invisible under its key until commit succeeds, and commit is
 * all-or-nothing: readers never see a partial file. */
struct mtr_lake;
struct mtr_lake_file;
struct mtr_lake_ops {
    /* Removes what interrupted runs left behind (temporary files). */
    int (*recover)(struct mtr_lake *l, struct mtr_errbuf *eb);
    /* The next free part number in `partition` (a key prefix without the trailing '/'): one more
     * than the highest existing part-NNNN.parquet there, 0 when there is none. */
    int (*next_part)(struct mtr_lake *l, const char *partition, int *next, struct mtr_errbuf *eb);
    /* Starts a new, not yet visible file for `key` (borrowed). *out is owned by the lake until
     * commit or discard. Errors: MTR_EIO, MTR_ENOMEM. */
    int (*create)(struct mtr_lake *l, const char *key, struct mtr_lake_file **out,
                  struct mtr_errbuf *eb);
    /* Appends len bytes (borrowed). 0 or MTR_EIO. */
    int (*write)(struct mtr_lake_file *f, const void *buf, size_t len);
    /* Makes f durable and visible under its key, then frees f (also on error, when the key is
     * left absent). *bytes receives the file size. */
    int (*commit)(struct mtr_lake_file *f, uint64_t *bytes, struct mtr_errbuf *eb);
    /* Drops f without making anything visible, and frees it. */
    void (*discard)(struct mtr_lake_file *f);
    /* Frees the lake. */
    void (*close)(struct mtr_lake *l);
};
struct mtr_lake {
    const struct mtr_lake_ops *ops;
    char name[512];   /* canonical destination (file:///abs/dir, s3://bucket/prefix): the
                         watermark key */
    uint64_t retries; /* transient failures retried so far (object stores) */
};

/* ======================= clock ======================= */

/* Time as the background workers see it: the real clock (adapters/worker/host.c) or a manual one
 * in tests, so a test can drive a day of schedules in microseconds. */
struct mtr_clock_ops {
    /* Now, Unix seconds UTC. */
    int64_t (*now)(void *ctx);
    /* Waits until now() >= t or *stop becomes non-zero (checked at least once a second). Returns
     * 0 when t was reached, 1 when stopped. */
    int (*sleep_until)(void *ctx, int64_t t, volatile int *stop);
    void *ctx;
};

/* ======================= worker host ======================= */

/* What the scheduled jobs need besides the store: files, commands, and where a job's last run is
 * remembered so a restart neither re-runs nor skips it. */
struct mtr_worker_host_ops {
    /* Writes data[0..len) to path atomically (temporary file + rename), creating the directory
     * when missing. Returns 0 or MTR_EIO (eb filled). */
    int (*write_file)(void *ctx, const char *path, const char *data, size_t len,
                      struct mtr_errbuf *eb);
    /* Runs a /bin/sh command line, waits for it; *exit_status = its exit code (128+signal when
     * killed). Returns 0 when it could be run, MTR_EIO otherwise (eb filled). */
    int (*run_command)(void *ctx, const char *cmdline, int *exit_status, struct mtr_errbuf *eb);
    /* Last run of job `name` (Unix seconds) into *at. Returns 0, MTR_ENOTFOUND when it never ran,
     * MTR_EIO. */
    int (*state_get)(void *ctx, const char *name, int64_t *at);
    /* Records the last run of job `name`, durably before returning. 0 or MTR_EIO (eb filled). */
    int (*state_put)(void *ctx, const char *name, int64_t at, struct mtr_errbuf *eb);
    void *ctx;
};

#endif
