/*
 * reading_blocks.h - how the SQLite store keeps readings: one row per meter and UTC day whose
 * BLOB packs that day's readings (a compact varint/bitmap codec), and a bounded write-back cache
 * of decoded blocks, so that ingest touches each meter-day once per commit instead of one b-tree
 * leaf per reading. The eponymous virtual table `readings` gives SQL consumers (dbt models,
 * ad-hoc queries through metrify's connection) the familiar row view.
 *
 * Time-series engines do the same for the same reason (TimescaleDB's compressed chunks, InfluxDB's
 * TSM blocks): a row per reading costs a b-tree insert per reading, a block per meter-day costs
 * one per ~96 readings, and the input order (time-major from a head-end) stops mattering. The
 * hourly rollups of a meter-day live beside its readings in the same way (rollup_hour_blocks,
 * row view `rollup_hourly`).
 */
#ifndef MTR_READING_BLOCKS_H
#define MTR_READING_BLOCKS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "app/ports.h"

/* The block row key: meter_key in the high bits, the day number (days since 1970) in the low 21. */
#define MTR_RB_DAY_BITS 21
int64_t mtr_rb_id(int64_t meter_key, int64_t day_number);

/* The DDL of the block table (used by the migration that introduced it). */
extern const char mtr_rb_schema_sql[];

/*
 * Encodes n readings (sorted by ts, all within the UTC day starting at `day`) into *buf, growing
 * it (realloc; buf and cap are caller-owned and reused across calls). *len gets the size. Returns 0
 * or MTR_ENOMEM.
 */
int mtr_rb_encode(const struct mtr_stored_reading *r, int n, int64_t day, uint8_t **buf,
                  size_t *cap, size_t *len);

/*
 * Decodes a block of meter_key/day into *out (grown with realloc; out and cap are caller-owned), *n
 * gets the count. Returns 0, MTR_ENOMEM, or MTR_ESTORE when the bytes are not a valid block.
 */
int mtr_rb_decode(const uint8_t *p, size_t len, int64_t meter_key, int64_t day,
                  struct mtr_stored_reading **out, int *n, int *cap);

struct mtr_rb;

/*
 * Creates the block cache over db (borrowed; must outlive it), holding at most cap_bytes of
 * decoded readings. Returns NULL when out of memory. Errors of later calls go to eb (borrowed).
 */
struct mtr_rb *mtr_rb_create(sqlite3 *db, size_t cap_bytes, struct mtr_errbuf *eb);
void mtr_rb_destroy(struct mtr_rb *rb);

/* Change tracking (ports.h change_seq), supplied by the store. block_write is called before a
 * meter-day block is written and returns the change number stored with it (column seq); the
 * block layer's own short transactions (writes outside the caller's) call own_commit just before
 * their COMMIT and own_end after it or after their ROLLBACK. Any hook may be NULL. */
struct mtr_rb_hooks {
    int (*block_write)(void *ctx, int64_t day, int64_t *seq);
    int (*own_commit)(void *ctx);
    void (*own_end)(void *ctx);
    void *ctx;
};
/* Copies *h into rb. */
void mtr_rb_set_hooks(struct mtr_rb *rb, const struct mtr_rb_hooks *h);

/* Transaction hooks: begin notes whether another connection changed the file since this one
 * last looked (then the cache is dropped); flush writes every dirty block; discard drops the
 * cache (after a rollback). */
void mtr_rb_begin(struct mtr_rb *rb);
int mtr_rb_flush(struct mtr_rb *rb);
void mtr_rb_discard(struct mtr_rb *rb);
/* Whether a transaction is open: outside one, writes go straight to the file. */
void mtr_rb_set_in_tx(struct mtr_rb *rb, int in_tx);

/* The reading ops of the port (semantics of app/ports.h). */
int mtr_rb_get(struct mtr_rb *rb, int64_t meter_key, int64_t ts, struct mtr_stored_reading *out);
int mtr_rb_put(struct mtr_rb *rb, const struct mtr_stored_reading *r);
/* Starts loading the cached block a put for meter_key would most likely append to (its last
 * one) into the CPU cache; a hint only (ports.h reading_prefetch). */
void mtr_rb_prefetch(const struct mtr_rb *rb, int64_t meter_key);
int mtr_rb_flag(struct mtr_rb *rb, int64_t meter_key, int64_t from, int64_t to, uint64_t flags,
                int set_code);
int mtr_rb_range(struct mtr_rb *rb, int64_t meter_key, int64_t from, int64_t to,
                 int (*cb)(void *ctx, const struct mtr_stored_reading *r), void *ctx);
/* Deletes readings with ts < before; *deleted += how many. */
int mtr_rb_retention(struct mtr_rb *rb, int64_t before, int64_t *deleted);

/* Hourly rollups, kept per meter-day beside the readings: merge adds (ports.h rules), replace
 * sets the 24 hours of a day (bit i of present: hour i exists). */
int mtr_rb_hour_merge(struct mtr_rb *rb, const struct mtr_rollup_hour *h);
int mtr_rb_hours_replace(struct mtr_rb *rb, int64_t meter_key, int64_t day,
                         const struct mtr_rollup_hour v[24], uint32_t present);
/* Registers the eponymous virtual tables `readings` and `rollup_hourly` (read-only row views of
 * the blocks) and the SQL function mtr_block_check(data, meter_key, day) (NULL when the block
 * decodes, else the problem) on db. */
int mtr_rb_register_sql(sqlite3 *db);

#endif
