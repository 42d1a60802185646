/*
 * ingest.h - the ingest use case: records from any source (files, HTTP bodies, Kafka, MQTT)
 * through one pipeline: validate -> resolve meter -> detect (VEE) -> estimate gaps -> score ->
 * store -> roll up, in units of work committed every `commit_every` records.
 *
 * A session (struct mtr_ingest) keeps each meter's detector state and open rollup buckets in
 * memory between records and persists them at every commit, so one pass over any amount of data
 * uses memory proportional to the number of meters, not records. Nothing is dropped silently:
 * every rejected record is written to the quarantine with its rule id and message, and
 * accepted + rejected == read at all times. Work since the last commit is rolled back by
 * mtr_ingest_destroy(): only committed work is "accepted" for the caller to acknowledge.
 */
#ifndef MTR_INGEST_H
#define MTR_INGEST_H

#include <stdint.h>

#include "app/ports.h"
#include "core/params.h"

struct mtr_ingest_stats {
    int64_t read, accepted, rejected;
    int64_t duplicates, revisions, late, replaced_estimates; /* kinds of accepted re-deliveries */
    int64_t flagged;   /* accepted but questionable (kept out of analytics) */
    int64_t estimated; /* intervals created by estimation (not records read) */
    int64_t new_meters, alerts;
    int64_t by_rule[MTR_RULE_COUNT]; /* rejections and flags per rule */
};

/* Called for every rejected record (after it is quarantined): for API responses and logs. */
typedef void (*mtr_ingest_reject_fn)(void *ctx, uint64_t line, enum mtr_rule_id rule,
                                     const char *field, const char *message);

struct mtr_ingest_opts {
    struct mtr_params params;
    /* records per unit of work; 0 = the default: at least MTR_INGEST_UNIT_MIN records and at
     * least MTR_INGEST_UNIT_PER_METER readings per meter the unit touched, at most
     * MTR_INGEST_UNIT_MAX records (see mtr_ingest_source) */
    int64_t commit_every;
    int64_t max_meters; /* meter states kept in memory before eviction at commit; 0 = 200000 */
    mtr_ingest_reject_fn on_reject;
    void *reject_ctx;
    void (*progress)(void *ctx, const struct mtr_ingest_stats *st); /* every ~100k records */
    void *progress_ctx;
    /* Optional observers for streaming outputs (Kafka/MQTT workers); NULL = none. on_stored is
     * called after every reading written by the pipeline (delivered, late, revised or estimated)
     * and for a duplicate (with the reading as stored), with the meter id; on_alert after every
     * alert upsert (an alert may be reported again as it grows). Both run before the unit of work
     * commits: observers must tolerate re-delivery. */
    void (*on_stored)(void *ctx, const char *meter_id, const struct mtr_stored_reading *r);
    void (*on_alert)(void *ctx, const struct mtr_alert *a);
    void *observer_ctx;
};

/* A commit writes every touched meter's detector state, day rollup and open meter-day blocks,
 * so its cost grows with the meters it touched, not with the records: in time-major input (a
 * head-end's export: every meter's interval t, then t+1) a unit of 1,000,000 records of a
 * 10,000-meter fleet holds only 100 readings a meter, and its fixed work was a fifth of the
 * ingest. The default unit therefore grows with the fleet, bounded so the WAL stays bounded. */
#define MTR_INGEST_UNIT_MIN       1000000
#define MTR_INGEST_UNIT_PER_METER 300
#define MTR_INGEST_UNIT_MAX       10000000

/* The heap growth step a bulk ingest asks for (base/heap.h): the peak working set of a
 * 10,000-meter fleet (~240 MiB) in one huge-page region. */
#define MTR_INGEST_HEAP_STEP ((size_t)256 << 20)

struct mtr_ingest;

/* Starts a session on store (borrowed; must outlive the session). *out is new; free it with
 * mtr_ingest_destroy. */
int mtr_ingest_create(struct mtr_store *store, const struct mtr_ingest_opts *o,
                      struct mtr_ingest **out, struct mtr_errbuf *eb);

/* Runs one record through the pipeline. `source` names where it came from (for quarantine).
 * Returns 0 when accepted, 1 when rejected (quarantined), negative on a store failure (the
 * session must then be destroyed; uncommitted work is lost, committed work is not). */
int mtr_ingest_record(struct mtr_ingest *ing, const struct mtr_record *rec, const char *source);

/* Quarantines a record the source could not decode. Returns 1 (rejected) or negative. */
int mtr_ingest_reject(struct mtr_ingest *ing, enum mtr_kind kind, const char *source,
                      const struct mtr_record_error *err);

/* Drains a source (borrowed) through the pipeline, committing every commit_every records.
 * Returns 0 at end of input, or the source's fatal error / a store error (work up to the last
 * record processed is committed before returning a source error). */
int mtr_ingest_source(struct mtr_ingest *ing, struct mtr_source *src, struct mtr_errbuf *eb);

/* Flushes rollups, detector states and open alerts and commits. After it returns 0, everything
 * counted in the stats as accepted or rejected is durable. */
int mtr_ingest_commit(struct mtr_ingest *ing);

/* The running totals (borrowed, valid until destroy). */
const struct mtr_ingest_stats *mtr_ingest_get_stats(const struct mtr_ingest *ing);

/* Rolls back uncommitted work and frees the session. NULL is ignored. */
void mtr_ingest_destroy(struct mtr_ingest *ing);

#endif
