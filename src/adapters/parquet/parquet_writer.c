/*
 * parquet_writer.c - streaming Parquet writer (see parquet_writer.h).
 *
 * Per column, the current data page is accumulated (PLAIN bytes, or dictionary indices), then
 * encoded, compressed and appended with its header to the column's chunk buffer. When a row group
 * is cut, each column writes its dictionary page (if used) and its buffered data pages, and the
 * RowGroup metadata is encoded right away, so the footer only concatenates pre-encoded structs.
 * Memory is therefore bounded by one row group of encoded pages plus one page of raw values.
 */
#include "adapters/parquet/parquet_writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "adapters/parquet/rle_hybrid.h"
#include "adapters/parquet/thrift_compact.h"

/* parquet.thrift enum values */
enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { CT_UTF8 = 0, CT_DATE = 6, CT_TIMESTAMP_MICROS = 10 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "parquet_writer.c assumes a little-endian host (Parquet PLAIN is little-endian)"
#endif

/* Open-addressing dictionary. The arena holds the entries already PLAIN-encoded (strings with
 * their 4-byte length prefix), so the dictionary page body is a prefix of the arena. */
struct dict {
    struct mtr_tc_buf arena;
    uint32_t *off;  /* entry i's value bytes start at arena.data + off[i] */
    uint32_t *len;  /* ... and are len[i] long */
    uint32_t *hash; /* full hash per entry, for rehashing and cheap compares */
    uint32_t n, cap;
    uint32_t *slots; /* entry index + 1; 0 = empty */
    uint32_t nslots; /* power of two */
};

/* Statistics of a page or a chunk. Strings: `sp` points at the page's own bytes for a page; a
 * chunk copies them into sbuf (min then max). */
struct stats {
    uint64_t nulls, nans;
    bool has; /* at least one non-null, non-NaN value */
    union {
        int64_t i;
        double d;
    } min, max;
    const uint8_t *smin, *smax;
    size_t sminl, smaxl;
};

struct col {
    const struct mtr_pq_column_def *def;
    int ptype;
    size_t width; /* PLAIN bytes per value of fixed-width types, 0 otherwise */
    bool dict_wanted, dict_on;
    struct dict d;
    uint32_t dict_committed; /* entries referenced by already-encoded pages of this chunk */

    /* current page */
    uint32_t *levels, *idx;
    size_t nlevels, nidx, cap_levels, cap_idx;
    size_t prows, pbytes; /* rows (levels) and estimated raw bytes in the page */
    struct mtr_tc_buf pvals;
    uint64_t bool_acc;
    int bool_bits;
    struct stats ps;

    /* current chunk */
    struct mtr_tc_buf chunk;
    struct stats cs;
    struct mtr_tc_buf cs_min, cs_max; /* chunk string min/max copies */
    uint64_t cvalues, cuncompressed;
    uint32_t npages_dict, npages_plain;
};

struct mtr_pq_writer {
    const struct mtr_pq_schema *schema;
    struct mtr_pq_options o;
    char *created_by;
    struct mtr_pq_kv *kv; /* copied strings */
    mtr_pq_write_fn write;
    void *ctx;
    int err;
    uint64_t offset, rows;
    size_t rg_rows;
    uint32_t nrowgroups;
    struct col *cols;
    struct mtr_tc_buf rgmeta; /* encoded RowGroup structs (list elements) */
    struct mtr_tc_buf body, cbuf, hdr;
    ZSTD_CCtx *zc;
};

/* ------------------------------------------------------------------------------------------ */

int mtr_pq_file_sink(void *ctx, const void *buf, size_t len)
{
    FILE *fp = ctx;
    if (len && fwrite(buf, 1, len, fp) != len)
        return MTR_EIO;
    return 0;
}

void mtr_pq_options_default(struct mtr_pq_options *o)
{
    memset(o, 0, sizeof *o);
    o->codec = MTR_PQ_ZSTD;
    o->zstd_level = 3;
    o->row_group_rows = 1000000;
    o->row_group_bytes = 128u << 20;
    o->page_bytes = 1u << 20;
    o->page_rows = 0;
    o->dict_max_bytes = 1u << 20;
    o->stats_max_bytes = 64;
}

static uint32_t hash_bytes(const void *p, size_t n)
{
    /* Multiply-xorshift over 8-byte words: fast, and good enough for dictionary probing. */
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, s, 8);
        h = (h ^ x) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t x = 0;
    memcpy(&x, s, n);
    h = (h ^ x) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

static void dict_reset(struct dict *d)
{
    d->arena.len = 0;
    d->n = 0;
    if (d->slots)
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

static void dict_free(struct dict *d)
{
    mtr_tc_buf_free(&d->arena);
    free(d->off);
    free(d->len);
    free(d->hash);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static int dict_grow_slots(struct dict *d)
{
    uint32_t ns = d->nslots ? d->nslots * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return MTR_ENOMEM;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t k = d->hash[i] & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = i + 1;
    }
    free(d->slots);
    d->slots = s;
    d->nslots = ns;
    return 0;
}

/* Finds or adds value p[0..n); *index receives its entry number. prefix: write a PLAIN length. */
static int dict_put(struct dict *d, const void *p, size_t n, bool prefix, uint32_t *index)
{
    if ((d->n + 1) * 2 > d->nslots && dict_grow_slots(d) != 0)
        return MTR_ENOMEM;
    uint32_t h = hash_bytes(p, n);
    uint32_t mask = d->nslots - 1, k = h & mask;
    for (;;) {
        uint32_t e = d->slots[k];
        if (!e)
            break;
        e--;
        if (d->hash[e] == h && d->len[e] == n && memcmp(d->arena.data + d->off[e], p, n) == 0) {
            *index = e;
            return 0;
        }
        k = (k + 1) & mask;
    }
    if (d->n == d->cap) {
        uint32_t nc = d->cap ? d->cap * 2 : 1024;
        uint32_t *a = realloc(d->off, nc * sizeof *a);
        if (!a)
            return MTR_ENOMEM;
        d->off = a;
        if (!(a = realloc(d->len, nc * sizeof *a)))
            return MTR_ENOMEM;
        d->len = a;
        if (!(a = realloc(d->hash, nc * sizeof *a)))
            return MTR_ENOMEM;
        d->hash = a;
        d->cap = nc;
    }
    if (n > UINT32_MAX - 4 || d->arena.len > UINT32_MAX - n - 4)
        return MTR_ERANGE;
    if (prefix) {
        uint32_t l = (uint32_t)n;
        if (mtr_tc_buf_append(&d->arena, &l, 4) != 0)
            return MTR_ENOMEM;
    }
    d->off[d->n] = (uint32_t)d->arena.len;
    if (mtr_tc_buf_append(&d->arena, p, n) != 0)
        return MTR_ENOMEM;
    d->len[d->n] = (uint32_t)n;
    d->hash[d->n] = h;
    d->slots[k] = d->n + 1;
    *index = d->n++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static int put_out(struct mtr_pq_writer *w, const void *p, size_t n)
{
    if (w->err)
        return w->err;
    int rc = w->write(w->ctx, p, n);
    if (rc != 0)
        return w->err = rc < 0 ? rc : MTR_EIO;
    w->offset += n;
    return 0;
}

/* Unsigned byte-wise comparison, the order Parquet defines for STRING. */
static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static void stats_add_str(struct stats *s, const uint8_t *p, size_t n)
{
    if (!s->has) {
        s->has = true;
        s->smin = s->smax = p;
        s->sminl = s->smaxl = n;
        return;
    }
    if (bytes_cmp(p, n, s->smin, s->sminl) < 0) {
        s->smin = p;
        s->sminl = n;
    }
    if (bytes_cmp(p, n, s->smax, s->smaxl) > 0) {
        s->smax = p;
        s->smaxl = n;
    }
}

/* Merges page stats into chunk stats (string bounds are copied into the chunk's buffers). */
static int stats_merge(struct col *c)
{
    struct stats *p = &c->ps, *s = &c->cs;
    s->nulls += p->nulls;
    s->nans += p->nans;
    if (!p->has)
        return 0;
    if (c->ptype == PT_BYTE_ARRAY) {
        bool first = !s->has;
        if (first || bytes_cmp(p->smin, p->sminl, s->smin, s->sminl) < 0) {
            c->cs_min.len = 0;
            if (mtr_tc_buf_append(&c->cs_min, p->smin, p->sminl) != 0)
                return MTR_ENOMEM;
        }
        if (first || bytes_cmp(p->smax, p->smaxl, s->smax, s->smaxl) > 0) {
            c->cs_max.len = 0;
            if (mtr_tc_buf_append(&c->cs_max, p->smax, p->smaxl) != 0)
                return MTR_ENOMEM;
        }
        s->smin = c->cs_min.data;
        s->sminl = c->cs_min.len;
        s->smax = c->cs_max.data;
        s->smaxl = c->cs_max.len;
    } else if (c->ptype == PT_DOUBLE) {
        if (!s->has || p->min.d < s->min.d)
            s->min.d = p->min.d;
        if (!s->has || p->max.d > s->max.d)
            s->max.d = p->max.d;
    } else {
        if (!s->has || p->min.i < s->min.i)
            s->min.i = p->min.i;
        if (!s->has || p->max.i > s->max.i)
            s->max.i = p->max.i;
    }
    s->has = true;
    return 0;
}

/* UTF-8 aware cut: the largest length <= limit that does not split a character. */
static size_t utf8_cut(const uint8_t *p, size_t n, size_t limit)
{
    if (n <= limit)
        return n;
    size_t k = limit;
    while (k > 0 && (p[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Encodes a Statistics struct as field `id` of the current struct. */
static void put_stats(struct mtr_tc *tc, int16_t id, const struct col *c, const struct stats *s,
                      size_t max_bytes)
{
    uint8_t mn[8], mx[8];
    const uint8_t *minp = mn, *maxp = mx;
    size_t minl = c->width, maxl = c->width;
    bool min_exact = true, max_exact = true, have_max = s->has;
    uint8_t *maxbuf = NULL;

    mtr_tc_field_struct_begin(tc, id);
    mtr_tc_field_i64(tc, 3, (int64_t)s->nulls);
    if (s->has) {
        switch (c->ptype) {
        case PT_INT32: {
            int32_t a = (int32_t)s->min.i, b = (int32_t)s->max.i;
            memcpy(mn, &a, 4);
            memcpy(mx, &b, 4);
            break;
        }
        case PT_INT64:
            memcpy(mn, &s->min.i, 8);
            memcpy(mx, &s->max.i, 8);
            break;
        case PT_DOUBLE: {
            /* Spec: a zero min is written as -0.0 and a zero max as +0.0, since either zero may
             * be present. */
            double a = s->min.d == 0 ? -0.0 : s->min.d, b = s->max.d == 0 ? 0.0 : s->max.d;
            memcpy(mn, &a, 8);
            memcpy(mx, &b, 8);
            break;
        }
        case PT_BOOLEAN:
            mn[0] = (uint8_t)s->min.i;
            mx[0] = (uint8_t)s->max.i;
            minl = maxl = 1;
            break;
        default: /* BYTE_ARRAY: truncate long bounds, keeping them valid UTF-8 */
            minp = s->smin;
            minl = utf8_cut(s->smin, s->sminl, max_bytes);
            min_exact = minl == s->sminl;
            maxp = s->smax;
            maxl = s->smaxl;
            if (s->smaxl > max_bytes) {
                /* An upper bound: cut, then increment the last ASCII byte below 0x7F, which keeps
                 * the bound valid UTF-8 and greater than every value. */
                size_t k = utf8_cut(s->smax, s->smaxl, max_bytes);
                while (k > 0 && s->smax[k - 1] >= 0x7F)
                    k--;
                have_max = false;
                if (k > 0 && (maxbuf = malloc(k)) != NULL) {
                    memcpy(maxbuf, s->smax, k);
                    maxbuf[k - 1]++;
                    maxp = maxbuf;
                    maxl = k;
                    max_exact = false;
                    have_max = true;
                }
            }
            break;
        }
        if (have_max)
            mtr_tc_field_binary(tc, 5, maxp, maxl);
        mtr_tc_field_binary(tc, 6, minp, minl);
        if (have_max)
            mtr_tc_field_bool(tc, 7, max_exact);
        mtr_tc_field_bool(tc, 8, min_exact);
    }
    if (c->ptype == PT_DOUBLE)
        mtr_tc_field_i64(tc, 9, (int64_t)s->nans);
    mtr_tc_struct_end(tc);
    free(maxbuf);
}

/* Compresses w->body into w->cbuf (or points at body) and returns the page bytes. */
static int compress_body(struct mtr_pq_writer *w, const uint8_t **out, size_t *outlen)
{
    if (w->o.codec == MTR_PQ_UNCOMPRESSED) {
        *out = w->body.data;
        *outlen = w->body.len;
        return 0;
    }
    size_t bound = ZSTD_compressBound(w->body.len);
    w->cbuf.len = 0;
    if (mtr_tc_buf_reserve(&w->cbuf, bound) != 0)
        return MTR_ENOMEM;
    size_t r =
        ZSTD_compressCCtx(w->zc, w->cbuf.data, bound, w->body.data, w->body.len, w->o.zstd_level);
    if (ZSTD_isError(r))
        return MTR_EIO;
    *out = w->cbuf.data;
    *outlen = r;
    return 0;
}

static int page_size_check(size_t n)
{
    return n > INT32_MAX ? MTR_ERANGE : 0;
}

static void bool_flush_bits(struct col *c)
{
    while (c->bool_bits > 0) {
        uint8_t b = (uint8_t)c->bool_acc;
        mtr_tc_buf_append(&c->pvals, &b, 1);
        c->bool_acc >>= 8;
        c->bool_bits -= 8;
    }
    c->bool_acc = 0;
    c->bool_bits = 0;
}

/* Page stats of a byte-array page, computed once per page from the page's own bytes. */
static void page_string_stats(struct col *c, bool dict_page)
{
    struct stats *s = &c->ps;
    if (dict_page) {
        uint32_t lo = UINT32_MAX, hi = UINT32_MAX;
        for (size_t i = 0; i < c->nidx; i++) {
            uint32_t e = c->idx[i];
            if (e == lo || e == hi)
                continue;
            const uint8_t *p = c->d.arena.data + c->d.off[e];
            size_t n = c->d.len[e];
            if (lo == UINT32_MAX ||
                bytes_cmp(p, n, c->d.arena.data + c->d.off[lo], c->d.len[lo]) < 0)
                lo = e;
            if (hi == UINT32_MAX ||
                bytes_cmp(p, n, c->d.arena.data + c->d.off[hi], c->d.len[hi]) > 0)
                hi = e;
        }
        if (lo != UINT32_MAX) {
            s->has = true;
            s->smin = c->d.arena.data + c->d.off[lo];
            s->sminl = c->d.len[lo];
            s->smax = c->d.arena.data + c->d.off[hi];
            s->smaxl = c->d.len[hi];
        }
        return;
    }
    const uint8_t *p = c->pvals.data, *end = c->pvals.data + c->pvals.len;
    while (p < end) {
        uint32_t n;
        memcpy(&n, p, 4);
        stats_add_str(s, p + 4, n);
        p += 4 + (size_t)n;
    }
}

/* Re-encodes the page's dictionary indices as PLAIN values in pvals (dictionary fallback). */
static int materialize_plain(struct col *c)
{
    c->pvals.len = 0;
    size_t pre = c->ptype == PT_BYTE_ARRAY ? 4 : 0;
    for (size_t i = 0; i < c->nidx; i++) {
        uint32_t e = c->idx[i];
        if (mtr_tc_buf_append(&c->pvals, c->d.arena.data + c->d.off[e] - pre, c->d.len[e] + pre))
            return MTR_ENOMEM;
    }
    return 0;
}

/* Does dictionary encoding pay for this chunk's first page? Compares dictionary + indices with
 * the PLAIN size of the same values. A small first page is no evidence (10,000 meters cycling
 * through 7,000-row pages look unique at first), so only large pages can reject the dictionary;
 * otherwise the dict_max_bytes limit decides. */
#define DICT_PAYS_MIN_VALUES 32768
static bool dict_pays(const struct col *c)
{
    if (c->nidx < DICT_PAYS_MIN_VALUES)
        return true;
    size_t pre = c->ptype == PT_BYTE_ARRAY ? 4 : 0, plain = 0;
    for (size_t i = 0; i < c->nidx; i++)
        plain += c->d.len[c->idx[i]] + pre;
    int bw = mtr_pq_bit_width(c->d.n ? c->d.n - 1 : 0);
    size_t enc = c->d.arena.len + (c->nidx * (size_t)(bw ? bw : 1) + 7) / 8 + 1;
    return enc < plain;
}

static int flush_page(struct mtr_pq_writer *w, struct col *c)
{
    int rc = 0;
    if (c->prows == 0)
        return 0;
    bool nullable = c->def->nullable;
    bool use_dict = false;
    if (c->dict_on) {
        bool overflow = c->d.arena.len > w->o.dict_max_bytes;
        bool first = c->npages_dict == 0 && c->npages_plain == 0;
        if (c->nidx > 0 && !overflow && (!first || dict_pays(c))) {
            use_dict = true;
        } else {
            /* Fall back to PLAIN for the rest of the chunk. Entries added by this page are not
             * referenced by any dictionary page, so they are dropped from the dictionary. */
            if ((rc = materialize_plain(c)) != 0)
                return rc;
            if (c->nidx > 0) {
                c->dict_on = false;
                if (c->dict_committed < c->d.n)
                    c->d.arena.len =
                        c->d.off[c->dict_committed] - (c->ptype == PT_BYTE_ARRAY ? 4u : 0u);
                c->d.n = c->dict_committed; /* the hash slots go stale, but are unused now */
            }
        }
    }
    if (c->ptype == PT_BOOLEAN)
        bool_flush_bits(c);
    if (c->ptype == PT_BYTE_ARRAY)
        page_string_stats(c, use_dict);

    /* Body: [def levels: 4-byte length + RLE hybrid, width 1] + values */
    struct mtr_tc_buf *b = &w->body;
    b->len = 0;
    if (nullable) {
        uint32_t zero = 0;
        mtr_tc_buf_append(b, &zero, 4);
        size_t at = b->len;
        if ((rc = mtr_pq_rle_encode(b, c->levels, c->nlevels, 1)) != 0)
            return rc;
        uint32_t l = (uint32_t)(b->len - at);
        memcpy(b->data + at - 4, &l, 4);
    }
    if (use_dict) {
        int bw = mtr_pq_bit_width(c->d.n - 1);
        if (bw == 0)
            bw = 1;
        uint8_t bwb = (uint8_t)bw;
        mtr_tc_buf_append(b, &bwb, 1);
        if ((rc = mtr_pq_rle_encode(b, c->idx, c->nidx, bw)) != 0)
            return rc;
        c->dict_committed = c->d.n;
    } else {
        mtr_tc_buf_append(b, c->pvals.data, c->pvals.len);
    }
    if (b->oom)
        return MTR_ENOMEM;
    size_t uncompressed = b->len;
    const uint8_t *page;
    size_t plen;
    if ((rc = compress_body(w, &page, &plen)) != 0)
        return rc;
    if ((rc = page_size_check(uncompressed)) != 0 || (rc = page_size_check(plen)) != 0)
        return rc;

    struct mtr_tc tc;
    w->hdr.len = 0;
    mtr_tc_init(&tc, &w->hdr);
    mtr_tc_field_i32(&tc, 1, PAGE_DATA);
    mtr_tc_field_i32(&tc, 2, (int32_t)uncompressed);
    mtr_tc_field_i32(&tc, 3, (int32_t)plen);
    mtr_tc_field_struct_begin(&tc, 5); /* DataPageHeader */
    mtr_tc_field_i32(&tc, 1, (int32_t)c->prows);
    mtr_tc_field_i32(&tc, 2, use_dict ? ENC_RLE_DICTIONARY : ENC_PLAIN);
    mtr_tc_field_i32(&tc, 3, ENC_RLE);
    mtr_tc_field_i32(&tc, 4, ENC_RLE);
    put_stats(&tc, 5, c, &c->ps, w->o.stats_max_bytes);
    mtr_tc_struct_end(&tc);
    mtr_tc_struct_end(&tc);
    if ((rc = mtr_tc_status(&tc)) != 0)
        return rc;

    mtr_tc_buf_append(&c->chunk, w->hdr.data, w->hdr.len);
    mtr_tc_buf_append(&c->chunk, page, plen);
    if (c->chunk.oom)
        return MTR_ENOMEM;
    c->cuncompressed += w->hdr.len + uncompressed;
    c->cvalues += c->prows;
    if (use_dict)
        c->npages_dict++;
    else
        c->npages_plain++;
    if ((rc = stats_merge(c)) != 0)
        return rc;

    memset(&c->ps, 0, sizeof c->ps);
    c->nlevels = c->nidx = c->prows = c->pbytes = 0;
    c->pvals.len = 0;
    return 0;
}

static int grow_u32(uint32_t **a, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need)
        nc *= 2;
    uint32_t *p = realloc(*a, nc * sizeof *p);
    if (!p)
        return MTR_ENOMEM;
    *a = p;
    *cap = nc;
    return 0;
}

static bool page_full(const struct mtr_pq_writer *w, const struct col *c)
{
    return c->pbytes >= w->o.page_bytes || (w->o.page_rows && c->prows >= w->o.page_rows);
}

/* Appends rows [from, from+n) of one column's batch data. */

/* Appends one fixed-size value to the column's page: its dictionary index when the column is
 * dictionary-encoded, else the plain bytes (room was reserved by the caller). */
static int put_fixed(struct col *c, const void *v, size_t n)
{
    if (c->dict_on) {
        c->pbytes += 4;
        return dict_put(&c->d, v, n, false, &c->idx[c->nidx++]);
    }
    memcpy(c->pvals.data + c->pvals.len, v, n);
    c->pvals.len += n;
    c->pbytes += n;
    return 0;
}

static int append_column(struct mtr_pq_writer *w, struct col *c,
                         const struct mtr_pq_column_data *cd, size_t from, size_t n,
                         struct mtr_errbuf *eb)
{
    int rc;
    const uint8_t *nulls = cd->nulls;
    if (nulls && !c->def->nullable) {
        for (size_t i = from; i < from + n; i++)
            if (nulls[i])
                return mtr_err(eb, MTR_EINVAL, "parquet: null in required column '%s'",
                               c->def->name);
        nulls = NULL;
    }
    size_t i = from, end = from + n;
    while (i < end) {
        /* Process a run that cannot overflow the page: bounded by rows and bytes left. */
        size_t room = end - i;
        if (w->o.page_rows && w->o.page_rows - c->prows < room)
            room = w->o.page_rows - c->prows;
        if (c->width && !c->dict_on) {
            size_t left = w->o.page_bytes > c->pbytes ? w->o.page_bytes - c->pbytes : 0;
            size_t fit = left / c->width + 1;
            if (fit < room)
                room = fit;
        } else if (room > 1024) {
            room = 1024; /* variable-size values: re-check the page size every 1024 rows */
        }
        size_t j0 = i, j1 = i + room;
        if (c->def->nullable) {
            if ((rc = grow_u32(&c->levels, &c->cap_levels, c->nlevels + room)) != 0)
                return rc;
            for (size_t j = j0; j < j1; j++)
                c->levels[c->nlevels++] = nulls && nulls[j] ? 0 : 1;
        }
        if (c->dict_on && (rc = grow_u32(&c->idx, &c->cap_idx, c->nidx + room)) != 0)
            return rc;
        if (c->width && !c->dict_on && mtr_tc_buf_reserve(&c->pvals, room * c->width) != 0)
            return MTR_ENOMEM;
        struct stats *s = &c->ps;
        for (size_t j = j0; j < j1; j++) {
            if (nulls && nulls[j]) {
                s->nulls++;
                continue;
            }
            switch (c->def->type) {
            case MTR_PQ_INT32:
            case MTR_PQ_DATE: {
                int32_t v = ((const int32_t *)cd->values)[j];
                if (!s->has || v < s->min.i)
                    s->min.i = v;
                if (!s->has || v > s->max.i)
                    s->max.i = v;
                s->has = true;
                if ((rc = put_fixed(c, &v, 4)) != 0)
                    return rc;
                break;
            }
            case MTR_PQ_INT64:
            case MTR_PQ_TIMESTAMP_US: {
                int64_t v = ((const int64_t *)cd->values)[j];
                if (!s->has || v < s->min.i)
                    s->min.i = v;
                if (!s->has || v > s->max.i)
                    s->max.i = v;
                s->has = true;
                if ((rc = put_fixed(c, &v, 8)) != 0)
                    return rc;
                break;
            }
            case MTR_PQ_DOUBLE: {
                double v = ((const double *)cd->values)[j];
                if (isnan(v)) {
                    s->nans++;
                } else {
                    if (!s->has || v < s->min.d)
                        s->min.d = v;
                    if (!s->has || v > s->max.d)
                        s->max.d = v;
                    s->has = true;
                }
                if ((rc = put_fixed(c, &v, 8)) != 0)
                    return rc;
                break;
            }
            case MTR_PQ_BOOLEAN: {
                int64_t v = ((const bool *)cd->values)[j] ? 1 : 0;
                if (!s->has || v < s->min.i)
                    s->min.i = v;
                if (!s->has || v > s->max.i)
                    s->max.i = v;
                s->has = true;
                c->bool_acc |= (uint64_t)v << c->bool_bits;
                if (++c->bool_bits == 64) {
                    if (mtr_tc_buf_append(&c->pvals, &c->bool_acc, 8) != 0)
                        return MTR_ENOMEM;
                    c->bool_acc = 0;
                    c->bool_bits = 0;
                    c->pbytes += 8;
                }
                break;
            }
            case MTR_PQ_STRING: {
                const struct mtr_pq_bytes *v = &((const struct mtr_pq_bytes *)cd->values)[j];
                if (v->len > INT32_MAX)
                    return mtr_err(eb, MTR_ERANGE, "parquet: string too long in '%s'",
                                   c->def->name);
                if (c->dict_on) {
                    if ((rc = dict_put(&c->d, v->ptr, v->len, true, &c->idx[c->nidx++])) != 0)
                        return rc;
                    c->pbytes += 4;
                } else {
                    uint32_t l = (uint32_t)v->len;
                    mtr_tc_buf_append(&c->pvals, &l, 4);
                    if (mtr_tc_buf_append(&c->pvals, v->ptr, v->len) != 0)
                        return MTR_ENOMEM;
                    c->pbytes += 4 + v->len;
                }
                break;
            }
            }
        }
        c->prows += room;
        i = j1;
        if (page_full(w, c) || (c->dict_on && c->d.arena.len > w->o.dict_max_bytes))
            if ((rc = flush_page(w, c)) != 0)
                return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static void put_encodings(struct mtr_tc *tc, const struct col *c)
{
    int e[3], n = 0;
    if (c->npages_plain || c->npages_dict) /* PLAIN data pages or the PLAIN dictionary page */
        e[n++] = ENC_PLAIN;
    if (c->def->nullable)
        e[n++] = ENC_RLE;
    if (c->npages_dict)
        e[n++] = ENC_RLE_DICTIONARY;
    mtr_tc_field_list_begin(tc, 2, MTR_TC_I32, (uint32_t)n);
    for (int k = 0; k < n; k++)
        mtr_tc_elem_i32(tc, e[k]);
}

static void put_encoding_stats(struct mtr_tc *tc, const struct col *c)
{
    uint32_t n = (c->npages_dict ? 2u : 0u) + (c->npages_plain ? 1u : 0u);
    mtr_tc_field_list_begin(tc, 13, MTR_TC_STRUCT, n);
    if (c->npages_dict) {
        mtr_tc_elem_struct_begin(tc);
        mtr_tc_field_i32(tc, 1, PAGE_DICTIONARY);
        mtr_tc_field_i32(tc, 2, ENC_PLAIN);
        mtr_tc_field_i32(tc, 3, 1);
        mtr_tc_struct_end(tc);
        mtr_tc_elem_struct_begin(tc);
        mtr_tc_field_i32(tc, 1, PAGE_DATA);
        mtr_tc_field_i32(tc, 2, ENC_RLE_DICTIONARY);
        mtr_tc_field_i32(tc, 3, (int32_t)c->npages_dict);
        mtr_tc_struct_end(tc);
    }
    if (c->npages_plain) {
        mtr_tc_elem_struct_begin(tc);
        mtr_tc_field_i32(tc, 1, PAGE_DATA);
        mtr_tc_field_i32(tc, 2, ENC_PLAIN);
        mtr_tc_field_i32(tc, 3, (int32_t)c->npages_plain);
        mtr_tc_struct_end(tc);
    }
}

/* Writes the current row group (all columns' pages) and encodes its RowGroup metadata. */
static int flush_row_group(struct mtr_pq_writer *w)
{
    int rc;
    if (w->err)
        return w->err;
    if (w->rg_rows == 0)
        return 0;
    size_t ncol = w->schema->ncolumns;
    uint64_t rg_start = w->offset, total_uncompressed = 0;
    struct mtr_tc tc;
    mtr_tc_init(&tc, &w->rgmeta);
    mtr_tc_elem_struct_begin(&tc); /* RowGroup, as a list element */
    mtr_tc_field_list_begin(&tc, 1, MTR_TC_STRUCT, (uint32_t)ncol);
    for (size_t k = 0; k < ncol; k++) {
        struct col *c = &w->cols[k];
        if ((rc = flush_page(w, c)) != 0)
            goto fail;
        uint64_t chunk_start = w->offset, uncompressed = c->cuncompressed;
        int64_t dict_off = -1;
        if (c->npages_dict) {
            /* Dictionary page: the committed entries, PLAIN-encoded (a prefix of the arena). */
            size_t dlen = c->dict_committed < c->d.n
                              ? c->d.off[c->dict_committed] - (c->ptype == PT_BYTE_ARRAY ? 4 : 0)
                              : c->d.arena.len;
            w->body.len = 0;
            if (mtr_tc_buf_append(&w->body, c->d.arena.data, dlen) != 0) {
                rc = MTR_ENOMEM;
                goto fail;
            }
            const uint8_t *page;
            size_t plen;
            if ((rc = compress_body(w, &page, &plen)) != 0 || (rc = page_size_check(dlen)) != 0 ||
                (rc = page_size_check(plen)) != 0)
                goto fail;
            struct mtr_tc h;
            w->hdr.len = 0;
            mtr_tc_init(&h, &w->hdr);
            mtr_tc_field_i32(&h, 1, PAGE_DICTIONARY);
            mtr_tc_field_i32(&h, 2, (int32_t)dlen);
            mtr_tc_field_i32(&h, 3, (int32_t)plen);
            mtr_tc_field_struct_begin(&h, 7); /* DictionaryPageHeader */
            mtr_tc_field_i32(&h, 1, (int32_t)c->dict_committed);
            mtr_tc_field_i32(&h, 2, ENC_PLAIN);
            mtr_tc_struct_end(&h);
            mtr_tc_struct_end(&h);
            if ((rc = mtr_tc_status(&h)) != 0)
                goto fail;
            dict_off = (int64_t)w->offset;
            uncompressed += w->hdr.len + dlen;
            if ((rc = put_out(w, w->hdr.data, w->hdr.len)) != 0 ||
                (rc = put_out(w, page, plen)) != 0)
                goto fail;
        }
        uint64_t data_off = w->offset;
        if ((rc = put_out(w, c->chunk.data, c->chunk.len)) != 0)
            goto fail;
        total_uncompressed += uncompressed;

        mtr_tc_elem_struct_begin(&tc);     /* ColumnChunk */
        mtr_tc_field_i64(&tc, 2, 0);       /* file_offset: 0, metadata is only in the footer */
        mtr_tc_field_struct_begin(&tc, 3); /* ColumnMetaData */
        mtr_tc_field_i32(&tc, 1, c->ptype);
        put_encodings(&tc, c);
        mtr_tc_field_list_begin(&tc, 3, MTR_TC_BINARY, 1);
        mtr_tc_elem_string(&tc, c->def->name);
        mtr_tc_field_i32(&tc, 4, (int32_t)w->o.codec);
        mtr_tc_field_i64(&tc, 5, (int64_t)c->cvalues);
        mtr_tc_field_i64(&tc, 6, (int64_t)uncompressed);
        mtr_tc_field_i64(&tc, 7, (int64_t)(w->offset - chunk_start));
        mtr_tc_field_i64(&tc, 9, (int64_t)data_off);
        if (dict_off >= 0)
            mtr_tc_field_i64(&tc, 11, dict_off);
        put_stats(&tc, 12, c, &c->cs, w->o.stats_max_bytes);
        put_encoding_stats(&tc, c);
        mtr_tc_struct_end(&tc);
        mtr_tc_struct_end(&tc);

        /* reset the chunk */
        c->chunk.len = 0;
        memset(&c->cs, 0, sizeof c->cs);
        c->cvalues = c->cuncompressed = 0;
        c->npages_dict = c->npages_plain = 0;
        c->dict_on = c->dict_wanted;
        c->dict_committed = 0;
        dict_reset(&c->d);
    }
    mtr_tc_field_i64(&tc, 2, (int64_t)total_uncompressed);
    mtr_tc_field_i64(&tc, 3, (int64_t)w->rg_rows);
    mtr_tc_field_i64(&tc, 5, (int64_t)rg_start);
    mtr_tc_field_i64(&tc, 6, (int64_t)(w->offset - rg_start));
    if (w->nrowgroups < INT16_MAX)
        mtr_tc_field_i16(&tc, 7, (int16_t)w->nrowgroups);
    mtr_tc_struct_end(&tc);
    /* tc began inside a list element, so depth 1 remains: check the buffer only. */
    if (w->rgmeta.oom || tc.bad) {
        rc = MTR_ENOMEM;
        goto fail;
    }
    w->nrowgroups++;
    w->rg_rows = 0;
    return 0;
fail:
    if (!w->err)
        w->err = rc;
    return rc;
}

static size_t rg_bytes(const struct mtr_pq_writer *w)
{
    size_t n = 0;
    for (size_t k = 0; k < w->schema->ncolumns; k++)
        n += w->cols[k].chunk.len + w->cols[k].pbytes + w->cols[k].d.arena.len;
    return n;
}

/* ------------------------------------------------------------------------------------------ */

static void writer_free(struct mtr_pq_writer *w)
{
    if (!w)
        return;
    for (size_t k = 0; w->cols && k < w->schema->ncolumns; k++) {
        struct col *c = &w->cols[k];
        dict_free(&c->d);
        free(c->levels);
        free(c->idx);
        mtr_tc_buf_free(&c->pvals);
        mtr_tc_buf_free(&c->chunk);
        mtr_tc_buf_free(&c->cs_min);
        mtr_tc_buf_free(&c->cs_max);
    }
    free(w->cols);
    for (size_t k = 0; w->kv && k < w->o.nkv; k++) {
        free((char *)w->kv[k].key);
        free((char *)w->kv[k].value);
    }
    free(w->kv);
    free(w->created_by);
    mtr_tc_buf_free(&w->rgmeta);
    mtr_tc_buf_free(&w->body);
    mtr_tc_buf_free(&w->cbuf);
    mtr_tc_buf_free(&w->hdr);
    ZSTD_freeCCtx(w->zc);
    free(w);
}

int mtr_pq_writer_open(const struct mtr_pq_schema *schema, const struct mtr_pq_options *opts,
                       mtr_pq_write_fn write, void *ctx, struct mtr_pq_writer **out,
                       struct mtr_errbuf *eb)
{
    int rc = 0;
    struct mtr_pq_writer *w = NULL;
    *out = NULL;
    if (!schema || !write || schema->ncolumns == 0 || schema->ncolumns > INT32_MAX)
        return mtr_err(eb, MTR_EINVAL, "parquet: empty schema or no write function");
    for (size_t k = 0; k < schema->ncolumns; k++) {
        const struct mtr_pq_column_def *d = &schema->columns[k];
        if (!d->name || !d->name[0] || d->type > MTR_PQ_DATE)
            return mtr_err(eb, MTR_EINVAL, "parquet: column %zu has no name or a bad type", k);
        for (size_t j = 0; j < k; j++)
            if (strcmp(schema->columns[j].name, d->name) == 0)
                return mtr_err(eb, MTR_EINVAL, "parquet: duplicate column '%s'", d->name);
    }
    if (!(w = calloc(1, sizeof *w)))
        return mtr_err(eb, MTR_ENOMEM, "parquet: out of memory");
    if (opts)
        w->o = *opts;
    else
        mtr_pq_options_default(&w->o);
    w->schema = schema;
    w->write = write;
    w->ctx = ctx;
    if ((w->o.codec != MTR_PQ_UNCOMPRESSED && w->o.codec != MTR_PQ_ZSTD) ||
        w->o.row_group_rows == 0 || w->o.row_group_bytes == 0 || w->o.page_bytes == 0 ||
        w->o.page_bytes > (1u << 30) || w->o.stats_max_bytes == 0) {
        rc = mtr_err(eb, MTR_EINVAL, "parquet: invalid options");
        goto fail;
    }
    if (w->o.zstd_level < ZSTD_minCLevel() || w->o.zstd_level > ZSTD_maxCLevel()) {
        rc = mtr_err(eb, MTR_EINVAL, "parquet: zstd level %d out of range", w->o.zstd_level);
        goto fail;
    }
    const char *cb = w->o.created_by ? w->o.created_by : "metrify version " MTR_PQ_VERSION;
    if (!(w->created_by = strdup(cb)))
        goto nomem;
    if (w->o.nkv) {
        if (!(w->kv = calloc(w->o.nkv, sizeof *w->kv)))
            goto nomem;
        for (size_t k = 0; k < w->o.nkv; k++) {
            if (!w->o.kv[k].key) {
                w->o.nkv = k;
                rc = mtr_err(eb, MTR_EINVAL, "parquet: key_value_metadata without key");
                goto fail;
            }
            w->kv[k].key = strdup(w->o.kv[k].key);
            w->kv[k].value = w->o.kv[k].value ? strdup(w->o.kv[k].value) : NULL;
            if (!w->kv[k].key || (w->o.kv[k].value && !w->kv[k].value)) {
                w->o.nkv = k + 1;
                goto nomem;
            }
        }
    }
    w->o.kv = NULL;
    w->o.created_by = NULL;
    if (w->o.codec == MTR_PQ_ZSTD && !(w->zc = ZSTD_createCCtx()))
        goto nomem;
    if (!(w->cols = calloc(schema->ncolumns, sizeof *w->cols)))
        goto nomem;
    for (size_t k = 0; k < schema->ncolumns; k++) {
        struct col *c = &w->cols[k];
        c->def = &schema->columns[k];
        switch (c->def->type) {
        case MTR_PQ_INT32:
        case MTR_PQ_DATE:
            c->ptype = PT_INT32;
            c->width = 4;
            break;
        case MTR_PQ_INT64:
        case MTR_PQ_TIMESTAMP_US:
            c->ptype = PT_INT64;
            c->width = 8;
            break;
        case MTR_PQ_DOUBLE:
            c->ptype = PT_DOUBLE;
            c->width = 8;
            break;
        case MTR_PQ_BOOLEAN:
            c->ptype = PT_BOOLEAN;
            break;
        case MTR_PQ_STRING:
            c->ptype = PT_BYTE_ARRAY;
            break;
        }
        c->dict_wanted = c->ptype != PT_BOOLEAN &&
                         (c->def->dict == MTR_PQ_DICT_ON ||
                          (c->def->dict == MTR_PQ_DICT_AUTO && c->ptype == PT_BYTE_ARRAY));
        c->dict_on = c->dict_wanted;
    }
    if ((rc = put_out(w, "PAR1", 4)) != 0) {
        mtr_err(eb, rc, "parquet: write failed: %s", mtr_strerror(rc));
        goto fail;
    }
    *out = w;
    return 0;
nomem:
    rc = mtr_err(eb, MTR_ENOMEM, "parquet: out of memory");
fail:
    writer_free(w);
    return rc;
}

int mtr_pq_write_batch(struct mtr_pq_writer *w, const struct mtr_pq_column_data *cols, size_t nrows,
                       struct mtr_errbuf *eb)
{
    int rc = 0;
    if (w->err)
        return mtr_err(eb, w->err, "parquet: writer already failed: %s", mtr_strerror(w->err));
    if (eb)
        eb->msg[0] = 0;
    size_t done = 0;
    while (done < nrows) {
        size_t n = nrows - done;
        if (n > w->o.row_group_rows - w->rg_rows)
            n = w->o.row_group_rows - w->rg_rows;
        if (n > 65536)
            n = 65536; /* re-check the row group's byte size every 64Ki rows */
        for (size_t k = 0; k < w->schema->ncolumns; k++) {
            if (!cols[k].values) {
                rc = mtr_err(eb, MTR_EINVAL, "parquet: no values for column '%s'",
                             w->schema->columns[k].name);
                goto fail;
            }
            if ((rc = append_column(w, &w->cols[k], &cols[k], done, n, eb)) != 0)
                goto fail;
        }
        w->rg_rows += n;
        w->rows += n;
        done += n;
        if (w->rg_rows >= w->o.row_group_rows || rg_bytes(w) >= w->o.row_group_bytes)
            if ((rc = flush_row_group(w)) != 0)
                goto fail;
    }
    return 0;
fail:
    if (!w->err)
        w->err = rc;
    if (eb && !eb->msg[0]) /* keep a specific message set below */
        mtr_err(eb, rc, "parquet: write failed: %s", mtr_strerror(rc));
    return rc;
}

static void put_schema_element(struct mtr_tc *tc, const struct col *c)
{
    mtr_tc_elem_struct_begin(tc);
    mtr_tc_field_i32(tc, 1, c->ptype);
    mtr_tc_field_i32(tc, 3, c->def->nullable ? REP_OPTIONAL : REP_REQUIRED);
    mtr_tc_field_string(tc, 4, c->def->name);
    switch (c->def->type) {
    case MTR_PQ_STRING:
        mtr_tc_field_i32(tc, 6, CT_UTF8);
        mtr_tc_field_struct_begin(tc, 10); /* LogicalType */
        mtr_tc_field_struct_begin(tc, 1);  /* STRING */
        mtr_tc_struct_end(tc);
        mtr_tc_struct_end(tc);
        break;
    case MTR_PQ_DATE:
        mtr_tc_field_i32(tc, 6, CT_DATE);
        mtr_tc_field_struct_begin(tc, 10);
        mtr_tc_field_struct_begin(tc, 6); /* DATE */
        mtr_tc_struct_end(tc);
        mtr_tc_struct_end(tc);
        break;
    case MTR_PQ_TIMESTAMP_US:
        mtr_tc_field_i32(tc, 6, CT_TIMESTAMP_MICROS);
        mtr_tc_field_struct_begin(tc, 10);
        mtr_tc_field_struct_begin(tc, 8); /* TIMESTAMP */
        mtr_tc_field_bool(tc, 1, true);   /* isAdjustedToUTC */
        mtr_tc_field_struct_begin(tc, 2); /* unit: TimeUnit */
        mtr_tc_field_struct_begin(tc, 2); /* MICROS */
        mtr_tc_struct_end(tc);
        mtr_tc_struct_end(tc);
        mtr_tc_struct_end(tc);
        mtr_tc_struct_end(tc);
        break;
    default:
        break;
    }
    mtr_tc_struct_end(tc);
}

static int write_footer(struct mtr_pq_writer *w)
{
    int rc;
    size_t ncol = w->schema->ncolumns;
    struct mtr_tc_buf f = {0};
    struct mtr_tc tc;
    mtr_tc_init(&tc, &f);
    mtr_tc_field_i32(&tc, 1, 2); /* version: uses format 2 features (RLE_DICTIONARY, LogicalType) */
    mtr_tc_field_list_begin(&tc, 2, MTR_TC_STRUCT, (uint32_t)(ncol + 1));
    mtr_tc_elem_struct_begin(&tc); /* root */
    mtr_tc_field_i32(&tc, 3, REP_REQUIRED);
    mtr_tc_field_string(&tc, 4, "schema");
    mtr_tc_field_i32(&tc, 5, (int32_t)ncol);
    mtr_tc_struct_end(&tc);
    for (size_t k = 0; k < ncol; k++)
        put_schema_element(&tc, &w->cols[k]);
    mtr_tc_field_i64(&tc, 3, (int64_t)w->rows);
    mtr_tc_field_list_begin(&tc, 4, MTR_TC_STRUCT, w->nrowgroups);
    mtr_tc_buf_append(&f, w->rgmeta.data, w->rgmeta.len);
    mtr_tc_field_list_begin(&tc, 5, MTR_TC_STRUCT, (uint32_t)(w->o.nkv + 1));
    mtr_tc_elem_struct_begin(&tc);
    mtr_tc_field_string(&tc, 1, "created_by");
    mtr_tc_field_string(&tc, 2, w->created_by);
    mtr_tc_struct_end(&tc);
    for (size_t k = 0; k < w->o.nkv; k++) {
        mtr_tc_elem_struct_begin(&tc);
        mtr_tc_field_string(&tc, 1, w->kv[k].key);
        if (w->kv[k].value)
            mtr_tc_field_string(&tc, 2, w->kv[k].value);
        mtr_tc_struct_end(&tc);
    }
    mtr_tc_field_string(&tc, 6, w->created_by);
    mtr_tc_field_list_begin(&tc, 7, MTR_TC_STRUCT, (uint32_t)ncol);
    for (size_t k = 0; k < ncol; k++) {
        mtr_tc_elem_struct_begin(&tc);     /* ColumnOrder */
        mtr_tc_field_struct_begin(&tc, 1); /* TYPE_ORDER: TypeDefinedOrder */
        mtr_tc_struct_end(&tc);
        mtr_tc_struct_end(&tc);
    }
    mtr_tc_struct_end(&tc);
    if ((rc = mtr_tc_status(&tc)) != 0)
        goto out;
    if (f.len > UINT32_MAX) {
        rc = MTR_ERANGE;
        goto out;
    }
    uint32_t flen = (uint32_t)f.len;
    if ((rc = put_out(w, f.data, f.len)) != 0 || (rc = put_out(w, &flen, 4)) != 0 ||
        (rc = put_out(w, "PAR1", 4)) != 0)
        goto out;
out:
    mtr_tc_buf_free(&f);
    return rc;
}

int mtr_pq_writer_close(struct mtr_pq_writer *w, struct mtr_errbuf *eb)
{
    int rc = w->err;
    if (!rc)
        rc = flush_row_group(w);
    if (!rc)
        rc = write_footer(w);
    if (rc)
        mtr_err(eb, rc, "parquet: close failed: %s", mtr_strerror(rc));
    writer_free(w);
    return rc;
}

void mtr_pq_writer_abort(struct mtr_pq_writer *w)
{
    writer_free(w);
}

uint64_t mtr_pq_writer_bytes(const struct mtr_pq_writer *w)
{
    return w->offset;
}

uint64_t mtr_pq_writer_rows(const struct mtr_pq_writer *w)
{
    return w->rows;
}
