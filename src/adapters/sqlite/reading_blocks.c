/*
 * reading_blocks.c - meter-day blocks of readings in SQLite: the write-back cache and the
 * `readings` virtual table (see reading_blocks.h); the bytes of a block are block_codec.c's.
 *
 * The cache is used only inside a transaction of this connection (sqlite3_get_autocommit() == 0),
 * where nobody else can write; between transactions PRAGMA data_version tells whether another
 * connection committed, and then the cache is dropped. Outside a transaction, reads go to the file
 * and a write runs in its own short transaction.
 */
#include "adapters/sqlite/reading_blocks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/sqlite/block_codec.h"
#include "base/ptab.h"
#include "core/quality.h"
#include "core/vocab.h"

#define DAY 86400

const char mtr_rb_schema_sql[] =
    "CREATE TABLE reading_blocks("
    " id INTEGER PRIMARY KEY," /* mtr_rb_id(meter_key, day / 86400) */
    " meter_key INTEGER NOT NULL, day INTEGER NOT NULL,"
    " n INTEGER NOT NULL, n_estimated INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX reading_blocks_day ON reading_blocks(day);"
    "CREATE TABLE rollup_hour_blocks("
    " id INTEGER PRIMARY KEY," /* the same key as reading_blocks */
    " meter_key INTEGER NOT NULL, day INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX rollup_hour_blocks_day ON rollup_hour_blocks(day);";

int64_t mtr_rb_id(int64_t meter_key, int64_t day_number)
{
    return meter_key * ((int64_t)1 << MTR_RB_DAY_BITS) + day_number;
}

static int64_t day_of(int64_t ts)
{
    return ts - ((ts % DAY) + DAY) % DAY;
}

/* Grows *buf to hold need bytes (by half again, from 256). */
static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap += ncap / 2;
    uint8_t *nb = realloc(*buf, ncap);
    if (!nb)
        return MTR_ENOMEM;
    *buf = nb;
    *cap = ncap;
    return 0;
}

/* Encodes the body (the readings, no header) of a block; *st gets the state after the last. */
static int encode_body(const struct mtr_stored_reading *r, int n, int64_t day, uint8_t **buf,
                       size_t *cap, size_t *len, struct mtr_bc_state *st)
{
    if (reserve(buf, cap, (size_t)n * MTR_BC_MAX_BYTES + 1))
        return MTR_ENOMEM;
    *len = mtr_bc_encode_body(r, n, day, *buf, st);
    return 0;
}

int mtr_rb_encode(const struct mtr_stored_reading *r, int n, int64_t day, uint8_t **buf,
                  size_t *cap, size_t *len)
{
    uint8_t hdr[16];
    struct mtr_bc_state st;
    size_t hl = mtr_bc_header(hdr, n);
    if (reserve(buf, cap, hl + (size_t)n * MTR_BC_MAX_BYTES + 1))
        return MTR_ENOMEM;
    memcpy(*buf, hdr, hl);
    *len = hl + mtr_bc_encode_body(r, n, day, *buf + hl, &st);
    return 0;
}

/* Room for cnt readings in *out. */
static int room(struct mtr_stored_reading **out, int *cap, uint64_t cnt)
{
    if ((int)cnt <= *cap)
        return 0;
    struct mtr_stored_reading *nr = realloc(*out, cnt * sizeof *nr);
    if (!nr)
        return MTR_ENOMEM;
    *out = nr;
    *cap = (int)cnt;
    return 0;
}

int mtr_rb_decode(const uint8_t *p, size_t len, int64_t meter_key, int64_t day,
                  struct mtr_stored_reading **out, int *n, int *cap)
{
    const uint8_t *end = p + len;
    uint64_t cnt;
    int rc, version;
    *n = 0;
    if (!p || mtr_bc_parse_header(&p, end, &version, &cnt))
        return MTR_ESTORE;
    if ((rc = room(out, cap, cnt)) ||
        (rc = mtr_bc_decode_body(version, p, end, cnt, meter_key, day, *out)))
        return rc;
    *n = (int)cnt;
    return 0;
}

static int count_estimated(const struct mtr_stored_reading *r, int n)
{
    int e = 0;
    for (int i = 0; i < n; i++)
        e += mtr_quality_code_is_estimate(r[i].quality_code);
    return e;
}

/* ======================= the cache ======================= */

/* The hourly rollups of one meter-day, loaded on first use. */
struct hours {
    uint32_t present;
    int dirty, stored;
    struct mtr_rollup_hour v[24];
};

/* A cached meter-day, kept ENCODED (the block body, ~50 bytes a reading): appending the next
 * interval, the hot path, encodes one reading; the rare edits (late data, flags) decode, change
 * and re-encode the day. */
struct blk {
    int64_t id, meter_key, day;
    uint8_t *body;
    size_t len, cap;
    int n, n_est;
    struct mtr_bc_state enc; /* after the last reading: what an append is coded against */
    int dirty;
    int listed;      /* on the dirty list (-1: being evicted) */
    int stored;      /* the row exists in the file: UPDATE, not INSERT */
    uint64_t used;   /* tick of the last use, for eviction */
    struct hours *h; /* NULL until an hour op needs it */
};

enum {
    Q_GET,
    Q_INS,
    Q_UPD,
    Q_DEL,
    Q_RANGE,
    Q_VERSION,
    Q_H_GET,
    Q_H_INS,
    Q_H_UPD,
    Q_H_DEL,
    Q_MAX,
    Q_H_MAX,
    Q_COUNT
};
static const char *const q_sql[Q_COUNT] = {
    [Q_GET] = "SELECT data FROM reading_blocks WHERE id = ?1",
    /* plain INSERT and one-row UPDATE: unlike INSERT OR REPLACE they need no statement journal */
    [Q_INS] = "INSERT INTO reading_blocks(id, meter_key, day, n, n_estimated, data, seq)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_UPD] = "UPDATE reading_blocks SET n = ?4, n_estimated = ?5, data = ?6, seq = ?7"
              " WHERE id = ?1 AND meter_key = ?2 AND day = ?3",
    [Q_DEL] = "DELETE FROM reading_blocks WHERE id = ?1",
    [Q_RANGE] = "SELECT id, day, data FROM reading_blocks WHERE id >= ?1 AND id <= ?2 ORDER BY id",
    [Q_VERSION] = "PRAGMA data_version",
    [Q_H_GET] = "SELECT data FROM rollup_hour_blocks WHERE id = ?1",
    [Q_H_INS] = "INSERT INTO rollup_hour_blocks(id, meter_key, day, data) VALUES (?1, ?2, ?3, ?4)",
    [Q_H_UPD] = "UPDATE rollup_hour_blocks SET data = ?4 WHERE id = ?1 AND meter_key = ?2"
                " AND day = ?3",
    [Q_H_DEL] = "DELETE FROM rollup_hour_blocks WHERE id = ?1",
    [Q_MAX] = "SELECT max(id) FROM reading_blocks WHERE id BETWEEN ?1 AND ?2",
    [Q_H_MAX] = "SELECT max(id) FROM rollup_hour_blocks WHERE id BETWEEN ?1 AND ?2",
};

struct mtr_rb {
    sqlite3 *db;
    struct mtr_rb_hooks hooks;
    struct mtr_errbuf *eb;
    sqlite3_stmt *q[Q_COUNT];
    struct mtr_ptab blocks; /* the cached blocks, on id */
    size_t bytes, cap_bytes;
    uint64_t tick;
    int64_t data_version;
    struct blk **dirty; /* blocks with unwritten changes (readings or hours), each once */
    /* the last block used per meter_key: ingest walks the meters in order, so this array is
     * read sequentially where the hash table would be read at random */
    /* per meter_key, what this connection knows of the meter (see meter_of()) */
    struct per_meter {
        /* its last block used: ingest walks the meters in order, so this array is read
         * sequentially where the hash table would be read at random */
        struct blk *hint;
        /* the latest day stored in each block table ([0] readings, [1] hours), when have[t]: a
         * later day needs no lookup (streaming ingest creates a meter-day block every ~96
         * readings, and each would otherwise ask the file twice for a row that is not there) */
        int64_t day[2];
        uint8_t have[2];
        /* where the next append to hint's body will write: a prefetch hint only (may be stale
         * after the body moves; prefetching never faults) */
        const uint8_t *tail;
    } * pm;
    size_t pm_cap;
    size_t n_dirty, cap_dirty;
    uint8_t *enc; /* scratch: a whole encoded block */
    size_t enc_cap;
    /* decode scratch; one per use so that a range callback may call get, and an edit may run
     * while a range is being iterated */
    struct mtr_stored_reading *get_tmp, *range_tmp, *edit_tmp;
    int get_cap, range_cap, edit_cap;
};

static size_t blk_hash_id(int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 20);
}
static size_t blk_hash(const void *b)
{
    return blk_hash_id(((const struct blk *)b)->id);
}

static int db_fail(struct mtr_rb *rb, const char *what)
{
    return mtr_err(rb->eb, MTR_ESTORE, "%s: %s", what, sqlite3_errmsg(rb->db));
}

static sqlite3_stmt *q(struct mtr_rb *rb, int id)
{
    if (!rb->q[id] && sqlite3_prepare_v3(rb->db, q_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                         &rb->q[id], NULL) != SQLITE_OK) {
        db_fail(rb, "prepare");
        rb->q[id] = NULL;
    }
    return rb->q[id];
}

static int in_tx(const struct mtr_rb *rb)
{
    return !sqlite3_get_autocommit(rb->db);
}

static int64_t data_version(struct mtr_rb *rb)
{
    sqlite3_stmt *st = q(rb, Q_VERSION);
    int64_t v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return v;
}

struct mtr_rb *mtr_rb_create(sqlite3 *db, size_t cap_bytes, struct mtr_errbuf *eb)
{
    struct mtr_rb *rb = calloc(1, sizeof *rb);
    if (!rb)
        return NULL;
    rb->db = db;
    rb->eb = eb;
    rb->cap_bytes = cap_bytes;
    rb->data_version = -1;
    rb->blocks.hash = blk_hash;
    return rb;
}

static size_t blk_bytes(const struct blk *b)
{
    return sizeof *b + b->cap + (b->h ? sizeof *b->h : 0);
}

static void blk_free(struct blk *b)
{
    if (b) {
        free(b->body);
        free(b->h);
        free(b);
    }
}

void mtr_rb_discard(struct mtr_rb *rb)
{
    for (size_t i = 0; i < rb->blocks.cap; i++)
        blk_free(rb->blocks.slots[i]);
    mtr_ptab_clear(&rb->blocks);
    rb->bytes = 0;
    rb->n_dirty = 0;
    if (rb->pm)
        memset(rb->pm, 0, rb->pm_cap * sizeof *rb->pm);
}

void mtr_rb_destroy(struct mtr_rb *rb)
{
    if (!rb)
        return;
    mtr_rb_discard(rb);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(rb->q[i]);
    mtr_ptab_free(&rb->blocks);
    free(rb->pm);
    free(rb->dirty);
    free(rb->enc);
    free(rb->get_tmp);
    free(rb->range_tmp);
    free(rb->edit_tmp);
    free(rb);
}

static struct blk *cache_find(const struct mtr_rb *rb, int64_t id)
{
    const struct mtr_ptab *t = &rb->blocks;
    if (!t->cap)
        return NULL;
    for (size_t i = mtr_ptab_first(t, blk_hash_id(id)); t->slots[i]; i = mtr_ptab_next(t, i))
        if (((struct blk *)t->slots[i])->id == id)
            return t->slots[i];
    return NULL;
}

static int cache_add(struct mtr_rb *rb, struct blk *b)
{
    if (mtr_ptab_add(&rb->blocks, b))
        return MTR_ENOMEM;
    rb->bytes += blk_bytes(b);
    return 0;
}

/* Puts a block on the dirty list (once). */
static int mark_dirty(struct mtr_rb *rb, struct blk *b)
{
    if (b->listed)
        return 0;
    if (rb->n_dirty == rb->cap_dirty) {
        size_t ncap = rb->cap_dirty ? rb->cap_dirty * 2 : 1024;
        struct blk **nd = realloc(rb->dirty, ncap * sizeof *nd);
        if (!nd)
            return mtr_err(rb->eb, MTR_ENOMEM, "out of memory caching readings");
        rb->dirty = nd;
        rb->cap_dirty = ncap;
    }
    rb->dirty[rb->n_dirty++] = b;
    b->listed = 1;
    return 0;
}

/* Decodes a cached block into the edit scratch. */
static int blk_decode(struct mtr_rb *rb, const struct blk *b, struct mtr_stored_reading **r)
{
    int rc = room(&rb->edit_tmp, &rb->edit_cap, (uint64_t)b->n);
    if (!rc)
        rc = mtr_bc_decode_body(MTR_BC_VERSION, b->body, b->body + b->len, (uint64_t)b->n,
                                b->meter_key, b->day, rb->edit_tmp);
    if (rc)
        return mtr_err(rb->eb, rc, "readings of meter %lld on day %lld: %s",
                       (long long)b->meter_key, (long long)b->day,
                       rc == MTR_ENOMEM ? "out of memory" : "corrupt block");
    *r = rb->edit_tmp;
    return 0;
}

/* Replaces a cached block's readings with r[0..n) (sorted). */
static int blk_set(struct mtr_rb *rb, struct blk *b, const struct mtr_stored_reading *r, int n)
{
    size_t len, before = b->cap;
    if (encode_body(r, n, b->day, &rb->enc, &rb->enc_cap, &len, &b->enc) ||
        reserve(&b->body, &b->cap, len + 1))
        return mtr_err(rb->eb, MTR_ENOMEM, "out of memory caching readings");
    memcpy(b->body, rb->enc, len);
    rb->bytes += b->cap - before;
    b->len = len;
    b->n = n;
    b->n_est = count_estimated(r, n);
    b->dirty = 1;
    return mark_dirty(rb, b);
}

/* Appends a reading later than every reading of the block: the hot path. */
static int blk_append(struct mtr_rb *rb, struct blk *b, const struct mtr_stored_reading *r)
{
    size_t before = b->cap, need = b->len + MTR_BC_MAX_BYTES;
    /* the first reading sizes the day: one allocation per meter-day, not a growing series that
     * fragments the heap while thousands of days fill side by side */
    if (!b->cap && r->interval_s > 0)
        need = (size_t)(86400 / r->interval_s) * 12 + MTR_BC_MAX_BYTES;
    if (reserve(&b->body, &b->cap, need))
        return mtr_err(rb->eb, MTR_ENOMEM, "out of memory caching readings");
    rb->bytes += b->cap - before;
    uint8_t *end = mtr_bc_put(b->body + b->len, &b->enc, r);
    b->len = (size_t)(end - b->body);
    if ((size_t)b->meter_key < rb->pm_cap)
        rb->pm[b->meter_key].tail = end;
    b->n++;
    b->n_est += mtr_quality_code_is_estimate(r->quality_code);
    b->dirty = 1;
    return mark_dirty(rb, b);
}

/* The per-meter entry of meter_key, grown on demand; NULL when out of range (keys beyond 2^22
 * go without: both uses are only shortcuts) or out of memory. */
static struct per_meter *meter_of(struct mtr_rb *rb, int64_t meter_key)
{
    size_t k = (size_t)meter_key;
    if (meter_key < 0 || k >= ((size_t)1 << 22))
        return NULL;
    if (k >= rb->pm_cap) {
        size_t ncap = rb->pm_cap ? rb->pm_cap : 1024;
        while (ncap <= k)
            ncap *= 2;
        struct per_meter *np = realloc(rb->pm, ncap * sizeof *np);
        if (!np)
            return NULL;
        memset(np + rb->pm_cap, 0, (ncap - rb->pm_cap) * sizeof *np);
        rb->pm = np;
        rb->pm_cap = ncap;
    }
    return &rb->pm[k];
}

/* 1 when table t (0 readings, 1 hours) cannot hold a row for (meter_key, day): the day is later
 * than the latest stored one, learnt with one lookup per meter. Inside a transaction only, where
 * no other connection writes (between transactions mtr_rb_begin drops this knowledge when one
 * did); 0 (look it up) whenever unsure. */
static int known_absent(struct mtr_rb *rb, int t, int64_t meter_key, int64_t day)
{
    struct per_meter *k = in_tx(rb) ? meter_of(rb, meter_key) : NULL;
    if (!k)
        return 0;
    if (!k->have[t]) {
        sqlite3_stmt *st = q(rb, t ? Q_H_MAX : Q_MAX);
        if (!st)
            return 0;
        int64_t lo = mtr_rb_id(meter_key, 0);
        sqlite3_bind_int64(st, 1, lo);
        sqlite3_bind_int64(st, 2, mtr_rb_id(meter_key, ((int64_t)1 << MTR_RB_DAY_BITS) - 1));
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            k->have[t] = 1;
            k->day[t] = sqlite3_column_type(st, 0) == SQLITE_NULL
                            ? INT64_MIN
                            : (sqlite3_column_int64(st, 0) - lo) * DAY;
        }
        sqlite3_reset(st);
        if (!k->have[t])
            return 0;
    }
    return day > k->day[t];
}

/* Table t now holds a row for (meter_key, day). */
static void known_stored(struct mtr_rb *rb, int t, int64_t meter_key, int64_t day)
{
    struct per_meter *k = (size_t)meter_key < rb->pm_cap ? &rb->pm[meter_key] : NULL;
    if (k && k->have[t] && day > k->day[t])
        k->day[t] = day;
}

/* Writes the hours of a meter-day (or deletes their row when none is left). */
static int hours_write(struct mtr_rb *rb, struct blk *b)
{
    struct hours *h = b->h;
    sqlite3_stmt *st;
    uint8_t buf[MTR_BC_HOURS_MAX_BYTES];
    size_t len;
    int rc = 0;
    if (!h->present && !h->stored) {
        h->dirty = 0;
        return 0;
    }
    if (!h->present) {
        if (!(st = q(rb, Q_H_DEL)))
            return MTR_ESTORE;
        sqlite3_bind_int64(st, 1, b->id);
    } else {
        mtr_bc_hours_encode(h->v, h->present, buf, &len);
        if (!(st = q(rb, h->stored ? Q_H_UPD : Q_H_INS)))
            return MTR_ESTORE;
        sqlite3_bind_int64(st, 1, b->id);
        sqlite3_bind_int64(st, 2, b->meter_key);
        sqlite3_bind_int64(st, 3, b->day);
        sqlite3_bind_blob(st, 4, buf, (int)len, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(rb, "writing hourly rollups");
    sqlite3_reset(st);
    if (!rc) {
        h->dirty = 0;
        h->stored = h->present != 0;
        if (h->stored)
            known_stored(rb, 1, b->meter_key, b->day);
    }
    return rc;
}

/* Writes one block (or deletes its row when empty), and its hours when they changed. */
static int blk_write(struct mtr_rb *rb, struct blk *b)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (b->h && b->h->dirty && (rc = hours_write(rb, b)))
        return rc;
    if (!b->dirty)
        return 0;
    if (b->n == 0 && !b->stored) {
        b->dirty = 0;
        return 0;
    }
    if (b->n == 0) {
        if (!(st = q(rb, Q_DEL)))
            return MTR_ESTORE;
        sqlite3_bind_int64(st, 1, b->id);
    } else {
        uint8_t hdr[16];
        size_t hl = mtr_bc_header(hdr, b->n);
        if (reserve(&rb->enc, &rb->enc_cap, hl + b->len))
            return mtr_err(rb->eb, MTR_ENOMEM, "out of memory writing readings");
        memcpy(rb->enc, hdr, hl);
        memcpy(rb->enc + hl, b->body, b->len);
        int64_t seq = 0;
        if (rb->hooks.block_write && (rc = rb->hooks.block_write(rb->hooks.ctx, b->day, &seq)))
            return rc;
        if (!(st = q(rb, b->stored ? Q_UPD : Q_INS)))
            return MTR_ESTORE;
        sqlite3_bind_int64(st, 1, b->id);
        sqlite3_bind_int64(st, 2, b->meter_key);
        sqlite3_bind_int64(st, 3, b->day);
        sqlite3_bind_int(st, 4, b->n);
        sqlite3_bind_int(st, 5, b->n_est);
        sqlite3_bind_blob(st, 6, rb->enc, (int)(hl + b->len), SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, seq);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(rb, "writing readings");
    sqlite3_reset(st);
    if (!rc) {
        b->dirty = 0;
        b->stored = b->n > 0;
        if (b->stored)
            known_stored(rb, 0, b->meter_key, b->day);
    }
    return rc;
}

static int cmp_blk_id(const void *a, const void *b)
{
    const struct blk *x = *(struct blk *const *)a, *y = *(struct blk *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_blk_used(const void *a, const void *b)
{
    const struct blk *x = *(struct blk *const *)a, *y = *(struct blk *const *)b;
    return x->used < y->used ? -1 : x->used > y->used;
}

static int blk_is_dirty(const struct blk *b)
{
    return b->dirty || (b->h && b->h->dirty);
}

/* The cached blocks, packed into a new array (caller frees); NULL with *n = 0 when none. */
static struct blk **cache_list(struct mtr_rb *rb, size_t *n)
{
    *n = 0;
    struct blk **v = rb->blocks.n ? malloc(rb->blocks.n * sizeof *v) : NULL;
    if (!v)
        return NULL;
    for (size_t i = 0; i < rb->blocks.cap; i++)
        if (rb->blocks.slots[i])
            v[(*n)++] = rb->blocks.slots[i];
    return v;
}

void mtr_rb_set_hooks(struct mtr_rb *rb, const struct mtr_rb_hooks *h)
{
    rb->hooks = *h;
}

int mtr_rb_flush(struct mtr_rb *rb)
{
    if (!rb->n_dirty)
        return 0;
    /* key order: the b-tree is written front to back, whatever order the readings came in */
    qsort(rb->dirty, rb->n_dirty, sizeof *rb->dirty, cmp_blk_id);
    size_t i = 0;
    int rc = 0;
    for (; i < rb->n_dirty && !(rc = blk_write(rb, rb->dirty[i])); i++)
        rb->dirty[i]->listed = 0;
    /* on failure the unwritten blocks stay listed */
    memmove(rb->dirty, rb->dirty + i, (rb->n_dirty - i) * sizeof *rb->dirty);
    rb->n_dirty -= i;
    return rc;
}

/* Keeps the cache under its cap: writes the dirty blocks, then frees the least recently used
 * until a quarter of the cap is free. */
static int cache_trim(struct mtr_rb *rb)
{
    if (rb->bytes <= rb->cap_bytes)
        return 0;
    size_t n;
    int rc = 0;
    struct blk **v = cache_list(rb, &n);
    if (!v)
        return mtr_err(rb->eb, MTR_ENOMEM, "out of memory trimming the reading cache");
    qsort(v, n, sizeof *v, cmp_blk_used);
    mtr_ptab_clear(&rb->blocks);
    rb->bytes = 0;
    size_t i = 0, total = 0;
    for (size_t k = 0; k < n; k++)
        total += blk_bytes(v[k]);
    /* the least recently used go first; a dirty one is written before it goes */
    for (; i < n && total > rb->cap_bytes / 4 * 3; i++) {
        if (blk_is_dirty(v[i]) && (rc = blk_write(rb, v[i])))
            break;
        total -= blk_bytes(v[i]);
        if ((size_t)v[i]->meter_key < rb->pm_cap && rb->pm[v[i]->meter_key].hint == v[i])
            rb->pm[v[i]->meter_key].hint = NULL;
        if (v[i]->listed)
            v[i]->listed = -1; /* freed when it leaves the dirty list below */
        else
            blk_free(v[i]);
    }
    for (size_t k = i; k < n; k++)
        cache_add(rb, v[k]); /* cannot fail: the table is already large enough */
    size_t kept = 0;
    for (size_t k = 0; k < rb->n_dirty; k++) {
        if (rb->dirty[k]->listed == -1)
            blk_free(rb->dirty[k]);
        else
            rb->dirty[kept++] = rb->dirty[k];
    }
    rb->n_dirty = kept;
    free(v);
    return rc;
}

void mtr_rb_begin(struct mtr_rb *rb)
{
    int64_t v = data_version(rb);
    if (v != rb->data_version)
        mtr_rb_discard(rb);
    rb->data_version = v;
}

/* Reads the stored block (meter_key, day) into out and n (scratch owned by rb); *stored tells
 * whether it exists (absent: n = 0). */
static int load(struct mtr_rb *rb, int64_t meter_key, int64_t day, struct mtr_stored_reading **out,
                int *n, int *cap, int *stored)
{
    sqlite3_stmt *st = q(rb, Q_GET);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, mtr_rb_id(meter_key, day / DAY));
    int rc = sqlite3_step(st);
    *n = 0;
    *stored = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        rc = mtr_rb_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                           meter_key, day, out, n, cap);
        if (rc)
            mtr_err(rb->eb, rc, "readings of meter %lld on day %lld: %s", (long long)meter_key,
                    (long long)day, rc == MTR_ENOMEM ? "out of memory" : "corrupt block");
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = db_fail(rb, "reading readings");
    }
    sqlite3_reset(st);
    return rc;
}

/* The cached block of (meter_key, day), loaded on first use (an absent one is cached empty). Only
 * inside a transaction. */
/* Remembers b as its meter's last block; best effort (the hash table stays the truth). */
static void hint_put(struct mtr_rb *rb, struct blk *b)
{
    struct per_meter *m = meter_of(rb, b->meter_key);
    if (m)
        m->hint = b;
}

static int cached(struct mtr_rb *rb, int64_t meter_key, int64_t day, struct blk **out)
{
    int64_t id = mtr_rb_id(meter_key, day / DAY);
    struct blk *b = (size_t)meter_key < rb->pm_cap ? rb->pm[meter_key].hint : NULL;
    int rc;
    if (b && b->id == id) {
        b->used = ++rb->tick;
        *out = b;
        return 0;
    }
    b = cache_find(rb, id);
    if (!b) {
        struct mtr_stored_reading *r = NULL;
        int n = 0;
        if ((rc = cache_trim(rb)))
            return rc;
        if (!(b = calloc(1, sizeof *b)))
            return mtr_err(rb->eb, MTR_ENOMEM, "out of memory caching readings");
        b->id = id;
        b->meter_key = meter_key;
        b->day = day;
        mtr_bc_start(&b->enc, day);
        if (known_absent(rb, 0, meter_key, day))
            b->stored = 0;
        else if (!(rc = load(rb, meter_key, day, &rb->edit_tmp, &n, &rb->edit_cap, &b->stored)))
            r = rb->edit_tmp;
        if (!rc && n && !(rc = blk_set(rb, b, r, n)))
            b->dirty = 0;
        if (rc || (rc = cache_add(rb, b))) {
            blk_free(b);
            return rc == MTR_ENOMEM ? mtr_err(rb->eb, rc, "out of memory caching readings") : rc;
        }
    }
    b->used = ++rb->tick;
    hint_put(rb, b);
    *out = b;
    return 0;
}

/* Index of the first reading with ts >= t. */
static int lower_bound(const struct mtr_stored_reading *r, int n, int64_t t)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (r[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int not_found(struct mtr_rb *rb, int64_t meter_key, int64_t ts)
{
    return mtr_err(rb->eb, MTR_ENOTFOUND, "no reading of meter %lld at %lld", (long long)meter_key,
                   (long long)ts);
}

int mtr_rb_get(struct mtr_rb *rb, int64_t meter_key, int64_t ts, struct mtr_stored_reading *out)
{
    const struct mtr_stored_reading *r;
    int n, rc;
    if (in_tx(rb)) {
        struct blk *b;
        struct mtr_stored_reading *d;
        if ((rc = cached(rb, meter_key, day_of(ts), &b)))
            return rc;
        if (!b->n || ts > b->enc.ts)
            return not_found(rb, meter_key, ts);
        /* a point lookup (a reference-day estimate, a late reading) decodes only up to ts */
        if ((rc = room(&rb->edit_tmp, &rb->edit_cap, (uint64_t)b->n)) ||
            (rc = mtr_bc_decode_until(b->body, b->body + b->len, (uint64_t)b->n, b->meter_key,
                                      b->day, ts, rb->edit_tmp, &n)))
            return mtr_err(rb->eb, rc, "readings of meter %lld on day %lld: %s",
                           (long long)meter_key, (long long)b->day,
                           rc == MTR_ENOMEM ? "out of memory" : "corrupt block");
        d = rb->edit_tmp;
        r = d;
    } else {
        int stored;
        if ((rc = load(rb, meter_key, day_of(ts), &rb->get_tmp, &n, &rb->get_cap, &stored)))
            return rc;
        r = rb->get_tmp;
    }
    int i = lower_bound(r, n, ts);
    if (i == n || r[i].ts != ts)
        return not_found(rb, meter_key, ts);
    *out = r[i];
    return 0;
}

/* Runs op inside a short transaction of its own when none is open. */
static int autocommit_begin(struct mtr_rb *rb, int *own)
{
    *own = 0;
    if (in_tx(rb))
        return 0;
    if (sqlite3_exec(rb->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(rb, "begin");
    mtr_rb_begin(rb);
    *own = 1;
    return 0;
}
static int autocommit_end(struct mtr_rb *rb, int own, int rc)
{
    if (!own)
        return rc;
    if (!rc)
        rc = mtr_rb_flush(rb);
    if (!rc && rb->hooks.own_commit)
        rc = rb->hooks.own_commit(rb->hooks.ctx);
    if (!rc && sqlite3_exec(rb->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(rb, "commit");
    if (rc) {
        sqlite3_exec(rb->db, "ROLLBACK", NULL, NULL, NULL);
        mtr_rb_discard(rb);
    }
    if (rb->hooks.own_end)
        rb->hooks.own_end(rb->hooks.ctx);
    rb->data_version = data_version(rb);
    return rc;
}

/* Inserts or replaces one reading of a block. */
static int blk_upsert(struct mtr_rb *rb, struct blk *b, const struct mtr_stored_reading *r)
{
    if (!b->n || r->ts > b->enc.ts)
        return blk_append(rb, b, r);
    struct mtr_stored_reading *d;
    int rc = blk_decode(rb, b, &d);
    if (rc)
        return rc;
    int i = lower_bound(d, b->n, r->ts), n = b->n;
    if (i < n && d[i].ts == r->ts) {
        d[i] = *r;
    } else {
        if ((rc = room(&rb->edit_tmp, &rb->edit_cap, (uint64_t)n + 1)))
            return mtr_err(rb->eb, rc, "out of memory caching readings");
        d = rb->edit_tmp;
        memmove(&d[i + 1], &d[i], (size_t)(n - i) * sizeof *d);
        d[i] = *r;
        n++;
    }
    return blk_set(rb, b, d, n);
}

void mtr_rb_prefetch(const struct mtr_rb *rb, int64_t meter_key)
{
    /* in a time-major file each reading appends to another meter's block, and the put would
     * first wait on memory for the block's header and encoder state */
    if ((uint64_t)meter_key >= rb->pm_cap)
        return;
    const struct per_meter *m = &rb->pm[meter_key];
    if (m->hint)
        for (size_t off = 0; off < sizeof *m->hint; off += 64)
            __builtin_prefetch((const char *)m->hint + off);
    if (m->tail)
        __builtin_prefetch(m->tail, 1);
}

int mtr_rb_put(struct mtr_rb *rb, const struct mtr_stored_reading *r)
{
    int own, rc = autocommit_begin(rb, &own);
    struct blk *b;
    if (!rc && !(rc = cached(rb, r->meter_key, day_of(r->ts), &b)))
        rc = blk_upsert(rb, b, r);
    return autocommit_end(rb, own, rc);
}

static int flag_block(struct mtr_rb *rb, struct blk *b, int64_t from, int64_t to, uint64_t flags,
                      int set_code)
{
    struct mtr_stored_reading *d;
    int changed = 0, rc;
    if (!b->n || b->enc.ts < from)
        return 0;
    if ((rc = blk_decode(rb, b, &d)))
        return rc;
    for (int i = lower_bound(d, b->n, from); i < b->n && d[i].ts <= to; i++) {
        struct mtr_stored_reading *x = &d[i];
        x->flags |= flags;
        if (set_code >= 0 && (x->quality_code == MTR_Q_VALID || x->quality_code == MTR_Q_EDITED))
            x->quality_code = set_code;
        x->score = mtr_reading_score(x->quality_code, x->flags);
        changed = 1;
    }
    return changed ? blk_set(rb, b, d, b->n) : 0;
}

/* The stored days of a meter within [from_day, to_day], for the rare long ranges. */
static int stored_days(struct mtr_rb *rb, int64_t meter_key, int64_t from_day, int64_t to_day,
                       int64_t **days, size_t *n)
{
    sqlite3_stmt *st = q(rb, Q_RANGE);
    size_t cap = 0;
    int rc;
    *days = NULL;
    *n = 0;
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, mtr_rb_id(meter_key, from_day / DAY));
    sqlite3_bind_int64(st, 2, mtr_rb_id(meter_key, to_day / DAY));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *nd = realloc(*days, cap * sizeof *nd);
            if (!nd) {
                sqlite3_reset(st);
                return mtr_err(rb->eb, MTR_ENOMEM, "out of memory");
            }
            *days = nd;
        }
        (*days)[(*n)++] = sqlite3_column_int64(st, 1);
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(rb, "readings_flag");
    sqlite3_reset(st);
    return rc;
}

int mtr_rb_flag(struct mtr_rb *rb, int64_t meter_key, int64_t from, int64_t to, uint64_t flags,
                int set_code)
{
    if (to < from)
        return 0;
    int own, rc = autocommit_begin(rb, &own);
    if (rc)
        return rc;
    int64_t d0 = day_of(from < 0 ? 0 : from), d1 = day_of(to);
    struct blk *b;
    if ((d1 - d0) / DAY <= 400) {
        for (int64_t d = d0; d <= d1 && !rc; d += DAY)
            if (!(rc = cached(rb, meter_key, d, &b)))
                rc = flag_block(rb, b, from, to, flags, set_code);
    } else {
        /* a long range: visit the days that exist (the cache's new days are flushed first) */
        int64_t *days = NULL;
        size_t n = 0;
        if (!(rc = mtr_rb_flush(rb)))
            rc = stored_days(rb, meter_key, d0, d1, &days, &n);
        for (size_t i = 0; i < n && !rc; i++)
            if (!(rc = cached(rb, meter_key, days[i], &b)))
                rc = flag_block(rb, b, from, to, flags, set_code);
        free(days);
    }
    return autocommit_end(rb, own, rc);
}

int mtr_rb_range(struct mtr_rb *rb, int64_t meter_key, int64_t from, int64_t to,
                 int (*cb)(void *ctx, const struct mtr_stored_reading *r), void *ctx)
{
    if (to <= from)
        return 0;
    int rc = in_tx(rb) ? mtr_rb_flush(rb) : 0;
    if (rc)
        return rc;
    sqlite3_stmt *st = q(rb, Q_RANGE);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, mtr_rb_id(meter_key, day_of(from < 0 ? 0 : from) / DAY));
    sqlite3_bind_int64(st, 2, mtr_rb_id(meter_key, day_of(to - 1) / DAY));
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int n;
        int64_t day = sqlite3_column_int64(st, 1);
        rc = mtr_rb_decode(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                           meter_key, day, &rb->range_tmp, &n, &rb->range_cap);
        if (rc) {
            rc = mtr_err(rb->eb, rc, "readings of meter %lld on day %lld: %s", (long long)meter_key,
                         (long long)day, rc == MTR_ENOMEM ? "out of memory" : "corrupt block");
            break;
        }
        for (int i = lower_bound(rb->range_tmp, n, from); i < n && rb->range_tmp[i].ts < to; i++)
            if ((rc = cb(ctx, &rb->range_tmp[i])))
                break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(rb, "readings_range");
    sqlite3_reset(st);
    return rc;
}

static int hours_of(struct mtr_rb *rb, struct blk *b, struct hours **out)
{
    if (!b->h) {
        struct hours *h = calloc(1, sizeof *h);
        sqlite3_stmt *st = q(rb, Q_H_GET);
        int rc = 0;
        if (!h)
            return mtr_err(rb->eb, MTR_ENOMEM, "out of memory caching hourly rollups");
        if (!st) {
            free(h);
            return MTR_ESTORE;
        }
        sqlite3_bind_int64(st, 1, b->id);
        int step = known_absent(rb, 1, b->meter_key, b->day) ? SQLITE_DONE : sqlite3_step(st);
        if (step == SQLITE_ROW) {
            h->stored = 1;
            if (mtr_bc_hours_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                    b->meter_key, b->day, h->v, &h->present))
                rc = mtr_err(rb->eb, MTR_ESTORE,
                             "hourly rollups of meter %lld on day %lld: corrupt block",
                             (long long)b->meter_key, (long long)b->day);
        } else if (step == SQLITE_DONE) {
            uint32_t none;
            uint8_t zero[4] = {0};
            mtr_bc_hours_decode(zero, 4, b->meter_key, b->day, h->v, &none);
        } else {
            rc = db_fail(rb, "reading hourly rollups");
        }
        sqlite3_reset(st);
        if (rc) {
            free(h);
            return rc;
        }
        b->h = h;
        rb->bytes += sizeof *h;
    }
    *out = b->h;
    return 0;
}

static void min_of(double *a, double b)
{
    if (isnan(*a) || b < *a)
        *a = isnan(b) ? *a : b;
}
static void max_of(double *a, double b)
{
    if (isnan(*a) || b > *a)
        *a = isnan(b) ? *a : b;
}

int mtr_rb_hour_merge(struct mtr_rb *rb, const struct mtr_rollup_hour *x)
{
    int64_t day = day_of(x->hour);
    int i = (int)((x->hour - day) / 3600), own, rc = autocommit_begin(rb, &own);
    struct blk *b;
    struct hours *h;
    if (!rc && !(rc = cached(rb, x->meter_key, day, &b)) && !(rc = hours_of(rb, b, &h))) {
        struct mtr_rollup_hour *t = &h->v[i];
        if (!(h->present & (1u << i))) {
            t->kwh = 0;
            t->n = t->n_estimated = 0;
            t->min_kwh = t->max_kwh = NAN;
        }
        t->kwh += isnan(x->kwh) ? 0 : x->kwh;
        min_of(&t->min_kwh, x->min_kwh);
        max_of(&t->max_kwh, x->max_kwh);
        t->n += x->n;
        t->n_estimated += x->n_estimated;
        h->present |= 1u << i;
        h->dirty = 1;
        rc = mark_dirty(rb, b);
    }
    return autocommit_end(rb, own, rc);
}

int mtr_rb_hours_replace(struct mtr_rb *rb, int64_t meter_key, int64_t day,
                         const struct mtr_rollup_hour v[24], uint32_t present)
{
    int own, rc = autocommit_begin(rb, &own);
    struct blk *b;
    struct hours *h;
    if (!rc && !(rc = cached(rb, meter_key, day, &b)) && !(rc = hours_of(rb, b, &h))) {
        memcpy(h->v, v, sizeof h->v);
        for (int i = 0; i < 24; i++) {
            h->v[i].meter_key = meter_key;
            h->v[i].hour = day + 3600 * i;
            if (isnan(h->v[i].kwh))
                h->v[i].kwh = 0;
        }
        h->present = present & 0xffffffu;
        h->dirty = 1;
        rc = mark_dirty(rb, b);
    }
    return autocommit_end(rb, own, rc);
}

int mtr_rb_retention(struct mtr_rb *rb, int64_t before, int64_t *deleted)
{
    int rc = mtr_rb_flush(rb);
    sqlite3_stmt *st = NULL;
    if (rc)
        return rc;
    mtr_rb_discard(rb);
    if (sqlite3_prepare_v2(rb->db,
                           "SELECT coalesce(sum(n), 0) FROM reading_blocks WHERE day + 86400 <= ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(rb, "retention");
    sqlite3_bind_int64(st, 1, before);
    if (sqlite3_step(st) == SQLITE_ROW)
        *deleted += sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    /* hours: the present bits of each block's first word (both versions) */
    if (sqlite3_prepare_v2(rb->db, "SELECT data FROM rollup_hour_blocks WHERE day + 86400 <= ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(rb, "retention");
    sqlite3_bind_int64(st, 1, before);
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t mask = 0;
        if (sqlite3_column_bytes(st, 0) >= 4)
            memcpy(&mask, sqlite3_column_blob(st, 0), 4);
        *deleted += __builtin_popcount(mask & 0xffffffu);
    }
    sqlite3_finalize(st);
    static const char *const del[] = {"DELETE FROM reading_blocks WHERE day + 86400 <= ?1",
                                      "DELETE FROM rollup_hour_blocks WHERE day + 86400 <= ?1"};
    for (int i = 0; i < 2 && !rc; i++) {
        if (sqlite3_prepare_v2(rb->db, del[i], -1, &st, NULL) != SQLITE_OK)
            return db_fail(rb, "retention");
        sqlite3_bind_int64(st, 1, before);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(rb, "retention");
        sqlite3_finalize(st);
    }
    if (rc || before % DAY == 0)
        return rc;
    /* the day that straddles `before` keeps its later readings */
    if (sqlite3_prepare_v2(rb->db,
                           "SELECT meter_key FROM reading_blocks WHERE day = ?1 UNION"
                           " SELECT meter_key FROM rollup_hour_blocks WHERE day = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(rb, "retention");
    sqlite3_bind_int64(st, 1, day_of(before));
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct blk *b;
        if ((rc = cached(rb, sqlite3_column_int64(st, 0), day_of(before), &b)))
            break;
        struct mtr_stored_reading *d;
        if (b->n && (rc = blk_decode(rb, b, &d)))
            break;
        int k = b->n ? lower_bound(d, b->n, before) : 0;
        if (k > 0 && (rc = blk_set(rb, b, d + k, b->n - k)))
            break;
        *deleted += k;
        struct hours *h;
        if ((rc = hours_of(rb, b, &h)))
            break;
        for (int i = 0; i < 24 && b->day + 3600 * i < before; i++)
            if (h->present & (1u << i)) {
                h->present &= ~(1u << i);
                h->dirty = 1;
                ++*deleted;
            }
        if (h->dirty && (rc = mark_dirty(rb, b)))
            break;
    }
    sqlite3_finalize(st);
    return rc ? rc : mtr_rb_flush(rb);
}

/* ======================= SQL: the readings virtual table ======================= */

/* Columns, in the order of the former readings table. */
enum {
    C_METER_KEY,
    C_TS,
    C_INTERVAL,
    C_RAW,
    C_KWH,
    C_V,
    C_I,
    C_PF,
    C_F,
    C_P,
    C_Q,
    C_CODE,
    C_FLAGS,
    C_SCORE,
    C_INGESTED
};

/* The virtual table keeps its connection: cursors prepare their block scan on it. */
struct vt_table {
    sqlite3_vtab base;
    sqlite3 *db;
    int hours; /* 0: `readings` over reading_blocks, 1: `rollup_hourly` over rollup_hour_blocks */
};

struct vt_cursor {
    sqlite3_vtab_cursor base;
    sqlite3_stmt *st;
    int hours;
    int64_t lo, hi; /* time bounds, inclusive; a superset of the query's */
    struct mtr_stored_reading *r;
    struct mtr_rollup_hour hrs[24]; /* the present hours of the current block */
    int n, cap, i, eof;
};

/* Time of row i of the current block: ts of a reading, or the hour. */
static int64_t vt_time(const struct vt_cursor *c, int i)
{
    return c->hours ? c->hrs[i].hour : c->r[i].ts;
}

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    int hours = aux != NULL;
    int rc = sqlite3_declare_vtab(
        db, hours ? "CREATE TABLE x(meter_key INTEGER, hour INTEGER, kwh REAL, min_kwh REAL,"
                    " max_kwh REAL, n INTEGER, n_estimated INTEGER)"
                  : "CREATE TABLE x(meter_key INTEGER, ts INTEGER, interval_s INTEGER,"
                    " raw_kwh REAL, kwh REAL, voltage_v REAL, current_a REAL, power_factor REAL,"
                    " frequency_hz REAL, active_power_kw REAL, reactive_power_kvar REAL,"
                    " quality_code INTEGER, flags INTEGER, score REAL, ingested_at INTEGER)");
    if (rc != SQLITE_OK)
        return rc;
    struct vt_table *t = sqlite3_malloc(sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->db = db;
    t->hours = hours;
    *out = &t->base;
    return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

/* idxNum bits: 1 meter_key =, 2 ts lower bound, 4 ts upper bound; argv in that order. */
static int vt_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    int meq = -1, lo = -1, hi = -1;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable)
            continue;
        if (c->iColumn == C_METER_KEY && c->op == SQLITE_INDEX_CONSTRAINT_EQ)
            meq = i;
        else if (c->iColumn == C_TS &&
                 (c->op == SQLITE_INDEX_CONSTRAINT_GE || c->op == SQLITE_INDEX_CONSTRAINT_GT ||
                  c->op == SQLITE_INDEX_CONSTRAINT_EQ))
            lo = i;
        else if (c->iColumn == C_TS &&
                 (c->op == SQLITE_INDEX_CONSTRAINT_LE || c->op == SQLITE_INDEX_CONSTRAINT_LT))
            hi = i;
    }
    int arg = 1, num = 0;
    double cost = 1e9;
    if (meq >= 0) {
        info->aConstraintUsage[meq].argvIndex = arg++;
        num |= 1;
        cost /= 1000;
    }
    if (lo >= 0) {
        info->aConstraintUsage[lo].argvIndex = arg++;
        num |= 2;
        cost /= 10;
    }
    if (hi >= 0) {
        info->aConstraintUsage[hi].argvIndex = arg++;
        num |= 4;
        cost /= 10;
    }
    /* SQLite re-checks every constraint: our bounds only need to be a superset */
    info->idxNum = num;
    info->estimatedCost = cost;
    if (info->nOrderBy == 2 && info->aOrderBy[0].iColumn == C_METER_KEY &&
        !info->aOrderBy[0].desc && info->aOrderBy[1].iColumn == C_TS && !info->aOrderBy[1].desc)
        info->orderByConsumed = 1;
    else if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == C_TS && !info->aOrderBy[0].desc &&
             meq >= 0)
        info->orderByConsumed = 1;
    return SQLITE_OK;
}

static int vt_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    struct vt_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->hours = ((struct vt_table *)v)->hours;
    *out = &c->base;
    return SQLITE_OK;
}

static int vt_close(sqlite3_vtab_cursor *cur)
{
    struct vt_cursor *c = (struct vt_cursor *)cur;
    sqlite3_finalize(c->st);
    free(c->r);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* Moves to the next block with a reading inside [lo, hi]. */
static int vt_next_block(struct vt_cursor *c)
{
    for (;;) {
        int rc = sqlite3_step(c->st);
        if (rc == SQLITE_DONE) {
            c->eof = 1;
            return SQLITE_OK;
        }
        if (rc != SQLITE_ROW)
            return rc;
        int64_t key = sqlite3_column_int64(c->st, 0), day = sqlite3_column_int64(c->st, 1);
        const uint8_t *data = sqlite3_column_blob(c->st, 2);
        size_t len = (size_t)sqlite3_column_bytes(c->st, 2);
        if (c->hours) {
            struct mtr_rollup_hour all[24];
            uint32_t present;
            if (mtr_bc_hours_decode(data, len, key, day, all, &present))
                return SQLITE_CORRUPT;
            c->n = 0;
            for (int i = 0; i < 24; i++)
                if (present & (1u << i))
                    c->hrs[c->n++] = all[i];
            for (c->i = 0; c->i < c->n && c->hrs[c->i].hour < c->lo; c->i++)
                ;
        } else {
            if (mtr_rb_decode(data, len, key, day, &c->r, &c->n, &c->cap))
                return SQLITE_CORRUPT;
            c->i = lower_bound(c->r, c->n, c->lo);
        }
        if (c->i < c->n && vt_time(c, c->i) <= c->hi)
            return SQLITE_OK;
    }
}

static int vt_eof(sqlite3_vtab_cursor *cur)
{
    return ((struct vt_cursor *)cur)->eof;
}

static int vt_next(sqlite3_vtab_cursor *cur)
{
    struct vt_cursor *c = (struct vt_cursor *)cur;
    if (++c->i < c->n && vt_time(c, c->i) <= c->hi)
        return SQLITE_OK;
    return vt_next_block(c);
}

static void result_dbl(sqlite3_context *ctx, double x)
{
    if (isnan(x))
        sqlite3_result_null(ctx);
    else
        sqlite3_result_double(ctx, x);
}

static int vt_hour_column(const struct mtr_rollup_hour *h, sqlite3_context *ctx, int col)
{
    switch (col) {
    case 0:
        sqlite3_result_int64(ctx, h->meter_key);
        break;
    case 1:
        sqlite3_result_int64(ctx, h->hour);
        break;
    case 2:
        sqlite3_result_double(ctx, h->kwh);
        break;
    case 3:
        result_dbl(ctx, h->min_kwh);
        break;
    case 4:
        result_dbl(ctx, h->max_kwh);
        break;
    case 5:
        sqlite3_result_int(ctx, h->n);
        break;
    case 6:
        sqlite3_result_int(ctx, h->n_estimated);
        break;
    }
    return SQLITE_OK;
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct vt_cursor *c = (const struct vt_cursor *)cur;
    if (c->hours)
        return vt_hour_column(&c->hrs[c->i], ctx, col);
    const struct mtr_stored_reading *r = &c->r[c->i];
    switch (col) {
    case C_METER_KEY:
        sqlite3_result_int64(ctx, r->meter_key);
        break;
    case C_TS:
        sqlite3_result_int64(ctx, r->ts);
        break;
    case C_INTERVAL:
        sqlite3_result_int(ctx, r->interval_s);
        break;
    case C_RAW:
        result_dbl(ctx, r->raw_kwh);
        break;
    case C_KWH:
        result_dbl(ctx, r->kwh);
        break;
    case C_V:
        result_dbl(ctx, r->voltage_v);
        break;
    case C_I:
        result_dbl(ctx, r->current_a);
        break;
    case C_PF:
        result_dbl(ctx, r->power_factor);
        break;
    case C_F:
        result_dbl(ctx, r->frequency_hz);
        break;
    case C_P:
        result_dbl(ctx, r->active_power_kw);
        break;
    case C_Q:
        result_dbl(ctx, r->reactive_power_kvar);
        break;
    case C_CODE:
        sqlite3_result_int(ctx, r->quality_code);
        break;
    case C_FLAGS:
        sqlite3_result_int64(ctx, (int64_t)r->flags);
        break;
    case C_SCORE:
        result_dbl(ctx, r->score);
        break;
    case C_INGESTED:
        if (r->ingested_at)
            sqlite3_result_int64(ctx, r->ingested_at);
        else
            sqlite3_result_null(ctx);
        break;
    }
    return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    const struct vt_cursor *c = (const struct vt_cursor *)cur;
    int64_t key = c->hours ? c->hrs[c->i].meter_key : c->r[c->i].meter_key;
    *rowid = key * ((int64_t)1 << 31) + vt_time(c, c->i) / 60; /* the former readings rowid */
    return SQLITE_OK;
}

static int vt_filter(sqlite3_vtab_cursor *cur, int num, const char *idx, int argc,
                     sqlite3_value **argv)
{
    (void)idx;
    (void)argc;
    struct vt_cursor *c = (struct vt_cursor *)cur;
    struct vt_table *t = (struct vt_table *)cur->pVtab;
    const int64_t dmax = ((int64_t)1 << MTR_RB_DAY_BITS) - 1;
    int a = 0;
    int64_t key = 0;
    c->lo = 0;
    c->hi = INT64_MAX;
    c->eof = 0;
    c->n = c->i = 0;
    if (num & 1) {
        if (sqlite3_value_type(argv[a]) == SQLITE_NULL)
            c->eof = 1;
        key = sqlite3_value_int64(argv[a++]);
    }
    /* integer bounds that contain the strict and the real-valued forms too */
    if (num & 2) {
        double x = sqlite3_value_double(argv[a++]);
        c->lo = x <= 0 ? 0 : x >= 9e18 ? INT64_MAX : (int64_t)floor(x);
    }
    if (num & 4) {
        double x = sqlite3_value_double(argv[a++]);
        c->hi = x >= 9e18 ? INT64_MAX : x < 0 ? -1 : (int64_t)ceil(x);
    }
    int64_t d0 = c->lo / DAY, d1 = c->hi / DAY;
    if (d0 > dmax || c->hi < c->lo)
        c->eof = 1;
    if (d1 > dmax)
        d1 = dmax;
    sqlite3_finalize(c->st);
    c->st = NULL;
    if (c->eof)
        return SQLITE_OK;
    static const char *const sql[2][2] = {
        {"SELECT meter_key, day, data FROM reading_blocks WHERE day >= ?1 * 86400"
         " AND day <= ?2 * 86400 ORDER BY id",
         "SELECT meter_key, day, data FROM reading_blocks WHERE id >= ?1 AND id <= ?2"
         " ORDER BY id"},
        {"SELECT meter_key, day, data FROM rollup_hour_blocks WHERE day >= ?1 * 86400"
         " AND day <= ?2 * 86400 ORDER BY id",
         "SELECT meter_key, day, data FROM rollup_hour_blocks WHERE id >= ?1 AND id <= ?2"
         " ORDER BY id"}};
    if (sqlite3_prepare_v2(t->db, sql[t->hours][num & 1], -1, &c->st, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_bind_int64(c->st, 1, num & 1 ? mtr_rb_id(key, d0) : d0);
    sqlite3_bind_int64(c->st, 2, num & 1 ? mtr_rb_id(key, d1) : d1);
    return vt_next_block(c);
}

static sqlite3_module vt_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

/* mtr_block_check(data, meter_key, day): NULL when the block is well-formed, else the problem. */
static void sql_block_check(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct mtr_stored_reading *r = NULL;
    int n = 0, cap = 0;
    int64_t day = sqlite3_value_int64(argv[2]);
    int rc = mtr_rb_decode(sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]),
                           sqlite3_value_int64(argv[1]), day, &r, &n, &cap);
    if (rc == MTR_ENOMEM) {
        sqlite3_result_error_nomem(ctx);
    } else if (rc) {
        sqlite3_result_text(ctx, "does not decode", -1, SQLITE_STATIC);
    } else {
        const char *bad = NULL;
        for (int i = 0; i < n && !bad; i++)
            if (!mtr_quality_code_name(r[i].quality_code))
                bad = "has an unknown quality code";
        if (day % DAY != 0)
            bad = "has a day that is not a UTC midnight";
        if (bad)
            sqlite3_result_text(ctx, bad, -1, SQLITE_STATIC);
        else
            sqlite3_result_null(ctx);
    }
    free(r);
}

int mtr_rb_register_sql(sqlite3 *db)
{
    static int hours_aux; /* any non-NULL pointer selects the hourly view */
    if (sqlite3_create_module(db, "readings", &vt_module, NULL) != SQLITE_OK ||
        sqlite3_create_module(db, "rollup_hourly", &vt_module, &hours_aux) != SQLITE_OK)
        return MTR_ESTORE;
    if (sqlite3_create_function_v2(db, "mtr_block_check", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   NULL, sql_block_check, NULL, NULL, NULL) != SQLITE_OK)
        return MTR_ESTORE;
    return 0;
}
